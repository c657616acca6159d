"""Python documents: `ast` tree with helpers that turn ast positions into keyless Spans.

ast columns are UTF-8 byte offsets; keyless columns are code points, so non-ASCII lines are
converted (cheaply: only when the line is not ASCII).
"""

from __future__ import annotations

import ast
import warnings

from keyless.linter.documents import Document, ParseError, register_kind
from keyless.linter.finding import Position, Span


class PythonDocument(Document):
    kind = "python"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tree: ast.Module | None = None

    def _parse(self) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes etc.
                self.tree = ast.parse(self.text, filename=self.relpath)
        except SyntaxError as exc:
            raise ParseError(f"Python syntax error: {exc.msg}", exc.lineno) from None
        except (ValueError, UnicodeError) as exc:  # NUL bytes, lone surrogates
            raise ParseError(f"Python source cannot be parsed: {str(exc)[:120]}") from None

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


register_kind("python", PythonDocument)
