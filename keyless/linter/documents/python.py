"""Python documents: `ast` tree with helpers that turn ast positions into keyless Spans.

ast columns are UTF-8 byte offsets; keyless columns are code points, so non-ASCII lines are
converted (cheaply: only when the line is not ASCII).
"""

from __future__ import annotations

import ast
import warnings

from keyless.linter.documents import Document, ParseError, SourceFormat, detect_newline, register_kind
from keyless.linter.finding import Position, Span


class PythonDocument(Document):
    kind = "python"

    def __init__(self, path: str, relpath: str, text: str, source_format: SourceFormat | None = None):
        text, source_format = apply_coding_cookie(text, source_format)
        super().__init__(path, relpath, text, source_format)
        self.tree: ast.Module | None = None

    def _parse(self) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes etc.
                self.tree = ast.parse(self.text, filename=self.relpath)
        except SyntaxError as exc:
            raise ParseError("python", syntax_problem(exc), exc.lineno, exc.offset) from None
        except UnicodeError:  # lone surrogates (undecodable bytes kept as escapes)
            raise ParseError("python", "undecodable bytes") from None
        except ValueError:  # NUL bytes
            raise ParseError("python", "control character not allowed") from None

    def _column(self, line: int, byte_col: int) -> int:
        text = self.lines.line_text(line)
        if text.isascii():
            return byte_col + 1
        return len(text.encode("utf-8", "surrogateescape")[:byte_col].decode("utf-8", "surrogateescape")) + 1

    def node_span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        col = getattr(node, "col_offset", 0)
        end_col = getattr(node, "end_col_offset", None)
        if end_col is None:
            end_col = col
        return Span(Position(line, self._column(line, col)), Position(end_line, self._column(end_line, end_col)))


def apply_coding_cookie(text: str, fmt: SourceFormat | None) -> tuple[str, SourceFormat | None]:
    """Python source that is not UTF-8 but declares its encoding (PEP 263: `# -*- coding: latin-1 -*-`
    on one of its first two lines) is read in that encoding, as Python reads it. Undecodable UTF-8
    bytes arrive as surrogate escapes, so the original bytes are recovered exactly; the text is only
    replaced when it encodes back to the very same bytes, and the returned format writes fixes back
    in the declared encoding."""
    if fmt is not None and (fmt.encoding != "utf-8" or fmt.bom):
        return text, fmt
    try:
        text.encode("utf-8")
        return text, fmt  # valid UTF-8 (no surrogate escapes): nothing to re-read
    except UnicodeEncodeError:
        pass
    import io
    import tokenize

    data = text.encode("utf-8", "surrogateescape")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # an unknown codec or a cookie that contradicts a BOM
        return text, fmt
    if encoding in ("utf-8", "utf-8-sig"):
        return text, fmt
    try:
        decoded = data.decode(encoding)
        if decoded.encode(encoding) != data:
            return text, fmt
    except (UnicodeError, LookupError):
        return text, fmt
    return decoded, SourceFormat(encoding, False, fmt.newline if fmt is not None else detect_newline(decoded))


# CPython's messages quote the source ("invalid character '…'", "keyword argument repeated: x",
# "'(' was never closed"): only their kind is kept (keyless.linter.documents.PARSE_PROBLEMS).
_SYNTAX_PROBLEMS = (
    ("f-string", "invalid f-string"),
    ("unterminated string", "unterminated string"),
    ("unterminated triple-quoted string", "unterminated string"),
    ("was never closed", "unclosed bracket"),
    ("unmatched", "mismatched bracket"),
    ("does not match opening", "mismatched bracket"),
    ("invalid non-printable character", "control character not allowed"),
    ("null bytes", "control character not allowed"),
    ("invalid character", "invalid character"),
    ("bytes can only contain", "invalid character"),
    ("decimal literal", "invalid number"),
    ("hexadecimal literal", "invalid number"),
    ("octal literal", "invalid number"),
    ("binary literal", "invalid number"),
    ("imaginary literal", "invalid number"),
    ("invalid digit", "invalid number"),
    ("leading zeros", "invalid number"),
    ("(unicode error)", "invalid escape sequence"),
    ("(value error)", "invalid escape sequence"),
    ("unexpected eof", "unexpected end of input"),
    ("unexpected end of file", "unexpected end of input"),
)


def syntax_problem(exc: SyntaxError) -> str:
    if isinstance(exc, IndentationError):  # TabError too
        return "invalid indentation"
    msg = (exc.msg or "").lower()
    for needle, problem in _SYNTAX_PROBLEMS:
        if needle in msg:
            return problem
    return "syntax error"


register_kind("python", PythonDocument)
