#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# nestfarm's house rules, checked rather than remembered (fwupd's
# check-source.py idea). One TAP line per rule; each violation is a
# "# file:line: what" line. Allowlists and the KNOWN list below say why each
# entry is there; an entry that no longer matches anything fails its rule, so
# the lists only shrink.

import os
import re
import sys

ROOT = os.environ.get('NF_SOURCE_ROOT')
DIRS = ('src', 'include', 'tests', 'bench')

# Rule d: a file exports names starting with its own name, the name of a
# module it is part of (nf-host-facts.c beside nf-host.c: nf_host_), or a type
# (Nf*) declared in it or in those modules' headers. Beyond that, by design:
NAME_ALLOWED = {
    'src/core/nf-names.c': (('nf_pool_name_', 'nf_profile_name_', 'nf_node_name_', 'nf_path_component_'),
                            'the rules for each kind of name, one file; each function is named for its name'),
    'include/nestfarm/nf-names.h': (('nf_pool_name_', 'nf_profile_name_', 'nf_node_name_', 'nf_path_component_'),
                                    'see nf-names.c'),
    'src/core/nf-failpoint.c': (('nf_fail_point',), 'the one function, named for what it marks'),
    'include/nestfarm/nf-failpoint.h': (('nf_fail_point',), 'see nf-failpoint.c'),
    'src/core/nf-node-spec.c': (('nf_node_mac', 'nf_node_metadata_owned_by'),
                                'derived from a node spec\'s pool and index, or its metadata; beside NfNodeSpec'),
    'include/nestfarm/nf-template.h': (('nf_node_mac', 'nf_node_metadata_owned_by'), 'see nf-node-spec.c'),
    'src/core/nf-base-image.c': (('nf_storage_', 'nf_image_format_'),
                                 'the base-image half of nf-storage.h (NfStorage checks, NfImageFormat)'),
    'src/core/nf-tsan.c': (('g_mutex_', 'g_cond_', 'g_task_'),
                           'GLib\'s own functions, declared again under their names after nf-tsan.h renamed them'),
}

# Rule e: what a worker may call among nf_model_/nf_pool_/nf_node_/nf_job_ names.
# Everything declared in include/nestfarm/ (the engine: what workers exist to
# call; it knows nothing of the daemon's model) is allowed too.
WORKER_VALUE_HELPERS = {
    'nf_pool_spec_new', 'nf_pool_spec_copy', 'nf_pool_spec_free',  # NfPoolSpec is a plain value
    # and so is NfPoolSnapshot, one of its fields
    'nf_pool_snapshot_new', 'nf_pool_snapshot_copy', 'nf_pool_snapshot_free', 'nf_pool_snapshot_holds',
    'nf_pool_snapshot_find_holding', 'nf_pool_spec_add_retired',
}
# Rule e, KNOWN: worker -> model calls that exist today. Another engineer is
# rewriting these functions (a worker gets a copy when it is queued); do not
# add entries, remove them as they are fixed.
KNOWN_WORKER_CALLS = set()

# Rule f: g_warning in a core function that can return an error, allowed
# only where it reports a secondary failure that must not mask the primary
# error (a rollback step failing after the main error is set). None today.
CORE_WARNING_ALLOWED = {}
# Rule f, KNOWN: ones awaiting a decision (fix, or allow with a reason).
# None today: what a call that succeeds should still be warned about goes to
# its caller in a warnings array (nf-engine.h). Do not add entries.
CORE_WARNING_KNOWN = {}

# Rule j: a function's body in src/ is at most this many lines; beyond that,
# by exception only: (file, function) -> why it cannot be split. Tests and
# the bench are not held to it (a test is often one long list of cases).
FUNCTION_LINES_MAX = 80
LONG_FUNCTION_ALLOWED = {}

# Rule g: printing in the daemon and the core.
PRINT_ALLOWED = {
    'src/daemon/nf-main.c': 'the command line front door: --version and start-up errors before logging',
    'src/core/nf-failpoint.c': 'one line to stderr in the instant before the process kills itself',
}
# Rule g: layers. (file, name) -> why that file may use it.
LAYER_ALLOWED = {
    ('src/core/nf-error.c', 'GDBusErrorEntry'): 'NF_ERROR registered with GDBus, as the house asks',
    ('src/core/nf-error.c', 'g_dbus_error_register_error_domain'): 'the same',
    ('src/core/nf-libvirt.c', 'virGetLastError'): 'nf_libvirt_set_error itself, and the keepalive check of a code',
    ('src/core/nf-host-facts.c', 'virGetLastErrorMessage'): 'a debug line only; no GError is made of it',
    ('src/daemon/nf-main.c', 'libxml'): 'xmlInitParser: libxml2 set up once before worker threads parse',
}

