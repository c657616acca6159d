"""`extend = "../keyless-base.toml"`: share a base configuration (README, "Configuration").

The file named by `extend` (a `.keyless.toml`/`keyless.toml`, or a `pyproject.toml` with a
`[tool.keyless]` section) is read first, then the extending file's keys replace the base's, key
by key; `extend-select` and `extend-exclude` add to the base's lists, as their names say. A base
may extend another; a cycle is an error. Paths in a file resolve from that file's directory:
`baseline` and `cache-dir` become absolute, and anchored globs (`exclude`, `extend-exclude`,
`per-file-ignores` keys that contain a `/`) are re-anchored to the project root (a glob that can
match nothing under the project root is dropped; one without a `/` matches at any depth anywhere
and stays as it is).
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from typing import Any, Callable

ACCUMULATED = ("extend-select", "extend-exclude")
GLOB_LISTS = ("exclude", "extend-exclude")
PATHS = ("baseline", "cache-dir")


def resolve_extends(section: dict[str, Any], path: str | None, root: str, *,
                    read: Callable[[str], dict[str, Any]], validate: Callable[[dict, str], None],
                    error: type[Exception]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(merged section, key -> the file that set it, the base files in order) for the section
    read from `path`, whose own paths resolve from `root`."""
    if path is None or "extend" not in section:
        return section, {key: path or "" for key in section}, []
    chain: list[tuple[str, str, dict[str, Any]]] = [(path, root, section)]  # (file, directory, section)
    seen = [os.path.realpath(path)]
    current_path, current = path, section
    while "extend" in current:
        target = current["extend"]
        if not isinstance(target, str) or not target.strip():
            raise error(f"{current_path}: `extend` must name a configuration file")
        base = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(current_path)),
                                             os.path.expanduser(target)))
        if not os.path.isfile(base):
            raise error(f"{current_path}: `extend` names {target!r}, which is not a file")
        real = os.path.realpath(base)
        if real in seen:
            cycle = " -> ".join([*(os.path.basename(s) for s in seen), os.path.basename(real)])
            raise error(f"{current_path}: `extend` makes a cycle ({cycle})")
        seen.append(real)
        data = read(base)  # absolute and normalised
        if os.path.basename(base) == "pyproject.toml":
            data = data.get("tool", {}).get("keyless")
            if data is None:
                raise error(f"{current_path}: `extend` names {target!r}, which has no [tool.keyless] section")
        validate(data, base)
        chain.append((base, os.path.dirname(base), data))
        current_path, current = base, data

    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for file, directory, sec in reversed(chain):
        for key, value in _rebased(sec, directory, root).items():
            if key == "extend":
                continue
            if key in ACCUMULATED and key in merged:
                merged[key] = merged[key] + value
                origins[key] = f"{origins[key]}, {file}"
            else:
                merged[key] = value
                origins[key] = file
    return merged, origins, [file for file, _, _ in chain[1:]]


def _rebased(section: dict[str, Any], directory: str, root: str) -> dict[str, Any]:
    """The section with its paths resolved from `directory` and its globs re-anchored to `root`."""
    if os.path.realpath(directory) == os.path.realpath(root):
        return section
    out = dict(section)
    for key in PATHS:
        if isinstance(out.get(key), str):
            out[key] = os.path.normpath(os.path.join(directory, os.path.expanduser(out[key])))
    for key in GLOB_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [g for g in (rebase_glob(p, directory, root) for p in out[key]) if g is not None]
    if isinstance(out.get("per-file-ignores"), dict):
        rebased = {}
        for glob, codes in out["per-file-ignores"].items():
            new = rebase_glob(glob, directory, root)
            if new is not None:
                rebased[new] = codes
        out["per-file-ignores"] = rebased
    return out


def rebase_glob(pattern: str, from_dir: str, to_dir: str) -> str | None:
    """A gitignore-style `pattern` written relative to `from_dir`, as a pattern relative to
    `to_dir`; None when it cannot match anything under `to_dir`."""
    from_dir, to_dir = os.path.realpath(from_dir), os.path.realpath(to_dir)
    if from_dir == to_dir:
        return pattern
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    stripped = body.rstrip("/")
    trailing = body[len(stripped):]
    if "/" not in stripped:  # not anchored: matches at any depth, under any directory
        return pattern
    parts = [p for p in stripped.lstrip("/").split("/") if p]
    try:
        down = os.path.relpath(from_dir, to_dir)
    except ValueError:  # another drive
        return None
    if not down.startswith(".."):  # the pattern's directory is inside the project
        new = [*down.replace(os.sep, "/").split("/"), *parts]
    else:
        up = os.path.relpath(to_dir, from_dir)
        if up.startswith(".."):  # unrelated directories
            return None
        rest = _strip(parts, up.replace(os.sep, "/").split("/"))
        if not rest:
            return None
        new = rest
    return ("!" if negated else "") + "/" + "/".join(new) + trailing


def _strip(parts: list[str], prefix: list[str]) -> list[str] | None:
    """`parts` (pattern segments) with the directories `prefix` consumed, or None when the
    pattern cannot lead under `prefix`."""
    for directory in prefix:
        if not parts:
            return None
        if parts[0] == "**":  # any number of directories: it can lead anywhere below
            return parts
        if not fnmatchcase(directory, parts[0]):
            return None
        parts = parts[1:]
    return parts
