"""Configuration `extend` (a shared base file; paths resolve from the file that wrote them; cycles
are errors) and `keyless check --show-settings` (the resolved settings and where each came from)."""

from __future__ import annotations

import json
import os

import pytest

from conftest import write
from keyless.linter.config import ConfigError, load_config
from keyless.linter.config_extend import rebase_glob

# A fake storage key (as in fixtures/KL101): one KL101 finding per file holding it.
KEY_LINE = "AZURE_STORAGE_KEY=nQWmT9nyFp6ICUppHFqb7Ok+/oZDxOLQX6jxUI446QJ/iP5yC/PxcSe+6ITG3GrvmWlCN3iBfwfkZeiEBQUSbQ==\n"


def reported(run_cli, cwd, *args) -> set[tuple[str, str]]:
    rc, out, err = run_cli("check", "--no-cache", "--output-format", "json", *args, cwd=cwd)
    assert rc in (0, 1), err
    return {(f["path"], f["code"]) for f in json.loads(out)["findings"]}


@pytest.fixture
def repo(tmp_path):
    """repo/ (git) with a shared base configuration and a project svc/ that extends it."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def test_keys_replace_the_base_and_extend_lists_add(repo):
    write(repo, "base.toml", 'select = ["secret"]\nignore = ["KL116"]\nextend-select = ["KL201"]\n'
                             'extend-exclude = ["a/"]\nseverity = "high"\n')
    write(repo, "svc/.keyless.toml", 'extend = "../base.toml"\nignore = ["KL102"]\nextend-select = ["KL202"]\n'
                                     'extend-exclude = ["b/"]\n')
    cfg = load_config(str(repo / "svc"))
    assert cfg.select == ["secret"] and cfg.ignore == ["KL102"]  # replaced, not merged
    assert cfg.extend_select == ["KL201", "KL202"] and cfg.extend_exclude == ["a/", "b/"]
    assert cfg.severity.value == "high"
    assert cfg.origins["select"] == str(repo / "base.toml")
    assert cfg.origins["ignore"] == str(repo / "svc" / ".keyless.toml")
    assert cfg.extends == [str(repo / "base.toml")]


def test_a_chain_of_bases_and_a_pyproject_base(repo):
    write(repo, "pyproject.toml", '[project]\nname = "x"\n[tool.keyless]\nseverity = "medium"\nignore = ["KL116"]\n')
    write(repo, "team/base.toml", 'extend = "../pyproject.toml"\nignore = ["KL117"]\n')
    write(repo, "svc/keyless.toml", 'extend = "../team/base.toml"\n')
    cfg = load_config(str(repo / "svc"))
    assert cfg.ignore == ["KL117"] and cfg.severity.value == "medium"
    assert cfg.extends == [str(repo / "team" / "base.toml"), str(repo / "pyproject.toml")]


@pytest.mark.parametrize("files,word", [
    ({"svc/.keyless.toml": 'extend = "../nope.toml"\n'}, "not a file"),
    ({"svc/.keyless.toml": 'extend = ".keyless.toml"\n'}, "cycle"),
    ({"svc/.keyless.toml": 'extend = "../a.toml"\n', "a.toml": 'extend = "b.toml"\n',
      "b.toml": 'extend = "svc/.keyless.toml"\n'}, "cycle (.keyless.toml -> a.toml -> b.toml -> .keyless.toml)"),
    ({"svc/.keyless.toml": 'extend = "../pyproject.toml"\n', "pyproject.toml": '[project]\nname = "x"\n'},
     "no [tool.keyless]"),
    ({"svc/.keyless.toml": 'extend = "../base.toml"\n', "base.toml": 'selekt = ["ALL"]\n'}, "base.toml: unknown key"),
    ({"svc/.keyless.toml": 'extend = "../base.toml"\n', "base.toml": 'ignore = ["NOPE"]\n'}, "NOPE"),
    ({"svc/.keyless.toml": "extend = 3\n"}, "extend"),
])
def test_bad_extends_are_configuration_errors(run_cli, repo, files, word):
    for rel, text in files.items():
        write(repo, rel, text)
    write(repo, "svc/app.env", KEY_LINE)
    rc, out, err = run_cli("check", "--no-cache", cwd=repo / "svc")
    assert rc == 2 and word in err, err
    assert "All checks passed" not in out and "KL101" not in out


def test_base_paths_resolve_from_the_base_file(run_cli, repo):
    """The base at the repository root writes paths from there; the project svc/ reads them."""
    write(repo, "keyless-base.toml",
          'extend-exclude = ["svc/generated/**", "other/app.env", "*.sample"]\n'
          '[per-file-ignores]\n"svc/tests/**" = ["secret"]\n"**/fixtures/*" = ["KL101"]\n')
    write(repo, "svc/.keyless.toml", 'extend = "../keyless-base.toml"\n')
    for rel in ("svc/generated/app.env", "svc/app.env", "svc/app.env.sample", "svc/tests/app.env",
                "svc/fixtures/app.env", "svc/other/app.env"):
        write(repo, rel, KEY_LINE)
    found = {path for path, _ in reported(run_cli, repo / "svc")}
    # other/app.env in the base means repo/other/app.env, not svc/other/app.env
    assert found == {"svc/app.env", "svc/other/app.env"}
    # the same base read as the project's own configuration gives the same answer
    write(repo, "svc/.keyless.toml", "")
    write(repo, ".keyless.toml", 'extend = "keyless-base.toml"\n')
    os.remove(repo / "svc" / ".keyless.toml")
    assert {path for path, _ in reported(run_cli, repo, "svc")} == found


@pytest.mark.parametrize("pattern,from_dir,to_dir,expected", [
    ("*.sample", "/r", "/r/svc", "*.sample"),  # no slash: any depth, unchanged
    ("build/", "/r", "/r/svc", "build/"),
    ("svc/gen/**", "/r", "/r/svc", "/gen/**"),
    ("/svc/gen", "/r", "/r/svc", "/gen"),
    ("*/gen/", "/r", "/r/svc", "/gen/"),
    ("**/gen", "/r", "/r/svc", "/**/gen"),
    ("other/x", "/r", "/r/svc", None),  # elsewhere in the repository: nothing under svc/
    ("svc", "/r", "/r/svc", "svc"),  # unanchored: any depth
    ("/svc", "/r", "/r/svc", None),  # the project itself: not expressible below it
    ("gen/x", "/r/svc", "/r", "/svc/gen/x"),  # base inside the project
    ("!keep/this", "/r", "/r/svc", None),
    ("!svc/keep/this", "/r", "/r/svc", "!/keep/this"),
    ("a/b", "/x", "/r", None),  # unrelated directories
    ("a/b", "/r", "/r", "a/b"),
])
def test_rebase_glob(pattern, from_dir, to_dir, expected, monkeypatch):
    monkeypatch.setattr(os.path, "realpath", lambda p: p)
    assert rebase_glob(pattern, from_dir, to_dir) == expected


def test_a_changed_base_invalidates_the_cache(run_cli, repo):
    write(repo, "base.toml", 'select = ["key-auth"]\n')
    write(repo, "svc/.keyless.toml", 'extend = "../base.toml"\n')
    write(repo, "svc/app.env", KEY_LINE)
    rc, out, _ = run_cli("check", "--output-format", "json", cwd=repo / "svc")
    assert json.loads(out)["findings"] == []
    write(repo, "base.toml", 'select = ["secret"]\n')
    rc, out, _ = run_cli("check", "--output-format", "json", cwd=repo / "svc")
    assert [f["code"] for f in json.loads(out)["findings"]] == ["KL101"]


# ---- --show-settings ---------------------------------------------------------------------------------

def settings_lines(out: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in out.splitlines():
        if line.startswith("#") or " = " not in line:
            continue
        key, rest = line.split(" = ", 1)
        value, _, source = rest.partition("  # ")
        rows[key.strip()] = (value, source)
    return rows


def test_show_settings_names_the_source_of_each_setting(run_cli, repo, monkeypatch):
    write(repo, "base.toml", 'select = ["secret"]\nseverity = "high"\nextend-exclude = ["svc/gen/"]\n')
    write(repo, "svc/.keyless.toml", 'extend = "../base.toml"\nignore = ["KL116"]\n')
    write(repo, "svc/app.env", KEY_LINE)
    monkeypatch.setenv("KEYLESS_OUTPUT_FORMAT", "sarif")
    rc, out, err = run_cli("check", "--show-settings", "--max-file-size", "1MB", cwd=repo / "svc")
    assert rc == 0, err
    assert "KL101" not in out.split("rules = ")[0]  # nothing linted: no finding printed
    rows = settings_lines(out)
    base, own = str(repo / "base.toml"), str(repo / "svc" / ".keyless.toml")
    assert rows["select"] == ('["secret"]', base)
    assert rows["severity"] == ('"high"', base)
    assert rows["ignore"] == ('["KL116"]', own)
    assert rows["extend-exclude"] == ('["/gen/"]', base)
    assert rows["max-file-size"] == ('"1MB"', "command line --max-file-size")
    assert rows["output-format"] == ('"sarif"', "environment KEYLESS_OUTPUT_FORMAT")
    assert rows["respect-gitignore"] == ("true", "default")
    assert f"# configuration:   {own}" in out and f"#   extends:       {base}" in out
    assert f"# repository root: {repo.resolve()}" in out
    rules = json.loads(rows["rules"][0])
    assert rules and all(c.startswith("KL1") for c in rules) and "KL116" not in rules


def test_show_settings_reports_configuration_errors(run_cli, repo):
    write(repo, "svc/.keyless.toml", 'extend = "../missing.toml"\n')
    rc, out, err = run_cli("check", "--show-settings", cwd=repo / "svc")
    assert rc == 2 and "missing.toml" in err and out == ""


def test_load_config_without_extend_is_unchanged(tmp_path):
    write(tmp_path, ".keyless.toml", 'select = ["KL1"]\n')
    cfg = load_config(str(tmp_path))
    assert cfg.extends == [] and cfg.origins == {"select": str(tmp_path / ".keyless.toml")}
    with pytest.raises(ConfigError):
        write(tmp_path, ".keyless.toml", 'extend = ""\n')
        load_config(str(tmp_path))


def test_a_base_s_paths_resolve_from_it_and_stay_inside_the_project(run_cli, repo):
    write(repo, "base.toml", 'baseline = "baselines/keyless.json"\n')
    write(repo, "svc/.keyless.toml", 'extend = "../base.toml"\n')
    write(repo, "svc/app.env", KEY_LINE)
    rc, out, err = run_cli("check", "--show-settings", cwd=repo / "svc")
    assert settings_lines(out)["baseline"] == (json.dumps(str(repo / "baselines" / "keyless.json")),
                                               str(repo / "base.toml"))
    rc, _, err = run_cli("check", "--no-cache", "--update-baseline", cwd=repo / "svc")
    assert rc == 0 and (repo / "baselines" / "keyless.json").is_file(), err
    # a base may not send keyless outside the project (the git work tree) either
    write(repo, "base.toml", 'baseline = "../outside.json"\n')
    rc, out, err = run_cli("check", "--no-cache", cwd=repo / "svc")
    assert rc == 2 and "outside the project" in err and not (repo.parent / "outside.json").exists()
