"""libcst rewrites for the key-auth rules. Imported only by `Rule.materialize_fix`.

Each fix rewrites one expression: the source segment of the flagged node is parsed with
`libcst.parse_expression`, transformed (argument formatting and comments are kept), and emitted as
one Edit in original-document coordinates. Imports are edited as separate, non-overlapping Edits:
the `azure.identity` import is added once (merged into an existing `from azure.identity import`
when there is one) and imports whose last use disappeared with the rewrite are removed.
"""

from __future__ import annotations

import ast
import json
from types import SimpleNamespace

import libcst as cst

from keyless.linter.finding import Applicability, Edit, Finding, Fix, Position, Span
from keyless.rules.python.analysis import get_analysis

COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"


class FixError(Exception):
    pass


def materialize(doc, finding: Finding) -> Fix:
    try:
        return _materialize(doc, finding)
    except FixError as exc:  # fixed phrases
        reason = str(exc)
    except (cst.ParserSyntaxError, SyntaxError, ValueError):  # their messages quote the source
        reason = "the code could not be rewritten"
    return Fix(f"{finding.fix.message} (not rewritten: {reason})", Applicability.DISPLAY_ONLY)


def _materialize(doc, finding: Finding) -> Fix:
    an = get_analysis(doc)
    hit = None
    for h in an.hits:
        if h.code == finding.code and doc.node_span(h.node) == finding.span:
            hit = h
            break
    if hit is None:
        raise FixError("finding is stale")
    data = finding.fix_data or hit.fix_data
    node = hit.fix_node
    span = doc.node_span(node)
    start, end = doc.lines.offset(span.start), doc.lines.offset(span.end)
    seg = doc.text[start:end]
    imports = _Imports(doc, an, node.lineno)
    kind = data["kind"]
    if kind == "fcs":
        new = _rewrite_fcs(seg, data, imports)
    elif kind in ("keycred", "keyarg"):
        new = _cred_expr(data["cred"], imports)
    elif kind == "secretcred":
        if data.get("mi_client_id"):
            a = data["mi_client_id"]
            sp = doc.node_span(SimpleNamespace(lineno=a[0], col_offset=a[1], end_lineno=a[2], end_col_offset=a[3]))
            cid = doc.text[doc.lines.offset(sp.start):doc.lines.offset(sp.end)]
            pkg = "azure.identity.aio" if data.get("aio") else "azure.identity"
            new = f"{imports.name_for(pkg, 'ManagedIdentityCredential')}(client_id={cid})"
        else:
            new = _cred_expr({"new": "DefaultAzureCredential", "aio": data.get("aio", False)}, imports)
    elif kind == "openai":
        new = _rewrite_openai(seg, data, imports)
    elif kind == "openai-drop-key":
        new = _drop_keyword(seg, data["key_arg"])
    else:
        raise FixError(f"unknown fix kind {kind}")
    cst.parse_expression(new)  # the replacement must parse on its own
    edits = [Edit(span, new)]
    for g in data.get("guards", ()):  # `if not endpoint or not key:` loses its key check
        gsp = doc.node_span(SimpleNamespace(lineno=g[0], col_offset=g[1], end_lineno=g[2], end_col_offset=g[3]))
        gseg = doc.text[doc.lines.offset(gsp.start):doc.lines.offset(gsp.end)]
        edits.append(Edit(gsp, _drop_unset_checks(gseg, data["guard_name"])))
    edits += imports.edits(seg, new)
    edits.sort(key=lambda e: (e.span.start.line, e.span.start.column))
    return Fix(finding.fix.message, Applicability.UNSAFE, tuple(edits))


# ---- expressions --------------------------------------------------------------------------------

def _cred_expr(plan: dict, imports: "_Imports") -> str:
    if plan.get("reuse"):
        return plan["reuse"]
    pkg = "azure.identity.aio" if plan.get("aio") else "azure.identity"
    return f"{imports.name_for(pkg, plan.get('new', 'DefaultAzureCredential'))}()"


def _value_code(spec: dict) -> str:
    if "literal" in spec:
        return json.dumps(spec["literal"])
    q = spec.get("quote", '"')
    if spec["style"] == "subscript":
        return f"{spec['accessor']}[{q}{spec['env']}{q}]"
    return f"{spec['accessor']}({q}{spec['env']}{q})"


