"""The rule runner: read → prefilter → parse lazily → rules → facts → project rules → suppressions.

Per-file work (`lint_file`) is a pure function of (bytes, settings), so it runs in worker processes
and its result (findings, facts, suppressions: never a raw secret) is what the cache stores.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

from keyless.linter.config import DEFAULT_EXCLUDES, Config
from keyless.linter.discovery import Candidate
from keyless.linter.documents import BinaryFile, Document, classify, decode, make_document
from keyless.linter.finding import Finding, Severity, Span
from keyless.linter.rule import (
    DEADLINE_KEY,
    PARTIAL_KEY,
    TEXT_WORDS_KEY,
    BudgetExceeded,
    Fact,
    Project,
    Registry,
    Rule,
    TextWords,
    load_registry,
)
from keyless.linter.suppression import parse_directives, suppression_map


class SelectorError(Exception):
    pass


FILE_BUDGET = 15.0
PARTIAL_CHECK = "checked only in part"  # in the warning of a file whose time budget ran out


@dataclass(frozen=True)
class Settings:
    """Everything that decides a file's result; hashable, picklable, part of the cache key."""

    root: str
    select: frozenset[str]
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    severity: Severity = Severity.LOW
    max_file_size: int = 5 * 1024 * 1024
    concrete_fixes: bool = False  # compute lazy fixes' edits while linting (JSON/SARIF output)
    # CPU seconds one file's rules may take; then its check stops and it is reported as partly
    # checked (a warning). Not in the cache key: a stopped check is never cached. 0: no limit.
    file_budget: float = FILE_BUDGET

    def key(self) -> str:
        import hashlib

        parts = [",".join(sorted(self.select)), self.severity.value, str(self.max_file_size),
                 "concrete" if self.concrete_fixes else "lazy"]
        parts += [f"{g}={','.join(sorted(c))}" for g, c in self.per_file_ignores]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def resolve_selection(registry: Registry, select: Iterable[str] | None, extend_select: Iterable[str] = (),
                      ignore: Iterable[str] = ()) -> frozenset[str]:
    """ruff semantics: `select` replaces the default (all stable rules), `extend_select` adds,
    `ignore` removes. An empty or unknown selector is a usage error."""

    def expand(sel: str) -> list[str]:
        codes = registry.expand(sel) if isinstance(sel, str) else []
        if not codes:
            raise SelectorError(_selector_problem(sel))
        return codes

    if select is None:
        chosen = {c for c in registry.codes if registry.by_code[c].status == "stable"}
    else:
        chosen = {c for s in select for c in expand(s)}
    chosen |= {c for s in extend_select for c in expand(s)}
    chosen -= {c for s in ignore for c in expand(s)}
    return frozenset(chosen)


def _selector_problem(sel: Any, where: str = "") -> str:
    where = f" in {where}" if where else ""
    if not isinstance(sel, str) or not sel.strip():
        return f"empty rule selector{where}: it would select no rule"
    return (f"Unknown rule selector{where}: {sel!r} (expected ALL, a category such as secret or key-auth, "
            "a code or prefix such as KL101 or KL1, or a rule name; `keyless rules` lists them)")


def settings_from_config(cfg: Config, registry: Registry, *, select=None, extend_select=(), ignore=(),
                         per_file_ignores: dict[str, list[str]] | None = None,
                         severity: Severity | None = None) -> Settings:
    """Settings from the configuration and the command line. Every selector must name at least one
    rule, and the selection must keep one: a gate that checks nothing must not pass."""
    where = cfg.path or "configuration"
    for key, sels in (("select", cfg.select or ()), ("extend-select", cfg.extend_select), ("ignore", cfg.ignore)):
        for sel in sels:
            if not registry.expand(sel):
                raise SelectorError(_selector_problem(sel, f"`{key}` of {where}"))
    if cfg.select is not None and not cfg.select and select is None:
        raise SelectorError(f"`select` of {where} is empty: no rule would run")
    chosen = resolve_selection(
        registry,
        select if select is not None else cfg.select,
        list(cfg.extend_select) + list(extend_select),
        list(cfg.ignore) + list(ignore),
    )
    if not chosen:
        raise SelectorError("the rule selection is empty (select/ignore leave no rule to run)")
    pfi = {glob: (sels, f"`per-file-ignores` of {where}") for glob, sels in cfg.per_file_ignores.items()}
    pfi.update({glob: (sels, "--per-file-ignores") for glob, sels in (per_file_ignores or {}).items()})
    resolved = []
    for glob, (sels, source) in pfi.items():
        if not sels:
            raise SelectorError(f"no rule selector for {glob!r} in {source}")
        codes: set[str] = set()
        for sel in sels:
            found = registry.expand(sel) if isinstance(sel, str) else []
            if not found:
                raise SelectorError(_selector_problem(sel, f"{source} ({glob!r})"))
            codes.update(found)
        resolved.append((glob, frozenset(codes)))
    return Settings(
        root=os.path.abspath(cfg.root),
        select=chosen,
        per_file_ignores=tuple(resolved),
        severity=severity or cfg.severity,
        max_file_size=cfg.max_file_size,
        file_budget=FILE_BUDGET,
    )


