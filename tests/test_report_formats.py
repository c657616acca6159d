"""Output formats (keyless.linter.report): structure of every format, schema validity (JSON, SARIF),
escaping, redaction, lazy imports."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from jsonschema import FormatChecker

from keyless.linter.finding import (
    Applicability,
    Category,
    Edit,
    Finding,
    Fix,
    Severity,
    Span,
    redact,
)
from keyless.linter.report import FORMATS, FileError, Report, render, render_notes, summary_counts
from keyless.linter.rule import Registry, Rule

SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
JSON_SCHEMA = Path(__file__).resolve().parents[1] / "keyless" / "linter" / "report" / "json_output.schema.json"

SECRET = "Zq8Xv2LmN4pR7sT1uW3yB5dF6gH9jK0aCeIoQtUx+/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789ab=="
CONN = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={SECRET};EndpointSuffix=core.windows.net"


class StorageKey(Rule):
    """## What it does
    Finds Azure Storage account keys written into source or config.

    ## Why is this bad?
    Anyone who can read the repository can use the account.

    ## Example
    ```python
    # connection string with the key
    conn = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=..."
    ```

    ## Use instead
    ```python
    BlobServiceClient(url, credential=DefaultAzureCredential())
    ```

    ## Fix safety
    Unsafe: the identity needs a role assignment.
    """

    code = "KL101"
    name = "storage-account-key"
    category = Category.SECRET
    severity = Severity.CRITICAL
    message = "Azure Storage account key in source"


class KeyCredential(Rule):
    """Uses a key credential where a managed identity would do."""

    code = "KL201"
    name = "key-credential"
    category = Category.KEY_AUTH
    severity = Severity.MEDIUM
    message = "Key-based credential"


class OwnerRole(Rule):
    """Assigns Owner at subscription scope."""

    code = "KL401"
    name = "owner-role-assignment"
    category = Category.BROAD_ROLE
    severity = Severity.LOW
    message = "Broad role assignment"
    cwe = (250, 732)
    precision = "very-high"


REGISTRY = Registry([OwnerRole, StorageKey, KeyCredential])


def make_findings() -> list[Finding]:
    sk, kc, owner = StorageKey(), KeyCredential(), OwnerRole()
    fix = Fix(
        "Use DefaultAzureCredential with the account URL",
        Applicability.UNSAFE,
        (Edit(Span.of(3, 8, 3, 120), 'BlobServiceClient(URL, credential=DefaultAzureCredential())'),),
    )
    findings = [
        sk.finding(
            "app/set tings.py",
            Span.of(3, 8, 3, 120),
            key=SECRET,
            message=f"Storage account key in connection string: {redact(SECRET)}",
            fix=fix,
        ),
        kc.finding("app/set tings.py", Span.of(9, 5, 9, 30), key="app:KeyCredential",
                   fix=Fix("Move the key to Key Vault", Applicability.DISPLAY_ONLY)),
        kc.finding("infra/main.bicep", Span.of(1, 1, 2, 4), key="x", message="50% done; a,b: c]\r\nnext",
                   fix=Fix("Drop the key", Applicability.SAFE, (Edit(Span.of(1, 1, 2, 4), ""),))),
        owner.finding("infra/rbac.json", Span.of(12, 7, 12, 20), key="rg/owner", severity=Severity.HIGH),
    ]
    return sorted(findings, key=Finding.sort_key)


def make_report(root: str = "/work/proj", **changes) -> Report:
    report = Report(
        findings=make_findings(),
        errors=[FileError("infra/broken.yaml", "could not parse YAML: mapping values are not allowed", 4),
                FileError("bin/data.env", "not UTF-8")],
        notes=["skipped big.bin: binary"],
        registry=REGISTRY,
        files_scanned=7,
        root=root,
    )
    return dataclasses.replace(report, **changes)


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema, format_checker=FormatChecker())


@pytest.fixture(scope="module")
def json_validator():
    schema = json.loads(JSON_SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=FormatChecker())


def errors_of(validator, doc) -> list[str]:
    return [e.message for e in validator.iter_errors(doc)]


# -- all formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_text_ending_in_newline(fmt):
    out = render(fmt, make_report())
    assert isinstance(out, str) and out.endswith("\n")


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown output format"):
        render("xml", make_report())


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_leaks_the_secret_or_source(fmt, tmp_path):
    """Reporters must not read sources: even with the file on disk, no excerpt reaches the output."""
    src = tmp_path / "app" / "set tings.py"
    src.parent.mkdir()
    src.write_text(f'import os\n\nconn = "{CONN}"\n' + "x = 1\n" * 10)
    out = render(fmt, make_report(root=str(tmp_path), color=True, statistics=False))
    for needle in (SECRET, SECRET[:20], SECRET[-20:], f"AccountKey={SECRET[:8]}", "import os"):
        assert needle not in out
    assert redact(SECRET) in out or json.dumps(redact(SECRET))[1:-1] in out or fmt == "junit"


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_report(fmt, sarif_validator, json_validator):
    out = render(fmt, make_report(findings=[], errors=[], notes=[]))
    if fmt == "text":
        assert out == "All checks passed!\n"
    elif fmt in ("github", "azure"):
        assert out == ""
    elif fmt == "gitlab":
        assert json.loads(out) == []
    elif fmt == "json":
        assert not errors_of(json_validator, json.loads(out))
    elif fmt == "sarif":
        doc = json.loads(out)
        assert not errors_of(sarif_validator, doc)
        assert doc["runs"][0]["results"] == []
    elif fmt == "junit":
        root = ET.fromstring(out.encode())
        assert root.get("tests") == "1" and root.get("failures") == "0"


def test_summary_counts():
    c = summary_counts(make_findings())
    assert (c.total, c.safe, c.unsafe, c.display_only) == (4, 1, 1, 1)
    assert c.by_code == {"KL101": 1, "KL201": 2, "KL401": 1}
    assert c.by_severity == {"critical": 1, "medium": 2, "high": 1}


LAZY_CHECK = textwrap.dedent(
    """
    import sys
    from keyless.linter.finding import Applicability, Category, Edit, Fix, Span
    from keyless.linter.report import FORMATS, FileError, Report, render
    from keyless.linter.rule import Registry, Rule

    class R(Rule):
        "Doc."
        code, name, category, message = "KL101", "r", Category.SECRET, "m"

    fix = Fix("f", Applicability.SAFE, (Edit(Span.of(1, 1, 1, 2), "x"),))
    finding = R().finding("a.py", Span.of(1, 1, 1, 2), key="k", fix=fix)
    fmt = sys.argv[1]
    render(fmt, Report([finding], [FileError("b.py", "bad", 1)], ["n"], Registry([R]), 2, "/tmp"))
    loaded = {m.rsplit(".", 1)[-1] for m in sys.modules if m.startswith("keyless.linter.report.")}
    assert "jsonschema" not in sys.modules, "jsonschema imported"
    assert not loaded & (set(FORMATS) - {fmt}), f"other formats imported: {loaded}"
    assert fmt == "junit" or "xml.etree.ElementTree" not in sys.modules
    print("ok")
    """
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_imports_only_the_chosen_format(fmt):
    # A fresh interpreter: pytest and this module have imported jsonschema already.
    proc = subprocess.run([sys.executable, "-c", LAZY_CHECK, fmt], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_warnings_and_pseudo_paths_in_every_format(sarif_validator, json_validator):
    errors = [FileError("deploy/app.yaml", "unparsable YAML (only secret-scanned)", 7, level="warning"),
              FileError("<project>", "internal error in project rule KL301 (KeyError)")]
    report = make_report(errors=errors)
    text = render("text", report).splitlines()
    assert "deploy/app.yaml:7: warning: unparsable YAML (only secret-scanned)" in text
    assert "<project>: error: internal error in project rule KL301 (KeyError)" in text
    assert render("text", make_report(findings=[], errors=errors[:1])).splitlines()[-1] == (
        "No findings; 1 file only partly checked.")

    doc = json.loads(render("json", report))
    assert not errors_of(json_validator, doc)
    assert [e["level"] for e in doc["errors"]] == ["warning", "error"]

    doc = sarif(report)
    assert not errors_of(sarif_validator, doc)
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["warning", "error"]
    assert "locations" not in notes[1]  # <project> is no file

    gh = render("github", report).splitlines()
    assert gh[-2] == "::warning title=keyless (file warning),file=deploy/app.yaml,line=7::" \
                     "unparsable YAML (only secret-scanned)"
    assert gh[-1] == "::error title=keyless (file error)::internal error in project rule KL301 (KeyError)"

    az = render("azure", make_report(errors=errors, root="/r")).splitlines()
    assert az[-2] == "##vso[task.logissue type=warning;sourcepath=/r/deploy/app.yaml;linenumber=7;]" \
                     "unparsable YAML (only secret-scanned)"
    assert az[-1] == "##vso[task.logissue type=error;]internal error in project rule KL301 (KeyError)"

    root = ET.fromstring(render("junit", report).encode())
    assert root.get("errors") == "1" and root.get("skipped") is None  # junit-10.xsd: no testsuites@skipped
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert suites["deploy/app.yaml"].get("skipped") == "1"
    assert suites["deploy/app.yaml"].find("testcase/skipped").get("message") == "unparsable YAML (only secret-scanned)"
    assert suites["<project>"].find("testcase/error") is not None


# -- text ----------------------------------------------------------------------------------------


def test_text_lines_and_summary():
    out = render("text", make_report())
    lines = out.splitlines()
    assert lines[0] == "app/set tings.py:3:8: KL101 [critical] Storage account key in connection string: " + redact(SECRET)
    assert lines[1] == "  [unsafe] help: Use DefaultAzureCredential with the account URL"
    assert lines[2] == "app/set tings.py:9:5: KL201 [medium] Key-based credential"
    assert lines[3] == "  [guidance] help: Move the key to Key Vault"
    # control characters never reach the terminal raw
    assert lines[4] == "infra/main.bicep:1:1: KL201 [medium] 50% done; a,b: c]\\r\\nnext"
    assert lines[5] == "  [*] help: Drop the key"
    assert lines[6] == "infra/rbac.json:12:7: KL401 [high] Broad role assignment"
    assert lines[7] == "infra/broken.yaml:4: error: could not parse YAML: mapping values are not allowed"
    assert lines[8] == "bin/data.env: error: not UTF-8"
    assert lines[9] == "Found 4 findings (1 fixable with --fix, 1 with --unsafe-fixes)."
    assert len(lines) == 10
    assert "\x1b" not in out
    assert "skipped" not in out  # notes go to stderr


def test_notes_are_for_stderr_never_in_the_report():
    report = make_report()
    assert render_notes(report) == "note: skipped big.bin: binary\n"
    for fmt in FORMATS:
        assert "big.bin" not in render(fmt, report)


def test_text_colour():
    out = render("text", make_report(color=True))
    assert "\x1b[" in out
    assert out.count("\x1b[") % 2 == 0  # every style is reset
    plain = render("text", make_report())
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", out) == plain


def test_text_without_fix_lines():
    out = render("text", make_report(show_fixes=False))
    assert "help:" not in out


@pytest.mark.parametrize(
    ("changes", "summary"),
    [
        ({"findings": [], "errors": []}, "All checks passed!"),
        ({"findings": []}, "No findings, but 2 files could not be checked."),
        ({"fixed": 2}, "Found 6 findings (2 fixed, 4 remaining; 1 fixable with --fix, 1 with --unsafe-fixes)."),
        ({"findings": [], "errors": [], "fixed": 1}, "Found 1 finding (1 fixed, 0 remaining)."),
    ],
)
def test_text_summary_variants(changes, summary):
    assert render("text", make_report(**changes)).splitlines()[-1] == summary


def test_text_summary_unsafe_only():
    findings = [f for f in make_findings() if f.code == "KL101"]
    assert render("text", make_report(findings=findings, errors=[])).splitlines()[-1] == (
        "Found 1 finding (1 fixable with --unsafe-fixes)."
    )


def test_text_statistics():
    out = render("text", make_report(statistics=True, errors=[]))
    assert out.splitlines() == [
        "2  KL201  [*]      key-credential",
        "1  KL101  [unsafe] storage-account-key",
        "1  KL401           owner-role-assignment",
        "Found 4 findings (1 fixable with --fix, 1 with --unsafe-fixes).",
    ]


def test_text_escapes_terminal_tricks_in_paths():
    f = make_findings()[0].with_(path="evil\x1b[2J\u202e.py", message="m\x07")
    out = render("text", make_report(findings=[f], errors=[]))
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "evil\\x1b[2J\\u202e.py" in out


# -- json ----------------------------------------------------------------------------------------


def test_json_valid_against_schema(json_validator):
    doc = json.loads(render("json", make_report()))
    assert not errors_of(json_validator, doc)
    assert doc["version"] == 2
    assert doc["tool"]["name"] == "keyless"
    assert doc["summary"] == {"files_scanned": 7, "findings": 4, "fixable": 1, "unsafe_fixable": 1,
                              "fixed": 0, "errors": 2}
    first = doc["findings"][0]
    assert first["code"] == "KL101" and first["category"] == "secret" and first["severity"] == "critical"
    assert first["location"] == {"line": 3, "column": 8}
    assert first["end_location"] == {"line": 3, "column": 120}
    assert first["fix"]["applicability"] == "unsafe"
    assert first["fix"]["edits"][0]["location"] == {"line": 3, "column": 8}
    assert first["fingerprint"] == make_findings()[0].fingerprint
    assert doc["findings"][1]["fix"] == {"message": "Move the key to Key Vault", "applicability": "display-only",
                                         "edits": []}
    assert doc["findings"][3]["fix"] is None
    assert doc["errors"][1] == {"path": "bin/data.env", "line": None, "level": "error", "message": "not UTF-8"}
    assert [f["path"] for f in doc["findings"]] == [f.path for f in make_findings()]


def test_json_schema_rejects_unknown_and_bad_fields(json_validator):
    good = json.loads(render("json", make_report()))
    for mutate in (
        lambda d: d["findings"][0].update(snippet="conn = ..."),  # no undocumented fields
        lambda d: d["findings"][0]["location"].update(line=0),
        lambda d: d["findings"][0].update(severity="urgent"),
        lambda d: d["findings"][0]["fix"].update(applicability="maybe"),
        lambda d: d.pop("errors"),
        lambda d: d.update(version=1),
    ):
        doc = copy.deepcopy(good)
        mutate(doc)
        assert errors_of(json_validator, doc)


# -- sarif ---------------------------------------------------------------------------------------


def sarif(report=None) -> dict:
    return json.loads(render("sarif", report or make_report()))


def test_sarif_valid(sarif_validator):
    doc = sarif()
    assert not errors_of(sarif_validator, doc)
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1


def test_sarif_is_compact():
    out = render("sarif", make_report())
    assert out == json.dumps(json.loads(out), separators=(",", ":")) + "\n"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d["runs"][0]["results"][0].update(level="critical"), id="level-critical"),
        pytest.param(lambda d: d["runs"][0]["tool"]["driver"].pop("name"), id="no-driver-name"),
        pytest.param(
            lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(startLine=0),
            id="startLine-0",
        ),
        pytest.param(lambda d: d["runs"][0]["results"][0]["fixes"][0].pop("artifactChanges"), id="fix-without-changes"),
        pytest.param(lambda d: d.update(version="2.0.0"), id="version"),
    ],
)
def test_sarif_schema_negative(sarif_validator, mutate):
    doc = sarif()
    mutate(doc)
    assert errors_of(sarif_validator, doc)


def test_sarif_driver_rules():
    driver = sarif()["runs"][0]["tool"]["driver"]
    assert driver["name"] == "keyless" and driver["version"]
    # the registry's rules, then one for the severity a finding has besides its rule's (KL401: high)
    assert [r["id"] for r in driver["rules"]] == ["KL101", "KL201", "KL401", "KL401-high"]
    kl101 = driver["rules"][0]
    assert kl101["name"] == "storage-account-key"
    assert kl101["shortDescription"]["text"] == "Azure Storage account key in source"
    assert kl101["fullDescription"]["text"] == "Finds Azure Storage account keys written into source or config."
    assert kl101["help"]["markdown"] == StorageKey.docs()
    assert "## " not in kl101["help"]["text"]
    assert "# connection string with the key" in kl101["help"]["text"]  # code comments survive
    assert kl101["defaultConfiguration"] == {"level": "error"}
    assert kl101["properties"] == {
        "tags": ["security", "external/cwe/cwe-798", "secret"],
        "precision": "high",
        "security-severity": "9.5",
    }
    kl201, kl401 = driver["rules"][1], driver["rules"][2]
    assert kl201["properties"]["tags"] == ["security", "external/cwe/cwe-522", "key-auth"]
    assert kl201["defaultConfiguration"] == {"level": "warning"}
    assert kl401["properties"]["tags"] == ["security", "external/cwe/cwe-250", "external/cwe/cwe-732", "broad-role"]
    assert kl401["properties"]["precision"] == "very-high"
    assert kl401["properties"]["security-severity"] == "3.0"


def test_sarif_results():
    run = sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == 4
    for res, f in zip(results, make_findings()):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["ruleId"] == (f.code if f.code != "KL401" else "KL401-high")  # KL401's default is low
        assert res["level"] == f.severity.sarif_level
        assert res["message"]["text"] == f.message.replace("\r\n", "\\r\\n")  # printable text
        # Secret fingerprints (16 hex digits, docs/fingerprints.md) have their own key.
        key = "keyless/secret/v2" if f.category is Category.SECRET else "keyless/v1"
        assert res["partialFingerprints"] == {key: f.fingerprint}
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"] == {"startLine": f.span.start.line, "startColumn": f.span.start.column,
                                 "endLine": f.span.end.line, "endColumn": f.span.end.column}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/set%20tings.py"
    assert results[3]["level"] == "error"  # the finding's severity (high), not the rule default (low)
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///work/proj/"}}
    assert run["columnKind"] == "unicodeCodePoints"
    assert "snippet" not in json.dumps(run)


def test_sarif_fixes_only_with_concrete_edits():
    results = sarif()["runs"][0]["results"]
    unsafe, display_only, safe, none = results
    assert "fixes" not in display_only and "fixes" not in none
    (fix,) = unsafe["fixes"]
    assert fix["description"]["text"] == "Use DefaultAzureCredential with the account URL"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "app/set%20tings.py", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 3, "startColumn": 8, "endLine": 3, "endColumn": 120},
        "insertedContent": {"text": "BlobServiceClient(URL, credential=DefaultAzureCredential())"},
    }]
    assert safe["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {"text": ""}


def test_sarif_lazy_fix_without_edits_has_no_fixes():
    f = make_findings()[0]
    f = f.with_(fix=Fix(f.fix.message, Applicability.UNSAFE, (), lazy=True))
    assert "fixes" not in sarif(make_report(findings=[f]))["runs"][0]["results"][0]


def test_sarif_file_errors_are_notifications(sarif_validator):
    doc = sarif()
    (inv,) = doc["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is True
    notes = inv["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["error", "error"]
    assert notes[0]["message"]["text"] == "could not parse YAML: mapping values are not allowed"
    assert notes[0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "infra/broken.yaml", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 4}}
    assert "region" not in notes[1]["locations"][0]["physicalLocation"]
    clean = sarif(make_report(errors=[]))
    assert "toolExecutionNotifications" not in clean["runs"][0]["invocations"][0]


def test_sarif_unknown_rule_gets_a_descriptor(sarif_validator):
    stranger = make_findings()[0].with_(code="KL199", name="plugin-rule")
    doc = sarif(make_report(findings=[stranger, *make_findings()]))
    assert not errors_of(sarif_validator, doc)
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == ["KL101", "KL201", "KL401", "KL401-high", "KL199"]
    assert run["results"][0]["ruleIndex"] == 4


def test_sarif_uris(sarif_validator):
    f = make_findings()[0]
    odd = [f.with_(path="a:b/ü #1%.py"), f.with_(path="/abs/outside.py")]
    doc = sarif(make_report(findings=odd, root="/work/my proj"))
    assert not errors_of(sarif_validator, doc)
    run = doc["runs"][0]
    locs = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert locs[0] == {"uri": "a%3Ab/%C3%BC%20%231%25.py", "uriBaseId": "%SRCROOT%"}
    assert locs[1] == {"uri": "file:///abs/outside.py"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///work/my%20proj/"


def test_sarif_result_cap(monkeypatch, sarif_validator):
    from keyless.linter.report import sarif as sarif_module

    monkeypatch.setattr(sarif_module, "MAX_RESULTS", 2)
    doc = sarif(make_report(errors=[]))
    assert not errors_of(sarif_validator, doc)
    run = doc["runs"][0]
    # the two most severe remain, in their original order
    assert [r["ruleId"] for r in run["results"]] == ["KL101", "KL401-high"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "warning" and "2 lower-severity results were left out" in note["message"]["text"]


# -- github --------------------------------------------------------------------------------------


def test_github_commands():
    lines = render("github", make_report()).splitlines()
    assert lines[0] == (
        "::error title=keyless (KL101),file=app/set tings.py,line=3,col=8,endLine=3,endColumn=120::"
        f"[critical] Storage account key in connection string: {redact(SECRET)}"
    )
    assert lines[1].startswith("::error title=keyless (KL401),")  # high before medium
    assert lines[2].startswith("::warning title=keyless (KL201),")
    assert lines[3] == (
        "::warning title=keyless (KL201),file=infra/main.bicep,line=1,col=1,endLine=2,endColumn=4::"
        "[medium] 50%25 done; a,b: c]\\r\\nnext"
    )
    assert lines[4] == "::error title=keyless (file error),file=infra/broken.yaml,line=4::" \
                       "could not parse YAML: mapping values are not allowed"
    assert lines[5] == "::error title=keyless (file error),file=bin/data.env::not UTF-8"
    assert len(lines) == 6


def test_github_escaping():
    from keyless.linter.report.github import escape_data, escape_property

    assert escape_data("100%\r\n: ,") == "100%25%0D%0A: ,"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("%0A") == "%250A"  # an encoded newline in the text stays text
    f = make_findings()[3].with_(path="dir,x/a:b.py", severity=Severity.INFO)
    (line,) = render("github", make_report(findings=[f], errors=[])).splitlines()
    assert line.startswith("::notice title=keyless (KL401),file=dir%2Cx/a%3Ab.py,line=12,")


# -- azure ---------------------------------------------------------------------------------------


def test_azure_commands():
    lines = render("azure", make_report(root="/src")).splitlines()
    assert lines[0] == (
        "##vso[task.logissue type=error;sourcepath=/src/app/set tings.py;linenumber=3;columnnumber=8;code=KL101;]"
        f"[critical] Storage account key in connection string: {redact(SECRET)}"
    )
    assert lines[2] == (
        "##vso[task.logissue type=warning;sourcepath=/src/infra/main.bicep;linenumber=1;columnnumber=1;code=KL201;]"
        "[medium] 50%AZP25 done; a,b: c]\\r\\nnext"
    )
    assert lines[3].startswith("##vso[task.logissue type=error;")  # high
    assert lines[4] == "##vso[task.logissue type=error;sourcepath=/src/infra/broken.yaml;linenumber=4;]" \
                       "could not parse YAML: mapping values are not allowed"
    assert lines[5] == "##vso[task.logissue type=error;sourcepath=/src/bin/data.env;]not UTF-8"
    assert all(line.startswith("##vso[") for line in lines)


def test_azure_escaping():
    from keyless.linter.report.azure import escape_data, escape_property

    assert escape_property("a;b]c%\r\n") == "a%3Bb%5Dc%AZP25%0D%0A"
    assert escape_data("a;b]c%\r\n") == "a;b]c%AZP25%0D%0A"
    f = make_findings()[3].with_(path="x;type=warning]y.json", severity=Severity.LOW)
    (line,) = render("azure", make_report(findings=[f], errors=[], root="/r")).splitlines()
    assert line.startswith("##vso[task.logissue type=warning;sourcepath=/r/x%3Btype=warning%5Dy.json;")
    assert line.index("]") == line.index("code=KL401;]") + len("code=KL401;")


# -- junit ---------------------------------------------------------------------------------------


def test_junit_structure():
    out = render("junit", make_report())
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out.encode())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "4", "2")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"app/set tings.py", "infra/main.bicep", "infra/rbac.json", "infra/broken.yaml",
                           "bin/data.env"}
    cases = suites["app/set tings.py"].findall("testcase")
    assert len(cases) == 2
    failure = cases[0].find("failure")
    assert failure.get("type") == "KL101"
    assert failure.get("message") == f"Storage account key in connection string: {redact(SECRET)}"
    assert cases[0].get("name") == "KL101 storage-account-key at app/set tings.py:3:8"
    assert suites["app/set tings.py"].get("file") == "app/set tings.py"
    # newline and markup characters survive the round trip
    bicep = suites["infra/main.bicep"].find("testcase/failure")
    assert bicep.get("message") == "50% done; a,b: c]\\r\\nnext"
    err = suites["infra/broken.yaml"].find("testcase/error")
    assert err.get("message") == "could not parse YAML: mapping values are not allowed"


def test_junit_escapes_markup_and_illegal_characters():
    f = make_findings()[0].with_(message='<x a="1"> & ]]> \x00\x1b end', path="a&b<c>.py")
    out = render("junit", make_report(findings=[f], errors=[]))
    out.encode("ascii")  # character references for everything non-ASCII
    root = ET.fromstring(out.encode())
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == '<x a="1"> & ]]> \\x00\\x1b end'
    assert root.find("testsuite").get("name") == "a&b<c>.py"


# -- gitlab --------------------------------------------------------------------------------------


def test_gitlab_code_quality():
    issues = json.loads(render("gitlab", make_report()))
    assert isinstance(issues, list) and len(issues) == 4
    first = issues[0]
    assert first["check_name"] == "KL101"
    assert first["description"] == f"KL101 storage-account-key: Storage account key in connection string: {redact(SECRET)}"
    assert first["severity"] == "blocker"
    assert first["location"] == {"path": "app/set tings.py", "lines": {"begin": 3, "end": 3}}
    assert [i["severity"] for i in issues] == ["blocker", "major", "major", "critical"]
    assert issues[2]["location"]["lines"] == {"begin": 1, "end": 2}
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
    f = make_findings()[0]
    expected = hashlib.md5(f"KL101\0{f.path}\0{f.fingerprint}\0{0}".encode()).hexdigest()
    assert first["fingerprint"] == expected


def test_gitlab_fingerprints_unique_and_line_independent():
    f = make_findings()[0]
    twice = [f, f.with_(span=Span.of(30, 1, 30, 9))]
    a = [i["fingerprint"] for i in json.loads(render("gitlab", make_report(findings=twice)))]
    assert len(set(a)) == 2
    moved = [x.with_(span=Span.of(x.span.start.line + 5, 1, x.span.end.line + 5, 2)) for x in twice]
    b = [i["fingerprint"] for i in json.loads(render("gitlab", make_report(findings=moved)))]
    assert a == b


# -- documentation links ---------------------------------------------------------------------------


def test_docs_url_from_package_metadata(monkeypatch, sarif_validator, json_validator):
    import importlib.metadata

    from keyless.linter.report import _common

    class Dist:
        version = "1.2.0"

        class metadata:
            @staticmethod
            def get_all(name):
                assert name == "Project-URL"
                return ["Documentation, https://example.org/docs",
                        "Repository, https://user:token@example.org/team/keyless.git"]

        @staticmethod
        def read_text(name):
            return None

    monkeypatch.setattr(importlib.metadata, "distribution", lambda dist: Dist())
    _common.project_source.cache_clear()
    try:
        doc = json.loads(render("json", make_report()))
        assert not errors_of(json_validator, doc)
        assert doc["findings"][0]["url"] == "https://example.org/team/keyless/blob/v1.2.0/docs/rules/KL101.md"
        run = sarif()["runs"][0]
        assert not errors_of(sarif_validator, {"version": "2.1.0", "runs": [run]})
        assert run["tool"]["driver"]["informationUri"] == "https://example.org/team/keyless"  # no user info
        assert run["tool"]["driver"]["rules"][1]["helpUri"] == \
            "https://example.org/team/keyless/blob/v1.2.0/docs/rules/KL201.md"
        assert "token" not in json.dumps(run)
    finally:
        _common.project_source.cache_clear()