def _kwarg(name: str, value_code: str) -> cst.Arg:
    return cst.Arg(value=cst.parse_expression(value_code), keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                         whitespace_after=cst.SimpleWhitespace("")))


def _append(call: cst.Call, args: list[cst.Arg], new: cst.Arg) -> list[cst.Arg]:
    if not args:
        return [new]
    last = args[-1]
    if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
        sep = args[-2].comma
    elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        sep = cst.Comma(whitespace_after=call.whitespace_before_args)
    else:
        sep = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    PW = cst.ParenthesizedWhitespace
    if isinstance(last.comma, cst.Comma):  # trailing comma: the new argument inherits it
        lc = last.comma
        if isinstance(lc.whitespace_after, PW) and isinstance(sep.whitespace_after, PW):
            # keep a comment that followed the old last argument on its line
            kept = lc.with_changes(whitespace_after=sep.whitespace_after.with_changes(
                first_line=lc.whitespace_after.first_line))
            moved = lc.with_changes(whitespace_after=lc.whitespace_after.with_changes(
                first_line=cst.TrailingWhitespace()))
            return args[:-1] + [last.with_changes(comma=kept), new.with_changes(comma=moved)]
        return args[:-1] + [last.with_changes(comma=sep), new.with_changes(comma=last.comma)]
    wa = last.whitespace_after_arg
    if isinstance(wa, PW) and isinstance(sep.whitespace_after, PW):
        kept = sep.with_changes(whitespace_after=sep.whitespace_after.with_changes(first_line=wa.first_line))
        return args[:-1] + [last.with_changes(comma=kept, whitespace_after_arg=cst.SimpleWhitespace("")),
                            new.with_changes(whitespace_after_arg=wa.with_changes(
                                first_line=cst.TrailingWhitespace()))]
    return args[:-1] + [last.with_changes(comma=sep, whitespace_after_arg=cst.SimpleWhitespace("")),
                        new.with_changes(whitespace_after_arg=wa)]


