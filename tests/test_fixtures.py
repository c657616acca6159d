"""Every fixtures/KLxxx/ directory is checked automatically (semgrep-style annotations).

A comment `ruleid: KLxxx` on the line above a line means that line must be flagged with KLxxx;
`ok: KLxxx` marks a look-alike that must stay quiet. JSON files (no comments) use a sidecar
`<file>.expect` with `LINE CODE` lines. `good*` files must produce no finding of the directory's code.
"""

from __future__ import annotations

import os
import re

import pytest

from conftest import FIXTURES
from keyless.linter.engine import lint_source
from keyless.linter.messages import HELP_MAX, MESSAGE_MAX, problems
from keyless.linter.rule import load_registry

ANNOTATION = re.compile(r"(ruleid|ok):\s*(KL\d{3}(?:\s*,\s*KL\d{3})*)")


def assert_short_messages(findings):
    """Every finding of every fixture keeps to the message rules (keyless/linter/messages.py):
    one line of at most MESSAGE_MAX characters, a one-line help of at most HELP_MAX."""
    bad = []
    for f in findings:
        where = f"{f.path}:{f.span.start.line}: {f.code}"
        bad += [f"{where}: {p}: {f.message!r}" for p in problems(f.message, MESSAGE_MAX)]
        if f.message.endswith("."):
            bad.append(f"{where}: message ends with a period (ruff style: no period): {f.message!r}")
        if f.fix is not None:
            bad += [f"{where}: {p}: {f.fix.message!r}" for p in problems(f.fix.message, HELP_MAX, what="help")]
    assert not bad, "\n".join(bad)


def fixture_files():
    if not os.path.isdir(FIXTURES):
        return []
    out = []
    for code in sorted(os.listdir(FIXTURES)):
        d = os.path.join(FIXTURES, code)
        if not re.fullmatch(r"KL\d{3}", code) or not os.path.isdir(d):
            continue
        for root, dirs, files in os.walk(d):
            dirs[:] = [x for x in dirs if not x.startswith("project")]  # checked as whole projects
            for name in sorted(files):
                if name.endswith(".expect"):
                    continue
                out.append((code, os.path.join(root, name)))
    return out


def expectations(path: str, text: str):
    want: set[tuple[int, str]] = set()
    quiet: set[tuple[int, str]] = set()
    sidecar = path + ".expect"
    if os.path.exists(sidecar):
        for line in open(sidecar, encoding="utf-8"):
            parts = line.split()
            if len(parts) >= 2 and parts[0].isdigit():
                want.add((int(parts[0]), parts[1]))
    lines = text.splitlines()
    for i, line in enumerate(lines, start=1):
        for m in ANNOTATION.finditer(line):
            target = i + 1
            for code in re.split(r"\s*,\s*", m.group(2)):
                (want if m.group(1) == "ruleid" else quiet).add((target, code))
    return want, quiet


@pytest.mark.parametrize("code,path", fixture_files(), ids=lambda v: os.path.relpath(v, FIXTURES) if isinstance(v, str) and os.sep in v else v)
def test_fixture(code, path):
    registry = load_registry()
    if registry.get(code) is None:
        pytest.fail(f"fixtures/{code} exists but no rule {code} is registered")
    with open(path, "rb") as fh:
        data = fh.read()
    from keyless.linter.documents import decode

    text, _ = decode(data)
    relpath = os.path.relpath(path, FIXTURES).replace(os.sep, "/")
    want, quiet = expectations(path, text)
    codes_in_play = {code} | {c for _, c in want | quiet}
    codes_in_play = {c for c in codes_in_play if registry.get(c) is not None}
    findings = lint_source(text, relpath, select=sorted(codes_in_play))
    assert_short_messages(findings)
    found = {(f.span.start.line, f.code) for f in findings}
    name = os.path.basename(path)
    if name.startswith("good"):
        assert not {x for x in found if x[1] == code}, f"{relpath}: look-alikes flagged: {sorted(found)}"
    missing = want - found
    unexpected = {x for x in found if x[1] in codes_in_play and x not in want}
    assert not missing, f"{relpath}: expected findings not reported: {sorted(missing)}; got {sorted(found)}"
    assert not unexpected, f"{relpath}: unexpected findings: {sorted(unexpected)}"
    assert not (quiet & found), f"{relpath}: look-alikes flagged: {sorted(quiet & found)}"


def test_every_rule_has_bad_and_good_fixtures():
    registry = load_registry()
    missing = []
    for cls in registry:
        d = os.path.join(FIXTURES, cls.code)
        names = os.listdir(d) if os.path.isdir(d) else []
        if not any(n.startswith("bad") for n in names) or not any(n.startswith("good") for n in names):
            missing.append(cls.code)
    assert not missing, f"rules without bad*/good* fixtures: {missing}"


def project_dirs():
    out = []
    if not os.path.isdir(FIXTURES):
        return out
    for code in sorted(os.listdir(FIXTURES)):
        d = os.path.join(FIXTURES, code)
        if re.fullmatch(r"KL\d{3}", code) and os.path.isdir(d):
            out += [(code, os.path.join(d, p)) for p in sorted(os.listdir(d))
                    if p.startswith("project") and os.path.isdir(os.path.join(d, p))]
    return out


@pytest.mark.parametrize("code,project", project_dirs(), ids=lambda v: os.path.relpath(v, FIXTURES) if isinstance(v, str) and os.sep in v else v)
def test_fixture_project(code, project):
    """A `project*` directory is linted as one repository, so project-wide rules (apps linked
    across files) see every file; annotations in all its files are checked together."""
    from keyless.linter.config import Config
    from keyless.linter.documents import decode
    from keyless.linter.engine import Settings, lint_paths, resolve_selection

    registry = load_registry()
    want: set[tuple[str, int, str]] = set()
    quiet: set[tuple[str, int, str]] = set()
    for root, _, files in os.walk(project):
        for name in files:
            if name.endswith(".expect"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, project).replace(os.sep, "/")
            text, _ = decode(open(path, "rb").read())
            w, q = expectations(path, text)
            want |= {(rel, line, c) for line, c in w}
            quiet |= {(rel, line, c) for line, c in q}
    codes_in_play = sorted({code} | {c for *_, c in want | quiet if registry.get(c) is not None})
    settings = Settings(root=project, select=resolve_selection(registry, codes_in_play))
    cfg = Config(root=project)
    res = lint_paths([project], cfg, settings, excludes=[], jobs=1)
    assert_short_messages(res.findings)
    found = {(f.path, f.span.start.line, f.code) for f in res.findings}
    assert not (want - found), f"expected findings not reported: {sorted(want - found)}; got {sorted(found)}"
    assert not (found - want), f"unexpected findings: {sorted(found - want)}"
    assert not (quiet & found)