def default_excludes(cfg: Config, exclude: list[str] | None = None, extend_exclude: Iterable[str] = ()) -> list[str]:
    base = list(exclude if exclude is not None else (cfg.exclude if cfg.exclude is not None else DEFAULT_EXCLUDES))
    return base + list(cfg.extend_exclude) + list(extend_exclude)


# ---- per-process rule set ---------------------------------------------------------------------

@dataclass
class RuleSet:
    registry: Registry
    rules: list[Rule]  # every registered rule, instantiated once per process
    keywords: tuple[str, ...]  # every rule keyword, lower-cased
    rule_keywords: list[frozenset[str] | None]  # None: always runs
    directive_codes: set[str]
    aliases: dict[str, str]
    by_code: dict[str, Rule] = field(default_factory=dict)  # the instances in `rules`, by code
    collects: list[bool] = field(default_factory=list)  # the rule has a `collect` hook (gives facts)
    fact_kinds: frozenset[str] = frozenset()  # file kinds some collecting rule reads
    fact_keywords: tuple[str, ...] = ()  # the collecting rules' keywords (a facts-only prefilter)


@lru_cache(maxsize=4)
def rule_set(registry: Registry | None = None) -> RuleSet:
    registry = registry or load_registry()
    rules = [cls() for cls in registry]
    words: set[str] = set()
    rule_keywords: list[frozenset[str] | None] = []
    for r in rules:
        kws = frozenset(k.lower() for k in r.keywords)
        rule_keywords.append(kws or None)
        words |= kws
    aliases = {name.lower(): code for name, code in registry.alias.items()}
    collects = [type(r).collect is not Rule.collect for r in rules]
    fact_kinds = frozenset(k for r, c in zip(rules, collects) if c for k in r.kinds)
    fact_words = sorted({w for kws, c in zip(rule_keywords, collects) if c and kws for w in kws})
    return RuleSet(registry, rules, tuple(sorted(words)), rule_keywords, set(registry.codes), aliases,
                   {r.code: r for r in rules}, collects, fact_kinds, tuple(fact_words))


def keywords_present(text: str, keywords: tuple[str, ...], low: str | None = None) -> set[str]:
    """The prefilter: which keywords occur in the text, case-insensitively (`low`: the text
    lower-cased, when the caller has it).

    One Aho-Corasick pass (pyahocorasick) over the lower-cased text finds every keyword at once:
    4x faster on the benchmark corpus than a substring search per keyword, which scanned the
    text ~140 times and was a quarter of a cold scan. Without the library, one C substring
    search per keyword (itself 25x faster than a case-insensitive regex alternation)."""
    if low is None:
        low = text.lower()
    automaton = _automaton(keywords)
    if automaton is None:
        return {w for w in keywords if w in low}
    return {w for _, w in automaton.iter(low)} if low else set()


def text_words(text: str, keywords: tuple[str, ...]) -> TextWords:
    """The text lower-cased once and the prefilter's answers on it (doc.memo[TEXT_WORDS_KEY])."""
    low = text.lower()
    present = keywords_present(text, keywords, low) if keywords else ()
    return TextWords(low, _word_set(keywords), frozenset(present))


@lru_cache(maxsize=8)
def _word_set(keywords: tuple[str, ...]) -> frozenset[str]:
    return frozenset(keywords)


@lru_cache(maxsize=8)
def _automaton(keywords: tuple[str, ...]):
    try:
        import ahocorasick
    except ImportError:
        return None
    automaton = ahocorasick.Automaton()
    for w in keywords:
        automaton.add_word(w, w)
    if not keywords:
        return None
    automaton.make_automaton()
    return automaton


# ---- results ----------------------------------------------------------------------------------

