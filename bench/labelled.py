#!/usr/bin/env python3
"""Recall and precision of the resource rules (KL251, KL260-KL278, KL404) on the labelled test cases
of other IaC scanners, side by side with checkov on the same files.

    python bench/labelled.py --checkov /tmp/checkov-venv/bin/checkov [--kics-queries DIR] [--fixtures]

Sources (read from bare git directories under --mirror-root, laid out OWNER+REPO/repo as the
`fetch` tool leaves them; the labelled set is written under a temporary directory at run time and
nothing is committed):

- checkov (bridgecrewio/checkov): each mapped check's unit test lists `passing_resources` and
  `failing_resources` (graph checks: `expected.yaml`); the files are its `example_<Check>` folder.
  checkov has no Bicep test for any of these checks.
- KICS: each mapped query's `test/positive*.tf` (labels: `positive_expected_result.json`, or every
  resource of the mapped type in a positive file when the query has none) and `test/negative*.tf`.
  Read from the DataDog fork's snapshot, and from --kics-queries: a directory of upstream
  Checkmarx/kics query folders (upstream is over the snapshot size limit; its query folders can be
  copied there one by one). KICS has no ARM or Bicep query for these switches.
- PSRule for Azure (any `*+PSRule.Rules.Azure` snapshot; a fork when upstream is over the size
  limit): each mapped rule's Pester test names the targets expected to fail and to pass.
  `Conditions` contexts read exported resources (`Resources.X.json`: objects with `ResourceType`,
  `Name`, `Properties`, child `resources`); they are written out as an ARM template (children
  flattened with `parent/child` names; exports carry no API version, so every resource gets
  EXPORT_API_VERSION). `With Template` contexts read ARM templates (with the parameter file that
  links them), and `*.tests.json` contexts also the Bicep source they were compiled from.
- template-analyzer (Azure/template-analyzer): none of its JSON rules is about these switches (its
  PowerShell rules are PSRule's), so it adds no case.

A labelled case is one resource: positive when the peer's test says it must fail (keys, local
accounts or passwords on; a vault with access policies), negative when it must pass. A tool's
verdict is whether it reports the mapped rule (checkov: a mapped check fails) on a line inside that
resource (the innermost resource containing the line). Both tools run once per source folder on the
same files. checkov runs offline (BC_SKIP_MAPPING=TRUE, --skip-download) from its own venv; where
it has no check for a service its verdict is "not flagged", and the report also gives both tools'
scores on only the cases checkov has a check for. Labels that name no resource in the files, and
peer rules that map to no keyless rule, are listed, never silently dropped.

Stdlib only, plus keyless itself (imported from this checkout).
"""

from __future__ import annotations

import argparse
import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from typing import Any, NamedTuple

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
    ("CKV2_AZURE_27", "KL270", "arm", "tests/arm/checks/resource/test_SQLServerUsesADAuth.py",
     "tests/arm/checks/resource/example_SQLServerUsesADAuth"),
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
    ("CKV2_AZURE_27", "KL270", "terraform",
     "tests/terraform/graph/checks/resources/AzureConfigMSSQLwithAD/expected.yaml",
     "tests/terraform/graph/checks/resources/AzureConfigMSSQLwithAD"),
]

# The checkov checks that cover the same switch as a keyless rule (none: checkov has no check for
# that service). CKV2_AZURE_27 asks a weaker question than KL270 ("an Entra administrator is
# configured", ARM: "no SQL administrator login"), so it is used as checkov's nearest check.
CHECKOV_CHECKS = {
    "KL251": ["CKV_AZURE_137"], "KL260": ["CKV2_AZURE_40"], "KL261": ["CKV_AZURE_140"],
    "KL262": ["CKV_AZURE_203"], "KL263": [], "KL264": ["CKV_AZURE_192", "CKV_AZURE_195"],
    "KL265": ["CKV_AZURE_184"], "KL266": ["CKV_AZURE_236"], "KL267": [], "KL268": [], "KL269": [],
    "KL270": ["CKV2_AZURE_27"], "KL271": [], "KL272": ["CKV_AZURE_141"], "KL273": [], "KL274": [], "KL275": [],
    "KL276": [], "KL277": [], "KL278": [], "KL404": [],
}

