"""Engine and CLI behaviour: discovery, config, selection, suppressions, exit codes, stdin,
baseline, cache, changed-files mode. Uses the suppression meta rules (KL190/KL191), whose findings
need no secrets, as the probe."""

from __future__ import annotations

import json
import os
import subprocess


from conftest import write

UNEXPLAINED = "x = 1  # keyless: ignore[KL190]\n"  # KL190 fires: no reason


def codes(stdout: str) -> list[tuple[str, int, str]]:
    data = json.loads(stdout)
    return [(f["path"], f["location"]["line"], f["code"]) for f in data["findings"]]


def test_exit_codes_clean_findings_and_exit_zero(run_cli, tmp_path):
    write(tmp_path, "clean.py", "print('hello')\n")
    assert run_cli("check", ".")[0] == 0
    write(tmp_path, "a.py", UNEXPLAINED)
    assert run_cli("check", ".")[0] == 1
    assert run_cli("check", ".", "--exit-zero")[0] == 0


def test_unknown_selector_and_bad_config_exit_2(run_cli, tmp_path):
    write(tmp_path, "a.py", UNEXPLAINED)
    rc, out, err = run_cli("check", ".", "--select", "KL9ZZ")
    assert rc == 2 and "Unknown rule selector" in err
    write(tmp_path, "keyless.toml", 'selct = ["KL1"]\n')
    rc, out, err = run_cli("check", ".")
    assert rc == 2 and "'selct'" in err
    write(tmp_path, "keyless.toml", 'severity = "urgent"\n')
    rc, out, err = run_cli("check", ".")
    assert rc == 2 and "severity" in err
    write(tmp_path, "keyless.toml", "this is not toml\n")
    assert run_cli("check", ".")[0] == 2


def test_pyproject_without_section_means_defaults(run_cli, tmp_path):
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    write(tmp_path, "a.py", UNEXPLAINED)
    rc, out, _ = run_cli("check", ".", "--output-format", "json")
    assert rc == 1 and codes(out) == [("a.py", 1, "KL190")]


def test_nearest_config_wins_and_select_ignore(run_cli, tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.keyless]\nignore = ['KL190']\n")
    write(tmp_path, "a.py", UNEXPLAINED)
    assert run_cli("check", ".")[0] == 0
    write(tmp_path, "sub/keyless.toml", "select = ['KL1']\n")
    write(tmp_path, "sub/b.py", UNEXPLAINED)
    rc, out, _ = run_cli("check", "sub", "--output-format", "json")
    assert rc == 1 and codes(out) == [("b.py", 1, "KL190")]
    # CLI overrides config.
    assert run_cli("check", "sub", "--ignore", "KL19")[0] == 0
    assert run_cli("check", "sub", "--select", "suppression-without-reason")[0] == 1


def test_per_file_ignores(run_cli, tmp_path):
    write(tmp_path, "keyless.toml", '[per-file-ignores]\n"tests/**" = ["KL190"]\n')
    write(tmp_path, "tests/t.py", UNEXPLAINED)
    write(tmp_path, "src/s.py", UNEXPLAINED)
    rc, out, _ = run_cli("check", ".", "--output-format", "json")
    assert codes(out) == [("src/s.py", 1, "KL190")]
    rc, out, _ = run_cli("check", ".", "--output-format", "json", "--per-file-ignores", "src/*:KL190")
    assert rc == 0 and codes(out) == []


