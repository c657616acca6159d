"""Exit codes, crashes, selectors and options a gate can trust (README, "Exit codes").

0 clean, 1 findings, 2 usage/configuration/internal error or a file that could not be checked.
A file that cannot be parsed is still secret-scanned and is a warning (exit unchanged; 2 with
--strict). Crashes are one line and exit 2 even with --exit-zero; nothing is half-written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, write

PROBE = "x = 1  # keyless: ignore[KL190]\n"  # one finding (KL190: the suppression gives no reason)
BROKEN = "# azure DefaultAzureCredential\ndef (\n"  # unparsable Python (a warning)
SECRET = "Zq7xK9mP2vL8nQ4wR6tY1uI3oA5sD7fG0hJ"


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("keyless: error: "), err
    assert "Traceback" not in err
    return lines[0]


def tmp_leftovers(directory) -> list[str]:
    return [n for n in os.listdir(directory) if n.startswith(".keyless-") and n.endswith(".tmp")]


# ---- item: the exit-code table ----------------------------------------------------------------

def test_exit_codes_clean_findings_partial_and_unreadable(run_cli, tmp_path, monkeypatch):
    write(tmp_path, "ok.py", "x = 1\n")
    assert run_cli("check", "ok.py", "--no-cache")[0] == 0
    write(tmp_path, "finding.py", PROBE)
    assert run_cli("check", ".", "--no-cache")[0] == 1
    assert run_cli("check", ".", "--no-cache", "--exit-zero")[0] == 0
    # An unparsable file is secret-scanned and only a warning; --strict makes it exit 2.
    write(tmp_path, "broken.py", BROKEN)
    rc, out, err = run_cli("check", "ok.py", "broken.py", "--no-cache")
    assert rc == 0 and "broken.py:2: warning: invalid Python" in out, out
    assert run_cli("check", ".", "--no-cache")[0] == 1
    rc, out, err = run_cli("check", "ok.py", "broken.py", "--no-cache", "--strict")
    assert rc == 2, out + err
    assert run_cli("check", "ok.py", "--no-cache", "--strict")[0] == 0
    assert run_cli("check", ".", "--no-cache", "--strict", "--exit-zero")[0] == 2
    # An unreadable regular file is an error: exit 2 whatever else was found.
    from keyless.linter import readfile  # every read of a scanned file goes through it

    real_open = readfile.os.open

    def guarded_open(path, *a, **k):
        if str(path).endswith("finding.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr(readfile.os, "open", guarded_open)
    rc, out, err = run_cli("check", ".", "--no-cache", "--exit-zero")
    assert rc == 2 and "finding.py: error: cannot read: Permission denied" in out
    rc, out, err = run_cli("baseline", "write", ".", "--no-cache", "-o", "b.json")
    assert rc == 2 and "finding.py: error: cannot read" in err and "broken.py:2: warning:" in err


def test_symlink_loops_and_dangling_links_are_notes(run_cli, tmp_path):
    write(tmp_path, "ok.py", "x = 1\n")
    os.symlink("nowhere.py", tmp_path / "dangling.py")
    os.symlink("loop.py", tmp_path / "loop.py")
    for args in ([".", "--strict"], ["dangling.py", "loop.py", "ok.py", "--strict"]):
        rc, out, err = run_cli("check", *args, "--no-cache")
        assert rc == 0 and out == "All checks passed!\n", out + err
        assert "note: dangling.py: skipped, dangling symbolic link" in err
        assert "note: loop.py: skipped, symbolic link loop" in err
    assert run_cli("check", "missing.py", "--no-cache")[0] == 2  # a path that does not exist


def test_readme_documents_exit_codes_and_strict():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = readme[readme.index("### Exit codes"):]
    section = section[: section.index("\n##", 5)]
    for needle in ("`0`", "`1`", "`2`", "--strict", "--exit-zero", "warning", "note"):
        assert needle in section, needle


# ---- item: crashes are one line and exit 2; nothing half-written -----------------------------

def test_output_file_in_an_unwritable_place(run_cli, tmp_path):
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, "file", "not a directory\n")
    for target in ("file/report.json", "file/sub/report.json"):
        rc, out, err = run_cli("check", "a.py", "--no-cache", "-o", target, "--exit-zero")
        assert rc == 2, (target, out, err)
        assert "cannot write the report to" in one_line_error(err)
    assert (tmp_path / "file").read_text() == "not a directory\n"
    rc, out, err = run_cli("check", "a.py", "--no-cache", "-o", str(tmp_path), "--exit-zero")
    assert rc == 2 and "is a directory" in err  # click's own usage error


def test_output_file_on_a_full_disk_keeps_the_old_report(run_cli, tmp_path, monkeypatch):
    import errno

    from keyless.linter import output

    write(tmp_path, "a.py", PROBE)
    write(tmp_path, "out/report.json", "previous report\n")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", no_space)
    rc, out, err = run_cli("check", "a.py", "--no-cache", "-o", "out/report.json", "--exit-zero",
                           "--output-format", "json")
    assert rc == 2 and "No space left on device" in one_line_error(err)
    assert (tmp_path / "out/report.json").read_text() == "previous report\n"
    assert tmp_leftovers(tmp_path / "out") == []


def test_output_file_interrupted_leaves_no_temporary_file(run_cli, tmp_path, monkeypatch):
    from keyless.linter import output

    write(tmp_path, "a.py", PROBE)

    def interrupt(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "replace", interrupt)
    rc, out, err = run_cli("check", "a.py", "--no-cache", "-o", "report.txt")
    assert rc == 2 and "interrupted" in err
    assert not (tmp_path / "report.txt").exists() and tmp_leftovers(tmp_path) == []


def test_output_file_killed_by_sigterm_leaves_no_temporary_file(tmp_path):
    write(tmp_path, "a.py", PROBE)
    script = (
        "import os, signal, sys\n"
        "from keyless.linter import output\n"
        "real = os.fsync\n"
        "def killed(fd):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    real(fd)\n"
        "output.os.fsync = killed\n"
        "from keyless.cli import main\n"
        "sys.argv = ['keyless', 'check', 'a.py', '--no-cache', '-o', 'report.txt']\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, timeout=120)
    assert proc.returncode == 128 + 15, proc.stderr
    assert not (tmp_path / "report.txt").exists() and tmp_leftovers(tmp_path) == []


def test_output_file_through_links_and_into_devices(run_cli, tmp_path):
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, "real.json", "old\n")
    os.symlink("real.json", tmp_path / "link.json")
    rc, out, err = run_cli("check", "a.py", "--no-cache", "-o", "link.json", "--output-format", "json")
    assert rc == 1 and os.path.islink(tmp_path / "link.json")
    assert json.loads((tmp_path / "real.json").read_text())["summary"]["findings"] == 1
    # A device is written to, never replaced (as root, a rename would replace /dev/null).
    rc, out, err = run_cli("check", "a.py", "--no-cache", "-o", os.devnull)
    assert rc == 1 and not os.path.isfile(os.devnull)


def test_stdout_that_cannot_be_written_is_one_line_and_exit_2(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    write(tmp_path, "a.py", PROBE)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "keyless", "check", "a.py", "--no-cache", "--exit-zero"],
                              cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "cannot write the report to stdout" in one_line_error(err)


def _reader_closed(cwd, *args, stderr_too: bool = False, stdin: bytes | None = None) -> tuple[int, str]:
    """Run keyless with stdout (and stderr when `stderr_too`) a pipe nobody reads any more, as
    `keyless ... | head -0` leaves it; (exit code, stderr)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "keyless", *args], cwd=cwd, input=stdin, stdout=write_end,
                              stderr=write_end if stderr_too else subprocess.PIPE, timeout=600,
                              env={**os.environ, "PYTHONPATH": ROOT})
    finally:
        os.close(write_end)
    return proc.returncode, (proc.stderr or b"").decode("utf-8", "replace")


