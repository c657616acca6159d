"""The message rules (keyless/linter/messages.py): one short line per finding, details in the help,
no literal `\\n` anywhere a user reads. tests/test_fixtures.py holds every fixture's findings to the
limits; these tests cover the rule metadata, the reports and the helpers."""

from __future__ import annotations

import os
import re

import pytest

from conftest import FIXTURES
from keyless.linter.messages import (
    HELP_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    drop_notes,
    first_fitting,
    fit,
    fitting_list,
    held_to,
    problems,
    short_name,
    trim_notes,
)
from keyless.linter.rule import load_registry


def test_problems_catch_what_breaks_a_line():
    assert problems("Storage account 'x' accepts Shared Key (allowSharedKeyAccess not set)", MESSAGE_MAX) == []
    assert problems("two\nlines", MESSAGE_MAX) == ["message holds a line break or control character"]
    assert problems("a literal \\n escape", MESSAGE_MAX) == ["message holds a literal \\n"]
    assert problems("x" * (MESSAGE_MAX + 1), MESSAGE_MAX) == [f"message is {MESSAGE_MAX + 1} characters (limit {MESSAGE_MAX})"]
    assert problems(" padded", MESSAGE_MAX) == ["message has leading or trailing blanks"]
    assert problems("", MESSAGE_MAX, what="help")[0] == "empty help"


def test_short_name_keeps_both_ends_of_a_long_name():
    assert short_name("orders-api") == "orders-api"
    long = '{{ include "orders.serviceAccountName" . }}'
    shown = short_name(long)
    assert len(shown) == NAME_MAX and shown.startswith("{{ include") and shown.endswith(". }}") and "…" in shown


def test_fit_adds_the_notes_that_fit_in_order():
    text = "Set x = false"
    assert fit(text, ["from var.x", "", "y" * 300], limit=60) == "Set x = false (from var.x)"
    assert fit(text, ["y" * 300, "from var.x"], limit=60) == "Set x = false (from var.x)"
    assert fit(text, [], limit=60) == text


def test_trim_notes_drops_trailing_notes_never_code():
    long = "Set properties: { a: true } where it is set (from parameter 'p') (API version 2023 defaults to false)"
    assert trim_notes(long, 70) == "Set properties: { a: true } where it is set (from parameter 'p')"
    assert trim_notes(long, 50) == "Set properties: { a: true } where it is set"
    assert trim_notes("Use f(x)" * 40, 50) == "Use f(x)" * 40  # a call's parenthesis is no note


def test_first_fitting_prefers_the_fullest_message():
    assert first_fitting("a" * 200, "b" * 100, "c") == "b" * 100
    assert first_fitting("a" * 200, "b" * 200) == "b" * 200  # none fits: the shortest form still says it


def test_fitting_list_names_what_fits_and_counts_the_rest():
    roles = ["'Storage Blob Data Contributor'", "'Storage Queue Data Contributor'", "'Key Vault Secrets User'"]
    assert fitting_list(roles, 500) == f"{roles[0]}, {roles[1]} and {roles[2]}"
    assert fitting_list(roles, 70) == f"{roles[0]} and 2 more"
    assert fitting_list(roles[:1] + roles[:1], 500) == roles[0]  # a repeat is said once
    assert fitting_list(roles, 5) == f"{roles[0]} and 2 more"  # never nothing


def test_drop_notes_removes_notes_from_the_end_wherever_they_are():
    text = "Grant 'A' (or Reader to read only) and 'B' (or Reader), then set guid(a, b) (from parameter 'p')"
    assert drop_notes(text, 200) == text
    assert drop_notes(text, len(text) - 1) == "Grant 'A' (or Reader to read only) and 'B' (or Reader), then set guid(a, b)"
    assert drop_notes(text, 0) == "Grant 'A' and 'B', then set guid(a, b)"  # a call is no note


