"""Fix application: isolation of overlapping edits, passes until stable, and atomic writes that
keep encoding, BOM, newlines, permissions and refuse files changed since they were read."""

from __future__ import annotations

import os
import stat

import pytest

from keyless.linter.documents import decode, encode, make_document
from keyless.linter.finding import Applicability, Category, Edit, Fix, Severity, Span
from keyless.linter.fixes import FileChanged, apply_edits, fix_document, write_atomic
from keyless.linter.rule import Rule


class RenameKey(Rule):
    """Test rule: `account_key` should be `account_url` (safe), `secret` gets an unsafe fix.

    ## What it does
    Test only.
    """

    code = "KL299"
    name = "test-rename"
    category = Category.KEY_AUTH
    severity = Severity.LOW
    message = "test"

    def check(self, doc):
        for word, new, app in (("account_key", "account_url", Applicability.SAFE),
                               ("secret", "identity", Applicability.UNSAFE)):
            start = 0
            while (i := doc.text.find(word, start)) >= 0:
                span = doc.lines.span(i, i + len(word))
                yield self.finding(doc.relpath, span, key=f"{word}{i}",
                                   fix=Fix("rename", app, (Edit(span, new),)))
                start = i + len(word)


def lint(doc):
    return list(RenameKey().check(doc))


def test_apply_edits_rejects_overlap_and_applies_in_order():
    doc = make_document("x", "x.py", "abc\ndef\n")
    e1 = Edit(Span.of(1, 1, 1, 2), "A")
    e2 = Edit(Span.of(2, 3, 2, 4), "F")
    assert apply_edits(doc.text, doc.lines, [e2, e1]) == "Abc\ndeF\n"
    with pytest.raises(ValueError):
        apply_edits(doc.text, doc.lines, [Edit(Span.of(1, 1, 1, 3), "x"), Edit(Span.of(1, 2, 1, 4), "y")])


def test_fix_document_safe_only_unless_unsafe():
    doc = make_document("x", "x.txt", "account_key = secret\naccount_key2 = 1\n")  # text: no re-parse
    out = fix_document(doc, lint, unsafe=False, rules_by_code={})
    assert out.text == "account_url = secret\naccount_url2 = 1\n" and out.applied == 2
    assert [f.code for f in out.remaining] == ["KL299"]  # the unsafe one is left
    out = fix_document(doc, lint, unsafe=True, rules_by_code={})
    assert out.text == "account_url = identity\naccount_url2 = 1\n" and not out.remaining


@pytest.mark.parametrize("encoding,bom,newline", [
    ("utf-8", False, "\n"), ("utf-8", True, "\r\n"), ("utf-16-le", True, "\r\n"), ("utf-16-be", True, "\n"),
    ("utf-8", False, "\r"),
])
def test_write_atomic_keeps_encoding_bom_newlines_and_mode(tmp_path, encoding, bom, newline):
    text = newline.join(["# café", "account_key = 1", ""])
    from keyless.linter.documents import SourceFormat

    raw = encode(text, SourceFormat(encoding, bom, newline))
    p = tmp_path / "m.py"
    p.write_bytes(raw)
    os.chmod(p, 0o640)
    decoded, fmt = decode(p.read_bytes())
    assert decoded == text and fmt.encoding == encoding and fmt.bom == bom
    doc = make_document(str(p), "m.py", decoded, fmt)
    out = fix_document(doc, lint, unsafe=False, rules_by_code={})
    write_atomic(str(p), out.text, doc, expected=raw)
    assert p.read_bytes() == encode(text.replace("account_key", "account_url"), fmt)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".keyless-")]


def test_write_atomic_refuses_changed_file_and_keeps_it(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("account_key = 1\n")
    raw = p.read_bytes()
    doc = make_document(str(p), "m.py", raw.decode())
    p.write_text("account_key = 2  # edited meanwhile\n")
    with pytest.raises(FileChanged):
        write_atomic(str(p), "account_url = 1\n", doc, expected=raw)
    assert p.read_text() == "account_key = 2  # edited meanwhile\n"


def test_interrupted_write_leaves_old_file(tmp_path, monkeypatch):
    p = tmp_path / "m.py"
    p.write_text("account_key = 1\n")
    raw = p.read_bytes()
    doc = make_document(str(p), "m.py", raw.decode())

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(p), "account_url = 1\n", doc, expected=raw)
    assert p.read_bytes() == raw
    assert sorted(os.listdir(tmp_path)) == ["m.py"]


def test_invalid_utf8_bytes_survive_a_fix_round_trip(tmp_path):
    raw = b"# \xff\xfe broken bytes\naccount_key = 1\n"
    text, fmt = decode(raw)
    doc = make_document("m.txt", "m.txt", text, fmt)  # Python would not compile it
    out = fix_document(doc, lint, unsafe=False, rules_by_code={})
    assert encode(out.text, fmt) == raw.replace(b"account_key", b"account_url")
