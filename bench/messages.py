#!/usr/bin/env python3
"""How long are keyless's messages? Measures every finding the fixtures and the demo produce.

    python bench/messages.py [--per-rule] [--json]
    python bench/messages.py --corpus DIR [DIR ...] [--source TREE]

- Fixtures: every file under fixtures/KLxxx/ is linted alone with every rule (as
  tests/test_fixtures.py does, but with all rules on), every fixtures/KLxxx/project*/ directory
  as one repository.
- Demo: `keyless check fixtures/demo` (text output, run from the repository root), its output
  lines, and the same run's findings.

Reports the median, 90th percentile and maximum length (characters) of finding messages, of help
(fix) messages, and of the demo's text output lines; `--per-rule` adds one row per rule code. The
limits the tests enforce are in keyless/linter/messages.py (docs/architecture.md, "Messages").

`--corpus` measures `keyless check DIR --output-format json` on real repositories instead (one run
per directory, e.g. trees extracted under /tmp/corpus); `--source TREE` runs the keyless of another
source tree (an extracted `git archive main`, for before/after numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
sys.path.insert(0, ROOT)


def fixture_findings():
    from keyless.linter.config import Config
    from keyless.linter.documents import decode
    from keyless.linter.engine import Settings, lint_paths, lint_source, resolve_selection
    from keyless.linter.rule import load_registry

    registry = load_registry()
    every = resolve_selection(registry, ["ALL"])
    out = []
    for code in sorted(os.listdir(FIXTURES)):
        d = os.path.join(FIXTURES, code)
        if not re.fullmatch(r"KL\d{3}", code) or not os.path.isdir(d):
            continue
        for root, dirs, files in os.walk(d):
            projects = [x for x in dirs if x.startswith("project")]
            dirs[:] = [x for x in dirs if not x.startswith("project")]
            for name in sorted(files):
                if name.endswith(".expect"):
                    continue
                path = os.path.join(root, name)
                text, _ = decode(open(path, "rb").read())
                rel = os.path.relpath(path, FIXTURES).replace(os.sep, "/")
                out += lint_source(text, rel, select=["ALL"])
            for p in sorted(projects):
                project = os.path.join(root, p)
                settings = Settings(root=project, select=every)
                out += lint_paths([project], Config(root=project), settings, excludes=[], jobs=1).findings
    return out


def demo_run():
    env = dict(os.environ, NO_COLOR="1", KEYLESS_CACHE_DIR=os.environ.get("KEYLESS_CACHE_DIR", "/tmp/keyless-bench-cache"))
    cmd = [sys.executable, "-m", "keyless", "check", "--no-cache", "fixtures/demo"]
    text = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True).stdout
    data = subprocess.run(cmd + ["--output-format", "json"], cwd=ROOT, env=env,
                          capture_output=True, text=True).stdout
    return text.splitlines()[:-1], json.loads(data)["findings"]  # without the summary line


def corpus_findings(dirs, source):
    env = dict(os.environ, PYTHONPATH=source, KEYLESS_CACHE_DIR=os.environ.get("KEYLESS_CACHE_DIR", "/tmp/keyless-bench-cache"))
    out = []
    for d in dirs:
        cmd = [sys.executable, "-m", "keyless", "check", "--no-cache", "--exit-zero", "--output-format", "json", d]
        res = subprocess.run(cmd, cwd=d, env=env, capture_output=True, text=True)
        try:
            out += json.loads(res.stdout)["findings"]
        except ValueError:
            print(f"{d}: no report ({res.stderr.strip()[-200:]})", file=sys.stderr)
    return out


def dist(values):
    values = sorted(values)
    if not values:
        return {"n": 0, "median": 0, "p90": 0, "max": 0}
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return {"n": len(values), "median": statistics.median(values), "p90": p90, "max": values[-1]}


def row(label, d):
    return f"{label:<28} {d['n']:>5} {d['median']:>7} {d['p90']:>5} {d['max']:>5}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-rule", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--corpus", nargs="+", metavar="DIR", help="measure these repositories instead")
    ap.add_argument("--source", default=ROOT, help="the keyless source tree to run (with --corpus)")
    args = ap.parse_args()

    if args.corpus:
        found = corpus_findings(args.corpus, os.path.abspath(args.source))
        result = {
            "corpus message": dist(len(f["message"]) for f in found),
            "corpus help": dist(len(f["fix"]["message"]) for f in found if f.get("fix")),
        }
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print(f"{'':<28} {'n':>5} {'median':>7} {'p90':>5} {'max':>5}")
            for label, d in result.items():
                print(row(label, d))
        return 0

    findings = fixture_findings()
    lines, demo = demo_run()
    result = {
        "fixtures message": dist(len(f.message) for f in findings),
        "fixtures help": dist(len(f.fix.message) for f in findings if f.fix is not None),
        "demo message": dist(len(f["message"]) for f in demo),
        "demo help": dist(len(f["fix"]["message"]) for f in demo if f.get("fix")),
        "demo output line": dist(len(ln) for ln in lines),
        "demo finding line": dist(len(ln) for ln in lines if not ln.startswith("  ")),
    }
    per_rule = {}
    if args.per_rule:
        for code in sorted({f.code for f in findings}):
            mine = [f for f in findings if f.code == code]
            per_rule[code] = {
                "message": dist(len(f.message) for f in mine),
                "help": dist(len(f.fix.message) for f in mine if f.fix is not None),
            }
    if args.json:
        print(json.dumps({"totals": result, "per_rule": per_rule}, indent=2))
        return 0
    print(f"{'':<28} {'n':>5} {'median':>7} {'p90':>5} {'max':>5}")
    for label, d in result.items():
        print(row(label, d))
    if per_rule:
        print()
        print(f"{'rule':<28} {'n':>5} {'median':>7} {'p90':>5} {'max':>5}")
        for code, d in per_rule.items():
            print(row(code + " message", d["message"]))
            if d["help"]["n"]:
                print(row(code + " help", d["help"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
