#!/usr/bin/env python3
"""Differential test of the Bicep front end against the Bicep compiler's own output.

Azure/bicep-registry-modules commits, for every module, its `main.bicep` and the `main.json` the
Bicep compiler built from it. keyless reads both; this script compares them per module:

1. findings: one keyless scan of the whole tree; for module X, the rule codes reported on
   X/main.json against the rule codes reported on the Bicep files X/main.bicep deploys (itself and
   every local module it reaches). A module agrees when the two sets are equal. A code reported
   only on the Bicep side is a Bicep-only finding (the target is none).
2. facts (stricter): the ARM extractor over X/main.json, and over the ARM-shaped view of
   X/main.bicep with every local module inlined as the compiler does (no module
   de-duplication), compared as multisets of what the rules decide from: deployed apps (kind,
   identity state, identity count, AZURE_CLIENT_ID known/absent, key-auth sources), role
   assignments (role, scope) and per-file issues (rule code).

    python bench/bicep_differential.py /tmp/corpus/bicep-registry-modules [--out result.json]

Nothing is fetched: the tree must already be on disk (a checkout or `git archive` of the repo).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def module_dirs(root: str) -> list[str]:
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x not in ("tests", "node_modules"))
        if "main.bicep" in files and "main.json" in files:
            out.append(os.path.relpath(d, root).replace(os.sep, "/"))
    return out


def scan(root: str) -> list[dict]:
    """One keyless scan of the tree (JSON output), IaC rule families only."""
    out = subprocess.run([sys.executable, "-m", "keyless", "check", "--no-cache", "--exit-zero", "-q",
                          "--select", "KL2,KL3,KL4,KL5", "--output-format", "json", "."],
                         cwd=root, capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit(f"keyless failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout)["findings"]


def closure(ws, relpath: str, seen: set[str] | None = None) -> set[str]:
    """The Bicep files `relpath` deploys: itself and its local modules, transitively."""
    from keyless.linter.documents import bicep_ast as A
    from keyless.rules.iac.bicep import module_relpath

    seen = seen if seen is not None else set()
    if relpath in seen:
        return seen
    seen.add(relpath)
    doc = ws.load(relpath)
    if doc is None or doc.kind != "bicep" or not doc.ensure_parsed():
        return seen
    for s in doc.program.statements:
        if isinstance(s, A.Module):
            target = module_relpath(relpath, s.path)
            if target is not None:
                closure(ws, target, seen)
    return seen


def signature(facts) -> collections.Counter:
    c: collections.Counter = collections.Counter()
    for f in facts:
        d = f.data
        if f.kind == "iac.issue":
            c[("issue", d["code"])] += 1
        elif f.kind == "iac.role":
            c[("role", d["role"], d["scope"])] += 1
        elif f.kind == "iac.app":
            c[("app", d["kind"], d["identity_state"], d["identity_count"], d["client_id_env"],
               tuple(sorted(set(d.get("key_auth") or ()))))] += 1
    return c


def inline_facts(doc):
    """The ARM extractor over a Bicep file's view with its modules inlined (one plain emitter)."""
    from keyless.rules.iac.arm import ArmExtractor, deployment_scope
    from keyless.rules.iac.bicep import translate
    from keyless.rules.iac.common import Emitter

    view = translate(doc)
    em = Emitter(view)
    root = view.values[0]
    scope = deployment_scope(root.get("$schema"), "resourceGroup")
    ArmExtractor(em).template(root, (0,), None, scope, scope_is_default=True)
    return em.facts


def json_facts(doc):
    from keyless.rules.iac.arm import ArmExtractor, deployment_scope
    from keyless.rules.iac.common import Emitter

    em = Emitter(doc)
    root = doc.values[0]
    scope = deployment_scope(root.get("$schema"), "resourceGroup")
    ArmExtractor(em).template(root, (0,), None, scope, scope_is_default=True)
    return em.facts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--out")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    from keyless.linter.workspace import Workspace

    mods = module_dirs(root)
    t0 = time.perf_counter()
    findings = scan(root)
    scan_s = time.perf_counter() - t0
    by_file: dict[str, set[str]] = collections.defaultdict(set)
    for f in findings:
        by_file[f["path"]].add(f["code"])
    ws = Workspace(root)
    rows = []
    for m in mods:
        main_bicep = f"{m}/main.bicep" if m != "." else "main.bicep"
        main_json = f"{m}/main.json" if m != "." else "main.json"
        files = closure(ws, main_bicep)
        bicep_codes = set().union(*(by_file.get(p, set()) for p in files))
        json_codes = by_file.get(main_json, set())
        jdoc, bdoc = ws.load(main_json), ws.load(main_bicep)
        jf = signature(json_facts(jdoc)) if jdoc is not None and jdoc.ensure_parsed() else collections.Counter()
        bf = signature(inline_facts(bdoc)) if bdoc is not None and bdoc.ensure_parsed() else collections.Counter()
        rows.append({
            "module": m, "bicep_files": len(files),
            "json_codes": sorted(json_codes), "bicep_codes": sorted(bicep_codes),
            "findings_agree": json_codes == bicep_codes,
            "bicep_only": sorted(bicep_codes - json_codes), "json_only": sorted(json_codes - bicep_codes),
            "facts_agree": jf == bf,
            "facts_json_only": [list(k) for k in (jf - bf)], "facts_bicep_only": [list(k) for k in (bf - jf)],
            "facts": sum(jf.values()),
        })
    agree = sum(r["findings_agree"] for r in rows)
    facts_agree = sum(r["facts_agree"] for r in rows)
    summary = {
        "modules": len(rows), "findings_agree": agree, "findings_agree_rate": round(agree / max(len(rows), 1), 4),
        "bicep_only_modules": sum(bool(r["bicep_only"]) for r in rows),
        "json_only_modules": sum(bool(r["json_only"]) for r in rows),
        "facts_agree": facts_agree, "facts_agree_rate": round(facts_agree / max(len(rows), 1), 4),
        "facts_compared": sum(r["facts"] for r in rows),
        "findings_json": sum(len(v) for p, v in by_file.items() if p.endswith("main.json")),
        "findings_bicep": sum(len(v) for p, v in by_file.items() if p.endswith(".bicep")),
        "scan_seconds": round(scan_s, 2),
    }
    print(json.dumps(summary, indent=2))
    for r in rows:
        if not r["findings_agree"]:
            print(f"FINDINGS {r['module']}: json {r['json_codes']} bicep {r['bicep_codes']}")
    for r in rows:
        if not r["facts_agree"]:
            print(f"FACTS {r['module']}: json-only {r['facts_json_only']} bicep-only {r['facts_bicep_only']}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"summary": summary, "modules": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
