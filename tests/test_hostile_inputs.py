"""Hostile and broken input: each case must give no traceback, at most a one-line error naming the
file, keep scanning the other files and keep the exit code meaningful. Big inputs are generated
here, never committed. Each run is a real `keyless` process with a hang guard: that time is never
reached by a run that ends; that runs stay linear is measured (tests/test_time_bounds.py, and the
number of files below), not timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, write
from test_time_bounds import MAX_GROWTH, measured, scaling

PROBE = "x = 1  # keyless: ignore[KL190]\n"  # a finding (no reason) in a file that is always fine
HANG_GUARD = 900  # seconds: only a run that never ends gets there


def run(cwd, *args):
    proc = subprocess.run([sys.executable, "-m", "keyless", "check", *args, "--no-cache"], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=HANG_GUARD,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def found(out: str) -> set[tuple[str, int, str]]:
    return {(f["path"], f["location"]["line"], f["code"]) for f in json.loads(out)["findings"]}


BROKEN = {  # Azure-flavoured, so the structural rules really parse them
    "bad.py": "from azure.storage.blob import BlobServiceClient\nc = BlobServiceClient.from_connection_string(\n",
    "bad.yaml": "identity:\n  type: SystemAssigned\nproperties: [1, 2\nb: {\n\t- tab\n",
    "bad.json": '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",'
                ' "resources": [1, 2,, }\n',
    "bad.tf": 'resource "azurerm_container_app" "y" {\n  identity {\n  a = \n',
    "bad.env": "=\n'unterminated\nexport\n",
    "truncated.json": '{"$schema": "deploymentTemplate.json", "resources": [{"type": "Microsoft.Web/sites", "identity": {',
    "mixed_indent.py": "from azure.identity import DefaultAzureCredential\nif True:\n\tx = DefaultAzureCredential()\n        y = 2\n",
    "template.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: {{ .Values.a }}\n",
    "bad.bicep": "resource st 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  identity: { type: = }\n"
                 "  properties: { allowSharedKeyAccess: true }\n",
}


def test_syntax_errors_in_every_kind_are_per_file_warnings(tmp_path):
    for name, text in BROKEN.items():
        write(tmp_path, name, text)
    write(tmp_path, "good.py", PROBE)
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert rc == 1 and ("good.py", 1, "KL190") in found(out)
    for name in ("bad.py", "bad.yaml", "bad.json", "bad.tf", "truncated.json", "mixed_indent.py", "bad.bicep"):
        lines = [line for line in err.splitlines() if line.startswith(name)]
        assert len(lines) == 1, (name, err)
        assert len(lines[0]) < 300
    # A broken file still gets its secrets scanned (text rules run): the probe is found there too.
    write(tmp_path, "bad2.json", '{"a": 1,, } // keyless: ignore[KL190]\n')
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert ("bad2.json", 1, "KL190") in found(out)


def test_clean_tree_with_broken_files_exits_zero(tmp_path):
    for name, text in BROKEN.items():
        write(tmp_path, name, text)
    rc, out, err = run(tmp_path, ".")
    assert rc == 0, out + err


@pytest.mark.parametrize("encoding,prefix", [
    ("utf-8-sig", b""), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
])
def test_encodings_with_bom(tmp_path, encoding, prefix):
    body = ("# café ☕\n" + PROBE).encode(encoding)
    write(tmp_path, "enc.py", prefix + body, mode="wb")
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert found(out) == {("enc.py", 2, "KL190")}, err


def test_invalid_utf8_nul_crlf_and_lone_cr(tmp_path):
    write(tmp_path, "latin.py", b"# \xe9t\xe9 \xff\n" + PROBE.encode(), mode="wb")
    write(tmp_path, "nul.py", b"x = 1\x00\x00\n" + PROBE.encode(), mode="wb")
    write(tmp_path, "crlf.py", ("a = 1\r\n" + PROBE.replace("\n", "\r\n")).encode(), mode="wb")
    write(tmp_path, "cr.yaml", b"a: 1\r# keyless: ignore[KL190]\rb: 2\r", mode="wb")
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    got = found(out)
    assert ("latin.py", 2, "KL190") in got
    assert ("crlf.py", 2, "KL190") in got
    assert ("cr.yaml", 2, "KL190") in got
    assert not any(p == "nul.py" for p, _, _ in got) and "nul.py" in err and "binary" in err


def test_huge_file_is_skipped_by_the_cap_and_said_so(tmp_path):
    with open(tmp_path / "huge.txt", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing 50 MB
    write(tmp_path, "ok.py", PROBE)
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert rc == 1 and "huge.txt" in err and "size cap" in err


def test_single_5mb_line(tmp_path):
    write(tmp_path, "one.txt", "A1b2+/" * (5 * 1024 * 1024 // 6) + "\n")
    write(tmp_path, "one.json", '{"k": "' + "ab=;" * (1024 * 1024) + '"}\n')
    write(tmp_path, "ok.py", PROBE)
    rc, out, err = run(tmp_path, ".", "--output-format", "json", "--max-file-size", "8MB")
    assert rc == 1 and found(out) == {("ok.py", 1, "KL190")}


def test_deep_nesting_never_raises_recursion_error(tmp_path):
    depth = 100_000
    write(tmp_path, "deep.json", "[" * depth + "]" * depth)
    write(tmp_path, "deep.yaml", "[" * depth + "]" * depth)
    write(tmp_path, "deep2.yaml", "".join("  " * i + "-\n" for i in range(2000)))
    write(tmp_path, "deep.py", "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    write(tmp_path, "deep.tf", "a = " + "[" * 3000 + "]" * 3000 + "\n")
    # scripts: nested substitutions and parentheses around an az command (each level was once
    # walked again per level), a here-document and continuation thousands of lines long
    write(tmp_path, "deep.sh", "x=" + "$(" * 3000 + "az role assignment create --role Owner" + ")" * 3000 + "\n")
    write(tmp_path, "deep.ps1", "$x = " + "(" * 3000 + "az group show" + ")" * 3000 + "\n")
    write(tmp_path, "Dockerfile", "FROM x\nRUN az login \\\n" + "# c\n" * 20000 + "  --identity\n")
    write(tmp_path, "long.mk", "a:\n\taz group list \\\n" + "\t  --x y \\\n" * 20000 + "\n")
    write(tmp_path, "deep.ipynb", '{"cells": [{"cell_type": "code", "source": "x = ' + "(" * 5000 + "1" + ")" * 5000 + '"}]}')
    write(tmp_path, "deep.bicep", "var a = " + "[" * 3000 + "]" * 3000 + "\nvar identity = 'x'\n")
    write(tmp_path, "ok.py", PROBE)
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert rc == 1 and ("ok.py", 1, "KL190") in found(out)
    assert "RecursionError" not in err


def test_yaml_alias_bomb(tmp_path):
    lines = ["identity:", "  type: SystemAssigned",  # an Azure word: the YAML rules parse the file
             'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    write(tmp_path, "ok.py", PROBE)
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert rc == 1 and ("ok.py", 1, "KL190") in found(out)
    # Refused by the expansion meter, never expanded (tests/test_documents_yaml.py)
    assert "bomb.yaml" in err and "alias expansion too large" in err


def _tiny_files(base, n: int) -> None:
    for i in range(n):
        sub = base / f"d{i % 100:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_bytes(b"x\n")


def test_many_tiny_files(tmp_path):
    """Every file is scanned, through the worker pool and in one process alike."""
    n = 5_000
    _tiny_files(tmp_path / "many", n)
    write(tmp_path, "many/ok.py", PROBE)
    rc, out, err = run(tmp_path, "many", "--output-format", "json")
    assert rc == 1 and json.loads(out)["summary"]["files_scanned"] == n + 1
    rc, out, err = run(tmp_path, "many", "--output-format", "json", "--jobs", "1")
    assert rc == 1 and json.loads(out)["summary"]["files_scanned"] == n + 1


def test_a_check_is_linear_in_the_number_of_files(run_cli, tmp_path):
    """Discovery, reading, linting and the report: 4x the files take ~4x the time (the scaling
    method of tests/test_time_bounds.py, in this process: one job)."""
    made: set[int] = set()

    def cost(n: int) -> float:
        base = tmp_path / f"n{n}"
        if n not in made:
            _tiny_files(base, n)
            made.add(n)
        args = ("check", base.name, "--jobs", "1", "--no-cache", "--output-format", "json")
        rc = []
        took = measured(lambda: rc.append(run_cli(*args)[0]))
        assert rc == [0]
        return took

    ratio = scaling(cost, 1_000, max_size=16_000)
    assert ratio <= MAX_GROWTH, f"4x the files took {ratio:.1f}x the time"


def test_long_and_unicode_paths(tmp_path):
    deep = tmp_path
    for i in range(14):
        deep = deep / (f"{i:02d}" + "d" * 250)
    deep.mkdir(parents=True)
    (deep / "long.py").write_text(PROBE)
    write(tmp_path, "ünïcødé/日本語 file.py", PROBE)
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    paths = {p for p, _, _ in found(out)}
    assert "ünïcødé/日本語 file.py" in paths and any(p.endswith("long.py") for p in paths)


def test_symlink_loops_dangling_links_and_directory_as_file(tmp_path):
    (tmp_path / "a").mkdir()
    os.symlink("..", tmp_path / "a" / "up")
    os.symlink("a", tmp_path / "loop")
    os.symlink("nowhere", tmp_path / "dangling.py")
    write(tmp_path, "a/ok.py", PROBE)
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert found(out) == {("a/ok.py", 1, "KL190")}
    # Links that lead nowhere are notes (stderr), not errors: the exit code is the findings'.
    os.symlink("self.py", tmp_path / "self.py")
    rc, out, err = run(tmp_path, "dangling.py", "self.py", "a", "--output-format", "json")
    assert rc == 1 and json.loads(out)["errors"] == []
    assert "note: dangling.py: skipped, dangling symbolic link" in err
    assert "note: self.py: skipped, symbolic link loop" in err
    rc, out, err = run(tmp_path, ".", "--output-format", "json")
    assert rc == 1 and json.loads(out)["errors"] == [] and "self.py: skipped, symbolic link loop" in err


def test_unreadable_and_vanishing_files(tmp_path, monkeypatch):
    from keyless.linter import engine
    from keyless.linter.discovery import Candidate

    write(tmp_path, "secret.py", PROBE)
    write(tmp_path, "gone.py", PROBE)
    write(tmp_path, "ok.py", PROBE)
    from keyless.linter import readfile

    real_open = readfile.os.open

    def guarded_open(path, *a, **k):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr(readfile.os, "open", guarded_open)
    st = engine.Settings(root=str(tmp_path), select=frozenset({"KL190"}))
    cands = [Candidate(str(tmp_path / n), n, 10, 0) for n in ("secret.py", "gone.py", "ok.py")]
    (tmp_path / "gone.py").unlink()
    cands.append(Candidate(str(tmp_path), "dir-as-file", 0, 0))
    res = engine.finish(engine.run_files(cands, st, jobs=1), st)
    assert [(f.path, f.code) for f in res.findings] == [("ok.py", "KL190")]
    errors = {p: m for p, m, _ in res.errors}
    assert "Permission denied" in errors["secret.py"]
    # Replaced by a directory since discovery: never opened for reading, a note.
    assert "dir-as-file" not in errors and any("dir-as-file" in n and "directory" in n for n in res.notes)
    assert any("gone.py" in n and "deleted" in n for n in res.notes)


def test_read_only_tree_and_cache(run_cli, tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root ignores permission bits")
    write(tmp_path, "src/ok.py", PROBE)
    cache = tmp_path / "ro-cache"
    cache.mkdir()
    os.chmod(cache, 0o500)
    os.chmod(tmp_path / "src", 0o500)
    try:
        rc, out, err = run_cli("check", "src", "--cache-dir", str(cache))
        assert rc == 1 and "Traceback" not in err
    finally:
        os.chmod(cache, 0o700)
        os.chmod(tmp_path / "src", 0o700)

