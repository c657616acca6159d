"""Facts of a Bicep file: its ARM-shaped view (`bicep.py`) read by the ARM extractor, with the
deployment scenarios its parameter files give it and its local modules evaluated with the values
each caller passes.

Parameter files. A `.bicepparam` file in the template's directory whose `using` names the
template, and `X.parameters.json` / `X.parameters.<env>.json` / `X.<env>.parameters.json` next to
`X.bicep` (azd's `main.parameters.json`), are scenarios exactly like an ARM template's parameter
files (`armparams.py`): only literal values count; `${AZURE_...}` placeholders, Key Vault
references, `readEnvironmentVariable()`, `getSecret()`, expressions, values that look like
credentials and the template's secure or secret-named parameters stay UNKNOWN.

Modules. A module is linted on its own with its defaults. A caller walks the module's template
again with the values it passes; a fact that walk produces which the module alone also produces
(same rule at the same place in the module, or the same app) stays the module's. Any other fact
was decided by the caller: it is reported in the caller's file, at the `params` entry that passes
a parameter the decisive value depends on (else at the module declaration), and says which module
it comes from. A deployed app whose facts differ in the caller (an `azd-service-name` tag, a name,
an identity passed in) becomes an instance of the module's app (`instance_of`), which the project
model then uses in place of the module's own.
"""

from __future__ import annotations

import posixpath
from typing import Any

from keyless.linter.documents import bicep_ast as A
from keyless.linter.finding import Position
from keyless.linter.messages import fit
from keyless.linter.rule import Fact
from keyless.linter.workspace import join, reldir_of
from keyless.rules.iac.armparams import Scenario, is_named_parameter_file, literal_value, parameter_file, scenarios_from
from keyless.rules.iac.bicep import BicepTemplate, module_relpath, translate
from keyless.rules.iac.common import Emitter, line_indent
from keyless.rules.iac.expr import UNKNOWN
from keyless.rules.iac.facts import bare, span_to_list, via_notes, with_note
from keyless.rules.iac.syntax import BICEP

MAX_BICEPPARAM_FILES = 20
WALK_KEY = "keyless.iac.bicep-walk"
MODULE_FACT = "iac.bicep-module"
# What tells two app facts apart when one is the module's own and the other a caller's instance.
_APP_FIELDS = ("kind", "name", "identity_state", "system", "uamis", "identity_count", "client_id_env", "images",
               "azd_service", "key_auth")


def bicep_facts(doc: Any, em: Emitter) -> None:
    view = translate(doc)
    if view is None:
        return
    bem = BicepEmitter(view)
    from keyless.rules.iac.arm import arm_template

    arm_template(bem, view.values[0], runs=bicep_scenarios(view))
    for link in view.translation.unread_modules.values():
        bem.add(MODULE_FACT, {"target": link.relpath, "unreproduced": value_dependent(link)})
    doc.memo[WALK_KEY] = list(bem.facts)
    em.facts.extend(bem.facts)


def value_dependent(link: Any) -> list[str]:
    """A module deployed with values we cannot read: ids of its own facts that depend on a
    parameter (what it does with those values is unknown)."""
    mview = translate(link.doc)
    if mview is None:
        return []
    out = []
    for fact in module_walk(link.doc):
        span = fact.data.get("span")
        if fact.kind == MODULE_FACT or not span:
            continue
        path = mview.path_starting_at(mview.lines.offset(Position(span[0], span[1])))
        node = mview.node_at(path) if path is not None else None
        if node is not None and mview.params_referenced(node):
            out.append(fact_id(fact))
    return sorted(set(out))


def module_walk(doc: Any) -> list[Fact]:
    """The facts a Bicep file's own walk produces (with its defaults and parameter files)."""
    if WALK_KEY not in doc.memo:
        from keyless.rules.iac.extract import extract

        extract(doc)
    return doc.memo.get(WALK_KEY) or []


