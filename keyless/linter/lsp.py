"""`keyless server`: the language server (pygls; install the `lsp` extra).

This is the only module that imports pygls/lsprotocol, and only `keyless server` imports it, so the
plain `check` path never pays for them.

What it does:

- lints the editor's in-memory text (never the file on disk) on open, on change (debounced) and on
  save, with the settings `keyless check` would use for that file (closest config file, its root,
  per-file-ignores on the path relative to that root, the baseline if one is configured);
- publishes diagnostics: 0-based ranges in the negotiated position encoding (UTF-16 by default),
  `code` = KL code, `source` = "keyless", the finding's (already redacted) message and secret-free
  `data`; never any source text;
- code actions: a quick fix per finding with a fix (unsafe ones say so in the title; display-only
  ones are shown disabled, with the reason, when the client can show disabled actions, otherwise
  omitted), "suppress with a reason" (inserts a `keyless: ignore[KLxxx]` comment in the file's
  comment syntax on the line above, without a reason: the finding stays, and KL190 reports the
  comment, until the user writes one; clients with snippet edits get the cursor there), and
  `source.fixAll.keyless` (safe fixes only; no built-in rule has one).
  Lazy fixes (libcst rewrites) are materialized only when an action is requested, or when it is
  resolved (`codeAction/resolve`) if the client supports resolving edits;
- reloads the configuration when `.keyless.toml`, `keyless.toml` or `pyproject.toml` change
  (`workspace/didChangeWatchedFiles`, registered dynamically, and on save of those files).
"""

from __future__ import annotations

import asyncio
import bisect
import difflib
import io
import logging
import os
import re
import sys
import tokenize
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from keyless import __version__
from keyless.linter.config import CONFIG_NAMES, Config, ConfigError, git_root, load_config
from keyless.linter.discovery import relative_to
from keyless.linter.documents import Document, make_document
from keyless.linter.engine import SelectorError, Settings, finish, lint_document, resolve_selection, rule_set, \
    settings_from_config
from keyless.linter.finding import Applicability, Category, Finding, Fix, Severity
from keyless.linter.rule import RuleError, load_registry
from keyless.linter.suppression import is_real_reason, parse_directives
from keyless.linter.workspace import Workspace

log = logging.getLogger("keyless.lsp")

SOURCE = "keyless"
FIX_ALL_KIND = "source.fixAll.keyless"
DEFAULT_DEBOUNCE = 0.3  # seconds between the last keystroke and the lint
QUICK_PROJECT_FILES = 200  # more files to read for the project model: publish first, then again

SEVERITY = {
    Severity.CRITICAL: lsp.DiagnosticSeverity.Error,
    Severity.HIGH: lsp.DiagnosticSeverity.Error,
    Severity.MEDIUM: lsp.DiagnosticSeverity.Warning,
    Severity.LOW: lsp.DiagnosticSeverity.Information,
    Severity.INFO: lsp.DiagnosticSeverity.Hint,
}

# Why an unsafe fix is unsafe, by category (linter-conventions §3): replacing a key or connection
# string by an identity, or adding an identity, only keeps working once a role is assigned.
UNSAFE_REASON = {
    Category.SECRET: "needs a role assignment",
    Category.KEY_AUTH: "needs a role assignment",
    Category.MISSING_IDENTITY: "needs a role assignment",
    Category.BROAD_ROLE: "may remove access",
    Category.AMBIGUOUS_IDENTITY: "changes which identity is used",
}

# Editors' language ids for documents without a file name (untitled buffers).
LANGUAGE_KINDS = {
    "python": "python", "yaml": "yaml", "json": "json", "jsonc": "json", "terraform": "hcl",
    "terraform-vars": "hcl", "hcl": "hcl", "dotenv": "env", "properties": "env", "bicep": "bicep",
    "bicep-params": "bicep",
    "shellscript": "shell", "powershell": "powershell", "dockerfile": "dockerfile", "makefile": "makefile",
    "github-actions-workflow": "yaml", "azure-pipelines": "yaml", "dockercompose": "yaml", "jupyter": "notebook",
}


# ---- positions ----------------------------------------------------------------------------------

