/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * nestfarm's Cockpit page. It talks to org.nestfarm.Farm1 only, through
 * cockpit.dbus on the system bus ("superuser: try": with Administrative
 * access on, calls are made as root, otherwise as the user, whom polkit
 * may refuse). The ObjectManager's pools, nodes, hosts and jobs are kept
 * as cockpit proxies; each added, changed or removed object schedules one
 * update of a keyed DOM, so what a user is typing survives the updates.
 *
 * An action is refused at once if its object already has one of this
 * page's actions running; otherwise the call's job is followed (progress,
 * step) until it ends, and a failure shows the job's error sentence. */
(function () {
    "use strict";

    const BUS_NAME = "org.nestfarm.Farm1";
    const ROOT = "/org/nestfarm/Farm1";
    const IFACES = {
        manager: "org.nestfarm.Farm1.Manager",
        pool: "org.nestfarm.Farm1.Pool",
        node: "org.nestfarm.Farm1.Node",
        host: "org.nestfarm.Farm1.Host",
        job: "org.nestfarm.Farm1.Job",
    };
    const ERROR_PREFIX = "org.nestfarm.Farm1.Error.";
    const RETRY_SECONDS = 5;
    const CONSOLE_KEEP = 256 * 1024; /* characters the console view keeps */

    let client = null;
    let manager = null;
    let sets = null;         /* kind -> cockpit proxies of that interface */
    let generation = 0;      /* bumped at each (re)connection */
    let down = true;
    let loading = true;      /* a connection's first answers are not all in */
    let retryTimer = null;
    let renderQueued = false;
    /* key (an object path, or "create") -> { job: path or null } */
    const actions = new Map();
    /* key -> error sentence of that object's last failed action */
    const failures = new Map();
    /* key -> job path of that object's last action that succeeded, shown
     * at its end until the daemon drops the job */
    const done = new Map();

    /* --- small DOM helpers --- */

    function $(id) {
        return document.getElementById(id);
    }

    function el(tag, attrs, ...children) {
        const e = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (k.startsWith("on"))
                e.addEventListener(k.slice(2), v);
            else if (k === "class")
                e.className = v;
            else
                e.setAttribute(k, v);
        }
        for (const c of children)
            e.append(c);
        return e;
    }

    function setText(node, text) {
        if (node.textContent !== text)
            node.textContent = text;
    }

    /* The child of @parent with data-key @key, made by @make when missing,
     * placed after the keyed children @keep has collected so far (in the
     * order of the loop that asks; unkeyed children such as headings stay
     * first), and added to @keep (prune() removes the rest). */
    function keyed(parent, key, make, keep) {
        const index = keep.size;
        keep.add(key);
        let found = null;
        for (const c of parent.children) {
            if (c.dataset.key === key)
                found = c;
        }
        if (found === null) {
            found = make();
            found.dataset.key = key;
        }
        const keyedChildren = [...parent.children].filter(c => c.dataset.key !== undefined && c !== found);
        const before = keyedChildren[index] || null;
        const placed = found.parentNode === parent &&
                       (before === null ? parent.lastElementChild === found : found.nextElementSibling === before);
        if (!placed)
            parent.insertBefore(found, before);
        return found;
    }

    /* Removes the keyed children of @parent whose key is not in @keep. */
    function prune(parent, keep) {
        for (const c of [...parent.children]) {
            if (c.dataset.key !== undefined && !keep.has(c.dataset.key))
                c.remove();
        }
    }

    function mib(value) {
        const n = Number(value);
        return n >= 10240 ? (n / 1024).toFixed(1) + " GiB" : n + " MiB";
    }

    function bytes(value) {
        const units = ["B", "KiB", "MiB", "GiB", "TiB"];
        let n = Number(value);
        let u = 0;
        while (n >= 1024 && u < units.length - 1) {
            n /= 1024;
            u++;
        }
        return (u === 0 ? n : n.toFixed(1)) + " " + units[u];
    }

    function baseName(path) {
        const p = proxyOf("pool", path) || proxyOf("node", path) || proxyOf("host", path);
        return p ? p.Name : path.split("/").pop();
    }

    function proxyOf(kind, path) {
        if (!sets || !path)
            return null;
        const p = sets[kind][path];
        return p && p.valid ? p : null;
    }

    function each(kind) {
        const out = [];
        if (!sets)
            return out;
        for (const path in sets[kind]) {
            const p = sets[kind][path];
            if (p && p.valid)
                out.push(p);
        }
        return out;
    }

    /* --- errors --- */

    function isDaemonGone(err) {
        const name = (err && err.name) || "";
        return name === "org.freedesktop.DBus.Error.ServiceUnknown" ||
               name === "org.freedesktop.DBus.Error.NameHasNoOwner" ||
               (err && (err.problem === "not-found" || err.problem === "disconnected"));
    }

    /* The sentence a user reads for a refused or failed call. */
    function describe(err) {
        const name = (err && err.name) || "";
        if (name === ERROR_PREFIX + "NotAuthorized" ||
            name === "org.freedesktop.DBus.Error.AccessDenied" ||
            (err && (err.problem === "access-denied" || err.problem === "not-authorized")))
            return "Not authorized: polkit did not allow this change " +
                   "(action org.nestfarm.farm1.manage). Turn on Administrative access " +
                   "in Cockpit's top bar, or ask an administrator.";
        if (err && err.problem === "disconnected")
            return "The connection to nestfarmd was lost during the call: the change may have been made.";
        if (isDaemonGone(err))
            return "nestfarmd is not running: the change was not made.";
        const message = (err && err.message) || String(err);
        return name.startsWith(ERROR_PREFIX) ? message : message + (name ? " (" + name + ")" : "");
    }

    /* --- actions and their jobs --- */

    /* Calls @method on @path with @args of D-Bus signature @signature as
     * the action of @key; the reply's object paths name its job (the last
     * one). Refused while @key has an action running. */
    function act(key, path, iface, method, signature, args) {
        if (actions.has(key) || down)
            return Promise.resolve(false);
        const gen = generation;
        const entry = { job: null };
        failures.delete(key);
        done.delete(key);
        actions.set(key, entry);
        render(); /* disabled now, not at the next update */
        /* An action since dropped (the daemon went away) takes no reply; an
         * error that comes after a reconnection is the old channel's, not
         * the daemon's answer, and is not shown. */
        return client.call(path, iface, method, args, { type: signature })
                .then(reply => {
                    if (actions.get(key) !== entry)
                        return false;
                    entry.job = reply[reply.length - 1];
                    settle();
                    return true;
                })
                .catch(err => {
                    if (actions.get(key) !== entry)
                        return false;
                    actions.delete(key);
                    if (gen === generation)
                        failures.set(key, describe(err));
                    schedule();
                    return false;
                });
    }

    /* Ends the actions whose job has ended, and forgets the failures of
     * objects that are gone (a pool made again under the same name starts
     * clean). */
    function settle() {
        for (const key of loading ? [] : [...failures.keys()]) {
            if (key !== "create" && !proxyOf("pool", key) && !proxyOf("node", key) && !proxyOf("host", key))
                failures.delete(key);
        }
        for (const [key, entry] of actions) {
            if (entry.job === null)
                continue;
            const job = proxyOf("job", entry.job);
            if (job === null || job.State === "running")
                continue; /* not announced yet, or still running */
            actions.delete(key);
            if (job.State === "succeeded")
                done.set(key, job.path);
            else
                failures.set(key, job.Error || ("The job " + job.State + "."));
        }
        schedule();
    }

    function variantOptions(opts) {
        const out = {};
        for (const [k, v] of Object.entries(opts)) {
            if (v !== undefined && v !== null)
                out[k] = v;
        }
        return out;
    }

    /* Running jobs on any of @paths, this page's or another client's. */
    function jobsOn(paths) {
        return each("job").filter(j => j.State === "running" &&
                                       (j.Objects || []).some(o => paths.includes(o)));
    }

    /* This page's job for @key: running, or the last one that succeeded. */
    function ownJob(key) {
        const entry = actions.get(key);
        return proxyOf("job", entry ? entry.job : done.get(key));
    }

    /* Fills @box with a progress bar for @key's own job and for each job
     * in @others, then the failure of @key's last action, if any. */
    function showJobs(box, key, others) {
        const keep = new Set();
        const own = ownJob(key);
        const jobs = own ? [own, ...others.filter(j => j.path !== own.path)] : others;
        for (const job of jobs) {
            const row = keyed(box, job.path, () => el("div", { class: "nf-job-row", "data-job": job.path },
                                                      el("div", { class: "nf-progress", role: "progressbar",
                                                                  "aria-valuemin": "0", "aria-valuemax": "100" },
                                                         el("div", { class: "nf-progress-bar" })),
                                                      el("span", { class: "nf-job-text" })), keep);
            const pct = Math.round(100 * Math.max(0, Math.min(1, Number(job.Progress) || 0)));
            row.dataset.state = job.State;
            row.dataset.own = String(job === own);
            row.firstChild.setAttribute("aria-valuenow", String(pct));
            row.firstChild.setAttribute("aria-label", job.Operation);
            row.firstChild.firstChild.style.width = pct + "%";
            const what = job.State === "running" ? (job.Step ? ": " + job.Step : "") : ": " + job.State;
            setText(row.lastChild, job.Operation + what + " (" + pct + "%)");
        }
        const failure = failures.get(key);
        if (failure) {
            const f = keyed(box, "failure", () => el("p", { class: "nf-error", role: "alert" }), keep);
            setText(f, failure);
        }
        prune(box, keep);
    }

    /* States in which an action has nothing to do: Start on what runs,
     * Stop on what is stopped, Activate on an online host. */
    const POOL_PAST = { start: ["ready"], stop: ["stopped"] };
    const NODE_PAST = { start: ["running"], stop: ["stopped"] };
    const HOST_PAST = { activate: ["online"], drain: ["maintenance"] };

    function pointless(action, state, past) {
        return (past[action] || []).includes(state);
    }

    /* --- rendering --- */

    function schedule() {
        if (renderQueued)
            return;
        renderQueued = true;
        window.setTimeout(() => {
            renderQueued = false;
            render();
        }, 0);
    }

    function render() {
        $("nf-down").hidden = !down;
        $("nf-main").hidden = down;
        if (down || !manager || !manager.valid)
            return;
        let summary = "nestfarmd " + manager.Version + " · " + manager.Accelerator + " (" +
                      manager.NestedFeature + ") · memory " + mib(manager.MemoryCommittedMiB) +
                      " of " + mib(manager.MemoryTotalMiB) + " committed";
        if (manager.CPUBaseline)
            summary += " · CPU baseline " + manager.CPUBaseline;
        setText($("nf-summary"), summary);
        const create = $("nf-create-form");
        for (const b of create.querySelectorAll("button"))
            b.disabled = actions.has("create");
        showJobs(create.querySelector(".nf-job"), "create", []);
        renderHosts();
        renderPools();
    }

    /* Names each button of @root for a screen reader: "Stop pool lab", not
     * one "Stop" of many. */
    function labelled(root, what) {
        for (const b of root.querySelectorAll("button"))
            b.setAttribute("aria-label", b.textContent + " " + what);
        return root;
    }

    /* A row's first two cells: its object's name and state. */
    function nameAndState(row, name, state) {
        setText(row.cells[0], name);
        setText(row.cells[1], state);
        row.cells[1].dataset.state = state;
    }

    function renderHosts() {
        const hosts = each("host").sort((a, b) => a.Name.localeCompare(b.Name));
        const body = $("nf-hosts").tBodies[0];
        const keep = new Set();
        for (const h of hosts) {
            const row = keyed(body, h.path, () => labelled(hostRow(h.path), "host " + h.Name), keep);
            row.dataset.host = h.Name;
            const cells = row.cells;
            nameAndState(row, h.Name, h.State);
            setText(cells[2], mib(h.MemoryCommittedMiB) + " of " + mib(h.MemoryTotalMiB));
            setText(cells[3], String((h.Nodes || []).length));
            setText(cells[4], h.CPUModel || "");
            const busy = actions.has(h.path);
            for (const b of cells[5].querySelectorAll("button"))
                b.disabled = busy || pointless(b.dataset.action, h.State, HOST_PAST);
            showJobs(cells[5].querySelector(".nf-job"), h.path, jobsOn([h.path]));
        }
        prune(body, keep);
        $("nf-hosts-card").hidden = hosts.length === 0;
    }

    function hostRow(path) {
        const button = (label, method) =>
            el("button", {
                type: "button", class: "nf-btn", "data-action": label.toLowerCase(),
                onclick: () => act(path, path, IFACES.host, method,
                                   method === "Drain" ? "a{sv}" : "", method === "Drain" ? [{}] : [])
            }, label);
        return el("tr", {},
                  el("td", {}), el("td", { class: "nf-state" }), el("td", {}), el("td", {}), el("td", {}),
                  el("td", { class: "nf-actions" }, button("Drain", "Drain"), button("Activate", "Activate"),
                     el("div", { class: "nf-job" })));
    }

    function renderPools() {
        const pools = each("pool").sort((a, b) => a.Name.localeCompare(b.Name));
        const box = $("nf-pools");
        const keep = new Set();
        for (const pool of pools) {
            const card = keyed(box, pool.path, () => labelled(poolCard(pool.path), "pool " + pool.Name), keep);
            updatePool(card, pool);
        }
        prune(box, keep);
        $("nf-no-pools").hidden = pools.length > 0;
    }

    function actionsHeader() {
        return el("th", {}, el("span", { class: "nf-sr-only" }, "Actions"));
    }

    function poolCard(path) {
        const name = () => proxyOf("pool", path).Name;
        const scale = el("input", { type: "number", min: "0", max: "1000", class: "nf-scale", "aria-label": "Nodes wanted" });
        const snapName = el("input", { class: "nf-snapshot-name", placeholder: "snapshot name",
                                       "aria-label": "Snapshot name" });
        const poolAct = (method, signature, args) =>
            act(path, path, IFACES.pool, method, signature, args);
        const card = el("section", { class: "nf-card nf-pool" },
                        el("div", { class: "nf-row nf-pool-head" },
                           el("h3", { class: "nf-pool-name" }),
                           el("span", { class: "nf-state" }),
                           el("span", { class: "nf-spacer" }),
                           el("button", { type: "button", class: "nf-btn", "data-action": "start",
                                          onclick: () => poolAct("Start", "", []) }, "Start"),
                           el("button", { type: "button", class: "nf-btn", "data-action": "stop",
                                          onclick: () => poolAct("Stop", "a{sv}", [{}]) }, "Stop"),
                           el("button", {
                               type: "button", class: "nf-btn nf-btn-danger", "data-action": "delete",
                               onclick: () => confirmDelete("Delete pool " + name() + " and all its nodes and snapshots?")
                                       .then(ok => ok && poolAct("Delete", "a{sv}", [{}]))
                           }, "Delete")),
                        el("dl", { class: "nf-facts" }),
                        el("div", { class: "nf-row" },
                           scale,
                           el("button", {
                               type: "button", class: "nf-btn", "data-action": "scale",
                               onclick: () => {
                                   if (!scale.reportValidity() || !Number.isInteger(Number(scale.value)) ||
                                       scale.value === "")
                                       return;
                                   poolAct("Scale", "u", [Number(scale.value)]);
                               }
                           }, "Scale"),
                           el("span", { class: "nf-spacer" }),
                           snapName,
                           el("button", {
                               type: "button", class: "nf-btn", "data-action": "snapshot",
                               onclick: () => snapName.value !== "" &&
                                       poolAct("Snapshot", "sa{sv}", [snapName.value, {}])
                                               .then(ok => { if (ok) snapName.value = "" })
                           }, "Take snapshot")),
                        el("div", { class: "nf-job" }),
                        el("table", { class: "nf-table nf-nodes" },
                           el("thead", {}, el("tr", {}, ...["Node", "State", "Host", "Addresses", "Ready", "Nesting"]
                                   .map(t => el("th", {}, t)), actionsHeader())),
                           el("tbody")),
                        el("table", { class: "nf-table nf-snapshots" },
                           el("thead", {}, el("tr", {}, ...["Snapshot", "Taken", "Size", "Memory"]
                                   .map(t => el("th", {}, t)), actionsHeader())),
                           el("tbody")));
        return card;
    }

    /* One term of a pool's facts, in the order asked; @keep collects them
     * (what is no longer asked goes). */
    function fact(dl, keep, term, value) {
        const row = keyed(dl, term, () => el("div", {}, el("dt", {}, term), el("dd")), keep);
        setText(row.lastChild, value);
    }

    function updatePool(card, pool) {
        card.dataset.pool = pool.Name;
        setText(card.querySelector(".nf-pool-name"), pool.Name);
        const state = card.querySelector(".nf-state");
        setText(state, pool.State);
        state.dataset.state = pool.State;
        const nodes = (pool.Nodes || []).map(p => proxyOf("node", p)).filter(n => n !== null);
        const dl = card.querySelector(".nf-facts");
        const facts = new Set();
        fact(dl, facts, "Nodes", nodes.length + " of " + pool.Count);
        fact(dl, facts, "Memory", mib(pool.MemoryMiB) + " × " + pool.Count + " (" + pool.VCPUs + (pool.VCPUs === 1 ? " vCPU" : " vCPUs") + " each)");
        fact(dl, facts, "Profile", pool.Profile);
        fact(dl, facts, "VLANs", pool.Vlans || "none");
        fact(dl, facts, "Trunk", pool.TrunkBridge);
        fact(dl, facts, "Image", pool.Image);
        if (pool.SSHUser)
            fact(dl, facts, "SSH user", pool.SSHUser);
        if (each("host").length > 1) {
            const where = new Map();
            for (const n of nodes) {
                const h = baseName(n.Host || "");
                where.set(h, (where.get(h) || 0) + 1);
            }
            fact(dl, facts, "Runs on", [...where].map(([h, c]) => h + " (" + c + ")").join(", ") || "nowhere yet");
        }
        prune(dl, facts);
        const busy = actions.has(pool.path) || pool.State === "deleting";
        for (const b of card.querySelectorAll(".nf-pool-head button, .nf-row > button"))
            b.disabled = busy || pointless(b.dataset.action, pool.State, POOL_PAST);
        const scale = card.querySelector(".nf-scale");
        if (scale.value === "" && document.activeElement !== scale)
            scale.placeholder = String(pool.Count);
        showJobs(card.querySelector(".nf-job"), pool.path,
                 jobsOn([pool.path, ...(pool.Nodes || [])]));
        renderNodes(card.querySelector(".nf-nodes").tBodies[0], nodes);
        renderSnapshots(card, pool);
    }

    function renderNodes(body, nodes) {
        const keep = new Set();
        nodes.sort((a, b) => a.Index - b.Index);
        for (const n of nodes) {
            const row = keyed(body, n.path, () => labelled(nodeRow(n.path), "node " + n.Name), keep);
            row.dataset.node = n.Name;
            const c = row.cells;
            nameAndState(row, n.Name, n.State);
            setText(c[2], n.Host ? baseName(n.Host) : "");
            setText(c[3], (n.Addresses || []).join(", "));
            setText(c[4], n.Ready ? "yes" : "no");
            setText(c[5], n.Nesting || "unknown");
            const busy = actions.has(n.path) || n.State === "deleting" || n.State === "creating";
            for (const b of c[6].querySelectorAll("button[data-action]:not([data-action=console])"))
                b.disabled = busy || pointless(b.dataset.action, n.State, NODE_PAST);
            showJobs(c[6].querySelector(".nf-job"), n.path, []);
        }
        prune(body, keep);
    }

    function nodeRow(path) {
        const nodeAct = (method, signature, args) =>
            act(path, path, IFACES.node, method, signature, args);
        return el("tr", {},
                  el("td", {}), el("td", { class: "nf-state" }), el("td", {}), el("td", {}), el("td", {}), el("td", {}),
                  el("td", { class: "nf-actions" },
                     el("button", { type: "button", class: "nf-btn", "data-action": "start",
                                    onclick: () => nodeAct("Start", "", []) }, "Start"),
                     el("button", { type: "button", class: "nf-btn", "data-action": "stop",
                                    onclick: () => nodeAct("Stop", "a{sv}", [{}]) }, "Stop"),
                     el("button", {
                         type: "button", class: "nf-btn", "data-action": "reset",
                         onclick: () => confirmDelete("Reset " + baseName(path) +
                                                      "? Its disk is made empty again over the base image.", "Reset")
                                 .then(ok => ok && nodeAct("Reset", "", []))
                     }, "Reset"),
                     el("button", { type: "button", class: "nf-btn", "data-action": "console",
                                    onclick: () => openConsole(path) }, "Console"),
                     el("div", { class: "nf-job" })));
    }

    function renderSnapshots(card, pool) {
        const body = card.querySelector(".nf-snapshots").tBodies[0];
        const keep = new Set();
        for (const [name, created, size, memory] of pool.Snapshots || []) {
            const row = keyed(body, name, () => labelled(snapshotRow(pool.path, name), "snapshot " + name),
                              keep);
            row.dataset.snapshot = name;
            setText(row.cells[0], name);
            setText(row.cells[1], new Date(Number(created) * 1000).toLocaleString());
            setText(row.cells[2], bytes(size));
            setText(row.cells[3], memory ? "yes" : "no");
            for (const b of row.cells[4].querySelectorAll("button"))
                b.disabled = actions.has(pool.path);
        }
        prune(body, keep);
        card.querySelector(".nf-snapshots").hidden = keep.size === 0;
    }

    function snapshotRow(poolPath, name) {
        const snapAct = (method, signature, args) =>
            act(poolPath, poolPath, IFACES.pool, method, signature, args);
        return el("tr", {},
                  el("td", {}), el("td", {}), el("td", {}), el("td", {}),
                  el("td", { class: "nf-actions" },
                     el("button", {
                         type: "button", class: "nf-btn", "data-action": "revert",
                         onclick: () => confirmDelete("Revert every node of the pool to " + name + "?", "Revert")
                                 .then(ok => ok && snapAct("RevertSnapshot", "sa{sv}", [name, {}]))
                     }, "Revert"),
                     el("button", {
                         type: "button", class: "nf-btn nf-btn-danger", "data-action": "delete-snapshot",
                         onclick: () => confirmDelete("Delete snapshot " + name + "?")
                                 .then(ok => ok && snapAct("DeleteSnapshot", "s", [name]))
                     }, "Delete")));
    }

    /* --- dialogs --- */

    function confirmDelete(text, verb) {
        const dialog = $("nf-confirm");
        setText($("nf-confirm-text"), text);
        setText($("nf-confirm-ok"), verb || "Delete");
        dialog.returnValue = "";
        dialog.showModal();
        return new Promise(resolve => {
            dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
        });
    }

    /* The console dialog reads the node's log through Node.ReadConsole:
     * first its last 64 KiB, then on from where it ended, once a second
     * while Follow is on. One read is in flight at a time; a failed read
     * is tried again (1, 2, 4 ... 30 s) while Follow is on. */
    const CONSOLE_TAIL = 65536;
    const consoleView = {
        path: null, host: null, offset: -1, timer: null, reading: false,
        decoder: null, pending: "", skipLine: false, backoff: 1, serial: 0
    };

    function openConsole(path) {
        const dialog = $("nf-console");
        closeConsole();
        consoleView.path = path;
        setText($("nf-console-title"), "Console of " + baseName(path));
        restartConsole();
        dialog.showModal();
        readConsole(consoleView.serial);
    }

    /* The view starts again from the log's tail (a new log, or the node
     * now runs on another host, whose log is another file). */
    function restartConsole() {
        const node = proxyOf("node", consoleView.path);
        consoleView.host = node ? node.Host : null;
        consoleView.offset = -1;
        consoleView.decoder = new TextDecoder("utf-8");
        consoleView.pending = "";
        consoleView.skipLine = false;
        consoleView.backoff = 1;
        $("nf-console-log").textContent = "";
        $("nf-console-error").hidden = true;
    }

    function closeConsole() {
        if (consoleView.timer !== null)
            window.clearTimeout(consoleView.timer);
        consoleView.timer = null;
        consoleView.path = null;
        consoleView.reading = false;
        consoleView.serial++;
    }

    function decodeBase64(text) {
        const raw = window.atob(text || "");
        const out = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++)
            out[i] = raw.charCodeAt(i);
        return out;
    }

    function nextRead(serial, delay) {
        consoleView.timer = window.setTimeout(() => {
            consoleView.timer = null;
            readConsole(serial);
        }, delay);
    }

    function readConsole(serial) {
        if (serial !== consoleView.serial || down || consoleView.reading || consoleView.timer !== null)
            return;
        const node = proxyOf("node", consoleView.path);
        if (node && node.Host !== consoleView.host)
            restartConsole();
        const first = consoleView.offset < 0;
        consoleView.reading = true;
        client.call(consoleView.path, IFACES.node, "ReadConsole", [first ? 0 : consoleView.offset, first ? 1 : 0],
                    { type: "tu" })
                .then(([data, size]) => {
                    if (serial !== consoleView.serial)
                        return;
                    consoleView.reading = false;
                    consoleView.backoff = 1;
                    $("nf-console-error").hidden = true;
                    size = Number(size);
                    if (first) {
                        consoleView.offset = Math.max(0, size - CONSOLE_TAIL);
                        /* from the middle of the log: drop the first, partial line */
                        consoleView.skipLine = consoleView.offset > 0;
                        readConsole(serial);
                        return;
                    }
                    if (size < consoleView.offset) {
                        restartConsole(); /* the log began again */
                        consoleView.offset = 0;
                    } else {
                        const chunk = decodeBase64(data);
                        consoleView.offset += chunk.length;
                        appendConsole(consoleView.decoder.decode(chunk, { stream: true }));
                    }
                    const more = consoleView.offset < size;
                    if (more || $("nf-console-follow").checked)
                        nextRead(serial, more ? 0 : 1000);
                })
                .catch(err => {
                    if (serial !== consoleView.serial)
                        return;
                    consoleView.reading = false;
                    const box = $("nf-console-error");
                    box.hidden = false;
                    setText(box, describe(err));
                    if ($("nf-console-follow").checked) {
                        nextRead(serial, consoleView.backoff * 1000);
                        consoleView.backoff = Math.min(30, consoleView.backoff * 2);
                    }
                });
    }

    /* Adds log text to the view. Control sequences a terminal would act on
     * are noise here; one cut between two reads waits for its end. */
    function appendConsole(text) {
        let all = consoleView.pending + text;
        const cut = all.match(/(\x1b(\[[0-9;?]*)?|\r)$/);
        consoleView.pending = cut ? cut[0] : "";
        if (cut)
            all = all.slice(0, all.length - cut[0].length);
        if (consoleView.skipLine) {
            const newline = all.indexOf("\n");
            if (newline < 0)
                return;
            all = all.slice(newline + 1);
            consoleView.skipLine = false;
        }
        const clean = all.replace(/\r\n?/g, "\n").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
        if (clean === "")
            return;
        const pre = $("nf-console-log");
        let shown = pre.textContent + clean;
        if (shown.length > CONSOLE_KEEP)
            shown = shown.slice(shown.length - CONSOLE_KEEP);
        pre.textContent = shown;
        if ($("nf-console-follow").checked)
            pre.scrollTop = pre.scrollHeight;
    }

    /* --- the pool form --- */

    function submitCreate(event) {
        event.preventDefault();
        const form = event.target;
        const f = name => form.elements[name].value.trim();
        const options = variantOptions({
            image: f("image") ? { t: "s", v: f("image") } : null,
            vcpus: f("vcpus") ? { t: "u", v: Number(f("vcpus")) } : null,
            "memory-mib": f("memory") ? { t: "u", v: Number(f("memory")) } : null,
            "disk-gib": f("disk") ? { t: "u", v: Number(f("disk")) } : null,
            vlans: f("vlans") ? { t: "s", v: f("vlans") } : null,
            "ssh-keys": f("keys") ? { t: "as", v: f("keys").split("\n").map(l => l.trim()).filter(l => l) } : null,
        });
        act("create", ROOT, IFACES.manager, "CreatePool", "sua{sv}",
            [f("name"), Number(f("count")), options])
                .then(ok => { if (ok) form.elements.name.value = "" });
    }

    /* --- the connection --- */

    function daemonDown(detail) {
        if (detail)
            setText($("nf-down-detail"), detail);
        if (!down) {
            down = true;
            /* Jobs do not outlive their daemon: the actions are over. */
            actions.clear();
            done.clear();
            failures.clear();
            closeConsole();
            const dialog = $("nf-console");
            if (dialog.open)
                dialog.close();
        }
        if (retryTimer === null)
            retryTimer = window.setTimeout(() => { retryTimer = null; connect() }, RETRY_SECONDS * 1000);
        schedule();
    }

    function daemonUp() {
        if (retryTimer !== null) {
            window.clearTimeout(retryTimer);
            retryTimer = null;
        }
        down = false;
        settle();
    }

    function connect() {
        const gen = ++generation;
        loading = true;
        if (client)
            client.close();
        client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
        let lost = false; /* the name had no owner since this connection */
        client.addEventListener("owner", (event, owner) => {
            if (gen !== generation)
                return;
            if (owner === null) {
                lost = true;
                daemonDown("nestfarmd is not on the system bus (org.nestfarm.Farm1 has no owner).");
            } else if (lost) {
                connect(); /* it is back: read everything anew */
            }
        });
        client.addEventListener("close", (event, options) => {
            if (gen !== generation)
                return;
            daemonDown("The bus channel closed" + (options && options.problem ? " (" + options.problem + ")." : "."));
        });
        manager = client.proxy(IFACES.manager, ROOT);
        sets = {};
        for (const kind of ["pool", "node", "host", "job"]) {
            sets[kind] = client.proxies(IFACES[kind], ROOT);
            for (const ev of ["added", "changed", "removed"])
                sets[kind].addEventListener(ev, () => { if (gen === generation) settle() });
        }
        manager.addEventListener("changed", () => { if (gen === generation) schedule() });
        for (const b of ["nf-pools", "nf-hosts"])
            prune(b === "nf-hosts" ? $(b).tBodies[0] : $(b), new Set());
        /* cockpit's wait() calls back once the first answer is in. */
        const ready = what => new Promise(resolve => what.wait(resolve));
        Promise.all([ready(manager), ...Object.values(sets).map(ready)])
                .then(() => {
                    if (gen !== generation)
                        return;
                    loading = false;
                    if (manager.valid)
                        daemonUp();
                    else
                        daemonDown("nestfarmd is not on the system bus (org.nestfarm.Farm1 has no owner).");
                })
                .catch(err => {
                    if (gen === generation)
                        daemonDown("The page could not read org.nestfarm.Farm1: " + describe(err));
                });
    }

    /* Administrative access turned on or off in Cockpit's top bar: the
     * bus channel is opened again, now as the other user (Cockpit's own
     * pages reload for the same reason). */
    function watchSuperuser() {
        const superuser = cockpit.dbus(null, { bus: "internal" }).proxy("cockpit.Superuser", "/superuser");
        let current = null; /* "none" or "root" once known; "init" is not yet */
        superuser.addEventListener("changed", () => {
            const now = superuser.valid ? superuser.Current : undefined;
            if (now === undefined || now === "init")
                return;
            if (current !== null && now !== current)
                connect();
            current = now;
        });
    }

    function init() {
        $("nf-create-form").addEventListener("submit", submitCreate);
        $("nf-retry").addEventListener("click", () => {
            if (retryTimer !== null) {
                window.clearTimeout(retryTimer);
                retryTimer = null;
            }
            setText($("nf-down-detail"), "Trying again…");
            connect();
        });
        $("nf-console-close").addEventListener("click", () => $("nf-console").close());
        $("nf-console").addEventListener("close", closeConsole);
        $("nf-console-follow").addEventListener("change", () => {
            if ($("nf-console-follow").checked && consoleView.path && consoleView.timer === null)
                readConsole(consoleView.serial);
        });
        connect();
        watchSuperuser();
        cockpit.transport.wait(() => document.body.classList.add("nf-loaded"));
    }

    window.addEventListener("DOMContentLoaded", init);
}());
