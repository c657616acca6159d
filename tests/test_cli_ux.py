"""Command-line comforts: `--color auto|always|never` (NO_COLOR, FORCE_COLOR; never in other formats
or in an `-o` file) and shell completion through click's `_KEYLESS_COMPLETE` (README)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from conftest import write
from keyless.linter.session import use_color

KEY_LINE = "AZURE_STORAGE_KEY=nQWmT9nyFp6ICUppHFqb7Ok+/oZDxOLQX6jxUI446QJ/iP5yC/PxcSe+6ITG3GrvmWlCN3iBfwfkZeiEBQUSbQ==\n"
ESC = "\x1b["


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("mode,fmt,tty,env,expected", [
    ("auto", "text", True, {}, True),
    ("auto", "text", False, {}, False),
    ("auto", "text", True, {"NO_COLOR": "1"}, False),
    ("auto", "text", True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
    ("auto", "text", False, {"FORCE_COLOR": "1"}, True),
    ("auto", "text", False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ("auto", "text", True, {"TERM": "dumb"}, False),
    ("always", "text", False, {"NO_COLOR": "1"}, True),  # an explicit flag beats the environment
    ("never", "text", True, {"FORCE_COLOR": "1"}, False),
    ("always", "json", True, {}, False),  # other formats: never
    ("always", "sarif", True, {"FORCE_COLOR": "1"}, False),
    ("auto", "github", True, {"FORCE_COLOR": "1"}, False),
])
def test_use_color(monkeypatch, mode, fmt, tty, env, expected):
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert use_color(mode, fmt, Stream(tty)) is expected


@pytest.fixture
def project(tmp_path, monkeypatch):
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    write(tmp_path, "app.env", KEY_LINE)
    return tmp_path


def test_color_flag_in_a_real_run(run_cli, project, monkeypatch):
    rc, out, _ = run_cli("check", "--no-cache")  # not a terminal: plain
    assert rc == 1 and ESC not in out
    rc, out, _ = run_cli("check", "--no-cache", "--color", "always")
    assert rc == 1 and ESC in out and "KL101" in out
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC in run_cli("check", "--no-cache")[1]
    assert ESC not in run_cli("check", "--no-cache", "--color", "never")[1]
    for fmt in ("json", "sarif", "github", "azure", "junit", "gitlab"):
        assert ESC not in run_cli("check", "--no-cache", "--color", "always", "--output-format", fmt)[1]
    rc, out, _ = run_cli("check", "--no-cache", "--color", "always", "-o", "report.txt")
    assert ESC not in (project / "report.txt").read_text() and "KL101" in (project / "report.txt").read_text()
    assert run_cli("check", "--no-cache", "--color", "sometimes")[0] == 2


# The installed console script: completion is keyed on the program name (`_KEYLESS_COMPLETE`).
KEYLESS = os.path.join(os.path.dirname(sys.executable), "keyless")


def completion(*words: str, cword: int | None = None) -> list[str]:
    env = {**os.environ, "_KEYLESS_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(words),
           "COMP_CWORD": str(len(words) - 1 if cword is None else cword)}
    proc = subprocess.run([KEYLESS], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if line]


@pytest.mark.skipif(not os.path.exists(KEYLESS), reason="keyless is not installed next to this interpreter")
def test_shell_completion_scripts_and_selectors():
    for shell, marker in (("bash", "_keyless_completion()"), ("zsh", "#compdef keyless"),
                          ("fish", "function _keyless_completion")):
        env = {**os.environ, "_KEYLESS_COMPLETE": f"{shell}_source"}
        out = subprocess.run([KEYLESS], env=env, capture_output=True, text=True).stdout
        assert marker in out, shell
    assert completion("keyless", "ch") == ["check"]
    assert "--show-settings" in completion("keyless", "check", "--sh")
    assert completion("keyless", "check", "--select", "sec") == ["secret"]
    assert completion("keyless", "check", "--select", "KL1,KL40") == ["KL1,KL401", "KL1,KL402", "KL1,KL403",
                                                                      "KL1,KL404"]
    assert completion("keyless", "check", "--ignore", "key") == ["key-auth"]
