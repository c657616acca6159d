#!/usr/bin/env python3
"""Recall and precision of the resource rules (KL251, KL260-KL272, KL401, KL402, KL404) on the
labelled test cases of other IaC scanners, side by side with checkov.

    python bench/labelled.py --mirror-root /work/.mirror --checkov /tmp/checkov-venv/bin/checkov

Sources (read from bare git directories under --mirror-root, laid out OWNER+REPO/repo as the
`fetch` tool leaves them; nothing is committed):

- checkov (bridgecrewio/checkov): each mapped check's unit test lists `passing_resources` and
  `failing_resources` (graph checks: `expected.yaml`); the files are its `example_<Check>` folder.
- KICS (Checkmarx/kics or the DataDog/kics fork): `test/positive*.tf` with
  `positive_expected_result.json` (the flagged lines), `test/negative*.tf`.

A labelled case is one resource: positive when the peer's test says it must fail (keys or local
accounts on), negative when it must pass. keyless's verdict is whether it reports the mapped code
on a line inside that resource; checkov's whether the mapped check fails it. Both tools run on the
same extracted files. checkov runs offline (BC_SKIP_MAPPING=TRUE, --skip-download) from its own
venv. Cases keyless cannot read (the decisive value is a variable without a value, or the peer
labels a value keyless treats as unknown) are listed, not silently dropped.

Stdlib only, plus keyless itself (imported from this checkout).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

# checkov check -> (keyless code, framework, test file, example folder)
CHECKOV = [
    ("CKV_AZURE_137", "KL251", "arm", "tests/arm/checks/resource/test_ACRAdminAccountDisabled.py",
     "tests/arm/checks/resource/example_ACRAdminAccountDisabled"),
    ("CKV_AZURE_141", "KL272", "arm", "tests/arm/checks/resource/test_AKSLocalAdminDisabled.py",
     "tests/arm/checks/resource/example_AKSLocalAdminDisabled"),
    ("CKV_AZURE_236", "KL266", "arm", "tests/arm/checks/resource/test_CognitiveServicesEnableLocalAuth.py",
     "tests/arm/checks/resource/example_CognitiveServicesEnableLocalAuth"),
    ("CKV_AZURE_140", "KL261", "arm", "tests/arm/checks/resource/test_CosmosDBLocalAuthDisabled.py",
     "tests/arm/checks/resource/example_CosmosDBLocalAuthDisabled"),
    ("CKV_AZURE_192", "KL264", "arm", "tests/arm/checks/resource/test_EventgridTopicLocalAuthentication.py",
     "tests/arm/checks/resource/example_EventgridTopicLocalAuthentication"),
    ("CKV_AZURE_137", "KL251", "terraform", "tests/terraform/checks/resource/azure/test_ACRAdminAccountDisabled.py",
     "tests/terraform/checks/resource/azure/example_ACRAdminAccountDisabled"),
    ("CKV_AZURE_141", "KL272", "terraform", "tests/terraform/checks/resource/azure/test_AKSLocalAdminDisabled.py",
     "tests/terraform/checks/resource/azure/example_AKSLocalAdminDisabled"),
    ("CKV_AZURE_184", "KL265", "terraform", "tests/terraform/checks/resource/azure/test_AppConfigLocalAuth.py",
     "tests/terraform/checks/resource/azure/example_AppConfigLocalAuth"),
    ("CKV_AZURE_203", "KL262", "terraform",
     "tests/terraform/checks/resource/azure/test_AzureServicebusLocalAuthDisabled.py",
     "tests/terraform/checks/resource/azure/example_AzureServicebusLocalAuthDisabled"),
    ("CKV_AZURE_236", "KL266", "terraform",
     "tests/terraform/checks/resource/azure/test_CognitiveServicesEnableLocalAuth.py",
     "tests/terraform/checks/resource/azure/example_CognitiveServicesEnableLocalAuth"),
    ("CKV_AZURE_140", "KL261", "terraform", "tests/terraform/checks/resource/azure/test_CosmosDBLocalAuthDisabled.py",
     "tests/terraform/checks/resource/azure/example_CosmosDBLocalAuthDisabled"),
    ("CKV_AZURE_195", "KL264", "terraform",
     "tests/terraform/checks/resource/azure/test_EventgridDomainLocalAuthentication.py",
     "tests/terraform/checks/resource/azure/example_EventgridDomainLocalAuthentication"),
    ("CKV_AZURE_192", "KL264", "terraform",
     "tests/terraform/checks/resource/azure/test_EventgridTopicLocalAuthentication.py",
     "tests/terraform/checks/resource/azure/example_EventgridTopicLocalAuthentication"),
    ("CKV2_AZURE_40", "KL260", "terraform",
     "tests/terraform/graph/checks/resources/AzureStorageAccConfigSharedKeyAuth/expected.yaml",
     "tests/terraform/graph/checks/resources/AzureStorageAccConfigSharedKeyAuth"),
]

# KICS query folder -> (keyless code, checkov check run on the same files)
KICS = [
    ("assets/queries/terraform/azure/admin_user_enabled_for_container_registry", "KL251", "CKV_AZURE_137"),
]


# keyless's own fixtures (labels from `ruleid:`/`ok:` annotations and .expect sidecars) and the
# checkov checks that cover the same switch (none: checkov has no check for that service).
FIXTURE_CHECKS = {
    "KL251": ["CKV_AZURE_137"], "KL260": ["CKV2_AZURE_40"], "KL261": ["CKV_AZURE_140"],
    "KL262": ["CKV_AZURE_203"], "KL263": [], "KL264": ["CKV_AZURE_192", "CKV_AZURE_195"],
    "KL265": ["CKV_AZURE_184"], "KL266": ["CKV_AZURE_236"], "KL267": [], "KL268": [], "KL269": [], "KL270": [],
    "KL271": [], "KL272": ["CKV_AZURE_141"], "KL404": [],
}


def fixture_labels(path: str, code: str) -> set[int]:
    """Lines of `path` that must be flagged with `code`."""
    import re

    lines: set[int] = set()
    if os.path.exists(path + ".expect"):
        for row in open(path + ".expect", encoding="utf-8"):
            parts = row.split()
            if len(parts) >= 2 and parts[1] == code:
                lines.add(int(parts[0]))
    for i, row in enumerate(open(path, encoding="utf-8").read().splitlines(), start=1):
        m = re.search(r"ruleid:\s*(KL\d{3}(?:\s*,\s*KL\d{3})*)", row)
        if m and code in re.split(r"\s*,\s*", m.group(1)):
            lines.add(i + 1)
    return lines


def git(gitdir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True,
                          text=True).stdout


def extract(gitdir: str, path: str, dest: str) -> None:
    os.makedirs(dest, exist_ok=True)
    archive = subprocess.run(["git", "--git-dir", gitdir, "archive", "HEAD", path], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", dest, "--strip-components", str(path.count("/") + 1)],
                   input=archive, check=True)


def checkov_labels(gitdir: str, test_path: str) -> tuple[set[str], set[str]]:
    text = git(gitdir, "show", f"HEAD:{test_path}")
    if test_path.endswith(".yaml"):
        labels = {"pass": set(), "fail": set()}
        current = None
        for line in text.splitlines():
            s = line.strip()
            if s.rstrip(":") in labels and s.endswith(":"):
                current = s.rstrip(":")
            elif s.startswith("-") and current:
                labels[current].add(s.lstrip("- ").strip().strip('"').strip("'"))
        return labels["fail"], labels["pass"]
    tree = ast.parse(text)
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("passing_resources", "failing_resources"):
                try:
                    found[name] = set(ast.literal_eval(node.value) or ())
                except ValueError:
                    pass
    return found.get("failing_resources", set()), found.get("passing_resources", set())


# ---- resources and the lines they cover -----------------------------------------------------------

def resources_of(path: str) -> list[tuple[str, int, int]]:
    """(checkov-style id, first line, last line) of every resource in a Terraform file or ARM
    template, from keyless's own readers (exact spans)."""
    from keyless.linter.documents import make_document

    text = open(path, encoding="utf-8").read()
    doc = make_document(path, os.path.basename(path), text)
    if not doc.ensure_parsed() or not doc.values:
        return []
    root = doc.values[0]
    out = []
    if path.endswith(".tf"):
        groups = root.get("resource") or []
        for gi, g in enumerate(groups if isinstance(groups, list) else [groups]):
            for rtype, named in g.items():
                for rname in named:
                    sp = doc.locate((0, "resource", gi, rtype, rname))
                    if sp:
                        out.append((f"{rtype}.{rname}", sp.start.line, sp.end.line))
    elif isinstance(root, dict) and isinstance(root.get("resources"), list):
        for i, r in enumerate(root["resources"]):
            if isinstance(r, dict) and isinstance(r.get("type"), str):
                sp = doc.locate((0, "resources", i))
                if sp:
                    out.append((f"{r['type']}.{r.get('name')}", sp.start.line, sp.end.line))
    return out


