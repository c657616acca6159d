"""Baselines are user data, and secret fingerprints must not confirm a guess.

Fingerprints (slow salted derivation, truncated), migration of keyless 0.1 baselines, what a run
on a subset judges and rewrites, config-relative and project-bounded paths, stdin, renames, and
hostile or broken baseline files (one line, exit 2, nothing lost)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import keygen
from conftest import ROOT, write

PROBE = "x = 1  # keyless: ignore[KL190]\n"  # KL190: a finding whose key holds no secret
PASSWORD = keygen.password(1)
STORAGE_KEY = keygen.legacy_b64(64, "baseline-test")


def sql_conn(password: str = PASSWORD) -> str:
    return ('SQL = "Server=tcp:contoso-sql.database.windows.net,1433;Initial Catalog=app;'
            f'User ID=appadmin;Password={password};Encrypt=True"\n')


def storage_conn(key: str = STORAGE_KEY) -> str:
    return f'CONN = "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={key};EndpointSuffix=core.windows.net"\n'


def v01_fingerprint(code: str, key: str) -> str:
    """keyless 0.1's fingerprint: an unsalted SHA-256 of code and key."""
    return hashlib.sha256(code.encode() + b"\0" + key.encode() + b"\0").hexdigest()


def findings(out: str) -> list[dict]:
    return json.loads(out)["findings"]


def entries(path) -> list[dict]:
    return json.loads(open(path, encoding="utf-8").read())["findings"]


def one_line_error(rc: int, out: str, err: str) -> str:
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# ---- 1. fingerprints --------------------------------------------------------------------------

def test_secret_fingerprint_is_not_a_fast_hash_of_the_secret(run_cli, tmp_path):
    write(tmp_path, "app.py", sql_conn())
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    (f,) = [f for f in findings(out) if f["code"] == "KL106"]
    fp = f["fingerprint"]
    for fast in (v01_fingerprint("KL106", PASSWORD), hashlib.sha256(PASSWORD.encode()).hexdigest(),
                 hashlib.sha256(b"KL106" + PASSWORD.encode()).hexdigest()):
        assert fp not in fast
    assert len(fp) == 16 and int(fp, 16) >= 0  # 64 bits: docs/fingerprints.md says why


def test_password_messages_show_no_character_of_the_password(run_cli, tmp_path):
    write(tmp_path, "app.py", sql_conn())
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    (f,) = [f for f in findings(out) if f["code"] == "KL106"]
    assert PASSWORD[:2] not in f["message"] and f"({len(PASSWORD)} chars)" in f["message"]
    # Key material with a generator's shape keeps its prefix: it tells two keys apart, costs nothing.
    write(tmp_path, "app.py", storage_conn())
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    (f,) = [f for f in findings(out) if f["code"] == "KL101"]
    assert f"{STORAGE_KEY[:4]}…(88 chars)" in f["message"]


def test_fingerprint_is_stable_across_lines_files_and_machines(run_cli, tmp_path):
    from keyless.linter.finding import secret_fingerprint

    write(tmp_path, "a.py", sql_conn())
    write(tmp_path, "sub/b.py", "\n\n\n" + sql_conn())
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    fps = {f["path"]: f["fingerprint"] for f in findings(out) if f["code"] == "KL106"}
    assert fps["a.py"] == fps["sub/b.py"] == secret_fingerprint("KL106", PASSWORD)
    # A fixed vector: any change to the derivation (salt, cost, length) would silently turn every
    # user's baselined secret into a new finding. Changing it needs a migration, not a new vector.
    assert secret_fingerprint("KL106", "correct horse battery staple") == "7e8429a069ee8902"
    assert secret_fingerprint("KL101", "A" * 86 + "==", generated=True) == "669e62cadd366269"


def test_only_generated_key_material_gets_the_cheap_derivation():
    from keyless.linter.documents import make_document
    from keyless.rules.secrets.base import generated_key
    from keyless.rules.secrets.scanner import scan

    def kinds(text):
        doc = make_document("a.py", "a.py", text)
        return {s.kind: generated_key(s) for s in scan(doc)}

    assert kinds(storage_conn()) == {"storage-key": True}
    assert kinds(sql_conn()) == {"db-password": False}
    # A password with the exact shape of a base64 key is still a password slot.
    assert kinds(sql_conn(keygen.legacy_b64(32, "pw"))) == {"db-password": False}


