"""Documents: one parsed view of one file, shared by every rule (files are never parsed twice).

Every Document has the text and a LineIndex. Structured kinds (json, yaml, hcl, env) expose
`values` (plain Python data: dicts, lists, str, int, float, bool, None; one entry per YAML
document) and `locate(path)` -> Span of the key/value at a path. python exposes `tree` (ast), bicep
`program` (the syntax tree of documents/bicep_ast.py).
Parsing is lazy: a Document is only parsed when a rule asks, and a parse error is kept in
`parse_error` (rules then simply see no tree).
"""

from __future__ import annotations

import bisect
import codecs
import operator
import os
from functools import partial
from itertools import accumulate
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from keyless.linter.finding import Position, Span


_PLUS_ONE = partial(operator.add, 1)


class LineIndex:
    """Offsets <-> 1-based (line, column) for text with any mix of \\n, \\r\\n and lone \\r."""

    __slots__ = ("text", "starts")

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        i = 0
        # Fast path for \n, all in C (split, len, accumulate); lone \r (old Mac) handled
        # separately so positions match every parser.
        if "\r" not in text:
            lines = text.split("\n")
            lines.pop()
            starts.extend(accumulate(map(_PLUS_ONE, map(len, lines))))
        else:
            n = len(text)
            while i < n:
                c = text[i]
                if c == "\n":
                    starts.append(i + 1)
                elif c == "\r":
                    if i + 1 < n and text[i + 1] == "\n":
                        i += 1
                    starts.append(i + 1)
                i += 1
        self.starts = starts

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return Position(line + 1, offset - self.starts[line] + 1)

    def offset(self, pos: Position) -> int:
        line = max(1, min(pos.line, len(self.starts)))
        start = self.starts[line - 1]
        end = self.line_end(line)
        return min(start + max(pos.column, 1) - 1, end)

    def line_end(self, line: int) -> int:
        """Offset just past the last character of `line` (excluding its newline)."""
        if line >= len(self.starts):
            return len(self.text)
        end = self.starts[line]
        if end > 0 and self.text[end - 1] == "\n":
            end -= 1
        if end > 0 and self.text[end - 1] == "\r":
            end -= 1
        return end

    def line_text(self, line: int) -> str:
        if line < 1 or line > len(self.starts):
            return ""
        return self.text[self.starts[line - 1] : self.line_end(line)]

    def span(self, start: int, end: int) -> Span:
        return Span(self.position(start), self.position(end))


# What a parse error may say. A parse error reaches every output format, `-o` files, SARIF
# notifications, CI annotations, the cache and the editor, and a broken file is often broken right
# where a secret sits: so its message is built from these words and numbers only, never from the
# parser's own message (which quotes the failing token, the alias, the character). Readers map
# their parser's errors to one of these kinds; a new reader adds a kind here if none fits.
PARSE_PROBLEMS = frozenset({
    "syntax error",  # the generic kind: anything no other kind describes
    "unexpected character",
    "unexpected token",
    "unexpected end of input",
    "unterminated string",
    "unterminated comment",
    "unclosed bracket",
    "mismatched bracket",
    "invalid escape sequence",
    "invalid number",
    "invalid character",
    "invalid indentation",
    "invalid f-string",
    "control character not allowed",
    "undecodable bytes",
    "nesting too deep",
    "duplicate attribute",
    "duplicate anchor",
    "undefined alias",
    "recursive alias",
    "alias expansion too large",
    "mapping or sequence used as a key",
    "invalid merge key",
    "mapping value not allowed here",
    "sequence entry not allowed here",
    "missing ':'",
    "expected a key",
    "expected a value",
    "expected '-'",
    "expected a document start",
    "expected ',' or a closing bracket",
    "invalid tag",
    "invalid directive",
    "invalid anchor or alias",
    "unclosed template action",
    "unclosed template comment",
    "template comment does not end the action",
    "unterminated string in template action",
    "template blocks nested too deeply",
    # Bicep (documents/bicep_ast.ParseIssue kinds)
    "unreadable declaration",
    "unreadable expression",
    "unreadable decorator",
    "unreadable array item",
    "unreadable object entry",
    "unknown statement",
    "decorator without declaration",
    "parameter without value",
    "output without value",
    "variable without value",
    "missing token",
    "declaration too complex to read",
    "too complex to read",
    "reader unavailable",
    "unsupported construct",
    "invalid value",
    "too large to parse",
}) | {
    # The JSON reader says what it expected (fixed phrases, never what it found).
    f"unexpected {found}, expected {expected}"
    for found in ("character", "end of input")
    for expected in ("a value", "a property name in double quotes", "':'", "',' or '}'", "',' or ']'",
                     "end of input")
}

# The file formats a parse error can name (`invalid <format>: <problem>`).
PARSE_FORMATS = {
    "python": "Python",
    "yaml": "YAML",
    "json": "JSON",
    "hcl": "HCL",
    "env": ".env",
    "helm": "Helm template",
    "helm-yaml": "YAML in Helm template",
    "yaml-template": "templated YAML",
    "bicep": "Bicep",
    "shell": "shell script",
    "powershell": "PowerShell script",
    "dockerfile": "Dockerfile",
    "makefile": "Makefile",
    "notebook": "notebook",
    "text": "text",
}