def test_every_finding_is_held_to_the_limits_whatever_composed_it(monkeypatch):
    """The safety net for rules that do not fit their own text (a third-party rule, names from a big
    project): notes go first, then the text is cut at a word; the redacted secret stays redacted."""
    from keyless.linter import messages
    from keyless.linter.finding import Applicability, Category, Fix, Severity, Span
    from keyless.linter.rule import Rule

    monkeypatch.setattr(messages, "STRICT", False)
    assert held_to("short", MESSAGE_MAX) == "short"
    noted = "Key abcd…(88 chars) of 'orders' (from parameter 'p') (connection string); rotate it"
    assert held_to(noted, 60) == "Key abcd…(88 chars) of 'orders'; rotate it"
    cut = held_to("word " * 60, MESSAGE_MAX)
    assert len(cut) <= MESSAGE_MAX and cut.endswith("…") and "  " not in cut

    class Plugin(Rule):
        code, name, category, severity, message = "KL999", "plugin", Category.SECRET, Severity.LOW, "m"

    f = Plugin().finding("a.py", Span.of(1, 1, 1, 2), key="k",
                         message="m" * 500, fix=Fix("h " * 300, Applicability.DISPLAY_ONLY))
    assert problems(f.message, MESSAGE_MAX) == [] and problems(f.fix.message, HELP_MAX, what="help") == []


@pytest.mark.parametrize("rule", list(load_registry()), ids=lambda r: r.code)
def test_rule_summary_is_one_short_line(rule):
    """`Rule.message` is SARIF's shortDescription and `keyless rules`' summary."""
    assert problems(rule.message, MESSAGE_MAX) == [], rule.message


def test_every_rule_has_fixtures_whose_findings_the_harness_checks():
    # the limits are enforced where findings are produced: every rule's bad fixtures (test_fixtures.py)
    codes = {c for c in os.listdir(FIXTURES) if re.fullmatch(r"KL\d{3}", c)}
    assert {r.code for r in load_registry()} <= codes


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory):
    """One cache for the demo runs of this module: the demo is linted once, rendered many times."""
    return str(tmp_path_factory.mktemp("demo-cache"))


def test_demo_report_has_no_literal_newlines_and_short_lines(run_cli, demo_cache):
    """Regression: KL401/KL501/KL505 help carried multi-line snippets that every report printed as a
    literal `\\n`. The demo has all three."""
    demo = os.path.join(FIXTURES, "demo")
    rc, out, _ = run_cli("check", "--cache-dir", demo_cache, demo, cwd=demo)
    assert rc == 1
    lines = out.splitlines()[:-1]  # the summary
    codes = {m.group(1) for ln in lines if (m := re.search(r": (KL\d{3}) \[", ln))}
    assert {"KL401", "KL501", "KL505"} <= codes
    assert not [ln for ln in lines if "\\n" in ln]
    for ln in lines:
        if ln.startswith("  "):  # `  [guidance] help: ...`
            assert len(ln.split(" help: ", 1)[1]) <= HELP_MAX, ln
        else:  # path:line:col: CODE [severity] message
            assert len(ln.split("] ", 1)[1]) <= MESSAGE_MAX, ln


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "azure", "junit", "gitlab"])
def test_machine_formats_carry_no_literal_newlines_in_text(run_cli, demo_cache, fmt):
    import json

    demo = os.path.join(FIXTURES, "demo")
    rc, out, _ = run_cli("check", "--cache-dir", demo_cache, demo, "--output-format", fmt, cwd=demo)
    assert rc == 1
    if fmt == "json":
        texts = [t for f in json.loads(out)["findings"] for t in (f["message"], (f["fix"] or {}).get("message", ""))]
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        texts = [r["message"]["text"] for r in results]
        texts += [x["description"]["text"] for r in results for x in r.get("fixes", [])]
    else:
        texts = out.splitlines()
    assert texts and not [t for t in texts if "\\n" in t]


# ---- advice fits the file kind it is about (KL1xx help) ---------------------------------------------

AI_KEY = "0123456789abcdef0123456789abcdef"  # 32 hex digits, the classic Azure AI services key shape


