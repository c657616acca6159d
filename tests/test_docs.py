"""The documentation's commands run as written (like doctests), so the docs cannot rot.

A block is runnable only when an HTML comment right before it says so:

    <!-- doc-test: cwd=demo exit=1,0 expect="KL101" -->
    ```bash
    keyless check
    keyless rules
    ```

Each document gets a fresh copy of fixtures/; its blocks run in order in that copy with the
installed `keyless` first on PATH (bash, one command per line; comments allowed). Keys:

- `cwd=DIR`: where the commands run, relative to the copy (default: its top);
- `exit=N[,N...]`: the exit code of every command, or one per command (default 0);
- `expect="TEXT"`: TEXT appears in the block's stdout or stderr (repeatable);
- `file=PATH`: write the block (a config snippet, say) to PATH in the copy instead of running it;
- `git`: make the block's directory (`cwd`) a git repository first (one commit of everything in it;
  `origin/main` = HEAD).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

DOCS = ["README.md", *sorted(f"docs/{n}" for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md"))]
MARKER = re.compile(r"<!-- doc-test:(?P<attrs>[^>]*?)-->[ \t]*\n(?:[ \t]*\n)*(?P<block>```[^\n]*\n.*?\n```)?", re.S)


@dataclass
class Step:
    line: int
    cwd: str = "."
    exits: list[int] = field(default_factory=lambda: [0])
    expect: list[str] = field(default_factory=list)
    file: str | None = None
    git: bool = False
    body: str = ""

    def commands(self) -> list[str]:
        return [ln for ln in (raw.strip() for raw in self.body.splitlines()) if ln and not ln.startswith("#")]


def steps_of(doc: str) -> list[Step]:
    text = open(os.path.join(ROOT, doc), encoding="utf-8").read()
    steps = []
    for m in MARKER.finditer(text):
        step = Step(line=text.count("\n", 0, m.start()) + 1)
        for word in shlex.split(m.group("attrs")):
            key, _, value = word.partition("=")
            if key == "cwd":
                step.cwd = value
            elif key == "exit":
                step.exits = [int(v) for v in value.split(",")]
            elif key == "expect":
                step.expect.append(value)
            elif key == "file":
                step.file = value
            elif key == "git":
                step.git = True
            else:
                raise AssertionError(f"{doc}:{step.line}: unknown doc-test key {key!r}")
        block = m.group("block")
        assert block, f"{doc}:{step.line}: a doc-test marker must be followed by a fenced block"
        step.body = block.split("\n", 1)[1].rsplit("\n```", 1)[0]
        steps.append(step)
    return steps


RUNNABLE = [doc for doc in DOCS if steps_of(doc)]


def test_some_documents_have_runnable_blocks():
    assert "README.md" in RUNNABLE


def _git(cwd: str, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "doc", "GIT_AUTHOR_EMAIL": "doc@example.invalid",
           "GIT_COMMITTER_NAME": "doc", "GIT_COMMITTER_EMAIL": "doc@example.invalid"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.mark.parametrize("doc", RUNNABLE)
def test_documented_commands_run_as_written(doc, tmp_path):
    work = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, work)
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
           "NO_COLOR": "1", "KEYLESS_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("KEYLESS_OUTPUT_FORMAT", None)
    made_repo = False
    for step in steps_of(doc):
        where = f"{doc}:{step.line}"
        if step.file:
            target = work / step.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.body + "\n", encoding="utf-8")
            continue
        if step.git and not made_repo:
            repo = str(work / step.cwd)
            _git(repo, "init", "-q", "-b", "main")
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "-m", "docs")
            _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
            made_repo = True
        commands = step.commands()
        exits = step.exits * len(commands) if len(step.exits) == 1 else step.exits
        assert len(exits) == len(commands), f"{where}: {len(commands)} commands, {len(exits)} exit codes"
        seen = ""
        for command, expected in zip(commands, exits):
            proc = subprocess.run(["bash", "-c", command], cwd=work / step.cwd, env=env, capture_output=True,
                                  text=True, timeout=120)
            seen += proc.stdout + proc.stderr
            assert proc.returncode == expected, (
                f"{where}: `{command}` exited {proc.returncode}, the docs say {expected}\n"
                f"{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
        for text in step.expect:
            assert text in seen, f"{where}: {text!r} not in the output of the block"


# ---- docs/output-formats.md: every example is real output -------------------------------------------
#
# The examples come from one run on the project below (two findings in a Python file, one in
# Terraform, a YAML file that does not parse, and a named file that does not exist), with keyless
# installed from a stand-in git URL so the links show. Regenerate after a change of output:
#     KEYLESS_UPDATE_DOCS=1 python -m pytest tests/test_docs.py -k examples

OUTPUT_FORMATS = os.path.join(ROOT, "docs", "output-formats.md")
EXAMPLE = re.compile(r"(<!-- generated-example: (?P<name>[a-z-]+) -->\n```[^\n]*\n)(?P<body>.*?)(\n```)", re.S)
EXAMPLE_PROJECT = {
    "app/settings.py": (
        "from azure.storage.blob import BlobServiceClient\n\n"
        'CONN = "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=nQWmT9nyFp6ICUppHFqb7Ok+/oZDxOLQX6jxUI4'
        '46QJ/iP5yC/PxcSe+6ITG3GrvmWlCN3iBfwfkZeiEBQUSbQ==;EndpointSuffix=core.windows.net"\n'
        "client = BlobServiceClient.from_connection_string(CONN)\n"),
    "infra/main.tf": (
        'resource "azurerm_storage_account" "data" {\n'
        '  name                     = "contosodata"\n'
        '  resource_group_name      = "rg-orders"\n'
        '  location                 = "westeurope"\n'
        '  account_tier             = "Standard"\n'
        '  account_replication_type = "LRS"\n'
        "}\n"),
    "deploy/app.yaml": "properties:\n  template:\n    containers: [1, 2\n  identity: x\n",
}
STAND_IN = ("https://example.com/owner/keyless", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b")
SHOWN_ROOT = "/home/me/proj"


def _sarif_excerpt(out: str) -> str:
    """The run without the rules no result refers to, and without the rules' long help texts."""
    import json

    run = json.loads(out)["runs"][0]
    used = {r["ruleIndex"] for r in run["results"]}
    rules = []
    for i, rule in enumerate(run["tool"]["driver"]["rules"]):
        if i in used:
            rule = dict(rule, help={"text": "(the rule's documentation)", "markdown": "(the rule's documentation)"})
            rules.append(rule)
    run["tool"]["driver"]["rules"] = rules
    for res in run["results"]:
        res["ruleIndex"] = f"<index of {res['ruleId']} in the full list>"
    return json.dumps(run, indent=2)


