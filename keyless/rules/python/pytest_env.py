"""Environment variables the project's pytest configuration sets for its tests (pytest-env).

Test code often reads `os.environ["STORAGE_CONNECTION_STRING"]` while `pytest.ini` (or `tox.ini`
`[pytest]`, `setup.cfg` `[tool:pytest]`, `pyproject.toml` `[tool.pytest.ini_options]` /
`[tool.pytest_env]`) sets it to a local emulator's connection string: the test talks to Azurite or
the Cosmos DB emulator, not to an account with a key. The configuration file is found like pytest
finds it (the nearest directory above the test holding one), through the scan's workspace, and
read only when a test module's key-auth hit reads an environment variable.
"""

from __future__ import annotations

from typing import Any

from keyless.linter.workspace import join, reldir_of

# pytest's own order within one directory; a file counts only when it holds a pytest section
# (pytest.ini always does).
_CONFIG_FILES = ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
_INI_SECTIONS = {"pytest.ini": ("pytest",), "tox.ini": ("pytest",), "setup.cfg": ("tool:pytest",)}


def pytest_env(doc: Any) -> dict[str, str]:
    """NAME -> value for the variables the test's pytest configuration sets ({} when none)."""
    ws = getattr(doc, "workspace", None)
    if ws is None:
        return {}
    d = reldir_of(doc.relpath)
    while True:
        names = ws.names(d)
        for name in _CONFIG_FILES:
            if name in names:
                found = ws.derived(("pytest-env", join(d, name)), lambda p=join(d, name): _read(ws, p))
                if found is not None:
                    return found
        if not d:
            return {}
        d = reldir_of(d)


def _read(ws: Any, relpath: str) -> dict[str, str] | None:
    """The file's pytest env, or None when the file has no pytest section (pytest looks further up)."""
    companion = ws.load(relpath)
    if companion is None:
        return None
    name = relpath.rsplit("/", 1)[-1]
    if name == "pyproject.toml":
        return _from_pyproject(companion.text)
    return _from_ini(companion.text, _INI_SECTIONS[name], always=name == "pytest.ini")


def _from_ini(text: str, sections: tuple[str, ...], always: bool) -> dict[str, str] | None:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return {} if always else None
    for section in sections:
        if parser.has_section(section):
            return _entries(parser.get(section, "env", fallback="").splitlines())
    return {} if always else None


def _from_pyproject(text: str) -> dict[str, str] | None:
    import tomllib

    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return None
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    pytest = tool.get("pytest") if isinstance(tool.get("pytest"), dict) else {}
    options = pytest.get("ini_options")
    table = tool.get("pytest_env")
    if not isinstance(options, dict) and not isinstance(table, dict):
        return None
    env: dict[str, str] = {}
    if isinstance(options, dict):
        lines = options.get("env")
        env.update(_entries(lines if isinstance(lines, list) else []))
    if isinstance(table, dict):
        for key, value in table.items():
            if isinstance(value, dict):
                value = value.get("value")
            if isinstance(value, str):
                env[key] = value
    return env


def _entries(lines: list[Any]) -> dict[str, str]:
    """`NAME=value` lines, with pytest-env's `D:` (default) and `R:` (raw) flags."""
    env: dict[str, str] = {}
    for line in lines:
        if not isinstance(line, str):
            continue
        line = line.strip()
        while line[:2] in ("D:", "R:"):
            line = line[2:]
        name, eq, value = line.partition("=")
        if eq and name.strip():
            env[name.strip()] = value.strip()
    return env