class BicepEmitter(Emitter):
    """The emitter of a Bicep file's view (`prefix` empty) or of one of its modules walked from a
    caller (`prefix`: the caller's template path of the module's template)."""

    syntax = BICEP

    def __init__(self, doc: BicepTemplate, prefix: tuple = (), caller: "BicepEmitter | None" = None,
                 module: str = "", relpath: str = ""):
        super().__init__(doc)
        self.prefix = prefix
        self.caller = caller
        self.module = module  # the caller's symbol for this module
        self.module_relpath = relpath

    def fresh(self) -> "BicepEmitter":
        return BicepEmitter(self.doc, self.prefix, self.caller, self.module, self.module_relpath)

    @property
    def checks_declarations(self) -> bool:
        # A module walked from a caller: its parameter and output checks read no value passed,
        # so they are the module's own findings (its file's walk has them): not walked again.
        return self.caller is None

    def local(self, path: tuple) -> tuple:
        """A path of the walk (the root template's coordinates) in this file's template."""
        if self.prefix and tuple(path[:len(self.prefix)]) == self.prefix:
            return (0,) + tuple(path[len(self.prefix):])
        return tuple(path)

    def span(self, path: tuple, *, key: bool = False, first_line: bool = True):
        return super().span(self.local(path), key=key, first_line=first_line)

    # ---- what the Bicep syntax asks of the source -------------------------------------------------
    def source_text(self, path: tuple) -> str | None:
        """The Bicep text of the node at a template path (messages quote what the author wrote)."""
        node = self.doc.node_at(self.local(path))
        return self.doc.source(node) if node is not None and not isinstance(node, tuple) or \
            hasattr(node, "_fields") else None

    def declaration(self, path: tuple) -> tuple[str, str, str] | None:
        """(keyword, symbol, type as written) of the resource or module at a template path."""
        sym = self.doc.symbol_of(self.local(path))
        if sym is None:
            return None
        decl = sym.decl
        if isinstance(decl, A.Module):
            return "module", decl.name, decl.path
        return "resource", decl.name, decl.type_string.split("@", 1)[0]

    def insert_property(self, path: tuple, text: str) -> list | None:
        """An edit inserting `text` as the first property of the resource body at `path`, when the
        body's properties start on their own lines (else None)."""
        sym = self.doc.symbol_of(self.local(path))
        body = sym.body if sym is not None else None
        if body is None or not body.props or self.prefix:
            return None
        doc = self.doc.doc
        lines = doc.lines
        brace = lines.position(body.span[0])
        first = lines.position(body.props[0].span[0])
        if first.line <= brace.line or doc.text[body.span[0]:body.span[0] + 1] != "{":
            return None
        indent = line_indent(doc, first.line)
        block = "\n".join(indent + line for line in text.split("\n"))
        return [brace.line, brace.column + 1, brace.line, brace.column + 1, "\n" + block]

    def nested(self, path: tuple) -> Emitter:
        local = self.local(path)
        sym = self.doc.symbol_of(local)
        link = self.doc.translation.modules.get(sym.name) if sym is not None and len(local) == 3 else None
        if link is None:
            return self
        view = translate(link.doc)
        if view is None:
            return self
        return BicepEmitter(view, tuple(path) + ("properties", "template"), self, sym.name, link.relpath)

    def merge(self, sub: Emitter) -> None:
        if not isinstance(sub, BicepEmitter) or sub.caller is not self:
            super().merge(sub)
            return
        alone = [f for f in module_walk(sub.doc.doc) if f.kind != MODULE_FACT]
        own = {_identity(f) for f in alone}
        # ... and every deployment of the module reproduces its declaration checks.
        here = {_identity(f) for f in sub.facts} | {_identity(f) for f in alone if _declaration_check(f)}
        # Which of the module's own facts this deployment of it does not reproduce: when no
        # deployment from the repository's top-level files does, the project model drops them.
        self.add(MODULE_FACT, {"target": sub.module_relpath,
                               "unreproduced": sorted({fact_id(f) for f in alone if _identity(f) not in here})})
        for fact in sub.facts:
            if fact.kind == MODULE_FACT:  # a deployment of a deeper module, now from this file
                self.facts.append(Fact(fact.kind, self.relpath, fact.data))
            elif _identity(fact) not in own:
                self.facts.append(self.rehome(sub, fact))

    # ---- a module's fact reported in the caller ---------------------------------------------------
    def rehome(self, sub: "BicepEmitter", fact: Fact) -> Fact:
        data = dict(fact.data)
        deployment = self.local(sub.prefix[:-2])  # this file's path of the module's deployment
        passed, param = self.decisive(sub, data.get("span"), deployment)
        if passed is not None:
            span = self.doc.locate(deployment + ("properties", "parameters", param, "value"))
        else:
            span = self.doc.locate_key(deployment)
        span = span or self.doc.locate_key(deployment)
        # The modules the fact went through, outermost first; the note is rebuilt at each level.
        via = [[sub.module, sub.module_relpath]] + list(data.get("via") or [])
        fix_message = (data.get("fix") or {}).get("message", "")
        named = passed is not None and f"'{param}'" not in fix_message  # the fix may name the parameter already
        note, full = via_notes(via, param if named else None)
        old_note, old_full = data.get("via_note", ""), data.get("via_full", "")
        data["via"], data["via_note"], data["via_full"] = via, note, full
        data["span"] = span_to_list(span)
        if "key" in data:
            data["key"] = f"module {sub.module}|{data['key']}"
        if fact.kind == "iac.issue":
            data["message"], data["via_note"] = with_note(_without(data["message"], old_note), note)
            if data.get("fix"):
                data["fix"] = {**data["fix"], "applicability": "display-only", "edits": [],
                               "message": fit(_without(data["fix"]["message"], old_full).rstrip("."), [bare(full)])}
        elif fact.kind == "iac.role":
            data["role_note"] = _without(data.get("role_note", ""), old_full) + full
        elif fact.kind == "iac.app":
            data["instance_of"] = fact.data.get("instance_of") or [sub.relpath, fact.data.get("key")]
            data["label"] = _without(data.get("label", ""), old_note) + note
            data["identity_span"] = None
            data["dir"] = posixpath.dirname(self.relpath)
        return Fact(fact.kind, self.relpath, data)

    def decisive(self, sub: "BicepEmitter", span: Any, deployment: tuple) -> tuple[Any, str]:
        """(params entry, name) of the first parameter passed by this file that the module-side
        node at `span` depends on, else (None, "")."""
        if not span:
            return None, ""
        view = sub.doc
        offset = view.lines.offset(Position(span[0], span[1]))
        path = view.path_starting_at(offset)
        node = view.node_at(path) if path is not None else None
        if node is None:
            return None, ""
        given = self.doc.translation.entries
        for name in view.params_referenced(node):
            entry = given.get(deployment + ("properties", "parameters", name))
            if entry is not None:
                return entry, name
        return None, ""