def strip(text):
    """Comments and string/char literals blanked (newlines and offsets kept); #include lines kept."""
    def blank(m):
        s = m.group(0)
        if s[0] in '"\'':
            return s[0] + re.sub(r'[^\n]', ' ', s[1:-1]) + s[-1]
        return re.sub(r'[^\n]', ' ', s)
    return re.sub(r'^#include[^\n]*|/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                  lambda m: m.group(0) if m.group(0).startswith('#') else blank(m), text, flags=re.S | re.M)


class Source:
    def __init__(self, path):
        self.path = path
        with open(os.path.join(ROOT, path), encoding='utf-8') as f:
            self.text = f.read()
        self.lines = self.text.split('\n')
        self.code = strip(self.text)
        self._funcs = None

    def line(self, offset):
        return self.text.count('\n', 0, offset) + 1

    def where(self, offset):
        return '%s:%d' % (self.path, self.line(offset))

    def funcs(self):
        """Top-level functions: dicts of name, static, params, offset, body (or None)."""
        if self._funcs is None:
            self._funcs = list(parse_functions(self.code))
        return self._funcs


def matching(code, i):
    """Offset of the bracket closing the one at @i."""
    pairs = {'{': '}', '(': ')'}
    depth, open_, close = 0, code[i], pairs[code[i]]
    for j in range(i, len(code)):
        depth += (code[j] == open_) - (code[j] == close)
        if depth == 0:
            return j
    return len(code) - 1


def parse_functions(code):
    def blank(m):
        return re.sub(r'[^\n]', ' ', m.group(0))
    # Preprocessor lines, and top-level macros such as G_DEFINE_TYPE (...).
    code = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', blank, code, flags=re.M)
    code = re.sub(r'\bG_GNUC_\w+(?:\s*\([^)]*\))?', blank, code)
    for m in reversed(list(re.finditer(r'^[A-Z][A-Z0-9_]+\b[ \t]*', code, flags=re.M))):
        end = m.end()
        if end < len(code) and code[end] == '(':
            end = matching(code, end) + 1
        code = code[:m.start()] + blank(re.match(r'.*', code[m.start():end], re.S)) + code[end:]
    start = i = 0
    while i < len(code):
        c = code[i]
        if c == '{':
            j = matching(code, i)
            head = code[start:i]
            if head.rstrip().endswith(')') and '=' not in head:
                f = describe(code, start, head)
                if f:
                    f['body'] = (i, j)
                    yield f
                start = j + 1
            i = j + 1
            continue
        if c == ';':
            head = code[start:i]
            if not head.lstrip().startswith(('typedef', 'extern', 'struct', 'enum')):
                f = describe(code, start, head)
                if f and '=' not in head[:f['paren']]:
                    f['body'] = None
                    yield f
            start = i + 1
        i += 1


def describe(code, start, head):
    m = re.search(r'([A-Za-z_]\w*)\s*\((?!\s*\*)', head)
    if not m or m.group(1) in ('sizeof', 'return', 'if', 'while', 'for', 'switch'):
        return None
    close = matching(head, m.end() - 1)
    return {'name': m.group(1), 'static': re.search(r'\bstatic\b', head[:m.start()]) is not None,
            'params': head[m.end():close], 'offset': start + m.start(1), 'paren': m.start()}


def files():
    out = []
    for d in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, d)):
            dirnames[:] = [n for n in dirnames if n != 'fixtures' and not n.startswith('.')]
            for n in filenames:
                if n.endswith(('.c', '.h')):
                    out.append(os.path.relpath(os.path.join(dirpath, n), ROOT))
    return [Source(p) for p in sorted(out)]


def stale(entries, used, what):
    return ['%s: %s no longer matches anything; remove it' % (what, e) for e in sorted(entries) if e not in used]


# --- The rules: each returns (description, problems, notes). --------------

