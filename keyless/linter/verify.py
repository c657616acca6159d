"""Verifying a fixed text before it is written, by the document's own reader.

Python: the result compiles (no repeated keyword argument), reads no name that is not bound on
every path to the read, and leaves no import or local variable unused that the fix made unused:
those the fix left behind are removed when that keeps the meaning (an import, or an assignment of
a value whose evaluation does nothing else: a constant, a name, an environment read), otherwise the
fix is refused; a module-level `from m import x` that fixes applied together added twice is kept once. Every other kind with a reader (YAML, JSON, HCL, `.env`, ...): the result still
parses with the document's own reader when the original did. Python written inside another file
(a notebook's code cells): the cells still compile and read no unbound name.

`Verifier(doc).check(new_text)` returns the text to write (possibly tidied) or raises Refused with a
short reason; reasons never quote source text.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections import Counter

from keyless.linter.documents import Document, make_document


class Refused(Exception):
    """The fixed text fails verification; str(exc) is the reason (no source text)."""


class Verifier:
    def __init__(self, doc: Document):
        self.doc = doc
        self._before: Counter | None = None
        self._before_parses: bool | None = None

    def check(self, text: str) -> str:
        if text == self.doc.text:
            return text
        encoding = self.doc.source_format.encoding
        if encoding != "utf-8":  # a PEP 263 codec (latin-1, ...) cannot write every character
            try:
                text.encode(encoding)
            except UnicodeEncodeError:
                raise Refused(f"the result cannot be written in the file's encoding ({encoding})") from None
        if self.doc.kind == "python":
            return self._python(text)
        if self.doc.kind != "text":  # YAML, JSON, HCL, .env, and any reader added later (Bicep)
            self._reparse(text)
        if "python" in self.doc.embedded_kinds:
            self._embedded_python(text)
        return text

    # -- Python written inside another document (a notebook's code cells) --
    def _embedded_python(self, text: str) -> None:
        """The cells still compile and read no name that is not bound. Leftover imports and
        variables are left alone: a notebook keeps them for the next cell run by hand."""
        from keyless.linter import pynames

        before = [e.doc.text for e in self.doc.embedded() if e.doc.kind == "python"]
        after_doc = make_document(self.doc.path, self.doc.relpath, text, self.doc.source_format, kind=self.doc.kind)
        after = [e.doc.text for e in after_doc.embedded() if e.doc.kind == "python"]
        if len(after) != len(before):
            raise Refused("the code cells no longer read as they did")
        for old, new in zip(before, after):
            if old == new:
                continue
            try:
                was = pynames.problems(_compile_cells(old))
            except Refused:
                continue  # the cells did not compile before: nothing to compare with
            kinds = {kind for kind, _, _ in pynames.problems(_compile_cells(new)) - was}
            if "undefined" in kinds:
                raise Refused("it would read an undefined name")
            if "unbound" in kinds:
                raise Refused("a name it reads would not be bound on every path to the read")

    # -- structured documents --
    def _reparse(self, text: str) -> None:
        if self._before_parses is None:
            self._before_parses = self.doc.ensure_parsed()
        if not self._before_parses:
            return
        after = make_document(self.doc.path, self.doc.relpath, text, self.doc.source_format, kind=self.doc.kind)
        if not after.ensure_parsed():
            raise Refused(f"the result is not valid {self.doc.kind.upper()}")

    # -- Python --
    def _python(self, text: str) -> str:
        from keyless.linter import pynames

        before = self._before_problems()
        if before is None:
            raise Refused("the file does not compile before the fix")
        tree = _compile(text)
        merged = merge_repeated_imports(text, tree, _compile(self.doc.text))
        if merged != text:  # two fixes of one pass each added the same import
            text, tree = merged, _compile(merged)
        new = pynames.problems(tree) - before
        for _ in range(4):  # removing `key = os.environ[...]` may leave the next one unused
            leftovers = [p for p in new if p[0] in ("unused-import", "unused-variable", "shadowed-import")]
            tidied = tidy(text, tree, leftovers) if leftovers else text
            if tidied == text:
                break
            text = tidied
            tree = _compile(text)
            new = pynames.problems(tree) - before
        # Reasons name no identifier: a report line carries a position and a kind, never source text.
        kinds = {kind for kind, _, _ in new}
        if "undefined" in kinds:
            raise Refused("it would read an undefined name")
        if "unbound" in kinds:
            raise Refused("a name it reads would not be bound on every path to the read")
        if kinds & {"unused-import", "shadowed-import"}:
            raise Refused("it would leave an import unused")
        if kinds:
            raise Refused("it would leave a local variable unused (removing it could change what the code does)")
        return text

    def _before_problems(self) -> Counter | None:
        if self._before is None:
            from keyless.linter import pynames

            try:
                self._before = pynames.problems(_compile(self.doc.text))
            except Refused:
                return None
        return self._before


def _compile_cells(text: str) -> ast.Module:
    """A notebook's code: compiled as IPython runs it (top-level `await` allowed)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
            compile(tree, "<fix>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except (SyntaxError, ValueError):
        raise Refused("the result does not compile") from None
    return tree


def _compile(text: str) -> ast.Module:
    """The module's tree after a full compile (which also rejects repeated keyword arguments and
    misplaced `nonlocal`, unlike ast.parse)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
            compile(tree, "<fix>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        msg = exc.msg or ""
        if "keyword argument repeated" in msg:
            raise Refused("the result would repeat a keyword argument") from None
        raise Refused("the result does not compile") from None
    except (ValueError, UnicodeError, RecursionError, MemoryError):
        raise Refused("the result does not compile") from None
    return tree


# ---- leftovers ----------------------------------------------------------------------------------

def _ast_offsets(text: str):
    """(lines, their start offsets, `off`): `text` split into lines as ast numbers them (\n, \r\n,
    \r only), and `off(line, col)` mapping an ast position (columns are UTF-8 byte offsets within
    the line) to an offset in `text`."""
    lines = _LINE_RE.findall(text)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def off(line: int, col: int) -> int:
        raw = lines[line - 1].encode("utf-8", "surrogateescape")[:col]
        return starts[line - 1] + len(raw.decode("utf-8", "surrogateescape"))

    return lines, starts, off


def tidy(text: str, tree: ast.Module, leftovers) -> str:
    """Remove the imports and local assignments in `leftovers` ((kind, scope, name) triples) where
    that keeps the meaning; anything else stays (and verification then refuses the fix)."""
    want_imports = {name for kind, _, name in leftovers if kind == "unused-import"}
    # a dead import shadowed by a later one: remove only the first import of the name in its scope
    want_first = {(scope, name) for kind, scope, name in leftovers if kind == "shadowed-import"}
    want_vars = {(scope, name) for kind, scope, name in leftovers if kind == "unused-variable"}
    lines, starts, off = _ast_offsets(text)

    edits: list[tuple[int, int, str]] = []
    for body, scope in _bodies(tree):
        removed: list[ast.stmt] = []
        first_seen: set[str] = set()
        for st in body:
            if isinstance(st, (ast.Import, ast.ImportFrom)) and (want_imports or want_first):
                gone = []
                for a in st.names:
                    local = _local(st, a)
                    if local in want_imports or ((scope or "", local) in want_first and local not in first_seen):
                        gone.append(a)
                    first_seen.add(local)
                if not gone:
                    continue
                if len(gone) == len(st.names):
                    removed.append(st)
                else:
                    for a in gone:
                        edits.append(_remove_alias(st, a, off))
            elif isinstance(st, (ast.Assign, ast.AnnAssign)) and want_vars and scope is not None:
                targets = st.targets if isinstance(st, ast.Assign) else [st.target]
                if len(targets) != 1 or not isinstance(targets[0], ast.Name) or st.value is None:
                    continue
                if (scope, targets[0].id) in want_vars and _pure(st.value):
                    removed.append(st)
        removed = [st for st in removed if _alone_on_lines(st, lines)]
        for i, st in enumerate(removed):
            # A block never becomes empty: the last statement removed from it becomes `pass`.
            keep_pass = i == len(removed) - 1 and len(removed) == len(body)
            edits.append(_remove_statement(st, lines, starts, keep_pass))
    if not edits:
        return text
    edits.sort()
    out, pos = [], 0
    for s, e, content in edits:
        if s < pos:
            continue
        out.append(text[pos:s])
        out.append(content)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _import_keys(tree: ast.Module) -> Counter:
    return Counter((st.module, a.name, a.asname) for st in tree.body
                   if isinstance(st, ast.ImportFrom) and st.level == 0 for a in st.names if a.name != "*")


def merge_repeated_imports(text: str, tree: ast.Module, before: ast.Module) -> str:
    """Remove a module-level `from m import x` that repeats an earlier one with nothing binding `x`
    in between, when the original had fewer of them (fixes computed one by one each add theirs)."""
    extra = _import_keys(tree) - _import_keys(before)
    if not extra:
        return text
    lines, starts, off = _ast_offsets(text)

    seen: set[tuple] = set()
    edits: list[tuple[int, int, str]] = []
    for st in tree.body:
        if not isinstance(st, ast.ImportFrom) or st.level != 0:
            for name in _top_level_names(st):  # a rebinding in between: the later import is needed
                seen = {k for k in seen if (k[2] or k[1]) != name}
            continue
        gone = []
        for a in st.names:
            key = (st.module, a.name, a.asname)
            if key in seen and extra[key] > 0:
                gone.append(a)
                extra[key] -= 1
            elif a.name != "*":
                seen = {k for k in seen if (k[2] or k[1]) != (a.asname or a.name)} | {key}
        if not gone:
            continue
        if len(gone) == len(st.names):
            if _alone_on_lines(st, lines):
                edits.append(_remove_statement(st, lines, starts, keep_pass=False))
        else:
            edits.extend(_remove_alias(st, a, off) for a in gone)
    out, pos = [], 0
    for s, e, content in sorted(edits):
        out.append(text[pos:s])
        out.append(content)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _top_level_names(st: ast.stmt) -> set[str]:
    if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {st.name}
    if isinstance(st, ast.Import):
        return {_local(st, a) for a in st.names}
    return {n.id for n in ast.walk(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _local(st, alias: ast.alias) -> str:
    if isinstance(st, ast.Import):
        return alias.asname or alias.name.split(".", 1)[0]
    return alias.asname or alias.name


def _bodies(tree: ast.Module):
    """(statement list, function scope name or None) for every block of the module; scope names
    are those `pynames` gives (dotted def/class names)."""
    stack = [(tree.body, None, "")]
    while stack:
        body, scope, prefix = stack.pop()
        yield body, scope
        for st in body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + st.name
                stack.append((st.body, name if not isinstance(st, ast.ClassDef) else None, name + "."))
                continue
            for field in ("body", "orelse", "finalbody"):
                v = getattr(st, field, None)
                if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
                    stack.append((v, scope, prefix))
            for h in getattr(st, "handlers", ()) or ():
                stack.append((h.body, scope, prefix))
            for c in getattr(st, "cases", ()) or ():
                stack.append((c.body, scope, prefix))


def _alone_on_lines(st: ast.stmt, lines: list[str]) -> bool:
    """The statement fills its lines alone (not `a = 1; b = 2`), a trailing comment aside."""
    first, last = lines[st.lineno - 1], lines[st.end_lineno - 1]
    before = first.encode("utf-8", "surrogateescape")[: st.col_offset]
    return not before.strip() and not _after(last, st.end_col_offset)


def _remove_statement(st: ast.stmt, lines: list[str], starts: list[int], keep_pass: bool) -> tuple[int, int, str]:
    first = lines[st.lineno - 1]
    if keep_pass:
        indent = first[: len(first) - len(first.lstrip(" \t"))]
        nl = first[len(first.rstrip("\r\n")):] or "\n"
        return starts[st.lineno - 1], starts[st.end_lineno], f"{indent}pass{nl}"
    return starts[st.lineno - 1], starts[st.end_lineno], ""


def _after(line: str, byte_col: int) -> str:
    rest = line.encode("utf-8", "surrogateescape")[byte_col:].decode("utf-8", "surrogateescape")
    s = rest.strip()
    return "" if s.startswith("#") or not s else s


def _remove_alias(st, alias: ast.alias, off) -> tuple[int, int, str]:
    """Delete one name from `import a, b` / `from m import (a, b)`, with its comma."""
    names = st.names
    i = names.index(alias)
    if i + 1 < len(names):
        nxt = names[i + 1]
        return off(alias.lineno, alias.col_offset), off(nxt.lineno, nxt.col_offset), ""
    prev = names[i - 1]
    return off(prev.end_lineno, prev.end_col_offset), off(alias.end_lineno, alias.end_col_offset), ""


_PURE_CALLS = {"os.getenv", "os.environ.get", "getenv", "environ.get", "str", "int", "bool", "float"}


def _pure(node: ast.AST) -> bool:
    """An expression whose evaluation has no effect beyond its value (environment and dict reads
    count: they can only fail, and the fixed code no longer needs the value)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _pure(node.value)
    if isinstance(node, ast.Subscript):
        return _pure(node.value) and _pure(node.slice)
    if isinstance(node, ast.JoinedStr):
        return all(_pure(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _pure(node.value) and (node.format_spec is None or _pure(node.format_spec))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _pure(node.left) and _pure(node.right)
    if isinstance(node, ast.BoolOp):
        return all(_pure(v) for v in node.values)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_pure(e) for e in node.elts)
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name is None:
            return False
        if name not in _PURE_CALLS and not name.endswith((".getenv", ".environ.get")) and \
                not (name.endswith(".get") and isinstance(node.func, ast.Attribute) and _pure(node.func.value)):
            return False
        return all(_pure(a) for a in node.args) and all(_pure(k.value) for k in node.keywords)
    return False


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))
