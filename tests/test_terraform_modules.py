"""Terraform modules are directories: `var.*` / `local.*` resolved across a module's files
(keyless/rules/iac/tfmodule.py), the cache dependencies that brings, and that resolved values
never reach an artifact."""

from __future__ import annotations

import json
import os

import pytest

import keygen
from conftest import write
from keyless.linter.documents import make_document
from keyless.linter.workspace import Workspace
from keyless.rules.iac.common import Ref
from keyless.rules.iac.tfmodule import (
    MAX_DEPTH,
    ModuleValues,
    Opaque,
    TemplateRef,
    hcl_string,
    origin_note,
    split_template,
    traversal,
)


# ---- strings and expressions ----------------------------------------------------------------------

@pytest.mark.parametrize("text,want,kind", [
    ("plain", "plain", str),
    ("${var.x}", "var.x", Ref),
    ("${ var.x }", "var.x", Ref),
    ("${a}-${b}", "${a}-${b}", TemplateRef),
    ("pre-${var.x}", "pre-${var.x}", TemplateRef),
    ("$${not.interpolated}", "${not.interpolated}", str),
    ('${lookup(var.m, "${var.k}")}', 'lookup(var.m, "${var.k}")', Ref),
    ("%{ if var.x }a%{ endif }", "%{ if var.x }a%{ endif }", TemplateRef),
    ("${unbalanced", "${unbalanced", TemplateRef),
])
def test_hcl_string_tells_literals_expressions_and_templates_apart(text, want, kind):
    value = hcl_string(text)
    assert value == want and type(value) is kind


def test_split_template_keeps_nested_strings_and_braces_inside_one_interpolation():
    assert split_template('a-${merge({x = "}"}, var.m)["x"]}-b') == [
        (False, "a-"), (True, 'merge({x = "}"}, var.m)["x"]'), (False, "-b")]


@pytest.mark.parametrize("expr,want", [
    ('var.m["a"][0].b', ("var", ["m", "a", 0, "b"])),
    ("var.list.0", ("var", ["list", 0])),
    ("local.ids[*]", ("local", ["ids", "*"])),
    ("azurerm_user_assigned_identity.app.id", ("azurerm_user_assigned_identity", ["app", "id"])),
    ("lower(var.x)", None),
    ("var.a ? var.b : var.c", None),
    ("var.a + 1", None),
])
def test_traversal(expr, want):
    assert traversal(expr) == want


def test_origin_note():
    assert origin_note(set()) == ""
    assert origin_note({"the default of var.role"}) == " (from the default of var.role)"
    assert origin_note({"the default of var.b", "the default of var.a", "terraform.tfvars"}) == \
        " (from the defaults of var.a and var.b and terraform.tfvars)"


# ---- module values ------------------------------------------------------------------------------------

def module(tmp_path, files: dict[str, str], main: str = "infra/main.tf") -> ModuleValues:
    """The module of `main`, with companions read from disk (editor mode)."""
    for rel, text in files.items():
        write(tmp_path, rel, text)
    ws = Workspace(str(tmp_path))
    text = files.get(main, "")
    doc = make_document(os.path.join(str(tmp_path), main), main, text)
    doc.workspace = ws
    assert doc.ensure_parsed(), doc.parse_error
    return ModuleValues(doc, doc.values[0])


def value(mod: ModuleValues, ref: str, **kw):
    return mod.resolve(hcl_string(ref), **kw)


VARIABLES = """
variable "role" { default = "Contributor" }
variable "prefix" { default = "demo" }
variable "count_of" { default = 2 }
variable "flag" { default = true }
variable "settings" {
  default = {
    role = "Owner"
    ids  = ["a", "b"]
  }
}
variable "required" { type = string }
variable "optional" { default = null }
variable "empty" { default = "" }
variable "secret" {
  default   = "Owner"
  sensitive = true
}
variable "admin_password" { default = "Owner" }
variable "placeholder" { default = "<your role here>" }
variable "token" { default = "#{ROLE}#" }
variable "conn" { default = "AccountName=a;AccountKey=abc" }
variable "holes" {
  default = { nothing = null }
}
"""