def rule_purpose(sources):
    skip = re.compile(r'^\s*$|^#define G_LOG_DOMAIN\b|^#include\b|^#pragma once\b|^G_BEGIN_DECLS\b')
    bad = []
    for s in sources:
        n = 1
        while n < len(s.lines) and skip.match(s.lines[n]):
            n += 1
        if n >= len(s.lines) or not s.lines[n].lstrip().startswith('/*'):
            bad.append('%s:%d: no comment saying what the file is for (found: %s)'
                       % (s.path, n + 1, s.lines[n].strip()[:50] if n < len(s.lines) else 'end of file'))
            continue
        while '*/' not in s.lines[n]:
            n += 1
        if n + 1 < len(s.lines) and s.lines[n + 1].strip():
            bad.append('%s:%d: the first comment documents the next declaration, not the file '
                       '(a purpose comment is followed by a blank line)' % (s.path, n + 1))
    return 'every file opens with a comment saying what it is for', bad, []


def rule_spdx(sources):
    bad = ['%s:1: line 1 is not an SPDX-License-Identifier comment' % s.path
           for s in sources if not re.match(r'/\* SPDX-License-Identifier: \S.* \*/$', s.lines[0])]
    bad += ['%s:1: no #define G_LOG_DOMAIN' % s.path for s in sources
            if s.path.startswith('src/') and s.path.endswith('.c')
            and not re.search(r'^#define G_LOG_DOMAIN "[\w-]+"$', s.text, re.M)]
    return 'SPDX line first; every .c in src/ defines G_LOG_DOMAIN', bad, []


def rule_goto(sources):
    bad = ['%s: goto' % s.where(m.start()) for s in sources for m in re.finditer(r'\bgoto\b', s.code)]
    return 'no goto', bad, []


def snake(camel):
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', camel).lower()


def rule_names(sources):
    by_path = {s.path: s for s in sources}
    bad, used = [], set()
    for s in sources:
        if not s.path.startswith(('src/', 'include/nestfarm/')):
            continue
        parts = re.sub(r'-private$', '', os.path.basename(s.path)[:-2]).split('-')
        prefixes, texts = set(), [s.text]
        for k in range(2, len(parts) + 1):
            module = '-'.join(parts[:k])
            here = os.path.join(os.path.dirname(s.path), module)
            found = [by_path[p] for p in (here + '.c', here + '.h', here + '-private.h',
                                          'include/nestfarm/%s.h' % module) if p in by_path]
            if found or k == len(parts):
                prefixes.add(module.replace('-', '_') + '_')
            texts += [f.text for f in found if f.path.endswith('.h')]
        for text in texts:
            prefixes |= {m + '_' for m in re.findall(r'\bG_(?:DECLARE|DEFINE)_\w*TYPE\w* \(\w+, (\w+)', text)}
            prefixes |= {snake(m) + '_' for m in re.findall(r'(?:\btypedef [\w ]+|^\}) ?(Nf\w+);', text, re.M)}
        allowed = NAME_ALLOWED.get(s.path, ((), ''))[0]
        for f in s.funcs():
            name = f['name']
            if f['static'] or name == 'main' or name.startswith(tuple(prefixes)):
                continue
            hit = [a for a in allowed if name == a or (a.endswith('_') and name.startswith(a))]
            if hit:
                used.add((s.path, hit[0]))
                continue
            bad.append('%s: %s does not start with %s' % (s.where(f['offset']), name, ' or '.join(sorted(prefixes))))
    entries = {(p, a) for p, (names, _) in NAME_ALLOWED.items() for a in names}
    bad += stale(entries, used, 'NAME_ALLOWED entry')
    return 'exported names start with their file\'s name', bad, []