class Positions:
    """keyless offsets <-> LSP positions for one text, in the client's position encoding.

    Lines are split the way LSP (and keyless's LineIndex) split them: \\n, \\r\\n and lone \\r only
    (not str.splitlines, which also splits on form feeds and U+2028)."""

    def __init__(self, doc: Document, units: Callable[[str], int]):
        self.text = doc.text
        self.lines = doc.lines
        self.units = units

    def position(self, offset: int) -> lsp.Position:
        offset = max(0, min(offset, len(self.text)))
        starts = self.lines.starts
        line = bisect.bisect_right(starts, offset) - 1
        return lsp.Position(line=line, character=self.units(self.text[starts[line]:offset]))

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(start=self.position(start), end=self.position(end))

    def span_range(self, span) -> lsp.Range:
        return self.range(self.lines.offset(span.start), self.lines.offset(span.end))

    def offset(self, pos: lsp.Position) -> int:
        starts = self.lines.starts
        if pos.line < 0:
            return 0
        if pos.line >= len(starts):
            return len(self.text)
        start = starts[pos.line]
        end = self.lines.line_end(pos.line + 1)
        seen = 0
        i = start
        while i < end and seen < pos.character:
            seen += self.units(self.text[i])
            i += 1
        return i


# ---- comments for suppressions ------------------------------------------------------------------

_SLASH_EXT = {
    "js", "mjs", "cjs", "jsx", "ts", "tsx", "java", "cs", "go", "c", "h", "cc", "cpp", "hpp", "rs", "kt",
    "kts", "swift", "scala", "php", "dart", "bicep", "bicepparam", "groovy", "gradle", "jsonc", "fs",
}
_XML_EXT = {"xml", "html", "htm", "config", "csproj", "props", "targets", "md", "xaml", "svg", "resx"}
_DASH_EXT = {"sql", "lua", "hs"}
_REM_EXT = {"bat", "cmd"}
_SEMI_EXT = {"ini"}
_JSON_COMMENT_SUBKINDS = {"arm", "arm-parameters", "appsettings"}  # their tools accept // comments


def comment_style(doc: Document) -> tuple[str, str] | None:
    """(opener, closer) of a line comment in this file, or None when it cannot hold one."""
    name = doc.name.lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if doc.kind in ("python", "yaml", "hcl", "env"):
        return "#", ""
    if doc.kind == "bicep":
        return "//", ""
    if doc.kind == "json":
        if ext == "jsonc" or doc.subkind in _JSON_COMMENT_SUBKINDS:
            return "//", ""
        return None  # plain JSON has no comments: a comment would break the file
    if doc.kind == "notebook":
        return None  # a comment line would break the JSON; write it inside the cell's code instead
    if ext in _SLASH_EXT:
        return "//", ""
    if ext in _XML_EXT:
        return "<!--", " -->"
    if ext in _DASH_EXT:
        return "--", ""
    if ext in _REM_EXT:
        return "REM", ""
    if ext in _SEMI_EXT:
        return ";", ""
    return "#", ""


def _python_line_free(text: str, line: int) -> bool:
    """True when a comment line can go right before `line` without changing the program: the line
    is not inside a multi-line string and does not continue a backslash-continued line."""
    prev = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.start[0] >= line:
                # A logical line ended (NEWLINE), or a line break inside brackets (NL): free.
                # Anything else means `line` continues the previous one with a backslash.
                return prev in (None, tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT) and tok.end[0] >= line:
                return False  # a token (string, f-string part) spans into `line`
            prev = tok.type
    except (tokenize.TokenError, SyntaxError):
        return False  # we cannot tell (e.g. an unclosed triple-quoted string above): do not guess
    return True


_YAML_BLOCK_HEADER = re.compile(r"(?:^|[:\-]\s*|\s)[|>][0-9+\-]*\s*(?:#.*)?$")
_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


def _indent(s: str) -> int:
    return len(s) - len(s.lstrip(" \t"))


def _yaml_line_free(doc: Document, line: int) -> bool:
    """False when `line` is inside a block scalar (`key: |`): a comment there would become text."""
    own = _indent(doc.lines.line_text(line))
    for n in range(line - 1, 0, -1):
        t = doc.lines.line_text(n)
        if not t.strip():
            continue
        if _indent(t) < own:
            return not _YAML_BLOCK_HEADER.search(t.rstrip())
    return True


def _bicep_line_free(doc: Document, line: int) -> bool:
    """A comment line can go above `line` unless it starts inside a multi-line string or a block
    comment."""
    from keyless.linter.documents.bicep import inside_text_block

    return not inside_text_block(doc.text, doc.lines.starts[line - 1])


