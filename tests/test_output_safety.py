"""Untrusted text (file names, messages) in every stream and every format.

A repository is hostile input: a file name can hold a newline and a CI command
(`::error ...`, `##vso[task.setvariable ...]`), terminal escapes, bidirectional controls or bytes
that are not UTF-8. Every output shows such text as printable escapes (`_common.printable`);
SARIF URIs percent-encode the name's exact bytes. Structured formats stay valid and carry the same
escaped name everywhere; nothing crashes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from urllib.parse import unquote_to_bytes

import pytest

from conftest import ROOT, SARIF_SCHEMA, write
from keyless.linter.report import FORMATS, FileError, Report, render, render_notes
from keyless.linter.report._common import printable

PROBE = "x = 1  # keyless: ignore[KL190]\n"  # one finding (KL190: no reason), any file kind
BROKEN = "# azure DefaultAzureCredential\ndef (\n"  # unparsable Python: a warning

HOSTILE = [
    "a\n::error file=x,line=1::injected.py",
    "b\r\n##vso[task.setvariable variable=PATH]injected.py",
    "::warning::at-line-start.py",
    "x##[error]mid-line.py",
    "Y##VSO[task.complete result=Succeeded]upper.py",
    "c\x1b]0;title\x07\x1b[31mred.py",
    "d\u202eyp.exe.py",
    "e\x85next-line\u2028sep.py",
    os.fsdecode(b"f\xff\xfe-not-utf8.py"),
]
HOSTILE_BROKEN = ["g\n::error::broken.py", os.fsdecode(b"h\xff##vso[x]broken.py")]

_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def assert_safe_stream(text: str, fmt: str = "text", commands: int | None = None) -> None:
    """No line of `text` can act on a terminal or a CI runner, except the format's own commands."""
    text.encode("utf-8")  # no lone surrogate
    assert not _RAW_CONTROL.search(text), repr(_RAW_CONTROL.search(text).group())
    own = 0
    for line in text.split("\n"):
        assert "\r" not in line, repr(line)
        assert "##[" not in line, line
        vso = [m.start() for m in re.finditer(r"(?i)##vso\[", line)]
        if fmt == "azure" and line.startswith("##vso[task.logissue "):
            assert vso == [0], line
            own += 1
        else:
            assert not vso, line
        if line.lstrip().startswith("::"):
            assert fmt == "github" and re.match(r"::(error|warning|notice) title=keyless ", line), line
            own += 1
    if commands is not None:
        assert own == commands, (own, commands)


def hostile_repo(root) -> None:
    for name in HOSTILE:
        write(root, name, PROBE)
    for name in HOSTILE_BROKEN:
        write(root, name, BROKEN)


def _names_in_text(out: str) -> set[str]:
    return {line.split(":1:10: KL190", 1)[0] for line in out.splitlines() if ":1:10: KL190" in line}


