"""Every fixtures/KL1xx directory of the secret rules, checked rule by rule (no engine needed).

`ruleid: KLxxx` on the line above a line means that line is flagged; `ok: KLxxx` marks a look-alike
that must not be; JSON files use `<file>.expect` (`LINE CODE` per line). good* files have no finding.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from keyless.linter.documents import make_document
from keyless.rules.secrets import RULES

ROOT = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
BY_CODE = {r.code: r for r in RULES}
MARK = re.compile(r"\b(ruleid|ok):\s*(KL\d{3})")


def _cases():
    for code in sorted(BY_CODE):
        d = ROOT / code
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.is_file() and not f.name.endswith(".expect") and f.name.startswith(("bad", "good")):
                yield pytest.param(code, f, id=f"{code}/{f.name}")


def expected_lines(path: pathlib.Path, code: str, text: str) -> tuple[set[int], set[int]]:
    want, ok = set(), set()
    side = path.with_name(path.name + ".expect")
    if side.exists():
        for line in side.read_text().splitlines():
            if line.strip():
                n, c = line.split()
                if c == code:
                    want.add(int(n))
        return want, ok
    for i, line in enumerate(text.splitlines(), start=1):
        for m in MARK.finditer(line):
            if m.group(2) == code:
                (want if m.group(1) == "ruleid" else ok).add(i + 1)
    return want, ok


def run(code: str, path: pathlib.Path, text: str):
    rel = f"fixtures/{code}/{path.name}"
    doc = make_document(str(path), rel, text)
    return list(BY_CODE[code]().check(doc))


@pytest.mark.parametrize("code,path", list(_cases()))
def test_fixture(code, path):
    text = path.read_text(encoding="utf-8")
    want, ok = expected_lines(path, code, text)
    got = {f.span.start.line for f in run(code, path, text)}
    if path.name.startswith("good"):
        assert not got, f"{path.name}: unexpected {code} on lines {sorted(got)}"
        assert not want
    else:
        assert want, f"{path.name} has no expectations"
        assert got == want, f"{path.name}: missing {sorted(want - got)}, unexpected {sorted(got - want)}"
    assert not (got & ok)


@pytest.mark.parametrize("code,path", list(_cases()))
def test_fixture_findings_carry_keyword_and_no_secret(code, path):
    """The prefilter keywords are necessary: every finding's file contains one of them; and the
    message, fix and fingerprint never contain the flagged value."""
    text = path.read_text(encoding="utf-8")
    rule = BY_CODE[code]
    doc = make_document(str(path), f"fixtures/{code}/{path.name}", text)
    for f in rule().check(doc):
        low = text.lower()
        assert any(k.lower() in low for k in rule.keywords), (code, path.name)
        start = doc.lines.offset(f.span.start)
        end = doc.lines.offset(f.span.end)
        secret = text[start:end]
        assert len(secret) >= 8
        assert secret not in f.message
        assert secret not in (f.fix.message if f.fix else "")
        assert secret not in f.fingerprint
        assert f.fix is not None and f.fix.applicability.value == "display-only" and not f.fix.edits


def test_every_secret_rule_has_fixtures():
    for code in BY_CODE:
        d = ROOT / code
        assert any(p.name.startswith("bad") for p in d.iterdir()), code
        assert any(p.name.startswith("good") for p in d.iterdir()), code