# The resource types each of those checks reads (its `supported_resources`; graph checks: the
# types in their definition), compared case-insensitively: "cases checkov has a check for".
CHECKOV_TYPES = {
    "CKV_AZURE_137": ("Microsoft.ContainerRegistry/registries", "azurerm_container_registry"),
    "CKV_AZURE_141": ("Microsoft.ContainerService/managedClusters", "azurerm_kubernetes_cluster"),
    "CKV_AZURE_236": ("Microsoft.CognitiveServices/accounts", "azurerm_cognitive_account"),
    "CKV_AZURE_140": ("Microsoft.DocumentDB/databaseAccounts", "azurerm_cosmosdb_account"),
    "CKV_AZURE_192": ("Microsoft.EventGrid/topics", "azurerm_eventgrid_topic"),
    "CKV_AZURE_195": ("azurerm_eventgrid_domain",),
    "CKV_AZURE_184": ("azurerm_app_configuration",),
    "CKV_AZURE_203": ("azurerm_servicebus_namespace",),
    "CKV2_AZURE_40": ("azurerm_storage_account",),
    "CKV2_AZURE_27": ("Microsoft.Sql/servers", "azurerm_mssql_server"),
}

# KICS query folder -> keyless code
KICS = {
    "admin_user_enabled_for_container_registry": "KL251",
    "container_registry_admin_account_enabled": "KL251",
    "container_registry_enabled_admin": "KL251",
    "storage_account_with_shared_access_key": "KL260",
}

# PSRule for Azure rule -> keyless code
PSRULE = {
    "Azure.ACR.AdminUser": "KL251", "Azure.AI.DisableLocalAuth": "KL266", "Azure.Cognitive.DisableLocalAuth": "KL266",
    "Azure.AKS.LocalAccounts": "KL272", "Azure.AppConfig.DisableLocalAuth": "KL265",
    "Azure.AppInsights.LocalAuth": "KL275", "Azure.Cosmos.DisableLocalAuth": "KL261",
    "Azure.Cosmos.NoSQLLocalAuth": "KL261", "Azure.EventGrid.DisableLocalAuth": "KL264",
    "Azure.EventHub.DisableLocalAuth": "KL263", "Azure.KeyVault.RBAC": "KL404", "Azure.MySQL.AADOnly": "KL271",
    "Azure.PostgreSQL.AADOnly": "KL271", "Azure.Redis.LocalAuth": "KL269", "Azure.SQL.AADOnly": "KL270",
    "Azure.SQLMI.AADOnly": "KL270", "Azure.ServiceBus.DisableLocalAuth": "KL262", "Azure.Storage.LocalAuth": "KL260",
}
# Peer checks on the same subject that no keyless rule answers, and why.
UNMAPPED = {
    "checkov CKV_AZURE_142 (ML compute cluster local_auth_enabled)": "SSH local accounts on ML compute nodes: "
    "not a data-plane key; no keyless rule",
    "checkov CKV_AZURE_244 (storage local users)": "SFTP local users: no keyless rule",
    "checkov CKV2_AZURE_7 (azurerm_sql_server with an AD admin)": "the retired azurerm_sql_server resource; "
    "an AD admin says nothing about passwords",
    "KICS ad_admin_not_configured_for_sql_server": "same question as CKV2_AZURE_7",
    "PSRule Azure.ML.DisableLocalAuth": "ML compute local accounts: no keyless rule",
    "PSRule Azure.KeyVault.AccessPolicy": "asks whether each access policy is narrow, not whether the vault "
    "uses them (KL404 maps to Azure.KeyVault.RBAC)",
}
# Exported resources carry no API version; Key Vault's default (access policies before 2026-02-01)
# is the only one that depends on it.
EXPORT_API_VERSION = "2023-07-01"
ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


# keyless's own fixtures (labels from `ruleid:`/`ok:` annotations and .expect sidecars)
FIXTURE_CODES = ["KL251"] + [f"KL{n}" for n in range(260, 279)] + ["KL404"]


