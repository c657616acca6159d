"""What CI platforms read from keyless's reports (issue 16): SARIF as GitHub code scanning and
Azure DevOps read it (severity per result, stable rule ids, helpUri, informationUri, fullName,
automationDetails), JUnit as Jenkins xunit (junit-10.xsd), GitLab and Azure DevOps read it, and
GitHub workflow annotations (10 shown per kind and step)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from jsonschema import FormatChecker

from conftest import FIXTURES, ROOT, SARIF_SCHEMA, TEST_DATA
from keyless.linter.finding import Severity
from keyless.linter.report import _common

# A fake storage key, as in fixtures/KL101.
KEY_LINE = "AZURE_STORAGE_KEY=nQWmT9nyFp6ICUppHFqb7Ok+/oZDxOLQX6jxUI446QJ/iP5yC/PxcSe+6ITG3GrvmWlCN3iBfwfkZeiEBQUSbQ==\n"


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(Path(SARIF_SCHEMA).read_text())
    return jsonschema.Draft4Validator(schema, format_checker=FormatChecker())


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A copy of fixtures/demo: its KL401 findings are rated critical, medium and high (the rule's
    default), its secrets by their kind."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(os.path.join(FIXTURES, "demo"), root / "demo")
    return root / "demo"


def run_keyless(cwd, *args, env=None):
    return subprocess.run([sys.executable, "-m", "keyless", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def demo_sarif(demo):
    proc = run_keyless(demo, "check", "--no-cache", "--output-format", "sarif")
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def tiny_report(**changes):
    """A report of the real registry: two findings of KL401, one at the rule's severity."""
    import dataclasses

    from keyless.linter.finding import Span
    from keyless.linter.report import Report
    from keyless.linter.rule import load_registry

    reg = load_registry()
    rule = reg.get("KL401")()
    findings = [rule.finding("infra/a.json", Span.of(3, 5, 3, 9), key="a"),
                rule.finding("infra/a.json", Span.of(9, 5, 9, 9), key="b", severity=Severity.CRITICAL)]
    report = Report(findings=findings, errors=[], notes=[], registry=reg, files_scanned=1, root="/work/proj")
    return dataclasses.replace(report, **changes)


def band(score: float) -> str:
    """GitHub's bands for security-severity (docs: "SARIF support for code scanning")."""
    return "critical" if score >= 9.0 else "high" if score >= 7.0 else "medium" if score >= 4.0 else "low"


# ---- SARIF -----------------------------------------------------------------------------------------

def test_github_shows_every_result_at_keyless_severity(demo_sarif, sarif_validator):
    """GitHub takes the severity from the rule a result points at; it must be the finding's."""
    assert not list(sarif_validator.iter_errors(demo_sarif))
    run = demo_sarif["runs"][0]
    from keyless.linter.rule import load_registry

    registry = load_registry()
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    kl401 = set()
    for res in run["results"]:
        rule = rules[res["ruleIndex"]]
        assert rule["id"] == res["ruleId"]
        severity = Severity(res["properties"]["severity"])
        github = band(float(rule["properties"]["security-severity"]))
        assert github == (severity.value if severity is not Severity.INFO else "low"), res["ruleId"]
        assert rule["defaultConfiguration"]["level"] == res["level"] == severity.sarif_level
        code = res["ruleId"].split("-")[0]
        default = registry.get(code).severity
        assert res["ruleId"] == (code if severity is default else f"{code}-{severity.value}")
        if code == "KL401":
            kl401.add(res["ruleId"])
    # the demo's Owner at subscription scope is critical although KL401's default is high
    assert "KL401-critical" in kl401


def test_split_descriptors_keep_the_rule_metadata(demo_sarif):
    rules = {r["id"]: r for r in demo_sarif["runs"][0]["tool"]["driver"]["rules"]}
    base, split = rules["KL401"], rules["KL401-critical"]
    for key in ("name", "shortDescription", "fullDescription", "help"):
        assert split[key] == base[key]
    assert split["properties"]["tags"] == base["properties"]["tags"]
    assert split["properties"]["security-severity"] == Severity.CRITICAL.security_severity
    # the registry's descriptors come first, in code order, so their ruleIndex never moves
    ids = list(rules)
    first_split = next(i for i, r in enumerate(ids) if "-" in r)
    assert all("-" not in r for r in ids[:first_split]) and ids[:first_split] == sorted(ids[:first_split])


