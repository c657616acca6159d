"""Configuration: `.keyless.toml` > `keyless.toml` > `[tool.keyless]` in `pyproject.toml`, the
closest one to the scanned paths wins (no implicit merging). A pyproject.toml without the section
means defaults. Invalid configuration raises ConfigError naming the offending key (exit 2)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from keyless.linter.finding import Severity

CONFIG_NAMES = (".keyless.toml", "keyless.toml", "pyproject.toml")
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", ".direnv", ".eggs", ".mypy_cache", ".nox", ".tox", ".pytest_cache",
    ".ruff_cache", ".pytype", ".ipynb_checkpoints", ".venv", "venv", "__pycache__", "__pypackages__",
    "node_modules", "bower_components", "site-packages", "build", "dist", "_build", "buck-out",
    ".terraform", ".keyless_cache", ".idea", ".vs",
    # Lock files: huge, machine-written, full of integrity hashes.
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
    "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "composer.lock", "Gemfile.lock", "go.sum",
    "packages.lock.json", ".terraform.lock.hcl", "*.min.js", "*.min.css", "*.map",
)


class ConfigError(Exception):
    pass


@dataclass
class Config:
    path: str | None = None  # the file the settings came from
    root: str = "."  # project root: the config file's directory, else the git root, else cwd
    project_root: bool = False  # root is a config file's directory or a git root (not just the cwd)
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    severity: Severity = Severity.LOW
    baseline: str | None = None  # resolved against the directory of the file that set it (`extend`)
    cache_dir: str | None = None  # likewise
    output_format: str | None = None
    follow_symlinks: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    # Path settings refused because they leave the project: key -> one-line reason. Raised only
    # when the setting is used (a command-line value replaces it).
    refused: dict[str, str] = field(default_factory=dict)

    def path_setting(self, key: str) -> str | None:
        """`baseline` or `cache-dir` from the configuration file; ConfigError when it leaves the
        project (a repository must not make keyless write elsewhere)."""
        if key in self.refused:
            raise ConfigError(self.refused[key])
        return {"baseline": self.baseline, "cache-dir": self.cache_dir}[key]
    origins: dict[str, str] = field(default_factory=dict)  # key -> the file that set it (`extend`)
    extends: list[str] = field(default_factory=list)  # the base files `extend` read, nearest first

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


def parse_size(value: Any) -> int:
    """A whole number of bytes, or a string such as "5MB". Anything else (a TOML float like 5e6,
    a boolean, zero: every file would be skipped unchecked) is a ConfigError."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)[bB]?\s*", value)
        if not m:
            raise ConfigError(f"max-file-size: cannot read size {value[:40]!r} (write e.g. 5242880 or \"5MB\")")
        mult = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[m.group(2).lower()]
        size = int(float(m.group(1)) * mult)
    else:
        raise ConfigError(f"max-file-size: expected a whole number of bytes or a string such as \"5MB\", "
                          f"got a {type(value).__name__}")
    if size < 1:
        raise ConfigError("max-file-size: must be at least 1 byte (0 would skip every file unchecked)")
    return size


def find_config(start: str) -> tuple[str | None, dict[str, Any]]:
    """Walk up from `start` to the first directory holding a keyless config. A symbolic link
    named as `start` belongs where it is, not where it points. (os.path, not pathlib: an editor's
    check would import pathlib for this alone.)"""
    here = os.path.abspath(start)
    if not os.path.isdir(here) or os.path.islink(here):
        here = os.path.dirname(here)
    for d in _self_and_parents(here):
        for name in CONFIG_NAMES:
            p = os.path.join(d, name)
            if not os.path.isfile(p):
                continue
            if name == "pyproject.toml" and not _mentions_keyless(p):
                continue  # no [tool.keyless] possible: not worth a TOML parse per editor check
            data = _read_toml(p)
            if name == "pyproject.toml":
                section = data.get("tool", {}).get("keyless")
                if section is None:
                    continue
                return p, section
            return p, data
    return None, {}


def _self_and_parents(directory: str) -> list[str]:
    """An absolute directory and every directory above it, up to the file system's root."""
    out = [directory]
    parent = os.path.dirname(directory)
    while parent != out[-1]:
        out.append(parent)
        parent = os.path.dirname(parent)
    return out


CONFIG_MAX_BYTES = 4 * 1024 * 1024


def _read_bytes(p: str) -> bytes:
    """A configuration file: a regular file of sane size, read without ever blocking."""
    from keyless.linter.readfile import read_regular_file

    try:
        data = read_regular_file(p, CONFIG_MAX_BYTES)
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if len(data) > CONFIG_MAX_BYTES:
        raise ConfigError(f"{p}: larger than {CONFIG_MAX_BYTES // (1024 * 1024)} MB, not a configuration file")
    return data


def _mentions_keyless(p: str) -> bool:
    try:
        return b"keyless" in _read_bytes(p)
    except ConfigError:
        return True  # let _read_toml report it