def test_variable_defaults_and_what_stays_unknown(tmp_path):
    mod = module(tmp_path, {"infra/variables.tf": VARIABLES})
    assert value(mod, "${var.role}") == ("Contributor", {"the default of var.role"})
    assert value(mod, "${var.count_of}")[0] == 2
    assert value(mod, "${var.flag}")[0] is True
    assert value(mod, '${var.settings["role"]}')[0] == "Owner"
    assert value(mod, "${var.settings.ids[1]}")[0] == "b"
    for unknown in ("${var.required}", "${var.optional}", "${var.empty}", "${var.secret}", "${var.admin_password}",
                    "${var.placeholder}", "${var.token}", "${var.conn}", "${var.holes.nothing}", "${var.undeclared}",
                    "${var.settings.missing}", "${var.settings.ids[5]}", "${var.settings.ids[*]}"):
        v, origins = value(mod, unknown)
        assert isinstance(v, Opaque) and not origins, unknown


def test_templates_resolve_when_every_part_is_literal(tmp_path):
    mod = module(tmp_path, {"infra/variables.tf": VARIABLES})
    assert value(mod, "${var.prefix}-${var.count_of}-${var.flag}") == ("demo-2-true", {"the default of var.prefix",
                                                                                   "the default of var.count_of",
                                                                                   "the default of var.flag"})
    partly, _ = value(mod, "/rg/${var.prefix}/${azurerm_resource_group.x.name}/${var.required}")
    assert isinstance(partly, TemplateRef)
    assert partly == "/rg/demo/${azurerm_resource_group.x.name}/${var.required}"


def test_tfvars_precedence(tmp_path):
    mod = module(tmp_path, {
        "infra/variables.tf": 'variable "a" { default = "default" }\nvariable "b" {}\nvariable "c" {}\n'
                              'variable "d" {}\nvariable "e" { default = "x" }\n',
        "infra/terraform.tfvars": 'a = "tfvars"\nb = "tfvars"\nc = "tfvars"\nd = "tfvars"\n',
        "infra/terraform.tfvars.json": json.dumps({"b": "tfvars.json", "c": "tfvars.json", "d": "tfvars.json"}),
        "infra/x.auto.tfvars": 'c = "x.auto"\nd = "x.auto"\n',
        "infra/y.auto.tfvars.json": json.dumps({"d": "y.auto", "e": "${NOT_A_LITERAL}"}),
    })
    assert value(mod, "${var.a}") == ("tfvars", {"terraform.tfvars"})
    assert value(mod, "${var.b}") == ("tfvars.json", {"terraform.tfvars.json"})
    assert value(mod, "${var.c}") == ("x.auto", {"x.auto.tfvars"})
    assert value(mod, "${var.d}") == ("y.auto", {"y.auto.tfvars.json"})
    assert isinstance(value(mod, "${var.e}")[0], Opaque)


def test_named_var_files_are_scenarios_that_must_agree(tmp_path):
    mod = module(tmp_path, {
        "infra/variables.tf": 'variable "same" { default = "Owner" }\nvariable "differs" { default = "Owner" }\n'
                              'variable "only_there" {}\n',
        "infra/prod.tfvars": 'same = "Owner"\ndiffers = "Reader"\nonly_there = "Owner"\n',
        "infra/dev.tfvars.json": json.dumps({"same": "Owner"}),
    })
    assert value(mod, "${var.same}")[0] == "Owner"
    assert isinstance(value(mod, "${var.differs}")[0], Opaque)
    assert isinstance(value(mod, "${var.only_there}")[0], Opaque)  # other deployments pass -var


def test_locals_references_and_their_limits(tmp_path):
    chain = "\n".join(f"  c{i} = local.c{i + 1}" for i in range(MAX_DEPTH + 2)) + f'\n  c{MAX_DEPTH + 2} = "end"\n'
    mod = module(tmp_path, {
        "infra/variables.tf": VARIABLES,
        "infra/locals.tf": "locals {\n"
                           "  role     = var.role\n"
                           "  uami     = azurerm_user_assigned_identity.app\n"
                           "  ids      = [azurerm_user_assigned_identity.a.id, local.uami.id, var.required]\n"
                           '  name     = "${var.prefix}-${local.suffix}"\n'
                           '  suffix   = "api"\n'
                           "  computed = lower(var.role)\n"
                           "  a        = local.b\n"
                           "  b        = local.a\n"
                           "  nested   = { inner = { role = local.role } }\n"
                           "}\n"
                           f"locals {{\n{chain}}}\n",
    })
    assert value(mod, "${local.role}") == ("Contributor", {"the default of var.role"})
    assert value(mod, "${local.uami.id}")[0] == "azurerm_user_assigned_identity.app.id"
    ids, _ = value(mod, "${local.ids}")
    assert ids == ["azurerm_user_assigned_identity.a.id", "azurerm_user_assigned_identity.app.id", "var.required"]
    assert isinstance(ids[2], Opaque) and isinstance(ids[0], Ref)
    assert value(mod, "${local.name}")[0] == "demo-api"
    assert value(mod, "${local.nested.inner.role}")[0] == "Contributor"
    for unknown in ("${local.computed}", "${local.a}", "${local.c0}", "${local.missing}"):
        assert isinstance(value(mod, unknown)[0], Opaque), unknown  # c0: past the depth limit...
    assert value(mod, "${local.c3}")[0] == "end"  # ...which is not remembered for the chain's middle


