"""HCL documents: the classic hcl2.loads shape, expressions as source text, positions."""

import pytest

from keyless.linter.documents import ParseError, make_document
from keyless.linter.documents.hcl import HclDocument, loads_options
from keyless.linter.finding import Position, Span


def doc(text, name="main.tf"):
    d = make_document(name, name, text)
    assert isinstance(d, HclDocument)
    return d


def text_at(d, span):
    return d.text[d.lines.offset(span.start):d.lines.offset(span.end)]


TF = '''\
# Container app with two identities
resource "azurerm_container_app" "app" {
  name                         = "app-${var.env}"
  resource_group_name          = azurerm_resource_group.rg.name
  revision_mode                = "Single"

  identity {
    type         = "SystemAssigned, UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.x.id]
  }

  template {
    container {
      name  = "web"
      image = "contoso.azurecr.io/web:1"
      env {
        name  = "AZURE_CLIENT_ID"
        value = azurerm_user_assigned_identity.x.client_id
      }
      env {
        name        = "DB"
        secret_name = "db"
      }
    }
  }

  dynamic "secret" {
    for_each = var.secrets
    content {
      name  = secret.key
      value = secret.value
    }
  }

  registry {
    server   = "contoso.azurecr.io"
    username = "contoso"
    password_secret_name = "acr-pw"
  }

  tags = { env = "prod", "cost-center" = var.cc, n = 3, ok = true, none = null }
  startup = <<EOT
#!/bin/sh
echo ${var.x}
EOT
  trimmed = <<-EOT
    indented
      more
    EOT
}

resource "azurerm_role_assignment" "ra" {
  count                = length(var.ids)
  scope                = data.azurerm_subscription.primary.id
  role_definition_name = "Contributor"
  principal_id         = azurerm_container_app.app.identity[0].principal_id
  condition            = var.a ? "x" : "y"
  names                = [for n in var.names : lower(n) if n != ""]
  ratio                = 1.5
  big                  = 1e10
  neg                  = -1
}
'''


def test_values_equal_hcl2_loads_classic_shape():
    import hcl2

    d = doc(TF)
    assert d.ensure_parsed(), d.parse_error
    assert d.subkind == "terraform"
    ref = hcl2.loads(TF, serialization_options=loads_options())
    assert d.values[0] == ref
    app = d.values[0]["resource"][0]["azurerm_container_app"]["app"]
    assert app["identity"] == [{"type": "SystemAssigned, UserAssigned",
                                "identity_ids": ["${azurerm_user_assigned_identity.x.id}"]}]
    assert app["name"] == "app-${var.env}"
    assert app["resource_group_name"] == "${azurerm_resource_group.rg.name}"
    env = app["template"][0]["container"][0]["env"]
    assert env[0]["value"] == "${azurerm_user_assigned_identity.x.client_id}"
    assert app["dynamic"][0]["secret"]["content"][0]["value"] == "${secret.value}"
    assert app["tags"] == {"env": "prod", "cost-center": "${var.cc}", "n": 3, "ok": True, "none": None}
    assert app["startup"] == "#!/bin/sh\necho ${var.x}"
    ra = d.values[0]["resource"][1]["azurerm_role_assignment"]["ra"]
    assert ra["count"] == "${length(var.ids)}"
    assert ra["principal_id"] == "${azurerm_container_app.app.identity[0].principal_id}"
    assert ra["ratio"] == 1.5 and ra["neg"] == -1 and ra["big"] == "${1e10}"


APP = (0, "resource", 0, "azurerm_container_app", "app")