def rule_workers(sources):
    """Worker functions in src/daemon call nothing of the daemon's model."""
    engine = {f['name'] for s in sources if s.path.startswith('include/nestfarm/') for f in s.funcs()}
    model = re.compile(r'\b(?:nf_manager|nf_scheduler|nf_model|nf_pool|nf_node|nf_job)_\w+')
    work_sig = None
    for s in sources:
        m = re.search(r'typedef gpointer \(\*NfWorkFunc\) \(([^)]*)\)', s.code)
        if m:
            work_sig = param_types(m.group(1))
    bad, notes, used, checked = [], [], set(), set()
    for s in sources:
        if not s.path.startswith('src/daemon/') or not s.path.endswith('.c'):
            continue
        defs = {f['name']: f for f in s.funcs() if f['body']}
        # Registered with GTask, or of the executor's NfWorkFunc type.
        workers = set(re.findall(r'\bg_task_run_in_thread(?:_sync)? \(\s*\w+,\s*(\w+)\s*\)', s.code))
        workers |= {n for n, f in defs.items() if param_types(f['params']) == work_sig}
        workers |= {n for n, f in defs.items() if param_types(f['params']) ==
                    ['GTask *', 'gpointer', 'gpointer', 'GCancellable *']}
        # g-authorize-method handlers: GDBus emits the signal in a thread of its own.
        workers |= {n for n, f in defs.items() if param_types(f['params'])[:2] ==
                    ['GDBusInterfaceSkeleton *', 'GDBusMethodInvocation *']}
        for w in sorted(workers & set(defs)):
            checked.add(w)
            seen, todo = set(), [(w, w)]
            while todo:
                fn, path = todo.pop()
                if fn in seen:
                    continue
                seen.add(fn)
                a, b = defs[fn]['body']
                for m in model.finditer(s.code, a, b):
                    name = m.group(0)
                    if name in engine or name in WORKER_VALUE_HELPERS:
                        continue
                    key = (s.path, w, name)
                    msg = '%s: %s runs in a worker thread and calls %s' % (s.where(m.start()), path, name)
                    if key in KNOWN_WORKER_CALLS:
                        used.add(key)
                        notes.append('known: ' + msg)
                    else:
                        bad.append(msg)
                # Nor reaches the model through the operation it came from.
                for m in re.finditer(r'->(?:op|manager|model|context)\b', s.code[a:b]):
                    bad.append('%s: %s runs in a worker thread and reaches the model (%s)' %
                               (s.where(a + m.start()), path, m.group(0)))
                for m in re.finditer(r'\b(\w+) \(', s.code[a:b]):
                    if m.group(1) in defs and defs[m.group(1)]['static']:
                        todo.append((m.group(1), path + ' -> ' + m.group(1)))
    if work_sig is None or not checked:
        bad.append('found no NfWorkFunc typedef or no worker functions: the rule has lost track of them')
    notes.insert(0, 'workers checked: ' + ', '.join(sorted(checked)))
    bad += stale(KNOWN_WORKER_CALLS, used, 'KNOWN_WORKER_CALLS entry')
    return 'worker threads never call nf_manager_*, nf_model_* or the model\'s accessors', bad, notes


def param_types(params):
    out = []
    for p in params.split(','):
        p = re.sub(r'\s+', ' ', p).strip()
        out.append(re.sub(r'\s*\b\w+$', '', p).replace('* ', '*').strip() if ' ' in p else p)
    return [re.sub(r'(\w)\*', r'\1 *', t) for t in out]


def rule_core_warnings(sources):
    bad, notes, used = [], [], set()
    for s in sources:
        if not s.path.startswith('src/core/'):
            continue
        for f in s.funcs():
            if not f['body'] or not re.search(r'\bGError \*\*', f['params']):
                continue
            for m in re.finditer(r'\bg_warning \(', s.code[f['body'][0]:f['body'][1]]):
                key = (s.path, f['name'])
                msg = '%s: g_warning in %s, which can return a GError instead' % (
                    s.where(f['body'][0] + m.start()), f['name'])
                if key in CORE_WARNING_ALLOWED:
                    used.add(key)
                elif key in CORE_WARNING_KNOWN:
                    used.add(key)
                    notes.append('known: %s (%s)' % (msg, CORE_WARNING_KNOWN[key]))
                else:
                    bad.append(msg)
    bad += stale(set(CORE_WARNING_ALLOWED) | set(CORE_WARNING_KNOWN), used, 'CORE_WARNING entry')
    return 'the core returns errors rather than logging g_warning', bad, notes


def rule_print(sources):
    bad, used = [], set()
    for s in sources:
        if not s.path.startswith(('src/core/', 'src/daemon/')):
            continue
        for m in re.finditer(r'\b(g_print|g_printerr|printf|fprintf|puts|fputs|putchar) \(', s.code):
            if s.path in PRINT_ALLOWED:
                used.add(s.path)
            else:
                bad.append('%s: %s (log with g_message/g_warning/g_debug)' % (s.where(m.start()), m.group(1)))
    bad += stale(PRINT_ALLOWED, used, 'allowlist entry')
    return 'the daemon and the core log, they do not print', bad, []


def rule_headers(sources):
    bad = ['%s:2: no #pragma once' % s.path for s in sources
           if s.path.endswith('.h') and not re.search(r'^#pragma once$', s.text, re.M)]
    bad += ['%s: include guard (use #pragma once)' % s.where(m.start()) for s in sources
            for m in re.finditer(r'^#ifndef \w+_H_*$', s.text, re.M)]
    return 'headers use #pragma once', bad, []