def test_discovery_gitignore_default_excludes_and_force_exclude(run_cli, tmp_path):
    write(tmp_path, ".gitignore", "ignored/\n*.log\n")
    write(tmp_path, "ignored/a.py", UNEXPLAINED)
    write(tmp_path, "x.log", UNEXPLAINED)
    write(tmp_path, "node_modules/p/a.py", UNEXPLAINED)
    write(tmp_path, "custom_env/pyvenv.cfg", "home = /usr\n")
    write(tmp_path, "custom_env/lib/a.py", UNEXPLAINED)
    write(tmp_path, "package-lock.json", '{"a": "x = 1  # keyless: ignore[KL190]"}')
    write(tmp_path, "nested/.gitignore", "secret.py\n")
    write(tmp_path, "nested/secret.py", UNEXPLAINED)
    write(tmp_path, "kept.py", UNEXPLAINED)
    rc, out, _ = run_cli("check", ".", "--output-format", "json")
    assert codes(out) == [("kept.py", 1, "KL190")]
    # A file named explicitly is linted even when ignored...
    rc, out, _ = run_cli("check", "ignored/a.py", "--output-format", "json")
    assert codes(out) == [("ignored/a.py", 1, "KL190")]
    # ...unless --force-exclude (pre-commit passes files explicitly).
    rc, out, _ = run_cli("check", "node_modules/p/a.py", "--force-exclude", "--output-format", "json")
    assert rc == 0 and codes(out) == []
    rc, out, _ = run_cli("check", ".", "--extend-exclude", "kept.py", "--output-format", "json")
    assert codes(out) == []
    rc, out, _ = run_cli("check", ".", "--no-respect-gitignore", "--output-format", "json")
    assert ("ignored/a.py", 1, "KL190") in codes(out) and ("x.log", 1, "KL190") in codes(out)


def test_size_cap_binary_and_symlinks_are_notes_not_crashes(run_cli, tmp_path):
    write(tmp_path, "big.py", UNEXPLAINED + "#" * 3000 + "\n")
    write(tmp_path, "blob.dat", b"\x00\x01\x02" * 100, mode="wb")
    os.symlink("missing-target", tmp_path / "dangling.py")
    os.symlink(".", tmp_path / "loop")
    write(tmp_path, "ok.py", UNEXPLAINED)
    rc, out, err = run_cli("check", ".", "--max-file-size", "1KB")
    assert rc == 1
    assert "ok.py:1" in out and "big.py:1" not in out
    assert "big.py" in err and "size cap" in err and "blob.dat" in err


def test_missing_path_is_an_error(run_cli, tmp_path):
    write(tmp_path, "ok.py", "pass\n")
    rc, out, err = run_cli("check", "ok.py", "nope.py")
    assert rc == 2 and "nope.py" in (out + err)


def test_suppression_same_line_and_line_above_need_known_code_and_reason(run_cli, tmp_path):
    write(tmp_path, "a.py", "# keyless: ignore[KL190] the probe itself\nx = 1  # keyless: ignore[KL190]\n")
    rc, out, _ = run_cli("check", ".", "--output-format", "json")
    assert rc == 0, out
    write(tmp_path, "a.py", "# keyless: ignore[KL1X0] typo\nx = 1  # keyless: ignore[KL190]\n")
    rc, out, _ = run_cli("check", ".", "--output-format", "json")
    assert sorted(codes(out)) == [("a.py", 1, "KL191"), ("a.py", 2, "KL190")]


def test_stdin_mode_uses_filename_for_config_and_output(run_cli, tmp_path):
    write(tmp_path, "keyless.toml", '[per-file-ignores]\n"tests/**" = ["KL190"]\n')
    rc, out, _ = run_cli("check", "--stdin-filename", "src/app.py", "-", "--output-format", "json", input=UNEXPLAINED)
    assert rc == 1 and codes(out) == [("src/app.py", 1, "KL190")]
    rc, out, _ = run_cli("check", "--stdin-filename", "tests/t.py", "-", input=UNEXPLAINED)
    assert rc == 0


def test_statistics_and_output_file(run_cli, tmp_path):
    write(tmp_path, "a.py", UNEXPLAINED * 3)
    rc, out, _ = run_cli("check", ".", "--statistics")
    assert "KL190" in out and "3" in out
    rc, out, _ = run_cli("check", ".", "--output-format", "sarif", "-o", "out/r.sarif")
    assert rc == 1 and json.loads((tmp_path / "out/r.sarif").read_text())["version"] == "2.1.0"


