#!/usr/bin/env python3
"""Validate keyless's SARIF with Microsoft's SARIF multitool, as GitHub and Azure DevOps read it.

    python bench/sarif_multitool.py [--multitool PATH] [DIR ...]   (default DIR: fixtures)

An optional CI check (not a Python dependency; nothing here runs in the normal test suite unless
KEYLESS_SARIF_MULTITOOL names the binary, see tests/test_report_conformance.py). Setup, offline
once installed:

    npm install --no-save @microsoft/sarif-multitool          # 5.7.0: a ~96 MB self-contained binary
    chmod u+x node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool   # -darwin / -win32 alike

npm 11 does not run the package's own `postinstall: chmod u+x` until install scripts are approved,
hence the chmod. Call the platform binary itself, not `npx sarif-multitool`: its `bin.js` starts
the binary through a shell, which splits `--rule-kind "Sarif;Gh"` at the `;` (only `Sarif` runs,
and the shell tries to run `Gh`).

keyless runs twice in each PATH (as a CI job runs it in its checkout): as installed, and with a stand-in repository URL (as a
`pip install git+https://...` install records it), so both the link-less and the linked SARIF are
checked. The check fails on any multitool error or warning, except SARIF2005 (no
`informationUri`) when keyless does not know its repository URL. Notes are listed with why
keyless does not follow them.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Multitool notes keyless does not follow, and why.
BY_DESIGN = {
    "SARIF2002": "message.text rather than message ids and arguments: each message is specific to its finding",
    "SARIF2003": "no versionControlProvenance: keyless reads files, not the repository's history",
    "SARIF2006": "URIs not reachable: the check runs offline",
    "SARIF2009": "rule ids KL401-critical: a finding rated other than its rule's default has its own "
                 "descriptor, because GitHub reads security-severity from the rule only",
    "SARIF2010": "no code snippets: a report never carries source text (it may hold a secret)",
    "SARIF2011": "no context regions: same reason",
    "SARIF2012": "kebab-case rule names as ruff writes them; no helpUri when the repository URL is unknown",
}
STAND_IN = ("https://example.invalid/keyless", "0123456789abcdef0123456789abcdef01234567")


def find_multitool(explicit: str | None) -> str | None:
    candidates = [explicit, os.environ.get("KEYLESS_SARIF_MULTITOOL"), shutil.which("Sarif.Multitool")]
    candidates += glob.glob(os.path.join(ROOT, "node_modules", "@microsoft", "sarif-multitool-*", "Sarif.Multitool*"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def keyless_sarif(path: str, out: str, stand_in: bool) -> int:
    """Run the real CLI in `path` (as a CI job runs it in its checkout), optionally with a stand-in
    repository URL, and write its SARIF to `out`."""
    patch = (f"import keyless.linter.report._common as c; c.project_source = lambda: {STAND_IN!r}; "
             if stand_in else "")
    code = patch + "import sys; from keyless.cli import main; sys.exit(main())"
    proc = subprocess.run([sys.executable, "-c", code, "check", "--no-cache", "--exit-zero", "-q",
                           "--output-format", "sarif", "-o", out, "."], cwd=os.path.join(ROOT, path),
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return proc.returncode


def validate(multitool: str, sarif: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "validation.sarif")
        proc = subprocess.run([multitool, "validate", sarif, "--rule-kind", "Sarif;Gh", "--level",
                               "Error;Warning;Note", "-o", log, "--log", "ForceOverwrite"],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.exists(log):
            raise SystemExit(f"multitool failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        with open(log, encoding="utf-8") as fh:
            return json.load(fh)["runs"][0].get("results", [])


def check(multitool: str, path: str, stand_in: bool) -> list[str]:
    """Problems (errors and warnings not allowed), after printing a summary."""
    with tempfile.TemporaryDirectory() as tmp:
        sarif = os.path.join(tmp, "keyless.sarif")
        if keyless_sarif(path, sarif, stand_in) != 0:
            return [f"{path}: keyless failed"]
        with open(sarif, encoding="utf-8") as fh:
            doc = json.load(fh)
        linked = "informationUri" in doc["runs"][0]["tool"]["driver"]
        results = validate(multitool, sarif)
    label = f"{path}: " + ("with a repository URL" if stand_in else
                           "as installed" + ("" if linked else " (no repository URL)"))
    counts = Counter((r["ruleId"], r.get("level", "warning")) for r in results)
    print(f"keyless {label}: {len(doc['runs'][0]['results'])} results, "
          f"{len(doc['runs'][0]['tool']['driver']['rules'])} rule descriptors")
    problems = []
    for (rule, level), n in sorted(counts.items()):
        allowed = level == "note" or (rule == "SARIF2005" and not linked)
        why = BY_DESIGN.get(rule, "informationUri needs the repository URL" if rule == "SARIF2005" else "")
        print(f"  {level:<7} {rule} x{n}{'  (' + why + ')' if why else ''}")
        if not allowed:
            problems.append(f"{label}: {level} {rule} x{n}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=["fixtures"])
    parser.add_argument("--multitool", help="path to Sarif.Multitool (else $KEYLESS_SARIF_MULTITOOL, PATH, "
                                            "./node_modules)")
    args = parser.parse_args()
    multitool = find_multitool(args.multitool)
    if multitool is None:
        print("Sarif.Multitool not found (see this script's docstring for the npm install and chmod)",
              file=sys.stderr)
        return 2
    problems = [p for path in args.paths for stand_in in (False, True) for p in check(multitool, path, stand_in)]
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
