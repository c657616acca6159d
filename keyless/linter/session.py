"""One `keyless check` run from options to exit code: config → settings → lint (files or stdin)
→ fixes → baseline → report. The CLI is a thin click layer over this."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field

from keyless.linter.config import Config, ConfigError, load_config, parse_size
from keyless.linter.engine import (
    PARTIAL_CHECK,
    RunResult,
    SelectorError,
    Settings,
    default_excludes,
    finish,
    lint_document,
    lint_paths,
    rule_set,
    settings_from_config,
)
from keyless.linter.finding import Finding, Severity
from keyless.linter.rule import RuleError, load_registry

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass
class CheckOptions:
    paths: list[str] = field(default_factory=lambda: ["."])
    output_format: str | None = None
    output_file: str | None = None
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: tuple[str, ...] = ()
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    force_exclude: bool = False
    respect_gitignore: bool = True
    stdin_filename: str | None = None
    config_path: str | None = None
    severity: str | None = None
    max_file_size: str | None = None
    statistics: bool = False
    exit_zero: bool = False
    fix: bool = False
    unsafe_fixes: bool = False
    show_diff: bool = False
    jobs: int | None = None
    use_cache: bool = True
    cache_dir: str | None = None
    baseline: str | None = None
    update_baseline: bool = False
    diff_base: str | None = None
    include_untracked: bool = False
    progress: bool = True
    quiet: bool = False
    strict: bool = False  # a file only partly checked (unparsable: secret-scanned only) exits 2
    history: "object | None" = None  # a keyless.linter.history.HistoryRequest: scan commits, not files
    follow_symlinks: bool = False
    show_settings: bool = False  # print the resolved settings and their sources; lint nothing
    color: str = "auto"  # text output: auto (a terminal, NO_COLOR/FORCE_COLOR), always, never


def _err(msg: str) -> None:
    from keyless.linter.report._common import printable

    print(f"keyless: error: {printable(msg)}", file=sys.stderr)


def _usage_problem(opts: CheckOptions) -> str | None:
    """Options that would otherwise be silently ignored (and change what gets checked)."""
    reads_stdin = "-" in opts.paths
    if reads_stdin and len(opts.paths) > 1:
        return "'-' (read stdin) cannot be combined with other paths"
    if opts.stdin_filename is not None and not reads_stdin:
        return "--stdin-filename needs '-' as the path (the text to check is read from stdin)"
    if opts.include_untracked and not opts.diff_base:
        return "--include-untracked needs --diff-base REF"
    if reads_stdin and opts.diff_base:
        return "--diff-base cannot be used with '-' (read stdin)"
    return None


def _prepare(opts: CheckOptions) -> tuple[Config, Settings, list[str]]:
    start = opts.stdin_filename if (opts.paths == ["-"] and opts.stdin_filename) else (
        opts.paths[0] if opts.paths and opts.paths[0] != "-" else ".")
    cfg = load_config(start, opts.config_path)
    if opts.max_file_size:
        cfg.max_file_size = parse_size(opts.max_file_size)
    cfg.respect_gitignore = cfg.respect_gitignore and opts.respect_gitignore
    cfg.follow_symlinks = cfg.follow_symlinks or opts.follow_symlinks
    registry = load_registry()
    pfi: dict[str, list[str]] = {}
    for item in opts.per_file_ignores:
        glob, sep, codes = item.rpartition(":")
        if not sep or not glob:
            raise SelectorError(f"--per-file-ignores expects GLOB:CODES, got {item!r}")
        pfi.setdefault(glob, []).extend(c.strip() for c in codes.split(","))  # an empty one is an error
    settings = settings_from_config(
        cfg, registry, select=opts.select, extend_select=opts.extend_select, ignore=opts.ignore,
        per_file_ignores=pfi, severity=Severity(opts.severity) if opts.severity else None,
    )
    excludes = default_excludes(cfg, opts.exclude, opts.extend_exclude)
    return cfg, settings, excludes


def run_check(opts: CheckOptions) -> int:
    problem = _usage_problem(opts)
    if problem:
        _err(problem)
        return EXIT_ERROR
    try:
        cfg, settings, excludes = _prepare(opts)
    except (ConfigError, SelectorError, RuleError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    from keyless import startup

    startup.end()  # the rules are loaded: the command line's start-up is over
    if opts.show_settings:
        from keyless.linter.show_settings import render as render_settings

        sys.stdout.write(render_settings(opts, cfg, settings, excludes))
        return EXIT_CLEAN
    fmt = opts.output_format or cfg.output_format or "text"
    if fmt in ("json", "sarif") and not (opts.fix or opts.show_diff):
        # These formats show every fix's edits: compute lazy (libcst) fixes in the workers, where
        # they run in parallel and land in the cache with the rest of the file's result.
        settings = dataclasses.replace(settings, concrete_fixes=True)
    if opts.update_baseline and not (opts.baseline or cfg.baseline):
        _err("--update-baseline needs --baseline FILE (or `baseline` in the configuration)")
        return EXIT_ERROR
    try:
        if opts.history is not None:
            from keyless.linter import history

            return history.run(opts, cfg, settings, excludes, fmt, opts.history)
        if opts.paths == ["-"]:
            return _check_stdin(opts, cfg, settings, fmt, excludes)
        return _check_paths(opts, cfg, settings, excludes, fmt)
    except (ConfigError, SelectorError, _baseline_error()) as exc:  # evaluated only when one is raised
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_ERROR


def _baseline_error() -> type[Exception]:
    from keyless.linter.baseline import BaselineError  # not imported by a run without a baseline

    return BaselineError


# ---- stdin (editors) --------------------------------------------------------------------------

def _check_stdin(opts, cfg, settings: Settings, fmt: str, excludes: list[str] | None = None) -> int:
    from keyless.linter.documents import BinaryFile, decode, make_document
    from keyless.linter.discovery import relative_to

    if opts.update_baseline:
        _err("--update-baseline needs files to scan, not stdin")
        return EXIT_ERROR
    name = opts.stdin_filename or "stdin"
    relpath = relative_to(name, settings.root) if opts.stdin_filename else "stdin"
    baseline = _read_baseline(opts.baseline or cfg.path_setting("baseline"), update=False)
    data = sys.stdin.buffer.read()
    try:
        text, srcfmt = decode(data)
    except BinaryFile as exc:
        _err(f"{relpath}: {exc}")
        return EXIT_ERROR
    doc = make_document(os.path.join(settings.root, relpath), relpath, text, srcfmt)
    rs = rule_set()
    ctx, cache = _stdin_context(opts, cfg, settings, excludes or [], doc)

    def facts_for(result):
        if ctx is None:
            return None
        from keyless.linter.context import needed

        return ctx.facts() if needed([result]) else []

    def lint(d):
        result = lint_document(d, settings, rs)
        return finish([result], settings, context=facts_for(result), cache=cache).findings

    def beyond_baseline(findings):
        """As `check` judges files: the baseline's entries for this path (editors and CI agree)."""
        if baseline is None:
            return findings
        if any(p == relpath for (_, p, _) in baseline.legacy):
            from keyless.linter.baseline import migrate_document

            migrate_document(baseline, make_document(doc.path, relpath, text, srcfmt), settings, findings)
        return baseline.filter(findings)

    if opts.fix or opts.show_diff:
        from keyless.linter.fixes import fix_document

        outcome = fix_document(doc, lint, unsafe=opts.unsafe_fixes, rules_by_code=rs.by_code)
        for dropped in outcome.dropped:
            _note_dropped(dropped)
        if cache is not None:
            cache.save()
        if opts.show_diff:
            sys.stdout.write(_diff(doc, outcome.text, rs))
            return EXIT_FINDINGS if outcome.text != text else EXIT_CLEAN
        sys.stdout.write(outcome.text)  # the editor's own buffer, fixed
        remaining = beyond_baseline(outcome.remaining)
        return EXIT_FINDINGS if remaining and not opts.exit_zero else EXIT_CLEAN
    result = lint_document(doc, settings, rs)
    res = finish([result], settings, context=facts_for(result), cache=cache)
    if cache is not None:
        cache.save()
    res.findings = beyond_baseline(res.findings)
    res.files_scanned = 1
    if not _emit(res, cfg, fmt, opts, settings, docs={relpath: doc}):
        return EXIT_ERROR
    return _exit_code(res, opts)


