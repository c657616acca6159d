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
        # The path below the package by slicing (os.path.relpath per file cost an editor's check ~1 ms).
        prefix = directory[len(package) + 1:] + os.sep if directory != package else ""
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                st = os.stat(os.path.join(directory, name))
                parts.append(f"{prefix}{name}:{st.st_size}:{st.st_mtime_ns}")
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


PROJECT_ENTRIES = 8  # project findings kept: the full run's and those of recent one-by-one runs
FACT_SHARDS = 64  # the facts are split so a run that changes one file's facts rewrites one shard


def _shard(relpath: str) -> int:
    import zlib

    return zlib.crc32(relpath.encode("utf-8", "surrogateescape")) % FACT_SHARDS


class Cache:
    """Per (root, settings, version): `<key>.json` (per-file stat, findings, digests, the digests
    of stored project findings, discovery memo), `<key>.facts/NN.json` (every file's facts, in
    shards by path), which a warm rescan never reads: when no file's facts digest changed, the
    project findings (`<key>.project-<digest>.json`) are reused.

    `facts_only` entries are files a run that names files one by one only needed the facts of
    (keyless.linter.context): stat, dependencies and facts digest, no findings."""

    def __init__(self, path: str, data: dict):
        self.path = path
        self.files: dict = data.get("files") if isinstance(data.get("files"), dict) else {}
        self.facts_only: dict = data.get("facts_only") if isinstance(data.get("facts_only"), dict) else {}
        project = data.get("project")
        # Digests of the stored project findings, newest first; each lives in its own file (a run
        # over one file does not read the whole repository's).
        self.project: list[str] = [d for d in project if isinstance(d, str)] if isinstance(project, list) else []
        self._project_new: dict[str, list] = {}  # written by save()
        self.discovery = data.get("discovery") if isinstance(data.get("discovery"), dict) else {}
        self._shards: dict[int, dict] = {}  # shard -> {relpath: facts}, loaded on demand
        self._dirty_shards: set[int] = set()
        self.dirty = False
        self.entries_dirty = False  # a file's entry changed (not only project findings or the memo)

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
    def facts_dir(self) -> str:
        return self.path[: -len(".json")] + ".facts"

    def _shard_path(self, shard: int) -> str:
        return os.path.join(self.facts_dir, f"{shard:02d}.json")

    @property
    def facts_dirty(self) -> bool:
        return bool(self._dirty_shards)

    def project_path(self, digest: str) -> str:
        return self.path[: -len(".json")] + f".project-{digest[:24]}.json"

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

    def get_facts(self, c: Candidate, workspace=None) -> FileResult | None:
        """A file's facts (loaded when the project rules need them) when neither the file nor
        what it read changed: from its full result or its facts-only entry."""
        e = self.files.get(c.relpath) or self.facts_only.get(c.relpath)
        if not e or e[0] != c.mtime_ns or e[1] != c.size:
            return None
        try:
            deps, facts_sha = e[3], e[4]
            if deps and (workspace is None or not workspace.unchanged(deps)):
                return None
            return FileResult(relpath=c.relpath, size=c.size, deps=deps or {}, facts_sha=facts_sha,
                              facts_pending=facts_sha != EMPTY_FACTS, facts_source=self)
        except (IndexError, TypeError, ValueError):
            return None

    def put_facts(self, c: Candidate, r: FileResult) -> None:
        old = self._facts_sha(c.relpath)
        self.files.pop(c.relpath, None)  # its findings (if any) were for other bytes
        self.facts_only[c.relpath] = [c.mtime_ns, c.size, None, r.deps, r.facts_digest()]
        self.dirty = self.entries_dirty = True
        self._store_facts(c.relpath, r, old)

    def prune_facts_only(self, keep: set[str]) -> None:
        """Forget facts-only entries of files a listing of the whole root no longer holds."""
        gone = [rel for rel in self.facts_only if rel not in keep]
        if not gone:
            return
        for rel in gone:
            del self.facts_only[rel]
            if rel not in self.files:
                shard = _shard(rel)
                if self._facts(shard).pop(rel, None) is not None:
                    self._dirty_shards.add(shard)
        self.dirty = self.entries_dirty = True

    def put(self, c: Candidate, r: FileResult) -> None:
        facts_sha = r.facts_digest()
        old = self._facts_sha(c.relpath)
        self.facts_only.pop(c.relpath, None)
        self.files[c.relpath] = [
            c.mtime_ns, c.size, r.content_hash, r.deps, facts_sha,
            [finding_to_json(f) for f in r.findings],
            {str(k): sorted(v) for k, v in r.suppressions.items()},
            r.error, r.error_line, r.error_kind, r.note,
        ]
        self.dirty = self.entries_dirty = True
        self._store_facts(c.relpath, r, old)

    def _facts_sha(self, relpath: str) -> str | None:
        e = self.files.get(relpath) or self.facts_only.get(relpath)
        try:
            return e[4] if e else None
        except (IndexError, TypeError):
            return None

    def _store_facts(self, relpath: str, r: FileResult, old_sha: str | None) -> None:
        # The facts file is the biggest: read and rewritten only when a file's facts changed.
        if old_sha == r.facts_digest() or (old_sha is None and not r.facts):
            return
        shard = _shard(relpath)
        facts = self._facts(shard)
        if r.facts:
            facts[relpath] = [[f.kind, f.path, f.data] for f in r.facts]
            self._dirty_shards.add(shard)
        elif facts.pop(relpath, None) is not None:
            self._dirty_shards.add(shard)

    def _facts(self, shard: int) -> dict:
        loaded = self._shards.get(shard)
        if loaded is None:
            try:
                with open(self._shard_path(shard), encoding="utf-8") as fh:
                    loaded = json.load(fh)
                if not isinstance(loaded, dict):
                    loaded = {}
            except (OSError, ValueError, RecursionError):
                loaded = {}
            self._shards[shard] = loaded
        return loaded

    def fill_facts(self, results: list[FileResult]) -> list[FileResult]:
        """Give cached results their facts back (project rules must run). Returns the results whose
        facts the facts file no longer holds (deleted by hand...): the caller lints them again."""
        missing = []
        for r in results:
            if not r.facts_pending:
                continue
            stored = self._facts(_shard(r.relpath)).get(r.relpath)
            if stored is None:
                missing.append(r)
                continue
            r.facts = [Fact(k, p, d) for k, p, d in stored]
            r.facts_pending = False
        return missing

    # Project findings are stored under a digest of every file's facts: a warm rescan with no
    # fact changed skips building the project model.
    def project_findings(self, digest: str) -> list[Finding] | None:
        if digest not in self.project:
            return None
        stored = self._project_new.get(digest)
        try:
            if stored is None:
                with open(self.project_path(digest), encoding="utf-8") as fh:
                    stored = json.load(fh)
            return [finding_from_json(f) for f in stored]
        except (OSError, TypeError, ValueError):
            return None

    def put_project_findings(self, digest: str, findings: list[Finding]) -> None:
        self._project_new[digest] = [finding_to_json(f) for f in findings]
        self.project = [digest] + [d for d in self.project if d != digest]
        self.dirty = True

    def discovery_memo(self) -> dict:
        """Directory listings discovery may reuse (keyless.linter.discovery.discover)."""
        return self.discovery

    def save(self) -> None:
        if not (self.dirty or self._dirty_shards or self._project_new or self.project[PROJECT_ENTRIES:]):
            return  # nothing to write (an editor's warm check)
        from keyless.linter.fixes import write_text_atomic

        try:
            # Facts first: an interrupted save then leaves an index whose facts are all present.
            for shard in sorted(self._dirty_shards):
                write_text_atomic(self._shard_path(shard), json.dumps(self._shards[shard], separators=(",", ":")))
            self._dirty_shards.clear()
            for digest, stored in self._project_new.items():
                if digest in self.project[:PROJECT_ENTRIES]:
                    write_text_atomic(self.project_path(digest), json.dumps(stored, separators=(",", ":")))
            self._project_new.clear()
            for digest in self.project[PROJECT_ENTRIES:]:
                try:
                    os.unlink(self.project_path(digest))
                except OSError:
                    pass
            del self.project[PROJECT_ENTRIES:]
            if self.dirty:
                data = {"files": self.files, "facts_only": self.facts_only, "project": self.project,
                        "discovery": self.discovery}
                write_text_atomic(self.path, json.dumps(data, separators=(",", ":")))
                self.dirty = self.entries_dirty = False
        except OSError:
            pass  # a read-only cache location only costs speed


EMPTY_FACTS = FileResult("").facts_digest()