@dataclass
class FileResult:
    relpath: str
    findings: list[Finding] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)
    error: str | None = None  # one line: what is wrong with the file
    error_line: int | None = None
    error_kind: str = ""  # "parse" (a warning: the file was still secret-scanned), "io", "internal"
    note: str | None = None  # skipped (binary...)
    size: int = 0
    content_hash: str | None = None  # sha256 of the bytes read; None when nothing could be read
    deps: dict[str, Any] = field(default_factory=dict)  # companions read (keyless.linter.workspace)
    facts_sha: str | None = None  # digest of `facts` (computed once; the cache stores it)
    facts_pending: bool = False  # from the cache: facts not loaded yet
    facts_source: Any = None  # the Cache that can load them (Cache.fill_facts)

    def facts_digest(self) -> str:
        if self.facts_sha is None:
            import json

            blob = json.dumps([[f.kind, f.path, f.data] for f in self.facts], sort_keys=True, default=str)
            self.facts_sha = hashlib.sha256(blob.encode("utf-8", "surrogateescape")).hexdigest()
        return self.facts_sha


@dataclass
class RunResult:
    findings: list[Finding]
    errors: list[tuple[str, str, int | None]]  # (path, message, line): exit code 2
    notes: list[str]
    files_scanned: int
    bytes_scanned: int
    suppressed: int = 0
    elapsed: float = 0.0
    file_results: dict[str, FileResult] = field(default_factory=dict)
    warnings: list[tuple[str, str, int | None]] = field(default_factory=list)  # unparsable files
    # Found but not reported (under the severity threshold): a baseline keeps their entries.
    below_threshold: list[Finding] = field(default_factory=list)


def _ignored_codes(relpath: str, settings: Settings) -> frozenset[str]:
    out: set[str] = set()
    for glob, codes in settings.per_file_ignores:
        if _glob_spec(glob).match_file(relpath):
            out |= codes
    return frozenset(out)


@lru_cache(maxsize=256)
def _glob_spec(glob: str):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines([glob])


def lint_document(doc: Document, settings: Settings, rs: RuleSet | None = None, *,
                  facts_only: bool = False) -> FileResult:
    """Run every applicable rule on one document (per-file checks and fact collection).
    `facts_only`: only collect facts (a file the project model needs but the run does not report)."""
    rs = rs or rule_set()
    res = FileResult(doc.relpath, size=len(doc.text))
    if doc.workspace is None:
        from keyless.linter.workspace import Workspace

        doc.workspace = Workspace(settings.root)  # editor/stdin mode: companions from the disk
    ws = doc.workspace
    ws.begin(doc)
    try:
        _run_rules(doc, settings, rs, res, facts_only)
    finally:
        res.deps = ws.end()
    return res


def _run_rules(doc: Document, settings: Settings, rs: RuleSet, res: FileResult, facts_only: bool = False) -> None:
    text = doc.text
    if facts_only and doc.kind not in rs.fact_kinds:
        return
    words = rs.fact_keywords if facts_only else rs.keywords
    # Rules read the lower-cased text and the prefilter's answers instead of remaking them
    # (keyless.linter.rule.text_lower, mentions); dropped when the file is done (a document kept
    # as a companion would hold a second copy of its text).
    doc.memo[TEXT_WORDS_KEY] = found = text_words(text, words)
    try:
        _run_selected_rules(doc, settings, rs, res, facts_only, set(found.present))
    finally:
        doc.memo.pop(TEXT_WORDS_KEY, None)


