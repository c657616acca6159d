import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
# Data the tests need ships with them: a clone made anywhere runs its own suite.
TEST_DATA = os.path.join(ROOT, "tests", "data")
SARIF_SCHEMA = os.path.join(TEST_DATA, "sarif-schema-2.1.0.json")


@pytest.fixture
def run_cli(tmp_path):
    """Run the real console entry in-process via click's runner; returns (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from keyless.cli import main

    def run(*args, input=None, cwd=None):
        runner = CliRunner()
        old = os.getcwd()
        os.chdir(cwd or tmp_path)
        try:
            res = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        finally:
            os.chdir(old)
        return res.exit_code, res.stdout, res.stderr

    return run


# No wall-clock limit in a unit test: hypothesis's default per-example deadline (200 ms) fails on a
# loaded machine. Speed is measured in bench/, linear growth in tests/test_time_bounds.py.
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("keyless", deadline=None)
_hypothesis_settings.load_profile("keyless")

# Tests never touch the user's cache directory.
import tempfile as _tempfile

os.environ.setdefault("KEYLESS_CACHE_DIR", _tempfile.mkdtemp(prefix="keyless-test-cache-"))
os.environ.pop("KEYLESS_OUTPUT_FORMAT", None)


def write(root, rel, text, mode="w"):
    p = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as fh:
        fh.write(text)
    return p


@pytest.fixture(autouse=True)
def strict_messages(monkeypatch):
    """A finding's text over its limit stays as its rule composed it, so a test sees the overrun
    (keyless/linter/messages.py: `held_to` is the users' safety net, not how rules fit)."""
    from keyless.linter import messages

    monkeypatch.setattr(messages, "STRICT", True)
