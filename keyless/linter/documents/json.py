"""JSON documents (ARM templates, parameter files, .tf.json, Terraform plans, app settings).

The stdlib `json` module records no positions, so this module has its own parser:

* iterative (an explicit stack, no recursion), so hostile nesting cannot raise RecursionError;
* strings go through `json.decoder.scanstring` (the C accelerator json.loads itself uses) and
  numbers through one regex, so values are exactly what `json.loads` returns for valid JSON
  (ints, floats, NaN/Infinity, duplicate keys: last one wins, at the position of the last one);
* lenient where real files are: `//` and `/* */` comments (ARM templates allow them; .jsonc),
  trailing commas before `]`/`}`, a leading BOM character and raw control characters inside
  strings are accepted;
* every key and value gets its start/end offsets in a position tree parallel to the values;
  offsets become Spans only when asked (`locate`), through `doc.lines`.

Nesting deeper than MAX_DEPTH is a ParseError: json.loads itself stops near the interpreter's
recursion limit, and rules walk values recursively.
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from json import JSONDecodeError
from json.decoder import scanstring
from typing import Any

from keyless.linter.documents import Document, ParseError, register_kind

MAX_DEPTH = 1000

# Whitespace and comments. The first alternative is the common case (plain whitespace).
_SKIP = re.compile(r"[ \t\n\r]*(?:(?://[^\n\r]*|/\*[\s\S]*?\*/)[ \t\n\r]*)*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_CONSTANTS = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}
_WORD = re.compile(r"-?[A-Za-z]+")

# Position records (offsets into the text, end exclusive):
#   value record: (start, end, children)  children: dict key -> entry | list of value records | None
#   dict entry:   (key_start, key_end, start, end, children)


@contextmanager
def gc_paused():
    """Pause the cyclic GC while a parser allocates many small acyclic objects (the position
    tuples would otherwise trigger repeated full collections: ~30% of parse time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class JsonSyntaxError(Exception):
    """`problem` is one of keyless.linter.documents.PARSE_PROBLEMS (never source text)."""

    def __init__(self, problem: str, offset: int):
        super().__init__(problem)
        self.problem = problem
        self.offset = offset


def _string_problem(exc: JSONDecodeError) -> str:
    """The kind of a `scanstring` error (its message names no source text, but keep to the
    shared vocabulary)."""
    msg = exc.msg.lower()
    if "unterminated" in msg:
        return "unterminated string"
    if "control character" in msg:
        return "control character not allowed"
    if "escape" in msg:
        return "invalid escape sequence"
    return "syntax error"


def parse_json(s: str) -> tuple[Any, tuple]:
    """Parse `s`; return (value, root position record). Raises JsonSyntaxError."""
    skip = _SKIP.match
    number = _NUMBER.match
    n = len(s)
    ws = _WS_OR_COMMENT
    i = skip(s, 1 if s.startswith("\ufeff") else 0).end()
    # The innermost open container lives in locals; outer ones are saved on `stack` as tuples
    # (container, children, start, is_dict, key, key_start, key_end).
    stack: list[tuple] = []
    container: Any = None
    kids: Any = None
    cstart = 0
    is_dict = False
    key: Any = None
    ks = ke = 0
    depth = 0
    while True:
        # ---- one value starting at i (i is at a non-blank character) -------------------------
        try:
            c = s[i]
        except IndexError:
            raise JsonSyntaxError("unexpected end of input, expected a value", i) from None
        start = i
        children = None
        if c == '"':
            try:
                value, i = scanstring(s, i + 1, False)
            except JSONDecodeError as exc:
                raise JsonSyntaxError(_string_problem(exc), exc.pos) from None
        elif c == "{" or c == "[":
            if depth >= MAX_DEPTH:
                raise JsonSyntaxError("nesting too deep", i)
            opening_dict = c == "{"
            close = "}" if opening_dict else "]"
            i += 1
            if i < n and s[i] in ws:
                i = skip(s, i).end()
            if i < n and s[i] == close:
                i += 1
                value = {} if opening_dict else []
                children = {} if opening_dict else []
            else:
                if depth:
                    stack.append((container, kids, cstart, is_dict, key, ks, ke))
                depth += 1
                cstart = start
                is_dict = opening_dict
                if opening_dict:
                    container, kids = {}, {}
                    key, ks, ke, i = _read_key(s, i, skip)
                else:
                    container, kids = [], []
                continue
        elif c in _NUMBER_START and (m := number(s, i)) is not None:
            integer, frac, exp = m.groups()
            i = m.end()
            if frac or exp:
                value = float(m.group())
            else:
                try:
                    value = int(integer)
                except ValueError:  # more digits than int() allows
                    raise JsonSyntaxError("invalid number", start) from None
            if i < n and (s[i].isalnum() or s[i] == "."):
                raise JsonSyntaxError("invalid number", start)  # a number glued to a word
        else:
            w = _WORD.match(s, i)
            if w is None or w.group() not in _CONSTANTS:
                raise JsonSyntaxError(_unexpected(s, i, "a value"), i)
            value = _CONSTANTS[w.group()]
            i = w.end()
        # ---- attach the finished value to its parent; close finished containers -------------
        while True:
            if not depth:
                end = i
                i = skip(s, i).end()
                if i < n:
                    raise JsonSyntaxError(_unexpected(s, i, "end of input"), i)
                return value, (start, end, children)
            if is_dict:
                container[key] = value
                kids[key] = (ks, ke, start, i, children)
            else:
                container.append(value)
                kids.append((start, i, children))
            try:
                c = s[i]
                if c in ws:
                    i = skip(s, i).end()
                    c = s[i]
            except IndexError:
                raise JsonSyntaxError(_unexpected(s, i, _CLOSE_OR_COMMA[is_dict]), i) from None
            if c == ",":
                i += 1
                if i < n and s[i] in ws:
                    i = skip(s, i).end()
                if i < n and s[i] in "]}":  # trailing comma
                    c = s[i]
                elif is_dict:
                    # Inlined fast path of _read_key: "key" then ':' then the value.
                    if i < n and s[i] == '"':
                        ks = i
                        try:
                            key, ke = scanstring(s, i + 1, False)
                        except JSONDecodeError as exc:
                            raise JsonSyntaxError(_string_problem(exc), exc.pos) from None
                        i = ke
                        if i < n and s[i] in ws:
                            i = skip(s, i).end()
                        if i >= n or s[i] != ":":
                            raise JsonSyntaxError(_unexpected(s, i, "':'"), i)
                        i += 1
                        if i < n and s[i] in ws:
                            i = skip(s, i).end()
                    else:
                        key, ks, ke, i = _read_key(s, i, skip)
                    break
                else:
                    break
            if c == ("}" if is_dict else "]"):
                i += 1
                value, children, start = container, kids, cstart
                depth -= 1
                if depth:
                    container, kids, cstart, is_dict, key, ks, ke = stack.pop()
                continue
            raise JsonSyntaxError(_unexpected(s, i, _CLOSE_OR_COMMA[is_dict]), i)


_CLOSE_OR_COMMA = {True: "',' or '}'", False: "',' or ']'"}
_WS_OR_COMMENT = frozenset(" \t\n\r/")
_NUMBER_START = frozenset("-0123456789")


def _read_key(s: str, i: int, skip) -> tuple[str, int, int, int]:
    """Read `"key" :` at i; return (key, key_start, key_end, offset of the value)."""
    if i >= len(s) or s[i] != '"':
        raise JsonSyntaxError(_unexpected(s, i, "a property name in double quotes"), i)
    try:
        key, end = scanstring(s, i + 1, False)
    except JSONDecodeError as exc:
        raise JsonSyntaxError(_string_problem(exc), exc.pos) from None
    j = skip(s, end).end()
    if j >= len(s) or s[j] != ":":
        raise JsonSyntaxError(_unexpected(s, j, "':'"), j)
    return key, i, end, skip(s, j + 1).end()


def _unexpected(s: str, i: int, expected: str) -> str:
    """A PARSE_PROBLEMS phrase: what was found (never the character itself) and what was expected
    (one of JSON_EXPECTED)."""
    if i >= len(s):
        return f"unexpected end of input, expected {expected}"
    if s.startswith("/*", i):
        return "unterminated comment"
    return f"unexpected character, expected {expected}"


def walk_positions(root: tuple | None, path: tuple) -> tuple | None:
    """Follow `path` (keys / indexes, without the document index) through a position tree.
    Returns (key_start, key_end, start, end, children) or None; for list items and the root the
    key offsets equal the value offsets."""
    if root is None:
        return None
    start, end, children = root
    entry = (start, end, start, end, children)
    for part in path:
        children = entry[4]
        if isinstance(children, dict):
            try:
                entry = children.get(part)  # YAML keys may be ints / bools, not only str
            except TypeError:  # unhashable path part
                return None
            if entry is None:
                return None
        elif isinstance(children, list):
            if not isinstance(part, int) or isinstance(part, bool) or not 0 <= part < len(children):
                return None
            s, e, c = children[part]
            entry = (s, e, s, e, c)
        else:
            return None
    return entry


_ARM_SCHEMAS = ("deploymenttemplate.json",)


def detect_json_subkind(name: str, value: Any) -> str:
    lower = name.lower()
    if lower.endswith(".ipynb"):
        return "notebook"
    if lower == "local.settings.json":
        return "local-settings"
    if lower.startswith("appsettings") and lower.endswith(".json"):
        return "appsettings"
    if lower.endswith(".tf.json"):
        return "tf-json"
    if not isinstance(value, dict):
        return ""
    schema = value.get("$schema")
    if isinstance(schema, str):
        ls = schema.lower()
        if "deploymentparameters" in ls:
            return "arm-parameters"
        if "deploymenttemplate" in ls:
            return "arm"
    if "resources" in value and "contentVersion" in value:
        return "arm"
    if "format_version" in value and ("planned_values" in value or "resource_changes" in value):
        return "tf-plan"
    return ""


class JsonDocument(Document):
    kind = "json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._values: list[Any] = []
        self._positions: tuple | None = None

    def _parse(self) -> None:
        try:
            with gc_paused():
                value, self._positions = parse_json(self.text)
        except JsonSyntaxError as exc:
            pos = self.lines.position(exc.offset)
            raise ParseError("json", exc.problem, pos.line, pos.column) from None
        except RecursionError:  # cannot happen (iterative), kept as a guard
            raise ParseError("json", "nesting too deep") from None
        self._values = [value]
        self.subkind = detect_json_subkind(self.name, value)

    @property
    def values(self) -> list[Any]:
        self.ensure_parsed()
        return self._values

    def _entry(self, path: tuple) -> tuple | None:
        if not path or path[0] != 0 or not self.ensure_parsed():
            return None
        return walk_positions(self._positions, tuple(path[1:]))


register_kind("json", JsonDocument)
