"""`keyless check --history`: real git repositories built in temporary directories.

Every credential here is FAKE material from tests/keygen.py (seeded, valid shapes and checksums).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import keygen
from conftest import SARIF_SCHEMA, write

pytestmark = pytest.mark.skipif(subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
                                reason="git is not installed")

STORAGE_KEY = keygen.legacy_b64(64, seed="history-1")
OTHER_KEY = keygen.legacy_b64(64, seed="history-2")
ENTRA = keygen.aad_secret(seed="history-3")


def conn(key: str, account: str = "acct1") -> str:
    return (f"AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName={account};"
            f"AccountKey={key};EndpointSuffix=core.windows.net\n")


class Repo:
    def __init__(self, path):
        self.path = str(path)
        self.n = 0
        os.makedirs(self.path, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, input: bytes | None = None) -> str:
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
                   GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_NOSYSTEM="1")
        out = subprocess.run(["git", *args], cwd=self.path, env=env, input=input, capture_output=True, check=True)
        return out.stdout.decode("utf-8", "replace").strip()

    def commit(self, files: dict[str, str | bytes | None], message: str = "change") -> str:
        for rel, text in files.items():
            p = os.path.join(self.path, rel)
            if text is None:
                os.remove(p)
                continue
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as fh:
                fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        self.git("add", "-A")
        self.n += 1
        date = f"2024-01-{self.n:02d}T12:00:00+00:00"
        env_date = ["-c", "user.useConfigOnly=false"]
        self.git(*env_date, "commit", "-q", "--allow-empty", "-m", message, f"--date={date}")
        return self.git("rev-parse", "HEAD")


def history(run_cli, repo: Repo, *args: str):
    rc, out, err = run_cli("check", "--history", *args, "--no-cache", "--output-format", "json", cwd=repo.path)
    return rc, json.loads(out) if out.strip().startswith("{") else None, err


@pytest.fixture
def repo(tmp_path):
    return Repo(tmp_path / "repo")


def test_added_then_removed_is_reported_with_the_removing_commit(run_cli, repo):
    repo.commit({"app.py": "print('hi')\n"})
    added = repo.commit({"settings.env": "# config\n" + conn(STORAGE_KEY)})
    removed = repo.commit({"settings.env": "# config\nAZURE_STORAGE_CONNECTION_STRING=\n"})
    rc, doc, _ = history(run_cli, repo)
    assert rc == 1
    [f] = doc["findings"]
    assert f["code"] == "KL101" and f["path"] == "settings.env" and f["location"]["line"] == 2
    h = f["history"]
    assert h["commit"] == added and h["removed_in"] == removed and h["at_head"] is False
    assert h["path"] == "settings.env" and h["line"] == 2 and h["commits"] == 1
    assert h["author_date"].startswith("2024-01-02")
    # one short line: the removing commit and what to do (the full story is in `history`)
    assert f"removed in {removed[:10]}" in f["message"] and f["message"].endswith("in history since "
                                                                                   f"{added[:10]}: rotate it")
    assert len(f["message"]) <= 120
    assert "Rotate the credential" in f["fix"]["message"]
    assert STORAGE_KEY not in json.dumps(doc)
    # the working tree is clean: a plain check finds nothing
    assert run_cli("check", ".", "--no-cache", cwd=repo.path)[0] == 0


def test_still_at_head_is_reported_once_at_heads_position(run_cli, repo):
    added = repo.commit({"settings.env": conn(STORAGE_KEY)})
    repo.commit({"settings.env": "# a comment\n# another\n" + conn(STORAGE_KEY)})  # moved down, not re-added
    rc, doc, _ = history(run_cli, repo)
    assert rc == 1
    [f] = doc["findings"]
    assert f["location"]["line"] == 3  # HEAD's line
    assert f["history"]["at_head"] is True and f["history"]["line"] == 1 and f["history"]["commit"] == added
    assert "in history since" in f["message"]
    # the same fingerprint as the working-tree finding (so one baseline entry covers both)
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json", cwd=repo.path)
    [tree] = json.loads(out)["findings"]
    assert tree["fingerprint"] == f["fingerprint"] and tree["path"] == f["path"]


def test_rename_is_followed(run_cli, repo):
    added = repo.commit({"old.env": conn(STORAGE_KEY)})
    repo.git("mv", "old.env", "new.env")
    repo.commit({})
    rc, doc, _ = history(run_cli, repo)
    [f] = doc["findings"]
    assert f["path"] == "new.env" and f["history"]["path"] == "old.env" and f["history"]["at_head"] is True
    assert f["history"]["commit"] == added and f["history"]["commits"] == 1


def test_merge_is_not_double_counted_and_an_evil_merge_is_seen(run_cli, repo):
    repo.commit({"readme.md": "hello\n"})
    repo.git("checkout", "-q", "-b", "feature")
    on_branch = repo.commit({"feature.env": conn(STORAGE_KEY)})
    repo.git("checkout", "-q", "main")
    repo.commit({"other.md": "x\n"})
    repo.git("merge", "-q", "--no-ff", "--no-commit", "feature")
    # the merge's own change: a line no parent has
    write(repo.path, "merged.yaml", f"app:\n  tenant: 72f988bf-86f1-41af-91ab-2d7cd011db47\n  client_secret: {ENTRA}\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "merge feature")
    merge = repo.git("rev-parse", "HEAD")
    rc, doc, _ = history(run_cli, repo)
    by_code = {f["code"]: f for f in doc["findings"]}
    assert set(by_code) == {"KL101", "KL112"}
    assert by_code["KL101"]["history"]["commit"] == on_branch and by_code["KL101"]["history"]["commits"] == 1
    assert by_code["KL112"]["history"]["commit"] == merge


def test_binary_and_huge_blobs_are_skipped_with_a_note(run_cli, repo):
    repo.commit({"logo.bin": b"\x00\x01\x02" + conn(STORAGE_KEY).encode() + b"\x00"})
    repo.commit({"big.env": "# padding\n" * 2000 + conn(OTHER_KEY)})
    rc, out, err = run_cli("check", "--history", "--no-cache", "--max-file-size", "8KB", cwd=repo.path)
    assert "binary file version skipped" in err
    assert "big.env: skipped" in err and "over the size cap" in err
    assert OTHER_KEY not in out + err and STORAGE_KEY not in out + err


def test_shallow_clone_is_a_partial_scan_that_says_so(run_cli, repo, tmp_path):
    repo.commit({"a.env": conn(STORAGE_KEY)})
    repo.commit({"a.env": "X=1\n"})
    repo.commit({"b.md": "doc\n"})
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)], check=True,
                   capture_output=True)
    rc, out, err = run_cli("check", "--history", "--no-cache", cwd=str(shallow))
    assert "shallow clone" in out
    assert "All checks passed" not in out
    rc, out, _ = run_cli("check", "--history", "--no-cache", "--output-format", "json", cwd=str(shallow))
    doc = json.loads(out)
    assert doc["history"]["partial"] is True
    assert any(e["level"] == "warning" and "shallow clone" in e["message"] for e in doc["errors"])
    assert rc == 0  # nothing found in what could be read: a warning, not a clean "All checks passed"
    assert run_cli("check", "--history", "--no-cache", "--strict", cwd=str(shallow))[0] == 2


def test_suppression_in_the_adding_commit_counts_a_later_one_does_not(run_cli, repo):
    repo.commit({"a.env": "# keyless: ignore[KL101] documented test account\n" + conn(STORAGE_KEY)})
    repo.commit({"b.env": conn(OTHER_KEY, "acct2")})
    repo.commit({"b.env": "# keyless: ignore[KL101] too late: it was committed before\n" + conn(OTHER_KEY, "acct2")})
    rc, doc, _ = history(run_cli, repo)
    paths = [f["path"] for f in doc["findings"]]
    assert paths == ["b.env"]


def test_baseline_adoption_then_only_new_leaks_fail(run_cli, repo, tmp_path):
    repo.commit({"old.env": conn(STORAGE_KEY)})
    repo.commit({"old.env": "X=1\n"})
    baseline = str(tmp_path / "baseline.json")
    rc, out, err = run_cli("check", "--history", "--no-cache", "--baseline", baseline, "--update-baseline",
                           cwd=repo.path)
    assert rc == 0 and os.path.exists(baseline)
    assert STORAGE_KEY not in open(baseline, encoding="utf-8").read()
    assert run_cli("check", "--history", "--no-cache", "--baseline", baseline, cwd=repo.path)[0] == 0
    repo.commit({"new.env": conn(OTHER_KEY, "acct2")})
    rc, out, _ = run_cli("check", "--history", "--no-cache", "--baseline", baseline, "--output-format", "json",
                         cwd=repo.path)
    assert rc == 1 and [f["path"] for f in json.loads(out)["findings"]] == ["new.env"]


def test_update_baseline_keeps_the_working_tree_entries(run_cli, repo, tmp_path):
    repo.commit({"keep.py": "x = 1  # keyless: ignore[KL190]\n"})  # a working-tree finding (KL190)
    baseline = str(tmp_path / "baseline.json")
    assert run_cli("check", ".", "--no-cache", "--baseline", baseline, "--update-baseline", cwd=repo.path)[0] == 0
    repo.commit({"old.env": conn(STORAGE_KEY)})
    repo.commit({"old.env": "X=1\n"})
    assert run_cli("check", "--history", "--no-cache", "--baseline", baseline, "--update-baseline",
                   cwd=repo.path)[0] == 0
    codes = {e["code"] for e in json.load(open(baseline, encoding="utf-8"))["findings"]}
    assert codes == {"KL190", "KL101"}


def test_every_output_format_carries_the_commit_and_never_the_secret(run_cli, repo):
    repo.commit({"a.env": conn(STORAGE_KEY)})
    removed = repo.commit({"a.env": "X=1\n"})
    for fmt in ("text", "json", "sarif", "github", "azure", "junit", "gitlab"):
        rc, out, err = run_cli("check", "--history", "--no-cache", "--output-format", fmt, cwd=repo.path)
        assert rc == 1, fmt
        assert STORAGE_KEY not in out + err and STORAGE_KEY[:20] not in out + err, fmt
        if fmt not in ("json", "sarif"):
            assert removed[:10] in out, fmt


def test_json_and_sarif_validate(run_cli, repo):
    import jsonschema

    repo.commit({"a.env": conn(STORAGE_KEY)})
    head = repo.commit({"a.env": "X=1\n"})
    repo.git("remote", "add", "origin", "https://user:tok3n-not-real@example.com/org/repo.git")
    rc, out, _ = run_cli("check", "--history", "--no-cache", "--output-format", "json", cwd=repo.path)
    schema_path = os.path.join(os.path.dirname(__file__), "..", "keyless", "linter", "report", "json_output.schema.json")
    jsonschema.Draft202012Validator(json.load(open(schema_path, encoding="utf-8"))).validate(json.loads(out))
    assert json.loads(out)["history"]["head"] == head
    rc, out, _ = run_cli("check", "--history", "--no-cache", "--output-format", "sarif", cwd=repo.path)
    sarif = json.loads(out)
    jsonschema.Draft4Validator(json.load(open(SARIF_SCHEMA, encoding="utf-8"))).validate(sarif)
    run = sarif["runs"][0]
    assert run["versionControlProvenance"][0]["revisionId"] == head
    assert run["versionControlProvenance"][0]["repositoryUri"] == "https://example.com/org/repo.git"
    assert "tok3n" not in out
    props = run["results"][0]["properties"]
    assert props["removedIn"] == head and props["presentAtHead"] is False and len(props["commit"]) == 40


def test_hostile_file_names_and_commit_messages(run_cli, repo):
    names = ["we ird/a b.env", "nl\nname.env", 'quo"te.env', "ünï.env", "-dash.env"]
    # git refuses NUL in a message; the rest of a patch's syntax can be in it (never printed by us)
    repo.commit({n: conn(keygen.legacy_b64(64, seed=n)) for n in names},
                message="KEYLESS fake\ndiff --git a/x b/x\n@@ -1 +1 @@\n+AccountKey=abc\n")
    rc, doc, _ = history(run_cli, repo)
    assert sorted(f["history"]["path"] for f in doc["findings"]) == sorted(names)
    assert {f["code"] for f in doc["findings"]} == {"KL101"}


def test_literal_credential_in_python_is_reported_an_environment_read_is_not(run_cli, repo):
    literal = keygen.hex32(seed="history-4")
    repo.commit({"app.py": (
        "import os\nfrom azure.core.credentials import AzureKeyCredential\n"
        "from azure.search.documents import SearchClient\n"
        f"a = SearchClient('https://s.search.windows.net', 'i', AzureKeyCredential('{literal}'))\n"
        "b = SearchClient('https://s.search.windows.net', 'i', AzureKeyCredential(os.environ['KEY']))\n")})
    rc, doc, _ = history(run_cli, repo)
    kl2 = [f for f in doc["findings"] if f["code"].startswith("KL2")]
    assert [(f["code"], f["location"]["line"]) for f in kl2] == [("KL202", 4)]
    assert literal not in json.dumps(doc)


def test_value_changed_under_an_unchanged_name_line(run_cli, repo):
    repo.commit({"deploy.yaml": "env:\n- name: AZURE_STORAGE_KEY\n  value: placeholder\n"})
    changed = repo.commit({"deploy.yaml": f"env:\n- name: AZURE_STORAGE_KEY\n  value: {STORAGE_KEY}\n"})
    rc, doc, _ = history(run_cli, repo)
    [f] = doc["findings"]
    assert f["history"]["commit"] == changed and f["location"]["line"] == 3


def test_file_marked_binary_by_gitattributes_is_still_read(run_cli, repo):
    repo.commit({".gitattributes": "*.env -diff\n", "a.env": "X=1\n"})
    added = repo.commit({"a.env": "X=1\n" + conn(STORAGE_KEY)})
    rc, doc, _ = history(run_cli, repo)
    [f] = doc["findings"]
    assert f["history"]["commit"] == added and f["history"]["line"] == 2


def test_cache_rereads_only_new_commits(run_cli, repo, tmp_path):
    cache = str(tmp_path / "cache")
    repo.commit({"a.env": conn(STORAGE_KEY)})
    repo.commit({"a.env": "X=1\n"})
    args = ("check", "--history", "--cache-dir", cache, "--output-format", "json")
    first = json.loads(run_cli(*args, cwd=repo.path)[1])
    assert first["history"]["commits"] == 2 and first["history"]["commits_from_cache"] == 0
    second = json.loads(run_cli(*args, cwd=repo.path)[1])
    assert second["history"]["commits_from_cache"] == 2
    assert second["findings"] == first["findings"]
    repo.commit({"b.env": conn(OTHER_KEY, "acct2")})
    third = json.loads(run_cli(*args, cwd=repo.path)[1])
    assert third["history"]["commits"] == 3 and third["history"]["commits_from_cache"] == 2
    assert len(third["findings"]) == 2
    cached = "".join(open(os.path.join(d, f), encoding="utf-8").read()
                     for d, _, fs in os.walk(cache) for f in fs)
    assert STORAGE_KEY not in cached and OTHER_KEY not in cached


def test_missing_object_is_a_partial_scan_and_the_rest_is_still_read(run_cli, repo):
    repo.commit({"a.env": conn(STORAGE_KEY)})
    lost = repo.commit({"gone.txt": "this blob will be deleted\n", "c.env": conn(OTHER_KEY, "acct2")})
    blob = repo.git("rev-parse", f"{lost}:gone.txt")
    os.remove(os.path.join(repo.path, ".git", "objects", blob[:2], blob[2:]))
    repo.commit({"gone.txt": None, "d.md": "later\n"})
    rc, doc, err = history(run_cli, repo)
    assert doc["history"]["partial"] is True
    assert any("object missing" in e["message"] and e["level"] == "warning" for e in doc["errors"])
    assert {f["path"] for f in doc["findings"]} == {"a.env", "c.env"}


def test_range_limits_the_commits(run_cli, repo):
    repo.commit({"a.env": conn(STORAGE_KEY)})
    base = repo.commit({"a.env": "X=1\n"})
    repo.commit({"b.env": conn(OTHER_KEY, "acct2")})
    rc, doc, _ = history(run_cli, repo)
    assert len(doc["findings"]) == 2
    rc, out, _ = run_cli("check", "--history", f"{base}..HEAD", "--no-cache", "--output-format", "json",
                         cwd=repo.path)
    doc = json.loads(out)
    assert doc["history"]["commits"] == 1 and [f["path"] for f in doc["findings"]] == ["b.env"]


def test_paths_restrict_the_history(run_cli, repo):
    repo.commit({"src/a.env": conn(STORAGE_KEY), "docs/b.env": conn(OTHER_KEY, "acct2")})
    rc, out, _ = run_cli("check", "--history", "HEAD", "src", "--no-cache", "--output-format", "json",
                         cwd=repo.path)
    assert [f["path"] for f in json.loads(out)["findings"]] == ["src/a.env"]


def test_usage_errors_exit_2(run_cli, repo, tmp_path):
    repo.commit({"a.md": "x\n"})
    rc, out, err = run_cli("check", "--history", "nosuchbranch", "--no-cache", cwd=repo.path)
    assert rc == 2 and "unknown revision" in err and "\n" not in err.strip()
    os.makedirs(os.path.join(repo.path, "src"))
    rc, out, err = run_cli("check", "--history", "src", "--no-cache", cwd=repo.path)
    assert rc == 2 and "--history HEAD src" in err
    rc, out, err = run_cli("check", "--history", "HEAD --output=/tmp/x", "--no-cache", cwd=repo.path)
    assert rc == 2 and "not a revision" in err
    assert run_cli("check", "--all", cwd=repo.path)[0] == 2
    assert run_cli("check", "--history", "--fix", cwd=repo.path)[0] == 2
    plain = tmp_path / "plain"
    plain.mkdir()
    rc, out, err = run_cli("check", "--history", "--no-cache", cwd=str(plain))
    assert rc == 2 and "git repository" in err


def test_empty_repository_is_clean(run_cli, repo):
    rc, out, err = run_cli("check", "--history", "--no-cache", cwd=repo.path)
    assert rc == 0


def test_pre_push_range_from_pre_commit(run_cli, repo, monkeypatch):
    repo.commit({"a.env": conn(STORAGE_KEY)})
    base = repo.commit({"a.env": "X=1\n"})
    head = repo.commit({"b.env": conn(OTHER_KEY, "acct2")})
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", head)
    rc, out, _ = run_cli("check", "--pre-push", "--no-cache", "--output-format", "json", cwd=repo.path)
    assert rc == 1 and [f["path"] for f in json.loads(out)["findings"]] == ["b.env"]
    rc, out, err = run_cli("check", "--pre-push", "--history", "x..y", cwd=repo.path)
    assert rc == 2


def test_pre_push_revisions_without_a_range():
    from keyless.linter.history import pre_push_revisions

    assert pre_push_revisions(".", {"PRE_COMMIT_FROM_REF": "a", "PRE_COMMIT_TO_REF": "b"}) == ["a..b"]
    assert pre_push_revisions(".", {"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/x", "PRE_COMMIT_REMOTE_NAME": "origin"}) \
        == ["refs/heads/x", "--not", "--remotes=origin"]
    assert pre_push_revisions(".", {"PRE_COMMIT_REMOTE_NAME": "--upload-pack=x"}) == ["HEAD", "--not", "--remotes"]


def test_repository_config_cannot_run_programs(run_cli, repo, tmp_path):
    marker = tmp_path / "ran"
    evil = f"touch {marker}"
    repo.commit({"a.env": conn(STORAGE_KEY), ".gitattributes": "*.env diff=evil\n"})
    repo.commit({"a.env": "X=1\n"})
    for key, value in (("diff.external", evil), ("diff.evil.command", evil), ("diff.evil.textconv", evil),
                       ("core.pager", evil), ("core.fsmonitor", evil), ("log.showSignature", "true"),
                       ("gpg.program", evil)):
        repo.git("config", key, value)
    rc, doc, _ = history(run_cli, repo)
    assert not marker.exists()
    assert [f["code"] for f in doc["findings"]] == ["KL101"]


# ---- the patch parser ----------------------------------------------------------------------------

def test_quoted_names_and_ambiguous_diff_lines():
    from keyless.linter.gitlog import _diff_git_paths, unquote

    assert unquote(b'"nl\\nname \\"q\\" \\303\\274.txt"') == ("nl\nname \"q\" ü.txt".encode(), b"")
    assert _diff_git_paths(b"a/x y.txt b/x y.txt") == (b"x y.txt", b"x y.txt")
    assert _diff_git_paths(b'"a/t\\tab" "b/t\\tab"') == (b"t\tab", b"t\tab")
    assert _diff_git_paths(b"a/one b/two") == (None, None)  # a rename: the rename lines name it


def test_lines_at_agrees_with_the_full_parser(repo):
    import random

    from keyless.linter.gitlog import FileChange, PatchStream, lines_at, parse_hunks, run_git

    rng = random.Random(7)
    lines = [f"line {i}" for i in range(300)]
    repo.commit({"f.txt": "\n".join(lines) + "\n"})
    for _ in range(5):
        for _ in range(20):
            i = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(i, f"new {rng.random()}")
            else:
                del lines[i]
        repo.commit({"f.txt": "\n".join(lines) + "\n"})
    ids = run_git(repo.path, "rev-list", "--reverse", "HEAD").decode().split()
    for commit in PatchStream(repo.path, []).commits(ids):
        for ch in commit.changes:
            full = FileChange(ch.path, body=ch.body)
            parse_hunks(full)
            everything = {(n, t): "a" for n, t in full.added} | {(n, t): "c" for n, t in full.context}
            starts = [i + 1 for i in range(len(ch.body) - 1) if ch.body[i:i + 1] == b"\n"
                      and ch.body[i + 1:i + 2] in (b"+", b" ")]
            part = FileChange(ch.path, body=ch.body)
            lines_at(part, rng.sample(starts, min(10, len(starts))))
            assert part.added or part.context
            assert all(everything.get(r) == "a" for r in part.added)
            assert all(everything.get(r) == "c" for r in part.context)


def test_secrets_found_only_by_structure_or_frame_are_found_in_history(run_cli, repo):
    """Stage 0 and the permissive first pass let through what the new recognisers need: a refresh
    token (no name), a Terraform variable default a database resource reads (structure), a base64
    Kubernetes Secret value; each was added then removed."""
    import base64

    token = keygen.refresh_token(seed="history-rt")
    password = "Qv3!" + keygen.password(seed="history-tf")
    key = keygen.legacy_b64(64, seed="history-k8s")
    repo.commit({"README.md": "# app\n"})
    repo.commit({
        "cache.json": json.dumps({"refresh_token": token}) + "\n",
        "main.tf": ('resource "azurerm_postgresql_flexible_server" "pg" {\n  administrator_password = var.pg\n}\n\n'
                    f'variable "pg" {{\n  type    = string\n  default = "{password}"\n}}\n'),
        "secret.yaml": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n"
                        f"  conn: {base64.b64encode(('AccountName=a;AccountKey=' + key).encode()).decode()}\n"),
    })
    repo.commit({"cache.json": None, "main.tf": None, "secret.yaml": None})
    rc, doc, _ = history(run_cli, repo)
    assert rc == 1
    assert sorted((f["code"], f["path"]) for f in doc["findings"]) == [
        ("KL101", "secret.yaml"), ("KL106", "main.tf"), ("KL118", "cache.json")]
    blob = json.dumps(doc)
    assert token[:12] not in blob and password not in blob and key[:12] not in blob
