#!/usr/bin/env python3
"""Measure `keyless check --fix --unsafe-fixes` on real Python code: does every rewrite still compile,
and does it add pyflakes warnings?

    python bench/fixes.py SRC_DIR WORK_DIR [--keyless CMD]

SRC_DIR holds one directory per repository (e.g. trees extracted from fetched Azure samples).
Each repository's `.py` files (with --notebooks also each notebook's code cells, as one module) are
copied to WORK_DIR/<repo>/ (with an empty keyless.toml pinning the project root there), keyless
fixes them in place, and every changed file is checked:

- `compile()` of the new text (what `python -m py_compile` does),
- pyflakes on the old and the new text: a warning counts as new when its kind and names (not its
  line) were not there before (pyflakes must be installed in the environment running this script;
  it is only a measuring instrument, not a keyless dependency).

Prints the totals, the fixes keyless applied and the fixes it dropped (its stderr notes), and one line
per new problem. Nothing here is committed besides this script.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys


def notebook_source(path: str) -> str | None:
    """A notebook's code cells as one module (IPython `%magic` / `!shell` lines commented out)."""
    try:
        with open(path, encoding="utf-8") as fh:
            nb = json.load(fh)
    except (OSError, ValueError, UnicodeError):
        return None
    out = []
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = ["# " + ln if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines()]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n" if out else None


def copy_python(src: str, dst: str, notebooks: bool) -> int:
    n = 0
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            s = os.path.join(dirpath, name)
            if os.path.islink(s) or not os.path.isfile(s):
                continue
            d = os.path.join(dst, os.path.relpath(s, src))
            if name.endswith(".py"):
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copyfile(s, d)
            elif notebooks and name.endswith(".ipynb"):
                text = notebook_source(s)
                if text is None:
                    continue
                d = d[: -len(".ipynb")] + ".ipynb.py"
                os.makedirs(os.path.dirname(d), exist_ok=True)
                with open(d, "w", encoding="utf-8") as fh:
                    fh.write(text)
            else:
                continue
            n += 1
    with open(os.path.join(dst, "keyless.toml"), "w") as fh:
        fh.write("")
    return n


def pyflakes_messages(text: str, name: str) -> collections.Counter:
    from pyflakes import checker

    import ast

    try:
        tree = ast.parse(text, name)
    except SyntaxError:
        return collections.Counter({("syntax-error",): 1})
    w = checker.Checker(tree, filename=name)
    # line numbers in a message (RedefinedWhileUnused's first definition) move with any edit
    return collections.Counter((type(m).__name__, *(str(a) for a in m.message_args if not isinstance(a, int)))
                               for m in w.messages)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("work")
    ap.add_argument("--keyless", default=f"{sys.executable} -m keyless")
    ap.add_argument("--notebooks", action="store_true", help="also measure notebooks' code cells (as .py)")
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    totals = collections.Counter()
    problems: list[str] = []
    dropped = collections.Counter()
    applied = collections.Counter()
    for repo in sorted(os.listdir(args.src)):
        src = os.path.join(args.src, repo)
        if not os.path.isdir(src):
            continue
        work = os.path.join(args.work, repo)
        os.makedirs(work)
        totals["python files"] += copy_python(src, work, args.notebooks)
        before = {}
        for dirpath, _, filenames in os.walk(work):
            for name in filenames:
                if name.endswith(".py"):
                    p = os.path.join(dirpath, name)
                    with open(p, "rb") as fh:
                        before[p] = fh.read()
        cmd = args.keyless.split() + ["check", "--fix", "--unsafe-fixes", "--no-cache", "--exit-zero",
                                      "--output-format", "json", "--no-progress", "."]
        r = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        try:
            summary = json.loads(r.stdout)["summary"]
            totals["findings fixed"] += summary.get("fixed", 0)
        except (ValueError, KeyError):
            problems.append(f"{repo}: keyless output is not JSON (exit {r.returncode}): {r.stderr[-300:]}")
        for line in r.stderr.splitlines():
            m = re.search(r": (KL\d+) fix (?:not applied|dropped): (.*)$", line)
            if m:
                dropped[(m.group(1), m.group(2))] += 1
        for p, old in before.items():
            with open(p, "rb") as fh:
                new = fh.read()
            if new == old:
                continue
            totals["files changed"] += 1
            rel = os.path.relpath(p, args.work)
            new_text = new.decode("utf-8", "surrogateescape")
            old_text = old.decode("utf-8", "surrogateescape")
            if b"\r\n" in old and re.search(rb"(?<!\r)\n", new) and not re.search(rb"(?<!\r)\n", old):
                problems.append(f"{rel}: LF line endings in a CRLF file")
                totals["files with mixed newlines"] += 1
            try:
                compile(new_text, rel, "exec", dont_inherit=True)
            except SyntaxError as exc:
                totals["files that no longer compile"] += 1
                problems.append(f"{rel}:{exc.lineno}: does not compile: {exc.msg}")
                continue
            added = pyflakes_messages(new_text, rel) - pyflakes_messages(old_text, rel)
            if added:
                totals["files with new pyflakes warnings"] += 1
                totals["new pyflakes warnings"] += sum(added.values())
                for (kind, *names), n in sorted(added.items()):
                    applied[kind] += n
                    problems.append(f"{rel}: new {kind} {' '.join(names)}" + (f" (x{n})" if n > 1 else ""))
    for k in ("python files", "files changed", "findings fixed", "files that no longer compile",
              "files with new pyflakes warnings", "new pyflakes warnings", "files with mixed newlines"):
        print(f"{k:>34}: {totals[k]}")
    if applied:
        print("new pyflakes warnings by kind: " + ", ".join(f"{k} {n}" for k, n in applied.most_common()))
    if dropped:
        print("fixes dropped by verification:")
        for (code, why), n in dropped.most_common():
            print(f"  {n:>4}  {code}  {why}")
    for p in problems:
        print("  " + p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