def test_positions_of_attributes_blocks_and_labels():
    d = doc(TF)
    assert d.ensure_parsed()
    sp = d.locate(APP + ("identity", 0, "type"))
    assert sp == Span(Position(8, 20), Position(8, 50))
    assert text_at(d, sp) == '"SystemAssigned, UserAssigned"'
    assert text_at(d, d.locate_key(APP + ("identity", 0, "type"))) == "type"
    ids = d.locate(APP + ("identity", 0, "identity_ids", 0))
    assert text_at(d, ids) == "azurerm_user_assigned_identity.x.id" and ids.start.line == 9
    # blocks: the list spans first..last block, items span the block, labels are keys
    ident = d.locate(APP + ("identity", 0))
    assert ident.start == Position(7, 3) and ident.end == Position(10, 4)
    assert text_at(d, d.locate_key(APP + ("identity",))) == "identity"
    assert text_at(d, d.locate_key((0, "resource", 0, "azurerm_container_app"))) == '"azurerm_container_app"'
    assert text_at(d, d.locate_key(APP)) == '"app"'
    assert d.locate(APP).start == Position(2, 1)
    envs = d.locate(APP + ("template", 0, "container", 0, "env"))
    assert envs.start.line == 16 and envs.end.line == 23
    second = d.locate(APP + ("template", 0, "container", 0, "env", 1, "secret_name"))
    assert text_at(d, second) == '"db"' and second.start.line == 22
    dyn = d.locate(APP + ("dynamic", 0, "secret", "content", 0, "value"))
    assert text_at(d, dyn) == "secret.value" and dyn.start.line == 31
    assert text_at(d, d.locate_key(APP + ("dynamic", 0, "secret"))) == '"secret"'
    tag = d.locate(APP + ("tags", "cost-center"))
    assert text_at(d, tag) == "var.cc"
    assert text_at(d, d.locate_key(APP + ("tags", "cost-center"))) == '"cost-center"'
    heredoc = d.locate(APP + ("startup",))
    assert heredoc.start.line == 42 and heredoc.end == Position(45, 4)
    assert d.locate((0, "resource", 1, "azurerm_role_assignment", "ra", "scope")).start.line == 54
    assert d.locate(APP + ("nope",)) is None and d.locate((1,)) is None
    assert d.locate(APP + ("identity", 1)) is None


def test_crlf_and_non_ascii():
    text = 'locals {\r\n  name = "wért ✓ 🔑"\r\n  other = "x"\r\n}\r\n'
    d = doc(text)
    assert d.ensure_parsed(), d.parse_error
    assert d.values[0] == {"locals": [{"name": "wért ✓ 🔑", "other": "x"}]}
    sp = d.locate((0, "locals", 0, "name"))
    assert sp == Span(Position(2, 10), Position(2, 20))
    assert d.locate((0, "locals", 0, "other")) == Span(Position(3, 11), Position(3, 14))


def test_heredoc_in_crlf_file():
    text = 'locals {\r\n  s = <<EOT\r\nhello\r\nEOT\r\n  t = "x"\r\n}\r\n'
    d = doc(text)
    assert d.ensure_parsed(), d.parse_error
    assert d.locate((0, "locals", 0, "t")).start.line == 5


def test_bom_character_keeps_offsets():
    d = doc('\ufefflocals {\n  a = "b"\n}\n')
    assert d.ensure_parsed(), d.parse_error
    assert d.locate((0, "locals", 0, "a")) == Span(Position(2, 7), Position(2, 10))


def test_tfvars_subkind_and_escapes():
    d = doc('password = "p\\"w\\n"\nlist = [1, "a"]\nmap = { "k" = { v = [true] } }\n', "prod.tfvars")
    assert d.ensure_parsed()
    assert d.subkind == "tfvars"
    assert d.values[0] == {"password": 'p"w\n', "list": [1, "a"], "map": {"k": {"v": [True]}}}
    assert d.locate((0, "map", "k", "v", 0)).start == Position(3, 22)


def test_duplicate_attribute_last_wins():
    d = doc('a = 1\nb = 2\na = 3\n', "x.tfvars")
    assert d.values[0] == {"a": 3, "b": 2}
    assert d.locate((0, "a")).start.line == 3


@pytest.mark.parametrize("text,line", [
    ('resource "x" "y" {\n  identity {\n  a = \n', 3),
    ('resource "x" "y" {\n  a = "unterminated\n}\n', 2),
    ('a = 1\nb = = 2\n', 2),
    ('identity = 1\nidentity {\n}\n', None),  # block with the name of an attribute (python-hcl2 refuses)
    ('locals {\n  x = [1, 2\n}\n', 3),
])
def test_syntax_errors_are_parse_errors(text, line):
    d = doc(text)
    assert not d.ensure_parsed()
    assert isinstance(d.parse_error, ParseError)
    if line is not None:
        assert d.parse_error.line == line, d.parse_error