def _hcl_line_free(doc: Document, line: int) -> bool:
    """False when `line` is inside a heredoc (`<<EOF` ... `EOF`)."""
    marker = None
    for n in range(1, line):
        t = doc.lines.line_text(n)
        if marker is None:
            m = _HEREDOC.search(t)
            if m:
                marker = m.group(1)
        elif t.strip() == marker:
            marker = None
    return marker is None


class SuppressionEdit(NamedTuple):
    start: int  # offsets into the document
    end: int
    text: str
    reason_at: int | None  # where in `text` the reason goes (None: the comment has one already)


def suppression_edit(doc: Document, line: int, code: str) -> SuppressionEdit | None:
    """The edit that adds a suppression comment for `code` on `line`, or None. The comment has no
    reason: it suppresses nothing (and KL190 says so) until the user writes one where `reason_at`
    points; a placeholder would count as a reason and hide the finding unexplained."""
    lines = doc.lines
    if line > 1:
        prev = lines.line_text(line - 1)
        for d in parse_directives(prev):
            if not is_real_reason(d.reason):
                continue
            close = prev.find("]", d.column - 1)
            if close < 0:
                continue
            if code in d.codes:
                return None
            # An existing suppression (with its reason) above: add the code to its list.
            at = lines.starts[line - 2] + close
            return SuppressionEdit(at, at, f", {code}", None)
    style = comment_style(doc)
    if style is None:
        return None
    if doc.kind == "python" and not _python_line_free(doc.text, line):
        return None
    if doc.kind == "yaml" and not _yaml_line_free(doc, line):
        return None
    if doc.kind == "hcl" and not _hcl_line_free(doc, line):
        return None
    if doc.kind in ("shell", "powershell", "dockerfile", "makefile") and not _script_line_free(doc, line):
        return None
    if doc.kind == "bicep" and not _bicep_line_free(doc, line):
        return None
    target = lines.line_text(line)
    indent = target[: _indent(target)]
    opener, closer = style
    newline = doc.source_format.newline
    at = lines.starts[line - 1]
    head = f"{indent}{opener} keyless: ignore[{code}]"
    return SuppressionEdit(at, at, f"{head}{closer}{newline}", len(head))


_SHELL_HEREDOC = re.compile(r"<<-?[ \t]*([\"']?)([A-Za-z_][\w.-]*)\1")


def _script_line_free(doc: Document, line: int) -> bool:
    """A comment line may go above `line` unless the line before continues onto it (`\\`, or a
    backtick in PowerShell) or `line` is inside a here-document / here-string."""
    lines = doc.lines
    cont = "`" if doc.kind == "powershell" else "\\"
    if line > 1 and lines.line_text(line - 1).rstrip().endswith(cont):
        return False
    if doc.kind == "makefile":
        return True
    n = 1
    while n < line:
        text = lines.line_text(n)
        m = _SHELL_HEREDOC.search(text) if doc.kind != "powershell" else None
        if m is not None:
            delim = m.group(2)
            k = n + 1
            while k <= lines.line_count and lines.line_text(k).strip() != delim:
                k += 1
            if n < line <= k:
                return False
            n = k + 1
            continue
        if doc.kind == "powershell" and text.rstrip().endswith(('@"', "@'")):
            close = text.rstrip()[-1] + "@"
            k = n + 1
            while k <= lines.line_count and not lines.line_text(k).startswith(close):
                k += 1
            if n < line <= k:
                return False
            n = k + 1
            continue
        n += 1
    return True


# ---- server state -------------------------------------------------------------------------------

@dataclass
class _ConfigEntry:
    settings: Settings
    path: str | None = None  # the config file the settings came from
    stamp: tuple | None = None  # (mtime_ns, size) of that file when read
    baseline: Any = None
    error: str | None = None  # the configuration is invalid: these are the last valid settings
    cfg: Config | None = None


@dataclass
class _ProjectState:
    """The rest of the repository for one project root and settings (keyless.linter.context):
    the on-disk cache `keyless check` shares, and the last context's results with their facts."""

    cache: Any
    results: dict[str, Any] = field(default_factory=dict)


@dataclass
class Linted:
    uri: str
    version: int | None
    doc: Document
    settings: Settings
    findings: list[Finding]
    units: Callable[[str], int] = len  # the client's position encoding (code units of a string)
    config_error: str | None = None
    keys: dict[tuple, Finding] = field(default_factory=dict)
    deps: frozenset[str] = frozenset()  # other files this result read (keyless.linter.workspace)
    facts: str = ""  # digest of the facts the document gave the project model
    project_pending: bool = False  # published without project findings: the repository is being read

    def depends_on(self, path: str) -> bool:
        """Did linting this document read `path` (a module sibling, a parameter file, chart values)?"""
        rel = relative_to(path, self.settings.root)
        reldir = rel.rsplit("/", 1)[0] if "/" in rel else ""
        return f"f:{rel}" in self.deps or f"d:{reldir}" in self.deps

    @property
    def positions(self) -> "Positions":
        return Positions(self.doc, self.units)