@pytest.mark.skipif(os.name != "posix", reason="POSIX pipes")
@pytest.mark.parametrize("args", [
    ("rules",), ("explain", "KL101"), ("--help",), ("check", "--help"),
    ("check", "finding.py", "--no-cache"), ("check", "ok.py", "--no-cache"),
    ("check", ".", "--no-cache", "--output-format", "sarif"), ("check", ".", "--no-cache", "--exit-zero"),
    ("check", "--stdin-filename", "finding.py", "-", "--no-cache"),
])
def test_a_closed_stdout_ends_the_run_quietly_and_never_passes(tmp_path, args):
    """`keyless rules | head -1`: no traceback, no error line; the status a program SIGPIPE ends
    gets (141), so a check whose report nobody read never passes (README, "Exit codes")."""
    write(tmp_path, "finding.py", PROBE)
    write(tmp_path, "ok.py", "x = 1\n")
    rc, err = _reader_closed(tmp_path, *args, stdin=PROBE.encode())
    assert rc == 141, (rc, err)
    assert err == "", err
    rc, _ = _reader_closed(tmp_path, *args, stderr_too=True, stdin=PROBE.encode())  # `2>&1 | head -0`
    assert rc == 141


@pytest.mark.parametrize("config,word", [
    ("max-file-size = 5e6\n", "max-file-size"),
    ('max-file-size = "0"\n', "max-file-size"),
    ("max-file-size = true\n", "max-file-size"),
    ("extend-exclude = " + "[" * 10_000 + "]" * 10_000 + "\n", "nested too deeply"),
    ("[tool]\n" + "a = " + "[" * 900 + "]" * 900 + "\n", ""),
])
def test_config_crashes_are_one_line_exit_2(run_cli, tmp_path, config, word):
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, ".keyless.toml", config)
    rc, out, err = run_cli("check", ".", "--no-cache", "--exit-zero")
    assert rc == 2 and word in one_line_error(err)