@pytest.mark.slow
def test_deep_nesting_is_a_parse_error_not_recursion_error():
    d = doc("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert not d.ensure_parsed()
    assert isinstance(d.parse_error, ParseError)


def test_moderate_nesting_parses():
    d = doc("a = " + "[" * 50 + "1" + "]" * 50 + "\n")
    assert d.ensure_parsed(), d.parse_error
    assert d.locate((0, "a") + (0,) * 50) == Span(Position(1, 55), Position(1, 56))


def test_hcl2_is_not_imported_for_plain_text():
    import subprocess
    import sys

    code = ("import sys; from keyless.linter.documents import make_document;"
            "d = make_document('a.txt', 'a.txt', 'x'); d.ensure_parsed();"
            "print(sorted(m for m in ('hcl2', 'lark', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---- the tree-sitter reader must give exactly what the lark reader gives -------------------------

TRICKY = '''\
a = "x-${var.p}"
b = "${ var.p }"
c = "a\\"b\\n"
d = " leading and trailing "
e = "$${literal} %%{x} 100% $5"
f = "${var.m["k"]}-${local.l[0].x}"
g = azurerm_linux_web_app.main.identity[0].principal_id
h = a[*].id
i = a.b["k"]
j = lookup(var.m, "k", null)
k = var.enabled ? { a = 1 } : {}
l = <<EOT
hello ${var.x}
EOT
m = <<-EOT
    indented
  EOT
n = -1
o = 1e3
p = 1.25
q = !var.x
r = (var.x)
s = [for s in var.l : upper(s)]
t = { for k, v in var.m : k => v }
u = string
v = { "quoted key" = 1, bare = 2, nested = { x = [1, "two", null, true] } }
w = [
  "a", # comment
  var.b,
]
x = "é${var.u}ß"
z = { (var.k) = 1, "${var.j}" = 2, plain = 3 }
block "label one" label2 {
  inner { }
  y = "z"
}
'''


def _both_readers(text, name="main.tf"):
    from keyless.linter.documents import hcl

    out = []
    for fast in (True, False):
        hcl.USE_TREE_SITTER = fast
        try:
            d = doc(text, name)
            d.ensure_parsed()
            spans = {}
            for path in _all_paths(d.values[0] if d.values else None, (0,)):
                spans[path] = d.locate(path), d.locate_key(path)
            out.append((str(d.parse_error) if d.parse_error else None, d.values, spans))
        finally:
            hcl.USE_TREE_SITTER = True
    return out


def _all_paths(value, prefix):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _all_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _all_paths(v, prefix + (i,))


def test_tree_sitter_reader_agrees_with_lark_on_tricky_expressions():
    pytest.importorskip("tree_sitter_hcl")
    fast, lark = _both_readers(TRICKY)
    assert fast[0] is None and lark[0] is None
    assert fast[1] == lark[1]
    assert fast[2] == lark[2]


def test_tree_sitter_reader_agrees_with_lark_on_every_fixture():
    import glob
    import os

    from conftest import FIXTURES
    from keyless.linter.documents import decode

    pytest.importorskip("tree_sitter_hcl")
    paths = [p for p in glob.glob(os.path.join(FIXTURES, "**", "*"), recursive=True)
             if p.endswith((".tf", ".tfvars", ".hcl"))]
    assert len(paths) > 20
    for path in paths:
        text, _ = decode(open(path, "rb").read())
        fast, lark = _both_readers(text, os.path.basename(path))
        assert fast == lark, path


def test_a_file_tree_sitter_cannot_read_goes_through_lark_for_the_error():
    fast, lark = _both_readers('resource "x" "y" {\n  a = "unterminated\n}\n')
    assert fast[0] == lark[0] and fast[0] is not None
