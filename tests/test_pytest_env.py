"""Test code reading a variable that the project's pytest configuration (pytest-env) sets to a
local emulator talks to the emulator: no key-auth finding (graphrag-accelerator's tests, field
test stop 19). keyless/rules/python/pytest_env.py."""

from __future__ import annotations

import pytest

from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, resolve_selection
from keyless.linter.rule import load_registry

AZURITE = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
           "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;")
LIVE = "DefaultEndpointsProtocol=https;AccountName=prodorders;EndpointSuffix=core.windows.net"

TEST = '''import os
from azure.storage.blob import BlobServiceClient


def test_upload():
    client = BlobServiceClient.from_connection_string(os.environ["STORAGE_CONNECTION_STRING"])
    client.get_container_client("t").upload_blob("a", b"b")
'''


def write(root, rel, text):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


def kl201(root):
    reg = load_registry()
    st = Settings(root=str(root), select=resolve_selection(reg, ["KL201"]))
    return [f.path for f in lint_paths([str(root)], Config(root=str(root)), st, excludes=[], jobs=1).findings]


CONFIGS = {
    "pytest.ini": "[pytest]\nenv =\n    STORAGE_CONNECTION_STRING={value}\n",
    "tox.ini": "[tox]\nenvlist = py311\n\n[pytest]\nenv =\n    D:STORAGE_CONNECTION_STRING={value}\n",
    "setup.cfg": "[metadata]\nname = x\n\n[tool:pytest]\nenv =\n    R:STORAGE_CONNECTION_STRING={value}\n",
    "pyproject.toml": '[tool.pytest.ini_options]\nenv = ["STORAGE_CONNECTION_STRING={value}"]\n',
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_each_pytest_configuration_file_is_read(tmp_path, name):
    write(tmp_path, name, CONFIGS[name].format(value=AZURITE))
    write(tmp_path, "tests/test_blob.py", TEST)
    assert kl201(tmp_path) == []


def test_the_pytest_env_table_of_pyproject_is_read(tmp_path):
    write(tmp_path, "pyproject.toml", f'[tool.pytest_env]\nSTORAGE_CONNECTION_STRING = {{value = "{AZURITE}"}}\n')
    write(tmp_path, "tests/test_blob.py", TEST)
    assert kl201(tmp_path) == []


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_live_account_in_the_configuration_is_still_reported(tmp_path, name):
    write(tmp_path, name, CONFIGS[name].format(value=LIVE))
    write(tmp_path, "tests/test_blob.py", TEST)
    assert kl201(tmp_path) == ["tests/test_blob.py"]


def test_application_code_is_reported_whatever_pytest_sets(tmp_path):
    write(tmp_path, "pytest.ini", CONFIGS["pytest.ini"].format(value=AZURITE))
    write(tmp_path, "app/blob.py", TEST.replace("def test_upload", "def upload"))
    assert kl201(tmp_path) == ["app/blob.py"]


def test_the_nearest_configuration_counts_like_pytest_finds_it(tmp_path):
    """A `tox.ini` without a `[pytest]` section does not count (pytest looks further up); a
    nearer `pytest.ini` wins over the root's, even when it sets nothing."""
    write(tmp_path, "pytest.ini", CONFIGS["pytest.ini"].format(value=AZURITE))
    write(tmp_path, "svc/tox.ini", "[tox]\nenvlist = py311\n")
    write(tmp_path, "svc/tests/test_blob.py", TEST)
    write(tmp_path, "other/pytest.ini", "[pytest]\naddopts = -q\n")
    write(tmp_path, "other/tests/test_blob.py", TEST)
    assert kl201(tmp_path) == ["other/tests/test_blob.py"]
