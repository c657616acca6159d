#!/usr/bin/env python3
"""Measure the Bicep reader (keyless/linter/documents/bicep.py) on a directory of Bicep files.

    python bench/bicep_reader.py /tmp/corpus/Azure+bicep-registry-modules [more dirs...]
        [--show N] [--profile]
    python bench/bicep_reader.py DIR --speed RUNS [--source OTHER_TREE]   # the strict throughput only

For every `.bicep` / `.bicepparam` file under the directories it reports:

- crashes (any exception out of `parse_bicep`: must be zero), files with parse issues;
- recall against an independent reference, a line scan with regular expressions that never
  looks at the reader's output:
  * top-level resource declarations: lines matching `^resource NAME 'TYPE'` at column 0; the
    reader recovers one when a top-level `Resource` of that name starts on that line with the same
    type string and a body that is not an `Error` node;
  * auth-relevant property lines: `KEY:` at the start of a line for the keys in AUTH_KEYS; the
    reader recovers one when a `Prop` with that key starts on that line, the key span covers the
    key as written and the value span starts at the first character after the colon (and, for a
    value on one line, ends where the line's code ends). Reference lines inside a statement the
    reader does not parse on purpose (`type` / `func` / `import` declarations: property *types*,
    not values), inside a multi-line string, or in a comment are counted and shown separately;
- reader throughput (MB/s over the total size, in one process, after one warm-up file: the sum of
  each file's best time, and the median of whole passes over every file, the strict figure) and the
  per-file time distribution (median, p90, p99, max);
- with --show N, up to N examples of every disagreement (path:line and the reason).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# --source DIR: the keyless package of another tree (e.g. `git archive main keyless | tar -x -C DIR`),
# to measure two builds with the same script
SOURCE = sys.argv[sys.argv.index("--source") + 1] if "--source" in sys.argv[:-1] else os.path.dirname(HERE)
sys.path.insert(0, SOURCE)

from keyless.linter.documents import LineIndex, decode  # noqa: E402
from keyless.linter.documents import bicep  # noqa: E402
from keyless.linter.documents.bicep import parse_bicep  # noqa: E402
from keyless.linter.documents import bicep_ast as A  # noqa: E402

AUTH_KEYS = (
    "allowSharedKeyAccess", "disableLocalAuth", "azureADOnlyAuthentication", "enableRbacAuthorization",
    "publicNetworkAccess", "roleDefinitionId", "identity", "adminUserEnabled", "authOptions",
    "disableLocalAccounts", "localAuthEnabled", "disableKeyBasedMetadataWriteAccess",
    "allowBlobPublicAccess", "principalId", "principalType", "userAssignedIdentities",
    "listKeys", "passwordSecretRef", "aadAuthEnabled", "disableLocalAuthentication",
)
_KEY_LINE = re.compile(r"^[ \t]*'?(" + "|".join(AUTH_KEYS) + r")'?[ \t]*:[ \t]*", re.M)
_RESOURCE_LINE = re.compile(r"^resource[ \t]+([A-Za-z_]\w*)[ \t]+'([^'\n]*)'", re.M)
_LINE_CODE_END = re.compile(r"[ \t]*(?://.*)?$")


def files_under(dirs: list[str]) -> list[str]:
    out = []
    for d in dirs:
        for root, subdirs, names in os.walk(d):
            subdirs[:] = sorted(s for s in subdirs if s not in (".git", "node_modules"))
            out.extend(os.path.join(root, n) for n in sorted(names) if n.endswith((".bicep", ".bicepparam")))
    return out


def walk(node, visit):
    """Every node below `node` (NamedTuples and tuples of them)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            if hasattr(n, "_fields"):
                visit(n)
            stack.extend(x for x in n if isinstance(x, tuple))


def block_lines(text: str, lines: LineIndex) -> set[int]:
    """1-based lines that start inside a block comment or a multi-line string (a coarse scan of
    its own: a key line inside one is text, not a property)."""
    out: set[int] = set()
    for m in _BLOCKS.finditer(text):
        first = lines.position(m.start()).line
        last = lines.position(m.end()).line
        out.update(range(first + 1, last + 1))
    return out


_BLOCKS = re.compile(r"/\*.*?\*/|'''.*?'''|//[^\n]*", re.S)


