"""Paths in reports (docs/output-formats.md, "Paths"): machine formats name files from the
repository root (the git work tree), whatever directory the configuration sits in; text names
them from the current directory. A monorepo job run in a subfolder with its own configuration
must point GitHub, GitLab, Jenkins and Azure DevOps at the right files."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write

# A fake storage key (as in fixtures/KL101) and a Container Apps file that does not parse (only
# partly checked: a warning with a path).
KEY_LINE = "AZURE_STORAGE_KEY=nQWmT9nyFp6ICUppHFqb7Ok+/oZDxOLQX6jxUI446QJ/iP5yC/PxcSe+6ITG3GrvmWlCN3iBfwfkZeiEBQUSbQ==\n"
BROKEN_YAML = "properties:\n  template:\n    containers: [1, 2\n  identity: x\n"


@pytest.fixture
def monorepo(tmp_path):
    """repo/ (git) with services/api/ holding its own configuration."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo, "services/api/.keyless.toml", "")
    write(repo, "services/api/config/app.env", KEY_LINE)
    write(repo, "services/api/deploy.yaml", BROKEN_YAML)
    return repo


def paths_in(fmt: str, out: str, root: Path) -> set[str]:
    if fmt == "json":
        doc = json.loads(out)
        return {f["path"] for f in doc["findings"]} | {e["path"] for e in doc["errors"]}
    if fmt == "sarif":
        run = json.loads(out)["runs"][0]
        assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.resolve().as_uri() + "/"
        locs = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
        locs += [n["locations"][0]["physicalLocation"]["artifactLocation"]
                 for n in run["invocations"][0].get("toolExecutionNotifications", [])]
        assert all(loc["uriBaseId"] == "%SRCROOT%" for loc in locs)
        return {loc["uri"] for loc in locs}
    if fmt == "github":
        return {line.split("file=", 1)[1].split(",", 1)[0].split("::", 1)[0] for line in out.splitlines()}
    if fmt == "gitlab":
        return {i["location"]["path"] for i in json.loads(out)}
    if fmt == "junit":
        return {s.get("file") for s in ET.fromstring(out).iter("testsuite")}
    if fmt == "azure":
        return {os.path.relpath(line.split("sourcepath=", 1)[1].split(";", 1)[0], root.resolve()).replace(os.sep, "/")
                for line in out.splitlines()}
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "gitlab", "junit", "azure"])
def test_machine_formats_name_files_from_the_repository_root(run_cli, monorepo, fmt):
    rc, out, err = run_cli("check", "--no-cache", "--output-format", fmt, cwd=monorepo / "services" / "api")
    assert rc == 1, err
    expected = {"services/api/config/app.env"}
    if fmt not in ("gitlab",):  # GitLab Code Quality has no file problems
        expected.add("services/api/deploy.yaml")
    assert paths_in(fmt, out, monorepo) == expected


def test_same_paths_whether_run_from_the_root_or_the_subfolder(run_cli, monorepo):
    from_sub = run_cli("check", "--no-cache", "--output-format", "json", cwd=monorepo / "services" / "api")[1]
    from_root = run_cli("check", "services/api", "--no-cache", "--output-format", "json", cwd=monorepo)[1]
    assert paths_in("json", from_sub, monorepo) == paths_in("json", from_root, monorepo)


def test_text_names_files_from_the_current_directory(run_cli, monorepo):
    rc, out, _ = run_cli("check", "--no-cache", cwd=monorepo / "services" / "api")
    assert out.startswith("config/app.env:1:") and "deploy.yaml:4: warning:" in out
    rc, out, _ = run_cli("check", "services/api", "--no-cache", cwd=monorepo)
    assert out.startswith("services/api/config/app.env:1:")
    rc, out, _ = run_cli("check", "..", "--no-cache", cwd=monorepo / "services" / "api" / "config")
    assert out.startswith("app.env:1:")
    # a file outside the current directory keeps its absolute path (as ruff shows it)
    os.makedirs(monorepo / "elsewhere", exist_ok=True)
    rc, out, _ = run_cli("check", str(monorepo / "services" / "api"), "--no-cache", cwd=monorepo / "elsewhere")
    assert out.startswith(str((monorepo / "services" / "api" / "config" / "app.env").resolve()) + ":1:")


def test_stderr_file_problems_follow_the_report(run_cli, monorepo):
    rc, out, err = run_cli("check", "--no-cache", "--output-format", "json", cwd=monorepo / "services" / "api")
    assert "services/api/deploy.yaml:4: warning:" in err


def test_without_git_the_project_root_is_the_base(run_cli, tmp_path):
    write(tmp_path, "proj/.keyless.toml", "")
    write(tmp_path, "proj/config/app.env", KEY_LINE)
    rc, out, _ = run_cli("check", "--no-cache", "--output-format", "json", cwd=tmp_path / "proj" / "config")
    assert paths_in("json", out, tmp_path / "proj") == {"config/app.env"}
    rc, out, _ = run_cli("check", "--no-cache", "--output-format", "sarif", cwd=tmp_path / "proj")
    assert json.loads(out)["runs"][0]["automationDetails"] == {"id": "keyless/"}


def test_stdin_filename_is_named_from_the_repository_root(run_cli, monorepo):
    rc, out, _ = run_cli("check", "--no-cache", "--output-format", "json", "--stdin-filename", "config/app.env", "-",
                         input=KEY_LINE, cwd=monorepo / "services" / "api")
    assert paths_in("json", out, monorepo) == {"services/api/config/app.env"}
    rc, out, _ = run_cli("check", "--no-cache", "--output-format", "json", "-", input=KEY_LINE,
                         cwd=monorepo / "services" / "api")
    assert paths_in("json", out, monorepo) == {"stdin"}