class Resource(NamedTuple):
    rid: str  # checkov-style "type.name" (Terraform: "type.label"); ARM/Bicep names evaluated when they can be
    start: int
    end: int
    names: tuple[str, ...]  # every name a peer's label may use for it


class Case(NamedTuple):
    source: str
    code: str
    folder: str
    file: str  # relative to folder
    rid: str
    label: bool  # True: the peer says it must fail


# ---- reading the peers' snapshots ----------------------------------------------------------------

def git(gitdir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True,
                          text=True).stdout


def git_bytes(gitdir: str, path: str) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout


def extract(gitdir: str, path: str, dest: str) -> None:
    os.makedirs(dest, exist_ok=True)
    archive = subprocess.run(["git", "--git-dir", gitdir, "archive", "HEAD", path], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", dest, "--strip-components", str(path.count("/") + 1)],
                   input=archive, check=True)


def head(gitdir: str) -> str:
    return git(gitdir, "rev-parse", "--short=8", "HEAD").strip()


def checkov_labels(gitdir: str, test_path: str) -> tuple[set[str], set[str]]:
    text = git(gitdir, "show", f"HEAD:{test_path}")
    if test_path.endswith(".yaml"):
        labels: dict[str, set[str]] = {"pass": set(), "fail": set()}
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


def psrule_tests(text: str) -> list[tuple[str, str, str, list[str], list[str]]]:
    """(context, data file, rule, failing targets, passing targets) of every `It '<rule>'` block of
    a Pester file whose rule PSRULE maps. The data file is the last one the context names
    (`-ChildPath 'X.json'` for data, template or linked parameter file)."""
    out = []
    lines = text.splitlines()
    context, data = "", ""
    for i, line in enumerate(lines):
        m = re.search(r"^\s*Context '([^']+)'", line)
        if m:
            context, data = m.group(1), ""
        m = re.search(r"(?:ChildPath|InputPath) '([^']+\.(?:json|bicep))'", line)
        if m and not m.group(1).startswith(("ps-rule", "test-template")) and not re.match(r"\s*\$outputFile\s*=", line):
            data = m.group(1)
        m = re.search(r"^\s*It '(Azure\.[A-Za-z]+\.[A-Za-z]+)'", line)
        if not m or m.group(1) not in PSRULE:
            continue
        targets: dict[str, list[str]] = {}
        outcome = None
        for s in lines[i + 1:]:
            if re.search(r"^\s*(It|Context) '", s):
                break
            if "Outcome -eq 'Fail'" in s:
                outcome = "fail"
            elif "Outcome -eq 'Pass'" in s:
                outcome = "pass"
            t = re.search(r"TargetName \| Should -Be(?:In)? (.*);", s)
            if t and outcome and outcome not in targets:
                targets[outcome] = re.findall(r"'([^']*)'", t.group(1))
        out.append((context, data, m.group(1), targets.get("fail", []), targets.get("pass", [])))
    return out


def exported_to_template(items: Any) -> dict:
    """PSRule's exported resources as one ARM template (children flattened, `parent/child` names)."""
    resources: list[dict] = []

    def field(x: dict, *names: str) -> Any:
        for n in names:
            if x.get(n) is not None:
                return x[n]
        return None

    def convert(x: Any, parent: tuple[str, str] | None) -> None:
        if not isinstance(x, dict):
            return
        types = [x.get(k) for k in ("ResourceType", "Type", "type") if isinstance(x.get(k), str)]
        if parent is not None:  # exports sometimes give a child the parent's ResourceType and its own Type
            types = [t for t in types if t.lower().startswith(parent[0].lower() + "/")] or types
        rtype = types[0] if types else None
        name = field(x, "Name", "name", "ResourceName")
        if not isinstance(rtype, str) or not isinstance(name, str) or "/subscriptions/" in name.lower():
            return
        if parent is not None:
            if rtype.lower() == parent[0].lower() or not rtype.lower().startswith(parent[0].lower() + "/"):
                return  # a diagnostic setting or other extension: not a child of this type
            if "/" not in name:
                name = f"{parent[1]}/{name}"
        r: dict = {"type": rtype, "apiVersion": field(x, "apiVersion", "ApiVersion") or EXPORT_API_VERSION,
                   "name": name}
        for src, dst in (("Location", "location"), ("Kind", "kind"), ("Sku", "sku"), ("Identity", "identity"),
                         ("Tags", "tags"), ("Properties", "properties")):
            v = field(x, src, dst)
            if v is not None:
                r[dst] = v
        resources.append(r)
        for c in x.get("resources") or x.get("Resources") or []:
            convert(c, (rtype, name))

    for item in items if isinstance(items, list) else [items]:
        convert(item, None)
    return {"$schema": ARM_SCHEMA, "contentVersion": "1.0.0.0", "resources": resources}


