"""The Bicep reader (keyless/linter/documents/bicep.py): syntax tree, exact positions, recovery."""

from __future__ import annotations

import subprocess
import sys

import pytest

from keyless.linter.documents import classify, make_document
from keyless.linter.documents import bicep_ast as A
from keyless.linter.documents.bicep import BicepDocument, inside_text_block, parse_bicep


def text_of(src: str, node) -> str:
    s, e = node.span if hasattr(node, "_fields") else node
    return src[s:e]


def stmt(src: str, i: int = 0, bicepparam: bool = False):
    prog = parse_bicep(src, bicepparam)
    assert prog.errors == (), prog.errors
    return prog.statements[i]


def props(obj: A.Obj) -> dict:
    return {p.key: p.value for p in obj.props}


def all_nodes(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            if hasattr(n, "_fields"):
                yield n
            stack.extend(x for x in n if isinstance(x, tuple))


# ---- statements -----------------------------------------------------------------------------------

def test_target_scope_param_var_output():
    src = (
        "targetScope = 'subscription'\n"
        "@secure()\n"
        "@sys.description('The admin password')\n"
        "param adminPassword string = 'x'\n"
        "@allowed([\n  'Standard_LRS'\n  'Premium_LRS'\n])\n"
        "param sku string\n"
        "param tags object = {}\n"
        "var location = resourceGroup().location\n"
        "output id string = storage.id\n"
    )
    prog = parse_bicep(src)
    assert prog.errors == ()
    ts, pw, sku, tags, loc, out = prog.statements
    assert ts == A.TargetScope(A.Str("subscription", (14, 28)), (0, 28))
    assert type(pw) is A.Param and pw.name == "adminPassword" and pw.type_text == "string"
    assert [d.name for d in pw.decorators] == ["secure", "description"]
    assert pw.decorators[1].args == (A.Str("The admin password", pw.decorators[1].args[0].span),)
    assert text_of(src, pw.decorators[1]) == "@sys.description('The admin password')"
    assert text_of(src, pw) == "param adminPassword string = 'x'"
    assert text_of(src, pw.name_span) == "adminPassword"
    assert pw.default.value == "x" and not pw.nullable
    assert sku.default is None and [d.name for d in sku.decorators] == ["allowed"]
    allowed = sku.decorators[0].args[0]
    assert type(allowed) is A.Arr and [i.value for i in allowed.items] == ["Standard_LRS", "Premium_LRS"]
    assert text_of(src, sku) == "param sku string"
    assert tags.default == A.Obj((), tags.default.span) and text_of(src, tags.default) == "{}"
    assert type(loc) is A.Var and loc.name == "location"
    assert loc.value == A.Member(A.Call("resourceGroup", (), None, None, loc.value.obj.span, loc.value.obj.name_span),
                                 "location", False, loc.value.span, loc.value.name_span)
    assert type(out) is A.Output and out.type_text == "string" and text_of(src, out.value) == "storage.id"


def test_resource_existing_nested_children_and_decorators():
    src = (
        "@description('the account')\n"
        "resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n"
        "  name: 'st${suffix}'\n"
        "  properties: {\n"
        "    allowSharedKeyAccess: false\n"
        "  }\n"
        "  @batchSize(1)\n"
        "  resource blob 'blobServices' = {\n"
        "    name: 'default'\n"
        "    resource c 'containers' = [for n in names: {\n"
        "      name: n\n"
        "    }]\n"
        "  }\n"
        "}\n"
        "resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {\n"
        "  name: kvName\n"
        "  scope: resourceGroup(rgName)\n"
        "}\n"
    )
    st, kv = parse_bicep(src).statements
    assert type(st) is A.Resource and st.name == "storage"
    assert st.type_string == "Microsoft.Storage/storageAccounts@2023-01-01" and not st.existing
    assert text_of(src, st.type_span) == "'Microsoft.Storage/storageAccounts@2023-01-01'"
    assert [d.name for d in st.decorators] == ["description"]
    assert text_of(src, st).startswith("resource storage") and text_of(src, st).endswith("}")
    body = props(st.body)
    assert set(body) == {"name", "properties"}  # child resources are not props
    assert type(body["name"]) is A.Interp and body["name"].parts[0] == "st"
    assert body["name"].parts[1] == A.Ref("suffix", body["name"].parts[1].span)
    shared = st.body.props[1].value.props[0]
    assert shared.key == "allowSharedKeyAccess" and shared.value.value is False
    assert text_of(src, shared.key_span) == "allowSharedKeyAccess" and text_of(src, shared.value) == "false"
    (blob,) = st.children
    assert blob.name == "blob" and blob.type_string == "blobServices"
    assert [d.name for d in blob.decorators] == ["batchSize"] and blob.decorators[0].args[0].value == 1
    (containers,) = blob.children
    assert type(containers.body) is A.For and containers.body.item == "n"
    assert kv.existing and props(kv.body)["scope"].name == "resourceGroup"


def test_module_loop_condition_and_registry_path():
    src = (
        "module app './core/app.bicep' = if (deployApp) {\n"
        "  name: 'app'\n"
        "  scope: resourceGroup(rg)\n"
        "  params: { key: storage.listKeys().keys[0].value }\n"
        "}\n"
        "module sites 'br/public:avm/res/web/site:0.3.0' = [for (site, i) in sites: if (site.enabled) {\n"
        "  name: 'site-${i}'\n"
        "}]\n"
    )
    app, sites = parse_bicep(src).statements
    assert type(app) is A.Module and app.path == "./core/app.bicep"
    assert text_of(src, app.path_span) == "'./core/app.bicep'"
    assert type(app.body) is A.If and app.body.cond == A.Ref("deployApp", app.body.cond.span)
    key = props(props(app.body.body)["params"])["key"]
    assert type(key) is A.Member and key.name == "value"
    index = key.obj
    assert type(index) is A.Index and index.index.value == 0
    keys = index.obj
    assert type(keys) is A.Member and keys.name == "keys"
    call = keys.obj
    assert type(call) is A.Call and call.name == "listKeys" and call.namespace is None
    assert call.target == A.Ref("storage", call.target.span) and text_of(src, call.name_span) == "listKeys"
    assert sites.path == "br/public:avm/res/web/site:0.3.0"
    loop = sites.body
    assert type(loop) is A.For and (loop.item, loop.index) == ("site", "i")
    assert type(loop.body) is A.If and type(loop.body.body) is A.Obj


def test_bicepparam_using_and_values():
    src = ("using './main.bicep'\n\nparam location = 'westeurope'\nparam size = 3\nvar x = 1\n"
           "param tags = {\n  env: 'dev'\n}\n")
    prog = parse_bicep(src, bicepparam=True)
    assert prog.errors == ()
    using, loc, size, x, tags = prog.statements
    assert using == A.Using("./main.bicep", (0, 20))
    assert loc == A.ParamValue("location", A.Str("westeurope", loc.value.span), loc.span, loc.name_span)
    assert text_of(src, loc) == "param location = 'westeurope'" and text_of(src, loc.name_span) == "location"
    assert size.value.value == 3 and type(x) is A.Var
    assert props(tags.value)["env"].value == "dev"
    assert parse_bicep("using none\n", bicepparam=True).statements == (A.Using("none", (0, 10)),)


def test_other_statements_keep_names():
    src = (
        "import { lockType } from 'br/public:avm/utl/types/avm-common-types:0.5.1'\n"
        "import * as types from './types.bicep'\n"
        "metadata name = 'x'\n"
        "@export()\n"
        "type lock = {\n  kind: ('CanNotDelete' | 'ReadOnly')?\n}\n"
        "func pick(a string) string => a\n"
        "extension microsoftGraphV1\n"
        "extension kubernetes with {\n  namespace: 'default'\n} as k8s\n"
        "var y = types.make('a')\n"
    )
    prog = parse_bicep(src)
    assert prog.errors == ()
    kinds = [(s.keyword, s.name) for s in prog.statements if type(s) is A.Other]
    assert kinds == [("import", None), ("import", "types"), ("metadata", "name"), ("type", "lock"),
                     ("func", "pick"), ("extension", "microsoftGraphV1"), ("extension", "kubernetes")]
    y = prog.statements[-1]
    assert y.value.namespace == "types" and y.value.target is None and y.value.name == "make"


# ---- expressions ----------------------------------------------------------------------------------

def test_every_expression_kind():
    src = (
        "var v = {\n"
        "  s: 'it''s'\n"
        "  esc: 'a\\'b\\n\\u{41}\\$'\n"
        "  multi: '''\n  line1\n  '''\n"
        "  n: -12\n"
        "  t: true\n"
        "  z: null\n"
        "  safe: a.?b[?0]\n"
        "  nested: parent::child.properties\n"
        "  tern: c ? 1 : 2\n"
        "  bin: x ?? y\n"
        "  cmp: x != y && !z\n"
        "  lam: map(xs, (a, b) => a)\n"
        "  lam1: filter(xs, x => x.ok)\n"
        "  lam2: filter(xs, x => x.a == 1 && x.b[0].c(1))\n"
        "  paren: (1 + 2) * 3\n"
        "  'quoted-key': 1\n"
        "  sys: sys.concat('a')\n"
        "  az: az.resourceGroup()\n"
        "  arr: [for x in xs: x.id]\n"
        "}\n"
    )
    prog = parse_bicep(src)
    p = props(prog.statements[0].value)
    assert type(p["s"]) is A.Error or p["s"].value  # '' inside a string is not a Bicep escape
    assert p["esc"].value == "a'b\nA$"
    assert p["multi"].value == "  line1\n  "
    assert p["n"].value == -12 and p["t"].value is True and type(p["z"]) is A.Null
    safe = p["safe"]
    assert type(safe) is A.Index and safe.safe and safe.obj.safe and safe.obj.name == "b"
    nested = p["nested"]
    assert type(nested) is A.Member and type(nested.obj) is A.Nested
    assert nested.obj.parent == A.Ref("parent", nested.obj.parent.span) and nested.obj.name == "child"
    assert text_of(src, nested.obj.name_span) == "child"
    assert type(p["tern"]) is A.Ternary and p["bin"].op == "??"
    cmp = p["cmp"]
    assert cmp.op == "&&" and cmp.left.op == "!=" and cmp.right == A.Unary("!", cmp.right.operand, cmp.right.span)
    lam = p["lam"].args[1]
    assert type(lam) is A.Lambda and lam.params == ("a", "b") and lam.body.name == "a"
    lam1 = p["lam1"].args[1]
    assert lam1.params == ("x",) and lam1.body == A.Member(A.Ref("x", lam1.body.obj.span), "ok", False,
                                                            lam1.body.span, lam1.body.name_span)
    assert text_of(src, lam1) == "x => x.ok" and text_of(src, lam1.body) == "x.ok"
    lam2 = p["lam2"].args[1]  # the lambda body extends as far right as it can
    assert type(lam2) is A.Lambda and lam2.body.op == "&&" and lam2.body.left.op == "=="
    assert text_of(src, lam2.body) == "x.a == 1 && x.b[0].c(1)"
    assert lam2.body.right.target.obj.obj == A.Ref("x", lam2.body.right.target.obj.obj.span)
    assert p["paren"].op == "*" and p["paren"].left.op == "+"
    assert p["quoted-key"].value == 1
    assert p["sys"].namespace == "sys" and p["az"].namespace == "az"
    arr = p["arr"]
    assert type(arr) is A.For and arr.item == "x" and arr.index is None and arr.body.name == "id"


def sexp(n) -> str:
    t = type(n)
    if t is A.Ref:
        return n.name
    if t is A.Num:
        return str(n.value)
    if t is A.Str:
        return repr(n.value)
    if t is A.Member:
        return f"{sexp(n.obj)}.{'?' if n.safe else ''}{n.name}"
    if t is A.Nested:
        return f"{sexp(n.parent)}::{n.name}"
    if t is A.Index:
        return f"{sexp(n.obj)}[{sexp(n.index)}]"
    if t is A.Call:
        head = f"{n.namespace}." if n.namespace else (f"{sexp(n.target)}." if n.target is not None else "")
        return f"{head}{n.name}({', '.join(map(sexp, n.args))})"
    if t is A.Binary:
        return f"({sexp(n.left)} {n.op} {sexp(n.right)})"
    if t is A.Unary:
        return f"({sexp(n.operand)}!)" if n.op == "!post" else f"({n.op}{sexp(n.operand)})"
    if t is A.Ternary:
        return f"({sexp(n.cond)} ? {sexp(n.then)} : {sexp(n.otherwise)})"
    if t is A.Lambda:
        return f"({', '.join(n.params)} => {sexp(n.body)})"
    return t.__name__


@pytest.mark.parametrize("source,expected", [
    # postfix operations bind tightest (the grammar alone reads `a && b.c` as `(a && b).c`)
    ("a && b.c", "(a && b.c)"),
    ("a.b && c.d", "(a.b && c.d)"),
    ("a == b[0].c", "(a == b[0].c)"),
    ("a && b.c(1)", "(a && b.c(1))"),
    ("a ?? b.?c", "(a ?? b.?c)"),
    ("c ? x.y : z.w", "(c ? x.y : z.w)"),
    ("!a.b", "(!a.b)"),
    ("-a.b", "(-a.b)"),
    ("a || !b.c", "(a || (!b.c))"),
    ("a && p::c.id", "(a && p::c.id)"),
    ("a && b.c!", "(a && (b.c!))"),
    ("(a && b).c", "(a && b).c"),
    ("!(a).b", "(!a.b)"),
    ("a || b && c", "(a || (b && c))"),
    ("a ?? b || c", "(a ?? (b || c))"),
    ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
    # a lambda body extends as far right as it can
    ("map(xs, x => x.a)", "map(xs, (x => x.a))"),
    ("filter(xs, x => x.a == 1 && x.b[0].c(1))", "filter(xs, (x => ((x.a == 1) && x.b[0].c(1))))"),
    ("map(xs, (x, i) => x ? i : x.n)", "map(xs, (x, i => (x ? i : x.n)))"),
    ("map(xs, x => (x.a)).b", "map(xs, (x => x.a)).b"),
])
def test_operator_precedence(source, expected):
    prog = parse_bicep(f"var v = {source}\n")
    assert prog.errors == ()
    value = prog.statements[0].value
    assert sexp(value) == expected
    assert text_of(f"var v = {source}\n", value) == source


def test_string_values_and_interpolation_parts():
    src = "var a = 'pre-${x}-mid-${f('y')}'\nvar b = '${x}'\n"
    a, b = parse_bicep(src).statements
    pre, x, mid, call = a.value.parts
    assert (pre, mid) == ("pre-", "-mid-") and x.name == "x" and call.name == "f"
    assert text_of(src, call) == "f('y')"
    assert b.value.parts == (A.Ref("x", b.value.parts[0].span),)


# ---- positions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_positions_are_character_offsets(newline, bom):
    lines = [
        "// Überschrift: 日本語 ✓",
        "param name string = 'café-☕'",
        "resource st 'Microsoft.Storage/storageAccounts@2023-01-01' = {",
        "  name: 'ünïcödé-${name}'",
        "  properties: {",
        "    allowSharedKeyAccess: false // 🚫 keys",
        "  }",
        "}",
    ]
    src = bom + newline.join(lines) + newline
    prog = parse_bicep(src)
    assert prog.errors == ()
    param, st = prog.statements
    assert text_of(src, param.name_span) == "name"
    assert text_of(src, param.default) == "'café-☕'" and param.default.value == "café-☕"
    assert text_of(src, st.name_span) == "st"
    name = props(st.body)["name"]
    assert text_of(src, name) == "'ünïcödé-${name}'"
    assert text_of(src, name.parts[1]) == "name"
    shared = st.body.props[1].value.props[0]
    assert text_of(src, shared.key_span) == "allowSharedKeyAccess"
    assert text_of(src, shared.value) == "false"
    assert text_of(src, shared) == "allowSharedKeyAccess: false"
    for node in all_nodes(prog):
        span = getattr(node, "span", None)
        if isinstance(span, tuple) and len(span) == 2:
            assert 0 <= span[0] <= span[1] <= len(src)


def test_undecodable_bytes_keep_offsets():
    doc = make_document("x.bicep", "x.bicep", "var a = 'x\udcff'\nvar b = 'ok'\n")
    assert doc.ensure_parsed()
    a, b = doc.program.statements
    assert text_of(doc.text, b.value) == "'ok'"
    assert a.value.value == "x\udcff"


# ---- what the grammar does not know (same-length view) -----------------------------------------------

def test_modern_syntax_reads_cleanly():
    src = (
        "param sku resourceInput<'Microsoft.Storage/storageAccounts@2024-01-01'>.sku.name = 'Standard_LRS'\n"
        "param lock lockType?\n"
        "import { lockType } from 'types.bicep'\n"
        "output props resourceOutput<'Microsoft.Web/sites@2024-04-01'>.properties = site.properties\n"
        "var typed string = 'x'\n"
        "param multi {\n  a: string\n  b: int?\n}?\n"
        "var merged = {\n  ...base\n  extra: true\n}\n"
        "var all = [\n  ...first\n  last\n]\n"
        "var id = app.outputs.principalId!\n"
        "var call = f(x!, y[0]!.z)\n"
        "var neq = a != b\n"
    )
    prog = parse_bicep(src)
    assert prog.errors == ()
    sku, lock, _imp, out, typed, multi, merged, allv, ident, call, neq = prog.statements
    assert sku.type_text == "resourceInput<'Microsoft.Storage/storageAccounts@2024-01-01'>.sku.name"
    assert sku.default.value == "Standard_LRS"
    assert lock.type_text == "lockType?" and lock.nullable and lock.default is None
    assert out.type_text.startswith("resourceOutput<") and out.value.name == "properties"
    assert typed.value.value == "x"
    assert multi.type_text == "{\n  a: string\n  b: int?\n}?" and multi.nullable
    spread, extra = merged.value.props
    assert spread.spread and spread.key is None and spread.value.name == "base"
    assert text_of(src, spread) == "...base" and extra.key == "extra"
    first, last = allv.value.items
    assert first == A.Unary("...", A.Ref("first", first.operand.span), first.span) and text_of(src, first) == "...first"
    assert last.name == "last"
    assert ident.value.op == "!post" and text_of(src, ident.value) == "app.outputs.principalId!"
    assert ident.value.operand.name == "principalId"
    x, yz = call.value.args
    assert x.op == "!post" and text_of(src, x) == "x!"
    assert type(yz) is A.Member and yz.obj.op == "!post" and text_of(src, yz.obj) == "y[0]!"
    assert neq.value.op == "!="


def test_ternary_after_parenthesised_condition_in_object():
    # the grammar alone reads `(c) ? 'a' : 'b'` in an object as a nullable type plus an entry
    src = (
        "var v = {\n"
        "  before: 1\n"
        "  publicNetworkAccess: (private) ? 'Disabled' : 'Enabled'\n"
        "  after: 2\n"
        "}\n"
        "var w = {\n"
        "  d: [ { p: x.y.z! } ]\n"
        "  publicNetworkAccess: (private) ? 'Disabled' : 'Enabled'\n"
        "}\n"
    )
    prog = parse_bicep(src)
    assert prog.errors == ()
    for st in prog.statements:
        access = props(st.value)["publicNetworkAccess"]
        assert type(access) is A.Ternary and access.then.value == "Disabled" and access.otherwise.value == "Enabled"
        assert text_of(src, access) == "(private) ? 'Disabled' : 'Enabled'"
    assert list(props(prog.statements[0].value)) == ["before", "publicNetworkAccess", "after"]


def test_slashes_inside_strings_are_not_comments():
    src = "var a = split(x ? y : '///////', '/')\nvar b = 'http://x/*y*/'\nvar c = '''\n// text\n'''\n"
    prog = parse_bicep(src)
    assert prog.errors == ()
    a, b, c = prog.statements
    assert a.value.args[0].otherwise.value == "///////" and a.value.args[1].value == "/"
    assert b.value.value == "http://x/*y*/" and c.value.value == "// text\n"


def test_array_items_on_their_own_lines():
    # a line starting with `(` is a new item, not the arguments of a call on the line above, and
    # a multi-line array's `f(1)` stays one call
    src = "var v = [\n  a\n  (b)\n  f(1)\n  g(x, 2)\n  'x'\n  ...(c ? [1] : [])\n]\n"
    prog = parse_bicep(src)
    assert prog.errors == ()
    items = prog.statements[0].value.items
    assert [sexp(i) for i in items[:5]] == ["a", "b", "f(1)", "g(x, 2)", "'x'"]
    assert items[5].op == "..." and text_of(src, items[5]) == "...(c ? [1] : [])"
    assert type(items[5].operand) is A.Ternary


def test_array_items_after_comments_and_safe_index_on_their_own_line():
    src = (
        "var v = [\n"
        "  // a comment, then an item in parentheses: still the first item\n"
        "  (i * 2)\n"
        "  a\n"
        "  c[?1]\n"
        "  d // trailing comment\n"
        "  (e)\n"
        "]\n"
    )
    prog = parse_bicep(src)
    assert prog.errors == ()
    items = prog.statements[0].value.items
    assert [sexp(i) for i in items] == ["(i * 2)", "a", "c[1]", "d", "e"]
    assert items[2].safe


def test_multiline_union_type_and_default():
    src = "param mode\n  | 'Default'\n  | 'Copy' = 'Default'\nparam other 'a' |\n  'b'\n"
    prog = parse_bicep(src)
    assert prog.errors == ()
    mode, other = prog.statements
    assert mode.type_text == "| 'Default'\n  | 'Copy'" and mode.default.value == "Default"
    assert other.type_text == "'a' |\n  'b'" and other.default is None


def test_newer_syntax_interpolated_multiline_strings_and_index_from_end():
    src = (
        "var a = $'''\nHello ${name}\n'''\n"
        "var b = $$'''${literal} $${x}'''\n"
        "var c = ''''''\n"
        "var d = $'''{${'n${1}'}}'''\n"
        "var e = xs[^1]\n"
        "var f = o.?xs[?^2]\n"
        "var g = '\\u{D801}\\u{DC37}'\n"
    )
    prog = parse_bicep(src)
    assert prog.errors == ()
    a, b, c, d, e, f, g = (s.value for s in prog.statements)
    assert a.parts == ("Hello ", A.Ref("name", a.parts[1].span), "\n") and text_of(src, a).startswith("$'''")
    assert b.parts == ("${literal} ", A.Ref("x", b.parts[1].span))
    assert c == A.Str("", c.span)
    assert d.parts[0] == "{" and d.parts[1].parts == ("n", A.Num(1, d.parts[1].parts[1].span)) and d.parts[2] == "}"
    assert e.index.op == "^" and e.index.operand.value == 1 and text_of(src, e.index) == "^1"
    assert f.safe and f.index.op == "^"
    assert g.value == "\U00010437"


def test_computed_keys_keep_their_expression():
    src = "var o = {\n  '${prefix}-x': 1\n  'plain': 2\n}\n"
    p1, p2 = parse_bicep(src).statements[0].value.props
    assert p1.key is None and type(p1.key_expr) is A.Interp and p1.key_expr.parts[0].name == "prefix"
    assert p2.key == "plain" and p2.key_expr is None


def test_fast_path_reads_what_the_grammar_reads(monkeypatch):
    from keyless.linter.documents import bicep

    src = (
        "targetScope = 'subscription'\n"
        "@description('a')\n@sys.minValue(1)\n@secure()\nparam a int = -3\n"
        "param b string = 'x\\'y'\nparam c object = {}\nparam d array = []\nparam e bool = true\n"
        "param f string = resourceGroup().location\nparam g string = az.subscription().id\n"
        "output h string = st.properties.?primaryEndpoints.blob\noutput i string = '''\nm\n'''\n"
        "var j = null\nvar k = other\nparam l string?\n#disable-next-line no-unused-params\nparam m string\n"
    )
    fast = parse_bicep(src)
    monkeypatch.setattr(bicep, "FAST_PATH", False)
    slow = parse_bicep(src)
    assert fast == slow and fast.errors == ()
    assert len(fast.statements) == 14


_SCANNER_CASES = [
    "var a = { b: [ f(x!), g(y) != z, !h ] }\nvar c = [\n  (1)\n  ...(d)\n]\n",
    "var s = { k: 'a//b', l: 'c/*d', m: 'e/f', n: x / 2 }\nparam p string = 'q'\n",
    "var o = { ...base, k: [ ...items ], n: o.p!.q, t: [1, 2] }\n",
    "var i = '${a}-${f('x', { y: 'z' })}-${b[0]}'\nvar j = $'''\n${c}\n'''\nvar k = ''''''\n",
    "var m = {\n  a: 'x' // note\n  /* block\n  resource x */\n  b: '\\'\\n'\n}\n",
    "var u = [\n  'unterminated\n]\nresource r 'T@v' = {\n  p: (\n",
    "var v = {\n  a: {\n    b: 1\n\nresource y 'T@v' = {\n  name: 'y'\n}\n",
    "@description('d')\n@allowed([\n  'a'\n])\nparam w string\nvar x = {\nresource: 1\nparam: [\n]\n}\n",
    "var y = '\\\nz'\nvar z = 'a\\$b${c}'\nvar q = [\n  f()\n  (g)\n]\n",
]


def test_scanner_skip_changes_nothing(monkeypatch):
    """The scanner skips code without tokens in one regex match; token by token gives the same."""
    import glob
    import os
    import re

    from keyless.linter.documents import bicep

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    texts = list(_SCANNER_CASES)
    for path in sorted(glob.glob(os.path.join(root, "fixtures", "**", "*.bicep*"), recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as fh:
            texts.append(fh.read())
    views = [bicep._view(t) for t in texts]
    fast = [[bicep.scan(v, recover) for recover in (False, True)] for v in views]
    never = re.compile("(?!)")
    for name in ("_STEP_TOP", "_STEP_NESTED", "_STEP_RECOVER"):
        monkeypatch.setattr(bicep, name, never)
    slow = [[bicep.scan(v, recover) for recover in (False, True)] for v in views]
    assert len(views) > 100
    for f, s in zip(fast, slow):
        for a, b in zip(f, s):
            assert {k: getattr(a, k) for k in a.__slots__} == {k: getattr(b, k) for k in b.__slots__}


# ---- recovery -------------------------------------------------------------------------------------

def test_broken_declaration_does_not_hide_the_others():
    src = (
        "param ok1 string = 'a'\n"
        "resource bad 'Microsoft.Web/sites@2022-03-01' = {\n"
        "  name: 'x'\n"
        "  properties: {\n"
        "    siteConfig: { = }\n"
        "    httpsOnly: true\n"
        "  }\n"
        "}\n"
        "resource good 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n"
        "  properties: { allowSharedKeyAccess: false }\n"
        "}\n"
    )
    prog = parse_bicep(src)
    names = [s.name for s in prog.statements]
    assert names == ["ok1", "bad", "good"]
    good = prog.statements[2]
    assert good.body.props[0].value.props[0].value.value is False
    bad = prog.statements[1]
    assert props(bad.body)["name"].value == "x"
    assert props(props(bad.body)["properties"])["httpsOnly"].value is True
    assert prog.errors and all(e.kind in _KINDS for e in prog.errors)
    assert all(src[e.span[0]:e.span[1]] and e.span[0] >= src.index("siteConfig") - 20 for e in prog.errors)


_KINDS = {"unreadable declaration", "unreadable expression", "unreadable object entry", "unreadable array item",
          "missing token", "unterminated string", "unknown statement", "decorator without declaration",
          "nesting too deep", "unreadable decorator", "parameter without value", "output without value",
          "variable without value", "declaration too complex to read"}


@pytest.mark.parametrize("src", [
    "resource x 'T@v' = {\n  name: 'unterminated\n}\nparam after string\n",
    "resource x 'T@v' = {\n  a: {\n    b: 1\n\nresource y 'T@v' = {\n  name: 'y'\n}\n",
    "var a = '''never closed\nparam after string\n",
    "/* never closed\nparam after string\n",
    "@secure()\n",
    "garbage here\nparam after string\n",
    "param\nvar\nresource\nmodule\noutput\nusing\n",
    "var x = ${\n",
    "}}}]]])))\nparam after string\n",
    "var a = [for x in : ]\nparam after string\n",
    "\ufeff",
    "",
    "var deep = " + "[" * 3000 + "]" * 3000 + "\n",
    "var long = " + "f(" * 600 + ")" * 600 + "\n",
])
def test_broken_input_never_crashes_and_names_no_source(src):
    prog = parse_bicep(src)
    for e in prog.errors:
        assert e.kind in _KINDS
    if "param after string" in src:
        assert any(getattr(s, "name", None) == "after" for s in prog.statements)


def test_runaway_parse_is_cut_and_the_rest_is_read(monkeypatch):
    from keyless.linter.documents import bicep, tree_sitter_budget

    # the grammar's error recovery is quadratic in one statement's errors: a big statement is
    # parsed with a budget of input reads (made small here), past which it is reported, not read
    monkeypatch.setattr(bicep, "_SMALL_STATEMENT", 1000)
    monkeypatch.setattr(tree_sitter_budget, "READ_BUDGET", 50)
    broken = "resource r 'T@v' = {\n" + "".join(f"  p{i}: {{ = }}\n" for i in range(300)) + "}\n"
    clean = "resource ok 'T@v' = {\n" + "".join(f"  p{i}: 'v{i}'\n" for i in range(300)) + "}\n"
    prog = parse_bicep(broken + "param after string\n" + clean)
    r, after, ok = prog.statements
    assert (r.name, r.type_string, type(r.body)) == ("r", "T@v", A.Error)
    assert "declaration too complex to read" in {e.kind for e in prog.errors}
    assert after.name == "after" and len(ok.body.props) == 300


def test_entries_after_a_broken_one_are_still_read():
    src = (
        "resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n"
        "  properties: {\n"
        "    principalId: identity.properties.principalId = ]\n"
        "    roleDefinitionId: subscriptionResourceId(\n"
        "      'Microsoft.Authorization/roleDefinitions',\n"
        "      'b24988ac-6180-42a0-ab88-20f7382dd24c'\n"
        "    )\n"
        "    principalType: 'ServicePrincipal'\n"
        "  }\n"
        "}\n"
    )
    prog = parse_bicep(src)
    entries = props(prog.statements[0].body.props[0].value)
    assert "principalId" not in entries
    role = entries["roleDefinitionId"]
    assert type(role) is A.Call and role.args[1].value == "b24988ac-6180-42a0-ab88-20f7382dd24c"
    assert text_of(src, role).startswith("subscriptionResourceId(") and text_of(src, role).endswith(")")
    assert entries["principalType"].value == "ServicePrincipal"
    assert [e.kind for e in prog.errors] == ["unreadable object entry"]


def test_unbalanced_brackets_resync_at_column_zero_keywords():
    src = (
        "resource a 'T@v' = {\n  properties: {\n    x: 1\n\n"
        "resource b 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n"
        "  properties: {\n    allowSharedKeyAccess: true\n  }\n}\n"
    )
    prog = parse_bicep(src)
    b = next(s for s in prog.statements if getattr(s, "name", None) == "b")
    assert b.body.props[0].value.props[0].value.value is True
    assert any(e.kind != "" for e in prog.errors)


def test_inside_text_block():
    src = "var a = '''\nx\n'''\n/* c\nd */\nvar b = 1\n"
    starts = [0] + [i + 1 for i, c in enumerate(src) if c == "\n"]
    assert [inside_text_block(src, s) for s in starts[:7]] == [False, True, True, False, True, False, False]


# ---- the document kind ------------------------------------------------------------------------------

def test_classification_and_subkind():
    assert classify("infra/main.bicep") == "bicep"
    assert classify("infra/main.BICEPPARAM") == "bicep"
    doc = make_document("main.bicepparam", "infra/main.bicepparam", "using 'main.bicep'\nparam a = 1\n")
    assert isinstance(doc, BicepDocument) and doc.kind == "bicep" and doc.subkind == "bicepparam"
    assert type(doc.program.statements[1]) is A.ParamValue
    plain = make_document("main.bicep", "main.bicep", "param a int = 1\n")
    assert plain.subkind == "" and type(plain.program.statements[0]) is A.Param


def test_partial_file_keeps_program_and_warns_without_source_text():
    secret_looking = "hunter2-" + "x" * 20
    src = f"param good string = 'a'\nresource r 'T@v' = {{\n  name: '{secret_looking}'\n  bad: {{ = }}\n}}\n"
    doc = make_document("m.bicep", "m.bicep", src)
    assert doc.ensure_parsed() is False  # not the whole file: a fix that breaks it is refused
    assert [s.name for s in doc.program.statements] == ["good", "r"]  # what was read stays
    assert props(doc.program.statements[1].body)["name"].value == secret_looking
    msg = str(doc.parse_error)
    assert msg == "invalid Bicep: unreadable object entry (line 4, column 10)"
    assert secret_looking not in msg


def test_every_issue_kind_is_a_parse_problem_word():
    """The reader's ParseIssue kinds become ParseError problems: each must be in the vocabulary
    (else the warning would read as a generic syntax error)."""
    import ast
    import inspect

    from keyless.linter.documents import PARSE_PROBLEMS, bicep

    kinds = set()
    for node in ast.walk(ast.parse(inspect.getsource(bicep))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        args = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if name in ("ParseIssue", "issue") and node.args and node.args[0] in args:
            kinds.add(node.args[0].value)
        elif name == "error" and len(node.args) > 1 and node.args[1] in args:
            kinds.add(node.args[1].value)
    assert len(kinds) >= 12, kinds  # the scan found them
    assert kinds <= PARSE_PROBLEMS, kinds - PARSE_PROBLEMS
    assert _KINDS <= PARSE_PROBLEMS


def test_clean_file_has_no_parse_error_and_parses_once():
    doc = make_document("m.bicep", "m.bicep", "param a string\n")
    assert doc.ensure_parsed() and doc.parse_error is None
    first = doc.program
    assert doc.program is first


def test_huge_file_is_not_parsed_but_says_so(monkeypatch):
    from keyless.linter.documents import bicep

    monkeypatch.setattr(bicep, "MAX_PARSE_CHARS", 100)
    doc = make_document("m.bicep", "m.bicep", "param a string\n" * 20)
    assert doc.ensure_parsed() is False
    assert "too large" in str(doc.parse_error) and doc.program.statements == ()


def test_grammar_is_imported_only_when_a_bicep_file_is_parsed():
    code = (
        "import sys\n"
        "from keyless.linter.documents import make_document\n"
        "d = make_document('m.bicep', 'm.bicep', 'param a string\\n')\n"
        "assert 'tree_sitter_bicep' not in sys.modules\n"
        "d.ensure_parsed()\n"
        "assert 'tree_sitter_bicep' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
