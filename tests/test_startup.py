"""What an editor's one-file check (`keyless check --stdin-filename F -`) loads: only the reader,
the front end and the rules of F's own kind, no pathspec, baseline or fix machinery on a warm run,
and no scan of every installed distribution's metadata (the entry-point list is cached). The import
graph is checked in a fresh interpreter: behaviour, not time (bench/bicep_speed.py measures it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import write

BICEP = """param location string = resourceGroup().location

resource web 'Microsoft.Web/sites@2022-09-01' = {
  name: 'web-app'
  location: location
  properties: {}
}
"""
PYTHON = """import os

from azure.storage.blob import BlobServiceClient

client = BlobServiceClient.from_connection_string(os.environ["STORAGE_CONNECTION_STRING"])
"""

# Run the check in a fresh interpreter and print the modules it loaded (not those the interpreter's
# start-up did, such as an editable install's finder).
_PROBE = """
import atexit, json, runpy, sys
before = set(sys.modules)
atexit.register(lambda: print(json.dumps(sorted(set(sys.modules) - before))))
sys.argv = ["keyless", "check", "--output-format", "text", "--exit-zero", "--stdin-filename", sys.argv[1], "-"]
runpy.run_module("keyless", run_name="__main__", alter_sys=True)
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root, ".gitignore", "*.log\nbuild/\n")
    write(root, "infra/main.bicep", BICEP)
    write(root, "app/storage.py", PYTHON)
    write(root, "app/__init__.py", "")
    return root


def _modules_loaded(project, relpath: str, tmp_path) -> set[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "user-cache"), KEYLESS_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    with open(project / relpath, "rb") as fh:
        out = subprocess.run([sys.executable, "-c", _PROBE, relpath], cwd=project, stdin=fh, env=env,
                             capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _warm(project, relpath, tmp_path) -> set[str]:
    _modules_loaded(project, relpath, tmp_path)  # fills the result cache and the entry-point list
    return _modules_loaded(project, relpath, tmp_path)


def test_a_bicep_check_loads_no_python_analysis(project, tmp_path):
    loaded = _warm(project, "infra/main.bicep", tmp_path)
    assert "keyless.rules.iac.bicep" in loaded  # the check did run the Bicep front end
    assert "keyless.rules.python.rules" in loaded  # every rule is registered...
    assert "keyless.rules.python.analysis" not in loaded  # ...but Python's analysis is not loaded
    assert "keyless.rules.python.catalog" not in loaded


def test_a_python_check_loads_no_iac_front_end(project, tmp_path):
    loaded = _warm(project, "app/storage.py", tmp_path)
    assert "keyless.rules.python.analysis" in loaded
    for module in ("keyless.rules.iac.arm", "keyless.rules.iac.bicep", "keyless.linter.documents.bicep",
                   "tree_sitter_bicep", "keyless.rules.iac.terraform",
                   "pathlib"):  # configuration discovery walks up with os.path
        assert module not in loaded, module


@pytest.mark.parametrize("relpath", ["infra/main.bicep", "app/storage.py"])
def test_a_warm_editor_check_loads_no_machinery_it_does_not_use(project, tmp_path, relpath):
    loaded = _warm(project, relpath, tmp_path)
    for module in ("pathspec",  # excludes are names and suffixes; every directory replayed from the memo
                   "importlib.metadata",  # the entry-point list comes from the user cache
                   "keyless.linter.baseline", "keyless.linter.fixes", "keyless.linter.workers",
                   "libcst", "jsonschema"):
        assert module not in loaded, module


# ---- the cached entry-point list ---------------------------------------------------------------

def _entry_point_reads(monkeypatch) -> list[int]:
    import importlib.metadata

    calls: list[int] = []
    real = importlib.metadata.entry_points

    def counting(**kwargs):
        calls.append(1)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    return calls


def test_the_entry_point_list_survives_files_created_in_the_current_directory(tmp_path, monkeypatch):
    from keyless.linter.rule import plugin_entry_points

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.syspath_prepend(str(cwd))  # `python -m keyless` puts the current directory first
    calls = _entry_point_reads(monkeypatch)
    first = plugin_entry_points()
    assert ("secrets", "keyless.rules.secrets") in first
    write(cwd, "notes.txt", "an editor saved a file here\n")  # moves the directory's mtime
    assert plugin_entry_points() == first
    assert len(calls) == 1  # read from the cached list
    # A distribution installed there is another import path: the list is read again.
    info = cwd / "kl_probe_plugin-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kl-probe-plugin\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[keyless.rules]\nzz_probe = kl_probe_plugin\n")
    assert ("zz_probe", "kl_probe_plugin") in plugin_entry_points()
    assert len(calls) == 2