def _read_toml(p: str) -> dict[str, Any]:
    import tomllib  # only when a config file exists

    data = _read_bytes(p)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        # pyproject.toml is also a scanned file that may hold a credential: keep the kind and the
        # position, drop any quoted source (tomllib quotes the offending character or escape).
        detail = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "...", str(exc))
        raise ConfigError(f"{p}: invalid TOML: {detail}") from None
    except RecursionError:
        raise ConfigError(f"{p}: invalid TOML: nested too deeply") from None


def git_root(start: str) -> str | None:
    here = os.path.realpath(start)
    if os.path.isfile(here) or not os.path.exists(here):
        here = os.path.dirname(here)
    for d in _self_and_parents(here):
        if os.path.exists(os.path.join(d, ".git")):
            return d
    return None


def _plain_root(start: str) -> str:
    """The root of a path in no project: the current directory, unless the path lies outside it
    (`keyless check /other/dir` from elsewhere): then the path's own directory, so the files it
    names are inside the root (fixes write them, links leaving it stay refused)."""
    cwd = os.getcwd()
    here = os.path.realpath(start)
    if not os.path.isdir(here):
        here = os.path.dirname(here)
    real_cwd = os.path.realpath(cwd)
    if here == real_cwd or here.startswith(real_cwd.rstrip(os.sep) + os.sep):
        return cwd
    return here


def validate(section: dict[str, Any], where: str) -> None:
    if not section:
        return
    import jsonschema  # lazy: only when a config section exists

    with open(os.path.join(os.path.dirname(__file__), "config_schema.json"), encoding="utf-8") as fh:
        schema = json.load(fh)
    try:
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(section), key=lambda e: list(e.path))
    except RecursionError:
        raise ConfigError(f"{where}: a value is nested too deeply") from None
    if errors:
        err = errors[0]
        key = ".".join(str(p) for p in err.path)
        if err.validator == "additionalProperties":
            extra = sorted(set(section) - set(schema["properties"]))
            raise ConfigError(f"{where}: unknown key {extra[0]!r} in keyless configuration")
        raise ConfigError(f"{where}: invalid value for {key or 'configuration'!r}: {err.message}")


def load_config(start: str = ".", explicit: str | None = None) -> Config:
    if explicit:
        from pathlib import Path  # its spelling of the path names the file in messages, as before

        p = Path(explicit)
        if not p.is_file():
            raise ConfigError(f"config file not found: {explicit}")
        data = _read_toml(str(p))
        section = data.get("tool", {}).get("keyless", {}) if p.name == "pyproject.toml" else data
        path: str | None = str(p.resolve())
        root = os.getcwd()
        project_root = True
    else:
        path, section = find_config(start)
        repo = None if path else git_root(start)
        root = os.path.dirname(path) if path else (repo or _plain_root(start))
        project_root = bool(path or repo)
    validate(section, path or "configuration")
    from keyless.linter.config_extend import resolve_extends

    section, origins, extends = resolve_extends(section, path, root, read=_read_toml, validate=validate,
                                                error=ConfigError)
    cfg = Config(path=path, root=root, raw=section, origins=origins, extends=extends,
                 project_root=project_root)
    cfg.select = section.get("select")
    cfg.extend_select = section.get("extend-select", [])
    cfg.ignore = section.get("ignore", [])
    cfg.per_file_ignores = section.get("per-file-ignores", {})
    cfg.exclude = section.get("exclude")
    cfg.extend_exclude = section.get("extend-exclude", [])
    cfg.respect_gitignore = section.get("respect-gitignore", True)
    if "max-file-size" in section:
        cfg.max_file_size = parse_size(section["max-file-size"])
    if "severity" in section:
        cfg.severity = Severity(section["severity"])
    cfg.output_format = section.get("output-format")
    cfg.follow_symlinks = section.get("follow-symlinks", False)
    for key in ("baseline", "cache-dir"):
        value = section.get(key)
        if value is None:
            continue
        resolved, problem = _project_path(value, path, key)
        setattr(cfg, key.replace("-", "_"), resolved)
        if problem:
            cfg.refused[key] = problem
    return cfg


def _project_path(value: str, config_path: str | None, key: str) -> tuple[str, str | None]:
    """A path from a configuration file, resolved against the file's directory (as ruff does), and
    why it is refused when it leaves the project: the git work tree holding the file, or the file's
    directory outside git. Symbolic links are resolved before the check."""
    base = os.path.dirname(os.path.abspath(config_path)) if config_path else os.getcwd()
    resolved = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
    boundary = git_root(base) or base
    real, top = os.path.realpath(resolved), os.path.realpath(boundary)
    try:
        inside = os.path.commonpath([real, top]) == top
    except ValueError:  # another drive
        inside = False
    if inside:
        return resolved, None
    return resolved, (f"{config_path or 'configuration'}: {key} = {value!r} is outside the project ({boundary}); "
                      f"a configuration file may not point keyless there, pass --{key} on the command line instead")


def default_cache_dir() -> str:
    """The user cache location (XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on Windows)."""
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(os.environ.get("LOCALAPPDATA", ""), "keyless") if sys.platform == "win32"
        else os.path.join(os.path.expanduser("~"), "Library", "Caches") if sys.platform == "darwin"
        else os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.join(base, "keyless")