def measure(paths: list[str], show: int, runs: int = 3) -> dict:
    res = {
        "files": 0, "bytes": 0, "crashes": [], "with_issues": 0, "times": [],
        "res_ref": 0, "res_ok": 0, "res_excluded": 0, "res_miss": [],
        "prop_ref": 0, "prop_ok": 0, "prop_miss": [], "prop_excluded": {},
        "prop_extra": 0, "fast_differs": [],
    }
    texts = []
    for p in paths:
        with open(p, "rb") as fh:
            data = fh.read()
        try:
            text, _ = decode(data)
        except Exception:
            continue
        texts.append((p, text, len(data)))
    if texts:
        parse_bicep(texts[0][1])  # warm-up: loads the grammar
    # Speed: CPU time of this process per file (robust on a shared machine), best of `runs`; and
    # the strict figure, each whole pass over every file (the median of the passes is reported).
    best = [float("inf")] * len(texts)
    passes = []
    for _ in range(runs):
        start = time.process_time()
        for i, (p, text, size) in enumerate(texts):
            t0 = time.process_time()
            try:
                parse_bicep(text, p.endswith(".bicepparam"))
            except Exception:  # noqa: BLE001 - counted below
                pass
            best[i] = min(best[i], time.process_time() - t0)
        passes.append(time.process_time() - start)
    res["times"] = best
    res["passes"] = passes
    # Recall and crashes
    for p, text, size in texts:
        res["files"] += 1
        res["bytes"] += size
        try:
            prog = parse_bicep(text, p.endswith(".bicepparam"))
        except Exception as exc:  # noqa: BLE001 - counting crashes is the point
            res["crashes"].append(f"{p}: {type(exc).__name__}")
            continue
        if prog.errors:
            res["with_issues"] += 1
        check_file(p, text, prog, res)
        # The regex fast path must read exactly what the grammar reads.
        bicep.FAST_PATH = False
        try:
            if parse_bicep(text, p.endswith(".bicepparam")) != prog:
                res["fast_differs"].append(p)
        finally:
            bicep.FAST_PATH = True
    return res


def check_file(path: str, text: str, prog, res: dict) -> None:
    lines = LineIndex(text)

    def line_of(off: int) -> int:
        return lines.position(off).line

    # resources
    found = {}
    for st in prog.statements:
        if type(st) is A.Resource:
            found[line_of(st.name_span[0])] = st
    blocks = block_lines(text, lines) if "/*" in text or "'''" in text else set()
    for m in _RESOURCE_LINE.finditer(text):
        ln = line_of(m.start())
        if ln in blocks:
            res["res_excluded"] += 1
            continue
        res["res_ref"] += 1
        st = found.get(ln)
        if st is not None and st.name == m.group(1) and st.type_string == m.group(2) and type(st.body) is not A.Error:
            res["res_ok"] += 1
        else:
            why = "missing" if st is None else ("body is Error" if type(st.body) is A.Error else "mismatch")
            res["res_miss"].append(f"{path}:{ln}: {why}")

    # auth properties
    props: dict[tuple[int, str], A.Prop] = {}

    def visit(n):
        if type(n) is A.Prop and n.key in AUTH_KEYS:
            props[(line_of(n.key_span[0]), n.key)] = n

    walk(prog.statements, visit)
    excluded_spans = [st.span for st in prog.statements if type(st) is A.Other]
    for m in _KEY_LINE.finditer(text):
        key = m.group(1)
        ln = line_of(m.start(1))
        if any(a <= m.start(1) < b for a, b in excluded_spans):
            kw = next(st.keyword for st in prog.statements
                      if type(st) is A.Other and st.span[0] <= m.start(1) < st.span[1])
            res["prop_excluded"][f"inside `{kw}`"] = res["prop_excluded"].get(f"inside `{kw}`", 0) + 1
            continue
        if ln in blocks:
            why = "comment or multi-line string"
            res["prop_excluded"][why] = res["prop_excluded"].get(why, 0) + 1
            continue
        res["prop_ref"] += 1
        p = props.pop((ln, key), None)
        reason = None
        if p is None:
            reason = "missing"
        elif type(p.value) is A.Error:
            reason = "value is Error"
        else:
            ks, ke = p.key_span
            written = text[ks:ke].strip("'")
            vs, ve = p.value.span
            if written != key:
                reason = "key span"
            elif vs != m.end():
                reason = "value start"
            elif line_of(ve) == ln:
                code_end = lines.line_end(ln)
                tail = _LINE_CODE_END.search(text, ve, code_end)
                if tail is None or tail.start() != ve:
                    reason = "value end"
        if reason is None:
            res["prop_ok"] += 1
        else:
            res["prop_miss"].append(f"{path}:{ln}: {key}: {reason}")
    res["prop_extra"] += len(props)