# ---- regular expressions compiled on first use ---------------------------------------------------

def test_a_lazy_pattern_compiles_on_first_use_and_rebinds_its_name():
    from keyless.linter import lazyre

    namespace: dict = {"__name__": "probe"}
    exec("from keyless.linter.lazyre import lazy_compile\n"
         "WORD = lazy_compile(r'(?i)sec(ret)')\nIN_TUPLE = (WORD,)\n", namespace)
    stand_in = namespace["WORD"]
    assert isinstance(stand_in, lazyre.LazyPattern)
    assert stand_in in lazyre.created()
    assert stand_in._compiled is None  # nothing compiled yet
    assert namespace["WORD"].search("a SECRET").group(1) == "RET"
    assert namespace["WORD"] is re.compile(r"(?i)sec(ret)")  # the name now holds the pattern itself
    # A stand-in held elsewhere still behaves as the pattern.
    held = namespace["IN_TUPLE"][0]
    assert held.fullmatch("secret") and held.flags == re.compile(r"(?i)sec(ret)").flags
    assert held.pattern == r"(?i)sec(ret)"


def test_module_patterns_stay_the_same_patterns():
    """A converted module-level name gives the pattern and flags it always had."""
    from keyless.linter import suppression
    from keyless.rules.secrets import allowlist, scanner

    assert scanner.ANCHOR_RE.pattern == r"key|secret|p(?:assw|wd|at)|credential"
    assert isinstance(scanner.ANCHOR_RE, re.Pattern)  # rebound by the attribute use above
    assert allowlist.is_placeholder("<your-key>") and not allowlist.is_placeholder("Zq8vN3xK1mP7")
    directives = suppression.parse_directives("x = 1\r\nkey = 'v'  # keyless: ignore[KL101] test key\n")
    assert [(d.line, sorted(d.codes)) for d in directives] == [(2, ["KL101"])]


# ---- the collector during start-up (keyless/startup.py) --------------------------------------------

_GC_PROBE = """
import atexit, gc, json, runpy, sys
atexit.register(lambda: print(json.dumps([gc.isenabled(), gc.get_freeze_count()])))
sys.argv = ["keyless", *sys.argv[1:]]
runpy.run_module("keyless", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("args", [["check", "--stdin-filename", "app/storage.py", "-"], ["rules"],
                                  ["explain", "KL201"]])
def test_the_command_line_collects_again_once_started(project, tmp_path, args):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "user-cache"), KEYLESS_CACHE_DIR=str(tmp_path / "cache"))
    for _ in range(2):  # warm: a cold check's facts-only pass runs under the scan's own policy
        out = subprocess.run([sys.executable, "-c", _GC_PROBE, *args], cwd=project, input=PYTHON, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode in (0, 1), out.stderr
    enabled, frozen = json.loads(out.stdout.strip().splitlines()[-1])
    assert enabled  # the collector runs again for the work itself (and for `keyless server`)
    assert frozen > 10_000  # what start-up built is frozen, never scanned again


def test_a_library_caller_keeps_its_collector(project, run_cli):
    import gc

    frozen = gc.get_freeze_count()
    code, _, _ = run_cli("check", "--stdin-filename", "app/storage.py", "-", input=PYTHON, cwd=str(project))
    assert code == 1
    assert gc.isenabled() and gc.get_freeze_count() == frozen