class ParseError(Exception):
    """A file that cannot be parsed as its kind: `invalid <format>: <problem> (line L, column C)`.

    The message is made here from PARSE_FORMATS, PARSE_PROBLEMS and the position, so no reader can
    put source text in it: an unknown format or problem reads as the generic one. `line` and
    `column` are 1-based when known (column in code points)."""

    def __init__(self, fmt: str, problem: str, line: int | None = None, column: int | None = None):
        self.fmt = fmt if fmt in PARSE_FORMATS else "text"
        self.problem = problem if problem in PARSE_PROBLEMS else "syntax error"
        self.line = line if type(line) is int and line > 0 else None
        self.column = column if self.line is not None and type(column) is int and column > 0 else None
        where = ""
        if self.line is not None:
            where = f" (line {self.line}" + (f", column {self.column}" if self.column else "") + ")"
        super().__init__(f"invalid {PARSE_FORMATS[self.fmt]}: {self.problem}{where}")

    def __reduce__(self):  # pickles with its parts (worker processes), not the message
        return (ParseError, (self.fmt, self.problem, self.line, self.column))


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """How the bytes were encoded, so fixes can write them back the same way."""

    encoding: str  # codec name: utf-8, utf-16-le, utf-16-be, or a Python file's PEP 263 codec
    bom: bool
    newline: str  # dominant newline: "\n", "\r\n" or "\r"


class Document:
    """Base document: text, positions, and lazily parsed structure."""

    kind: ClassVar[str] = "text"

    def __init__(self, path: str, relpath: str, text: str, source_format: SourceFormat | None = None):
        self.path = path  # absolute or as given
        self.relpath = relpath  # repo-relative, '/'-separated: what findings show
        self.text = text
        self.source_format = source_format or SourceFormat("utf-8", False, detect_newline(text))
        self._lines: LineIndex | None = None
        self._parsed = False
        self.parse_error: ParseError | None = None
        self.subkind: str = ""  # e.g. arm, arm-parameters, tf-json, tf-plan, appsettings, k8s, aca, aci
        # Per-document scratch space rules share (e.g. the secret scanner's one pass over the text).
        self.memo: dict = {}
        # The scan's other files (keyless.linter.workspace.Workspace); set by the engine.
        self.workspace: Any = None

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def ensure_parsed(self) -> bool:
        """Parse once; return True when a tree is available."""
        if not self._parsed:
            self._parsed = True
            if self.workspace is not None:  # what parsing reads (a chart's values) is a dependency
                with self.workspace.parsing(self):
                    self._parse_recorded()
            else:
                self._parse_recorded()
        return self.parse_error is None

    def _parse_recorded(self) -> None:
        try:
            self._parse()
        except ParseError as exc:
            self.parse_error = exc
        except RecursionError:
            self.parse_error = ParseError(self.kind, "nesting too deep")
        except ValueError:
            self.parse_error = ParseError(self.kind, "invalid value")
        except MemoryError:
            self.parse_error = ParseError(self.kind, "too large to parse")

    def _parse(self) -> None:  # subclasses override
        pass

    # Structured documents override these two.
    @property
    def values(self) -> list[Any]:
        return []

    def _entry(self, path: tuple) -> tuple[int, int, int, int] | None:
        """(key_start, key_end, value_start, value_end) offsets at `path`; structured kinds override."""
        return None

    def _span(self, start: int, end: int) -> Span:
        text = self.text
        end = min(end, len(text))
        while end > start and text[end - 1] in " \t\r\n":  # block values end before their newline
            end -= 1
        return self.lines.span(start, end)

    def locate(self, path: tuple) -> Span | None:
        """Span of the value at `path`, e.g. (0, "resources", 2, "identity")."""
        entry = self._entry(path)
        return None if entry is None else self._span(entry[2], entry[3])

    def locate_key(self, path: tuple) -> Span | None:
        """Span of the mapping key at `path` (list items: same as locate)."""
        entry = self._entry(path)
        return None if entry is None else self._span(entry[0], entry[1])

    # Kinds of the documents `embedded()` may return (the engine asks only when a rule reads them).
    embedded_kinds: ClassVar[frozenset[str]] = frozenset()

    def embedded(self) -> list:
        """Documents written inside this one (a notebook's Python cells), as
        keyless.linter.documents.embedded.Embedded; the engine lints them too."""
        return []


class TextDocument(Document):
    kind = "text"


def detect_newline(text: str) -> str:
    i = text.find("\n")
    if i < 0:
        return "\r" if "\r" in text else "\n"
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


# ---- reading bytes -------------------------------------------------------------------------------

