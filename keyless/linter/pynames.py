"""Name binding in Python source: what a fix must not break.

`problems(tree)` lists, as a multiset, the name problems of a module:

- `undefined`: a name no scope binds and no builtin provides;
- `unbound`: a local (or module-level) name read where some path reaches the read without binding
  it first, e.g. a name bound in one `if` branch and read in its sibling (UnboundLocalError); a
  function reading a module name that the module binds only on some paths (`if TYPE_CHECKING:`);
- `unused-import` / `unused-variable`: an import never read anywhere, a function-local name assigned
  and never read (pyflakes' rule: simple assignments only);
- `shadowed-import`: a name imported again before its first import was read in its scope's code.

A fix is verified by comparing the problems before and after it: any new one drops the fix.
Comparing keeps the analysis honest about its approximations (a pattern it cannot judge is the same
on both sides), so it stays small; no maintained library gives flow-sensitive definite assignment.

The flow analysis is definite assignment over the statement structure: `if`/`match` branches meet
(an `if TYPE_CHECKING:` body never runs),
loop bodies may not run, `try` handlers start from the state before the `try`, `return`/`raise`/
`break`/`continue` end a path, `del` unbinds. Function bodies are read from their parameters; a
name a function reads from the module must be bound on every path through the module body.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import Counter
from dataclasses import dataclass, field

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__loader__",
                                        "__package__", "__builtins__", "__path__", "__annotations__",
                                        "__dict__", "__cached__", "WindowsError"}
_CLASS_IMPLICIT = frozenset({"__module__", "__qualname__", "__class__"})
_FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMP_TYPES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

Problem = tuple[str, str, str]  # (kind, scope, name)


@dataclass(eq=False)
class _Scope:
    kind: str  # module | function | class | lambda
    name: str  # dotted qualname ("" for the module)
    node: ast.AST
    parent: "_Scope | None"
    bound: set[str] = field(default_factory=set)  # names this scope binds (its locals)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    simple_assigns: dict[str, int] = field(default_factory=dict)  # name -> count (for unused-variable)
    loads: set[str] = field(default_factory=set)  # names read here or in nested scopes
    calls_locals: bool = False

    def is_local(self, name: str) -> bool:
        return name in self.bound and name not in self.declared_global and name not in self.declared_nonlocal


def _target_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _pattern_names(pattern: ast.AST) -> list[str]:
    out = []
    for n in ast.walk(pattern):
        if isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            out.append(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            out.append(n.rest)
    return out


class _Scopes(ast.NodeVisitor):
    """Pass 1: every scope, what it binds, declares and reads; every import binding."""

    def __init__(self, tree: ast.Module):
        self.module = _Scope("module", "", tree, None)
        self.by_node: dict[int, _Scope] = {id(tree): self.module}
        self.imports: list[tuple[_Scope, str, ast.AST]] = []  # (scope, local name, statement)
        self.all_loads: Counter[str] = Counter()
        self.strings: list[str] = []
        self.star_import = False
        self.scope = self.module
        self._body(tree.body)

    def _body(self, stmts) -> None:
        for s in stmts:
            self.visit(s)

    def _new(self, kind: str, name: str, node: ast.AST) -> _Scope:
        outer = self.scope
        prefix = outer.name + "." if outer.name else ""
        s = _Scope(kind, prefix + name, node, outer)
        self.by_node[id(node)] = s
        return s

    def _bind(self, name: str) -> None:
        self.scope.bound.add(name)

    # -- scopes --
    def _function(self, node) -> None:
        for d in node.decorator_list:
            self.visit(d)
        self._arguments(node.args)
        if getattr(node, "returns", None) is not None:
            self.visit(node.returns)
        self._bind(node.name)
        inner = self._new("function", node.name, node)
        outer, self.scope = self.scope, inner
        self._params(node.args)
        self._body(node.body)
        self.scope = outer

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _arguments(self, a: ast.arguments) -> None:
        for d in a.defaults + [d for d in a.kw_defaults if d is not None]:
            self.visit(d)
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
            if arg.annotation is not None:
                self.visit(arg.annotation)

    def _params(self, a: ast.arguments) -> None:
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
            self._bind(arg.arg)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._arguments(node.args)
        inner = self._new("lambda", "<lambda>", node)
        outer, self.scope = self.scope, inner
        self._params(node.args)
        self.visit(node.body)
        self.scope = outer

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for d in node.decorator_list + node.bases + [k.value for k in node.keywords]:
            self.visit(d)
        self._bind(node.name)
        inner = self._new("class", node.name, node)
        outer, self.scope = self.scope, inner
        self._body(node.body)
        self.scope = outer

    def _comprehension(self, node) -> None:
        gens = node.generators
        self.visit(gens[0].iter)  # evaluated in the enclosing scope
        inner = self._new("comprehension", "<comp>", node)
        outer, self.scope = self.scope, inner
        for i, g in enumerate(gens):
            if i:
                self.visit(g.iter)
            for n in _target_names(g.target):
                self._bind(n)
            for c in g.ifs:
                self.visit(c)
        for part in ("elt", "key", "value"):
            if getattr(node, part, None) is not None:
                self.visit(getattr(node, part))
        self.scope = outer

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # -- bindings --
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.all_loads[node.id] += 1
            s = self.scope
            while s is not None:
                s.loads.add(node.id)
                s = s.parent
            if node.id == "locals":
                self.scope.calls_locals = True
        else:
            self._bind(node.id)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        s = self.scope
        while s.kind == "comprehension":  # the walrus binds in the enclosing function
            s = s.parent
        s.bound.add(node.target.id)
        name = node.target.id
        s.simple_assigns[name] = s.simple_assigns.get(name, 0) + 1  # pyflakes reports an unused one too

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for t in node.targets:
            if isinstance(t, ast.Name):
                self.scope.simple_assigns[t.id] = self.scope.simple_assigns.get(t.id, 0) + 1
            self.visit(t)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            if isinstance(node.target, ast.Name):
                self.scope.simple_assigns[node.target.id] = self.scope.simple_assigns.get(node.target.id, 0) + 1
            self.visit(node.target)
        elif not isinstance(node.target, ast.Name):
            self.visit(node.target)
        self.visit(node.annotation)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.all_loads[node.target.id] += 1
            s = self.scope
            while s is not None:
                s.loads.add(node.target.id)
                s = s.parent
            self._bind(node.target.id)
        else:
            self.visit(node.target)

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            local = a.asname or a.name.split(".", 1)[0]
            self._bind(local)
            self.imports.append((self.scope, local, node))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for a in node.names:
            if a.name == "*":
                self.star_import = True
                continue
            local = a.asname or a.name
            self._bind(local)
            if node.module != "__future__":
                self.imports.append((self.scope, local, node))

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.declared_global.update(node.names)
        self.module.bound.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.declared_nonlocal.update(node.names)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._bind(node.name)
        self._body(node.body)

    def visit_MatchAs(self, node) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self._bind(node.name)

    def visit_MatchStar(self, node) -> None:
        if node.name:
            self._bind(node.name)

    def visit_MatchMapping(self, node) -> None:
        self.generic_visit(node)
        if node.rest:
            self._bind(node.rest)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and len(node.value) < 10_000:
            self.strings.append(node.value)


class _Flow:
    """Pass 2: definite assignment, statement by statement, reporting reads that may be unbound."""

    def __init__(self, scopes: _Scopes, problems: Counter):
        self.sc = scopes
        self.problems = problems
        self.module_end: frozenset[str] = frozenset()
        self.quiet = 0
        self.pending: list[tuple[_Scope, list[ast.stmt], frozenset[str]]] = []
        self.reported: set[int] = set()
        self.states: dict[int, frozenset[str]] | None = None  # id(stmt) -> state before it (on demand)
        self.fresh: set[tuple[int, str]] = set()  # imports not read yet in their scope's own code

    def run(self) -> None:
        mod = self.sc.module
        end = self.block(mod, mod.node.body, frozenset())
        self.module_end = frozenset(mod.bound if end is None else end) | _global_declared(self.sc)
        # Function and class bodies run after the module body (a function reads the module's
        # final state); nested ones are queued while their parent is analysed.
        while self.pending:
            scope, body, start = self.pending.pop(0)
            self.block(scope, body, start)

    # -- reads --
    def read(self, scope: _Scope, name: str, node: ast.AST, state: frozenset[str]) -> None:
        if self.quiet or id(node) in self.reported:
            return
        s = scope
        while s is not None and s.kind == "comprehension":
            if s.is_local(name):
                return
            s = s.parent
        self.fresh.discard((id(s), name))
        problem = self._resolve(s, name, state)
        if problem is not None:
            self.reported.add(id(node))
            self.problems[problem] += 1

    def _resolve(self, scope: _Scope, name: str, state: frozenset[str]) -> Problem | None:
        if scope.kind == "module":
            if name in scope.bound:
                return None if name in state else ("unbound", "", name)
            return self._global(name)
        if scope.kind == "class":
            if name in scope.bound and name in state:
                return None
            if name in _CLASS_IMPLICIT:
                return None
            return self._enclosing(scope.parent, name)
        if scope.is_local(name):
            return None if name in state else ("unbound", scope.name, name)
        if name in scope.declared_global:
            return self._global(name, from_function=True)
        return self._enclosing(scope.parent, name)

    def _enclosing(self, scope: _Scope | None, name: str) -> Problem | None:
        s = scope
        while s is not None and s.kind != "module":
            if s.kind != "class" and s.is_local(name):
                return None  # a free variable: bound when the closure runs (late binding)
            s = s.parent
        return self._global(name, from_function=True)

    def _global(self, name: str, from_function: bool = False) -> Problem | None:
        mod = self.sc.module
        if name in mod.bound:
            if from_function and name not in self.module_end:
                return ("unbound", "<module>", name)
            return None
        if name in _BUILTINS or name == "__class__" or self.sc.star_import:
            return None
        return ("undefined", "", name)

    # -- expressions --
    def expr(self, scope: _Scope, node: ast.AST | None, state: frozenset[str]) -> frozenset[str]:
        """Check the reads of an expression; returns the state with its walrus bindings."""
        if node is None:
            return state
        added: list[str] = []
        stack = [(node, scope)]
        while stack:
            n, s = stack.pop()
            t = type(n)
            if t is ast.Name:
                if isinstance(n.ctx, ast.Load):
                    self.read(s, n.id, n, state | frozenset(added))
                continue
            if t is ast.NamedExpr:
                stack.append((n.value, s))
                added.append(n.target.id)
                continue
            if t is ast.Lambda:
                a = n.args
                for d in a.defaults + [d for d in a.kw_defaults if d is not None]:
                    stack.append((d, s))
                inner = self.sc.by_node[id(n)]
                params = frozenset(inner.bound)
                self.pending.append((inner, [ast.Expr(n.body)], params))
                continue
            if t in _COMP_TYPES:
                inner = self.sc.by_node[id(n)]
                stack.append((n.generators[0].iter, s))
                for i, g in enumerate(n.generators):
                    if i:
                        stack.append((g.iter, inner))
                    stack.extend((c, inner) for c in g.ifs)
                for part in ("elt", "key", "value"):
                    v = getattr(n, part, None)
                    if v is not None:
                        stack.append((v, inner))
                continue
            for child in ast.iter_child_nodes(n):
                if not isinstance(child, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)):
                    stack.append((child, s))
        return state | frozenset(added) if added else state

    def bind_target(self, scope: _Scope, target: ast.AST, state: frozenset[str]) -> frozenset[str]:
        # Reads inside a target (obj.attr = ..., x[i] = ...) happen too.
        names = []
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                if isinstance(n.ctx, ast.Load):
                    self.read(scope, n.id, n, state)
                else:
                    names.append(n.id)
        return state | frozenset(names)

    # -- statements --
    def block(self, scope: _Scope, stmts: list[ast.stmt], state: frozenset[str]) -> frozenset[str] | None:
        """The state after `stmts`, or None when no path falls through."""
        for st in stmts:
            if self.states is not None and not self.quiet:
                self.states.setdefault(id(st), state)
            state = self.stmt(scope, st, state)
            if state is None:
                return None
        return state

    def stmt(self, scope: _Scope, st: ast.stmt, state: frozenset[str]) -> frozenset[str] | None:
        t = type(st)
        if t is ast.Assign:
            state = self.expr(scope, st.value, state)
            for tgt in st.targets:
                state = self.bind_target(scope, tgt, state)
            return state
        if t is ast.AnnAssign:
            if st.value is None:
                return state
            state = self.expr(scope, st.value, state)
            return self.bind_target(scope, st.target, state)
        if t is ast.AugAssign:
            state = self.expr(scope, st.value, state)
            if isinstance(st.target, ast.Name):
                self.read(scope, st.target.id, st.target, state)
                return state | {st.target.id}
            return self.bind_target(scope, st.target, state)
        if t is ast.Expr:
            return self.expr(scope, st.value, state)
        if t is ast.Assert:
            return self.expr(scope, st.msg, self.expr(scope, st.test, state))
        if t is ast.Return:
            self.expr(scope, st.value, state)
            return None
        if t is ast.Raise:
            self.expr(scope, st.cause, self.expr(scope, st.exc, state))
            return None
        if t in (ast.Break, ast.Continue):
            return None
        if t is ast.Delete:
            for tgt in st.targets:
                if isinstance(tgt, ast.Name):
                    self.read(scope, tgt.id, tgt, state)
                    state = state - {tgt.id}
                else:
                    self.expr(scope, tgt, state)
            return state
        if t is ast.If:
            state = self.expr(scope, st.test, state)
            if _is_type_checking(st.test):  # never runs: typing.TYPE_CHECKING is False at run time
                self.quiet += 1
                try:
                    self.block(scope, st.body, state)
                finally:
                    self.quiet -= 1
                return self.block(scope, st.orelse, state)
            return _meet(self.block(scope, st.body, state), self.block(scope, st.orelse, state))
        if t is ast.While:
            state = self.expr(scope, st.test, state)
            self.block(scope, st.body, state)
            after = self.block(scope, st.orelse, state)
            return state if after is None else after
        if t in (ast.For, ast.AsyncFor):
            state = self.expr(scope, st.iter, state)
            self.block(scope, st.body, self.bind_target(scope, st.target, state))
            after = self.block(scope, st.orelse, state)
            return state if after is None else after
        if t in (ast.With, ast.AsyncWith):
            for item in st.items:
                state = self.expr(scope, item.context_expr, state)
                if item.optional_vars is not None:
                    state = self.bind_target(scope, item.optional_vars, state)
            return self.block(scope, st.body, state)
        if t in (ast.Try, getattr(ast, "TryStar", ast.Try)):
            body = self.block(scope, st.body, state)
            results = [self.block(scope, st.orelse, body) if body is not None else None]
            for h in st.handlers:
                hs = self.expr(scope, h.type, state)
                if h.name:
                    hs = hs | {h.name}
                out = self.block(scope, h.body, hs)
                results.append(out - {h.name} if out is not None and h.name else out)
            after = None
            for r in results:
                after = _meet(after, r)
            if st.finalbody:
                self.block(scope, st.finalbody, state)  # may run after any statement of the try
                if after is None:
                    return None
                self.quiet += 1
                try:
                    after = self.block(scope, st.finalbody, after)
                finally:
                    self.quiet -= 1
            return after
        if t is ast.Match:
            state = self.expr(scope, st.subject, state)
            after = None
            exhaustive = False
            for case in st.cases:
                cs = self.expr(scope, case.pattern, state)  # value patterns read names
                cs = cs | frozenset(_pattern_names(case.pattern))
                cs = self.expr(scope, case.guard, cs)
                after = _meet(after, self.block(scope, case.body, cs))
                if isinstance(case.pattern, ast.MatchAs) and case.pattern.pattern is None and case.guard is None:
                    exhaustive = True
            return after if exhaustive else _meet(after, state)
        if t in _FUNC_TYPES:
            for d in st.decorator_list:
                state = self.expr(scope, d, state)
            a = st.args
            for d in a.defaults + [d for d in a.kw_defaults if d is not None]:
                state = self.expr(scope, d, state)
            inner = self.sc.by_node[id(st)]
            params = frozenset(x.arg for x in a.posonlyargs + a.args + a.kwonlyargs + [v for v in (a.vararg, a.kwarg) if v])
            self.pending.append((inner, st.body, params))
            return state | {st.name}
        if t is ast.ClassDef:
            for d in st.decorator_list + st.bases + [k.value for k in st.keywords]:
                state = self.expr(scope, d, state)
            inner = self.sc.by_node[id(st)]
            self.pending.append((inner, st.body, frozenset()))
            return state | {st.name}
        if t in (ast.Import, ast.ImportFrom):
            names = [a.asname or (a.name.split(".", 1)[0] if t is ast.Import else a.name)
                     for a in st.names if a.name != "*" and not (t is ast.ImportFrom and st.module == "__future__")]
            for n in names:
                # imported again before any read of the first import: that one is dead
                if self.quiet:
                    continue
                if (id(scope), n) in self.fresh:
                    self.problems[("shadowed-import", scope.name, n)] += 1
                self.fresh.add((id(scope), n))
            return state | frozenset(names)
        return state  # pass, global, nonlocal, type aliases


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _meet(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _global_declared(sc: _Scopes) -> frozenset[str]:
    out: set[str] = set()
    for s in sc.by_node.values():
        if s.kind != "module":
            out |= s.declared_global
    return frozenset(out)


def problems(tree: ast.Module) -> Counter:
    """The name problems of a module, as a multiset of (kind, scope, name)."""
    sc = _Scopes(tree)
    found: Counter = Counter()
    _Flow(sc, found).run()
    words: set[str] | None = None
    for scope, local, _stmt in sc.imports:
        if sc.all_loads.get(local):
            continue
        if words is None:
            words = _string_words(sc.strings)
        if local in words:  # __all__, string annotations
            continue
        found[("unused-import", scope.name, local)] += 1
    for scope in sc.by_node.values():
        if scope.kind != "function" or scope.calls_locals:
            continue
        for name, n in scope.simple_assigns.items():
            if scope.is_local(name) and name not in scope.loads and name != "__tracebackhide__":
                found[("unused-variable", scope.name, name)] += n
    return found


def _string_words(strings: list[str]) -> set[str]:
    out: set[str] = set()
    for s in strings:
        out.update(_IDENT.findall(s))
    return out


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class BindingStates:
    """Definite assignment of a whole module, kept per statement: `before(stmt)` is the set of names
    bound on every path to `stmt` in its own scope (None for unreachable code); `module_end` the
    module names bound on every path through the module body (what a function can rely on)."""

    def __init__(self, tree: ast.Module):
        sc = _Scopes(tree)
        flow = _Flow(sc, Counter())
        flow.states = {}
        flow.run()
        self._states = flow.states
        self.module_end = flow.module_end

    def before(self, stmt: ast.stmt) -> frozenset[str] | None:
        return self._states.get(id(stmt))


def innermost_statement(tree: ast.Module, node: ast.AST) -> ast.stmt | None:
    """The innermost statement whose source range holds `node`."""
    pos = (node.lineno, node.col_offset)
    end = (node.end_lineno, node.end_col_offset)
    best = None
    stmts = list(tree.body)
    while stmts:
        nxt = []
        for st in stmts:
            if (st.lineno, st.col_offset) <= pos and end <= (st.end_lineno, st.end_col_offset):
                best = st
                for lst in _child_stmt_lists(st):
                    nxt.extend(lst)
                break
        stmts = nxt
    return best


def _child_stmt_lists(st: ast.stmt) -> list[list[ast.stmt]]:
    out = []
    for name in ("body", "orelse", "finalbody"):
        v = getattr(st, name, None)
        if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
            out.append(v)
    for h in getattr(st, "handlers", ()) or ():
        out.append(h.body)
    for c in getattr(st, "cases", ()) or ():
        out.append(c.body)
    return out