def test_max_file_size_option_of_zero_is_a_usage_error(run_cli, tmp_path):
    write(tmp_path, "a.py", PROBE)
    rc, out, err = run_cli("check", ".", "--no-cache", "--max-file-size", "0")
    assert rc == 2 and "max-file-size" in one_line_error(err)


def test_any_unexpected_exception_is_one_line_and_exit_2(run_cli, tmp_path, monkeypatch):
    from keyless.linter import session

    write(tmp_path, "a.py", PROBE)

    def boom(*a, **k):
        raise ValueError(f"parser said {SECRET}")

    monkeypatch.setattr(session, "lint_paths", boom)
    rc, out, err = run_cli("check", ".", "--no-cache", "--exit-zero")
    line = one_line_error(err)
    assert rc == 2 and "internal error (ValueError at keyless/linter/session.py:" in line
    assert SECRET not in out + err  # the exception's text may quote a file
    monkeypatch.setenv("KEYLESS_DEBUG", "1")
    rc, out, err = run_cli("check", ".", "--no-cache")
    assert rc == 2 and "Traceback" in err and "ValueError" in err
    monkeypatch.delenv("KEYLESS_DEBUG")

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device", "/some/where")

    monkeypatch.setattr(session, "lint_paths", disk_full)
    rc, out, err = run_cli("check", ".", "--no-cache", "--exit-zero")
    assert rc == 2 and one_line_error(err) == "keyless: error: No space left on device: /some/where"


# ---- item: empty or unknown selectors ----------------------------------------------------------

@pytest.mark.parametrize("args,word", [
    (["--select", ""], "--select"),
    (["--select", "KL101,"], "--select"),
    (["--select", " , "], "--select"),
    (["--extend-select", ""], "--extend-select"),
    (["--ignore", ""], "--ignore"),
    (["--select", "KL999"], "KL999"),
    (["--ignore", "nope"], "nope"),
    (["--per-file-ignores", "tests/**:"], "tests/**"),
    (["--per-file-ignores", "tests/**:KL101,"], "tests/**"),
    (["--per-file-ignores", "tests/**:NOPE"], "NOPE"),
    (["--ignore", "ALL"], "selection is empty"),
])
def test_empty_or_unknown_selectors_are_usage_errors(run_cli, tmp_path, args, word):
    write(tmp_path, "a.py", PROBE)
    rc, out, err = run_cli("check", ".", "--no-cache", *args)
    assert rc == 2 and word in err, err
    assert "All checks passed" not in out