def test_resolving_without_variables_keeps_only_what_code_fixes(tmp_path):
    mod = module(tmp_path, {"infra/variables.tf": VARIABLES,
                            "infra/locals.tf": 'locals {\n  scope = "/subscriptions/${var.prefix}"\n}\n'})
    assert value(mod, "${local.scope}") == ("/subscriptions/demo", {"the default of var.prefix"})
    assert value(mod, "${local.scope}", use_variables=False) == ("/subscriptions/${var.prefix}", set())


def test_declarations_in_the_file_itself_and_only_in_its_directory(tmp_path):
    main = 'variable "own" { default = "Owner" }\nlocals {\n  mine = var.own\n}\n'
    mod = module(tmp_path, {"infra/main.tf": main, "other/variables.tf": VARIABLES,
                            "infra/sub/variables.tf": VARIABLES})
    assert value(mod, "${local.mine}")[0] == "Owner"
    assert isinstance(value(mod, "${var.role}")[0], Opaque)


def test_a_declaration_twice_or_in_an_unparsable_file_is_unknown(tmp_path):
    mod = module(tmp_path, {
        "infra/variables.tf": 'variable "twice" { default = "Owner" }\nvariable "fine" { default = "Owner" }\n',
        "infra/override.tf": 'variable "twice" { default = "Reader" }\n',
        "infra/broken.tf": 'variable "broken" {\n  default = "Owner"\n',
    })
    assert value(mod, "${var.fine}")[0] == "Owner"
    assert isinstance(value(mod, "${var.twice}")[0], Opaque)
    assert isinstance(value(mod, "${var.broken}")[0], Opaque)


def test_tf_json_modules(tmp_path):
    mod = module(tmp_path, {
        "infra/variables.tf.json": json.dumps({"variable": {"role": {"default": "Owner"}}}),
        "infra/locals.tf.json": json.dumps({"locals": {"role_ref": "${var.role}"}}),
    })
    assert value(mod, "${local.role_ref}") == ("Owner", {"the default of var.role"})


# ---- through the CLI: messages, cache dependencies, secrets -------------------------------------------

ROLE_ASSIGNMENT = """data "azurerm_subscription" "current" {}

resource "azurerm_role_assignment" "app" {
  scope                = data.azurerm_subscription.current.id
  role_definition_name = var.role
  principal_id         = azurerm_user_assigned_identity.app.principal_id
}
"""


def findings(run_cli, *args):
    rc, out, err = run_cli("check", ".", "--select", "KL401", "--output-format", "json", *args)
    assert rc in (0, 1), err
    # the message says what and where; where the role came from is in the help
    return [(f["path"], f["location"]["line"], f"{f['message']} | {f['fix']['message']}")
            for f in json.loads(out)["findings"]]


def test_cached_results_follow_the_module_s_other_files(run_cli, tmp_path):
    write(tmp_path, "infra/main.tf", ROLE_ASSIGNMENT)
    write(tmp_path, "infra/variables.tf", 'variable "role" {\n  default = "Reader"\n}\n')
    cache = str(tmp_path / ".cache")
    assert findings(run_cli, "--cache-dir", cache) == []
    assert findings(run_cli, "--cache-dir", cache) == []
    write(tmp_path, "infra/variables.tf", 'variable "role" {\n  default = "Contributor"\n}\n')
    [(path, line, message)] = findings(run_cli, "--cache-dir", cache)
    assert (path, line) == ("infra/main.tf", 5) and "role: from the default of var.role" in message
    assert findings(run_cli, "--cache-dir", cache) == [(path, line, message)]
    write(tmp_path, "infra/terraform.tfvars", 'role = "Owner"\n')  # a new file in the directory
    [(_, _, message)] = findings(run_cli, "--cache-dir", cache)
    assert "'Owner'" in message and "role: from terraform.tfvars" in message
    write(tmp_path, "infra/terraform.tfvars", 'role = "Reader"\n')
    assert findings(run_cli, "--cache-dir", cache) == []
    os.remove(tmp_path / "infra" / "terraform.tfvars")
    assert len(findings(run_cli, "--cache-dir", cache)) == 1