def test_baseline_round_trip(run_cli, tmp_path):
    write(tmp_path, "a.py", "x = 1  # keyless: ignore[KL190]\ny = 2  # keyless: ignore[KL1Z9] legacy code\n")
    rc, _, err = run_cli("baseline", "write", ".", "-o", "base.json")
    assert rc == 0
    base = json.loads((tmp_path / "base.json").read_text())
    assert all("line" not in e for e in base["findings"]) and len(base["findings"]) == 2
    assert run_cli("check", ".", "--baseline", "base.json")[0] == 0
    # Lines move: still clean.
    write(tmp_path, "a.py", "\n\n# moved\n" + "x = 1  # keyless: ignore[KL190]\ny = 2  # keyless: ignore[KL1Z9] legacy code\n")
    assert run_cli("check", ".", "--baseline", "base.json")[0] == 0
    # A finding is added: only it fails.
    with open(tmp_path / "a.py", "a") as fh:
        fh.write("z = 3  # keyless: ignore[KL190]\n")
    rc, out, _ = run_cli("check", ".", "--baseline", "base.json", "--output-format", "json")
    assert rc == 1 and codes(out) == [("a.py", 6, "KL190")]
    # Findings removed: clean, and the stale entry is reported.
    write(tmp_path, "a.py", "x = 1  # keyless: ignore[KL190]\n")
    rc, out, err = run_cli("check", ".", "--baseline", "base.json")
    assert rc == 0 and "no longer matches" in (out + err)
    rc, _, _ = run_cli("check", ".", "--baseline", "base.json", "--update-baseline")
    assert rc == 0 and len(json.loads((tmp_path / "base.json").read_text())["findings"]) == 1
    assert (tmp_path / "base.json").read_text() == (tmp_path / "base.json").read_text()


def test_cache_hits_and_config_change_invalidates(run_cli, tmp_path):

    write(tmp_path, "a.py", UNEXPLAINED)
    cdir = tmp_path / "cache"
    rc1, out1, _ = run_cli("check", ".", "--cache-dir", str(cdir), "--output-format", "json")
    files = list(cdir.rglob("*.json"))
    assert rc1 == 1 and len(files) == 1
    rc2, out2, _ = run_cli("check", ".", "--cache-dir", str(cdir), "--output-format", "json")
    assert (rc2, out2) == (rc1, out1)
    write(tmp_path, "keyless.toml", "ignore = ['KL190']\n")
    rc3, out3, _ = run_cli("check", ".", "--cache-dir", str(cdir), "--output-format", "json")
    assert rc3 == 0 and codes(out3) == []
    # Editing the file (new size/mtime) is seen even with a warm cache.
    (tmp_path / "keyless.toml").unlink()
    write(tmp_path, "a.py", "clean = True\n")
    rc4, out4, _ = run_cli("check", ".", "--cache-dir", str(cdir), "--output-format", "json")
    assert rc4 == 0


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def test_diff_base_lints_only_changed_files(run_cli, tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path, "old.py", UNEXPLAINED)
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "base")
    _git(tmp_path, "checkout", "-qb", "feature")
    write(tmp_path, "new.py", UNEXPLAINED)
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "feature")
    write(tmp_path, "untracked.py", UNEXPLAINED)
    rc, out, _ = run_cli("check", ".", "--diff-base", "main", "--output-format", "json")
    assert codes(out) == [("new.py", 1, "KL190")]
    rc, out, _ = run_cli("check", ".", "--diff-base", "main", "--include-untracked", "--output-format", "json")
    assert sorted(codes(out)) == [("new.py", 1, "KL190"), ("untracked.py", 1, "KL190")]
    assert run_cli("check", ".", "--diff-base", "no-such-ref")[0] == 2


def test_rules_and_explain(run_cli):
    rc, out, _ = run_cli("rules", "--format", "json")
    data = json.loads(out)
    assert rc == 0 and {"KL190", "KL191"} <= {r["code"] for r in data}
    for r in data:
        assert r["category"] in {"secret", "key-auth", "missing-identity", "broad-role", "ambiguous-identity"}
        assert r["code"][2] == "12345"[["secret", "key-auth", "missing-identity", "broad-role", "ambiguous-identity"].index(r["category"])]
    rc, out, _ = run_cli("explain", "KL190")
    assert rc == 0 and "## Why is this bad?" in out
    assert run_cli("explain", "KL999")[0] == 2