def _run_selected_rules(doc: Document, settings: Settings, rs: RuleSet, res: FileResult, facts_only: bool,
                        present: set[str]) -> None:
    text = doc.text
    skip = _ignored_codes(doc.relpath, settings)
    kind = doc.kind
    deadline = time.thread_time() + settings.file_budget if settings.file_budget else None
    doc.memo[DEADLINE_KEY] = deadline
    # A thread's CPU time grows no faster than the wall clock, and the wall clock is ~10x cheaper
    # to read: the CPU clock is read only once the budget has passed in wall time.
    wall_deadline = time.perf_counter() + settings.file_budget if settings.file_budget else None
    for rule, kws, collects in zip(rs.rules, rs.rule_keywords, rs.collects):
        if kind not in rule.kinds or (facts_only and not collects):
            continue
        if kws is not None and not (kws & present):
            continue
        if deadline is not None and (PARTIAL_KEY in doc.memo or time.perf_counter() > wall_deadline
                                     and time.thread_time() > deadline):
            doc.memo[PARTIAL_KEY] = True
            break
        selected = rule.code in settings.select and rule.code not in skip and not facts_only
        try:
            if selected:
                for f in rule.check(doc):
                    res.findings.append(f)
            res.facts.extend(_plain_fact(f) for f in rule.collect(doc))
        except BudgetExceeded:
            doc.memo[PARTIAL_KEY] = True
            break
        except RecursionError:
            res.error, res.error_kind = f"{rule.code}: input nested too deeply to analyse", "parse"
        except Exception as exc:  # a rule bug must not stop the scan; the message names the rule
            res.error = f"internal error in rule {rule.code} ({type(exc).__name__}); please report it"
            res.error_kind = "internal"
    _run_embedded(doc, settings, rs, res, skip, present)
    if doc.parse_error is not None and res.error is None:
        res.error, res.error_kind = str(doc.parse_error), "parse"
        res.error_line = doc.parse_error.line
    if doc.memo.get(PARTIAL_KEY) and res.error_kind != "internal":
        res.error = f"time budget of {settings.file_budget:g} s spent: {PARTIAL_CHECK}"
        res.error_kind, res.error_line = "partial", None
    if facts_only:
        return
    if "keyless:" in text:
        res.suppressions = suppression_map(parse_directives(text), rs.directive_codes, rs.aliases)
    if settings.concrete_fixes and any(f.fix is not None and f.fix.lazy for f in res.findings):
        from keyless.linter import fixes

        res.findings = [fixes.with_concrete_fix(doc, f, rs.by_code) for f in res.findings]


def _run_embedded(doc: Document, settings: Settings, rs: RuleSet, res: FileResult, skip, present_host: set) -> None:
    """Documents inside this one (a notebook's code cells): the rules of their kind that do not
    read the host's kind already (secret rules scan the host's text once), findings mapped back."""
    kinds = doc.embedded_kinds
    candidates = [(r, k) for r, k in zip(rs.rules, rs.rule_keywords) if doc.kind not in r.kinds
                  and r.kinds & kinds and r.code in settings.select and r.code not in skip]
    if not candidates:
        return
    if not any(k is None or k & present_host for _, k in candidates):
        return  # no rule could fire on what the host's text contains: the host is not parsed for it
    try:
        embedded = doc.embedded()
    except (RecursionError, ValueError):
        return
    for index, emb in enumerate(embedded):
        sub = emb.doc
        present = keywords_present(sub.text, rs.keywords) if rs.keywords else set()
        for rule, kws in zip(rs.rules, rs.rule_keywords):
            if sub.kind not in rule.kinds or doc.kind in rule.kinds or rule.code not in settings.select \
                    or rule.code in skip or (kws is not None and not (kws & present)):
                continue
            try:
                for f in rule.check(sub):
                    mapped = emb.host_finding(f, index)
                    if mapped is not None:
                        res.findings.append(mapped)
            except RecursionError:
                res.error, res.error_kind = f"{rule.code}: input nested too deeply to analyse", "parse"
            except Exception as exc:
                res.error = f"internal error in rule {rule.code} ({type(exc).__name__}); please report it"
                res.error_kind = "internal"