def test_resolved_values_never_reach_an_artifact(run_cli, tmp_path):
    secret = keygen.aad_secret(seed="tf-module-leak")
    password = "Zq7!" + keygen.password(seed="tf-module-leak")
    repo = tmp_path / "repo"
    write(repo, "infra/variables.tf",
          'variable "client_secret" {\n  type = string\n}\n'
          'variable "db_password" {\n  type      = string\n  sensitive = true\n}\n'
          'variable "identity_type" {\n  default = "None"\n}\n')
    write(repo, "infra/terraform.tfvars", f'client_secret = "{secret}"\ndb_password = "{password}"\n')
    write(repo, "infra/main.tf",
          'resource "azurerm_linux_web_app" "web" {\n  name = "leak-web"\n'
          "  app_settings = {\n    AZURE_CLIENT_SECRET = var.client_secret\n    DB_PASSWORD = var.db_password\n"
          "    PLAIN = var.client_secret\n  }\n"
          "  identity {\n    type = var.identity_type\n  }\n}\n")
    cache = tmp_path / "cache"
    rc, out, err = run_cli("check", ".", "--output-format", "json", "--cache-dir", str(cache), cwd=repo)
    codes = {f["code"] for f in json.loads(out)["findings"]}
    assert {"KL259", "KL301"} <= codes, out
    texts = [out, err]
    for root, _, files in os.walk(cache):
        texts += [open(os.path.join(root, n), encoding="utf-8", errors="replace").read() for n in files]
    assert len(texts) > 2, "the cache was not written"
    for s in (secret, password):
        pieces = {s[i:i + 8] for i in range(len(s) - 7)}
        assert not any(p in t for t in texts for p in pieces)


def test_role_data_source_in_another_file_is_read_and_a_cache_dependency(run_cli, tmp_path):
    write(tmp_path, "infra/main.tf", 'data "azurerm_subscription" "current" {}\n\n'
          'resource "azurerm_role_assignment" "app" {\n  scope              = data.azurerm_subscription.current.id\n'
          '  role_definition_id = data.azurerm_role_definition.picked.id\n  principal_id       = "p"\n}\n')
    write(tmp_path, "infra/roles.tf", 'data "azurerm_role_definition" "picked" {\n  name = "Reader"\n}\n')
    cache = str(tmp_path / ".cache")
    assert findings(run_cli, "--cache-dir", cache) == []
    write(tmp_path, "infra/roles.tf", 'data "azurerm_role_definition" "picked" {\n  name = "Contributor"\n}\n')
    [(path, line, message)] = findings(run_cli, "--cache-dir", cache)
    assert (path, line) == ("infra/main.tf", 5)
    assert "the role of data.azurerm_role_definition.picked in roles.tf" in message
    write(tmp_path, "infra/other.tf", 'data "azurerm_role_definition" "picked" {\n  name = "Reader"\n}\n')
    assert findings(run_cli, "--cache-dir", cache) == []  # declared twice: unknown


# ---- local module calls followed (keyless/rules/iac/tfcalls.py) ------------------------------------------

STORAGE_MODULE = ('variable "keys" {\n  type    = bool\n  default = %s\n}\n\n'
                  'resource "azurerm_storage_account" "sa" {\n  name = "st"\n'
                  '  shared_access_key_enabled = var.keys\n}\n')


def module_findings(run_cli, *args, select="KL260"):
    rc, out, err = run_cli("check", ".", "--select", select, "--output-format", "json", *args)
    assert rc in (0, 1), err
    return sorted((f["path"], f["location"]["line"]) for f in json.loads(out)["findings"])


def test_the_caller_s_value_decides_and_is_reported_at_its_argument(run_cli, tmp_path):
    write(tmp_path, "infra/modules/st/main.tf", STORAGE_MODULE % "false")
    write(tmp_path, "infra/main.tf", 'module "a" {\n  source = "./modules/st"\n  keys   = true\n}\n'
          'module "b" {\n  source = "./modules/st"\n  keys   = false\n}\n'
          'module "c" {\n  source = "git::https://example.com/st.git"\n  keys   = true\n}\n')
    cache = str(tmp_path / ".cache")
    assert module_findings(run_cli, "--cache-dir", cache) == [("infra/main.tf", 3)]
    # the module's default changes: a cache dependency of the caller, and of the module itself
    write(tmp_path, "infra/modules/st/main.tf", STORAGE_MODULE % "true")
    assert module_findings(run_cli, "--cache-dir", cache) == [("infra/modules/st/main.tf", 8)]
    # every call passes false: the default describes no deployment of this repository
    write(tmp_path, "infra/main.tf", 'module "b" {\n  source = "./modules/st"\n  keys   = false\n}\n')
    assert module_findings(run_cli, "--cache-dir", cache) == []


