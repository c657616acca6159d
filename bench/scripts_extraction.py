#!/usr/bin/env python3
"""How many `az` commands keyless's script reader finds, against a reference count.

    python bench/scripts_extraction.py DIR [DIR ...] [--show N]

For every shell/PowerShell file, Dockerfile, Makefile and CI workflow under the directories, the
az commands keyless reads (tree-sitter-bash / tree-sitter-powershell, through the same hosts the
linter uses: YAML step scalars, Dockerfile RUN, Makefile recipes) are compared with a reference
pass written independently of it: continuation lines joined (`\\` or a backtick), then each
logical line tokenised with the standard library's shlex (comments dropped, `;`, `&`, `|`, `(`
and `)` as separators), counting `az` in command position plus `$(az ` / `` `az `` inside words.
Files where the two disagree are listed with both counts, for reading by hand. Stdlib + keyless.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from keyless.linter.documents import classify, decode, make_document  # noqa: E402

COMMAND_START = {";", "&&", "||", "|", "&", "(", "((", "then", "do", "else", "elif", "if", "while", "until", "!",
                 "{", "`", "time", "exec", "-and", "-or", "&("}
INNER = re.compile(r"(?:\$\(|`)\s*az\s")


def reference_count(text: str, language: str) -> int:
    """az commands by joined lines + shlex (an independent, simpler reading)."""
    cont = "`" if language == "pwsh" else "\\"
    lines: list[str] = []
    buf = ""
    for raw in text.splitlines():
        if raw.rstrip().endswith(cont):
            buf += raw.rstrip()[:-1] + " "
            continue
        lines.append(buf + raw)
        buf = ""
    if buf:
        lines.append(buf)
    count = 0
    for line in lines:
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lex.commenters = "#"
        lex.whitespace_split = True
        if language == "pwsh":
            lex.escape = ""
        try:
            tokens = list(lex)
        except ValueError:  # unbalanced quotes: fall back to whitespace words
            tokens = line.split("#", 1)[0].split()
        prev = None
        for tok in tokens:
            if tok == "az" and (prev is None or prev in COMMAND_START or prev.endswith("=(")
                                or re.fullmatch(r"[A-Za-z_]\w*=", prev or "") or prev == "$"
                                or (language == "pwsh" and prev in ("=", "+=", "&", "-and", "-or"))):
                count += 1
            elif INNER.search(tok + " "):
                count += len(INNER.findall(tok + " "))
            prev = tok
    return count


def keyless_scripts(path: str, relpath: str, text: str):
    """The scripts keyless reads in a file (empty for files that hold none)."""
    doc = make_document(path, relpath, text)
    if doc.kind in ("shell", "powershell", "dockerfile", "makefile"):
        return doc.scripts()
    if doc.kind != "yaml" or not doc.ensure_parsed():
        return []
    from keyless.rules.iac import ci
    from keyless.rules.iac.common import Emitter

    em = Emitter(doc)
    out = []
    for i, d in enumerate(doc.values):
        flavor = ci.ci_flavor(relpath, d) if isinstance(d, dict) else None
        if flavor == "github":
            for job_path, job in ci._gh_jobs(d):
                shell = ci._gh_default_shell(d, job)
                for step_path, step in ci._steps(job.get("steps"), (i,) + job_path + ("steps",)):
                    out += ci._gh_scripts(em, step, step_path, shell)
        elif flavor == "azure":
            for step_path, step in ci._ado_steps(d, (i,)):
                out += ci._ado_scripts(em, step, step_path)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--show", type=int, default=40, help="disagreements to list")
    args = ap.parse_args(argv)
    totals = {"files": 0, "with_az": 0, "keyless": 0, "reference": 0, "disagree": 0, "bytes": 0, "positions_bad": 0}
    by_kind: dict[str, list[int]] = {}
    rows = []
    elapsed = 0.0
    parsed_bytes = [0]
    for top in args.dirs:
        for root, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in (".git", "node_modules", ".venv")]
            for name in sorted(files):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, top)
                kind = classify(rel)
                if kind not in ("shell", "powershell", "dockerfile", "makefile", "yaml"):
                    continue
                try:
                    text, _ = decode(open(path, "rb").read())
                except Exception:
                    continue
                scripts = keyless_scripts(path, rel, text)
                found = 0
                ref = 0
                for s in scripts:
                    t0 = time.perf_counter()
                    cmds = [c for c in s.commands if c.name == "az"]
                    for c in cmds:
                        c.words
                    elapsed += time.perf_counter() - t0
                    parsed_bytes[0] += len(s.text)
                    found += len(cmds)
                    for c in cmds:
                        if text[c.words[0].start:c.words[0].end] not in ("az", '"az"', "'az'"):
                            totals["positions_bad"] += 1
                    ref += reference_count(s.text, s.language) if s.text else len(cmds)
                if not scripts:
                    continue
                totals["files"] += 1
                totals["bytes"] += len(text)
                if found or ref:
                    totals["with_az"] += 1
                totals["keyless"] += found
                totals["reference"] += ref
                k = by_kind.setdefault(kind if kind != "yaml" else "ci-yaml", [0, 0, 0, 0])
                k[0] += 1
                k[1] += bool(found or ref)
                k[2] += found
                k[3] += ref
                if found != ref:
                    totals["disagree"] += 1
                    rows.append((rel, found, ref))
    print(f"files with scripts: {totals['files']}  with az: {totals['with_az']}  "
          f"az commands: keyless {totals['keyless']}, reference {totals['reference']}  "
          f"files disagreeing: {totals['disagree']}  az word not at its position: {totals['positions_bad']}")
    for kind, (n, withaz, k, r) in sorted(by_kind.items()):
        print(f"  {kind:<11} files {n:>4}  with az {withaz:>4}  keyless {k:>5}  reference {r:>5}")
    print(f"script reading (tree-sitter parse + commands + az words): {elapsed:.2f} s for "
          f"{parsed_bytes[0] / 1e6:.2f} MB of script text ({parsed_bytes[0] / 1e6 / max(elapsed, 1e-9):.1f} MB/s)")
    for rel, found, ref in rows[: args.show]:
        print(f"  {rel}: keyless {found}, reference {ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
