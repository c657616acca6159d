""".env documents: dotenv dialect, positions, messy input never an error."""

import pytest

from keyless.linter.documents import make_document
from keyless.linter.documents.env import EnvDocument
from keyless.linter.finding import Position, Span


def doc(text, name=".env"):
    d = make_document(name, name, text)
    assert isinstance(d, EnvDocument)
    return d


def text_at(d, span):
    return d.text[d.lines.offset(span.start):d.lines.offset(span.end)]


ENV = (
    "# settings\n"
    "AZURE_CLIENT_ID=0000-1111\n"
    "export AZURE_CLIENT_SECRET = \"s3cr3t # not a comment\"  # a comment\n"
    "PLAIN=value # inline comment\n"
    "HASH=abc#def\n"
    "SINGLE='lit\\n $x'\n"
    "MULTI=\"line1\n"
    "line2 \\\"quoted\\\" \\n end\"\n"
    "EMPTY=\n"
    "EMPTY_COMMENT= # nothing\n"
    "this line is not an assignment\n"
    "   INDENTED=ok\n"
    "UNICODE=wért ✓\n"
    "PLAIN=second\n"
)


def test_values():
    d = doc(ENV)
    assert d.ensure_parsed()
    assert d.values == [{
        "AZURE_CLIENT_ID": "0000-1111",
        "AZURE_CLIENT_SECRET": "s3cr3t # not a comment",
        "PLAIN": "second",
        "HASH": "abc#def",
        "SINGLE": "lit\\n $x",
        "MULTI": 'line1\nline2 "quoted" \n end',
        "EMPTY": "",
        "EMPTY_COMMENT": "",
        "INDENTED": "ok",
        "UNICODE": "wért ✓",
    }]


def test_positions():
    d = doc(ENV)
    assert d.locate((0, "AZURE_CLIENT_ID")) == Span(Position(2, 17), Position(2, 26))
    assert d.locate_key((0, "AZURE_CLIENT_ID")) == Span(Position(2, 1), Position(2, 16))
    secret = d.locate((0, "AZURE_CLIENT_SECRET"))
    assert text_at(d, secret) == "s3cr3t # not a comment" and secret.start == Position(3, 31)
    assert text_at(d, d.locate_key((0, "AZURE_CLIENT_SECRET"))) == "AZURE_CLIENT_SECRET"
    assert d.locate((0, "PLAIN")).start.line == 14  # duplicate: the last one
    assert text_at(d, d.locate((0, "HASH"))) == "abc#def"
    multi = d.locate((0, "MULTI"))
    assert multi.start == Position(7, 8) and multi.end.line == 8
    assert text_at(d, d.locate((0, "UNICODE"))) == "wért ✓"
    assert d.locate((0, "UNICODE")) == Span(Position(13, 9), Position(13, 15))
    assert d.locate((0, "EMPTY")) == Span(Position(9, 7), Position(9, 7))
    assert d.locate((0, "missing")) is None and d.locate((1, "PLAIN")) is None
    assert d.locate((0, "PLAIN", "x")) is None


@pytest.mark.parametrize("nl", ["\r\n", "\r"])
def test_crlf_and_cr(nl):
    d = doc(ENV.replace("\n", nl))
    assert d.values[0]["AZURE_CLIENT_ID"] == "0000-1111"
    assert d.values[0]["PLAIN"] == "second"
    assert d.locate((0, "AZURE_CLIENT_ID")) == Span(Position(2, 17), Position(2, 26))
    assert d.locate((0, "UNICODE")) == Span(Position(13, 9), Position(13, 15))
    assert d.values[0]["MULTI"].startswith("line1" + nl)


def test_messy_input_is_never_an_error():
    for text in ["", "\n\n", "=\n'unterminated\nexport\n", "\x00\x01garbage", "KEY='open\nX=1\n",
                 'A="open\nB=2\n', "{\"json\": true}", "A=1\\", "\ufeffA=1"]:
        d = doc(text)
        assert d.ensure_parsed(), text
        assert isinstance(d.values[0], dict)
    assert doc("\ufeffA=1").values[0] == {"A": "1"}
    assert doc("KEY='open\nX=1\n").values[0] == {"KEY": "open", "X": "1"}


def test_env_kind_by_name():
    for name in (".env", ".env.local", "prod.env"):
        assert isinstance(make_document(name, name, "A=1"), EnvDocument)