def _kl111(text: str, relpath: str):
    from keyless.linter.engine import lint_source

    found = [f for f in lint_source(text, relpath, select=["KL111"]) if f.code == "KL111"]
    assert found, f"no KL111 in {relpath}"
    return found[0]


def test_env_line_gets_no_python_and_no_key_vault_reference():
    """Regression: a secret in a local `.env` line was told to write Python code and an App Service
    Key Vault reference."""
    f = _kl111(f"AZURE_OPENAI_ENDPOINT=https://orders-ai.openai.azure.com\nAZURE_OPENAI_API_KEY={AI_KEY}\n", ".env")
    help_ = f.fix.message
    assert "az login" in help_ and "keep only the endpoint" in help_
    assert "AzureOpenAI(" not in help_ and "get_bearer_token_provider" not in help_ and "@Microsoft.KeyVault" not in help_


def test_bicep_and_terraform_get_their_own_syntax():
    bicep = _kl111(f"param openAiKey string = '{AI_KEY}'\nvar endpoint = 'https://orders-ai.openai.azure.com'\n",
                   "infra/main.bicep")
    assert "disableLocalAuth: true" in bicep.fix.message and "getSecret()" in bicep.fix.message
    assert "AzureOpenAI(" not in bicep.fix.message
    hcl = _kl111(f'variable "openai_key" {{\n  default = "{AI_KEY}"\n}}\n# https://orders-ai.openai.azure.com\n',
                 "infra/main.tf")
    assert "local_auth_enabled = false" in hcl.fix.message and "azurerm_key_vault_secret" in hcl.fix.message


def test_openai_v1_client_gets_the_token_provider_as_api_key():
    """Regression: the Azure OpenAI v1 API (`OpenAI(base_url=".../openai/v1/")`) takes the token
    provider as `api_key` (Microsoft Learn, "How to switch between OpenAI and Azure OpenAI
    endpoints"); `azure_ad_token_provider=` belongs to `AzureOpenAI`."""
    v1 = _kl111(f'from openai import OpenAI\nclient = OpenAI(base_url="https://orders-ai.openai.azure.com/openai/v1/", '
                f'api_key="{AI_KEY}")\n', "app/chat.py")
    assert "api_key=get_bearer_token_provider(DefaultAzureCredential()" in v1.fix.message
    assert "azure_ad_token_provider" not in v1.fix.message
    classic = _kl111(f'from openai import AzureOpenAI\nclient = AzureOpenAI(azure_endpoint="https://orders-ai.openai.azure.com", '
                     f'api_key="{AI_KEY}", api_version="2024-06-01")\n', "app/chat.py")
    assert "azure_ad_token_provider=get_bearer_token_provider(" in classic.fix.message


def test_limits_hold_when_the_whole_fixture_tree_is_one_project(run_cli, tmp_path):
    """Regression: project rules list what the whole repository's code uses (KL401 roles, KL260 key
    users, KL404 identity-based clients): in a big project their help grew past the limit (726
    characters) and repeated a role. One scan of every fixture as one project is such a repository."""
    import json

    rc, out, _ = run_cli("check", "--cache-dir", str(tmp_path / "cache"), FIXTURES, "--output-format", "json",
                         cwd=os.path.dirname(FIXTURES))
    assert rc == 1
    findings = json.loads(out)["findings"]
    assert {"KL401", "KL260", "KL271", "KL404"} <= {f["code"] for f in findings}
    bad = []
    for f in findings:
        where = f"{f['path']}:{f['location']['line']} {f['code']}"
        bad += [f"{where}: {p}" for p in problems(f["message"], MESSAGE_MAX)]
        if f["fix"]:
            help_text = f["fix"]["message"]
            bad += [f"{where}: {p}" for p in problems(help_text, HELP_MAX, what="help")]
            quoted = re.findall(r"'[^']+ Data [^']+'", help_text)
            if len(quoted) != len(set(quoted)):
                bad.append(f"{where}: a role named twice: {help_text}")
    assert not bad, "\n".join(bad[:20])