def finding_key(f: Finding) -> list:
    return [f.code, f.fingerprint, f.span.start.line, f.span.start.column]


def _stamp(path: str | None) -> tuple | None:
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class KeylessServer(LanguageServer):
    def __init__(self, *args, **kwargs):
        # Full sync: pygls applies incremental edits with str.splitlines, which disagrees with LSP
        # line breaks for form feeds, U+2028 etc.; full text keeps the buffer exactly the client's.
        super().__init__("keyless", __version__, *args,
                         text_document_sync_kind=lsp.TextDocumentSyncKind.Full, **kwargs)
        self.debounce = DEFAULT_DEBOUNCE
        self.linted: dict[str, Linted] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.configs: dict[str, _ConfigEntry] = {}
        self.last_good: dict[str, _ConfigEntry] = {}
        self.shown_errors: set[str] = set()
        self.projects: dict[tuple[str, str], _ProjectState] = {}
        self.facts_seen: dict[str, str] = {}  # uri -> digest of the facts its last lint gave
        # One worker: lints and fixes run off the protocol loop, one at a time, in order.
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyless-lint")

    # -- capabilities ----------------------------------------------------------------------------
    def _cap(self, path: str) -> Any:
        cur: Any = self.client_capabilities
        for part in path.split("."):
            cur = getattr(cur, part, None) if cur is not None else None
        return cur

    @property
    def resolves_edits(self) -> bool:
        props = self._cap("text_document.code_action.resolve_support.properties") or []
        return "edit" in props and bool(self._cap("text_document.code_action.data_support"))

    @property
    def snippet_edits(self) -> bool:
        return bool(self._cap("workspace.workspace_edit.snippet_edit_support")) and \
            bool(self._cap("workspace.workspace_edit.document_changes"))

    @property
    def shows_disabled(self) -> bool:
        return bool(self._cap("text_document.code_action.disabled_support"))

    # -- configuration ---------------------------------------------------------------------------
    def _fallback_root(self) -> str:
        root = None
        try:
            root = self.workspace.root_path
        except RuntimeError:
            pass
        return root or os.getcwd()

    def settings_for(self, path: str | None) -> _ConfigEntry:
        """The settings `keyless check` would use for this file (cached per directory; a changed
        config file is noticed by its stamp even without file watching)."""
        start = os.path.dirname(path) if path else self._fallback_root()
        entry = self.configs.get(start)
        if entry is not None and entry.error is None and (entry.path is None or _stamp(entry.path) == entry.stamp):
            return entry
        registry = load_registry()
        try:
            cfg = load_config(path or start)
            settings = settings_from_config(cfg, registry)
        except (ConfigError, SelectorError, RuleError) as exc:
            # Not cached: re-read on every lint until it is fixed. Meanwhile keep the last valid
            # settings for this directory (or the defaults).
            good = self.last_good.get(start)
            if good is None:
                root = git_root(start) or start
                good = _ConfigEntry(Settings(root=os.path.abspath(root), select=resolve_selection(registry, None)))
            return _ConfigEntry(good.settings, good.path, good.stamp, good.baseline, error=str(exc), cfg=good.cfg)
        entry = _ConfigEntry(settings, cfg.path, _stamp(cfg.path), self._baseline(cfg), cfg=cfg)
        self.configs[start] = self.last_good[start] = entry
        return entry

    @staticmethod
    def _baseline(cfg: Config):
        if not cfg.baseline:
            return None
        from keyless.linter.baseline import Baseline, BaselineError

        try:
            return Baseline.read(cfg.path_setting("baseline"))  # resolved against the config file
        except (BaselineError, ConfigError) as exc:
            log.warning("%s", exc)
            return None

    def reload_config(self) -> None:
        self.configs.clear()
        self.projects.clear()
        self.shown_errors.clear()
        for uri in list(self.workspace.text_documents):
            self.schedule(uri, 0.0)

    # -- linting ---------------------------------------------------------------------------------
    def _lint(self, uri: str, text: str, version: int | None, language_id: str | None,
              units: Callable[[str], int], buffers: dict[str, str] | None = None, quick: bool = True) -> Linted:
        """`quick`: when the rest of the project must first be read (a cold cache), publish the
        file's own findings now and its project findings from a second lint."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        entry = self.settings_for(path)
        settings = entry.settings
        kind = None
        if path:
            relpath = relative_to(path, settings.root)
        else:
            relpath = uri.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or "untitled"
            kind = LANGUAGE_KINDS.get(language_id or "")
            if language_id == "bicep-params" and not relpath.endswith(".bicepparam"):
                relpath += ".bicepparam"  # the name is what makes a Bicep document a parameter file
        doc = make_document(path or os.path.join(settings.root, relpath), relpath, text, kind=kind)
        # Companions (a module's other files...) come from the editor's buffers when open there.
        doc.workspace = Workspace(settings.root, buffers=buffers)
        deps: frozenset[str] = frozenset()
        facts = ""
        project_pending = False
        if len(text) > settings.max_file_size:  # as `check` does: over the size cap, not linted
            findings: list[Finding] = []
        else:
            from keyless.linter.context import needed

            ctx, state = self._project(entry, path, relpath, doc, buffers or {}) if path else (None, None)
            result = lint_document(doc, settings, rule_set())
            deps = frozenset(result.deps)
            facts = result.facts_digest()
            context = None
            if ctx is not None:
                context = []
                if needed([result]):
                    if quick and ctx.pending() > QUICK_PROJECT_FILES:
                        project_pending = True  # published now without them, again once read
                    else:
                        context = ctx.facts()
                        state.results = {r.relpath: r for r in context}
            findings = finish([result], settings, context=context, cache=state.cache if state else None).findings
            if state is not None and state.cache.entries_dirty:
                state.cache.save()
        if entry.baseline is not None:
            if any(p == relpath for (_, p, _) in entry.baseline.legacy):  # a keyless 0.1 baseline
                from keyless.linter.baseline import migrate_document

                migrate_document(entry.baseline, make_document(doc.path, relpath, text, kind=kind), settings,
                                 findings)
            findings = entry.baseline.filter(findings)
        linted = Linted(uri, version, doc, settings, findings, units, entry.error, deps=deps, facts=facts,
                        project_pending=project_pending)
        linted.keys = {tuple(finding_key(f)): f for f in findings}
        return linted

    def _project(self, entry: _ConfigEntry, path: str, relpath: str, doc: Document,
                 buffers: dict[str, str]) -> tuple[Any, _ProjectState | None]:
        """The rest of the project for this buffer (keyless.linter.context), with the editor's
        other buffers over the disk; sets the document's companions (the same listing).
        (None, None) without a project root."""
        from keyless.linter import context as project_context
        from keyless.linter.discovery import Candidate
        from keyless.linter.engine import default_excludes

        cfg, settings = entry.cfg, entry.settings
        if cfg is None or os.path.isabs(relpath) or not project_context.wanted(cfg, [], settings.root):
            return None, None
        key = (settings.root, settings.key())
        state = self.projects.get(key)
        if state is None:
            from keyless.linter.cache import Cache

            # The cache `keyless check` uses (same precedence: KEYLESS_CACHE_DIR, then the config;
            # a configured directory outside the project is refused there, so the user cache here).
            try:
                directory = os.environ.get("KEYLESS_CACHE_DIR") or cfg.path_setting("cache-dir")
            except ConfigError:
                directory = None
            state = self.projects[key] = _ProjectState(Cache.open(directory, settings))
        excludes = default_excludes(cfg)
        pattern = state.cache.exclude_pattern(settings.root)
        if pattern:
            excludes.append(pattern)
        # One worker thread: no process pool here (forking a threaded server is not safe).
        ctx = project_context.ProjectContext(cfg, settings, excludes,
                                             named=[Candidate(path, relpath, len(doc.text), -1)],
                                             buffers={**buffers, path: doc.text}, cache=state.cache, jobs=1,
                                             reuse=state.results)
        doc.workspace = ctx.workspace
        return ctx, state

    async def lint_now(self, uri: str, quick: bool = True) -> Linted | None:
        """Lint the current text of `uri` (off the protocol loop); None when it was closed or
        changed meanwhile (a newer lint is on its way). `quick`: see `_lint`."""
        try:
            tdoc = self.workspace.get_text_document(uri)
        except Exception:
            return None
        if uri not in self.workspace.text_documents:
            return None
        text, version = tdoc.source, tdoc.version
        units = tdoc.position_codec.client_num_units
        buffers = {to_fs_path(u): d.source for u, d in list(self.workspace.text_documents.items())
                   if u != uri and u.startswith("file:")}
        loop = asyncio.get_running_loop()
        linted = await loop.run_in_executor(self.worker, self._lint, uri, text, version, tdoc.language_id, units,
                                            buffers, quick)
        cur = self.workspace.text_documents.get(uri)
        if cur is None or cur.version != version or cur.source != text:
            return None
        self.linted[uri] = linted
        before = self.facts_seen.get(uri)
        self.facts_seen[uri] = linted.facts
        if before is not None and before != linted.facts:
            # What this document tells the project model changed: project findings of the other
            # open documents (a credential's app, a role's advice) may change with it.
            for other in list(self.linted):
                if other != uri:
                    self.schedule(other, self.debounce)
        return linted

    async def current(self, uri: str) -> Linted | None:
        """The lint result for exactly the text the client has now."""
        tdoc = self.workspace.text_documents.get(uri)
        if tdoc is None:
            return None
        have = self.linted.get(uri)
        if have is not None and have.version == tdoc.version and have.doc.text == tdoc.source:
            return have
        linted = await self.lint_now(uri)
        if linted is not None:
            self.publish(linted)
        return linted

    def publish(self, linted: Linted) -> None:
        pos = linted.positions
        diags = [diagnostic(f, pos) for f in linted.findings]
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=linted.uri, diagnostics=diags, version=linted.version))
        if linted.config_error and linted.config_error not in self.shown_errors:
            self.shown_errors.add(linted.config_error)
            self.window_show_message(lsp.ShowMessageParams(
                type=lsp.MessageType.Error,
                message=f"keyless: configuration error ({linted.config_error}); linting with the last valid settings"))

    def schedule(self, uri: str, delay: float) -> None:
        old = self.pending.pop(uri, None)
        if old is not None and not old.done():
            old.cancel()

        async def run() -> None:
            try:
                if delay:
                    await asyncio.sleep(delay)
                linted = await self.lint_now(uri)
                if linted is not None:
                    self.publish(linted)
                if linted is not None and linted.project_pending:
                    linted = await self.lint_now(uri, quick=False)
                    if linted is not None:
                        self.publish(linted)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let one lint take the server down
                # The exception's text may quote the file (a parser's message): its type only,
                # the traceback with KEYLESS_DEBUG=1.
                log.error("lint failed (%s)", type(exc).__name__, exc_info=bool(os.environ.get("KEYLESS_DEBUG")))
                self.window_log_message(lsp.LogMessageParams(
                    type=lsp.MessageType.Error, message=f"keyless: lint failed ({type(exc).__name__}); please report it"))
            finally:
                if self.pending.get(uri) is task:
                    del self.pending[uri]

        task = asyncio.ensure_future(run())
        self.pending[uri] = task

    def schedule_dependents(self, uri: str, delay: float) -> None:
        """Open documents whose last result read `uri` are linted again (editing variables.tf
        updates main.tf's diagnostics)."""
        if not uri.startswith("file:"):
            return
        path = to_fs_path(uri)
        for other, linted in list(self.linted.items()):
            if other != uri and linted.depends_on(path):
                self.schedule(other, delay)

    def forget(self, uri: str) -> None:
        old = self.pending.pop(uri, None)
        if old is not None:
            old.cancel()
        self.linted.pop(uri, None)
        self.facts_seen.pop(uri, None)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- edits -----------------------------------------------------------------------------------
    def workspace_edit(self, linted: Linted, edits: list[lsp.TextEdit]) -> lsp.WorkspaceEdit:
        if self._cap("workspace.workspace_edit.document_changes"):
            ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=linted.uri, version=linted.version)
            return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(text_document=ident, edits=edits)])
        return lsp.WorkspaceEdit(changes={linted.uri: edits})

    def fix_edits(self, linted: Linted, f: Finding) -> list[lsp.TextEdit] | None:
        """The edits of one finding's fix (materializing a lazy fix: may import libcst), verified as
        `keyless check --fix` verifies them; a fix that fails verification is not offered."""
        from keyless.linter.fixes import apply_verified, materialize
        from keyless.linter.verify import Refused

        fix = materialize(linted.doc, f, rule_set().by_code)
        if fix is None or not fix.edits:
            return None
        try:
            text = apply_verified(linted.doc, fix)
        except Refused as exc:
            log.info("%s:%d: %s fix not offered: %s", linted.doc.relpath, f.span.start.line, f.code, exc)
            return None
        return text_edits(linted.doc.text, text, linted.positions) or None

    def fix_all_edits(self, linted: Linted) -> list[lsp.TextEdit]:
        """Safe fixes only, applied to a fixed point as `keyless check --fix` does, as minimal edits."""
        from keyless.linter.fixes import fix_document

        rs = rule_set()
        settings = linted.settings

        def relint(d: Document) -> list[Finding]:
            return finish([lint_document(d, settings, rs)], settings).findings

        try:
            outcome = fix_document(linted.doc, relint, unsafe=False, rules_by_code={r.code: r for r in rs.rules})
        except Exception as exc:  # e.g. a rule returning overlapping edits: offer nothing rather than fail
            log.error("fix all failed (%s)", type(exc).__name__, exc_info=bool(os.environ.get("KEYLESS_DEBUG")))
            return []
        return text_edits(linted.doc.text, outcome.text, linted.positions)