def _declaration_check(fact: Fact) -> bool:
    """A fact of the module's own parameter or output checks (`checks_declarations`); a deeper
    module's fact reported here has a `module ...|` key."""
    d = fact.data
    return fact.kind == "iac.issue" and d.get("code") in ("KL257", "KL258") \
        and str(d.get("key", "")).startswith(("param|", "output|"))


def _without(text: str, note: str) -> str:
    return text.replace(note, "", 1) if note else text


def _identity(fact: Fact) -> tuple:
    d = fact.data
    if fact.kind == "iac.issue":
        return (fact.kind, d.get("code"), tuple(d.get("span") or ()))
    if fact.kind == "iac.role":
        return (fact.kind, tuple(d.get("span") or ()), d.get("role"), d.get("scope"))
    if fact.kind == "iac.app":
        return (fact.kind, tuple(d.get("span") or ()), _app_signature(d))
    return (fact.kind, repr(sorted(d.items())))


def fact_id(fact: Fact) -> str:
    """A fact's identity as plain text (what an `iac.bicep-module` fact lists)."""
    return repr(_identity(fact))


def _app_signature(d: dict) -> str:
    return repr([(k, d.get(k)) for k in _APP_FIELDS])


# ---- parameter files -----------------------------------------------------------------------------------

def bicep_scenarios(view: BicepTemplate) -> list[Scenario]:
    doc = view.doc
    ws = getattr(doc, "workspace", None)
    if ws is None or not doc.relpath:
        return []
    reldir, own = reldir_of(doc.relpath), doc.relpath.rsplit("/", 1)[-1]
    stem = own[:-len(".bicep")] if own.lower().endswith(".bicep") else own
    candidates: dict[str, dict[str, Any]] = {}
    names = sorted(ws.names(reldir))
    for name in names:
        low = name.lower()
        if low.endswith(".json") and is_named_parameter_file(stem + ".json", name):
            values = parameter_file(ws, join(reldir, name))
            if values is not None:
                candidates[name] = values
    bicepparams = [n for n in names if n.lower().endswith(".bicepparam")][:MAX_BICEPPARAM_FILES]
    for name in bicepparams:
        values = bicepparam_values(ws, join(reldir, name), doc.relpath)
        if values is not None:
            candidates[name] = values
    return scenarios_from(view.values[0], candidates)


def bicepparam_values(ws: Any, relpath: str, template: str) -> dict[str, Any] | None:
    """The literal values a `.bicepparam` file gives `template`, or None when it uses another one."""
    pdoc = ws.load(relpath)
    if pdoc is None or getattr(pdoc, "kind", "") != "bicep":
        return None
    pdoc.ensure_parsed()
    program = getattr(pdoc, "program", None)
    if program is None:
        return None
    using = next((s for s in program.statements if isinstance(s, A.Using)), None)
    if using is None or module_relpath(relpath, using.path) != template:
        return None
    variables = {s.name: s.value for s in program.statements if isinstance(s, A.Var)}
    out: dict[str, Any] = {}
    for s in program.statements:
        if isinstance(s, A.ParamValue):
            value = literal(s.value, variables, 0)
            out[s.name.lower()] = UNKNOWN if value is UNKNOWN else literal_value(value)
    return out


def literal(node: Any, variables: dict[str, Any], depth: int) -> Any:
    """A `.bicepparam` value made only of literals (through its own `var`s), else UNKNOWN."""
    if depth > 20:
        return UNKNOWN
    if isinstance(node, (A.Str, A.Num, A.Bool)):
        return node.value
    if isinstance(node, A.Null):
        return None
    if isinstance(node, A.Unary) and node.op == "-" and isinstance(node.operand, A.Num):
        return -node.operand.value
    if isinstance(node, A.Ref) and node.name in variables:
        return literal(variables[node.name], variables, depth + 1)
    if isinstance(node, A.Interp):
        parts = [p if isinstance(p, str) else literal(p, variables, depth + 1) for p in node.parts]
        if all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in parts):
            return "".join(str(p) for p in parts)
        return UNKNOWN
    if isinstance(node, A.Arr):
        items = [literal(i, variables, depth + 1) for i in node.items]
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
    if isinstance(node, A.Obj):
        out = {}
        for p in node.props:
            if p.spread or p.key is None:
                return UNKNOWN
            v = literal(p.value, variables, depth + 1)
            if v is UNKNOWN:
                return UNKNOWN
            out[p.key] = v
        return out
    return UNKNOWN