def test_parallel_and_serial_runs_agree(tmp_path):
    from keyless.linter.config import load_config
    from keyless.linter.engine import default_excludes, lint_paths, settings_from_config
    from keyless.linter.rule import load_registry

    for i in range(250):
        write(tmp_path, f"pkg{i % 7}/m{i}.py", UNEXPLAINED if i % 3 == 0 else "pass\n")
    cfg = load_config(str(tmp_path))
    cfg.root = str(tmp_path)
    st = settings_from_config(cfg, load_registry())
    a = lint_paths([str(tmp_path)], cfg, st, excludes=default_excludes(cfg), jobs=1)
    b = lint_paths([str(tmp_path)], cfg, st, excludes=default_excludes(cfg), jobs=2)
    assert [f.sort_key() for f in a.findings] == [f.sort_key() for f in b.findings]
    assert len(a.findings) == 84 and a.files_scanned == b.files_scanned == 250


def test_project_findings_are_cached_and_recomputed_when_facts_change(run_cli, tmp_path):
    """A warm rescan reuses the project rules' findings (and never reads the facts file); a
    changed fact, or a facts file that went missing, still gives the findings a cold run gives."""
    import shutil

    from conftest import FIXTURES

    demo = tmp_path / "demo"
    shutil.copytree(os.path.join(FIXTURES, "demo"), demo)
    cdir = tmp_path / "cache"

    def check(*extra):
        rc, out, _ = run_cli("check", ".", "--cache-dir", str(cdir), "--output-format", "json", *extra, cwd=demo)
        return rc, sorted(codes(out))

    cold = check("--no-cache")
    assert {"KL505", "KL301", "KL401"} <= {c for *_, c in cold[1]}
    assert check() == cold  # fills the cache
    facts_files = list(cdir.rglob("*.facts/*.json"))
    assert facts_files
    assert check() == cold  # warm: project findings from the cache

    for f in facts_files:
        f.unlink()  # facts lost, and a file changed so the project rules must run
    app = next(demo.rglob("*.py"))
    app.write_text(app.read_text() + "\n# edited\n")
    assert check() == check("--no-cache")

    # A changed fact (the identity block removed from an IaC file) changes the project findings.
    iac = [p for p in demo.rglob("*") if p.suffix in (".json", ".tf", ".yaml") and "identity" in p.read_text()]
    assert iac
    target = iac[0]
    target.write_text(target.read_text().replace("identity", "identityx"))
    assert check() == check("--no-cache")


def test_files_named_one_by_one_still_see_their_companions(run_cli, tmp_path):
    """pre-commit passes only the changed files: a template named alone must still be evaluated
    with its parameter files, exactly as in a scan of the whole directory."""
    import shutil

    from conftest import FIXTURES

    project = tmp_path / "p"
    shutil.copytree(os.path.join(FIXTURES, "KL401", "project_parameters"), project)
    fmt = ("--output-format", "json", "--no-cache", "--select", "KL401")
    rc, out, _ = run_cli("check", ".", *fmt, cwd=project)
    whole = codes(out)
    assert whole, "the fixture project should give KL401 findings"
    for path in sorted({p for p, *_ in whole}):
        rc, out, _ = run_cli("check", path, *fmt, cwd=project)
        assert codes(out) == [c for c in whole if c[0] == path], path


def test_cache_key_follows_keyless_own_code():
    """A development checkout changes rules without a new version: cached results must not survive."""
    import keyless
    from keyless.linter.cache import code_stamp

    target = keyless.__file__
    st = os.stat(target)
    before = code_stamp()
    try:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert code_stamp() != before
    finally:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert code_stamp() == before


def test_json_output_fixes_are_computed_once_and_cached(run_cli, tmp_path):
    """JSON/SARIF show every fix's edits: lazy (libcst) fixes are computed while linting and the
    cached result carries them, so a warm rerun prints the same edits without recomputing them."""
    import shutil

    from conftest import FIXTURES
    from keyless.linter import fixes

    demo = tmp_path / "demo"
    shutil.copytree(os.path.join(FIXTURES, "demo"), demo)
    args = ("check", ".", "--output-format", "json", "--cache-dir", str(tmp_path / "cache"))
    _, cold, _ = run_cli(*args, cwd=demo)
    edits = [f for f in json.loads(cold)["findings"] if f["code"] == "KL201" and (f.get("fix") or {}).get("edits")]
    assert edits, "the demo's connection-string rewrite should come with its edits"
    calls = []
    original = fixes.with_concrete_fix
    fixes.with_concrete_fix = lambda *a: calls.append(a) or original(*a)
    try:
        _, warm, _ = run_cli(*args, cwd=demo)
    finally:
        fixes.with_concrete_fix = original
    assert warm == cold and calls == []