def _stdin_context(opts, cfg, settings: Settings, excludes: list[str], doc):
    """The rest of the project for the text on stdin (keyless.linter.context) and the cache it
    uses; the document's companions come from the same listing, with the stdin text standing
    for the file."""
    from keyless.linter import context as project_context
    from keyless.linter.discovery import Candidate

    if not opts.stdin_filename or os.path.isabs(doc.relpath) or not project_context.wanted(cfg, [], settings.root):
        return None, None
    cache = _open_cache(opts, cfg, settings)
    if cache is not None and cache.exclude_pattern(settings.root):
        excludes = excludes + [cache.exclude_pattern(settings.root)]
    ctx = project_context.ProjectContext(cfg, settings, excludes,
                                         named=[Candidate(doc.path, doc.relpath, len(doc.text), -1)],
                                         buffers={doc.path: doc.text}, cache=cache, jobs=opts.jobs)
    doc.workspace = ctx.workspace
    return ctx, cache


# ---- files --------------------------------------------------------------------------------------

def _changed_files(base: str, root: str, include_untracked: bool) -> set[str]:
    import subprocess

    def git(*args: str) -> list[str]:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        if out.returncode != 0:
            raise ConfigError(f"--diff-base: git {' '.join(args)} failed: {out.stderr.strip()[:200]}")
        return [line for line in out.stdout.splitlines() if line.strip()]

    top = git("rev-parse", "--show-toplevel")[0]
    merge_base = git("merge-base", base, "HEAD")[0]
    names = git("diff", "--name-only", "--diff-filter=ACMR", merge_base, "HEAD")
    if include_untracked:
        names += git("diff", "--name-only", "--diff-filter=ACMR")
        names += git("diff", "--name-only", "--cached", "--diff-filter=ACMR")
        names += git("ls-files", "--others", "--exclude-standard")
    from keyless.linter.discovery import relative_to

    return {relative_to(os.path.join(top, n), root) for n in names}


