"""Never hang: no rule is super-linear on huge files or very long lines, and a file whose check
outlives its time budget stops with a partial-check warning.

Scaling is measured, not timed: every rule of every family runs on an adversarial document at a
size n (where it takes at least `MIN_SECONDS` of process time) and at 4n; linear code grows ~4x,
quadratic ~16x, and the check fails above `MAX_GROWTH` (three tries: noise only ever slows one).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import time
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import keygen

from keyless.linter import engine
from keyless.linter.documents import make_document
from keyless.linter.engine import RuleSet, Settings, lint_document, resolve_selection, rule_set
from keyless.linter.rule import load_registry

MIN_SECONDS = 0.02
MAX_GROWTH = 8.0
MAX_SIZE = 1_500_000

ALL = Settings(root="/nonexistent-root", select=resolve_selection(load_registry(), ["ALL"]), file_budget=0)


def measured(fn: Callable[[], object]) -> float:
    """The process time `fn()` takes. The collector's full passes land at sizes of their own
    choosing: one in the 4n run looks like a super-linear slope. Keep it out of the measured run
    (it runs after, when enabled)."""
    gc.disable()
    try:
        t0 = time.process_time()
        fn()
        return time.process_time() - t0
    finally:
        gc.enable()


def scaling(cost: Callable[[int], float], start: int, max_size: int = MAX_SIZE) -> float:
    """t(4n)/t(n) for `cost(n)` (the process time of the work at size n), n the first size
    (doubling from `start`) that costs MIN_SECONDS; the smallest of three tries when it looks
    super-linear. A step is not a slope: bounded work that starts at some size (a parser's read
    budget, a window filling up) can make one 4x step look steep, so a steep step is checked
    against the next one (t(16n)/t(4n)); super-linear code is steep at every step. A first run,
    not measured, loads what the work loads once per process (grammars, queries)."""
    cost(start)
    best = None
    for _ in range(3):
        n = start
        while True:
            t1 = cost(n)
            if t1 >= MIN_SECONDS or n >= max_size:
                break
            n *= 2
        t4 = cost(4 * n)
        ratio = t4 / max(t1, 1e-4)
        if ratio > MAX_GROWTH and 16 * n <= 4 * max_size:
            ratio = min(ratio, cost(16 * n) / max(t4, 1e-4))
        best = ratio if best is None else min(best, ratio)
        if best <= MAX_GROWTH:
            break
    return best


def every_rule() -> RuleSet:
    """Every registered rule with the keyword prefilter off: each rule of a file's kind (and the
    reader it asks for) runs on any text."""
    rules = rule_set()
    return dataclasses.replace(rules, rule_keywords=[None] * len(rules.rules))


def growth(name: str, unit: str | Callable[[int], str], start: int = 16_000, head: str = "",
           rules: RuleSet | None = None, workspace=None) -> float:
    """`scaling` of linting the document `name` made of `head` and `unit` repeated to the size
    (or `unit(size)` when it is a function of the size). `rules`: another rule set (default:
    every registered rule, keyword-prefiltered); `workspace`: the document's companions."""
    rule_set()

    def cost(size: int) -> float:
        doc = make_document("/nonexistent-root/" + name, name,
                            head + (unit(size) if callable(unit) else (unit * (size // len(unit) + 1))[:size]))
        if workspace is not None:
            doc.workspace = workspace
        return measured(lambda: lint_document(doc, ALL, rules))

    return scaling(cost, start)


# Units built from what the recognisers and readers look for: each repeated, on one huge line
# (minified files) or on many lines.
UNITS = {
    "libpq lines (the issue's 240 s file)": "host=x.postgres.database.azure.com password=y " + "a" * 3000 + "\n",
    "libpq on one line": "host=x.postgres.database.azure.com password=y aaaaaaaaaaaaaaaaaaaaaaaaaaaa ",
    "connection string pairs": "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc;EndpointSuffix=e;",
    "unterminated quoted values": "Password='aaaaaaaa Server={bbbbbbb AccountKey=\"cccccc ",
    "names and values": "key=1 secret=2 password=3 pwd=4 credential=5 name: x value: aaaaaaaaaaaaa ",
    "docker login flags": "docker login crx.azurecr.io -u u -p Abcdefghijklmnop1234 ",
    "npmrc passwords": "//pkgs.dev.azure.com/:_password=QWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=",
    "URIs with user info": "postgres://user:pass@x.postgres.database.azure.com/db x://aaaaaaaa:",
    "SAS and function keys": "?sv=2020&sig=abc&se=1 https://f.azurewebsites.net/api/f?code=abcdefghij ",
    "dotted hosts": "Endpoint=sb://" + "a." * 400 + "servicebus.windows.net/;SharedAccessKey=x;",
    "signatures": "+ASt8Q~JQQJ9AzSe",
    "suppression comments": "# keyless: ignore[KL101 keyless: ignore[",
    "Terraform interpolations": 'scope = "/subscriptions/${${${var.x',
    "ARM expressions": "\"[format('{0:{0:{0:', concat(parameters('aaaaaaaaaa'",
    "role GUIDs": "acrPull = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' // AcrPull\n",
}
UNITS.update({
    "Bicep strings": "var x = 'a\\'b\\'c ${'${y}'} " + "'" * 3 + "m" + "'" * 3 + " // c\n",
    "unclosed Bicep strings": "'a\\",
    "script substitutions": 'echo ${{ $[ $( ${ "$(az keyvault secret show) ${x}" ',
})
KINDS = ["x.txt", "x.py", "x.yaml", "x.json", "main.tf", ".env", "main.bicep", "deploy.sh", "deploy.ps1"]
# A resource on top so that the readers of the structured kinds really run (rules are prefiltered
# by keywords and parse lazily).
HEADS = {
    "main.bicep": "resource app 'Microsoft.Web/sites@2022-03-01' = {\n  name: 'x'\n  identity: { type: 'None' }\n}\n",
    "deploy.sh": "az role assignment create --role Owner --scope /subscriptions/x --assignee y\n",
    "deploy.ps1": "New-AzRoleAssignment -ObjectId $id -RoleDefinitionName Owner\n",
}


@pytest.mark.parametrize("unit", sorted(UNITS))
@pytest.mark.parametrize("name", KINDS)
def test_every_rule_is_linear_on_huge_adversarial_files(unit, name):
    ratio = growth(name, UNITS[unit], head=HEADS.get(name, ""))
    assert ratio <= MAX_GROWTH, f"{unit} in {name}: 4x the input took {ratio:.1f}x the time"



# Hostile payloads (long runs and near-matches that make backtracking patterns and error-recovering
# parsers blow up), each given to every rule of every file kind with the keyword prefilter off, so
# that every reader and every rule of the kind really runs on it.
def _random_base64(size: int) -> str:
    import base64
    import random

    return base64.b64encode(random.Random(7).randbytes(size * 3 // 4 + 3)).decode()[:size]


PAYLOADS: dict[str, str | Callable[[int], str]] = {
    "random base64": _random_base64,
    "two key-like runs": lambda n: "A" * (n // 2) + "=" + "a" * (n // 2),
    "key= pairs, then a long value": lambda n: ";key=" * (n // 10) + ";AccountKey=" + "x" * (n // 2),
    "account keys and encoded signatures": "AccountKey=" + "A" * 85 + " sig=" + "%2B" * 300 + "&",
    "URLs with long dotted hosts": "https://" + "a." * 5000 + "blob.core.windows.net/?sv=" + "x" * 1000 + "&",
    "quote and brace runs": lambda n: '"' * (2 * n // 5) + "'" * (2 * n // 5) + "{" * (n // 5),
}
EVERY_KIND = ["a.py", "a.yaml", "a.json", "a.tf", ".env", "a.md", "a.sh", "a.ps1", "Dockerfile", "Makefile",
              "a.ipynb", "a.bicep"]


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@pytest.mark.parametrize("name", EVERY_KIND)
def test_every_rule_of_every_kind_is_linear_on_hostile_payloads(payload, name):
    ratio = growth(name, PAYLOADS[payload], rules=every_rule())
    assert ratio <= MAX_GROWTH, f"{payload} in {name}: 4x the input took {ratio:.1f}x the time"

# Realistic documents (valid for their reader, so the structured rules run too), scaled up.
def _python_unit() -> str:
    return ("from azure.identity import DefaultAzureCredential\nfrom azure.storage.blob import BlobServiceClient\n"
            "credential = DefaultAzureCredential()\nclient = BlobServiceClient('https://a.blob.core.windows.net',"
            " credential=credential)\nconn = 'AccountName=x;AccountKey=abcdefghijklmnopqrstuvwxyz0123456789ABCD=='\n")


def _yaml_unit() -> str:
    return ("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    metadata:\n"
            "      labels:\n        azure.workload.identity/use: \"true\"\n    spec:\n      containers:\n"
            "        - name: api\n          env:\n            - name: PASSWORD\n              value: s3cr3tValue99\n")


def _tf_unit(i: int) -> str:
    return (f'resource "azurerm_role_assignment" "r{i}" {{\n  scope = data.azurerm_subscription.current.id\n'
            f'  role_definition_name = "Contributor"\n  principal_id = "x"\n}}\n')


@pytest.mark.parametrize("name,make", [
    ("app.py", lambda n: _python_unit() * n),
    ("deploy.yaml", lambda n: _yaml_unit() * n),
    ("main.tf", lambda n: "".join(_tf_unit(i) for i in range(n))),
    ("azuredeploy.json", lambda n: json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "resources": [{"type": "Microsoft.Web/sites", "name": f"app{i}", "apiVersion": "2022-03-01",
                       "properties": {"siteConfig": {"appSettings": [{"name": "KEY", "value": "[listKeys('x')]"}]}}}
                      for i in range(n)]}, indent=1)),
    # the secret scan's Terraform and ARM literals (database passwords, the variables they read)
    ("db.tf", lambda n: "".join(f'resource "azurerm_mssql_server" "s{i}" {{\n'
                                f'  administrator_login_password = var.p{i}\n}}\n'
                                f'variable "p{i}" {{\n  default = "Abcd{i}!xyz"\n}}\n' for i in range(n))),
    ("azuredeploy.parameters.json", lambda n: json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "parameters": {f"azureSqlAdminPassword{i}": {"value": f"Abcd{i}!xyz"} for i in range(n)}}, indent=1)),
])
def test_structured_rules_are_linear_in_the_number_of_resources(name, make):
    rule_set()

    def cost(n: int) -> float:
        doc = make_document("/nonexistent-root/" + name, name, make(n))
        return measured(lambda: lint_document(doc, ALL))

    ratio = scaling(cost, 25, max_size=20_000)
    assert ratio <= MAX_GROWTH, f"{name}: 4x the input took {ratio:.1f}x the time"


# The secret scan's decoded views, each in the file kind that turns it on (one huge line or many).
_B64_CONN = "U2VydmVyPXRjcDp4LmRhdGFiYXNlLndpbmRvd3MubmV0O1Bhc3N3b3JkPUFiY2RlZmdoMTIzNDU7"  # Server=...;Password=...
DECODED_VIEWS = {
    "escaped strings": ("x.txt", "", '\\"AccountKey=abcdefgh\\u0026sig=x%3Dq&amp;\\u00'),
    "Kubernetes Secret data": ("s.yaml", "", f"---\nkind: Secret\ndata:\n  a: {_B64_CONN}\n  b: {_B64_CONN}\n"),
    "joined Python literals": ("app.py", "", 'conn = ("AccountKey=" "abcdefgh"\n  "Password=" + "xyz" f"{a}")\n'),
    "Azure-named YAML keys": ("values.yaml", "", "- cosmos:\n    key: abcdefghijklmnop\n  storage:\n    secret: qwertyu\n"),
}


@pytest.mark.parametrize("view", sorted(DECODED_VIEWS))
def test_the_secret_scans_decoded_views_are_linear(view):
    name, head, unit = DECODED_VIEWS[view]
    ratio = growth(name, unit, head=head)
    assert ratio <= MAX_GROWTH, f"{view}: 4x the input took {ratio:.1f}x the time"


# The riskiest parser, property-style: any repetition of connection-string-ish fragments.
FRAGMENTS = ["host=", "password=", "AccountKey=", "Server=", "Endpoint=sb://", "user:", "@", "://", "'", '"', "{",
             "}", ";", ",", " ", "=", "a" * 20, "sig=", "code=", "keyless: ignore[", "${", "\\", "\n", "key "]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6))
def test_any_repetition_of_connection_string_fragments_scans_in_linear_time(parts):
    unit = "".join(parts)
    ratio = growth("x.txt", unit, start=8_000)
    assert ratio <= MAX_GROWTH, f"{unit!r}: 4x the input took {ratio:.1f}x the time"


# ---- the per-file budget ------------------------------------------------------------------------------

# Generated client secrets: each finding's fingerprint is the cheap one for random key material
# (a value a person could have typed gets the slow one: 400 of them took 4 s of the suite).
SECRETS = "".join(f"AZURE_CLIENT_SECRET_{i} = '{keygen.aad_secret(seed=i)}'\n" for i in range(400))


def test_a_spent_budget_stops_the_check_and_says_so():
    doc = make_document("/r/a.py", "a.py", SECRETS)
    res = lint_document(doc, Settings(root="/r", select=ALL.select, file_budget=1e-9))
    assert res.error_kind == "partial" and engine.PARTIAL_CHECK in res.error
    full = lint_document(make_document("/r/a.py", "a.py", SECRETS), ALL)
    assert full.error is None and full.findings


def test_the_scanner_keeps_what_it_found_before_the_budget_ran_out(monkeypatch):
    """The budget runs out part-way through the scan (a tick counter stands for the clock): the
    secrets found so far are reported, and the file is a partial check."""
    from keyless.linter import rule as rule_module

    ticks = {"n": 0, "stop": None}

    def tick(self) -> None:
        ticks["n"] += 1
        if ticks["stop"] is not None and ticks["n"] > ticks["stop"]:
            self.doc.memo[rule_module.PARTIAL_KEY] = True
            raise rule_module.BudgetExceeded()

    monkeypatch.setattr(rule_module.Budget, "tick", tick)
    full = lint_document(make_document("/r/a.txt", "a.txt", SECRETS), ALL)
    ticks.update(n=0, stop=ticks["n"] // 4)  # a quarter of the way through the same scan
    res = lint_document(make_document("/r/a.txt", "a.txt", SECRETS), ALL)
    assert full.error is None and res.error_kind == "partial"
    assert 0 < len(res.findings) < len(full.findings)
    assert {f.fingerprint for f in res.findings} <= {f.fingerprint for f in full.findings}


def test_a_partial_check_is_a_warning_and_is_not_cached(run_cli, tmp_path, monkeypatch):
    from conftest import write

    monkeypatch.setattr(engine, "FILE_BUDGET", 1e-9)
    write(tmp_path, "a.py", "from azure.identity import DefaultAzureCredential\ncredential = DefaultAzureCredential()\n")
    cache = str(tmp_path / "cache")
    rc, out, err = run_cli("check", "a.py", "--cache-dir", cache)
    assert rc == 0, (out, err)  # a warning: the exit code belongs to the findings (and --strict)
    assert "a.py" in out + err and engine.PARTIAL_CHECK in out + err
    rc, out, err = run_cli("check", "a.py", "--cache-dir", cache)
    assert engine.PARTIAL_CHECK in out + err  # checked again, not replayed from the cache
    monkeypatch.setattr(engine, "FILE_BUDGET", 15.0)
    rc, out, err = run_cli("check", "a.py", "--cache-dir", cache)
    assert engine.PARTIAL_CHECK not in out + err
