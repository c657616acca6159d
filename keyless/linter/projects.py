"""Project boundaries inside one scan: where one repository or project ends and another begins.

A scan of a folder that holds several repositories side by side (or a repository that vendors
another) must not link one project's code to another project's deployments. A directory below
the scan root starts a project of its own when it holds:

- `.git` (a directory, or the file a submodule or worktree has): a nested repository;
- a keyless configuration (`.keyless.toml`, `keyless.toml`, a `pyproject.toml` with
  `[tool.keyless]`): a nested configuration root;
- `azure.yaml` / `azure.yml`: an azd project, whose services and infrastructure live below it.

A file belongs to the deepest such directory above it, or to the scan's root project (""). The
boundaries are computed once per run from the scanned paths plus one `lstat` per directory that
holds (or is above) a file with facts, and they are part of the project rules' cache digest.
"""

from __future__ import annotations

import os
import posixpath
from typing import Iterable

MARKER_FILES = frozenset({"azure.yaml", "azure.yml", ".keyless.toml", "keyless.toml"})


def _parent(path: str) -> str:
    return posixpath.dirname(path) if "/" in path else ""


def _ancestors(relpath: str) -> Iterable[str]:
    d = _parent(relpath)
    while d and d != "/":
        yield d
        d = _parent(d)


def _mentions_keyless_section(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return b"[tool.keyless" in fh.read(1_000_000)
    except OSError:
        return False


def find_boundaries(root: str, relpaths: Iterable[str], fact_paths: Iterable[str]) -> frozenset[str]:
    """Directories (spelled like the scan's relpaths) that start a project of their own.
    `relpaths`: every scanned file; `fact_paths`: the files whose facts project rules read (only
    their directories and those above are checked for `.git`)."""
    found: set[str] = set()
    for rel in relpaths:
        name = rel.rsplit("/", 1)[-1]
        if name in MARKER_FILES or (name == "pyproject.toml" and _mentions_keyless_section(
                rel if os.path.isabs(rel) else os.path.join(root, rel))):
            d = _parent(rel)
            if d:
                found.add(d)
    checked: set[str] = set()
    for rel in fact_paths:
        for d in _ancestors(rel):
            if d in checked:
                break  # its ancestors were checked with it
            checked.add(d)
            full = d if os.path.isabs(d) else os.path.join(root, d)
            if os.path.lexists(os.path.join(full, ".git")):
                found.add(d)
    return frozenset(found)


def project_of(path: str, boundaries: frozenset[str], memo: dict[str, str] | None = None) -> str:
    """The project directory `path` belongs to: its deepest boundary, or "" (the scan's root)."""
    d = _parent(path)
    if memo is not None and d in memo:
        return memo[d]
    found = ""
    probe = d
    while probe and probe != "/":
        if probe in boundaries:
            found = probe
            break
        probe = _parent(probe)
    if memo is not None:
        memo[d] = found
    return found


def within(path: str, project: str) -> str:
    """`path` relative to its project directory (the path itself for the root project)."""
    return path[len(project) + 1:] if project and path.startswith(project + "/") else path