def keyless_verdicts(folder: str, code: str) -> dict[str, bool]:
    """resource id -> flagged with `code`, for every resource of every file in `folder`."""
    env = dict(os.environ)
    res = subprocess.run([sys.executable, "-m", "keyless", "check", folder, "--select", code, "--no-cache",
                          "--output-format", "json", "--exit-zero"], capture_output=True, text=True, env=env,
                         cwd=folder)
    findings = json.loads(res.stdout)["findings"] if res.stdout.strip() else []
    flagged = defaultdict(set)
    for f in findings:
        flagged[os.path.normpath(os.path.join(folder, f["path"]))].add(f["location"]["line"])
    verdicts: dict[str, bool] = {}
    for root, _, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            if not name.endswith((".tf", ".json")) or name.endswith("expected_result.json"):
                continue
            for rid, start, end in resources_of(p):
                lines = flagged.get(os.path.normpath(p), set())
                hit = any(start <= ln <= end for ln in lines)
                verdicts[rid] = verdicts.get(rid, False) or hit
                verdicts[f"{name}:{rid}"] = hit  # the same address in two files of one folder
    return verdicts


def checkov_verdicts(checkov: str, folder: str, check: str, framework: str) -> dict[str, bool] | None:
    if not checkov:
        return None
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    res = subprocess.run([checkov, "-d", folder, "--check", check, "--framework", framework, "-o", "json",
                          "--skip-download", "--quiet", "--compact"], capture_output=True, text=True, env=env)
    try:
        data = json.loads(res.stdout)
    except json.JSONDecodeError:
        return {}
    reports = data if isinstance(data, list) else [data]
    out: dict[str, bool] = {}
    for rep in reports:
        results = rep.get("results", {}) if isinstance(rep, dict) else {}
        for c in results.get("passed_checks", []):
            out.setdefault(c["resource"], False)
            out.setdefault(f"{os.path.basename(c.get('file_path', ''))}:{c['resource']}", False)
        for c in results.get("failed_checks", []):
            out[c["resource"]] = True
            out[f"{os.path.basename(c.get('file_path', ''))}:{c['resource']}"] = True
    return out


