"""Result cache: per-file results keyed by content hash + resolved settings + keyless version.

One JSON file per (settings, version) under the user cache directory. An entry stores the file's
mtime/size (to skip re-reading unchanged files), its SHA-256, and the secret-free result: findings
(messages are already redacted), facts and suppression lines. Written atomically.
"""

from __future__ import annotations

import json
import os
import sys

from keyless import __version__
from keyless.linter.config import default_cache_dir
from keyless.linter.discovery import Candidate
from keyless.linter.engine import FileResult, Settings
from keyless.linter.finding import Applicability, Category, Edit, Finding, Fix, Position, Severity, Span
from keyless.linter.rule import Fact

FORMAT = 3


def code_stamp() -> str:
    """The code that computed cached results: keyless's own modules (a development checkout changes
    them without a new version number) and the installed rule plugins."""
    import hashlib

    from keyless.linter.rule import plugin_entry_points

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = [f"{name}={value}" for name, value in plugin_entry_points()]
    for directory, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                st = os.stat(os.path.join(directory, name))
                parts.append(f"{os.path.relpath(os.path.join(directory, name), package)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def finding_to_json(f: Finding) -> list:
    """Compact (a list, not a dict): a warm rescan parses thousands of these."""
    sp = f.span
    fix = None
    if f.fix is not None:
        fix = [f.fix.message, f.fix.applicability.value, f.fix.lazy,
               [[e.span.start.line, e.span.start.column, e.span.end.line, e.span.end.column, e.content]
                for e in f.fix.edits]]
    return [f.code, f.name, f.category.value, f.severity.value, f.message, f.path,
            sp.start.line, sp.start.column, sp.end.line, sp.end.column, f.fingerprint, fix, f.fix_data]


def finding_from_json(d: list) -> Finding:
    code, name, category, severity, message, path, l1, c1, l2, c2, fingerprint, fx, fix_data = d
    fix = None
    if fx:
        fix = Fix(fx[0], Applicability(fx[1]),
                  tuple(Edit(Span(Position(a, b), Position(c, e)), content) for a, b, c, e, content in fx[3]), fx[2])
    return Finding(code, name, Category(category), Severity(severity), message, path,
                   Span(Position(l1, c1), Position(l2, c2)), fingerprint, fix, fix_data)


class Cache:
    """Two files per (root, settings, version): `<key>.json` (per-file stat, findings, digests,
    project findings, discovery memo) and `<key>.facts.json` (every file's facts), which a warm
    rescan never reads: when no file's facts digest changed, the project findings are reused."""

    def __init__(self, path: str, data: dict):
        self.path = path
        self.files: dict = data.get("files") if isinstance(data.get("files"), dict) else {}
        self.project = data.get("project") if isinstance(data.get("project"), dict) else None
        self.discovery = data.get("discovery") if isinstance(data.get("discovery"), dict) else {}
        self._facts: dict | None = None  # relpath -> facts, loaded on demand
        self.dirty = False
        self.facts_dirty = False

    @classmethod
    def open(cls, directory: str | None, settings: Settings) -> "Cache":
        directory = directory or default_cache_dir()
        py = f"{sys.version_info[0]}{sys.version_info[1]}"
        import hashlib

        root_key = hashlib.sha256(settings.root.encode()).hexdigest()[:12]
        path = os.path.join(directory, f"v{FORMAT}-{__version__}-py{py}",
                            f"{root_key}-{settings.key()}-{code_stamp()}.json")
        data: dict = {}
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError, RecursionError):  # unreadable or damaged: start afresh
            data = {}
        return cls(path, data)

    @property
    def facts_path(self) -> str:
        return self.path[: -len(".json")] + ".facts.json"

    def exclude_pattern(self, root: str) -> str | None:
        """The cache directory, as an exclude, when it lives inside the scanned tree."""
        top = os.path.dirname(os.path.dirname(os.path.abspath(self.path)))
        rel = os.path.relpath(top, root)
        if rel.startswith("..") or os.path.isabs(rel):
            return None
        return "/" + rel.replace(os.sep, "/") + "/"

    # ---- per-file results ---------------------------------------------------------------------------
    def get(self, c: Candidate, workspace=None) -> FileResult | None:
        e = self.files.get(c.relpath)
        if not e or e[0] != c.mtime_ns or e[1] != c.size:
            return None
        try:
            mtime, size, sha, deps, facts_sha, findings, suppressions, error, error_line, error_kind, note = e
            if deps and (workspace is None or not workspace.unchanged(deps)):
                return None  # a companion (sibling module file, parameter file...) changed
            return FileResult(
                relpath=c.relpath,
                findings=[finding_from_json(f) for f in findings],
                suppressions={int(k): frozenset(v) for k, v in suppressions.items()} if suppressions else {},
                error=error, error_line=error_line, error_kind=error_kind or "", note=note, size=c.size,
                content_hash=sha, deps=deps or {}, facts_sha=facts_sha, facts_pending=facts_sha != EMPTY_FACTS,
                facts_source=self,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, c: Candidate, r: FileResult) -> None:
        facts_sha = r.facts_digest()
        self.files[c.relpath] = [
            c.mtime_ns, c.size, r.content_hash, r.deps, facts_sha,
            [finding_to_json(f) for f in r.findings],
            {str(k): sorted(v) for k, v in r.suppressions.items()},
            r.error, r.error_line, r.error_kind, r.note,
        ]
        self.dirty = True
        facts = self._load_facts()
        if r.facts:
            facts[c.relpath] = [[f.kind, f.path, f.data] for f in r.facts]
            self.facts_dirty = True
        elif facts.pop(c.relpath, None) is not None:
            self.facts_dirty = True

    def _load_facts(self) -> dict:
        if self._facts is None:
            try:
                with open(self.facts_path, encoding="utf-8") as fh:
                    loaded = json.load(fh)
                self._facts = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError, RecursionError):
                self._facts = {}
        return self._facts

    def fill_facts(self, results: list[FileResult]) -> list[FileResult]:
        """Give cached results their facts back (project rules must run). Returns the results whose
        facts the facts file no longer holds (deleted by hand...): the caller lints them again."""
        facts = self._load_facts()
        missing = []
        for r in results:
            if not r.facts_pending:
                continue
            stored = facts.get(r.relpath)
            if stored is None:
                missing.append(r)
                continue
            r.facts = [Fact(k, p, d) for k, p, d in stored]
            r.facts_pending = False
        return missing

    # Project findings are stored under a digest of every file's facts: a warm rescan with no
    # fact changed skips building the project model.
    def project_findings(self, digest: str) -> list[Finding] | None:
        e = self.project
        if not e or e.get("digest") != digest:
            return None
        try:
            return [finding_from_json(f) for f in e["findings"]]
        except (KeyError, TypeError, ValueError):
            return None

    def put_project_findings(self, digest: str, findings: list[Finding]) -> None:
        self.project = {"digest": digest, "findings": [finding_to_json(f) for f in findings]}
        self.dirty = True

    def discovery_memo(self) -> dict:
        """Directory listings discovery may reuse (keyless.linter.discovery.discover)."""
        return self.discovery

    def save(self) -> None:
        from keyless.linter.fixes import write_text_atomic

        try:
            if self.facts_dirty and self._facts is not None:
                # Facts first: an interrupted save then leaves an index whose facts are all present.
                write_text_atomic(self.facts_path, json.dumps(self._facts, separators=(",", ":")))
                self.facts_dirty = False
            if self.dirty:
                data = {"files": self.files, "project": self.project, "discovery": self.discovery}
                write_text_atomic(self.path, json.dumps(data, separators=(",", ":")))
                self.dirty = False
        except OSError:
            pass  # a read-only cache location only costs speed


EMPTY_FACTS = FileResult("").facts_digest()
