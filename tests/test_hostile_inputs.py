"""Hostile and broken input: each case must give no traceback, at most a one-line error naming the
file, keep scanning the other files, keep the exit code meaningful, and finish in bounded time.
Big inputs are generated here, never committed."""

from __future__ import annotations

import json
import os
import time

import pytest

from conftest import write

PROBE = "x = 1  # keyless: ignore[KL190]\n"  # a finding (no reason) in a file that is always fine


def run(run_cli, *args, budget=60.0):
    t0 = time.perf_counter()
    rc, out, err = run_cli("check", *args, "--no-cache")
    elapsed = time.perf_counter() - t0
    assert "Traceback" not in out + err, out + err
    assert elapsed < budget, f"took {elapsed:.1f}s"
    return rc, out, err


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


def test_syntax_errors_in_every_kind_are_per_file_warnings(run_cli, tmp_path):
    for name, text in BROKEN.items():
        write(tmp_path, name, text)
    write(tmp_path, "good.py", PROBE)
    rc, out, err = run(run_cli, ".", "--output-format", "json")
    assert rc == 1 and ("good.py", 1, "KL190") in found(out)
    for name in ("bad.py", "bad.yaml", "bad.json", "bad.tf", "truncated.json", "mixed_indent.py", "bad.bicep"):
        lines = [line for line in err.splitlines() if line.startswith(name)]
        assert len(lines) == 1, (name, err)
        assert len(lines[0]) < 300
    # A broken file still gets its secrets scanned (text rules run): the probe is found there too.
    write(tmp_path, "bad2.json", '{"a": 1,, } // keyless: ignore[KL190]\n')
    rc, out, err = run(run_cli, ".", "--output-format", "json")
    assert ("bad2.json", 1, "KL190") in found(out)


def test_clean_tree_with_broken_files_exits_zero(run_cli, tmp_path):
    for name, text in BROKEN.items():
        write(tmp_path, name, text)
    rc, out, err = run(run_cli, ".")
    assert rc == 0, out + err


@pytest.mark.parametrize("encoding,prefix", [
    ("utf-8-sig", b""), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
])
def test_encodings_with_bom(run_cli, tmp_path, encoding, prefix):
    body = ("# café ☕\n" + PROBE).encode(encoding)
    write(tmp_path, "enc.py", prefix + body, mode="wb")
    rc, out, err = run(run_cli, ".", "--output-format", "json")
    assert found(out) == {("enc.py", 2, "KL190")}, err


def test_invalid_utf8_nul_crlf_and_lone_cr(run_cli, tmp_path):
    write(tmp_path, "latin.py", b"# \xe9t\xe9 \xff\n" + PROBE.encode(), mode="wb")
    write(tmp_path, "nul.py", b"x = 1\x00\x00\n" + PROBE.encode(), mode="wb")
    write(tmp_path, "crlf.py", ("a = 1\r\n" + PROBE.replace("\n", "\r\n")).encode(), mode="wb")
    write(tmp_path, "cr.yaml", b"a: 1\r# keyless: ignore[KL190]\rb: 2\r", mode="wb")
    rc, out, err = run(run_cli, ".", "--output-format", "json")
    got = found(out)
    assert ("latin.py", 2, "KL190") in got
    assert ("crlf.py", 2, "KL190") in got
    assert ("cr.yaml", 2, "KL190") in got
    assert not any(p == "nul.py" for p, _, _ in got) and "nul.py" in err and "binary" in err


