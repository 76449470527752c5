// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The browser half of tests/test-cockpit.c: Debian's chromium, headless,
// driven by playwright-core, on nestfarm's Cockpit page. test-cockpit owns
// the world (private bus, polkitd, nestfarmd, cockpit-ws) and checks D-Bus
// and libvirt itself; it sends this script one step per line on stdin, as
// JSON ({"step": NAME, ...arguments}), and reads the answer on stdout: any
// number of log lines, then "@nf ok" or "@nf fail SENTENCE". After each
// step the page is kept as NF_SCREENSHOTS/NN-STEP.png.
//
// Environment: NF_COCKPIT_URL (the page for root), NF_COCKPIT_USER_URL (the
// page through a cockpit-ws of an unprivileged user), NF_SCREENSHOTS,
// NF_CHROMIUM (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { mkdirSync } from "node:fs";

const LONG = 240_000; // a job on real guests under TCG
const SHORT = 20_000; // the page reacting to the bus

const shots = process.env.NF_SCREENSHOTS;
const pageErrors = [];
let stepNumber = 0;

function log(text) {
    process.stdout.write(String(text).replace(/\n/g, " ") + "\n");
}

function check(condition, sentence) {
    if (!condition)
        throw new Error(sentence);
}

const browser = await chromium.launch({
    executablePath: process.env.NF_CHROMIUM || "/usr/bin/chromium",
    // root in a container: chromium's sandbox needs user namespaces
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });

async function newPage(url) {
    const page = await context.newPage();
    page.on("pageerror", err => pageErrors.push(err.message));
    page.on("console", msg => {
        if (msg.type() === "error")
            log("page console: " + msg.text());
    });
    await page.goto(url);
    return page;
}

let page = null;
let userPage = null;
let consoleBefore = ""; // the console dialog's text when it was opened

const card = pool => page.locator(`section.nf-pool[data-pool="${pool}"]`);
const nodeRow = node => page.locator(`tr[data-node="${node}"]`);

// Clicks @button, checks the action cannot be sent again while it runs
// (the button is disabled until it ends), waits for this page's job in
// @box to end and returns the progress values and steps seen on its bar.
// With @twice, the button is double-clicked (test-cockpit counts the jobs).
async function runAction(button, box, { confirm = false, fails = false, stays = false, twice = false } = {}) {
    // Whether the button was disabled at any moment, however briefly (a
    // job may end within milliseconds): a record of the attribute's changes.
    const handle = await button.elementHandle();
    await handle.evaluate(b => {
        b.nfWasDisabled = false;
        new MutationObserver(records => {
            if (records.some(r => r.oldValue === null))
                b.nfWasDisabled = true;
        }).observe(b, { attributes: true, attributeFilter: ["disabled"], attributeOldValue: true });
    });
    if (twice)
        await button.dblclick();
    else
        await button.click();
    if (confirm)
        await page.locator("#nf-confirm-ok").click();
    const seen = { values: new Set(), steps: new Set() };
    const deadline = Date.now() + LONG;
    for (;;) {
        // the box as it stands at one moment (rows come and go between reads)
        const now = await box.evaluate(b => {
            const own = b.querySelector('.nf-job-row[data-own="true"]');
            return {
                failure: [...b.querySelectorAll(".nf-error")].map(e => e.textContent),
                own: own && {
                    state: own.dataset.state,
                    value: Number(own.querySelector(".nf-progress").getAttribute("aria-valuenow")),
                    text: own.querySelector(".nf-job-text").textContent,
                },
            };
        });
        if (fails && now.failure.length > 0) {
            check(await handle.evaluate(b => b.nfWasDisabled), "the button was not disabled while its action ran");
            check(!(await button.isDisabled()), "the button stays disabled after its job failed");
            return now.failure.join(" ");
        }
        check(now.failure.length === 0, "the action failed: " + now.failure.join(" "));
        if (now.own) {
            seen.values.add(now.own.value);
            seen.steps.add(now.own.text);
            check(!(fails && now.own.state === "succeeded"), "the job succeeded, though it should fail");
            if (now.own.state === "succeeded")
                break;
            check(now.own.state === "running", "the job ended " + now.own.state + ": " + now.own.text);
        }
        check(Date.now() < deadline, "the job did not end in " + LONG / 1000 + " s");
        await page.waitForTimeout(100);
    }
    check(await handle.evaluate(b => b.nfWasDisabled), "the button was not disabled while its action ran");
    // (unless its row went with what the job removed)
    if (!stays && await button.count() > 0)
        check(!(await button.isDisabled()), "the button stays disabled after its job ended");
    const values = [...seen.values].sort((a, b) => a - b);
    check(values[values.length - 1] === 100, "the progress bar did not reach 100% (saw " + values.join(",") + ")");
    log("progress seen: " + values.join(",") + "; " + [...seen.steps].join(" | "));
    return seen;
}

