"""Property-based tests (hypothesis): position mapping, suppression comments, and a fuzz run of
every file-kind parser on random bytes (the number of cases is printed with -s and recorded in the
hardening note)."""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings, strategies as st

from keyless.linter.documents import BinaryFile, LineIndex, decode, make_document
from keyless.linter.suppression import parse_directives, suppression_map

text_with_newlines = st.text(alphabet=st.sampled_from(list("ab é☕\n\r\t#;=")), max_size=200)


@given(text_with_newlines)
def test_offset_position_round_trip(text):
    idx = LineIndex(text)
    # Every offset maps to a position and back, and agrees with str.splitlines line breaking.
    lines = text.splitlines()
    for off in range(len(text) + 1):
        pos = idx.position(off)
        back = idx.offset(pos)
        if off < len(text) and text[off] == "\n" and off > 0 and text[off - 1] == "\r":
            continue  # the \n of a \r\n pair is part of the line break
        assert back == off, (text, off, pos, back)
    for n, line in enumerate(lines, start=1):
        assert idx.line_text(n) == line


@given(text_with_newlines)
def test_line_count_matches_splitlines(text):
    idx = LineIndex(text)
    expected = len(text.splitlines()) + (1 if text.endswith(("\n", "\r")) or text == "" else 0)
    assert idx.line_count == max(expected, 1)


codes = st.lists(st.sampled_from(["KL101", "KL190", "kl102", "KL999", "storage-account-key", ""]), max_size=4)
reason = st.text(alphabet=st.sampled_from(list("abc -:")), max_size=12)
opener = st.sampled_from(["#", "//", "/*", "<!--", ";", "--"])


@given(opener, codes, reason, st.text(max_size=30))
def test_suppression_directives(op, cs, why, prefix):
    prefix = prefix.replace("\n", " ").replace("\r", " ")
    line = f"{prefix} {op} keyless: ignore[{', '.join(cs)}] {why}"
    ds = [d for d in parse_directives(line + "\nnext\n") if d.line == 1]
    assert ds, line
    d = ds[-1]
    known = {"KL101", "KL102", "KL190"}
    m = suppression_map([d], known, {"storage-account-key": "KL101"})
    # a reason needs a word of two letters or more (single letters are placeholders, issue #10)
    has_reason = any(len(w) >= 2 for w in re.split(r"[ :-]", why))
    valid = {c.upper() for c in cs if c.upper() in known} | ({"KL101"} if "storage-account-key" in cs else set())
    if has_reason and valid:
        assert m[1] == m[2] == frozenset(valid)
    else:
        assert m == {}  # never a blanket suppression


@given(st.text(max_size=80))
def test_directive_outside_a_comment_is_ignored(text):
    text = text.replace("#", "").replace("/", "").replace("<", "").replace(";", "").replace("-", "").replace("'", "")
    text = text.replace("{", "").replace("@", "").replace("REM", "").replace("rem", "")
    assert parse_directives(f"{text} keyless: ignore[KL101] reason\n") == []


FUZZ_CASES = int(os.environ.get("KEYLESS_FUZZ_CASES", "300"))
KIND_NAMES = ["a.py", "a.yaml", "a.json", "a.tf", ".env", "a.md", "main.tf.json", "local.settings.json"]


@settings(max_examples=FUZZ_CASES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(KIND_NAMES), st.one_of(
    st.binary(max_size=400),
    st.text(alphabet=st.sampled_from(list('{}[]:,"\'- \n\t=#&*!|>abc01\\$()')), max_size=400).map(str.encode),
))
def test_fuzz_parsers_never_raise(name, data):
    try:
        text, fmt = decode(data)
    except BinaryFile:
        return
    doc = make_document(name, name, text, fmt)
    ok = doc.ensure_parsed()  # must not raise, whatever the bytes
    if ok:
        for i in range(len(doc.values)):
            doc.locate((i,))
    from keyless.linter.engine import Settings, lint_document
    from keyless.linter.rule import load_registry

    st_ = Settings(root=".", select=frozenset(load_registry().codes))
    res = lint_document(doc, st_)
    assert res.error_kind != "internal", res.error
