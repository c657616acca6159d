"""Terraform modules are directories: `var.*` and `local.*` resolved across a module's files.

A module is every `.tf` / `.tf.json` file of one directory; variables, locals and resources may be
declared in any of them. `ModuleValues` answers "what is `var.role` / `local.ids[0]` here?":

- a variable's value is, by increasing precedence, its `default`, `terraform.tfvars`,
  `terraform.tfvars.json`, then `*.auto.tfvars` / `*.auto.tfvars.json` in name order (what
  Terraform loads by itself for a root module);
- a named var file in the same directory (`prod.tfvars`, azd's `main.tfvars.json`) is a scenario
  some deployments pass with `-var-file`: a variable such a file sets keeps its value only when
  every one of them agrees with it, otherwise it is unknown (no finding rather than a guess about
  which scenario is deployed);
- `sensitive` / `ephemeral` variables and variables named like secrets (`db_password`), `null` /
  `""` values (optional inputs a caller fills in), placeholders (`<your id>`, `#{token}#`), values
  that look like credentials, names declared twice and anything that is not a literal are unknown;
- a local's value is its expression, resolved the same way (depth- and cycle-limited).

Literal results: strings, numbers, bools, lists and maps of them. References to resources, data
sources and module outputs stay references (`Ref`); templates whose parts all resolve become
strings, partly resolved ones stay templates (`TemplateRef`). Everything else is `Opaque`.

`module` blocks are not followed in either direction: a child module's variables resolve to its
own defaults, which a caller may override, so a finding that relies on a variable says where the
value came from ("(from the default of var.role)", "(from terraform.tfvars)"). Override files
(`override.tf`) re-declare names and so make them unknown.

Sibling files are read through `doc.workspace`, so they become cache dependencies of the file
being linted, and are parsed only when their text could define the name looked up. Nothing
secret-looking resolves, so a resolved value (a role, an app name) may appear in a message
without carrying a credential into a fact or the cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from keyless.linter.workspace import join, reldir_of
from keyless.rules.iac.common import Ref, secretish_name, tool_token_or_credential
from keyless.rules.iac.facts import and_list

MAX_DEPTH = 24  # nested local references followed for one value
MAX_NODES = 20_000  # values built for one reference (huge locals maps stay unknown)
NO_ORIGIN: frozenset[str] = frozenset()

# Roots of traversals that are not resources, data sources or module outputs.
_NOT_RESOURCE_ROOTS = frozenset({"var", "local", "each", "count", "self", "path", "terraform"})


class TemplateRef(Ref):
    """A string template with interpolations (`"${var.prefix}-app"`), kept as its source text."""

    __slots__ = ()


class Opaque(Ref):
    """An expression that cannot be evaluated statically (a function call, a conditional, `for`,
    a variable without a usable value), kept as its source text."""

    __slots__ = ()


_UNSET = object()  # no literal value
# Values a tool or a person fills in later (`$(var)`, `#{token}#`, `{{ value }}`, `__TOKEN__`,
# `<your subscription id>`), and values that may be credentials, are not literals.
_ANGLE_PLACEHOLDER_RE = re.compile(r"^\s*<[^<>]*>\s*$")  # `<your id>` in a tfvars file
_DEFAULT_OF = "the default of "


# ---- strings and expressions ---------------------------------------------------------------------

_TEMPLATE_MARK = re.compile(r"\$\$\{|%%\{|\$\{|%\{")


def split_template(text: str) -> list[tuple[bool, str]] | None:
    """`[(is_interpolation, text)]` of a string as python-hcl2 returns it; `$${` and `%%{` become
    literal `${` and `%{`. None for template directives (`%{ if }`) or unbalanced braces."""
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    i = 0
    while True:
        m = _TEMPLATE_MARK.search(text, i)
        if m is None:
            literal.append(text[i:])
            break
        literal.append(text[i:m.start()])
        mark = m.group(0)
        if mark in ("$${", "%%{"):
            literal.append(mark[1:])
            i = m.end()
            continue
        if mark == "%{":
            return None
        end = _closing_brace(text, m.end())
        if end < 0:
            return None
        if any(literal):
            parts.append((False, "".join(literal)))
        literal = []
        parts.append((True, text[m.end():end].strip().strip("~").strip()))
        i = end + 1
    if any(literal):
        parts.append((False, "".join(literal)))
    return parts


_BRACE_SCAN_RE = re.compile(r'\$\$?\{|[{}"\\]')


def _closing_brace(text: str, i: int) -> int:
    """Index of the `}` closing the interpolation whose body starts at `i`, skipping nested
    braces and quoted strings (which may hold interpolations themselves); -1 if there is none."""
    stack = ["{"]
    while True:
        m = _BRACE_SCAN_RE.search(text, i)
        if m is None:
            return -1
        token, i = m.group(0), m.end()
        if stack[-1] == '"':  # inside a quoted string only quotes, escapes and `${` matter
            if token == "\\":
                i += 1
            elif token == '"':
                stack.pop()
            elif token == "${":
                stack.append("{")
        elif token == '"':
            stack.append('"')
        elif token == "}":
            stack.pop()
            if not stack:
                return m.start()
        elif token != "\\":
            stack.append("{")


def hcl_string(text: str) -> Any:
    """A string as python-hcl2 returns it: a literal (`str`), one whole expression `${expr}`
    (`Ref(expr)`) or a template mixing text and interpolations (`TemplateRef`)."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        return Ref(inner) if "${" in inner else inner.replace('\\"', '"')
    if "${" not in text and "%{" not in text:
        return text
    if text.startswith("${") and text.endswith("}") and text.count("{") == 1 and text.count("}") == 1 \
            and '"' not in text:
        return Ref(text[2:-1].strip().strip("~").strip())  # the common case: one plain expression
    parts = split_template(text)
    if parts is None:
        return TemplateRef(text)
    if len(parts) == 1 and parts[0][0]:
        return Ref(parts[0][1])
    if not any(is_expr for is_expr, _ in parts):
        return "".join(t for _, t in parts)
    return TemplateRef(text)


_ROOT_RE = re.compile(r"[A-Za-z_][\w-]*")
_STEP_RE = re.compile(r'\s*(?:\.\s*([A-Za-z_][\w-]*|\d+|\*)|\[\s*(?:(\d+)|"((?:[^"\\$]|\\.)*)"|(\*))\s*\])')


def traversal(expr: str) -> tuple[str, list] | None:
    """`var.m["a"][0].b` -> ("var", ["m", "a", 0, "b"]); None when `expr` is not a plain
    traversal (function call, operator, conditional...). `*` stands for a splat."""
    expr = expr.strip()
    m = _ROOT_RE.match(expr)
    if m is None:
        return None
    steps: list = []
    i = m.end()
    while i < len(expr):
        s = _STEP_RE.match(expr, i)
        if s is None:
            return None
        attr, index, key, splat = s.groups()
        if attr is not None:
            steps.append(int(attr) if attr.isdigit() else attr)
        elif index is not None:
            steps.append(int(index))
        elif key is not None:
            steps.append(key.replace('\\"', '"').replace("\\\\", "\\"))
        else:
            steps.append("*")
        i = s.end()
    return m.group(0), steps


def render_steps(steps: list) -> str:
    out = []
    for s in steps:
        if isinstance(s, int):
            out.append(f"[{s}]")
        elif s == "*":
            out.append("[*]")
        elif _ROOT_RE.fullmatch(s):
            out.append(f".{s}")
        else:
            out.append('["' + s.replace("\\", "\\\\").replace('"', '\\"') + '"]')
    return "".join(out)


def _render_scalar(v: Any) -> str | None:
    """A literal as Terraform writes it into a string; None for null and collections."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, str) and not isinstance(v, Ref):
        return v
    return None


def _step(value: Any, step: Any) -> Any:
    if step == "*":
        return _UNSET
    if isinstance(value, dict) and isinstance(step, str):
        return value.get(step, _UNSET)
    if isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
        return value[step]
    return _UNSET


def _entries(node: Any) -> Iterator[tuple[str, Any]]:
    """(label, body) of `variable` blocks / (name, expression) of `locals` in python-hcl2 shape
    (a list of one-key dicts) and .tf.json shape (a dict, or a list of dicts)."""
    for group in node if isinstance(node, list) else [node]:
        if not isinstance(group, dict):
            continue
        for name, body in group.items():
            if not isinstance(name, str) or name.startswith("__"):
                continue
            name = name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name
            yield name, body


@dataclass
class FileDefinitions:
    variables: dict[str, list[dict]] = field(default_factory=dict)  # name -> variable block bodies
    locals: dict[str, list[Any]] = field(default_factory=dict)  # name -> raw expressions


def file_definitions(root: Any) -> FileDefinitions:
    defs = FileDefinitions()
    if not isinstance(root, dict):
        return defs
    for name, body in _entries(root.get("variable")):
        for b in body if isinstance(body, list) else [body]:
            if isinstance(b, dict):
                defs.variables.setdefault(name, []).append(b)
    for name, expr in _entries(root.get("locals")):
        defs.locals.setdefault(name, []).append(expr)
    return defs


# ---- the directory's files, indexed by the names they could define ---------------------------------

_HCL_VARIABLE_RE = re.compile(r'^[ \t]*variable[ \t]+"?([\w-]+)', re.M)
_HCL_LOCALS_RE = re.compile(r"^[ \t]*locals[ \t]*\{", re.M)
_HCL_ASSIGNED_RE = re.compile(r"(?<![\w.-])([A-Za-z_][\w-]*)[ \t]*=(?!=)")
_JSON_KEY_RE = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')
_HCL_BLOCK_RE = re.compile(r'^[ \t]*(resource|data|module)[ \t]+"([\w-]+)"(?:[ \t]+"([\w-]+)")?', re.M)
_TFVARS_NAME_RE = re.compile(r"^[ \t]*([A-Za-z_][\w-]*)[ \t]*=", re.M)
_KEY_ATTRIBUTE_RE = re.compile(r"\b(?:primary|secondary)_\w*(?:key|connection_string)|\bconnection_strings\b", re.I)


@dataclass(frozen=True)
class IndexedFile:
    relpath: str
    name: str
    variables: frozenset[str]  # variables it may declare (config) or set (tfvars)
    locals: frozenset[str]  # locals it may declare


@dataclass
class ModuleIndex:
    config: list[IndexedFile] = field(default_factory=list)  # *.tf, *.tf.json
    auto_tfvars: list[IndexedFile] = field(default_factory=list)  # in Terraform's load order
    var_files: list[IndexedFile] = field(default_factory=list)  # named *.tfvars(.json): -var-file scenarios
    names_key_attributes: bool = False  # some file mentions e.g. `primary_access_key`
    # `resource` / `data` / `module` blocks: (kind, type, name) -> files that may declare it (module
    # blocks have type ""); .tf.json files with such blocks are candidates for every name
    blocks: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    json_blocks: list[str] = field(default_factory=list)


def _is_config(name: str) -> bool:
    return name.endswith((".tf", ".tf.json"))


def _auto_loaded_rank(name: str) -> int | None:
    if name == "terraform.tfvars":
        return 0
    if name == "terraform.tfvars.json":
        return 1
    if name.endswith((".auto.tfvars", ".auto.tfvars.json")):
        return 2
    return None


def module_index(ws: Any, reldir: str) -> ModuleIndex:
    """Which file of the directory may define which names, from the text alone (a superset: a
    candidate is parsed before anything is concluded from it)."""
    index = ModuleIndex()
    auto: list[tuple[int, str, IndexedFile]] = []
    for name in sorted(ws.names(reldir)):
        lower = name.lower()
        is_tfvars = lower.endswith((".tfvars", ".tfvars.json"))
        if not (_is_config(lower) or is_tfvars):
            continue
        relpath = join(reldir, name)
        doc = ws.load(relpath)
        if doc is None:
            continue
        text = doc.text
        json_shape = lower.endswith(".json")
        if not is_tfvars and _KEY_ATTRIBUTE_RE.search(text):
            index.names_key_attributes = True
        if is_tfvars:
            names = (_JSON_KEY_RE if json_shape else _TFVARS_NAME_RE).findall(text)
            entry = IndexedFile(relpath, name, frozenset(names), frozenset())
            rank = _auto_loaded_rank(lower)
            if rank is None:
                index.var_files.append(entry)
            else:
                auto.append((rank, name, entry))
            continue
        if json_shape:
            if '"resource"' in text or '"data"' in text or '"module"' in text:
                index.json_blocks.append(relpath)
        else:
            for kind, btype, bname in _HCL_BLOCK_RE.findall(text):
                key = (kind, btype, bname) if kind != "module" else (kind, "", btype)
                index.blocks.setdefault(key, []).append(relpath)
        if json_shape:
            declares_variables, declares_locals = '"variable"' in text, '"locals"' in text
            keys = frozenset(_JSON_KEY_RE.findall(text)) if declares_variables or declares_locals else frozenset()
            variables = keys if declares_variables else frozenset()
            local_names = keys if declares_locals else frozenset()
        else:
            variables = frozenset(_HCL_VARIABLE_RE.findall(text))
            local_names = frozenset(_HCL_ASSIGNED_RE.findall(text)) if _HCL_LOCALS_RE.search(text) else frozenset()
        if variables or local_names:
            index.config.append(IndexedFile(relpath, name, variables, local_names))
    index.auto_tfvars = [entry for _, _, entry in sorted(auto, key=lambda t: (t[0], t[1]))]
    return index


def block_bodies(root: Any, kind: str, type_: str, name: str) -> list[dict]:
    """Bodies of `kind "type_" "name"` in a python-hcl2 root (a list of one-key groups) or a
    .tf.json root (dicts, or lists of dicts, at each level); `module "name"` when `type_` is ""."""
    out: list[dict] = []

    def groups(node: Any) -> list:
        return [g for g in (node if isinstance(node, list) else [node]) if isinstance(g, dict)]

    def unquote(k: Any) -> Any:
        return k[1:-1] if isinstance(k, str) and len(k) >= 2 and k[0] == k[-1] == '"' else k

    for group in groups(root.get(kind)):
        for k, named in group.items():
            k = unquote(k)
            if not type_:
                if k == name:
                    out += groups(named)
                continue
            if k != type_:
                continue
            for item in groups(named):
                for n, body in item.items():
                    if unquote(n) == name:
                        out += groups(body)
    return out


def _parsed_root(ws: Any, relpath: str) -> Any:
    doc = ws.load(relpath)
    if doc is None or not doc.ensure_parsed() or not doc.values:
        return None
    return doc.values[0]


# ---- values ----------------------------------------------------------------------------------------

class ModuleValues:
    """The values of `var.*` / `local.*` in the module of one document (its directory)."""

    def __init__(self, doc: Any, own_root: Any, inputs: dict[str, tuple[Any, frozenset[str]] | None] | None = None):
        self.ws = doc.workspace
        # a module walked from a caller (`tfcalls.py`): the values the caller passes (None: one it
        # passes that is not a literal); other variables keep their default (tfvars files are the
        # root module's only)
        self.inputs = inputs
        self.own_relpath = doc.relpath
        self.own = file_definitions(own_root)
        reldir = reldir_of(doc.relpath)
        self.index = self.ws.derived(("tf-module-index", reldir), lambda: module_index(self.ws, reldir)) \
            if self.ws is not None else ModuleIndex()
        self._variables: dict[str, tuple[Any, frozenset[str]] | None] = {}
        self._locals: dict[tuple[str, bool], tuple[Any, frozenset[str]]] = {}
        self._budget = MAX_NODES
        self._literal_budget = MAX_NODES
        self._use_variables = True
        self._cut = False  # a depth, budget or cycle limit made the value being built unknown

    def resolve(self, ref: Ref, use_variables: bool = True) -> tuple[Any, frozenset[str]]:
        """The value of a reference or template found in this module, and where the variables it
        used got their values ("the default of var.x", "terraform.tfvars"). Unknown -> `Opaque`.
        `use_variables=False` resolves locals only (every variable unknown): what is fixed in code."""
        self._budget = MAX_NODES
        self._use_variables = use_variables
        if isinstance(ref, TemplateRef):
            value, origins = self._template(ref, 0, frozenset())
        else:
            value, origins = self._expression(ref, 0, frozenset())
        if origins and (value is None or value == ""):
            return Opaque(ref), NO_ORIGIN  # an optional input left empty: callers fill it in
        return value, origins

    # -- definitions ------------------------------------------------------------------------------
    def _definitions(self, kind: str, name: str) -> list | None:
        """Every declaration of a variable / local in the module; None when a file that may hold
        one cannot be parsed."""
        found = list(getattr(self.own, kind).get(name, ()))
        for entry in self.index.config:
            if entry.relpath == self.own_relpath or name not in getattr(entry, kind):
                continue
            defs = self.ws.derived(("tf-definitions", entry.relpath), lambda p=entry.relpath: self._file_definitions(p))
            if defs is None:
                return None
            found.extend(getattr(defs, kind).get(name, ()))
        return found

    def declarations(self, kind: str, type_: str, name: str) -> list[tuple[str, dict]] | None:
        """`kind "type_" "name"` blocks (`resource`, `data`; `module "name"` with `type_` "")
        declared in the module's other files: (relpath, raw body as the reader gives it). None when
        a file that may declare one cannot be parsed."""
        if self.ws is None:
            return []
        candidates = [p for p in self.index.blocks.get((kind, type_, name), ()) if p != self.own_relpath]
        candidates += [p for p in self.index.json_blocks if p != self.own_relpath and p not in candidates]
        found: list[tuple[str, dict]] = []
        for relpath in candidates:
            root = self.ws.derived(("tf-root", relpath), lambda p=relpath: _parsed_root(self.ws, p))
            if not isinstance(root, dict):
                return None
            found += [(relpath, body) for body in block_bodies(root, kind, type_, name)]
        return found

    def _file_definitions(self, relpath: str) -> FileDefinitions | None:
        root = _parsed_root(self.ws, relpath)
        return None if root is None else file_definitions(root)

    def _tfvars_value(self, entry: IndexedFile, name: str) -> Any:
        """The literal a tfvars file gives `name`; None when it does not set it, _UNSET when the
        value is not a literal (or the file does not parse)."""
        if name not in entry.variables:
            return None
        root = self.ws.derived(("tf-tfvars", entry.relpath), lambda: _parsed_root(self.ws, entry.relpath))
        if not isinstance(root, dict):
            return _UNSET
        if name not in root:
            return None
        return self._literal(root[name])

    def _variable(self, name: str) -> tuple[Any, frozenset[str]] | None:
        if name not in self._variables:
            self._variables[name] = self._compute_variable(name)
        return self._variables[name]

    def _compute_variable(self, name: str) -> tuple[Any, frozenset[str]] | None:
        found = self._variable_value(name)
        # A secret's value must not travel into findings; a switch named like one
        # (`shared_access_key_enabled`) is a bool, never a secret.
        if found is not None and secretish_name(name) and not isinstance(found[0], bool):
            return None
        return found

    def _variable_value(self, name: str) -> tuple[Any, frozenset[str]] | None:
        decls = self._definitions("variables", name)
        if not decls or len(decls) != 1:
            return None  # undeclared, declared twice (or in an override file), or unreadable
        body = decls[0]
        if body.get("sensitive") is True or body.get("ephemeral") is True:
            return None  # a secret's value must not travel into findings
        self._literal_budget = MAX_NODES
        if self.inputs is not None and name in self.inputs:
            given = self.inputs[name]
            return None if given is None or given[0] is None or given[0] == "" else given
        value, origin = _UNSET, ""
        if "default" in body:
            value, origin = self._literal(body["default"]), f"{_DEFAULT_OF}var.{name}"
        if self.inputs is not None:
            return None if value is _UNSET or value is None or value == "" else (value, frozenset({origin}))
        for entry in self.index.auto_tfvars:
            given = self._tfvars_value(entry, name)
            if given is not None:
                value, origin = given, entry.name
        if value is _UNSET or value is None or value == "":
            return None
        for entry in self.index.var_files:
            given = self._tfvars_value(entry, name)
            if given is not None and given != value:
                return None  # a -var-file scenario gives another value
        return value, frozenset({origin})

    def _literal(self, raw: Any) -> Any:
        """`raw` as a literal value, or _UNSET when any part of it is an expression."""
        self._literal_budget -= 1
        if self._literal_budget < 0:
            return _UNSET
        if isinstance(raw, str):
            value = hcl_string(raw)
            if isinstance(value, Ref) or _ANGLE_PLACEHOLDER_RE.search(value) or tool_token_or_credential(value):
                return _UNSET
            return value
        if isinstance(raw, dict):
            out = {}
            for k, x in raw.items():
                v = self._literal(x)
                if v is _UNSET or not isinstance(k, str):
                    return _UNSET
                out[k] = v
            return out
        if isinstance(raw, list):
            items = [self._literal(x) for x in raw]
            return _UNSET if any(v is _UNSET for v in items) else items
        return raw

    # -- evaluation --------------------------------------------------------------------------------
    def _value(self, raw: Any, depth: int, stack: frozenset[str]) -> tuple[Any, frozenset[str]]:
        """A raw python-hcl2 expression (from a local's definition) resolved."""
        self._budget -= 1
        if self._budget < 0 or depth > MAX_DEPTH:
            self._cut = True
            return Opaque(str(raw)[:200]), NO_ORIGIN
        if isinstance(raw, str):
            value = hcl_string(raw)
            if isinstance(value, TemplateRef):
                return self._template(value, depth, stack)
            if isinstance(value, Ref):
                return self._expression(value, depth, stack)
            return value, NO_ORIGIN
        origins: set[str] = set()
        if isinstance(raw, dict):
            out = {}
            for k, x in raw.items():
                if not isinstance(k, str) or k.startswith("__"):
                    continue
                out[k], o = self._value(x, depth + 1, stack)
                origins |= o
            return out, frozenset(origins)
        if isinstance(raw, list):
            items = []
            for x in raw:
                v, o = self._value(x, depth + 1, stack)
                items.append(v)
                origins |= o
            return items, frozenset(origins)
        return raw, NO_ORIGIN

    def _expression(self, expr: str, depth: int, stack: frozenset[str]) -> tuple[Any, frozenset[str]]:
        parsed = traversal(expr)
        if parsed is None:
            return Opaque(expr), NO_ORIGIN
        root, steps = parsed
        if not steps:
            return Opaque(expr), NO_ORIGIN
        if root not in _NOT_RESOURCE_ROOTS:
            return Ref(expr.strip()), NO_ORIGIN  # a resource, data source or module output
        name = steps[0]
        if root == "var" and isinstance(name, str):
            known = self._variable(name) if self._use_variables else None
            if known is None:
                return Opaque(expr), NO_ORIGIN
            value = known[0]
            for s in steps[1:]:
                value = _step(value, s)
            return (Opaque(expr), NO_ORIGIN) if value is _UNSET else (value, known[1])
        if root == "local" and isinstance(name, str):
            if name in stack:
                self._cut = True
                return Opaque(expr), NO_ORIGIN
            return self._local(name, steps[1:], expr, depth, stack)
        return Opaque(expr), NO_ORIGIN  # each.*, count.*, path.*...

    def _local(self, name: str, steps: list, expr: str, depth: int,
               stack: frozenset[str]) -> tuple[Any, frozenset[str]]:
        memo_key = (name, self._use_variables)
        if not steps and memo_key in self._locals:
            return self._locals[memo_key]
        outer_cut, self._cut = self._cut, False
        value, origins = self._local_value(name, steps, expr, depth, stack)
        if not steps and not self._cut:  # a value cut short depends on where it was reached from
            self._locals[memo_key] = (value, origins)
        self._cut |= outer_cut
        return value, origins

    def _local_value(self, name: str, steps: list, expr: str, depth: int,
                     stack: frozenset[str]) -> tuple[Any, frozenset[str]]:
        decls = self._definitions("locals", name)
        if not decls or len(decls) != 1:
            return Opaque(expr), NO_ORIGIN
        raw, rest = decls[0], list(steps)
        # Walk into the definition first, so `local.settings.role` resolves only that entry.
        while rest and isinstance(raw, (dict, list)):
            raw = _step(raw, rest.pop(0))
            if raw is _UNSET:
                return Opaque(expr), NO_ORIGIN
        value, origins = self._value(raw, depth + 1, stack | {name})
        for i, s in enumerate(rest):
            if isinstance(value, Opaque) or isinstance(value, TemplateRef):
                return Opaque(expr), NO_ORIGIN
            if isinstance(value, Ref):  # a resource reference: keep the rest of the traversal
                value = Ref(value + render_steps(rest[i:]))
                break
            value = _step(value, s)
            if value is _UNSET:
                return Opaque(expr), NO_ORIGIN
        return value, origins

    def _template(self, template: TemplateRef, depth: int, stack: frozenset[str]) -> tuple[Any, frozenset[str]]:
        parts = split_template(template)
        if parts is None:
            return Opaque(template), NO_ORIGIN
        literal: list[str] = []  # the value if every part is known
        source: list[str] = []  # the template text otherwise
        known = True
        origins: set[str] = set()
        for is_expr, text in parts:
            if not is_expr:
                literal.append(text)
                source.append(text.replace("${", "$${").replace("%{", "%%{"))
                continue
            value, o = self._expression(text, depth + 1, stack)
            rendered = _render_scalar(value)
            if rendered is not None:
                origins |= o
                literal.append(rendered)
                source.append(rendered.replace("${", "$${").replace("%{", "%%{"))
                continue
            known = False
            if isinstance(value, TemplateRef):
                origins |= o
                source.append(value)
            elif isinstance(value, Ref) and not isinstance(value, Opaque):
                source.append("${" + value + "}")
            else:
                source.append("${" + text + "}")
        if known:
            return "".join(literal), frozenset(origins)
        return TemplateRef("".join(source)), frozenset(origins)


def origin_note(origins: frozenset[str] | set[str]) -> str:
    """` (from the default of var.role)`, for messages whose decisive value came from a variable."""
    if not origins:
        return ""
    defaults = sorted(o[len(_DEFAULT_OF):] for o in origins if o.startswith(_DEFAULT_OF))
    items = sorted(o for o in origins if not o.startswith(_DEFAULT_OF))
    if defaults:
        items.insert(0, f"the default{'s' if len(defaults) > 1 else ''} of {and_list(defaults)}")
    return f" (from {and_list(items)})"