def diagnostic(f: Finding, pos: Positions) -> lsp.Diagnostic:
    return lsp.Diagnostic(
        range=pos.span_range(f.span),
        severity=SEVERITY.get(f.severity, lsp.DiagnosticSeverity.Warning),
        code=f.code,
        source=SOURCE,
        message=f.message,  # rule messages are redacted by construction; no source text here
        data={
            "key": finding_key(f),
            "name": f.name,
            "fix": f.fix.applicability.value if f.fix is not None else None,
        },
    )


def text_edits(old: str, new: str, pos: Positions) -> list[lsp.TextEdit]:
    """Line-level minimal edits turning `old` into `new` (positions in `old`)."""
    if old == new:
        return []
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    starts = [0]
    for piece in a:
        starts.append(starts[-1] + len(piece))
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(lsp.TextEdit(range=pos.range(starts[i1], starts[i2]), new_text="".join(b[j1:j2])))
    return out


def _snippet_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _kind_wanted(kind: str, only: list[str] | None) -> bool:
    if not only:
        return True
    return any(kind == k or kind.startswith(k + ".") for k in only)


def fix_title(f: Finding, fix: Fix) -> str:
    if fix.applicability is Applicability.UNSAFE:
        return f"Fix (unsafe: {UNSAFE_REASON.get(f.category, 'changes behaviour')}): {fix.message}"
    return f"Fix: {fix.message}"