def test_structural_fingerprints_did_not_change(run_cli, tmp_path):
    """Findings whose key holds no secret keep keyless 0.1's fingerprint: no churn, no migration."""
    write(tmp_path, "a.py", PROBE)
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json")
    (f,) = findings(out)
    assert f["fingerprint"] == v01_fingerprint("KL190", "KL190")


def test_keyless_01_baseline_is_read_and_rewritten_in_the_new_form(run_cli, tmp_path):
    write(tmp_path, "app.py", sql_conn() + storage_conn() + PROBE)
    old = {"version": 1, "tool": "keyless", "findings": [
        {"code": "KL101", "path": "app.py", "fingerprint": v01_fingerprint("KL101", STORAGE_KEY), "count": 1},
        {"code": "KL106", "path": "app.py", "fingerprint": v01_fingerprint("KL106", PASSWORD), "count": 1},
        {"code": "KL190", "path": "app.py", "fingerprint": v01_fingerprint("KL190", "KL190"), "count": 1},
    ]}
    write(tmp_path, "base.json", json.dumps(old))
    rc, out, err = run_cli("check", ".", "--no-cache", "--baseline", "base.json")
    assert rc == 0 and "no longer matches" not in err, (out, err)
    rc, _, err = run_cli("check", ".", "--no-cache", "--baseline", "base.json", "--update-baseline")
    assert rc == 0
    data = json.loads((tmp_path / "base.json").read_text())
    assert data["version"] == 2
    text = (tmp_path / "base.json").read_text()
    assert v01_fingerprint("KL106", PASSWORD) not in text and v01_fingerprint("KL101", STORAGE_KEY) not in text
    assert {e["code"]: len(e["fingerprint"]) for e in data["findings"]} == {"KL101": 16, "KL106": 16, "KL190": 64}
    assert run_cli("check", ".", "--no-cache", "--baseline", "base.json")[0] == 0
    # A new secret is still new.
    with open(tmp_path / "app.py", "a") as fh:
        fh.write(sql_conn(keygen.password(2)).replace("SQL", "SQL2"))
    rc, out, _ = run_cli("check", ".", "--no-cache", "--baseline", "base.json", "--output-format", "json")
    assert rc == 1 and [f["code"] for f in findings(out)] == ["KL106"]


def test_a_subset_run_leaves_old_form_entries_of_other_files_for_later(run_cli, tmp_path):
    write(tmp_path, "a.py", sql_conn())
    write(tmp_path, "b.py", sql_conn(keygen.password(3)))
    old = {"version": 1, "findings": [
        {"code": "KL106", "path": "a.py", "fingerprint": v01_fingerprint("KL106", PASSWORD)},
        {"code": "KL106", "path": "b.py", "fingerprint": v01_fingerprint("KL106", keygen.password(3))},
    ]}
    write(tmp_path, "base.json", json.dumps(old))
    assert run_cli("check", "a.py", "--no-cache", "--baseline", "base.json", "--update-baseline")[0] == 0
    by_path = {e["path"]: e for e in entries(tmp_path / "base.json")}
    assert len(by_path["a.py"]["fingerprint"]) == 16
    assert by_path["b.py"]["legacy-fingerprint"] == v01_fingerprint("KL106", keygen.password(3))
    assert run_cli("check", ".", "--no-cache", "--baseline", "base.json")[0] == 0


# ---- 2. baseline semantics ----------------------------------------------------------------------