@pytest.mark.parametrize("config,word", [
    ("select = []\n", "`select`"),
    ('select = [""]\n', "empty rule selector"),
    ('extend-select = ["  "]\n', "empty rule selector"),
    ('ignore = ["NOPE"]\n', "NOPE"),
    ('[per-file-ignores]\n"tests/**" = []\n', "tests/**"),
    ('[per-file-ignores]\n"tests/**" = [""]\n', "tests/**"),
])
def test_empty_or_unknown_selectors_in_the_configuration(run_cli, tmp_path, config, word):
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, ".keyless.toml", config)
    rc, out, err = run_cli("check", ".", "--no-cache")
    assert rc == 2 and word in err and ".keyless.toml" in err, err
    rc, out, err = run_cli("baseline", "write", ".", "--no-cache")
    assert rc == 2 and word in err


# ---- item: levels agree between stderr and the payload (issue 16) ------------------------------

def test_stderr_levels_match_the_payload_and_notes_go_to_stderr(run_cli, tmp_path, monkeypatch):
    from keyless.linter import readfile  # every read of a scanned file goes through it

    write(tmp_path, "broken.py", BROKEN)
    write(tmp_path, "locked.py", PROBE)
    write(tmp_path, "blob.bin.txt", "a\x00b")  # binary content: a note
    real_open = readfile.os.open

    def guarded_open(path, *a, **k):
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr(readfile.os, "open", guarded_open)
    for fmt in ("json", "sarif"):
        rc, out, err = run_cli("check", ".", "--no-cache", "--output-format", fmt)
        assert rc == 2
        if fmt == "json":
            levels = {e["path"]: e["level"] for e in json.loads(out)["errors"]}
        else:
            notes = json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            levels = {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n["level"] for n in notes}
        assert levels == {"broken.py": "warning", "locked.py": "error"}
        assert "broken.py:2: warning: invalid Python" in err and "locked.py: error: cannot read" in err
        assert "broken.py:2: error" not in err
        assert "note: blob.bin.txt: skipped, binary content" in err  # notes: stderr, every format
        rc, out, err = run_cli("check", ".", "--no-cache", "--output-format", fmt, "-q")
        assert "note:" not in err


def test_docs_json_example_matches_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    doc = open(os.path.join(ROOT, "docs", "output-formats.md"), encoding="utf-8").read()
    block = doc[doc.index("## json"):]
    example = json.loads(block[block.index("```json") + 7: block.index("```", block.index("```json") + 7)])
    schema = json.load(open(os.path.join(ROOT, "keyless", "linter", "report", "json_output.schema.json")))
    jsonschema.Draft202012Validator(schema).validate(example)
    assert {e["level"] for e in example["errors"]} == {"error", "warning"}


# ---- item: options that would be silently ignored ---------------------------------------------

@pytest.mark.parametrize("args,word", [
    (["--stdin-filename", "a.py"], "--stdin-filename"),
    (["--stdin-filename", "a.py", "."], "--stdin-filename"),
    (["--include-untracked"], "--include-untracked"),
    (["-", "a.py"], "'-'"),
    (["-", "--diff-base", "main"], "--diff-base"),
])
def test_options_that_would_be_ignored_are_usage_errors(run_cli, tmp_path, args, word):
    write(tmp_path, "a.py", PROBE)
    rc, out, err = run_cli("check", "--no-cache", *args, input="")
    assert rc == 2 and word in one_line_error(err) and out == ""


def test_stdin_filename_with_dash_still_works(run_cli, tmp_path):
    rc, out, err = run_cli("check", "--stdin-filename", "a.py", "-", input=PROBE)
    assert rc == 1 and "a.py:1:10: KL190" in out


def test_invalid_toml_is_reported_without_quoting_the_file(run_cli, tmp_path):
    """pyproject.toml is scanned too and may hold a credential next to [tool.keyless]: the error
    keeps tomllib's kind and position, not the characters it quotes."""
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, "pyproject.toml", f'[tool.keyless]\nselect = ["KL1"]\n[tool.other]\ntoken = "{SECRET}\x01"\n')
    rc, out, err = run_cli("check", ".", "--no-cache")
    line = one_line_error(err)
    assert rc == 2 and "invalid TOML: Illegal character ... (at line 4" in line, line