# ---- differential check against the Bicep compiler's own syntax trees -------------------------------

# Azure/bicep's test baselines commit, next to each main.bicep, main.syntax.bicep: the source with
# the official parser's tree after every line (`//@[start:end) <tree>Kind`, offsets from the
# start of that line). Their expression nodes are compared with the reader's, by kind and span.
_DUMP_LINE = re.compile(r"^//@\[\s*(\d+):\s*(\d+)\) (.*?)([A-Za-z]+Syntax)$")
_THEIRS = {
    "ObjectPropertySyntax": "Prop", "ObjectSyntax": "Obj", "ArraySyntax": "Arr", "IntegerLiteralSyntax": "Num",
    "BooleanLiteralSyntax": "Bool", "NullLiteralSyntax": "Null", "VariableAccessSyntax": "Ref",
    "FunctionCallSyntax": "Call", "InstanceFunctionCallSyntax": "Call", "PropertyAccessSyntax": "Member",
    "ArrayAccessSyntax": "Index", "ResourceAccessSyntax": "Nested", "TernaryOperationSyntax": "Ternary",
    "BinaryOperationSyntax": "Binary", "UnaryOperationSyntax": "Unary", "NonNullAssertionSyntax": "Unary",
    "LambdaSyntax": "Lambda", "ForSyntax": "For", "IfConditionSyntax": "If", "SpreadExpressionSyntax": "Spread",
    "DecoratorSyntax": "Decorator", "StringSyntax": "Str",
}
# Top-level statements the reader keeps as `Other` (their insides are not read).
_SKIPPED_STATEMENTS = {
    "TypeDeclarationSyntax", "FunctionDeclarationSyntax", "CompileTimeImportDeclarationSyntax",
    "MetadataDeclarationSyntax", "TestDeclarationSyntax", "ExtensionDeclarationSyntax", "AssertDeclarationSyntax",
    "ImportDeclarationSyntax",
}