_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any) -> Any:
    """JSON-shaped data of exact builtin types, as the cache's JSON would give it back: a fact must
    read the same from a worker (pickled), from the cache and in process (a Helm value is a `str`
    subclass carrying its origin)."""
    if type(value) in _PLAIN_SCALARS:
        return value
    if isinstance(value, dict):
        return {_plain_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str.__str__(value)  # the characters, not a subclass's __str__ (e.g. a str Enum's)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _plain_key(key: Any) -> str:
    """A dict key as JSON writes it."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is None or isinstance(key, bool):
        return "null" if key is None else "true" if key else "false"
    return str(key)


def _plain_fact(f: Fact) -> Fact:
    return Fact(str(f.kind), str(f.path), _plain(f.data))


def read_document(path: str, relpath: str, max_size: int | None = None, data: bytes | None = None) -> Document:
    if data is None:
        from keyless.linter.readfile import read_regular_file

        data = read_regular_file(path, max_size or None)
    text, fmt = decode(data)
    return make_document(path, relpath, text, fmt)


def lint_file(cand: Candidate, settings: Settings, workspace: Any = None, facts_only: bool = False) -> FileResult:
    if facts_only and classify(cand.relpath) not in rule_set().fact_kinds:
        return FileResult(cand.relpath, size=cand.size)  # no rule collects facts from this kind
    held = workspace.held(cand.relpath, cand.size, cand.mtime_ns) if workspace is not None else None
    if held is not None and "workspace.sha256" in held.memo:  # already parsed as a companion
        res = lint_document(held, settings, facts_only=facts_only)
        res.content_hash = held.memo["workspace.sha256"]
        return res
    from keyless.linter.readfile import NotRegularFile, read_regular_file

    try:
        data = read_regular_file(cand.path, settings.max_file_size)
    except NotRegularFile as exc:  # replaced by a FIFO or device since discovery
        return FileResult(cand.relpath, note=f"{cand.relpath}: skipped, not a regular file ({exc.kind})")
    except FileNotFoundError:
        return FileResult(cand.relpath, note=f"{cand.relpath}: skipped, deleted during the scan")
    except OSError as exc:
        return FileResult(cand.relpath, error=f"cannot read: {exc.strerror or type(exc).__name__}", error_kind="io")
    if len(data) > settings.max_file_size:
        return FileResult(cand.relpath, note=f"{cand.relpath}: skipped, grew over the size cap during the scan")
    digest = hashlib.sha256(data).hexdigest()
    try:
        text, fmt = decode(data)
    except BinaryFile as exc:
        return FileResult(cand.relpath, note=f"{cand.relpath}: skipped, {exc}", content_hash=digest)
    doc = make_document(cand.path, cand.relpath, text, fmt)
    if workspace is not None:
        doc.workspace = workspace
        doc.memo["workspace.stat"] = (cand.path, cand.size, cand.mtime_ns)
        doc.memo["workspace.sha256"] = digest
    res = lint_document(doc, settings, facts_only=facts_only)
    res.content_hash = digest
    if workspace is not None and doc.kind in COMPANION_KINDS:
        workspace.keep(doc)
    return res


# Kinds whose parsed documents may be read again as another file's companion.
COMPANION_KINDS = frozenset({"hcl", "json", "yaml", "bicep"})


# ---- project rules, suppressions, thresholds --------------------------------------------------

def project_digest(results: list[FileResult], report_paths: frozenset[str] | None = None,
                   boundaries: frozenset[str] = frozenset()) -> str:
    """What project rules see: every file's facts, the project boundaries (the settings key the
    cache file already), and which paths they report on."""
    h = hashlib.sha256()
    for r in sorted((r for r in results if r.facts or r.facts_pending), key=lambda r: r.relpath):
        h.update(r.relpath.encode("utf-8", "surrogateescape") + b"\0" + r.facts_digest().encode() + b"\n")
    for b in sorted(boundaries):
        h.update(b"boundary\0" + b.encode("utf-8", "surrogateescape") + b"\n")
    if report_paths is not None:
        h.update(b"\1" + "\0".join(sorted(report_paths)).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def project_boundaries(root: str, results: list[FileResult]) -> frozenset[str]:
    """Nested repositories, config roots and azd projects of the scan (keyless.linter.projects)."""
    from keyless.linter.projects import find_boundaries

    return find_boundaries(root, (r.relpath for r in results),
                           (r.relpath for r in results if r.facts or r.facts_pending))


def run_project_rules(results: list[FileResult], settings: Settings, rs: RuleSet,
                      errors: list[tuple[str, str, int | None]], cache: Any = None,
                      report_paths: frozenset[str] | None = None) -> list[Finding]:
    """Project rules over every file's facts; with a cache, skipped when no fact changed.
    `report_paths`: only findings on these paths are wanted (Project.report_paths)."""
    if not any(r.facts or r.facts_pending for r in results):
        return []
    boundaries = project_boundaries(settings.root, results)
    digest = project_digest(results, report_paths, boundaries) if cache is not None else None
    if digest is not None:
        hit = cache.project_findings(digest)
        if hit is not None:
            return hit
    pending = [r for r in results if r.facts_pending]
    missing: list[FileResult] = []
    for source in {id(r.facts_source): r.facts_source for r in pending}.values():
        group = [r for r in pending if r.facts_source is source]
        missing += source.fill_facts(group) if source is not None else group
    for r in missing:  # the facts file lost them: read the file again
        path = r.relpath if os.path.isabs(r.relpath) else os.path.join(settings.root, r.relpath)
        try:
            r.facts = lint_document(read_document(path, r.relpath, settings.max_file_size), settings, rs).facts
        except (OSError, ValueError, BinaryFile):
            r.facts = []
        r.facts_pending = False
    project = Project(facts=[f for r in results for f in r.facts], root=settings.root, report_paths=report_paths,
                      boundaries=boundaries)
    found: list[Finding] = []
    failed = False
    for rule in rs.rules:
        if rule.code not in settings.select or not rule.is_project_rule():
            continue
        try:
            found.extend(rule.check_project(project))
        except Exception as exc:
            failed = True
            errors.append(("<project>", f"internal error in project rule {rule.code} ({type(exc).__name__})", None))
    if report_paths is not None:
        found = [f for f in found if f.path in report_paths]
    if digest is not None and not failed:
        cache.put_project_findings(digest, found)
    return found


def finish(results: list[FileResult], settings: Settings, *, report_paths: set[str] | None = None,
           rs: RuleSet | None = None, cache: Any = None, context: list[FileResult] | None = None) -> RunResult:
    """Combine per-file results: project rules, suppressions, severity threshold, sorting.
    `context`: the facts of the repository's other files (keyless.linter.context); project rules
    see them, findings and errors are only reported for `results`."""
    rs = rs or rule_set()
    findings = [f for r in results for f in r.findings]
    errors: list[tuple[str, str, int | None]] = []
    if context is not None:
        linted = {r.relpath for r in results}
        report_paths = linted if report_paths is None else linted & set(report_paths)
    hint = frozenset(report_paths) if report_paths is not None else None
    findings.extend(run_project_rules([*results, *(context or ())], settings, rs, errors, cache, hint))
    sup = {r.relpath: r.suppressions for r in results}
    kept: list[Finding] = []
    below: list[Finding] = []
    suppressed = 0
    seen: set[tuple] = set()
    for f in findings:
        if report_paths is not None and f.path not in report_paths:
            continue
        if f.severity.rank < settings.severity.rank:
            if f.code not in _ignored_codes(f.path, settings) and \
                    f.code not in sup.get(f.path, {}).get(f.span.start.line, ()):
                below.append(f)
            continue
        if f.code in _ignored_codes(f.path, settings):
            continue
        if f.code in sup.get(f.path, {}).get(f.span.start.line, ()):
            suppressed += 1
            continue
        ident = (f.path, f.code, f.span, f.fingerprint)
        if ident in seen:
            continue
        seen.add(ident)
        kept.append(f)
    kept.sort(key=Finding.sort_key)
    warnings: list[tuple[str, str, int | None]] = []
    for r in results:
        if r.error and (report_paths is None or r.relpath in report_paths):
            (warnings if r.error_kind in ("parse", "partial") else errors).append((r.relpath, r.error, r.error_line))
    notes = [r.note for r in results if r.note]
    return RunResult(
        findings=kept,
        errors=errors,
        notes=notes,
        files_scanned=sum(1 for r in results if not r.note),
        bytes_scanned=sum(r.size for r in results),
        suppressed=suppressed,
        file_results={r.relpath: r for r in results},
        warnings=warnings,
        below_threshold=below,
    )


# ---- whole runs ---------------------------------------------------------------------------------

def _worker_init(settings: Settings, workspace: Any, parent_pid: int | None = None) -> None:
    global _WORKER_SETTINGS, _WORKER_WORKSPACE
    if parent_pid is not None:
        from keyless.linter.workers import die_with_parent

        die_with_parent(parent_pid)
    _WORKER_SETTINGS = settings
    _WORKER_WORKSPACE = workspace
    rule_set()


_WORKER_SETTINGS: Settings | None = None
_WORKER_WORKSPACE: Any = None


def _worker_batch(batch: list[Candidate], facts_only: bool = False) -> list[FileResult]:
    assert _WORKER_SETTINGS is not None
    out = []
    for c in batch:
        out.append(lint_file(c, _WORKER_SETTINGS, _WORKER_WORKSPACE, facts_only))
        gc_between_files()
    return out


PARALLEL_MIN_FILES = 200
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


# Young objects allocated before the collector runs during a scan (the default is 700). Most are
# freed by reference counting when their file is done; `gc_between_files` collects at file
# boundaries, where few of them are still alive, so this threshold is reached only in big files.
SCAN_GC_THRESHOLD = 100_000
# At a file boundary, collect once this many young objects were allocated since the last collection.
BOUNDARY_GC_MIN = 10_000
_GC_POLICY_DEPTH = 0


@contextmanager
def scan_gc_policy() -> Iterator[None]:
    """The cyclic GC during a scan. A scan allocates millions of small containers (syntax trees,
    template values, facts) that live exactly as long as a file's analysis; with the default
    thresholds the collector rescans them hundreds of times, and every object imported before
    the scan (rules, compiled patterns, grammars) at each full collection. During a scan what was
    imported is frozen (never garbage), the young generation is collected between files
    (`gc_between_files`: a collection costs what is still alive, little at a boundary) and within
    a file only past SCAN_GC_THRESHOLD; reference cycles are still collected. Everything is
    restored afterwards (the language server scans again and again in one process); a nested
    scan keeps the outer one's policy."""
    global _GC_POLICY_DEPTH
    if _GC_POLICY_DEPTH:
        yield
        return
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(SCAN_GC_THRESHOLD, old[1], old[2])
    _GC_POLICY_DEPTH += 1
    try:
        yield
    finally:
        _GC_POLICY_DEPTH -= 1
        gc.set_threshold(*old)
        gc.unfreeze()