def test_printable_escapes_every_dangerous_character():
    assert printable("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert printable("\x1b[31m\x07\x85\u202e\u2028") == "\\x1b[31m\\x07\\x85\\u202e\\u2028"
    assert printable(os.fsdecode(b"\xff\xfe")) == "\\xff\\xfe"  # the bytes, as escapes
    assert printable("\ud800") == "\\ud800"
    assert printable("##vso[x] ##VsO[y] ##[z]") == "##vso\\x5bx] ##VsO\\x5by] ##\\x5bz]"
    assert printable("::error::x") == "\\x3a:error::x" and printable(" \u3000::x") == " \u3000\\x3a:x"
    assert printable("a::b") == "a::b"  # only at the start of a line
    assert printable("ünïcødé/日本語 file.py 50% a,b: c]") == "ünïcødé/日本語 file.py 50% a,b: c]"
    for s in HOSTILE + HOSTILE_BROKEN:
        assert printable(printable(s)) == printable(s)  # escaping twice changes nothing


def _hostile_report() -> Report:
    from keyless.linter.finding import Applicability, Category, Edit, Finding, Fix, Position, Severity, Span

    findings = []
    for i, name in enumerate(HOSTILE):
        fix = Fix(f"Fix {name}", Applicability.UNSAFE,
                  (Edit(Span(Position(1, 1), Position(1, 2)), "code ##[x] ##vso[y]\n\x1b"),))
        findings.append(Finding("KL101", "storage-account-key", Category.SECRET, Severity.CRITICAL,
                                f"message with {name}", name, Span(Position(2, 1), Position(2, 5)),
                                f"{i:064x}", fix))
    errors = [FileError(name, f"cannot read {name}") for name in HOSTILE_BROKEN]
    errors.append(FileError(HOSTILE[0], "invalid Python: syntax error (only secret-scanned)", 3, level="warning"))
    from keyless.linter.rule import load_registry

    return Report(findings=findings, errors=errors, notes=[f"{n}: skipped, binary" for n in HOSTILE],
                  registry=load_registry(), files_scanned=len(HOSTILE), root="/src/r\n##vso[x]")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_shows_hostile_names_and_messages_safely(fmt):
    """Direct rendering: a format added later is checked here automatically."""
    report = _hostile_report()
    out = render(fmt, report)
    commands = len(report.findings) + len(report.errors) if fmt in ("github", "azure") else None
    assert_safe_stream(out, fmt, commands)
    assert_safe_stream(render_notes(report))
    if fmt in ("json", "gitlab", "sarif"):
        json.loads(out)
    if fmt == "junit":
        ET.fromstring(out.encode())


def test_json_keeps_fix_code_exact():
    """CI markers in a fix's code are \\u-escaped JSON: readers get the exact code back."""
    data = json.loads(render("json", _hostile_report()))
    assert data["findings"][0]["fix"]["edits"][0]["content"] == "code ##[x] ##vso[y]\n\x1b"
    assert data["findings"][0]["path"] == printable(HOSTILE[0])


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_file_names_on_disk_every_format_and_stream(run_cli, tmp_path, fmt):
    repo = tmp_path / "repo"
    hostile_repo(repo)
    rc, out, err = run_cli("check", ".", "--output-format", fmt, "--no-cache", cwd=repo)
    assert rc == 1, (out, err)
    commands = len(HOSTILE) + len(HOSTILE_BROKEN) if fmt in ("github", "azure") else None
    assert_safe_stream(out, fmt, commands)
    assert_safe_stream(err)
    report_file = tmp_path / f"report.{fmt}"
    rc, out2, err2 = run_cli("check", ".", "--output-format", fmt, "--no-cache", "-o", str(report_file), cwd=repo)
    assert rc == 1 and out2 == ""
    assert report_file.read_text(encoding="utf-8") == out
    assert_safe_stream(err2)
    # The same escaped name everywhere; SARIF URIs name the exact bytes.
    shown = {printable(n) for n in HOSTILE}
    if fmt == "text":
        assert _names_in_text(out) == shown
    elif fmt == "json":
        data = json.loads(out)
        assert {f["path"] for f in data["findings"]} == shown
        assert {e["path"] for e in data["errors"]} == {printable(n) for n in HOSTILE_BROKEN}
    elif fmt == "gitlab":
        assert {i["location"]["path"] for i in json.loads(out)} == shown
    elif fmt == "junit":
        suites = {s.get("name") for s in ET.fromstring(out.encode()).findall("testsuite")}
        assert suites == shown | {printable(n) for n in HOSTILE_BROKEN}
    elif fmt == "sarif":
        jsonschema = pytest.importorskip("jsonschema")
        log = json.loads(out)
        validator = jsonschema.Draft4Validator(json.load(open(SARIF_SCHEMA)))
        assert not list(validator.iter_errors(log))
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
        assert {unquote_to_bytes(u) for u in uris} == {os.fsencode(n) for n in HOSTILE}
    elif fmt == "github":
        files = {re.search(r",file=([^,]*),line=", line).group(1).replace("%3A", ":").replace("%2C", ",")
                 .replace("%25", "%") for line in out.splitlines() if "(KL190)" in line}
        assert files == shown
    elif fmt == "azure":
        paths = {re.search(r";sourcepath=([^;]*);", line).group(1).replace("%3B", ";").replace("%5D", "]")
                 .replace("%AZP25", "%") for line in out.splitlines() if "code=KL190" in line}
        assert paths == {printable(os.path.join(str(repo), n)) for n in HOSTILE}


def test_real_process_streams_in_any_locale(tmp_path):
    """The installed entry point, real stdout/stderr bytes, a UTF-8 and a C locale."""
    repo = tmp_path / "repo"
    hostile_repo(repo)
    for env_extra in ({}, {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}):
        env = {**os.environ, **env_extra}
        for fmt in ("text", "sarif", "github"):
            proc = subprocess.run([sys.executable, "-m", "keyless", "check", ".", "--no-cache", "--output-format", fmt],
                                  cwd=repo, capture_output=True, env=env, timeout=120)
            assert proc.returncode == 1, proc.stderr.decode(errors="replace")
            for stream in (proc.stdout, proc.stderr):
                assert b"Traceback" not in stream
                assert_safe_stream(stream.decode("utf-8"), fmt)


def test_non_utf8_names_in_sarif_and_output_files(run_cli, tmp_path):
    """Used to crash (UnicodeEncodeError, exit 1, no report)."""
    name = os.fsdecode(b"caf\xe9.py")  # Latin-1 bytes
    write(tmp_path, name, PROBE)
    for fmt in FORMATS:
        target = tmp_path / "out" / f"r.{fmt}"
        rc, out, err = run_cli("check", name, "--output-format", fmt, "--no-cache", "-o", str(target))
        assert rc == 1, (fmt, err)
        body = target.read_text(encoding="utf-8")
        assert "caf\\xe9.py" in body.replace("\\\\", "\\") or "caf%E9.py" in body, (fmt, body[:300])


def test_kl191_caps_and_escapes_the_text_inside_ignore(run_cli, tmp_path):
    key = "Zq7" + "xK9mP2vL8nQ4wR6tY1uI3oA5sD7fG0hJ" * 3
    write(tmp_path, "a.py", f"x = 1  # keyless: ignore[{key}, KL1O1, FOO\x1b[31m, AB, CD, EF] a reason\n")
    rc, out, err = run_cli("check", "a.py", "--no-cache", "--output-format", "json", "--select", "KL191")
    (f,) = json.loads(out)["findings"]
    msg = f["message"]
    assert key[:8].upper() not in msg.upper() and len(msg) < 160, msg
    assert "KL1O1" in msg and "and 3 more" in msg and "\x1b" not in msg
    rc, out, err = run_cli("check", "a.py", "--no-cache", "--select", "KL191")
    assert_safe_stream(out)


def test_diff_headers_escape_the_file_name():
    from keyless.linter.fixes import unified_diff

    diff = unified_diff("a\n::error::x.py", "a\n", "b\n")
    assert diff.splitlines()[:2] == ["--- a/a\\n::error::x.py", "+++ b/a\\n::error::x.py"]


def test_stderr_lines_of_baseline_write_and_usage_errors_are_escaped(run_cli, tmp_path):
    hostile_repo(tmp_path / "repo")
    rc, out, err = run_cli("baseline", "write", ".", "-o", str(tmp_path / "b.json"), cwd=tmp_path / "repo")
    assert rc == 0 and "warning" in err
    assert_safe_stream(err)
    rc, out, err = run_cli("check", "nope\n::error::x")
    assert rc == 2
    assert_safe_stream(err)
    assert ROOT  # the repository root is not read