# ---- resources and the lines they cover -----------------------------------------------------------

def _evaluated(ctx: Any, value: Any) -> str | None:
    from keyless.rules.iac.expr import UNKNOWN, is_expression

    if isinstance(value, str) and not is_expression(value):
        return value
    try:
        v = ctx.resolve(value)
    except Exception:  # an expression the evaluator rejects: the raw text only
        return None
    return v if isinstance(v, str) and v is not UNKNOWN else None


def _context(template: dict, parameter_values: dict[str, Any]) -> Any:
    from keyless.rules.iac.expr import Context

    params = {}
    for name, spec in (template.get("parameters") or {}).items():
        if name in parameter_values:
            params[name] = parameter_values[name]
        elif isinstance(spec, dict) and "defaultValue" in spec:
            params[name] = spec["defaultValue"]
    variables = template.get("variables") if isinstance(template.get("variables"), dict) else {}
    return Context(params, variables)


def _parameter_values(folder: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for p in glob.glob(os.path.join(folder, "*.json")):
        try:
            root = json.load(open(p, encoding="utf-8-sig"))
        except (ValueError, OSError):
            continue
        if isinstance(root, dict) and "deploymentparameters" in str(root.get("$schema", "")).lower():
            for k, v in (root.get("parameters") or {}).items():
                if isinstance(v, dict) and "value" in v:
                    values[k] = v["value"]
    return values


def resources_of(path: str) -> list[Resource]:
    """Every resource of a Terraform file, ARM template or Bicep file with its exact lines, from
    keyless's own readers."""
    from keyless.linter.documents import make_document

    text = open(path, encoding="utf-8-sig").read()
    doc = make_document(path, os.path.basename(path), text)
    if not doc.ensure_parsed():
        return []
    out: list[Resource] = []
    if path.endswith(".tf"):
        if not doc.values:
            return []
        groups = doc.values[0].get("resource") or []
        for gi, g in enumerate(groups if isinstance(groups, list) else [groups]):
            for rtype, named in g.items():
                for rname in named:
                    sp = doc.locate((0, "resource", gi, rtype, rname))
                    if sp:
                        out.append(Resource(f"{rtype}.{rname}", sp.start.line, sp.end.line, (f"{rtype}.{rname}",)))
        return out
    if path.endswith(".bicep"):
        from keyless.rules.iac.bicep import translate

        view = translate(doc)
        if view is None:
            return []
        doc = view
    if not doc.values or not isinstance(doc.values[0], dict):
        return []
    template = doc.values[0]
    ctx = _context(template, _parameter_values(os.path.dirname(path)))

    seen: dict[str, int] = {}

    def unique(rid: str) -> str:  # two resources with one name expression stay two cases
        seen[rid] = seen.get(rid, 0) + 1
        return rid if seen[rid] == 1 else f"{rid}#{seen[rid]}"

    def walk(resources: Any, base: tuple, parent: tuple[str, str] | None) -> None:
        items = resources.items() if isinstance(resources, dict) else enumerate(resources or [])
        for key, r in items:
            if not isinstance(r, dict) or not isinstance(r.get("type"), str):
                continue
            rtype, raw = r["type"], r.get("name")
            name = _evaluated(ctx, raw)
            if parent is not None and "/" not in rtype:
                rtype = f"{parent[0]}/{rtype}"
                name = f"{parent[1]}/{name}" if name is not None and parent[1] is not None else None
            sp = doc.locate(base + (key,))
            if sp:
                names = tuple(dict.fromkeys(n for n in (name, raw if isinstance(raw, str) else None, str(key)) if n))
                out.append(Resource(unique(f"{rtype}.{name if name is not None else raw}"), sp.start.line, sp.end.line,
                                    names))
            if r.get("resources"):
                walk(r["resources"], base + (key, "resources"), (rtype, name))

    walk(template.get("resources"), (0, "resources"), None)
    return out


def rule_types(code: str) -> set[str]:
    """The ARM types (lower case) a keyless rule reads: its switches' and their companions'."""
    from keyless.rules.iac.local_auth import RESOURCE_RULES

    out: set[str] = set()
    for rule in RESOURCE_RULES:
        if rule.code == code:
            for sw in rule.switches:
                out.add(sw.arm_type.lower())
                out.update(c.arm_type.lower() for c in sw.companions if c.arm_type)
    return out


def rid_type(rid: str) -> str:
    """The resource type of a case id: `azurerm_x.name` or `Namespace.Provider/type[/child].name`."""
    m = re.match(r"([^/.]+\.[^/]+/[^.]+)\.", rid) or re.match(r"([^.]+)\.", rid)
    return m.group(1) if m else rid


def credited(resources: list[Resource], line: int) -> list[tuple[Resource, str]]:
    """The resources a finding on `line` is about: the innermost resource containing the line
    ("inside"), and, when that is a child (a companion such as SQL `azureADOnlyAuthentications`
    that a finding about its server points at), the parent it names in the same file ("parent").
    Peers label the server; keyless's own fixtures label the line."""
    inside = [r for r in resources if r.start <= line <= r.end]
    if not inside:
        return []
    r = min(inside, key=lambda r: r.end - r.start)
    rtype = rid_type(r.rid)
    name = r.rid[len(rtype) + 1:]
    if rtype.count("/") >= 2 and "/" in name:
        parent = f"{rtype.rsplit('/', 1)[0]}.{name.rsplit('/', 1)[0]}".lower()
        return [(r, "inside")] + [(p, "parent") for p in resources if p.rid.lower() == parent]
    return [(r, "inside")]


# ---- the tools ------------------------------------------------------------------------------------

def keyless_flags(folder: str, codes: set[str]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(file relative to folder, resource id) -> (code, how) keyless reports about that resource
    (see `credited`)."""
    res = subprocess.run([sys.executable, "-m", "keyless", "check", ".", "--select", ",".join(sorted(codes)),
                          "--no-cache", "--output-format", "json", "--exit-zero"], capture_output=True, text=True,
                         cwd=folder)
    if not res.stdout.strip():
        sys.exit(f"keyless printed nothing in {folder}: {res.stderr.strip()[:300]}")
    spans: dict[str, list[Resource]] = {}
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in json.loads(res.stdout)["findings"]:
        rel = os.path.normpath(f["path"])
        if rel not in spans:
            spans[rel] = resources_of(os.path.join(folder, rel))
        for r, how in credited(spans[rel], f["location"]["line"]):
            out[(rel, r.rid)].add((f["code"], how))
    return out


def checkov_flags(checkov: str, folder: str, checks: set[str]) -> dict[tuple[str, str], set[tuple[str, str]]] | None:
    """(file, resource id) -> (check, how) checkov fails about that resource; None when not run."""
    if not checkov:
        return None
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    if not checks:
        return out
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    res = subprocess.run([checkov, "-d", folder, "--check", ",".join(sorted(checks)),
                          "--framework", "arm", "bicep", "terraform", "-o", "json", "--skip-download", "--quiet",
                          "--compact"], capture_output=True, text=True, env=env)
    try:
        data = json.loads(res.stdout)
    except json.JSONDecodeError:
        return out  # nothing failed (checkov prints no JSON for an empty report)
    spans: dict[str, list[Resource]] = {}
    for rep in data if isinstance(data, list) else [data]:
        for c in (rep.get("results", {}) if isinstance(rep, dict) else {}).get("failed_checks", []):
            rel = os.path.normpath(c.get("file_path", "").lstrip("/"))
            if rel not in spans:
                spans[rel] = resources_of(os.path.join(folder, rel)) if os.path.exists(os.path.join(folder, rel)) else []
            lines = c.get("file_line_range") or [0, 0]
            for r, how in credited(spans[rel], lines[0]) or credited(spans[rel], lines[-1]):
                out[(rel, r.rid)].add((c["check_id"], how))
    return out


# ---- building the labelled set --------------------------------------------------------------------

class Labelled:
    def __init__(self, work: str):
        self.work = work
        self.cases: list[Case] = []
        self.unmatched: list[str] = []

    def folder(self, name: str) -> str:
        path = os.path.join(self.work, re.sub(r"[^A-Za-z0-9_.-]+", "-", name))
        os.makedirs(path, exist_ok=True)
        return path

    def label_by_name(self, source: str, code: str, folder: str, failing: set[str], passing: set[str],
                      match: str = "rid") -> None:
        """Cases for every labelled name, found among the folder's resources (by checkov id, or by
        any of its names and then only among the types the rule reads)."""
        types = rule_types(code) if match != "rid" else None
        index: dict[str, list[tuple[str, Resource]]] = defaultdict(list)
        for path in sorted(glob.glob(os.path.join(folder, "**", "*"), recursive=True)):
            if not path.endswith((".tf", ".json", ".bicep")) or path.endswith("expected_result.json"):
                continue
            rel = os.path.relpath(path, folder)
            for r in resources_of(path):
                if types is not None and rid_type(r.rid).lower() not in types:
                    continue
                for key in ((r.rid,) if match == "rid" else r.names):
                    index[key.lower()].append((rel, r))
        for name in sorted(failing | passing):
            hits = index.get(name.lower(), [])
            if not hits:
                self.unmatched.append(f"{source}: {name}")
            for rel, r in hits:
                self.cases.append(Case(source, code, folder, rel, r.rid, name in failing))


def build_checkov(lab: Labelled, gitdir: str) -> None:
    for i, (check, code, fw, test, example) in enumerate(CHECKOV):
        failing, passing = checkov_labels(gitdir, test)
        dest = lab.folder(f"checkov-{i}-{check}-{fw}")
        extract(gitdir, example, dest)
        for p in glob.glob(os.path.join(dest, "**", "*.py"), recursive=True):
            os.remove(p)
        lab.label_by_name(f"checkov {check} ({fw})", code, dest, failing, passing)


def build_kics(lab: Labelled, query_dirs: dict[str, str]) -> None:
    """`query_dirs`: query name -> a folder holding its `test/` directory."""
    for query, src in sorted(query_dirs.items()):
        code = KICS[query]
        dest = lab.folder(f"kics-{query}")
        shutil.copytree(os.path.join(src, "test"), dest, dirs_exist_ok=True)
        expected = []
        for p in glob.glob(os.path.join(dest, "**", "positive_expected_result.json"), recursive=True):
            for e in json.load(open(p, encoding="utf-8")):
                e["_dir"] = os.path.dirname(p)
                expected.append(e)
        for path in sorted(glob.glob(os.path.join(dest, "**", "*.tf"), recursive=True)):
            rel = os.path.relpath(path, dest)
            name = os.path.basename(path)
            rtype = "azurerm_container_registry" if code == "KL251" else "azurerm_storage_account"
            flagged = {e["line"] for e in expected
                       if os.path.dirname(path).startswith(e["_dir"]) and e.get("fileName", e.get("filename", name)) == name}
            for r in resources_of(path):
                if not r.rid.startswith(rtype + "."):
                    continue  # a resource group or other helper of the test
                positive = name.startswith("positive")
                label = positive and (any(r.start <= ln <= r.end for ln in flagged) if expected else True)
                lab.cases.append(Case(f"KICS {query}", code, dest, rel, r.rid, label))


def build_psrule(lab: Labelled, gitdir: str) -> None:
    base = "tests/PSRule.Rules.Azure.Tests/"
    names = git(gitdir, "ls-tree", "-r", "--name-only", "HEAD", base).split()
    for test in sorted(n for n in names if n.endswith(".Tests.ps1")):
        for context, data, rule, failing, passing in psrule_tests(git(gitdir, "show", f"HEAD:{test}")):
            code = PSRULE[rule]
            if not data:
                lab.unmatched.append(f"PSRule {rule} ({context}): no data file found")
                continue
            folder = lab.folder(f"psrule-{rule}-{context}")
            raw = json.loads(git_bytes(gitdir, base + data).decode("utf-8-sig"))
            if isinstance(raw, list):  # exported resources
                with open(os.path.join(folder, data), "w", encoding="utf-8") as fh:
                    json.dump(exported_to_template(raw), fh, indent=2)
            else:
                template = data
                if "deploymentparameters" in str(raw.get("$schema", "")).lower():
                    linked = (raw.get("metadata") or {}).get("template", "")
                    template = os.path.normpath(linked.lstrip("./")) if linked else ""
                    with open(os.path.join(folder, data), "wb") as fh:
                        fh.write(git_bytes(gitdir, base + data))
                if template:
                    with open(os.path.join(folder, template), "wb") as fh:
                        fh.write(git_bytes(gitdir, base + template))
                    source = template[:-len(".json")] + ".bicep"
                    if template.endswith(".tests.json") and base + source in names:
                        bicep = lab.folder(f"psrule-{rule}-{context}-bicep")
                        with open(os.path.join(bicep, source), "wb") as fh:
                            fh.write(git_bytes(gitdir, base + source))
                        lab.label_by_name(f"PSRule {rule} (Bicep)", code, bicep, set(failing), set(passing),
                                          match="names")
            lab.label_by_name(f"PSRule {rule}" + (" (template)" if not isinstance(raw, list) else ""), code,
                              folder, set(failing), set(passing), match="names")


def build_fixtures(lab: Labelled, fixtures: str) -> None:
    for code in FIXTURE_CODES:
        dest = lab.folder(f"fixtures-{code}")
        for name in os.listdir(os.path.join(fixtures, code)):
            src = os.path.join(fixtures, code, name)
            if os.path.isfile(src) and name.endswith((".tf", ".json", ".bicep")):
                shutil.copyfile(src, os.path.join(dest, name))
        for name in sorted(os.listdir(dest)):
            want = fixture_labels(os.path.join(fixtures, code, name), code)
            resources = resources_of(os.path.join(dest, name))
            flagged = {hit[0][0].rid for ln in want for hit in [credited(resources, ln)] if hit}
            for r in resources:
                lab.cases.append(Case(f"keyless fixtures {code}", code, dest, name, r.rid, r.rid in flagged))


def fixture_labels(path: str, code: str) -> set[int]:
    """Lines of `path` that must be flagged with `code`."""
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


# ---- scoring --------------------------------------------------------------------------------------

class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = self.tn = 0
        self.misses: list[str] = []

    def add(self, label: bool, verdict: bool, what: str) -> None:
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
        return (f"fail {self.tp + self.fn:3d} pass {self.fp + self.tn:3d}  TP {self.tp:3d} FP {self.fp:3d} "
                f"FN {self.fn:3d} TN {self.tn:3d}  recall {self.recall:.3f}  precision {self.precision:.3f}")


def find_mirror(root: str, suffix: str, preferred: str) -> str | None:
    path = os.path.join(root, preferred, "repo")
    if os.path.isdir(path):
        return path
    for cand in sorted(glob.glob(os.path.join(root, f"*+{suffix}", "repo"))):
        return cand
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror-root", default="/work/.mirror")
    ap.add_argument("--checkov", default="", help="checkov executable (its own venv); omit to skip it")
    ap.add_argument("--kics", default="DataDog+kics", help="KICS snapshot folder under --mirror-root")
    ap.add_argument("--kics-queries", default="", help="a directory of upstream KICS query folders (each with test/)")
    ap.add_argument("--psrule", default="Azure+PSRule.Rules.Azure",
                    help="PSRule for Azure snapshot folder under --mirror-root (else any *+PSRule.Rules.Azure)")
    ap.add_argument("--json", help="write the per-case table here")
    ap.add_argument("--fixtures", action="store_true",
                    help="also score keyless's own fixtures (its labels, so biased towards keyless)")
    ap.add_argument("--keep", action="store_true", help="keep the labelled set (its path is printed)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="keyless-labelled-")
    lab = Labelled(work)
    versions = []
    checkov_git = os.path.join(args.mirror_root, "bridgecrewio+checkov", "repo")
    if os.path.isdir(checkov_git):
        build_checkov(lab, checkov_git)
        versions.append(f"checkov@{head(checkov_git)}")
    queries: dict[str, str] = {}
    kics_git = os.path.join(args.mirror_root, args.kics, "repo")
    if os.path.isdir(kics_git):
        for query in KICS:
            path = f"assets/queries/terraform/azure/{query}"
            if git(kics_git, "ls-tree", "HEAD", path).strip():
                extract(kics_git, path, os.path.join(work, "kics-src", query))
                queries[query] = os.path.join(work, "kics-src", query)
        versions.append(f"{args.kics.replace('+', '/')}@{head(kics_git)}")
    if args.kics_queries:
        for query in KICS:
            if os.path.isdir(os.path.join(args.kics_queries, query, "test")):
                queries[query] = os.path.join(args.kics_queries, query)  # upstream wins over the fork
        versions.append(f"Checkmarx/kics queries from {args.kics_queries}")
    build_kics(lab, queries)
    psrule_git = find_mirror(args.mirror_root, "PSRule.Rules.Azure", args.psrule)
    if psrule_git:
        build_psrule(lab, psrule_git)
        versions.append(f"{psrule_git.split('/')[-2].replace('+', '/')}@{head(psrule_git)}")
    if args.fixtures:
        build_fixtures(lab, os.path.join(os.path.dirname(HERE), "fixtures"))

    shutil.rmtree(os.path.join(work, "kics-src"), ignore_errors=True)
    codes = {c.code for c in lab.cases}
    kf = keyless_flags(work, codes)
    cf = checkov_flags(args.checkov, work, {ck for code in codes for ck in CHECKOV_CHECKS.get(code, [])})
    scores: dict[str, dict[str, Score]] = defaultdict(lambda: {"keyless": Score(), "checkov": Score()})
    rows = []
    for c in lab.cases:
        rel = os.path.normpath(os.path.relpath(os.path.join(c.folder, c.file), work))
        what = f"{c.source}: {rel} {c.rid}"
        peer = "keyless fixtures (biased)" if c.source.startswith("keyless") else "peers"
        hows = ("inside",) if peer != "peers" else ("inside", "parent")
        k = any((c.code, how) in kf.get((rel, c.rid), set()) for how in hows)
        covered = rid_type(c.rid).lower() in {t.lower() for check in CHECKOV_CHECKS.get(c.code, [])
                                              for t in CHECKOV_TYPES.get(check, ())}
        ck = None if cf is None else any((check, how) in cf.get((rel, c.rid), set())
                                         for check in CHECKOV_CHECKS.get(c.code, []) for how in hows)
        groups = [c.source.split(" (")[0] if c.source.startswith("PSRule") else c.source, peer]
        if covered and peer == "peers":
            groups.append("peers, cases checkov has a check for")
        for g in groups:
            scores[g]["keyless"].add(c.label, k, what)
            if ck is not None:
                scores[g]["checkov"].add(c.label, ck, what)
        rows.append({"source": c.source, "code": c.code, "file": rel, "resource": c.rid,
                     "label": "fail" if c.label else "pass", "keyless": k, "checkov": ck})

    print("labelled sources: " + ", ".join(versions))
    print(f"{'source':62s} tool     result")
    for source in sorted(scores, key=lambda s: (s.startswith("peers") or s.startswith("keyless fixtures ("), s)):
        for tool, s in scores[source].items():
            if s.tp + s.fp + s.fn + s.tn:
                print(f"{source:62s} {tool:8s} {s.row()}")
    for g in ("peers", "keyless fixtures (biased)"):
        if g in scores:
            for tool, s in scores[g].items():
                for m in s.misses:
                    print(f"    {g} {tool}: {m}")
    if lab.unmatched:
        print("labels naming no resource in the files:")
        for u in lab.unmatched:
            print(f"    {u}")
    print("peer checks not mapped:")
    for k, v in UNMAPPED.items():
        print(f"    {k}: {v}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cases": rows, "sources": versions}, fh, indent=1)
    if args.keep:
        print(f"labelled set kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