def _rewrite_fcs(seg: str, data: dict, imports: "_Imports") -> str:
    call = cst.parse_expression(seg)
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        raise FixError("unexpected call shape")
    args = list(call.args)
    conn_idx = None
    for i, a in enumerate(args):
        if a.star:
            raise FixError("star arguments")
        if (a.keyword is None and conn_idx is None) or (a.keyword is not None and a.keyword.value in (
                "conn_str", "connection_string", "conn_string")):
            conn_idx = i
            break
    if conn_idx is None:
        raise FixError("no connection string argument")
    out: list[cst.Arg] = []
    params = data["fcs_params"]
    pi = 0
    have = set()
    for i, a in enumerate(args):
        if i == conn_idx:
            ep = cst.parse_expression(_value_code(data["endpoint"]))
            if a.keyword is not None:
                a = a.with_changes(keyword=cst.Name(data["endpoint_param"]), value=ep)
            else:
                a = a.with_changes(value=ep)
            out.append(a)
            continue
        if a.keyword is None:
            if pi >= len(params):
                raise FixError("unexpected positional argument")
            a = a.with_changes(keyword=cst.Name(params[pi]), equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
            pi += 1
        name = a.keyword.value
        have.add(name)
        if name == "credential":
            a = a.with_changes(value=cst.parse_expression(_cred_expr(data["cred"], imports)))
        out.append(a)
    if "eventhub_name" in data and "eventhub_name" not in have:
        out = _append(call, out, _kwarg("eventhub_name", _value_code(data["eventhub_name"])))
    if "credential" not in have:
        out = _append(call, out, _kwarg("credential", _cred_expr(data["cred"], imports)))
    for k, v in data.get("extra", ()):
        if k not in have:
            out = _append(call, out, _kwarg(k, v))
    new = call.with_changes(func=call.func.value, args=out)
    return cst.Module([]).code_for_node(new)


def _drop_keyword(seg: str, name: str) -> str:
    """The call without its `name=` argument (the comma layout of the others kept)."""
    call = cst.parse_expression(seg)
    if not isinstance(call, cst.Call):
        raise FixError("unexpected call shape")
    args = list(call.args)
    idx = [i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == name]
    if len(idx) != 1:
        raise FixError("no single argument to remove")
    i = idx[0]
    if i == len(args) - 1 and i > 0:
        # the new last argument takes the removed one's comma (or its absence) and the line break
        # before the closing parenthesis
        args[i - 1] = args[i - 1].with_changes(comma=args[i].comma,
                                               whitespace_after_arg=args[i].whitespace_after_arg)
    del args[i]
    return cst.Module([]).code_for_node(call.with_changes(args=args))


def _drop_unset_checks(seg: str, name: str) -> str:
    """`a or not name or b` -> `a or b` (also `name is None`); the other operands' layout kept."""
    expr = cst.parse_expression("(" + seg + ")")  # a test spread over lines sits in the `if (...)` parentheses

    def unset(node) -> bool:
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return isinstance(node.expression, cst.Name) and node.expression.value == name
        return (isinstance(node, cst.Comparison) and isinstance(node.left, cst.Name) and node.left.value == name
                and len(node.comparisons) == 1 and isinstance(node.comparisons[0].operator, cst.Is)
                and isinstance(node.comparisons[0].comparator, cst.Name)
                and node.comparisons[0].comparator.value == "None")

    class Drop(cst.CSTTransformer):
        def leave_BooleanOperation(self, original, updated):
            if not isinstance(updated.operator, cst.Or):
                return updated
            if unset(updated.right):
                return updated.left
            if unset(updated.left):
                return updated.right
            return updated

    new = expr.visit(Drop())
    if unset(new):
        raise FixError("the check would be empty")
    if getattr(new, "lpar", None):
        new = new.with_changes(lpar=[], rpar=[])
    return cst.Module([]).code_for_node(new)


def _rewrite_openai(seg: str, data: dict, imports: "_Imports") -> str:
    call = cst.parse_expression(seg)
    if not isinstance(call, cst.Call):
        raise FixError("unexpected call shape")
    if data.get("provider"):
        provider = data["provider"]
    else:
        pkg = "azure.identity.aio" if data.get("aio") else "azure.identity"  # an async client awaits the provider
        gbtp = imports.name_for(pkg, "get_bearer_token_provider")
        provider = f"{gbtp}({_cred_expr(data['cred'], imports)}, \"{COGNITIVE_SCOPE}\")"
    args = list(call.args)
    param = data["param"]
    done = False
    for i, a in enumerate(args):
        if a.keyword is not None and a.keyword.value == data.get("key_arg"):
            args[i] = a.with_changes(keyword=cst.Name(param), value=cst.parse_expression(provider))
            done = True
    if not done:
        args = _append(call, args, _kwarg(param, provider))
    if data.get("flavour") == "llamaindex" and not any(a.keyword and a.keyword.value == "use_azure_ad" for a in args):
        args = _append(call, args, _kwarg("use_azure_ad", "True"))
    return cst.Module([]).code_for_node(call.with_changes(args=args))


# ---- imports ------------------------------------------------------------------------------------

class _Imports:
    """Resolves local names for qualified names and plans the import edits of one fix."""

    def __init__(self, doc, an, at_line: int):
        self.doc = doc
        self.an = an
        self.at_line = at_line
        self.module = an.module
        self.adds: dict[str, list[tuple[str, str | None]]] = {}
        # Only imports at the top level of the module are reused or extended: one inside
        # `if TYPE_CHECKING:` or `try:` may not run, and a new line after it would land in its block.
        body = an.tree.body if an.tree is not None else []
        self.top = [st for st in body if isinstance(st, (ast.Import, ast.ImportFrom))]
        # Code at module level runs top to bottom: it can only use an import above it.
        in_def = any(isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and st.lineno <= at_line <= st.end_lineno for st in body)
        usable = self.top if in_def else [st for st in self.top if st.end_lineno < at_line]
        self._top_pos = {(st.lineno, st.col_offset) for st in usable}
        # A new import goes after the imports above the use; for a use inside a def, after those
        # above the first def, so fixes in several defs add their names to one import line.
        first_def = min((st.lineno for st in body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                           ast.ClassDef))), default=at_line)
        self.insert_before = min(at_line, first_def) if in_def else at_line

    def _binding(self, name: str):
        lst = self.module.bindings.get(name) if self.module else None
        return lst[-1] if lst else None

    def name_for(self, pkg: str, name: str) -> str:
        want = f"{pkg}.{name}"
        if self.module is not None:
            top = [(local, lst[0][3]) for local, lst in self.module.bindings.items()
                   if len(lst) == 1 and lst[0][2] == "import" and (lst[0][0], lst[0][1]) in self._top_pos]
            for local, val in top:
                if val == want:
                    return local
            for local, val in top:
                if val == pkg:
                    return f"{local}.{name}"
        for n, a in self.adds.get(pkg, ()):
            if n == name:
                return a or n
        local = name
        asname = None
        b = self._binding(name)
        lst = self.module.bindings.get(name, []) if self.module else []
        if b is not None and not all(x[2] == "import" and x[3] == want for x in lst):
            # the plain name is taken by something else
            prefix = ("Async" if pkg.endswith(".aio") else "Azure") if name[:1].isupper() else \
                ("async_" if pkg.endswith(".aio") else "azure_")
            asname = local = prefix + name
        self.adds.setdefault(pkg, []).append((name, asname))
        return local

    # -- edits --
    def edits(self, old_seg: str, new_code: str) -> list[Edit]:
        removals = self._unused_after(old_seg, new_code)
        edits: list[Edit] = []
        touched: dict[int, tuple[list, list]] = {}  # id(stmt) -> (adds, removes)
        stmts = {id(s): s for s in self.an.imports}
        for pkg, names in self.adds.items():
            target = None
            for s in self.top:
                if isinstance(s, ast.ImportFrom) and s.level == 0 and s.module == pkg and \
                        not any(a.name == "*" for a in s.names) and (s.lineno, s.col_offset) in self._top_pos:
                    target = s
            if target is not None:
                touched.setdefault(id(target), ([], []))[0].extend(names)
            else:
                edits.append(self._insert_import(pkg, names))
        for stmt, alias in removals:
            touched.setdefault(id(stmt), ([], []))[1].append(alias)
        for sid, (adds, removes) in touched.items():
            e = self._edit_statement(stmts[sid], adds, removes)
            if e is not None:
                edits.append(e)
        return edits

    def _unused_after(self, old_seg: str, new_code: str) -> list[tuple[ast.stmt, ast.alias]]:
        def names_in(code: str) -> dict[str, int]:
            counts: dict[str, int] = {}
            try:
                tree = ast.parse("(" + code + "\n)", mode="eval")
            except SyntaxError:
                return {}
            for n in ast.walk(tree):
                if isinstance(n, ast.Name):
                    counts[n.id] = counts.get(n.id, 0) + 1
            return counts

        old, new = names_in(old_seg), names_in(new_code)
        gone = [n for n, c in old.items() if c > new.get(n, 0)]
        if not gone:
            return []
        total: dict[str, int] = {}
        for n in ast.walk(self.an.tree):
            if isinstance(n, ast.Name) and n.id in gone:
                total[n.id] = total.get(n.id, 0) + 1
        text = self.doc.text
        out = []
        for name in gone:
            if total.get(name, 0) - old[name] + new.get(name, 0) > 0:
                continue
            if f'"{name}"' in text or f"'{name}'" in text:  # __all__, string annotations
                continue
            for s in self.top:
                for a in s.names:
                    local = a.asname or (a.name if isinstance(s, ast.ImportFrom) else a.name.split(".")[0])
                    if local == name and not (isinstance(s, ast.ImportFrom) and s.module == "__future__"):
                        out.append((s, a))
        return out

    def _stmt_span(self, stmt) -> Span:
        return self.doc.node_span(stmt)

    def _whole_lines(self, stmt) -> Span | None:
        sp = self._stmt_span(stmt)
        lines = self.doc.lines
        before = lines.line_text(sp.start.line)[: sp.start.column - 1]
        after = lines.line_text(sp.end.line)[sp.end.column - 1:]
        if before.strip() or (after.strip() and not after.strip().startswith("#")):
            return None
        start = lines.starts[sp.start.line - 1]
        end = lines.starts[sp.end.line] if sp.end.line < lines.line_count else len(self.doc.text)
        return lines.span(start, end)

    def _edit_statement(self, stmt, adds, removes) -> Edit | None:
        sp = self._stmt_span(stmt)
        seg = self.doc.text[self.doc.lines.offset(sp.start):self.doc.lines.offset(sp.end)]
        node = cst.parse_statement(seg)
        imp = node.body[0]
        if not isinstance(imp, (cst.Import, cst.ImportFrom)) or isinstance(imp.names, cst.ImportStar):
            return None
        remove_keys = {(a.name, a.asname) for a in removes}

        def key(alias: cst.ImportAlias):
            full = cst.Module([]).code_for_node(alias.name)
            asn = alias.asname.name.value if alias.asname else None
            return (full, asn)

        names = [a for a in imp.names if key(a) not in remove_keys]
        existing = {key(a) for a in names}
        new_aliases = []
        for n, asn in adds:
            if (n, asn) not in existing:
                new_aliases.append(cst.ImportAlias(
                    name=cst.Name(n), asname=cst.AsName(name=cst.Name(asn)) if asn else None))
        if not names and not new_aliases:
            whole = self._whole_lines(stmt)
            return Edit(whole, "") if whole is not None else Edit(sp, "pass")
        if new_aliases:
            plain = [cst.Module([]).code_for_node(a.name) for a in names]
            was_sorted = plain == sorted(plain)
            for na in new_aliases:
                if was_sorted:
                    pos = 0
                    while pos < len(names) and cst.Module([]).code_for_node(names[pos].name) < na.name.value:
                        pos += 1
                else:
                    pos = len(names)
                if pos == len(names):
                    if names:
                        last = names[-1]
                        trailing = last.comma if isinstance(last.comma, cst.Comma) else cst.MaybeSentinel.DEFAULT
                        sep = names[-2].comma if len(names) >= 2 and isinstance(names[-2].comma, cst.Comma) \
                            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                        names = names[:-1] + [last.with_changes(comma=sep), na.with_changes(comma=trailing)]
                    else:
                        names = [na]
                else:
                    sep = names[pos].comma if isinstance(names[pos].comma, cst.Comma) and pos < len(names) - 1 \
                        else (names[0].comma if isinstance(names[0].comma, cst.Comma) and len(names) > 1
                              else cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    names = names[:pos] + [na.with_changes(comma=sep)] + names[pos:]
        else:
            last = names[-1]
            if isinstance(last.comma, cst.Comma) and not isinstance(imp, cst.ImportFrom) or \
                    (isinstance(imp, cst.ImportFrom) and imp.lpar is None and isinstance(last.comma, cst.Comma)):
                names[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT)
        code = cst.Module([]).code_for_node(node.with_changes(body=[imp.with_changes(names=names)]))
        code = code.rstrip("\r\n")
        return Edit(sp, code)

    def _insert_import(self, pkg: str, names) -> Edit:
        nl = self.doc.source_format.newline
        parts = ", ".join(f"{n} as {a}" if a else n for n, a in sorted(names))
        line = f"from {pkg} import {parts}"
        lines = self.doc.lines
        before = [s for s in self.top if s.end_lineno < self.insert_before]
        if before:
            last = before[-1]
            sp = self.doc.node_span(last)
            if sp.end.line < lines.line_count:
                pos = Position(sp.end.line + 1, 1)
                return Edit(Span(pos, pos), line + nl)
            end = Position(sp.end.line, len(lines.line_text(sp.end.line)) + 1)
            return Edit(Span(end, end), nl + line)
        body = self.an.tree.body if self.an.tree is not None else []
        first = body[0] if body else None
        if first is not None and isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None),
                                                                             ast.Constant) \
                and isinstance(first.value.value, str):
            sp = self.doc.node_span(first)
            if sp.end.line < lines.line_count:
                pos = Position(sp.end.line + 1, 1)
                return Edit(Span(pos, pos), line + nl)
            end = Position(sp.end.line, len(lines.line_text(sp.end.line)) + 1)
            return Edit(Span(end, end), nl + line)
        ln = first.lineno if first is not None else 1
        if first is not None and getattr(first, "decorator_list", None):
            ln = min([d.lineno - 1 for d in first.decorator_list] + [ln])
        pos = Position(ln, 1)
        return Edit(Span(pos, pos), line + nl)