def _progress_printer(enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    import time

    start = time.monotonic()

    def show(done: int, total: int) -> None:
        if time.monotonic() - start < 1.0 or total == 0:
            return  # short scans never show a bar
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
        if done >= total:
            sys.stderr.write("\r" + " " * (width + 30) + "\r")
        sys.stderr.flush()

    return show


def _open_cache(opts, cfg, settings):
    if not opts.use_cache:
        return None
    from keyless.linter.cache import Cache

    return Cache.open(opts.cache_dir or cfg.path_setting("cache-dir"), settings)


def _check_paths(opts, cfg, settings: Settings, excludes, fmt: str) -> int:
    only = _changed_files(opts.diff_base, settings.root, opts.include_untracked) if opts.diff_base else None
    cache = _open_cache(opts, cfg, settings)
    if cache is not None:
        excludes = excludes + [cache.exclude_pattern(settings.root)] if cache.exclude_pattern(settings.root) else excludes
    res = lint_paths(opts.paths, cfg, settings, excludes=excludes, force_exclude=opts.force_exclude,
                     jobs=opts.jobs, cache=cache, only=only, progress=_progress_printer(opts.progress))
    if cache is not None:
        cache.save()
    fixed = 0
    docs: dict = {}
    if opts.fix or opts.show_diff:
        fixed, changed, res = _apply_fixes(res, settings, opts)
        if opts.show_diff:
            sys.stdout.write(changed)
            return EXIT_FINDINGS if changed else EXIT_CLEAN
    baseline_path = opts.baseline or cfg.path_setting("baseline")
    if baseline_path:
        from keyless.linter.baseline import describe

        base = _read_baseline(baseline_path, update=opts.update_baseline)
        outcome = _judge(base, res, settings, _scope(opts.paths, settings, only))
        if opts.update_baseline:
            outcome.updated.write(baseline_path)
            if not opts.quiet:
                from keyless.linter.report._common import printable

                print(f"keyless: baseline {printable(baseline_path)} updated: {_entries_summary(outcome)}",
                      file=sys.stderr)
            return EXIT_CLEAN
        res.findings = outcome.new
        for f, old in outcome.moved:
            res.notes.append(f"{f.path}:{f.span.start.line}: {f.code} is the baselined secret of {old}, "
                             "which no longer holds it (moved or renamed; --update-baseline records the new path)")
        for key in outcome.stale:
            res.notes.append(f"baseline entry no longer matches anything: {describe(key)} (run with --update-baseline)")
    if not _emit(res, cfg, fmt, opts, settings, fixed=fixed, docs=docs):
        return EXIT_ERROR
    return _exit_code(res, opts)


# ---- baseline -------------------------------------------------------------------------------------

def _read_baseline(path: str | None, *, update: bool):
    """The baseline at `path` (None without one). Updating may start a new file; an existing file
    that cannot be read is never replaced (BaselineError, exit 2)."""
    if not path:
        return None
    from keyless.linter.baseline import Baseline

    if update and not os.path.lexists(path):
        return Baseline()
    return Baseline.read(path)


def _scope(paths: list[str], settings: Settings, only: set[str] | None):
    """What this run judges: the paths it was given and the rules it ran."""
    from keyless.linter.baseline import Scope
    from keyless.linter.discovery import relative_to

    prefixes = []
    for p in paths:
        rel = relative_to(p, settings.root)
        prefixes.append("" if rel in (".", "") else rel.rstrip("/"))
    return Scope(tuple(prefixes), frozenset(only) if only is not None else None, settings.select)


def _judge(base, res: RunResult, settings: Settings, scope):
    """Translate keyless 0.1 entries of the scanned files, then reconcile."""
    from keyless.linter.baseline import migrate_document, secret_codes
    from keyless.linter.documents import BinaryFile
    from keyless.linter.engine import read_document

    current = res.findings + res.below_threshold
    for rel in sorted(base.legacy_paths(scope)):
        path = rel if os.path.isabs(rel) else os.path.join(settings.root, rel)
        try:
            doc = read_document(path, rel, settings.max_file_size)
        except (OSError, ValueError, BinaryFile):
            continue  # gone or unreadable: its entries are stale
        migrate_document(base, doc, settings, [f for f in current if f.path == rel])
    return base.reconcile(res.findings, scope, hidden=res.below_threshold, movable_codes=secret_codes())


def _entries_summary(outcome) -> str:
    total = len(outcome.updated)
    text = f"{total} entr{'y' if total == 1 else 'ies'}"
    if outcome.kept:
        text += f" ({outcome.kept} of files or rules this run did not scan kept as they were)"
    return text


def _note_dropped(dropped) -> None:
    from keyless.linter.report._common import printable

    print(f"keyless: {printable(str(dropped))}", file=sys.stderr)


def _diff(doc, new_text: str, rs) -> str:
    """The fix as a unified diff, every credential-looking value masked (suppressed or not)."""
    from keyless.linter.documents import make_document
    from keyless.linter.fixes import masked_diff

    after = make_document(doc.path, doc.relpath, new_text, doc.source_format)
    return masked_diff(doc.relpath, doc.text, new_text, _sensitive_spans(doc, rs), _sensitive_spans(after, rs))


def _sensitive_spans(doc, rs) -> set[tuple[int, int]]:
    """What every rule (selected or not) says must never be shown in this document."""
    spans: set[tuple[int, int]] = set()
    for rule in rs.rules:
        if doc.kind in rule.kinds:
            spans.update(rule.sensitive_spans(doc))
    return spans


def _apply_fixes(res: RunResult, settings: Settings, opts) -> tuple[int, str, RunResult]:
    """Fix, verify and write (or, for --diff, show) every file with an applicable fix. Returns the
    number of findings fixed, the diff text and the result with each fixed file's findings
    replaced by what remains. Dropped fixes are reported on stderr, one line each."""
    import hashlib

    from keyless.linter.engine import read_document
    from keyless.linter.fixes import (
        FileChanged, WriteRefused, allowed, findings_gone, fix_document, write_atomic,
    )

    rs = rule_set()
    by_code = rs.by_code
    paths = sorted({f.path for f in res.findings if allowed(f.fix, opts.unsafe_fixes)})
    fixed = 0
    diffs: list[str] = []
    written: set[tuple[int, int]] = set()  # (device, inode) of the files fixed in this run

    def lint(d):
        return finish([lint_document(d, settings, rs)], settings).findings

    from keyless.linter.readfile import read_regular_file

    for rel in paths:
        fr = res.file_results.get(rel)
        path = os.path.join(settings.root, rel) if not os.path.isabs(rel) else rel
        try:
            st = os.stat(path)
            original = read_regular_file(path)  # never blocks on a file swapped for a FIFO
            doc = read_document(path, rel, data=original)
        except Exception as exc:
            res.errors.append((rel, f"cannot fix: {exc}", None))
            continue
        if fr is not None and fr.content_hash and hashlib.sha256(original).hexdigest() != fr.content_hash:
            if (st.st_dev, st.st_ino) in written:  # another name of a file fixed above: show what is left
                left = lint(doc)
                fixed += findings_gone([f for f in res.findings if f.path == rel], left)
                res.findings = [f for f in res.findings if f.path != rel] + left
            else:
                res.errors.append((rel, "changed on disk since it was linted; not fixed", None))
            continue
        outcome = fix_document(doc, lint, unsafe=opts.unsafe_fixes, rules_by_code=by_code)
        for dropped in outcome.dropped:
            _note_dropped(dropped)
        if outcome.text == doc.text:
            continue
        if opts.show_diff:
            try:
                diffs.append(_diff(doc, outcome.text, rs))
            except Exception as exc:  # masking failed: never show the diff unmasked
                res.errors.append((rel, f"cannot show the diff: {type(exc).__name__}", None))
            continue
        try:
            write_atomic(path, outcome.text, doc, expected=original, root=settings.root)
        except (FileChanged, WriteRefused) as exc:
            res.errors.append((rel, str(exc).split(": ", 1)[-1], None))
            continue
        except OSError as exc:
            res.errors.append((rel, f"cannot write fix: {exc.strerror or exc}", None))
            continue
        written.add((st.st_dev, st.st_ino))
        fixed += outcome.fixed
        res.findings = [f for f in res.findings if f.path != rel] + outcome.remaining
    res.findings.sort(key=Finding.sort_key)
    return fixed, "".join(diffs), res


def _materialize_for_output(res: RunResult, settings: Settings, docs: dict) -> None:
    """JSON/SARIF show concrete edits: compute the lazy fixes linting left (--fix and --diff runs,
    stdin); a scan computed them in its workers already."""
    from keyless.linter.engine import read_document
    from keyless.linter.fixes import with_concrete_fix

    if not any(f.fix is not None and f.fix.lazy for f in res.findings):
        return
    by_code = rule_set().by_code
    out = []
    for f in res.findings:
        if f.fix is not None and f.fix.lazy and f.path not in docs:
            try:
                docs[f.path] = read_document(os.path.join(settings.root, f.path), f.path)
            except Exception:
                docs[f.path] = None
        out.append(with_concrete_fix(docs.get(f.path), f, by_code))
    res.findings = out


def _emit(res: RunResult, cfg, fmt: str, opts, settings, *, fixed: int = 0, docs: dict | None = None,
          extra_warnings=(), history: dict | None = None) -> bool:
    """Print or write the report; False when it could not be delivered (then exit 2)."""
    from keyless.linter.report import FileError, Report, render, render_notes
    from keyless.linter.report._common import printable

    if fmt in ("json", "sarif"):
        _materialize_for_output(res, settings, docs if docs is not None else {})
    from keyless.linter.report.paths import rebase, report_base

    # Machine formats: paths from the repository root; text: from the current directory.
    base = report_base(settings.root, fmt)
    if opts.paths == ["-"] and not opts.stdin_filename:  # "stdin" names no file
        base = dataclasses.replace(base, root=os.path.realpath(settings.root))

    project_root = os.path.realpath(settings.root)

    def where(path: str) -> str:
        return path if base.root == project_root else rebase(path, project_root, base.root)

    report = Report(
        findings=[f.with_(path=where(f.path)) for f in res.findings],
        errors=[FileError(where(p), m, line) for p, m, line in res.errors]
        + [FileError(where(p), m if PARTIAL_CHECK in m else f"{m}; only secret-scanned", line, level="warning")
           for p, m, line in res.warnings]
        + [FileError(where(p), m, line, level="warning") for p, m, line in extra_warnings],
        notes=[] if opts.quiet else res.notes,
        registry=load_registry(),
        files_scanned=res.files_scanned,
        root=base.root,
        project_dir=base.project_dir,
        fixed=fixed,
        statistics=opts.statistics,
        color=opts.output_file is None and use_color(opts.color, fmt, sys.stdout),
        history=history,
    )
    text = render(fmt, report)
    notes = render_notes(dataclasses.replace(report, color=use_color(opts.color, fmt, sys.stderr)))  # stderr in every format: stdout (or -o) carries the report only
    if notes:
        sys.stderr.write(notes)
    if opts.output_file:
        from keyless.linter.output import OutputError, write_report

        try:
            write_report(opts.output_file, text)
        except OutputError as exc:
            _err(str(exc))
            return False
    else:
        try:
            sys.stdout.write(text)
            if text and not text.endswith("\n"):
                sys.stdout.write("\n")
            sys.stdout.flush()
        except BrokenPipeError:  # the reader closed it: the command line ends quietly (cli._reader_gone)
            raise
        except OSError as exc:  # a full disk
            _stdout_lost()
            _err(f"cannot write the report to stdout: {exc.strerror or type(exc).__name__}")
            return False
    if fmt != "text" or opts.output_file:
        # The report is for a machine or in a file: the log still shows every file problem, at
        # the level the report gives it.
        for e in report.errors:
            where = printable(e.path) + (f":{e.line}" if e.line else "")
            print(f"{where}: {e.level}: {printable(e.message)}", file=sys.stderr)
    return True


def use_color(mode: str, fmt: str, stream) -> bool:
    """ANSI colours for text output on `stream`: never for another format; `always`/`never` as
    asked; `auto` follows NO_COLOR (no-color.org), then FORCE_COLOR (force-color.org), then
    whether the stream is a terminal (not TERM=dumb)."""
    if fmt != "text" or mode == "never":
        return False
    if mode == "always":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


def _stdout_lost() -> None:
    """Point stdout at the null device: the interpreter's final flush must not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
        pass


def _exit_code(res: RunResult, opts) -> int:
    """0 clean, 1 findings, 2 a file that could not be checked (or, with --strict, one that was
    only partly checked). --exit-zero only turns findings into 0."""
    if res.errors or (opts.strict and res.warnings):
        return EXIT_ERROR
    if res.findings and not opts.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def write_baseline(opts: CheckOptions, output: str | None) -> int:
    from keyless.linter.baseline import BaselineError

    try:
        cfg, settings, excludes = _prepare(opts)
    except (ConfigError, SelectorError, RuleError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    try:
        target = output or cfg.path_setting("baseline") or os.path.join(settings.root, ".keyless-baseline.json")
        # An existing baseline is read first: entries of files and rules this run does not cover
        # are kept, and one that cannot be read is never overwritten.
        existing = _read_baseline(target, update=True)
        cache = _open_cache(opts, cfg, settings)
        res = lint_paths(opts.paths, cfg, settings, excludes=excludes, cache=cache)
        if cache is not None:
            cache.save()
        outcome = _judge(existing, res, settings, _scope(opts.paths, settings, None))
        outcome.updated.write(target)
    except (ConfigError, BaselineError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_ERROR
    from keyless.linter.report._common import printable

    print(f"keyless: wrote {printable(target)}: {len(res.findings)} findings in "
          f"{len({f.path for f in res.findings})} files; {_entries_summary(outcome)}", file=sys.stderr)
    for level, problems in (("error", res.errors), ("warning", res.warnings)):
        for p, m, line in problems:
            print(f"{printable(p)}{':' + str(line) if line else ''}: {level}: {printable(m)}", file=sys.stderr)
    return EXIT_ERROR if res.errors else EXIT_CLEAN
