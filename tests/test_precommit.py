"""The pre-commit hooks, exercised for real with `pre-commit run` on scratch repositories: the hook
must pick up .env, *.tfvars and local.settings.json (which identify gives no language tag), and
the history hook scans the pushed commits.

Both tests install keyless's hooks from one repository at one revision (this checkout, with its
uncommitted changes committed in a copy, as `pre-commit try-repo` does) into one pre-commit store:
the hook environment is built (pip) once for the module, not once per test (try-repo always
builds it again in a temporary store)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, write

PROBE = "keyless: ignore[KL190]"  # KL190 fires (no reason), whatever the file kind
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}

pytestmark = pytest.mark.skipif(shutil.which("pre-commit") is None or not os.path.exists(os.path.join(ROOT, ".git")),
                                reason="needs pre-commit and a git checkout of keyless")


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    """(environment, run): `run(repo, hook, *args)` runs `pre-commit run hook *args` in `repo`
    with keyless's hooks from this checkout (its tracked changes included, as try-repo takes
    them) and a pre-commit store shared by the module."""
    env = {**os.environ, **GIT_ENV,
           "PRE_COMMIT_HOME": os.environ.get("KEYLESS_TEST_PRE_COMMIT_HOME") or str(tmp_path_factory.mktemp("pc-home"))}
    source = str(tmp_path_factory.mktemp("hook-repo") / "keyless")

    def git(*args, cwd=source):
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env).stdout

    git("clone", "-q", ROOT, source, cwd=ROOT)
    for rel in filter(None, git("diff", "HEAD", "--name-only", "-z", cwd=ROOT).decode().split("\0")):
        src, dst = os.path.join(ROOT, rel), os.path.join(source, rel)
        if os.path.lexists(src):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
        elif os.path.lexists(dst):
            os.remove(dst)
    git("add", "-A")
    git("commit", "-q", "--allow-empty", "-m", "working tree")
    rev = git("rev-parse", "HEAD").decode().strip()

    def run(repo, hook: str, *args: str) -> subprocess.CompletedProcess:
        config = repo.parent / f"{repo.name}-pre-commit-config.yaml"  # outside the repository: never unstaged
        config.write_text(f"repos:\n-   repo: {source}\n    rev: {rev}\n    hooks:\n    -   id: {hook}\n")
        return subprocess.run(["pre-commit", "run", hook, "--config", str(config), "--verbose", *args],
                              cwd=repo, capture_output=True, text=True, env=env, timeout=600)

    return env, run


def test_pre_commit_hook_scans_config_files(tmp_path, hooks):
    env, run = hooks
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    write(repo, ".env", f"A=1 # {PROBE}\n")
    write(repo, "prod.tfvars", f"a = 1 # {PROBE}\n")
    write(repo, "local.settings.json", f'{{"IsEncrypted": false}} // {PROBE}\n')
    write(repo, "docs/notes.md", f"<!-- {PROBE} -->\n")
    # scripts, Dockerfiles, Makefiles, workflows and notebooks are text to pre-commit too
    write(repo, "deploy.sh", f"az group list # {PROBE}\n")
    write(repo, "setup.ps1", f"Get-AzContext # {PROBE}\n")
    write(repo, "Dockerfile", f"FROM x # {PROBE}\n")
    write(repo, "Makefile", f"all: # {PROBE}\n")
    write(repo, ".github/workflows/ci.yml", f"on: push # {PROBE}\n")
    write(repo, "nb.ipynb", '{"cells": [{"cell_type": "code", "source": ["x = 1  # ' + PROBE + '\\n"]}]}\n')
    write(repo, "infra/main.bicep", f"// {PROBE}\nparam a string\n")
    write(repo, "infra/main.bicepparam", f"// {PROBE}\nusing 'main.bicep'\n")
    write(repo, "clean.py", "print('ok')\n")
    write(repo, "node_modules/x/.env", f"A=1 # {PROBE}\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    proc = run(repo, "keyless", "--all-files")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    for name in (".env:1", "prod.tfvars:1", "local.settings.json:1", "docs/notes.md:1", "deploy.sh:1", "setup.ps1:1",
                 "Dockerfile:1", "Makefile:1", ".github/workflows/ci.yml:1", "nb.ipynb:1", "infra/main.bicep:1",
                 "infra/main.bicepparam:1"):
        assert name in out, out
    assert "node_modules" not in out  # --force-exclude keeps default excludes for passed files


def test_pre_commit_history_hook_scans_the_pushed_commits(tmp_path, hooks):
    """`keyless-history` at the pre-push stage: a key added and removed again within the pushed
    range fails the push; the commits before the range are not read."""
    import keygen

    env, run = hooks
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True,
                              text=True).stdout.strip()

    def commit(rel, text):
        write(repo, rel, text)
        git("add", "-A")
        git("commit", "-q", "-m", rel)
        return git("rev-parse", "HEAD")

    key = keygen.legacy_b64(64, seed="pre-push")
    git("init", "-q")
    old = commit("old.env", f"AccountName=a;AccountKey={keygen.legacy_b64(64, seed='old')};EndpointSuffix=core.windows.net\n")
    base = commit("old.env", "X=1\n")
    commit("new.env", f"AccountName=b;AccountKey={key};EndpointSuffix=core.windows.net\n")
    head = commit("new.env", "X=2\n")  # removed again before the push: still in the pushed history
    proc = run(repo, "keyless-history", "--hook-stage", "pre-push", "--from-ref", base, "--to-ref", head)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "new.env" in out and "in history since" in out, out
    assert "old.env" not in out and old[:10] not in out, out
    assert key not in out