# ---- scoring --------------------------------------------------------------------------------------

class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = self.tn = 0
        self.misses: list[str] = []

    def add(self, label: bool, verdict: bool | None, what: str) -> None:
        if verdict is None:
            verdict = False
        if label and verdict:
            self.tp += 1
        elif label:
            self.fn += 1
            self.misses.append(f"missed {what}")
        elif verdict:
            self.fp += 1
            self.misses.append(f"false positive {what}")
        else:
            self.tn += 1

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def row(self) -> str:
        return (f"TP {self.tp:3d} FP {self.fp:3d} FN {self.fn:3d} TN {self.tn:3d}  "
                f"recall {self.recall:.3f}  precision {self.precision:.3f}")


def match(verdicts: dict[str, bool] | None, rid: str) -> bool | None:
    if verdicts is None:
        return None
    if rid in verdicts:
        return verdicts[rid]
    low = rid.lower()
    for k, v in verdicts.items():
        if k.lower() == low:
            return v
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror-root", default="/work/.mirror")
    ap.add_argument("--checkov", default="", help="checkov executable (its own venv); omit to skip it")
    ap.add_argument("--kics", default="DataDog+kics", help="KICS mirror folder under --mirror-root")
    ap.add_argument("--json", help="write the per-case table here")
    ap.add_argument("--fixtures", action="store_true",
                    help="also score keyless's own fixtures (its labels, so biased towards keyless)")
    args = ap.parse_args()
    checkov_git = os.path.join(args.mirror_root, "bridgecrewio+checkov", "repo")
    kics_git = os.path.join(args.mirror_root, args.kics, "repo")
    work = tempfile.mkdtemp(prefix="keyless-labelled-")
    totals = {"keyless": Score(), "checkov": Score()}
    per_source: dict[str, dict[str, Score]] = defaultdict(lambda: {"keyless": Score(), "checkov": Score()})
    cases = []

    def score(source: str, code: str, rid: str, label: bool, k: bool | None, c: bool | None) -> None:
        what = f"{source} {rid}"
        for tool, verdict in (("keyless", k), ("checkov", c)):
            if tool == "checkov" and c is None:
                continue
            totals[tool].add(label, verdict, what)
            per_source[source][tool].add(label, verdict, what)
        cases.append({"source": source, "code": code, "resource": rid, "label": "fail" if label else "pass",
                      "keyless": k, "checkov": c})

    if os.path.isdir(checkov_git):
        for i, (check, code, fw, test, example) in enumerate(CHECKOV):
            failing, passing = checkov_labels(checkov_git, test)
            dest = os.path.join(work, f"checkov-{i}-{check}-{fw}")
            extract(checkov_git, example, dest)
            kv = keyless_verdicts(dest, code)
            cv = checkov_verdicts(args.checkov, dest, check, fw)
            source = f"checkov {check} ({fw})"
            for rid in sorted(failing | passing):
                score(source, code, rid, rid in failing, match(kv, rid), match(cv, rid))
    if os.path.isdir(kics_git):
        for i, (query, code, check) in enumerate(KICS):
            dest = os.path.join(work, f"kics-{i}")
            extract(kics_git, query + "/test", dest)
            expected = json.load(open(os.path.join(dest, "positive_expected_result.json")))
            kv = keyless_verdicts(dest, code)
            cv = checkov_verdicts(args.checkov, dest, check, "terraform")
            source = f"KICS {os.path.basename(query)}"
            for name in sorted(os.listdir(dest)):
                if not name.endswith(".tf"):
                    continue
                lines = {e["line"] for e in expected if e.get("fileName", name) == name}
                for rid, start, end in resources_of(os.path.join(dest, name)):
                    label = name.startswith("positive") and any(start <= ln <= end for ln in lines)
                    score(source, code, rid, label, match(kv, rid), match(cv, rid))

    fixtures = os.path.join(os.path.dirname(HERE), "fixtures")
    if args.fixtures:
        for code, checks in FIXTURE_CHECKS.items():
            dest = os.path.join(work, f"fixtures-{code}")
            os.makedirs(dest)
            for name in os.listdir(os.path.join(fixtures, code)):
                src = os.path.join(fixtures, code, name)
                if os.path.isfile(src) and name.endswith((".tf", ".json")):
                    with open(src, "rb") as a, open(os.path.join(dest, name), "wb") as b:
                        b.write(a.read())
            kv = keyless_verdicts(dest, code)
            cv: dict[str, bool] | None = {}
            if args.checkov and checks:
                for check in checks:
                    for fw in ("terraform", "arm"):
                        for rid, v in (checkov_verdicts(args.checkov, dest, check, fw) or {}).items():
                            cv[rid] = cv.get(rid, False) or v
            elif not args.checkov:
                cv = None
            for name in sorted(os.listdir(dest)):
                if name.endswith(".expect"):
                    continue
                want = fixture_labels(os.path.join(fixtures, code, name), code)
                for rid, start, end in resources_of(os.path.join(dest, name)):
                    label = any(start <= ln <= end for ln in want)
                    k = match(kv, f"{name}:{rid}")
                    c = None if cv is None else cv.get(f"{name}:{rid}", False)
                    score(f"keyless fixtures {code}", code, f"{name}:{rid}", label, k, c)

    print(f"{'source':58s} tool     result")
    for source, tools in per_source.items():
        for tool, s in tools.items():
            if s.tp + s.fp + s.fn + s.tn:
                print(f"{source:58s} {tool:8s} {s.row()}")
    print()
    for tool, s in totals.items():
        print(f"{'ALL':58s} {tool:8s} {s.row()}")
        for m in s.misses:
            print(f"    {tool}: {m}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cases": cases, "totals": {t: vars(s) for t, s in totals.items()}}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