def test_a_run_on_some_files_judges_and_rewrites_only_their_entries(run_cli, tmp_path):
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, "b.py", PROBE)
    write(tmp_path, "sub/c.py", PROBE)
    assert run_cli("baseline", "write", ".", "-o", "base.json", "--no-cache")[0] == 0
    before = entries(tmp_path / "base.json")
    assert len(before) == 3
    rc, out, err = run_cli("check", "a.py", "--no-cache", "--baseline", "base.json")
    assert rc == 0 and "no longer matches" not in err
    rc, _, _ = run_cli("check", "a.py", "--no-cache", "--baseline", "base.json", "--update-baseline")
    assert rc == 0 and entries(tmp_path / "base.json") == before
    # A directory covers what is under it: a file deleted there is judged, others are not.
    (tmp_path / "sub/c.py").unlink()
    rc, out, err = run_cli("check", "sub", "--no-cache", "--baseline", "base.json")
    assert rc == 0 and "sub/c.py" in err and "a.py" not in err.replace("sub/c.py", "")
    run_cli("check", "sub", "--no-cache", "--baseline", "base.json", "--update-baseline")
    assert sorted(e["path"] for e in entries(tmp_path / "base.json")) == ["a.py", "b.py"]
    # `baseline write` on a subset keeps the other files' entries as well.
    write(tmp_path, "b.py", PROBE * 2)
    assert run_cli("baseline", "write", "b.py", "-o", "base.json", "--no-cache")[0] == 0
    counts = {e["path"]: e["count"] for e in entries(tmp_path / "base.json")}
    assert counts == {"a.py": 1, "b.py": 2}


def test_a_run_with_some_rules_or_a_severity_threshold_keeps_the_other_entries(run_cli, tmp_path):
    write(tmp_path, "a.py", PROBE + "y = 2  # keyless: ignore[KL1Z9] some reason\n")  # KL190 + KL191
    assert run_cli("baseline", "write", ".", "-o", "base.json", "--no-cache")[0] == 0
    assert sorted(e["code"] for e in entries(tmp_path / "base.json")) == ["KL190", "KL191"]
    rc, _, err = run_cli("check", ".", "--select", "KL190", "--no-cache", "--baseline", "base.json")
    assert rc == 0 and "no longer matches" not in err
    run_cli("check", ".", "--select", "KL190", "--no-cache", "--baseline", "base.json", "--update-baseline")
    assert sorted(e["code"] for e in entries(tmp_path / "base.json")) == ["KL190", "KL191"]
    # KL190 is low severity: a `--severity high` run neither reports it nor forgets its entry.
    rc, _, err = run_cli("check", ".", "--severity", "high", "--no-cache", "--baseline", "base.json",
                         "--update-baseline")
    assert rc == 0 and sorted(e["code"] for e in entries(tmp_path / "base.json")) == ["KL190", "KL191"]


def test_configured_baseline_is_relative_to_the_config_file(run_cli, tmp_path):
    write(tmp_path, ".keyless.toml", 'baseline = "ci/base.json"\n')
    write(tmp_path, "src/a.py", PROBE)
    rc, _, err = run_cli("baseline", "write", ".", "--no-cache", cwd=tmp_path / "src")
    assert rc == 0, err
    assert (tmp_path / "ci/base.json").exists() and not (tmp_path / "src/ci").exists()
    rc, out, err = run_cli("check", ".", "--no-cache", cwd=tmp_path / "src")
    assert rc == 0, err