def rule_layers(sources):
    checks = [  # (which files, what, why not)
        (('src/core/', 'include/'), r'\bg_dbus_\w+|\bGDBus\w+|nf-dbus-generated\.h', 'the core knows nothing of D-Bus'),
        (('src/daemon/',), r'#include <(libvirt)/|\b(vir[A-Z]\w*) \(', 'the daemon reaches libvirt through the engine'),
        (('src/daemon/',), r'#include <(libxml)/', 'the daemon knows nothing of libvirt XML'),
        (('src/',), r'\bvir(?:Get|Copy|Save)LastError\w*', 'libvirt errors become GErrors in nf_libvirt_set_error'),
    ]
    bad, used = [], set()
    for s in sources:
        for dirs, pattern, why in checks:
            if not s.path.startswith(dirs):
                continue
            for m in re.finditer(pattern, s.code):
                key = (s.path, next((g for g in m.groups() if g), m.group(0)))
                if key in LAYER_ALLOWED:
                    used.add(key)
                else:
                    bad.append('%s: %s: %s' % (s.where(m.start()), key[1], why))
    bad += stale(LAYER_ALLOWED, used, 'LAYER_ALLOWED entry')
    return 'core without D-Bus, daemon without libvirt, libvirt errors read in one place', bad, []


def daemon_graph(sources):
    """src/daemon's modules (a .c and its .h) -> the modules each one includes or calls."""
    daemon = [s for s in sources if s.path.startswith('src/daemon/')]
    module = lambda path: os.path.basename(path)[:-2]
    owner = {f['name']: module(s.path) for s in daemon if s.path.endswith('.h') for f in s.funcs()}
    graph = {}
    for s in daemon:
        m = module(s.path)
        deps = graph.setdefault(m, set())
        deps |= {n for n in re.findall(r'^#include "(nf-[\w-]+)\.h"', s.text, re.M)
                 if os.path.exists(os.path.join(ROOT, 'src/daemon', n + '.h'))}
        deps |= {owner[n] for n in re.findall(r'\b(\w+) \(', s.code) if n in owner}
        deps.discard(m)
    return graph


def rule_daemon_cycles(sources):
    graph = daemon_graph(sources)
    bad, done, path = [], set(), []

    def visit(m):
        if m in path:
            bad.append('src/daemon: %s depend on each other in a cycle (an include or a call each)'
                       % ' -> '.join(path[path.index(m):] + [m]))
            return
        if m in done:
            return
        path.append(m)
        for n in sorted(graph.get(m, ())):
            visit(n)
        path.pop()
        done.add(m)

    for m in sorted(graph):
        visit(m)
    notes = ['%s -> %s' % (m, ', '.join(sorted(graph[m])) or '-') for m in sorted(graph)]
    return 'the daemon\'s files depend on each other one way (no include or call cycle)', bad, notes


def rule_function_length(sources):
    bad, notes, used = [], [], set()
    for s in sources:
        if not s.path.startswith('src/'):
            continue
        for f in s.funcs():
            if not f['body']:
                continue
            a, b = f['body']
            lines = s.line(b) - s.line(a) - 1
            if lines <= FUNCTION_LINES_MAX:
                continue
            key = (s.path, f['name'])
            msg = '%s: %s is %d lines long (at most %d; split it)' % (
                s.where(f['offset']), f['name'], lines, FUNCTION_LINES_MAX)
            if key in LONG_FUNCTION_ALLOWED:
                used.add(key)
                notes.append('allowed: %s (%s)' % (msg, LONG_FUNCTION_ALLOWED[key]))
            else:
                bad.append(msg)
    bad += stale(LONG_FUNCTION_ALLOWED, used, 'LONG_FUNCTION_ALLOWED entry')
    return 'no function body in src/ over %d lines' % FUNCTION_LINES_MAX, bad, notes

RULES = [rule_purpose, rule_spdx, rule_goto, rule_names, rule_workers,
         rule_core_warnings, rule_print, rule_headers, rule_layers, rule_daemon_cycles,
         rule_function_length]


def main():
    if not ROOT:
        print('Bail out! NF_SOURCE_ROOT is not set')
        return 1
    sources = files()
    print('1..%d' % len(RULES))
    failed = 0
    for n, rule in enumerate(RULES, 1):
        what, bad, notes = rule(sources)
        for line in notes + bad:
            print('# ' + line)
        print('%s %d - %s' % ('not ok' if bad else 'ok', n, what))
        failed += bool(bad)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
