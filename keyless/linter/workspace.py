"""The other files of a scan that a document may read: its companions.

Some files only mean something together with others: a Terraform module is a whole directory
(`var.*` and `local.*` are declared in sibling files, `terraform.tfvars` sets them), an ARM
template is deployed with a parameter file, a Helm template reads the chart's `values.yaml`.
Rules reach those through `doc.workspace`:

- `names(reldir)`: the file names the scan holds in a directory;
- `load(relpath)`: that file as a parsed Document (or None), parsed once per process;
- `derived(key, fn)`: a value computed once per process from companions (e.g. a module's
  variables), whose dependencies are replayed on every later use.

Every listing and file a document's rules touched is recorded as a dependency of that document's
result, so the cache invalidates `main.tf` when `variables.tf` changes or `terraform.tfvars`
appears. Only files the scan itself would lint are companions (same excludes, same .gitignore);
stdin mode, which has no discovery, reads the directory on disk, and the language server adds the
editor's open buffers on top (unsaved edits count).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

# Parsed companions kept per process. Module callers walk a module's files once per call, so the
# whole module tree of a repository must fit or every caller parses it again (LRU never hits on a
# cyclic walk wider than the cap); MAX_CHARS bounds the memory.
MAX_DOCS = 1024
MAX_CHARS = 24_000_000  # and their total text size
MAX_COMPANION_BYTES = 5 * 1024 * 1024


def reldir_of(relpath: str) -> str:
    return relpath.rsplit("/", 1)[0] if "/" in relpath else ""


def join(reldir: str, name: str) -> str:
    return f"{reldir}/{name}" if reldir else name


def _listing_signature(names: Iterable[str]) -> str:
    return hashlib.sha1("\0".join(sorted(names)).encode("utf-8", "surrogateescape")).hexdigest()[:16]


class Workspace:
    """Companion access for one process. `listing`: reldir -> {name: (path, size, mtime_ns)} from
    discovery; None reads the disk under `root` (stdin and editor mode). `buffers`: absolute path ->
    text of files open in an editor, which win over the disk (unsaved edits count)."""

    def __init__(self, root: str, listing: dict[str, dict[str, tuple[str, int, int]]] | None = None,
                 max_size: int = MAX_COMPANION_BYTES, buffers: dict[str, str] | None = None):
        self.root = root
        self.listing = listing
        self.max_size = max_size
        self.buffers = buffers or {}
        self._docs: OrderedDict[str, Any] = OrderedDict()
        self._chars = 0
        self._derived: dict[Any, tuple[Any, dict]] = {}
        self._deps: dict[str, Any] | None = None
        self._owner: Any = None
        self._listing_sigs: dict[str, str] = {}  # a scan's listing does not change while it runs
        self._parse_frames: list[dict[str, Any]] = []  # documents being parsed right now

    @classmethod
    def from_candidates(cls, root: str, cands: Iterable[Any], max_size: int = MAX_COMPANION_BYTES) -> "Workspace":
        listing: dict[str, dict[str, tuple[str, int, int]]] = {}
        for c in cands:
            d, _, name = c.relpath.rpartition("/")
            listing.setdefault(d, {})[name] = (c.path, c.size, c.mtime_ns)
        return cls(root, listing, max_size)

    # ---- dependency recording ------------------------------------------------------------------
    def begin(self, doc: Any) -> None:
        """Start recording what the rules of `doc` read (starting with what parsing it read, even
        when it was parsed earlier as another file's companion)."""
        self._owner = doc
        self._deps = dict(doc.memo.get("workspace.parse_deps") or {})

    def end(self) -> dict[str, Any]:
        deps, self._deps, self._owner = self._deps or {}, None, None
        return deps

    def _record(self, key: str, value: Any) -> None:
        if self._deps is not None:
            self._deps[key] = value
        for frame in self._parse_frames:
            frame[key] = value

    @contextmanager
    def parsing(self, doc: Any) -> Iterator[None]:
        """Around a document's parse: what it reads (a Helm chart's values.yaml...) is remembered on
        the document, so its own result depends on it whoever triggered the parse."""
        frame: dict[str, Any] = {}
        self._parse_frames.append(frame)
        try:
            yield
        finally:
            self._parse_frames.pop()
            if frame:
                doc.memo["workspace.parse_deps"] = frame

    def signature(self, key: str) -> Any:
        """The current value of a recorded dependency (`d:<reldir>` or `f:<relpath>`)."""
        kind, _, target = key.partition(":")
        if kind == "d":
            if self.listing is None:
                return _listing_signature(self._names(target))
            sig = self._listing_sigs.get(target)
            if sig is None:
                sig = self._listing_sigs[target] = _listing_signature(self._names(target))
            return sig
        stat = self._stat(target)
        return None if stat is None else [stat[1], stat[2]]

    def unchanged(self, deps: dict[str, Any]) -> bool:
        return all(self.signature(k) == v for k, v in deps.items())

    # ---- listings and files --------------------------------------------------------------------
    def _names(self, reldir: str) -> list[str]:
        if self.listing is not None:
            return list(self.listing.get(reldir, ()))
        directory = os.path.join(self.root, reldir) if not os.path.isabs(reldir) else reldir
        try:
            with os.scandir(directory) as it:
                found = [e.name for e in it if e.is_file() and (not e.is_symlink() or self._inside(e.path))]
        except OSError:
            found = []
        if self.buffers:  # a new file not saved yet
            found += [os.path.basename(p) for p in self.buffers
                      if os.path.dirname(p) == directory and os.path.basename(p) not in found]
        return found

    def _stat(self, relpath: str) -> tuple[str, int, int] | None:
        if self.listing is not None:
            d, _, name = relpath.rpartition("/")
            return self.listing.get(d, {}).get(name)
        path = relpath if os.path.isabs(relpath) else os.path.join(self.root, relpath)
        if path in self.buffers:
            return (path, len(self.buffers[path]), -1)  # an editor buffer: no mtime
        try:
            st = os.stat(path)
            if os.path.islink(path) and not self._inside(path):
                return None  # as discovery does: a link leaving the project is not followed
        except OSError:
            return None
        return (path, st.st_size, st.st_mtime_ns)

    def _inside(self, path: str) -> bool:
        real, top = os.path.realpath(path), os.path.realpath(self.root)
        try:
            return os.path.commonpath([real, top]) == top
        except ValueError:
            return False

    def names(self, reldir: str) -> frozenset[str]:
        found = self._names(reldir)
        self._record(f"d:{reldir}", _listing_signature(found))
        return frozenset(found)

    def load(self, relpath: str) -> Any | None:
        """The companion at `relpath`, parsed lazily like any document; None when the scan does not
        hold it, it cannot be read, or it is too big."""
        stat = self._stat(relpath)
        self._record(f"f:{relpath}", None if stat is None else [stat[1], stat[2]])
        if self._owner is not None and relpath == self._owner.relpath:
            return self._owner  # a module's context includes the file being linted
        if stat is None:
            return None
        doc = self._docs.get(relpath)
        if doc is not None and doc.memo.get("workspace.stat") == stat:
            self._docs.move_to_end(relpath)
            return doc
        path, size, _ = stat
        if size > self.max_size:
            return None
        from keyless.linter.documents import BinaryFile, decode, make_document

        if path in self.buffers:
            doc = make_document(path, relpath, self.buffers[path])
            doc.workspace = self
            doc.memo["workspace.stat"] = stat
            return doc
        from keyless.linter.readfile import read_regular_file

        try:
            data = read_regular_file(path, self.max_size)  # never a FIFO or device, never blocks
            if len(data) > self.max_size:
                return None
            text, fmt = decode(data)
        except (OSError, BinaryFile):
            return None
        doc = make_document(path, relpath, text, fmt)
        doc.workspace = self
        doc.memo["workspace.stat"] = stat
        doc.memo["workspace.sha256"] = hashlib.sha256(data).hexdigest()  # lets the engine lint it as is
        self.keep(doc)
        return doc

    def keep(self, doc: Any) -> None:
        """Hold a parsed document so a later companion lookup does not parse it again."""
        stat = doc.memo.get("workspace.stat") or self._stat(doc.relpath)
        if stat is None:
            return
        doc.memo["workspace.stat"] = stat
        old = self._docs.pop(doc.relpath, None)
        if old is not None:
            self._chars -= len(old.text)
        self._docs[doc.relpath] = doc
        self._chars += len(doc.text)
        while self._docs and (len(self._docs) > MAX_DOCS or self._chars > MAX_CHARS):
            _, gone = self._docs.popitem(last=False)
            self._chars -= len(gone.text)

    def held(self, relpath: str, size: int, mtime_ns: int) -> Any | None:
        """A document already parsed as a companion, if the file has not changed since."""
        doc = self._docs.get(relpath)
        if doc is None:
            return None
        stat = doc.memo.get("workspace.stat")
        return doc if stat is not None and stat[1] == size and stat[2] == mtime_ns else None

    def derived(self, key: Any, compute: Callable[[], Any]) -> Any:
        """`compute()` once per process; the dependencies it recorded are replayed on each use."""
        hit = self._derived.get(key)
        if hit is not None and self.unchanged(hit[1]):
            for k, v in hit[1].items():
                self._record(k, v)
            return hit[0]
        outer, self._deps = self._deps, {}
        try:
            value = compute()
        finally:
            inner, self._deps = self._deps or {}, outer
        self._derived[key] = (value, inner)
        for k, v in inner.items():
            self._record(k, v)
        return value