def compiler_nodes(source: str, dump: str) -> set:
    """{(kind, start, end)} of the compiler's expression nodes (outside statements kept as Other)."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\n", source)]

    def utf16(base: int, units: int) -> int:
        """The compiler counts UTF-16 code units from `base`; the reader code points."""
        i = base
        while units > 0 and i < len(source):
            units -= 2 if ord(source[i]) > 0xFFFF else 1
            i += 1
        return i

    line = -1
    out = set()
    skipping = False
    for raw in dump.splitlines():
        m = _DUMP_LINE.match(raw)
        if m is None:
            if not raw.startswith("//@"):
                line += 1
            continue
        col, end, tree, kind = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        depth = len(tree) // 2  # 0: the program, 1: a statement
        if depth <= 1:
            skipping = kind in _SKIPPED_STATEMENTS
        if depth == 0:
            continue
        if skipping:
            continue
        mine = _THEIRS.get(kind)
        if mine is None or line < 0:
            continue
        base = starts[min(line, len(starts) - 1)]
        out.add((mine, utf16(base, col), utf16(base, end)))
    return out


def reader_nodes(source: str, prog) -> set:
    """The reader's nodes in the compiler's terms (`-1` is a Unary there, a string is a StringSyntax)."""
    out = set()

    def visit(n):
        t = type(n).__name__
        if t in ("Str", "Interp"):
            out.add(("Str", *n.span))
        elif t == "Num" and source[n.span[0]] == "-":
            out.add(("Unary", *n.span))
            out.add(("Num", n.span[0] + 1, n.span[1]))
        elif t == "Unary" and n.op == "...":
            out.add(("Spread", *n.span))
        elif t == "Unary" and n.op == "^":
            pass  # part of the index in the compiler's tree
        elif t == "Prop" and n.spread:
            out.add(("Spread", *n.span))
        elif t == "Call" and n.namespace:
            out.add(("Call", *n.span))
            out.add(("Ref", n.span[0], n.span[0] + len(n.namespace)))
        elif t in ("Obj", "Arr", "Num", "Bool", "Null", "Ref", "Call", "Member", "Index", "Nested", "Ternary",
                   "Binary", "Unary", "Lambda", "For", "If", "Decorator", "Prop"):
            out.add((t, *n.span))
        if t == "Prop" and source.startswith("'", n.key_span[0]):  # a quoted key is a string there
            out.add(("Str", *n.key_span))
        if t == "Decorator":  # the compiler keeps the call inside the decorator
            out.add(("Call", n.span[0] + 1, n.span[1]))
            if source.startswith("sys.", n.span[0] + 1):
                out.add(("Ref", n.span[0] + 1, n.span[0] + 4))
        if t in ("Resource", "Module"):
            out.add(("Str", *(n.type_span if t == "Resource" else n.path_span)))

    walk(prog.statements, visit)
    return out


def compare_with_compiler(dirs: list[str], show: int) -> None:
    pairs = []
    for d in dirs:
        for root, _, names in os.walk(d):
            if "main.bicep" in names and "main.syntax.bicep" in names:
                pairs.append(os.path.join(root, "main.bicep"))
    total = agree = 0
    only_theirs: list = []
    only_mine: list = []
    for path in sorted(pairs):
        source, _ = decode(open(path, "rb").read())
        dump, _ = decode(open(path[:-len("main.bicep")] + "main.syntax.bicep", "rb").read())
        theirs = compiler_nodes(source, dump)
        mine = reader_nodes(source, parse_bicep(source))
        # Nodes inside statements the reader does not parse (types, functions) are not compared.
        total += len(theirs)
        agree += len(theirs & mine)
        lines = LineIndex(source)
        for kind, s, e in sorted(theirs - mine, key=lambda x: x[1]):
            only_theirs.append(f"{path}:{lines.position(s).line}: {kind} {source[s:e][:60]!r}")
        for kind, s, e in sorted(mine - theirs, key=lambda x: x[1]):
            only_mine.append(f"{path}:{lines.position(s).line}: {kind} {source[s:e][:60]!r}")
    print(f"== compiler syntax trees: {len(pairs)} files, {total} expression nodes")
    print(f"same kind and span: {agree} ({pct(agree, total)}); only in the compiler's tree: {len(only_theirs)}; "
          f"only in the reader's: {len(only_mine)}")
    for label, items in (("only the compiler", only_theirs), ("only the reader", only_mine)):
        for it in items[:show]:
            print(f"  {label}: {it}")


# ---- recovery: one broken statement never costs another -------------------------------------------

_BREAK = " = ]"  # a syntax error the grammar cannot absorb


def _shift(node, at: int, by: int):
    """`node` with every offset at or past `at` moved by `by` (spans are (start, end) pairs)."""
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        values = {}
        for f in node._fields:
            v = getattr(node, f)
            if f == "span" or f.endswith("_span"):
                values[f] = tuple(x + by if x >= at else x for x in v)
            else:
                values[f] = _shift(v, at, by)
        return type(node)(**values)
    if isinstance(node, tuple):
        return tuple(_shift(x, at, by) for x in node)
    return node


def mutation_recovery(dirs: list[str], show: int) -> None:
    """In every file, break one line inside one resource/module/var/output (append `= ]`), then
    compare with the intact file: every other statement must come out identical (offsets moved),
    and the broken statement must keep its auth-relevant entries."""
    import random
    import zlib

    files = crashes = others = others_same = inside = inside_kept = 0
    examples = []
    for path in files_under(dirs):
        text, _ = decode(open(path, "rb").read())
        clean = parse_bicep(text, path.endswith(".bicepparam"))
        targets = [st for st in clean.statements if type(st) in (A.Resource, A.Module, A.Var, A.Output)
                   and "\n" in text[st.span[0]:st.span[1]]]
        if not targets:
            continue
        r = random.Random(zlib.crc32(path.encode()))
        st = r.choice(targets)
        lines = LineIndex(text)
        first, last = lines.position(st.span[0]).line, lines.position(st.span[1]).line
        at = lines.line_end(r.randint(first, last - 1))
        broken = text[:at] + _BREAK + text[at:]
        files += 1
        try:
            prog = parse_bicep(broken, path.endswith(".bicepparam"))
        except Exception:  # noqa: BLE001
            crashes += 1
            continue
        got = {(type(s).__name__, getattr(s, "name", None), s.span[0]): s for s in prog.statements}
        for s in clean.statements:
            if s is st:
                continue
            others += 1
            moved = _shift(s, at, len(_BREAK))
            if got.get((type(s).__name__, getattr(s, "name", None), moved.span[0])) == moved:
                others_same += 1
            elif len(examples) < show:
                examples.append(f"{path}:{lines.position(s.span[0]).line}: {type(s).__name__} changed")
        # auth entries of the broken statement
        want, have = [], set()
        walk(st, lambda n: want.append(n) if type(n) is A.Prop and n.key in AUTH_KEYS else None)
        mine = next((s for s in prog.statements if getattr(s, "name", None) == st.name
                     and type(s) is type(st)), None)
        if mine is not None:
            walk(mine, lambda n: have.add((n.key, n.key_span, n.value.span)) if type(n) is A.Prop
                 and type(n.value) is not A.Error else None)
        for p in want:
            if p.key_span[0] <= at <= p.span[1]:
                continue  # the break is inside this entry or right after it: it cannot be read
            inside += 1
            moved = _shift(p, at, len(_BREAK))
            if (moved.key, moved.key_span, moved.value.span) in have:
                inside_kept += 1
    print(f"== recovery: {files} files, one line broken in each; crashes {crashes}")
    print(f"other statements read exactly as without the break: {others_same} / {others} ({pct(others_same, others)})")
    print(f"auth-relevant entries of the broken statement still read: {inside_kept} / {inside} "
          f"({pct(inside_kept, inside)})")
    for e in examples:
        print(f"  {e}")


# ---- secrets: kind "bicep" finds what plain text found -----------------------------------------------

def planted(path: str, text: str) -> str:
    """The text with synthetic secrets (bench/gen.py's shapes, seeded by the path) planted in
    Bicep forms at a few line starts: a var, an object entry, a comment, a secure param, an
    interpolation (some plantings break the syntax on purpose: recovery must not change secrets)."""
    import random
    import zlib

    sys.path.insert(0, HERE)
    from gen import secret_line

    r = random.Random(zlib.crc32(path.encode()))
    lines = text.split("\n")
    for n in range(3):
        _, line = secret_line(r, "python")
        var, value = line.split(" = ", 1)
        value = value.strip('"')
        forms = [f"var planted{n} = '{value}'", f"  {var.lower()}: '{value}'", f"// {value}",
                 f"@secure()\nparam planted{n} string = '{value}'", f"var planted{n} = '${{prefix}}{value}'"]
        lines.insert(r.randrange(len(lines) + 1), r.choice(forms))
    return "\n".join(lines)


def compare_secrets(dirs: list[str], show: int, plant: bool = False) -> None:
    """KL1xx findings (secret scanning, KL190/KL191 suppression checks) on every file read as kind
    `bicep` and, as before this kind existed, as plain text: they must be identical."""
    from keyless.linter.documents import make_document
    from keyless.linter.engine import Settings, finish, lint_document, resolve_selection
    from keyless.linter.rule import load_registry

    registry = load_registry()
    codes = sorted(c.code for c in registry if c.code.startswith("KL1"))
    settings = Settings(root=os.path.abspath(dirs[0]), select=resolve_selection(registry, codes))
    files = findings = 0
    differ = []
    for path in files_under(dirs):
        text, _ = decode(open(path, "rb").read())
        rel = os.path.relpath(path, dirs[0])
        if plant:
            text = planted(rel, text)
        got = {}
        for kind in ("text", None):
            doc = make_document(path, rel, text, kind=kind)
            res = finish([lint_document(doc, settings)], settings)
            got[kind] = sorted((f.code, str(f.span), f.fingerprint) for f in res.findings)
        files += 1
        findings += len(got["text"])
        if got["text"] != got[None]:
            differ.append(rel)
    print(f"== secrets{' (planted)' if plant else ''}: {files} files, {findings} KL1xx findings as plain text; "
          f"files whose findings differ "
          f"as kind bicep: {len(differ)}")
    for rel in differ[:show]:
        print(f"  {rel}")


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.2f} %" if b else "n/a"


def report(name: str, res: dict, show: int) -> None:
    times = sorted(res["times"])
    total = sum(times)
    mb = res["bytes"] / 1e6
    print(f"== {name}")
    print(f"files {res['files']}  size {mb:.2f} MB  crashes {len(res['crashes'])}  "
          f"files with parse issues {res['with_issues']} ({pct(res['with_issues'], res['files'])})")
    if times:
        q = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else [times[0]] * 99
        print(f"reader CPU time (best of runs) {total:.2f} s = {mb / total:.1f} MB/s; "
              f"per file median {statistics.median(times) * 1e3:.2f} ms, "
              f"p90 {q[89] * 1e3:.2f} ms, p99 {q[98] * 1e3:.2f} ms, max {times[-1] * 1e3:.1f} ms")
        passes = res["passes"]
        print(f"reader CPU time of a whole pass (median of {len(passes)}) {statistics.median(passes):.2f} s = "
              f"{mb / statistics.median(passes):.1f} MB/s; passes {', '.join(f'{p:.2f}' for p in passes)} s")
    print(f"fast path and grammar read the same tree: {res['files'] - len(res['fast_differs'])} / {res['files']} files")
    print(f"top-level resource declarations: {res['res_ok']} / {res['res_ref']} recovered "
          f"({pct(res['res_ok'], res['res_ref'])})")
    if res["res_excluded"]:
        print(f"  reference lines not counted: {res['res_excluded']} in a block comment or multi-line string")
    print(f"auth-relevant property lines: {res['prop_ok']} / {res['prop_ref']} recovered with key and value span "
          f"({pct(res['prop_ok'], res['prop_ref'])})")
    for why, n in sorted(res["prop_excluded"].items()):
        print(f"  reference lines not counted: {n} {why} (property types or text, not values)")
    print(f"  reader-only auth properties (not at a line start, e.g. `{{ identity: x }}` on one line): "
          f"{res['prop_extra']}")
    for label, items in (("crash", res["crashes"]), ("resource", res["res_miss"]), ("property", res["prop_miss"]),
                         ("fast path", res["fast_differs"])):
        if items:
            print(f"  {label} disagreements: {len(items)}")
            for it in items[:show]:
                print(f"    {it}")


def strict_speed(paths: list[str], runs: int) -> None:
    """Whole passes of `parse_bicep` over every file in this process (after a warm-up file), CPU."""
    texts = []
    size = 0
    for p in paths:
        with open(p, "rb") as fh:
            data = fh.read()
        texts.append((decode(data)[0], p.endswith(".bicepparam")))
        size += len(data)
    parse_bicep(texts[0][0])
    passes = []
    for _ in range(runs):
        start = time.process_time()
        for text, bicepparam in texts:
            parse_bicep(text, bicepparam)
        passes.append(time.process_time() - start)
    print(f"{SOURCE}: {len(texts)} files {size / 1e6:.2f} MB; CPU per pass "
          f"{', '.join(f'{t:.3f}' for t in passes)} s; median {statistics.median(passes):.3f} s = "
          f"{size / 1e6 / statistics.median(passes):.2f} MB/s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--show", type=int, default=10, help="examples of each disagreement to print")
    ap.add_argument("--profile", action="store_true", help="cProfile the run (top 25 by cumulative time)")
    ap.add_argument("--secrets", action="store_true",
                    help="compare KL1xx findings of every file read as kind bicep and as plain text")
    ap.add_argument("--mutate", action="store_true",
                    help="break one line per file and measure what the rest of the file keeps")
    ap.add_argument("--plant", action="store_true", help="with --secrets: plant synthetic secrets first")
    ap.add_argument("--compiler-trees", action="store_true",
                    help="compare with the Bicep compiler's syntax trees (main.syntax.bicep next to main.bicep)")
    ap.add_argument("--speed", type=int, metavar="RUNS",
                    help="only the strict throughput: RUNS whole passes over every file in this process")
    ap.add_argument("--source", help="read keyless from this tree instead of the one holding this script")
    args = ap.parse_args(argv)
    if args.speed:
        strict_speed(files_under(args.dirs), args.speed)
        return 0
    if args.compiler_trees:
        compare_with_compiler(args.dirs, args.show)
        return 0
    if args.mutate:
        mutation_recovery(args.dirs, args.show)
        return 0
    if args.secrets:
        compare_secrets(args.dirs, args.show, args.plant)
        return 0
    if args.profile:
        import cProfile
        import pstats

        paths = files_under(args.dirs)
        cProfile.runctx("measure(paths, 0)", globals(), {"paths": paths, "measure": measure}, "/tmp/bicep_reader.prof")
        pstats.Stats("/tmp/bicep_reader.prof").sort_stats("cumulative").print_stats(25)
        return 0
    total = None
    for d in args.dirs:
        res = measure(files_under([d]), args.show)
        report(d, res, args.show)
        if total is None:
            total = res
        else:
            for k, v in res.items():
                if isinstance(v, dict):
                    for kk, vv in v.items():
                        total[k][kk] = total[k].get(kk, 0) + vv
                else:
                    total[k] = total[k] + v
    if len(args.dirs) > 1 and total is not None:
        report("all", total, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