def test_rule_ids_are_stable_across_runs(demo, demo_sarif):
    """A result's ruleId depends on its code and severity only: another run (other files scanned
    first, findings elsewhere) gives every unchanged finding the same ruleId."""
    (demo / "aaa_first.env").write_text(KEY_LINE)
    try:
        proc = run_keyless(demo, "check", "--no-cache", "--output-format", "sarif")
        again = json.loads(proc.stdout)
    finally:
        (demo / "aaa_first.env").unlink()

    def ids(doc):
        return {(*r["partialFingerprints"].values(), r["ruleId"]) for r in doc["runs"][0]["results"]}

    assert ids(demo_sarif) <= ids(again)


def test_driver_names_and_automation_details(demo_sarif):
    run = demo_sarif["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "keyless" and driver["fullName"].startswith("keyless ")
    assert driver["version"] in driver["fullName"]
    assert run["automationDetails"] == {"id": "keyless/"}


def test_automation_id_names_the_project_directory(tmp_path):
    """A monorepo job per folder: each uploads its own analysis category."""
    (tmp_path / ".git").mkdir()
    svc = tmp_path / "services" / "api"
    svc.mkdir(parents=True)
    (svc / ".keyless.toml").write_text("")
    (svc / "app.env").write_text(KEY_LINE)
    proc = run_keyless(svc, "check", "--no-cache", "--output-format", "sarif")
    run = json.loads(proc.stdout)["runs"][0]
    assert run["automationDetails"] == {"id": "keyless/services/api/"}


class _Dist:
    def __init__(self, urls=(), direct=None, version="0.1.0"):
        self.version = version
        self._urls = list(urls)
        self._direct = direct

        class Meta:
            @staticmethod
            def get_all(name):
                return self._urls

        self.metadata = Meta()

    def read_text(self, name):
        assert name == "direct_url.json"
        return None if self._direct is None else json.dumps(self._direct)


@pytest.fixture
def installed_as(monkeypatch):
    import importlib.metadata

    def install(dist):
        monkeypatch.setattr(importlib.metadata, "distribution", lambda name: dist)
        _common.project_source.cache_clear()

    yield install
    _common.project_source.cache_clear()


SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("url,expected", [
    ("https://github.com/team/keyless", f"https://github.com/team/keyless/blob/{SHA}/docs/rules/KL101.md"),
    ("https://x-access-token:SECRETTOKEN@github.com/team/keyless.git",
     f"https://github.com/team/keyless/blob/{SHA}/docs/rules/KL101.md"),
    ("https://gitlab.example.com/team/keyless", f"https://gitlab.example.com/team/keyless/-/blob/{SHA}/docs/rules/KL101.md"),
    ("https://dev.azure.com/org/proj/_git/keyless",
     f"https://dev.azure.com/org/proj/_git/keyless?path=/docs/rules/KL101.md&version=GC{SHA}"),
])
def test_help_uri_from_a_git_install(installed_as, url, expected):
    """`pip install git+URL@REV` records the URL and commit (PEP 610): links point at the rule's
    page at exactly that revision, never with the URL's credentials."""
    installed_as(_Dist(direct={"url": url, "vcs_info": {"vcs": "git", "commit_id": SHA}}))
    assert _common.rule_url("KL101") == expected
    assert "SECRETTOKEN" not in (_common.project_url() or "")


@pytest.mark.parametrize("direct", [
    None,  # installed from an index or a wheel file
    {"url": "file:///home/me/keyless", "dir_info": {"editable": True}},  # a local clone
    {"url": "ssh://git@github.com/team/keyless", "vcs_info": {"vcs": "git", "commit_id": SHA}},
    {"url": "https://github.com/team/keyless", "vcs_info": {"vcs": "git", "commit_id": "not a sha"}},
])
def test_no_links_without_a_public_source(installed_as, direct, sarif_validator):
    from keyless.linter.report import render

    installed_as(_Dist(direct=direct))
    assert _common.project_url() is None and _common.rule_url("KL101") is None
    doc = json.loads(render("sarif", tiny_report()))
    assert not list(sarif_validator.iter_errors(doc))
    driver = doc["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver and all("helpUri" not in r for r in driver["rules"])


def test_links_in_a_valid_sarif(installed_as, sarif_validator):
    from keyless.linter.report import render

    installed_as(_Dist(urls=["Repository, https://github.com/team/keyless"], version="1.4.0"))
    doc = json.loads(render("sarif", tiny_report()))
    assert not list(sarif_validator.iter_errors(doc))
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://github.com/team/keyless"
    for rule in driver["rules"]:
        code = rule["id"].split("-")[0]
        assert rule["helpUri"] == f"https://github.com/team/keyless/blob/v1.4.0/docs/rules/{code}.md"
        assert os.path.exists(os.path.join(ROOT, "docs", "rules", f"{code}.md"))


MULTITOOL = os.environ.get("KEYLESS_SARIF_MULTITOOL")


@pytest.mark.skipif(not (MULTITOOL and os.access(MULTITOOL, os.X_OK)),
                    reason="set KEYLESS_SARIF_MULTITOOL to the Sarif.Multitool binary (bench/sarif_multitool.py)")
def test_sarif_multitool_finds_no_error_or_warning(tmp_path):
    """Microsoft's validator with the SARIF and GitHub rule sets: keyless passes, a broken log fails."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sarif_multitool", os.path.join(ROOT, "bench", "sarif_multitool.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "sarif_multitool.py"), "--multitool", MULTITOOL,
                           "fixtures/demo"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "X1"}]}},
                                            "results": [{"ruleId": "X1", "message": {}}]}]}
    (tmp_path / "broken.sarif").write_text(json.dumps(broken))
    found = {(r["ruleId"], r.get("level", "warning")) for r in bench.validate(MULTITOOL, str(tmp_path / "broken.sarif"))}
    assert any(level == "error" for _, level in found), found


# ---- JUnit -------------------------------------------------------------------------------------------

JUNIT_READERS = json.loads(Path(TEST_DATA, "junit-readers.json").read_text())


def junit_problems(xml_text: str) -> list[str]:
    """Everything in `xml_text` that a reader in tests/data/junit-readers.json would reject."""
    import re

    rules = JUNIT_READERS["elements"]
    root = ET.fromstring(xml_text.encode())
    problems = []
    if root.tag not in JUNIT_READERS["roots"]:
        problems.append(f"root <{root.tag}>")
    keys: set[tuple] = set()
    for el in root.iter():
        rule = rules.get(el.tag)
        if rule is None:
            problems.append(f"unknown element <{el.tag}>")
            continue
        problems += [f"<{el.tag}> has attribute {a!r}" for a in el.attrib if a not in rule["attributes"]]
        problems += [f"<{el.tag}> lacks attribute {a!r}" for a in rule["required"] if a not in el.attrib]
        problems += [f"<{el.tag}> holds <{c.tag}>" for c in el if c.tag not in rule["children"]]
        if not rule["text"] and (el.text or "").strip():
            problems.append(f"<{el.tag}> holds text")
        if el.tag in JUNIT_READERS["time_pattern_applies_to"] and "time" in el.attrib:
            if not re.fullmatch(JUNIT_READERS["time_pattern"], el.get("time")):
                problems.append(f"<{el.tag}> time {el.get('time')!r}")
        if el.tag == "testcase":
            key = tuple(el.get(a) for a in JUNIT_READERS["unique_testcase_key"])
            if key in keys:
                problems.append(f"duplicate test case {key}")
            keys.add(key)
        if el.tag == "testsuite":
            cases = el.findall("testcase")
            counts = {"tests": len(cases), "failures": sum(c.find("failure") is not None for c in cases),
                      "errors": sum(c.find("error") is not None for c in cases),
                      "skipped": sum(c.find("skipped") is not None for c in cases)}
            problems += [f"<testsuite {el.get('name')}> {k}={el.get(k)} for {v}" for k, v in counts.items()
                         if el.get(k) is not None and int(el.get(k)) != v]
    if root.tag == "testsuites":
        for k in ("tests", "failures", "errors"):
            total = sum(int(s.get(k)) for s in root.findall("testsuite"))
            if root.get(k) is not None and int(root.get(k)) != total:
                problems.append(f"<testsuites> {k}={root.get(k)} for {total}")
    return problems


def test_the_junit_check_rejects_what_jenkins_rejects():
    """The check can fail: keyless's previous shape (testcase@file and @line, testsuites@skipped)."""
    old = ('<testsuites name="keyless" tests="1" failures="1" errors="0" skipped="0">'
           '<testsuite name="a.py" tests="1" failures="1" errors="0" skipped="0">'
           '<testcase name="KL101 x at 3:8" classname="keyless.KL101" file="a.py" line="3">'
           '<failure message="m" type="KL101">t</failure></testcase></testsuite></testsuites>')
    assert set(junit_problems(old)) == {"<testsuites> has attribute 'skipped'", "<testcase> has attribute 'file'",
                                        "<testcase> has attribute 'line'"}
    dup = old.replace(' skipped="0">', ">", 1).replace(' file="a.py" line="3"', "")
    dup = dup.replace("</testcase>", "</testcase>" + dup[dup.index("<testcase"):dup.index("</testcase>")]
                      + "</testcase>", 1)
    assert any("duplicate test case" in p for p in junit_problems(dup))


def test_junit_from_a_real_run_is_accepted_by_every_reader(demo):
    proc = run_keyless(demo, "check", "--no-cache", "--output-format", "junit")
    assert proc.returncode == 1 and not junit_problems(proc.stdout)
    suites = ET.fromstring(proc.stdout.encode()).findall("testsuite")
    assert all(s.get("file") == s.get("name") for s in suites)


def test_junit_edge_cases_are_accepted(tmp_path):
    from keyless.linter.finding import Span
    from keyless.linter.report import FileError, render

    report = tiny_report()
    same_place = [report.findings[0], report.findings[0].with_(fingerprint="other")]
    errors = [FileError("infra/a.json", "unreadable"), FileError("infra/b.yaml", "invalid YAML", 4, level="warning"),
              FileError("infra/b.yaml", "invalid YAML", 4, level="warning"), FileError("<project>", "internal")]
    for variant in (report, tiny_report(findings=same_place, errors=errors), tiny_report(findings=[], errors=[])):
        out = render("junit", variant)
        assert not junit_problems(out), out
    names = [c.get("name") for c in ET.fromstring(render("junit", tiny_report(findings=same_place)).encode())
             .iter("testcase")]
    assert names == ["KL401 broad-role-assignment at infra/a.json:3:5",
                     "KL401 broad-role-assignment at infra/a.json:3:5 (2)"]


# ---- GitHub workflow annotations --------------------------------------------------------------------

def test_github_annotations_put_the_most_severe_first():
    """GitHub shows 10 annotations per level and step: the critical ones must be among them."""
    from keyless.linter.finding import Span
    from keyless.linter.report import FileError, render
    from keyless.linter.rule import load_registry

    rule = load_registry().get("KL401")()
    severities = [Severity.HIGH] * 12 + [Severity.MEDIUM, Severity.CRITICAL, Severity.LOW, Severity.CRITICAL]
    findings = [rule.finding("a.json", Span.of(i + 1, 1, i + 1, 2), key=str(i), severity=sev)
                for i, sev in enumerate(severities)]
    lines = render("github", tiny_report(findings=findings, errors=[FileError("b.yaml", "unreadable")])).splitlines()
    shown = [line.split("::", 2)[1].split(" ", 1)[0] for line in lines]
    assert shown[:14] == ["error"] * 14 and shown[14:16] == ["warning", "notice"]
    first_errors = [line for line in lines if line.startswith("::error title=keyless (KL401)")][:10]
    assert sum("[critical]" in line for line in first_errors) == 2
    assert "line=14," in first_errors[0] and "line=16," in first_errors[1]  # critical, in file order
    assert [int(line.split("line=", 1)[1].split(",", 1)[0]) for line in first_errors[2:]] == list(range(1, 9))
    assert lines[-1].startswith("::error title=keyless (file error),file=b.yaml")