// After Start or Stop (@done) in @scope, that button is disabled and the
// other enabled.
async function offered(scope, done) {
    const other = done === "stop" ? "start" : "stop";
    check(await scope.locator(`button[data-action="${done}"]`).isDisabled(), done + " is still offered");
    check(!(await scope.locator(`button[data-action="${other}"]`).isDisabled()), other + " is not offered");
}

async function waitText(locator, text, timeout = SHORT) {
    const handle = await locator.elementHandle({ timeout });
    await page.waitForFunction(([e, t]) => e.textContent.includes(t), [handle, text], { timeout });
}

const steps = {
    async open() {
        page = await newPage(process.env.NF_COCKPIT_URL);
        await page.locator("#nf-main").waitFor({ state: "visible", timeout: SHORT });
        await waitText(page.locator("#nf-summary"), "nestfarmd ");
        check(await page.locator("#nf-down").isHidden(), "the page says nestfarmd is not running");
        log("summary: " + await page.locator("#nf-summary").textContent());
    },

    async create({ pool, count, image, vcpus, memory, disk, vlans }) {
        const form = page.locator("#nf-create-form");
        await form.locator('[name="name"]').fill(pool);
        await form.locator('[name="count"]').fill(String(count));
        await form.locator('[name="image"]').fill(image);
        await form.locator('[name="vcpus"]').fill(String(vcpus));
        await form.locator('[name="memory"]').fill(String(memory));
        await form.locator('[name="disk"]').fill(String(disk));
        await form.locator('[name="vlans"]').fill(vlans);
        await runAction(form.locator('button[data-action="create"]'), form.locator(".nf-job"), { twice: true });
        await card(pool).locator('.nf-state[data-state="ready"]').waitFor({ timeout: LONG });
        const rows = card(pool).locator("tr[data-node]");
        check(await rows.count() === count, "the pool shows " + await rows.count() + " nodes, not " + count);
        for (let i = 1; i <= count; i++)
            await nodeRow(pool + "-" + i).locator('.nf-state[data-state="running"]').waitFor({ timeout: SHORT });
        await waitText(card(pool).locator(".nf-facts"), vlans);
        await waitText(card(pool).locator(".nf-facts"), memory + " MiB");
    },

    // A create the daemon refuses at the call: its sentence is shown and
    // the form keeps what was typed.
    async refused({ pool, image }) {
        const form = page.locator("#nf-create-form");
        await form.locator('[name="name"]').fill(pool);
        await form.locator('[name="image"]').fill(image);
        await form.locator('button[data-action="create"]').click();
        const error = form.locator(".nf-error");
        await error.waitFor({ timeout: SHORT });
        const text = await error.textContent();
        log("refusal shown: " + text);
        check(text.includes(image), "the refusal does not name the image: " + text);
        check(await form.locator('[name="name"]').inputValue() === pool, "the form lost the name");
        check(await card(pool).count() === 0, "a card for the refused pool appeared");
        await form.locator('[name="image"]').fill("");
    },

    async scale({ pool, count }) {
        await card(pool).locator(".nf-scale").fill(String(count));
        await runAction(card(pool).locator('button[data-action="scale"]'), card(pool).locator(":scope > .nf-job"),
                        { twice: true });
        await card(pool).locator('.nf-state[data-state="ready"]').waitFor({ timeout: LONG });
        await nodeRow(pool + "-" + count).locator('.nf-state[data-state="running"]').waitFor({ timeout: SHORT });
        check(await card(pool).locator("tr[data-node]").count() === count, "the pool does not show " + count + " nodes");
    },

    // Start or Stop; afterwards the same button has nothing to do (it
    // stays disabled) and the other one is offered.
    async poolAction({ pool, action, state, nodeState }) {
        const head = card(pool).locator(".nf-pool-head");
        await runAction(head.locator(`button[data-action="${action}"]`), card(pool).locator(":scope > .nf-job"),
                        { stays: true });
        await head.locator(`.nf-state[data-state="${state}"]`).waitFor({ timeout: LONG });
        const rows = card(pool).locator("tr[data-node]");
        for (let i = 0; i < await rows.count(); i++)
            await rows.nth(i).locator(`.nf-state[data-state="${nodeState}"]`).waitFor({ timeout: SHORT });
        await offered(head, action);
    },

    async nodeAction({ node, action, state }) {
        const row = nodeRow(node);
        await runAction(row.locator(`button[data-action="${action}"]`), row.locator(".nf-job"), { stays: true });
        await row.locator(`.nf-state[data-state="${state}"]`).waitFor({ timeout: SHORT });
        await offered(row, action);
    },

    // Reset, confirmed: the node is made again over the base image and runs.
    async nodeReset({ node }) {
        const row = nodeRow(node);
        await runAction(row.locator('button[data-action="reset"]'), row.locator(".nf-job"),
                        { confirm: true, stays: true });
        await row.locator('.nf-state[data-state="running"]').waitFor({ timeout: SHORT });
    },

    // The console dialog shows the node's log (and stays open, following).
    async console({ node, expect }) {
        await nodeRow(node).locator('button[data-action="console"]').click();
        const log_ = page.locator("#nf-console-log");
        await page.locator("#nf-console").waitFor({ state: "visible", timeout: SHORT });
        await waitText(log_, expect, 60_000);
        consoleBefore = await log_.textContent();
        log("console shows " + consoleBefore.length + " characters");
        check(await page.locator("#nf-console-error").isHidden(), "the console shows an error");
        check(await page.locator("#nf-console-follow").isChecked(), "the console does not follow by default");
    },

    // What the node printed since (it was restarted meanwhile) comes in
    // while the dialog stays open, a new boot and its @expect line.
    async consoleFollow({ expect }) {
        const log_ = page.locator("#nf-console-log");
        // the log is appended to across boots: one more such line
        const count = text => text.split(expect).length - 1;
        const before = count(consoleBefore);
        await page.waitForFunction(([e, t, n]) => e.textContent.split(t).length - 1 > n,
                                   [await log_.elementHandle(), expect, before], { timeout: 60_000 });
        check(count(await log_.textContent()) === before + 1, "the console shows the new boot more than once");
        log("console follows: " + (await log_.textContent()).length + " characters now");
        await steps.screenshot({ name: "console" });
        await page.locator("#nf-console-close").click();
        await page.locator("#nf-console").waitFor({ state: "hidden", timeout: SHORT });
    },

    async snapshot({ pool, name }) {
        await card(pool).locator(".nf-snapshot-name").fill(name);
        await runAction(card(pool).locator('button[data-action="snapshot"]'), card(pool).locator(":scope > .nf-job"));
        await card(pool).locator(`tr[data-snapshot="${name}"]`).waitFor({ timeout: SHORT });
    },

    async revert({ pool, name }) {
        const row = card(pool).locator(`tr[data-snapshot="${name}"]`);
        await runAction(row.locator('button[data-action="revert"]'), card(pool).locator(":scope > .nf-job"),
                        { confirm: true });
    },

    async deleteSnapshot({ pool, name }) {
        const row = card(pool).locator(`tr[data-snapshot="${name}"]`);
        await runAction(row.locator('button[data-action="delete-snapshot"]'), card(pool).locator(":scope > .nf-job"),
                        { confirm: true });
        await row.waitFor({ state: "detached", timeout: SHORT });
    },

    async deletePool({ pool }) {
        const button = card(pool).locator('.nf-pool-head button[data-action="delete"]');
        await button.click();
        await page.locator("#nf-confirm").waitFor({ state: "visible", timeout: SHORT });
        await page.locator("#nf-confirm-ok").click();
        // The card goes with the pool: the job's end is seen as its removal.
        await card(pool).waitFor({ state: "detached", timeout: LONG });
        await page.locator("#nf-no-pools").waitFor({ state: "visible", timeout: SHORT });
    },

    // With @fails, the job must fail and its sentence, containing
    // @fails, be shown where the action was taken.
    async hostAction({ host, action, state, fails }) {
        const row = page.locator(`tr[data-host="${host}"]`);
        const failure = await runAction(row.locator(`button[data-action="${action}"]`), row.locator(".nf-job"),
                                        { fails: Boolean(fails), stays: action === "activate" });
        if (fails) {
            log("failure shown: " + failure);
            check(failure.includes(fails), "the failure does not say " + fails + ": " + failure);
        }
        await row.locator(`.nf-state[data-state="${state}"]`).waitFor({ timeout: SHORT });
    },

    // The same page through an unprivileged user's Cockpit: it reads
    // everything, and a change is refused with the sentence naming polkit
    // and Administrative access.
    async unprivileged({ pool }) {
        userPage = await newPage(process.env.NF_COCKPIT_USER_URL);
        const previous = page;
        page = userPage;
        try {
            await card(pool).locator('.nf-state[data-state="ready"]').waitFor({ timeout: SHORT });
            await card(pool).locator('.nf-pool-head button[data-action="stop"]').click();
            const error = card(pool).locator(".nf-error");
            await error.waitFor({ timeout: SHORT });
            const text = await error.textContent();
            log("refusal shown: " + text);
            check(text.includes("Not authorized") && text.includes("polkit") && text.includes("Administrative access"),
                  "the refusal does not name polkit and Administrative access: " + text);
            check(!(await card(pool).locator('.nf-pool-head button[data-action="stop"]').isDisabled()),
                  "the refused action left its button disabled");
            await steps.screenshot({ name: "unprivileged" });
        } finally {
            page = previous;
            await userPage.close();
        }
    },

    async waitDown() {
        await page.locator("#nf-down").waitFor({ state: "visible", timeout: SHORT });
        check(await page.locator("#nf-main").isHidden(), "the pools stay shown while nestfarmd is gone");
        const detail = page.locator("#nf-down-detail");
        await waitText(detail, "has no owner");
        // Retry while it is still down: the banner stays, and says why again.
        await page.locator("#nf-retry").click();
        await waitText(detail, "has no owner");
        check(await page.locator("#nf-down").isVisible(), "Retry hid the banner though nestfarmd is down");
    },

    // Recovers by itself, without a reload, when nestfarmd is back.
    async waitUp({ pool, nodes }) {
        await page.locator("#nf-main").waitFor({ state: "visible", timeout: 30_000 });
        check(await page.locator("#nf-down").isHidden(), "the banner stays after nestfarmd came back");
        await card(pool).locator('.nf-state[data-state="ready"]').waitFor({ timeout: SHORT });
        check(await card(pool).locator("tr[data-node]").count() === nodes, "the pool lost nodes on the page");
    },

    async screenshot({ name, path }) {
        const file = path || `${shots}/${String(++stepNumber).padStart(2, "0")}-${name}.png`;
        await page.screenshot({ path: file, fullPage: true });
        log("screenshot " + file);
    },
};

mkdirSync(shots, { recursive: true });
// test-cockpit closes our stdin when it ends, or dies: end even mid-step.
process.stdin.on("end", () => browser.close().finally(() => process.exit(0)));
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
    let request;
    try {
        request = JSON.parse(line);
        const step = steps[request.step];
        check(step !== undefined, "no step " + request.step);
        pageErrors.length = 0;
        await step(request);
        check(pageErrors.length === 0, "the page threw: " + pageErrors.join(" | "));
        if (request.step !== "screenshot" && page !== null)
            await steps.screenshot({ name: request.step });
        log("@nf ok");
    } catch (err) {
        if (page !== null)
            await steps.screenshot({ name: "failed-" + (request ? request.step : "parse") }).catch(() => {});
        log("@nf fail " + (err && err.message ? err.message.split("\n")[0] : String(err)));
    }
}
await browser.close();