def test_config_paths_may_not_leave_the_project(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("KEYLESS_CACHE_DIR")  # the environment, like the command line, may point anywhere
    project = tmp_path / "repo"
    outside = tmp_path / "elsewhere.json"
    outside.write_text("precious\n")
    (project / ".git").mkdir(parents=True)
    write(project, ".keyless.toml", 'baseline = "../elsewhere.json"\n')
    write(project, "a.py", PROBE)
    line = one_line_error(*run_cli("baseline", "write", ".", "--no-cache", cwd=project))
    assert "outside the project" in line and outside.read_text() == "precious\n"
    one_line_error(*run_cli("check", ".", "--no-cache", cwd=project))
    # The command line may point anywhere: that is the user's choice, not the repository's.
    rc, _, _ = run_cli("check", ".", "--no-cache", "--baseline", str(tmp_path / "mine.json"),
                       "--update-baseline", cwd=project)
    assert rc == 0 and (tmp_path / "mine.json").exists()
    # Through a symbolic link, and for the cache directory too (unless given on the command line).
    (tmp_path / "out").mkdir()
    os.symlink(tmp_path / "out", project / "link")
    write(project, ".keyless.toml", 'baseline = "link/base.json"\n')
    one_line_error(*run_cli("baseline", "write", ".", "--no-cache", cwd=project))
    assert not (tmp_path / "out/base.json").exists()
    write(project, ".keyless.toml", 'cache-dir = "../cache"\n')
    line = one_line_error(*run_cli("check", ".", cwd=project))
    assert "cache-dir" in line and not (tmp_path / "cache").exists()
    assert run_cli("check", ".", "--cache-dir", str(tmp_path / "cache"), cwd=project)[0] == 1
    # Inside the repository but above the configuration file: allowed (a shared baseline).
    write(project, "svc/.keyless.toml", 'baseline = "../shared.json"\n')
    write(project, "svc/b.py", PROBE)
    assert run_cli("baseline", "write", ".", "--no-cache", cwd=project / "svc")[0] == 0
    assert (project / "shared.json").exists()


def test_stdin_honours_the_configured_baseline(run_cli, tmp_path):
    write(tmp_path, ".keyless.toml", 'baseline = "base.json"\n')
    write(tmp_path, "a.py", PROBE)
    assert run_cli("baseline", "write", ".", "--no-cache")[0] == 0
    rc, out, err = run_cli("check", "--stdin-filename", "a.py", "-", input=PROBE)
    assert rc == 0, (out, err)
    rc, _, _ = run_cli("check", "--stdin-filename", "a.py", "-", input=PROBE * 2)
    assert rc == 1
    one_line_error(*run_cli("check", "--stdin-filename", "a.py", "--update-baseline", "-", input=PROBE))


def test_a_renamed_file_keeps_its_baselined_secrets(run_cli, tmp_path):
    write(tmp_path, "old_name.py", sql_conn())
    assert run_cli("baseline", "write", ".", "-o", "base.json", "--no-cache")[0] == 0
    os.rename(tmp_path / "old_name.py", tmp_path / "new_name.py")
    rc, out, err = run_cli("check", ".", "--no-cache", "--baseline", "base.json")
    assert rc == 0, (out, err)
    assert "new_name.py" in err and "old_name.py" in err and "no longer matches" not in err
    run_cli("check", ".", "--no-cache", "--baseline", "base.json", "--update-baseline")
    assert [e["path"] for e in entries(tmp_path / "base.json")] == ["new_name.py"]
    # Only when the old file no longer holds it: a copy is a second leak.
    write(tmp_path, "copy.py", sql_conn())
    rc, out, _ = run_cli("check", ".", "--no-cache", "--baseline", "base.json", "--output-format", "json")
    assert rc == 1 and [f["path"] for f in findings(out)] == ["copy.py"]
    # A run that did not scan the old path cannot know the secret left it.
    write(tmp_path, "other/x.py", sql_conn(keygen.password(4)))
    assert run_cli("baseline", "write", ".", "-o", "base.json", "--no-cache")[0] == 0
    os.rename(tmp_path / "other/x.py", tmp_path / "moved.py")
    rc, _, _ = run_cli("check", "moved.py", "--no-cache", "--baseline", "base.json")
    assert rc == 1


# ---- 3. the baseline file is user data -----------------------------------------------------------

BAD_BASELINES = {
    "deep": "[" * 100_000 + "]" * 100_000,
    "deep-object": '{"version": 2, "findings": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "huge-count": '{"version": 2, "findings": [{"code": "KL190", "path": "a.py", "fingerprint": "%s", "count": 1e999}]}',
    "long-int": '{"version": 2, "findings": [{"code": "KL190", "path": "a.py", "fingerprint": "%s", "count": 1%s}]}',
    "string-count": '{"version": 2, "findings": [{"code": "KL190", "path": "a.py", "fingerprint": "%s", "count": "2"}]}',
    "bool-count": '{"version": 2, "findings": [{"code": "KL190", "path": "a.py", "fingerprint": "%s", "count": true}]}',
    "zero-count": '{"version": 2, "findings": [{"code": "KL190", "path": "a.py", "fingerprint": "%s", "count": 0}]}',
    "list-path": '{"version": 2, "findings": [{"code": "KL190", "path": ["a.py"], "fingerprint": "%s"}]}',
    "int-code": '{"version": 2, "findings": [{"code": 190, "path": "a.py", "fingerprint": "%s"}]}',
    "bad-fingerprint": '{"version": 2, "findings": [{"code": "KL190", "path": "a.py", "fingerprint": "x\\u001b[31m"}]}',
    "entry-not-object": '{"version": 2, "findings": [1]}',
    "truncated": '{"version": 2, "findings": [{"code": "KL190", "path": "a.py", "fingerp',
    "float-version": '{"version": 1.0, "findings": []}',
    "no-findings": '{"version": 2}',
    "not-utf8": b'{"version": 2, "findings": [], "tool": "\xff"}',
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(BAD_BASELINES))
def test_a_broken_baseline_is_one_line_exit_2_and_never_overwritten(run_cli, tmp_path, case):
    write(tmp_path, "a.py", PROBE)
    content = BAD_BASELINES[case]
    if isinstance(content, str):
        fp = v01_fingerprint("KL190", "KL190")
        content = content.replace("%s", fp, 1).replace("%s", "0" * 5000).encode()
    (tmp_path / "base.json").write_bytes(content)
    line = one_line_error(*run_cli("check", ".", "--no-cache", "--baseline", "base.json"))
    assert "base.json" in line and len(line) < 300 and "\x1b" not in line
    one_line_error(*run_cli("check", ".", "--no-cache", "--baseline", "base.json", "--update-baseline"))
    one_line_error(*run_cli("baseline", "write", ".", "-o", "base.json", "--no-cache"))
    assert (tmp_path / "base.json").read_bytes() == content  # the user's file, untouched
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []


def test_a_baseline_that_cannot_be_written_is_one_line_exit_2(run_cli, tmp_path, monkeypatch):
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, "file", "not a directory\n")
    one_line_error(*run_cli("baseline", "write", ".", "-o", "file/base.json", "--no-cache"))
    one_line_error(*run_cli("check", ".", "--no-cache", "--baseline", "file/base.json", "--update-baseline"))
    # A full disk: the write fails after the temporary file was created.
    assert run_cli("baseline", "write", ".", "-o", "base.json", "--no-cache")[0] == 0
    before = (tmp_path / "base.json").read_bytes()
    write(tmp_path, "a.py", PROBE * 3)

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    line = one_line_error(*run_cli("baseline", "write", ".", "-o", "base.json", "--no-cache"))
    assert "No space left" in line
    one_line_error(*run_cli("check", ".", "--no-cache", "--baseline", "base.json", "--update-baseline"))
    assert (tmp_path / "base.json").read_bytes() == before
    assert [n for n in os.listdir(tmp_path) if n.startswith(".keyless-")] == []