def test_module_calls_stop_at_cycles_and_depth(run_cli, tmp_path):
    # a -> b -> a: the cycle is cut; each module alone still says what its defaults do
    write(tmp_path, "a/main.tf", 'module "b" {\n  source = "../b"\n  keys = true\n}\n' + STORAGE_MODULE % "false")
    write(tmp_path, "b/main.tf", 'module "a" {\n  source = "../a"\n  keys = true\n}\n' + STORAGE_MODULE % "false")
    assert module_findings(run_cli, "--no-cache") == [("a/main.tf", 3), ("b/main.tf", 3)]
    # a chain deeper than MAX_DEPTH: the value passed at the top does not reach the bottom
    from keyless.rules.iac.tfcalls import MAX_DEPTH as CALLS_DEPTH

    depth = CALLS_DEPTH + 2
    for i in range(depth):
        write(tmp_path, f"chain/m{i}/main.tf", f'variable "keys" {{\n  default = false\n}}\n'
              f'module "next" {{\n  source = "../m{i + 1}"\n  keys   = var.keys\n}}\n')
    write(tmp_path, f"chain/m{depth}/main.tf", STORAGE_MODULE % "false")
    write(tmp_path, "chain/root/main.tf", 'module "top" {\n  source = "../m0"\n  keys   = true\n}\n')
    assert [p for p, _ in module_findings(run_cli, "--no-cache") if p.startswith("chain/")] == []
    write(tmp_path, f"chain/m{CALLS_DEPTH - 1}/main.tf", 'module "next" {\n  source = "../m%d"\n  keys   = true\n}\n'
          % depth)  # close enough to the bottom: reported at the last caller followed
    found = [p for p, _ in module_findings(run_cli, "--no-cache") if p.startswith("chain/")]
    assert found == [f"chain/m{CALLS_DEPTH - 1}/main.tf"]


def test_a_secret_passed_to_a_module_never_reaches_an_artifact(run_cli, tmp_path):
    secret = keygen.aad_secret(seed="tf-module-call-leak")
    write(tmp_path, "infra/modules/app/main.tf",
          'variable "client_secret" {\n  type = string\n}\nvariable "plain" {\n  type = string\n}\n'
          'resource "azurerm_linux_web_app" "web" {\n  name = "web"\n'
          '  app_settings = {\n    AZURE_CLIENT_SECRET = var.client_secret\n    OTHER = var.plain\n  }\n}\n')
    write(tmp_path, "infra/main.tf", f'module "app" {{\n  source        = "./modules/app"\n'
          f'  client_secret = "{secret}"\n  plain         = "{secret}"\n}}\n')
    cache = tmp_path / "cache"
    rc, out, err = run_cli("check", ".", "--output-format", "json", "--cache-dir", str(cache))
    texts = [out, err]
    for root, _, files in os.walk(cache):
        texts += [open(os.path.join(root, n), encoding="utf-8", errors="replace").read() for n in files]
    assert len(texts) > 2, "the cache was not written"
    pieces = {secret[i:i + 8] for i in range(len(secret) - 7)}
    assert not any(p in t for t in texts for p in pieces)


def test_a_module_tree_wider_than_a_few_dozen_files_is_parsed_once(run_cli, tmp_path, monkeypatch):
    """Callers walk the same module files again and again (once per call): the workspace must hold
    them all, or a tree wider than its document cap is parsed anew for every caller (a real AVM
    module with 30 example callers and ~100 module files took 100 s instead of 4 s)."""
    from keyless.linter.documents.hcl import HclDocument

    for i in range(70):
        write(tmp_path, f"modules/st/v{i}.tf", f'variable "v{i}" {{\n  default = "x"\n}}\n')
    write(tmp_path, "modules/st/main.tf", STORAGE_MODULE % "false")
    for i in range(4):
        write(tmp_path, f"examples/e{i}/main.tf", 'module "st" {\n  source = "../../modules/st"\n  keys   = true\n}\n')
    parsed: dict[str, int] = {}
    real = HclDocument._parse

    def counting(self):
        parsed[self.relpath] = parsed.get(self.relpath, 0) + 1
        return real(self)

    monkeypatch.setattr(HclDocument, "_parse", counting)
    assert module_findings(run_cli, "--no-cache", "--jobs", "1") == [(f"examples/e{i}/main.tf", 3) for i in range(4)]
    assert max(parsed.values()) <= 2, sorted(parsed.items(), key=lambda kv: -kv[1])[:3]
