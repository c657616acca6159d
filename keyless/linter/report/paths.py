"""Which directory report paths are relative to (docs/output-formats.md, "Paths").

The engine works relative to the project root (the directory of the configuration in use, else
the git work tree, else the current directory). Reports do not: a CI platform resolves paths
from the repository root, and a person reads them from where they stand.

- Machine formats (json, sarif, github, azure, junit, gitlab): relative to the **repository
  root**, the top of the git work tree holding the project root (the nearest directory with a
  `.git` entry: a submodule or a linked worktree counts as its own repository, as
  `git rev-parse --show-toplevel` says), else the project root. SARIF names that directory
  `%SRCROOT%` in `originalUriBaseIds`.
- text: relative to the current directory, like ruff; a file outside it keeps its absolute path.

A path outside the chosen directory is absolute in every format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from keyless.linter.config import git_root
from keyless.linter.discovery import relative_to


@dataclass(frozen=True)
class ReportBase:
    root: str  # absolute directory report paths are relative to
    project_dir: str  # the project root relative to the repository root, '/'-separated ("" if the same)


def repository_root(project_root: str) -> str:
    return git_root(project_root) or os.path.realpath(project_root)


def report_base(project_root: str, fmt: str, cwd: str | None = None) -> ReportBase:
    project = os.path.realpath(project_root)
    repo = os.path.realpath(repository_root(project))
    rel = relative_to(project, repo)
    project_dir = "" if rel in (".", "") or os.path.isabs(rel) or rel.startswith("/") else rel
    root = os.path.realpath(cwd or os.getcwd()) if fmt == "text" else repo
    return ReportBase(root=root, project_dir=project_dir)


def rebase(path: str, project_root: str, base: str) -> str:
    """`path` (relative to `project_root`, or absolute) relative to `base`; a pseudo path such as
    `<project>` is unchanged. Both directories are absolute and resolved (os.path.realpath)."""
    if path.startswith("<") and path.endswith(">"):
        return path
    absolute = path if os.path.isabs(path) else os.path.join(project_root, path)
    rel = relative_to(absolute, base)
    return "." if rel == "" else rel