def test_a_baseline_write_killed_by_sigterm_leaves_the_old_file_and_no_temporary(tmp_path):
    """A real process: CI cancels the job (SIGTERM) while the new baseline is being written."""
    write(tmp_path, "a.py", PROBE)
    write(tmp_path, "base.json", '{"version": 2, "findings": []}\n')
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import os, sys, time\n"
         "real_replace = os.replace\n"
         "def held_replace(src, dst):  # hold the baseline's rename: its temporary file is complete\n"
         "    if str(dst).endswith('base.json'):\n"
         "        time.sleep(60)\n"
         "    real_replace(src, dst)\n"
         "os.replace = held_replace\n"
         "from keyless.cli import main\n"
         "sys.argv = ['keyless', 'baseline', 'write', '.', '-o', 'base.json', '--no-cache']\n"
         "main()\n"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": ROOT}, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600  # a hang guard, not a speed bound
        while not [n for n in os.listdir(tmp_path) if n.startswith(".keyless-")]:
            assert child.poll() is None and time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    # Ended by the signal's conventional status, after removing its temporary file.
    assert child.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert (tmp_path / "base.json").read_text() == '{"version": 2, "findings": []}\n'
    assert [n for n in os.listdir(tmp_path) if n.startswith(".keyless-")] == []


def test_a_damaged_cache_is_rebuilt_not_a_crash(run_cli, tmp_path):
    """The cache, a sibling of the baseline: a file nested too deeply to parse is ignored."""
    write(tmp_path, "a.py", PROBE)
    cache = tmp_path / "cache"
    assert run_cli("check", ".", "--cache-dir", str(cache))[0] == 1
    for f in cache.rglob("*.json"):
        f.write_text("[" * 100_000 + "]" * 100_000)
    rc, out, err = run_cli("check", ".", "--cache-dir", str(cache))
    assert rc == 1 and "Traceback" not in err