def test_facts_are_plain_data_so_pool_cache_and_serial_agree(monkeypatch, tmp_path):
    """A Helm value is a str subclass carrying where it came from; facts must still reach the
    project rules as plain data whether they come from a worker (pickled), the cache (JSON) or the
    same process. A worker once died unpickling such a value."""
    import shutil

    from conftest import FIXTURES
    from keyless.linter import engine
    from keyless.linter.cache import Cache
    from keyless.linter.discovery import discover
    from keyless.linter.engine import Settings, finish, resolve_selection, run_files
    from keyless.linter.rule import load_registry

    project = tmp_path / "p"
    shutil.copytree(os.path.join(FIXTURES, "KL503", "project_helm"), project)
    root = str(project)
    settings = Settings(root=root, select=resolve_selection(load_registry(), None))
    files = discover([root], root, excludes=[], max_file_size=1 << 20).files

    def plain(v):
        if isinstance(v, dict):
            return all(type(k) is str and plain(x) for k, x in v.items())
        if isinstance(v, list):
            return all(plain(x) for x in v)
        return type(v) in (str, int, float, bool, type(None))

    serial = run_files(files, settings, jobs=1)
    assert any(r.facts for r in serial)
    assert all(plain(f.data) for r in serial for f in r.facts)
    want = finish(serial, settings).findings

    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 1)
    assert finish(run_files(files, settings, jobs=2), settings).findings == want

    cache_dir = str(tmp_path / "cache")
    cold = Cache.open(cache_dir, settings)
    run_files(files, settings, jobs=1, cache=cold)
    cold.save()
    warm = Cache.open(cache_dir, settings)
    assert finish(run_files(files, settings, jobs=1, cache=warm), settings).findings == want


def test_a_dying_worker_loses_no_file(monkeypatch, tmp_path):
    """A worker killed mid-scan (out of memory, a crash in a C extension): the files it had not
    returned are linted in the main process and the run says so."""
    from keyless.linter import engine, workers
    from keyless.linter.discovery import discover
    from keyless.linter.engine import Settings, resolve_selection, run_files
    from keyless.linter.rule import load_registry

    for i in range(70):  # two batches: a pool is only used for more than one
        write(tmp_path, f"f{i}.py", UNEXPLAINED)
    root = str(tmp_path)
    settings = Settings(root=root, select=resolve_selection(load_registry(), None))
    files = discover([root], root, excludes=[], max_file_size=1 << 20).files
    want = {r.relpath: [f.code for f in r.findings] for r in run_files(files, settings, jobs=1)}
    monkeypatch.setattr(workers, "available_cpus", lambda: 2)  # the same on a 1-CPU machine

    parent = os.getpid()
    real_lint_file = engine.lint_file

    def dying_lint_file(cand, *args):
        if os.getpid() != parent and cand.relpath == "f3.py":
            os._exit(9)  # the worker process dies without a word
        return real_lint_file(cand, *args)

    monkeypatch.setattr(engine, "lint_file", dying_lint_file)  # forked workers inherit it
    monkeypatch.setattr(engine, "PARALLEL_MIN_FILES", 1)
    notes: list[str] = []
    got = run_files(files, settings, jobs=2, notes=notes)
    assert {r.relpath: [f.code for f in r.findings] for r in got} == want
    assert any("worker process died" in n for n in notes)


def test_plain_fact_data_reads_like_the_cache_s_json():
    """What a worker sends equals what the cache gives back, whatever subclasses a rule used."""
    import enum

    from keyless.linter.documents.templated import ChartValue
    from keyless.linter.engine import _plain

    class Level(str, enum.Enum):
        HIGH = "high"

    class Count(enum.IntEnum):
        THREE = 3

    data = {"a": Level.HIGH, Level.HIGH: [Count.THREE, ChartValue("x", "values.yaml: a"), (1, 2.5), None, True],
            2: {}, None: "n"}
    assert _plain(data) == json.loads(json.dumps(data))
