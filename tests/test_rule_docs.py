"""Rule documentation from the registry: `keyless rules` (legend, JSON), `keyless explain` (where a
rule's code, fixtures and tests live; --all; markdown) and the committed docs/rules/ pages, which a
test keeps in sync. Regenerate them with:
    keyless explain --all --format markdown --output-dir docs/rules
(or KEYLESS_UPDATE_DOCS=1 python -m pytest tests/test_rule_docs.py)."""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import ROOT
from keyless.linter import rule_docs
from keyless.linter.rule import load_registry

PAGES = os.path.join(ROOT, "docs", "rules")


def test_committed_rule_pages_match_the_registry():
    reg = load_registry()
    expected = rule_docs.all_pages(reg)
    if os.environ.get("KEYLESS_UPDATE_DOCS"):
        rule_docs.write_pages(reg, PAGES)
    present = {n for n in os.listdir(PAGES) if n.endswith(".md")}
    assert present == set(expected), (
        "docs/rules/ lists other pages than the registry has rules; regenerate with "
        "`keyless explain --all --format markdown --output-dir docs/rules`")
    stale = [name for name, text in expected.items()
             if open(os.path.join(PAGES, name), encoding="utf-8").read() != text]
    assert not stale, (f"docs/rules/ is stale for {stale[:5]}; regenerate with "
                       "`keyless explain --all --format markdown --output-dir docs/rules`")


def test_every_page_links_to_files_that_exist():
    """A newcomer clicks from the page to the rule's code and fixtures."""
    for name in os.listdir(PAGES):
        text = open(os.path.join(PAGES, name), encoding="utf-8").read()
        for target in re.findall(r"\]\((\.\./\.\./[^)]+)\)", text):
            assert os.path.exists(os.path.normpath(os.path.join(PAGES, target))), (name, target)
        for target in re.findall(r"\]\((KL[0-9]{3}\.md)\)", text):
            assert os.path.exists(os.path.join(PAGES, target)), (name, target)


def test_explain_says_where_code_fixtures_and_tests_live(run_cli):
    rc, out, _ = run_cli("explain", "KL101")
    assert rc == 0
    code_line = next(line for line in out.splitlines() if line.startswith("Code:"))
    path, line = re.search(r"Code:\s+(\S+):(\d+)", code_line).groups()
    source = open(os.path.join(ROOT, path), encoding="utf-8").read().splitlines()
    assert re.match(r"class \w+\(", source[int(line) - 1]), source[int(line) - 1]  # the class itself
    assert "Fixtures: fixtures/KL101/" in out and os.path.isdir(os.path.join(ROOT, "fixtures", "KL101"))
    tests_line = next(line for line in out.splitlines() if line.startswith("Tests:"))
    for name in tests_line.split(":", 1)[1].split(","):
        assert "KL101" in open(os.path.join(ROOT, name.strip()), encoding="utf-8").read()


def test_explain_json_has_the_source_location(run_cli):
    rc, out, _ = run_cli("explain", "KL401", "--format", "json")
    source = json.loads(out)["source"]
    assert rc == 0 and source["file"].startswith("keyless/rules/") and source["fixtures"] == "fixtures/KL401"
    assert source["class"] in open(os.path.join(ROOT, source["file"]), encoding="utf-8").read()


def test_explain_all_markdown_is_every_page(run_cli):
    rc, out, _ = run_cli("explain", "--all", "--format", "markdown")
    reg = load_registry()
    assert rc == 0 and out == rule_docs.all_markdown(reg)
    assert [m for m in re.findall(r"^# (KL[0-9]{3}) ", out, re.M)] == reg.codes
    # each page has one title: the docstrings' headings are level 2 or deeper
    for page in out.split("\n# ")[1:]:
        assert not re.search(r"^# ", page, re.M)


def test_explain_all_writes_pages(run_cli, tmp_path):
    (tmp_path / "KL999.md").write_text("stale")  # a page of a rule that no longer exists goes
    (tmp_path / "notes.md").write_text("mine")  # anything else stays
    rc, _, err = run_cli("explain", "--all", "--format", "markdown", "--output-dir", str(tmp_path))
    assert rc == 0 and "wrote" in err
    assert not (tmp_path / "KL999.md").exists() and (tmp_path / "notes.md").read_text() == "mine"
    assert (tmp_path / "KL101.md").read_text() == rule_docs.rule_page(load_registry().get("KL101"))


@pytest.mark.parametrize("args", [[], ["KL101", "--all"], ["KL101", "--output-dir", "x"],
                                  ["--all", "--output-dir", "x"]])
def test_explain_usage_errors(run_cli, args):
    rc, _, err = run_cli("explain", *args)
    assert rc == 2 and err


def test_rules_text_has_a_legend_for_every_marker(run_cli):
    from keyless.linter.report._common import FIX_MARKERS

    rc, out, _ = run_cli("rules")
    assert rc == 0
    table, legend = out.split("\nLegend:\n", 1)
    used = {m for m in FIX_MARKERS.values() if m in table}
    assert used and all(m in legend for m in used)
    for category in ("secret", "key-auth", "missing-identity", "broad-role", "ambiguous-identity"):
        assert category in legend
    assert len(table.strip().splitlines()) == len(load_registry())


@pytest.mark.parametrize("option", ["--output-format", "--format"])
def test_rules_json_under_both_option_names(run_cli, option):
    rc, out, _ = run_cli("rules", option, "json")
    data = json.loads(out)
    assert rc == 0 and [r["code"] for r in data] == load_registry().codes
    assert all(r["source"]["file"] and "tests" not in r["source"] for r in data)


def test_an_installed_copy_names_no_files_it_does_not_have(monkeypatch):
    """Installed from a wheel, the package's parent is site-packages: never list its tests/."""
    monkeypatch.setattr(rule_docs, "IN_CHECKOUT", False)
    rule = load_registry().get("KL101")
    assert rule_docs.fixtures_dir("KL101") is None and rule_docs.tests_naming("KL101") == []
    lines = rule_docs.where_lines(rule)
    assert lines[0].startswith("Code:     keyless/rules/") and "in the source repository" in lines[1]
    assert not any(line.startswith("Tests:") for line in lines)