# ---- wiring -------------------------------------------------------------------------------------

def build_server() -> KeylessServer:
    server = KeylessServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: KeylessServer, params: lsp.InitializeParams) -> None:
        opts = params.initialization_options
        if isinstance(opts, dict) and isinstance(opts.get("debounceMs"), (int, float)):
            ls.debounce = max(0.0, opts["debounceMs"] / 1000)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: KeylessServer, params: lsp.InitializedParams) -> None:
        if not ls._cap("workspace.did_change_watched_files.dynamic_registration"):
            return
        watchers = [lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES]
        reg = lsp.Registration(
            id="keyless-config-watch",
            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
        )
        try:
            await ls.client_register_capability_async(lsp.RegistrationParams(registrations=[reg]))
        except Exception as exc:
            log.info("could not register config file watchers: %s", exc)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: KeylessServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0.0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: KeylessServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)
        ls.schedule_dependents(params.text_document.uri, ls.debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE, lsp.SaveOptions(include_text=False))
    def did_save(ls: KeylessServer, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.rsplit("/", 1)[-1] in CONFIG_NAMES:
            ls.reload_config()  # re-lints every open document, this one included
        else:
            ls.schedule(uri, 0.0)
            ls.schedule_dependents(uri, 0.0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: KeylessServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)
        ls.schedule_dependents(params.text_document.uri, 0.0)  # they now read the file on disk

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: KeylessServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        if any(c.uri.rsplit("/", 1)[-1] in CONFIG_NAMES for c in params.changes):
            ls.reload_config()

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL_KIND],
            resolve_provider=True,
        ),
    )
    async def code_action(ls: KeylessServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        linted = await ls.current(params.text_document.uri)
        if linted is None:
            return None
        return await asyncio.get_running_loop().run_in_executor(ls.worker, _actions, ls, linted, params)

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def resolve(ls: KeylessServer, action: lsp.CodeAction) -> lsp.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        uri = data.get("uri")
        if not uri or action.edit is not None:
            return action
        linted = await ls.current(uri)
        if linted is None or linted.version != data.get("version"):
            return action  # the text changed: no edit rather than a wrong one
        loop = asyncio.get_running_loop()
        if data.get("type") == "fixAll":
            edits = await loop.run_in_executor(ls.worker, ls.fix_all_edits, linted)
        else:
            f = linted.keys.get(tuple(data.get("key") or ()))
            edits = await loop.run_in_executor(ls.worker, ls.fix_edits, linted, f) if f is not None else None
        if edits:
            action.edit = ls.workspace_edit(linted, edits)
        return action

    return server


def _actions(ls: KeylessServer, linted: Linted, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    pos = linted.positions
    lo, hi = pos.offset(params.range.start), pos.offset(params.range.end)
    only = params.context.only
    lazy_ok = ls.resolves_edits
    sent = {}
    for d in params.context.diagnostics or ():
        if d.source == SOURCE and isinstance(d.data, dict) and d.data.get("key"):
            sent[tuple(d.data["key"])] = d
    actions: list[lsp.CodeAction] = []
    quick = _kind_wanted(lsp.CodeActionKind.QuickFix.value, only)
    suppressed: set[tuple[int, str]] = set()
    for f in linted.findings if quick else ():
        a, b = linted.doc.lines.offset(f.span.start), linted.doc.lines.offset(f.span.end)
        if not (a <= hi and lo <= b):
            continue
        key = finding_key(f)
        diag = sent.get(tuple(key)) or diagnostic(f, pos)
        fix = f.fix
        if fix is not None and fix.applicability is Applicability.DISPLAY_ONLY:
            if ls.shows_disabled:
                actions.append(lsp.CodeAction(
                    title=f"{fix.message} (guidance)", kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag],
                    disabled=lsp.CodeActionDisabled(
                        reason=f"keyless cannot apply this automatically; see `keyless explain {f.code}`")))
        elif fix is not None:
            action = lsp.CodeAction(title=fix_title(f, fix), kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag],
                                    is_preferred=fix.applicability is Applicability.SAFE or None)
            if fix.lazy and lazy_ok:
                action.data = {"uri": linted.uri, "version": linted.version, "type": "fix", "key": key}
                actions.append(action)
            else:
                edits = ls.fix_edits(linted, f)
                if edits:
                    action.edit = ls.workspace_edit(linted, edits)
                    actions.append(action)
        line = f.span.start.line
        if (line, f.code) in suppressed:
            continue
        suppressed.add((line, f.code))
        sup = suppression_edit(linted.doc, line, f.code)
        if sup is not None:
            rng = pos.range(sup.start, sup.end)
            if sup.reason_at is not None and ls.snippet_edits:
                # the cursor lands where the reason goes; nothing is typed for the user
                snippet = _snippet_escape(sup.text[: sup.reason_at]) + " $0" + _snippet_escape(sup.text[sup.reason_at:])
                edit = lsp.SnippetTextEdit(range=rng, snippet=lsp.StringValue(value=snippet))
            else:
                edit = lsp.TextEdit(range=rng, new_text=sup.text)
            actions.append(lsp.CodeAction(
                title=f"Suppress {f.code} with a comment (then write the reason)",
                kind=lsp.CodeActionKind.QuickFix, diagnostics=[diag], edit=ls.workspace_edit(linted, [edit])))
    if _kind_wanted(FIX_ALL_KIND, only) and _any_safe(linted):
        action = lsp.CodeAction(title="Fix all safe keyless problems", kind=FIX_ALL_KIND)
        if lazy_ok:
            action.data = {"uri": linted.uri, "version": linted.version, "type": "fixAll"}
            actions.append(action)
        else:
            edits = ls.fix_all_edits(linted)
            if edits:
                action.edit = ls.workspace_edit(linted, edits)
                actions.append(action)
    return actions


def _any_safe(linted: Linted) -> bool:
    return any(f.fix is not None and f.fix.applicability is Applicability.SAFE for f in linted.findings)


def serve() -> None:
    """Run the server over stdio. stdout carries the protocol only: anything else printing to it
    (a plugin's stray print) goes to stderr instead."""
    logging.basicConfig(level=os.environ.get("KEYLESS_LSP_LOG", "WARNING").upper(), stream=sys.stderr)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    build_server().start_io(stdin, stdout)


__all__ = ["build_server", "serve", "KeylessServer", "Positions", "suppression_edit", "comment_style"]