class BinaryFile(Exception):
    pass


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> tuple[str, SourceFormat]:
    """Decode file bytes. BOMs are honoured; undecodable UTF-8 bytes are kept as surrogate escapes
    so positions stay right and fixes can write the exact bytes back. Raises BinaryFile."""
    for bom, enc in _BOMS:
        if data.startswith(bom) and not (enc == "utf-16-le" and data.startswith(codecs.BOM_UTF32_LE)):
            try:
                text = data[len(bom):].decode(enc, "surrogateescape" if enc == "utf-8" else "strict")
            except UnicodeDecodeError as exc:
                raise BinaryFile(f"invalid {enc} after byte-order mark") from exc
            return text, SourceFormat(enc, True, detect_newline(text))
    if b"\x00" in data[:8192]:
        raise BinaryFile("binary content (NUL bytes)")
    text = data.decode("utf-8", "surrogateescape")
    return text, SourceFormat("utf-8", False, detect_newline(text))


def encode(text: str, fmt: SourceFormat) -> bytes:
    bom = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}
    body = text.encode(fmt.encoding, "surrogateescape" if fmt.encoding == "utf-8" else "strict")
    return (bom[fmt.encoding] if fmt.bom else b"") + body


# ---- classification ------------------------------------------------------------------------------

def classify(name: str) -> str:
    """File kind from the file name alone (content-based flavours are the parsers' job)."""
    base = name.rsplit("/", 1)[-1]
    lower = base.lower()
    if lower.endswith((".py", ".pyi")):
        return "python"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith((".json", ".jsonc", ".tfstate")) or lower.endswith(".json.tmpl"):
        return "json"
    if lower.endswith(".ipynb"):
        return "notebook"
    if lower.endswith((".tf", ".tfvars", ".hcl", ".tfbackend")):
        return "hcl"
    if lower.endswith((".bicep", ".bicepparam")):
        return "bicep"
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        return "env"
    if lower.endswith((".sh", ".bash", ".zsh", ".ksh")):
        return "shell"
    if lower.endswith((".ps1", ".psm1")):
        return "powershell"
    if lower in ("dockerfile", "containerfile") or lower.endswith(".dockerfile") or (
            lower.startswith(("dockerfile.", "containerfile.")) and not lower.endswith(_NOT_DOCKERFILE)):
        return "dockerfile"
    if lower in ("makefile", "gnumakefile") or lower.endswith(".mk"):
        return "makefile"
    return "text"


# What `keyless rules` shows for each file kind (classify() decides; keep the two together).
KIND_FILES = {
    "python": "*.py, *.pyi",
    "yaml": "*.yaml, *.yml (Kubernetes, Container Apps/Instances, Helm, compose, GitHub Actions, Azure Pipelines)",
    "json": "*.json, *.jsonc (ARM templates and parameters, Terraform JSON and plans, app settings)",
    "hcl": "*.tf, *.tfvars, *.hcl",
    "bicep": "*.bicep, *.bicepparam",
    "env": ".env, .env.*, *.env",
    "shell": "*.sh, *.bash, *.zsh, *.ksh",
    "powershell": "*.ps1, *.psm1",
    "dockerfile": "Dockerfile, Dockerfile.*, *.dockerfile, Containerfile",
    "makefile": "Makefile, GNUmakefile, *.mk",
    "notebook": "*.ipynb",
    "bicep": "*.bicep, *.bicepparam (with local modules and parameter files)",
    "text": "every other text file (secrets only)",
}

# `Dockerfile.md` and friends describe a Dockerfile; `Dockerfile.dev` is one.
_NOT_DOCKERFILE = (".md", ".txt", ".rst", ".html", ".j2", ".jinja", ".tmpl", ".template", ".orig", ".bak")


_FACTORIES: dict[str, Callable[..., Document]] = {}


def register_kind(kind: str, factory: Callable[..., Document]) -> None:
    _FACTORIES[kind] = factory


def make_document(path: str, relpath: str, text: str, fmt: SourceFormat | None = None,
                  kind: str | None = None) -> Document:
    kind = kind or classify(relpath or os.path.basename(path))
    factory = _FACTORIES.get(kind)
    if factory is None:
        factory = _load_kind(kind)
    return factory(path, relpath, text, fmt)


# Each kind's module is imported the first time a file of that kind is read: an editor's check
# of one .py file then never loads the YAML, Helm, HCL or JSON readers.
_KIND_MODULES = {
    "python": "keyless.linter.documents.python",
    "yaml": "keyless.linter.documents.yaml",
    "json": "keyless.linter.documents.json",
    "hcl": "keyless.linter.documents.hcl",
    "env": "keyless.linter.documents.env",
    "shell": "keyless.linter.documents.shell",
    "powershell": "keyless.linter.documents.shell",
    "dockerfile": "keyless.linter.documents.dockerfile",
    "makefile": "keyless.linter.documents.makefile",
    "notebook": "keyless.linter.documents.notebook",
    "bicep": "keyless.linter.documents.bicep",
}


def _load_kind(kind: str) -> Callable[..., Document]:
    module = _KIND_MODULES.get(kind)
    if module is not None:
        import importlib

        importlib.import_module(module)  # registers the kind
    return _FACTORIES.setdefault(kind, TextDocument)
