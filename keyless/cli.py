"""The `keyless` command line. Exit codes: 0 clean, 1 findings, 2 usage/config/internal error or
a file that could not be checked, 141 the output's reader went away (README, "Exit codes")."""

from __future__ import annotations

import json
import os
import sys

import click

from keyless import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program SIGPIPE ended (`git log | head -1`)
FORMATS = ("text", "json", "sarif", "github", "azure", "junit", "gitlab")


class UsageError(click.UsageError):
    exit_code = EXIT_ERROR


def _fail(message: str) -> None:
    from keyless.linter.report._common import printable

    click.echo(f"keyless: error: {printable(message)}", err=True)
    sys.exit(EXIT_ERROR)


def _split(values: tuple[str, ...], option: str) -> list[str]:
    """Comma-separated selectors. An empty one (`--select ''` from an unset shell variable, a
    stray comma) is a usage error: it must never quietly select nothing."""
    out = []
    for item in values:
        for v in item.split(","):
            if not v.strip():
                raise UsageError(f"{option}: empty rule selector in {item!r}")
            out.append(v.strip())
    return out


def _globs(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _complete_selector(ctx, param, incomplete: str):
    """Shell completion (`_KEYLESS_COMPLETE`, README) of the last selector in a comma list."""
    from click.shell_completion import CompletionItem

    from keyless.linter.finding import Category
    from keyless.linter.rule import load_registry

    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    reg = load_registry()
    words = [("ALL", "every rule")] + [(c.value, "category") for c in Category]
    words += [(rule.code, rule.name) for rule in reg]
    return [CompletionItem(prefix + word, help=about) for word, about in words
            if word.lower().startswith(last.lower())]


def _reader_gone() -> None:
    """The reader of our output went away (`keyless rules | head -1`): stop at once and quietly,
    as a program SIGPIPE ends does, with the status a shell gives one (141). Never 0 or 1: a check
    whose report was not delivered must not pass, nor claim findings it could not show."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # what is still buffered goes nowhere, not to a last flush
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
                pass
    sys.exit(EXIT_BROKEN_PIPE)


class _Main(click.Group):
    """The last resort: any unexpected exception is one line on stderr and exit 2, never a
    traceback with exit 1 (the findings code). KEYLESS_DEBUG=1 shows the traceback. A closed
    stdout or stderr ends the run quietly with 141 (`_reader_gone`), wherever it is noticed: while
    printing help, a report, an error, or in the last flush."""

    def main(self, *args, **kwargs):
        try:
            rv = super().main(*args, **kwargs)
        except SystemExit:
            self._flush()
            raise
        self._flush()
        return rv

    @staticmethod
    def _flush() -> None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _reader_gone()
        except (OSError, ValueError):
            pass

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:  # --help, --version
            _reader_gone()

    def invoke(self, ctx: click.Context):
        try:
            return self._invoke(ctx)
        except BrokenPipeError:
            _reader_gone()

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, BrokenPipeError):
            raise
        except (KeyboardInterrupt, EOFError):
            click.echo("keyless: error: interrupted", err=True)
            sys.exit(EXIT_ERROR)
        except OSError as exc:  # the file system said no (a full disk, a read-only directory): no bug
            from keyless.linter.report._common import printable

            where = f": {printable(os.fsdecode(exc.filename))}" if exc.filename else ""
            click.echo(f"keyless: error: {exc.strerror or type(exc).__name__}{where}", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if os.environ.get("KEYLESS_DEBUG"):
                import traceback

                traceback.print_exc()
            # The exception's own text may quote a file (a parser's message): its type and where
            # it was raised in keyless only.
            click.echo(f"keyless: error: internal error ({type(exc).__name__}{_where(exc)}); "
                       "set KEYLESS_DEBUG=1 for the traceback and please report it", err=True)
            sys.exit(EXIT_ERROR)


def _where(exc: BaseException) -> str:
    """` at keyless/<module>.py:<line>`: the innermost frame in keyless's own code."""
    import traceback

    package = os.path.dirname(os.path.abspath(__file__))
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if path.startswith(package + os.sep):
            found = f" at keyless/{os.path.relpath(path, package).replace(os.sep, '/')}:{frame.lineno}"
    return found


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="keyless")
@click.pass_context
def main(ctx: click.Context) -> None:
    """keyless: find leaked Azure credentials and key-based auth; propose the managed-identity fix."""
    if ctx.invoked_subcommand != "check":  # `check` ends start-up once its rules are loaded
        from keyless import startup

        startup.end()
    for stream in (sys.stdout, sys.stderr):  # redacted values use "…": never crash on a C locale
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output-format", "output_format", type=click.Choice(FORMATS), default=None,
              envvar="KEYLESS_OUTPUT_FORMAT", help="Output format (default: text).")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the report to a file.")
@click.option("--select", multiple=True, shell_complete=_complete_selector,
              help="Rules to enable, replacing the default: ALL, a category (secret, key-auth...), codes, "
                   "prefixes (KL1) or names.")
