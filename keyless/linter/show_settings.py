"""`keyless check --show-settings`: the settings a run would use and where each came from, as
TOML-like lines (`key = value  # source`), like `ruff check --show-settings`. Nothing is linted."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from keyless.linter.config import DEFAULT_EXCLUDES, DEFAULT_MAX_FILE_SIZE, default_cache_dir

if TYPE_CHECKING:
    from keyless.linter.config import Config
    from keyless.linter.engine import Settings
    from keyless.linter.session import CheckOptions


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if value is None:
        return '""'
    return json.dumps(value, ensure_ascii=False)


def render(opts: "CheckOptions", cfg: "Config", settings: "Settings", excludes: list[str]) -> str:
    from keyless.linter.report._common import printable
    from keyless.linter.report.paths import repository_root

    def origin(key: str) -> str:
        return cfg.origins.get(key) or cfg.path or "default"

    def env_or_cli(option: str, env: str, value: Any) -> str:
        return f"environment {env}" if os.environ.get(env) == value else f"command line {option}"

    rows: list[tuple[str, Any, str]] = []

    def row(key: str, value: Any, source: str) -> None:
        rows.append((key, value, source))

    def configured(key: str, cli_value: Any, option: str, default: Any, shown: Any = None,
                   default_source: str = "default") -> None:
        if cli_value not in (None, [], (), False):
            row(key, shown if shown is not None else cli_value, f"command line {option}")
        elif key in cfg.raw:
            row(key, cfg.raw[key], origin(key))
        else:
            row(key, default, default_source)

    configured("select", opts.select, "--select", ["ALL"], default_source="default: every stable rule")
    if cfg.raw.get("extend-select") or opts.extend_select:
        sources = [s for s in (origin("extend-select") if "extend-select" in cfg.raw else "",
                               "command line --extend-select" if opts.extend_select else "") if s]
        row("extend-select", [*cfg.raw.get("extend-select", []), *opts.extend_select], " + ".join(sources))
    if cfg.raw.get("ignore") or opts.ignore:
        sources = [s for s in (origin("ignore") if "ignore" in cfg.raw else "",
                               "command line --ignore" if opts.ignore else "") if s]
        row("ignore", [*cfg.raw.get("ignore", []), *opts.ignore], " + ".join(sources))
    pfi = dict(cfg.raw.get("per-file-ignores", {}))
    if pfi or opts.per_file_ignores:
        sources = [s for s in (origin("per-file-ignores") if pfi else "",
                               "command line --per-file-ignores" if opts.per_file_ignores else "") if s]
        for glob, codes in settings.per_file_ignores:
            pfi[glob] = sorted(codes)
        row("per-file-ignores", pfi, " + ".join(sources))
    if opts.exclude is not None:
        row("exclude", opts.exclude, "command line --exclude")
    elif "exclude" in cfg.raw:
        row("exclude", cfg.raw["exclude"], origin("exclude"))
    else:
        row("exclude", list(DEFAULT_EXCLUDES), "default")
    if cfg.raw.get("extend-exclude") or opts.extend_exclude:
        sources = [s for s in (origin("extend-exclude") if "extend-exclude" in cfg.raw else "",
                               "command line --extend-exclude" if opts.extend_exclude else "") if s]
        row("extend-exclude", [*cfg.raw.get("extend-exclude", []), *opts.extend_exclude], " + ".join(sources))
    if not opts.respect_gitignore:
        row("respect-gitignore", False, "command line --no-respect-gitignore")
    else:
        configured("respect-gitignore", None, "", True)
    configured("severity", opts.severity, "--severity", "low", shown=settings.severity.value)
    configured("max-file-size", opts.max_file_size, "--max-file-size", DEFAULT_MAX_FILE_SIZE)
    if opts.follow_symlinks:
        row("follow-symlinks", True, "command line --follow-symlinks")
    else:
        configured("follow-symlinks", None, "", False)

    def path_setting(key: str, cli_value: str | None, option: str, env: str | None, default: str, label: str):
        if cli_value:
            row(key, cli_value, env_or_cli(option, env, cli_value) if env else f"command line {option}")
        elif key in cfg.raw:  # resolved against the file that set it; refused if it leaves the project
            resolved = getattr(cfg, key.replace("-", "_"))
            refused = cfg.refused.get(key)
            row(key, resolved, origin(key) + (" (refused: outside the project)" if refused else ""))
        else:
            row(key, default, label)

    path_setting("baseline", opts.baseline, "--baseline", None, "", "default: none")
    path_setting("cache-dir", opts.cache_dir, "--cache-dir", "KEYLESS_CACHE_DIR", default_cache_dir(), "default")
    if opts.output_format:
        row("output-format", opts.output_format,
            env_or_cli("--output-format", "KEYLESS_OUTPUT_FORMAT", opts.output_format))
    else:
        configured("output-format", None, "", "text")

    width = max(len(k) for k, _, _ in rows)
    project = settings.root
    lines = [
        "# keyless check --show-settings",
        f"# project root:    {printable(project)}"
        + ("  (the configuration's directory)" if cfg.path and not opts.config_path else ""),
        f"# repository root: {printable(repository_root(project))}  (machine formats name files from here)",
        f"# configuration:   {printable(cfg.path) if cfg.path else 'none (defaults)'}",
    ]
    lines += [f"#   extends:       {printable(base)}" for base in cfg.extends]
    for key, value, source in rows:
        lines.append(f"{key:<{width}} = {printable(_toml(value))}  # {printable(source)}")
    codes = sorted(settings.select)
    lines.append(f"# resolved: {len(codes)} rules selected, severity >= {settings.severity.value}, "
                 f"{len(excludes)} exclude patterns")
    lines.append(f"rules = {_toml(codes)}")
    return "\n".join(lines) + "\n"