def gc_between_files() -> None:
    """Collect the generations the collector would at this point (see scan_gc_policy), then
    freeze what survived: it outlived its file (companion documents kept for later files,
    results), and every later collection of the scan would traverse it again (on Azure Verified
    Modules that rescanning was 1.7 s of a 22 s scan). Cycles among the frozen objects are
    collected after the scan, which unfreezes them."""
    if not _GC_POLICY_DEPTH or not gc.isenabled():
        return
    young, middle, old = gc.get_count()
    if young < BOUNDARY_GC_MIN:
        return
    limits = gc.get_threshold()
    gc.collect(2 if old > limits[2] else 1 if middle > limits[1] else 0)
    gc.freeze()


def run_files(cands: list[Candidate], settings: Settings, *, jobs: int | None = None,
              cache: Any = None, progress: Callable[[int, int], None] | None = None,
              companions: list[Candidate] | None = None, notes: list[str] | None = None,
              workspace: Any = None, facts_only: bool = False) -> list[FileResult]:
    """Lint candidates, from the cache where possible, in a process pool for big inputs.
    `companions`: more files rules may read (not linted), see keyless.linter.workspace (or the
    `workspace` itself). `notes`: receives what the user should know about the run itself.
    `facts_only`: only the facts of these files (the rest of the repository, for project rules):
    only kinds and keywords of rules that collect facts, no check, no secret scan; the caller does
    the caching (keyless.linter.context)."""
    with scan_gc_policy():
        return _run_files(cands, settings, jobs=jobs, cache=cache, progress=progress, companions=companions,
                          notes=notes, workspace=workspace, facts_only=facts_only)