@click.option("--extend-select", multiple=True, shell_complete=_complete_selector, help="Rules to enable in addition.")
@click.option("--ignore", multiple=True, shell_complete=_complete_selector, help="Rules to disable.")
@click.option("--per-file-ignores", "per_file_ignores", multiple=True, metavar="GLOB:CODES",
              help="Ignore codes in files matching a glob, e.g. 'tests/**:KL101,KL102'.")
@click.option("--exclude", multiple=True, help="Replace the default excludes (gitignore-style globs).")
@click.option("--extend-exclude", multiple=True, help="Add excludes.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to paths given explicitly (pre-commit).")
@click.option("--no-respect-gitignore", is_flag=True, help="Also lint files .gitignore excludes.")
@click.option("--stdin-filename", type=str, help="With '-': the path the stdin text belongs to.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Use this config file.")
@click.option("--severity", type=click.Choice(["info", "low", "medium", "high", "critical"]),
              help="Report findings at or above this severity.")
@click.option("--max-file-size", type=str, help="Skip files bigger than this (e.g. 5MB).")
@click.option("--statistics", is_flag=True, help="Show per-rule counts instead of findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (2 still means error).")
@click.option("--strict", is_flag=True,
              help="Exit 2 when a file was only partly checked (could not be parsed: secret-scanned only).")
@click.option("--fix", is_flag=True, help="Apply safe fixes.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix/--diff: also apply unsafe fixes.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a diff, write nothing (exit 1 if any).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default and maximum: the CPUs available).")
@click.option("--follow-symlinks", is_flag=True,
              help="Follow symbolic links that leave the project, and directory links.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="KEYLESS_CACHE_DIR", help="Cache location.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), help="Only report findings not in this baseline.")
@click.option("--update-baseline", is_flag=True, help="With --baseline: rewrite it with the current findings.")
@click.option("--diff-base", type=str, help="Only report files changed since `git merge-base REF HEAD`.")
@click.option("--include-untracked", is_flag=True, help="With --diff-base: also staged, unstaged and untracked files.")
@click.option("--history", "history", is_flag=False, flag_value="", default=None, metavar="[RANGE]",
              help="Scan the lines commits added instead of the files: all of HEAD's history, or RANGE "
                   "(e.g. origin/main..HEAD). PATHS limit it to those paths.")
@click.option("--all", "all_refs", is_flag=True, help="With --history: the commits of every branch and tag.")
@click.option("--pre-push", is_flag=True,
              help="Scan the commits being pushed (pre-commit's pre-push stage; implies --history).")
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
@click.option("-q", "--quiet", is_flag=True, help="Only print findings and errors.")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and the file each came from; lint nothing.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (auto: a terminal, unless NO_COLOR is set; FORCE_COLOR forces it).")
def check(paths, output_format, output_file, select, extend_select, ignore, per_file_ignores, exclude,
          extend_exclude, force_exclude, no_respect_gitignore, stdin_filename, config_path, severity,
          max_file_size, statistics, exit_zero, strict, fix, unsafe_fixes, show_diff, jobs, follow_symlinks, no_cache,
          cache_dir, baseline_path, update_baseline, diff_base, include_untracked, history, all_refs, pre_push,
          no_progress, quiet, show_settings, color):
    """Lint PATHS (default: the current directory). Use '-' to read one file from stdin."""
    from keyless.linter.session import CheckOptions, run_check

    request = _history_request(paths, history, all_refs, pre_push, fix or show_diff, diff_base, stdin_filename)

    opts = CheckOptions(
        paths=list(paths) or ["."],
        output_format=output_format,
        output_file=output_file,
        select=_split(select, "--select") if select else None,
        extend_select=_split(extend_select, "--extend-select"),
        ignore=_split(ignore, "--ignore"),
        per_file_ignores=per_file_ignores,
        exclude=_globs(exclude) if exclude else None,
        extend_exclude=_globs(extend_exclude),
        force_exclude=force_exclude,
        respect_gitignore=not no_respect_gitignore,
        stdin_filename=stdin_filename,
        config_path=config_path,
        severity=severity,
        max_file_size=max_file_size,
        statistics=statistics,
        exit_zero=exit_zero,
        strict=strict,
        fix=fix,
        unsafe_fixes=unsafe_fixes,
        show_diff=show_diff,
        jobs=jobs,
        follow_symlinks=follow_symlinks,
        use_cache=not no_cache,
        cache_dir=cache_dir,
        baseline=baseline_path,
        update_baseline=update_baseline,
        diff_base=diff_base,
        include_untracked=include_untracked,
        progress=not no_progress,
        quiet=quiet,
        show_settings=show_settings,
        color=color,
        history=request,
    )
    sys.exit(run_check(opts))