def generated_examples(tmp_path, monkeypatch) -> dict[str, str]:
    from click.testing import CliRunner

    from keyless.cli import main
    from keyless.linter.report import _common

    proj = tmp_path / "proj"
    (proj / ".git").mkdir(parents=True)
    for rel, text in EXAMPLE_PROJECT.items():
        (proj / rel).parent.mkdir(parents=True, exist_ok=True)
        (proj / rel).write_text(text, encoding="utf-8")
    monkeypatch.setattr(_common, "project_source", lambda: STAND_IN)
    monkeypatch.chdir(proj)
    real = os.path.realpath(proj)
    runs = {"text": [], "statistics": ["--statistics"], "json": ["--output-format", "json"],
            "sarif": ["--output-format", "sarif"], "github": ["--output-format", "github"],
            "azure": ["--output-format", "azure"], "junit": ["--output-format", "junit"],
            "gitlab": ["--output-format", "gitlab"]}
    out = {}
    for name, args in runs.items():
        # config/app.env does not exist: a file that could not be checked (level error, exit 2)
        res = CliRunner().invoke(main, ["check", "--no-cache", *args, ".", "config/app.env"], catch_exceptions=False)
        assert res.exit_code == 2, res.output
        text = res.stdout
        if name == "sarif":
            text = _sarif_excerpt(text)
        text = text.replace(Path(real).as_uri(), "file://" + SHOWN_ROOT).replace(real, SHOWN_ROOT)
        out[name] = text.rstrip("\n")
    return out


def test_output_format_examples_match_the_cli(tmp_path, monkeypatch):
    examples = generated_examples(tmp_path, monkeypatch)
    text = open(OUTPUT_FORMATS, encoding="utf-8").read()
    names = [m.group("name") for m in EXAMPLE.finditer(text)]
    assert sorted(names) == sorted(examples), "docs/output-formats.md has one generated example per format"
    if os.environ.get("KEYLESS_UPDATE_DOCS"):
        text = EXAMPLE.sub(lambda m: m.group(1) + examples[m.group("name")] + m.group(4), text)
        open(OUTPUT_FORMATS, "w", encoding="utf-8").write(text)
    stale = [m.group("name") for m in EXAMPLE.finditer(text) if m.group("body") != examples[m.group("name")]]
    assert not stale, (f"docs/output-formats.md examples differ from the CLI's output: {stale}; regenerate with "
                       "KEYLESS_UPDATE_DOCS=1 python -m pytest tests/test_docs.py -k examples")