def test_huge_file_is_skipped_by_the_cap_and_said_so(run_cli, tmp_path):
    with open(tmp_path / "huge.txt", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing 50 MB
    write(tmp_path, "ok.py", PROBE)
    rc, out, err = run(run_cli, ".", "--output-format", "json", budget=20)
    assert rc == 1 and "huge.txt" in err and "size cap" in err


def test_single_5mb_line(run_cli, tmp_path):
    write(tmp_path, "one.txt", "A1b2+/" * (5 * 1024 * 1024 // 6) + "\n")
    write(tmp_path, "one.json", '{"k": "' + "ab=;" * (1024 * 1024) + '"}\n')
    write(tmp_path, "ok.py", PROBE)
    rc, out, err = run(run_cli, ".", "--output-format", "json", "--max-file-size", "8MB", budget=60)
    assert rc == 1 and found(out) == {("ok.py", 1, "KL190")}


def test_deep_nesting_never_raises_recursion_error(run_cli, tmp_path):
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
    rc, out, err = run(run_cli, ".", "--output-format", "json", budget=90)
    assert rc == 1 and ("ok.py", 1, "KL190") in found(out)
    assert "RecursionError" not in err


def test_yaml_alias_bomb(run_cli, tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    write(tmp_path, "ok.py", PROBE)
    rc, out, err = run(run_cli, ".", "--output-format", "json", budget=30)
    assert rc == 1 and ("ok.py", 1, "KL190") in found(out)


def test_many_tiny_files(run_cli, tmp_path):
    n = 100_000
    base = tmp_path / "many"
    for d in range(100):
        sub = base / f"d{d:03d}"
        sub.mkdir(parents=True)
        for i in range(n // 100):
            (sub / f"f{i}.txt").write_bytes(b"x\n")
    write(tmp_path, "many/ok.py", PROBE)
    rc, out, err = run(run_cli, "many", "--output-format", "json", budget=240)
    assert rc == 1 and json.loads(out)["summary"]["files_scanned"] == n + 1


def test_long_and_unicode_paths(run_cli, tmp_path):
    deep = tmp_path
    for i in range(14):
        deep = deep / (f"{i:02d}" + "d" * 250)
    deep.mkdir(parents=True)
    (deep / "long.py").write_text(PROBE)
    write(tmp_path, "ünïcødé/日本語 file.py", PROBE)
    rc, out, err = run(run_cli, ".", "--output-format", "json")
    paths = {p for p, _, _ in found(out)}
    assert "ünïcødé/日本語 file.py" in paths and any(p.endswith("long.py") for p in paths)


def test_symlink_loops_dangling_links_and_directory_as_file(run_cli, tmp_path):
    (tmp_path / "a").mkdir()
    os.symlink("..", tmp_path / "a" / "up")
    os.symlink("a", tmp_path / "loop")
    os.symlink("nowhere", tmp_path / "dangling.py")
    write(tmp_path, "a/ok.py", PROBE)
    rc, out, err = run(run_cli, ".", "--output-format", "json", budget=20)
    assert found(out) == {("a/ok.py", 1, "KL190")}
    # Links that lead nowhere are notes (stderr), not errors: the exit code is the findings'.
    os.symlink("self.py", tmp_path / "self.py")
    rc, out, err = run(run_cli, "dangling.py", "self.py", "a", "--output-format", "json")
    assert rc == 1 and json.loads(out)["errors"] == []
    assert "note: dangling.py: skipped, dangling symbolic link" in err
    assert "note: self.py: skipped, symbolic link loop" in err
    rc, out, err = run(run_cli, ".", "--output-format", "json")
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


def test_every_rule_runs_in_linear_time_on_adversarial_input():
    """Each rule (every file kind it reads) on inputs that make backtracking regexes explode."""
    from keyless.linter.documents import make_document
    from keyless.linter.engine import rule_set

    import base64
    import random

    rnd = random.Random(7)
    b64 = base64.b64encode(rnd.randbytes(750_000)).decode()
    keyish = "A" * 200_000 + "=" + "a" * 200_000
    frags = ";key=" * 100_000 + ";AccountKey=" + "x" * 50_000
    mixed = ("AccountKey=" + "A" * 85 + " " + "sig=" + "%2B" * 300 + "&") * 2000
    urls = ("https://" + "a." * 5000 + "blob.core.windows.net/?sv=" + "x" * 1000 + "&") * 20
    quotes = '"' * 100_000 + "'" * 100_000 + "{" * 50_000
    payloads = {"b64": b64, "keyish": keyish, "frags": frags, "mixed": mixed, "urls": urls, "quotes": quotes}
    names = {"python": "a.py", "yaml": "a.yaml", "json": "a.json", "hcl": "a.tf", "env": ".env", "text": "a.md",
             "shell": "a.sh", "powershell": "a.ps1", "dockerfile": "Dockerfile", "makefile": "Makefile",
             "notebook": "a.ipynb", "bicep": "a.bicep"}
    slow = []
    rs = rule_set()
    for label, payload in payloads.items():
        for kind, name in names.items():
            doc = make_document(name, name, payload)
            t0 = time.perf_counter()
            doc.ensure_parsed()  # parsers are linear but not free: timed on their own
            if time.perf_counter() - t0 > 10.0:
                slow.append(("parse", kind, label, round(time.perf_counter() - t0, 2)))
            for rule in rs.rules:
                if kind not in rule.kinds:
                    continue
                t0 = time.perf_counter()
                try:
                    list(rule.check(doc))
                    list(rule.collect(doc))
                except RecursionError:
                    pass
                took = time.perf_counter() - t0
                if took > 2.0:
                    slow.append((rule.code, kind, label, round(took, 2)))
    assert not slow, f"rules too slow on adversarial input: {slow}"