def _run_files(cands: list[Candidate], settings: Settings, *, jobs: int | None, cache: Any,
               progress: Callable[[int, int], None] | None, companions: list[Candidate] | None,
               notes: list[str] | None, workspace: Any, facts_only: bool) -> list[FileResult]:
    from keyless.linter.workspace import Workspace

    if workspace is None:
        workspace = Workspace.from_candidates(settings.root, [*(companions or ()), *cands], settings.max_file_size)
    results: dict[str, FileResult] = {}
    todo: list[Candidate] = []
    if facts_only:
        cache = None
    for c in cands:
        hit = cache.get(c, workspace) if cache is not None else None
        if hit is not None:
            results[c.relpath] = hit
        else:
            todo.append(c)
    total = len(cands)
    done = len(results)
    from keyless.linter.workers import effective_jobs

    jobs = effective_jobs(jobs, notes)
    big = len(todo) >= PARALLEL_MIN_FILES or sum(c.size for c in todo) >= PARALLEL_MIN_BYTES
    if jobs > 1 and big and len(todo) > 1:
        import multiprocessing
        from functools import partial

        from keyless.linter.workers import abandon, start_pool

        ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
        # Batches sized by bytes so one huge file does not serialise the pool.
        batches: list[list[Candidate]] = []
        cur: list[Candidate] = []
        cur_bytes = 0
        target = max(256 * 1024, sum(c.size for c in todo) // (jobs * 8) or 1)
        for c in todo:
            cur.append(c)
            cur_bytes += c.size
            if cur_bytes >= target or len(cur) >= 64:
                batches.append(cur)
                cur, cur_bytes = [], 0
        if cur:
            batches.append(cur)
        from concurrent.futures.process import BrokenProcessPool

        pool, _ = start_pool(min(jobs, len(batches)), ctx, _worker_init, (settings, workspace, os.getpid()), notes)
        if pool is not None:
            try:
                for batch_result in pool.map(partial(_worker_batch, facts_only=facts_only), batches):
                    for c_res in batch_result:
                        results[c_res.relpath] = c_res
                    done += len(batch_result)
                    if progress:
                        progress(done, total)
                pool.shutdown()
            except (BrokenProcessPool, OSError):
                # A worker died (killed, out of memory, a crash in a C extension) or could not be
                # started: nothing is lost, the files not returned are linted below.
                abandon(pool)
                if notes is not None:
                    notes.append("a worker process died; the files it had not finished were linted in the main process")
            except BaseException:  # Ctrl-C, an error here: never leave workers running
                abandon(pool)
                raise
        for c in todo:
            if c.relpath not in results:
                results[c.relpath] = lint_file(c, settings, workspace, facts_only)
    else:
        for c in todo:
            results[c.relpath] = lint_file(c, settings, workspace, facts_only)
            gc_between_files()
            done += 1
            if progress and done % 50 == 0:
                progress(done, total)
    if cache is not None:
        for c in todo:
            r = results.get(c.relpath)
            if r is not None and r.content_hash and r.error_kind not in ("internal", "partial"):
                cache.put(c, r)
    return [results[c.relpath] for c in cands if c.relpath in results]


def lint_paths(paths: list[str], cfg: Config, settings: Settings, *, excludes: list[str],
               force_exclude: bool = False, jobs: int | None = None, cache: Any = None,
               only: set[str] | None = None, progress=None) -> RunResult:
    """Discover and lint. `only`: repo-relative paths to report (changed-files mode); every
    discovered file still feeds the project model."""
    from keyless.linter.discovery import discover

    t0 = time.perf_counter()
    memo = cache.discovery_memo() if cache is not None else None
    disc = discover(paths, settings.root, excludes=excludes, respect_gitignore=cfg.respect_gitignore,
                    force_exclude=force_exclude, max_file_size=settings.max_file_size, memo=memo,
                    follow_symlinks=cfg.follow_symlinks)
    if disc.memo_changed:
        cache.dirty = True
    from keyless.linter import context as project_context

    companions = None
    workspace = None
    ctx = None
    run_notes: list[str] = []
    if disc.files and project_context.wanted(cfg, paths, settings.root):
        # Files named one by one (pre-commit passes only the changed ones): project rules still
        # see the whole repository, and companions come from all of it.
        ctx = project_context.ProjectContext(cfg, settings, excludes, named=disc.files, cache=cache, jobs=jobs)
        workspace = ctx.workspace
    elif disc.named_file_dirs:
        # No project root: files named one by one see their directory's other files as
        # companions; the same excludes and .gitignore apply.
        shallow = discover(sorted(disc.named_file_dirs), settings.root, excludes=excludes,
                           respect_gitignore=cfg.respect_gitignore, max_file_size=settings.max_file_size,
                           recursive=False, follow_symlinks=cfg.follow_symlinks)
        companions = shallow.files
    with scan_gc_policy():  # project rules too: else one full collection of everything the scan left
        results = run_files(disc.files, settings, jobs=jobs, cache=cache, progress=progress, companions=companions,
                            notes=run_notes, workspace=workspace)
        context = None
        if ctx is not None:
            context = ctx.facts() if project_context.needed(results) else []
            run_notes += ctx.notes
        run = finish(results, settings, report_paths=only, cache=cache, context=context)
    run.errors = [(p, m, None) for p, m in disc.errors] + run.errors
    run.notes = disc.notes + run_notes + run.notes
    run.elapsed = time.perf_counter() - t0
    return run


def lint_source(text: str, relpath: str, *, select: Iterable[str] | None = None,
                settings: Settings | None = None, root: str = ".") -> list[Finding]:
    """Lint one in-memory file (editors' stdin mode, tests). Project rules see only this file."""
    registry = load_registry()
    if settings is None:
        settings = Settings(root=os.path.abspath(root), select=resolve_selection(registry, select))
    doc = make_document(os.path.join(settings.root, relpath), relpath, text)
    res = lint_document(doc, settings)
    return finish([res], settings).findings


def lint_text_result(text: str, relpath: str, settings: Settings, path: str | None = None) -> RunResult:
    doc = make_document(path or os.path.join(settings.root, relpath), relpath, text)
    return finish([lint_document(doc, settings)], settings)


__all__ = [
    "Settings", "SelectorError", "RunResult", "FileResult", "lint_paths", "lint_source", "lint_document",
    "lint_file", "read_document", "finish", "rule_set", "resolve_selection", "settings_from_config",
    "default_excludes", "classify", "Span",
]