def _history_request(paths, history, all_refs, pre_push, fixing, diff_base, stdin_filename):
    """--history / --all / --pre-push as a HistoryRequest (None: a scan of files)."""
    if history is None and not pre_push:
        if all_refs:
            raise UsageError("--all needs --history")
        return None
    if pre_push and history:
        raise UsageError("--pre-push scans the pushed commits: give no --history RANGE with it")
    if fixing or diff_base or stdin_filename or "-" in paths:
        raise UsageError("--history cannot be combined with --fix, --diff, --diff-base or stdin ('-')")
    from keyless.linter.history import HistoryRequest

    return HistoryRequest(revisions=(history or "").split(), all_refs=all_refs, pre_push=pre_push,
                          pathspecs=[f":(literal){p}" for p in paths])


@main.command()
@click.option("--output-format", "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              help="text (with a legend), json, or the README's markdown table.")
def rules(fmt: str) -> None:
    """List every rule: code, fix availability, category, severity, name; then a legend."""
    from keyless.linter.rule import load_registry
    from keyless.linter.rule_docs import rule_json, rules_text

    reg = load_registry()
    if fmt == "json":
        click.echo(json.dumps([rule_json(cls, with_tests=False) for cls in reg], indent=2))
    elif fmt == "markdown":
        click.echo(rules_markdown(reg))
    else:
        click.echo(rules_text(reg), nl=False)


def rules_markdown(reg) -> str:
    """The README rules table, generated from the registry (a test keeps the README in sync)."""
    lines = ["| Code | Name | Category | Severity | Fix | Summary |", "|---|---|---|---|---|---|"]
    for cls in reg:
        fix = cls.fix_applicability.value if cls.fix_applicability else "—"
        summary = cls.summary().replace("|", "\\|")
        lines.append(f"| {cls.code} | `{cls.name}` | {cls.category.value} | {cls.severity.value} | {fix} | {summary} |")
    return "\n".join(lines)


@main.command()
@click.argument("code", required=False)
@click.option("--all", "all_rules", is_flag=True, help="Every rule (with --format markdown: the docs/rules pages).")
@click.option("--format", "--output-format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="With --all --format markdown: write one page per rule and an index here.")
def explain(code: str | None, all_rules: bool, fmt: str, output_dir: str | None) -> None:
    """Print a rule's documentation (what, why, example, fix, fix safety) and where its code,
    fixtures and tests live."""
    from keyless.linter import rule_docs
    from keyless.linter.rule import load_registry

    reg = load_registry()
    if all_rules == (code is not None):
        raise UsageError("give one rule CODE, or --all")
    if output_dir and not (all_rules and fmt == "markdown"):
        raise UsageError("--output-dir needs --all --format markdown")
    if all_rules:
        if output_dir:
            written = rule_docs.write_pages(reg, output_dir)
            click.echo(f"keyless: wrote {len(written)} pages to {output_dir}", err=True)
        elif fmt == "json":
            click.echo(json.dumps([rule_docs.rule_json(cls) for cls in reg], indent=2))
        elif fmt == "markdown":
            click.echo(rule_docs.all_markdown(reg), nl=False)
        else:
            click.echo("\n".join(rule_docs.explain_text(cls) for cls in reg), nl=False)
        return
    cls = reg.get(code)
    if cls is None:
        _fail(f"unknown rule {code!r}; `keyless rules` lists them")
    if fmt == "json":
        click.echo(json.dumps(rule_docs.rule_json(cls), indent=2))
    elif fmt == "markdown":
        click.echo(rule_docs.rule_page(cls), nl=False)
    else:
        click.echo(rule_docs.explain_text(cls), nl=False)


@main.group()
def baseline() -> None:
    """Adopt keyless on an existing repository: record today's findings, fail only on new ones."""


@baseline.command("write")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None,
              help="Baseline file (default: the configured one, else .keyless-baseline.json).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False))
@click.option("--select", multiple=True, shell_complete=_complete_selector)
@click.option("--ignore", multiple=True, shell_complete=_complete_selector)
@click.option("--no-cache", is_flag=True)
@click.option("--follow-symlinks", is_flag=True, help="As for `check`.")
def baseline_write(paths, output, config_path, select, ignore, no_cache, follow_symlinks):
    """Write a baseline of the current findings in PATHS (entries of other files are kept)."""
    from keyless.linter.session import CheckOptions, write_baseline

    opts = CheckOptions(paths=list(paths) or ["."], config_path=config_path,
                        select=_split(select, "--select") if select else None, ignore=_split(ignore, "--ignore"),
                        use_cache=not no_cache, progress=False, follow_symlinks=follow_symlinks)
    sys.exit(write_baseline(opts, output))


@main.command()
@click.option("--stdio", is_flag=True, default=True, help="Talk LSP over stdin/stdout (the default).")
def server(stdio: bool) -> None:
    """Run the language server (needs keyless's `lsp` extra: pip install './keyless[lsp]')."""
    try:
        from keyless.linter.lsp import serve
    except ImportError as exc:
        _fail(f"the language server needs keyless's lsp extra (pip install './keyless[lsp]' from a clone): {exc}")
    serve()


if __name__ == "__main__":  # pragma: no cover
    main()
