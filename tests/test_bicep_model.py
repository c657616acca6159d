"""The Bicep front end: a Bicep program read as the ARM template the compiler emits, modules
evaluated with their callers' values, parameter files as scenarios, Bicep-syntax messages and
fixes. (Fixtures in fixtures/KLxxx/*.bicep and project_bicep_* cover every rule end to end.)"""

from __future__ import annotations

import os

import pytest

from keyless.linter.config import Config
from keyless.linter.documents import make_document
from keyless.linter.engine import Settings, lint_paths, lint_source, resolve_selection
from keyless.linter.rule import load_registry
from keyless.linter.workspace import Workspace
from keyless.rules.iac.bicep import translate
from keyless.rules.iac.expr import UNKNOWN, Context


def view_of(text: str, relpath: str = "main.bicep", ws=None):
    doc = make_document(relpath, relpath, text)
    doc.workspace = ws
    doc.ensure_parsed()
    return translate(doc)


def lint_tree(tmp_path, files: dict[str, str], codes: str = "KL2,KL3,KL4,KL5"):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    registry = load_registry()
    settings = Settings(root=str(tmp_path), select=resolve_selection(registry, codes.split(",")))
    res = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), settings, excludes=[], jobs=1)
    # what the finding says: its message, then its help
    return sorted((f.path, f.span.start.line, f.code, f"{f.message} | {f.fix.message if f.fix else ''}")
                  for f in res.findings)


# ---- the ARM shape -------------------------------------------------------------------------------

SHAPE = """\
targetScope = 'resourceGroup'
@secure()
param password string
@allowed(['dev', 'prod'])
param env string = 'dev'
param tier 'Basic' | 'Standard' = 'Basic'
param names array = ['a', 'b']
var prefix = 'app-${env}'
resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: '${prefix}sa'
  location: resourceGroup().location
  resource blob 'blobServices' = {
    name: 'default'
  }
}
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv'
}
resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for n in names: if (env == 'prod') {
  name: guid(sa.id, n)
  scope: sa
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
    principalId: n
    description: kv.properties.vaultUri ?? sa.?tags
  }
}]
output key string = sa.listKeys().keys[0].value
output blob string = sa::blob.name
"""


def test_template_has_the_compilers_shape():
    t = view_of(SHAPE).values[0]
    assert "deploymentTemplate.json" in t["$schema"] and t["languageVersion"] == "2.0"
    params = t["parameters"]
    assert params["password"] == {"type": "securestring"}
    assert params["env"]["allowedValues"] == ["dev", "prod"] and params["env"]["defaultValue"] == "dev"
    assert params["tier"]["allowedValues"] == ["Basic", "Standard"]
    assert t["variables"]["prefix"] == "[format('app-{0}', parameters('env'))]"
    res = t["resources"]
    assert res["sa"]["type"] == "Microsoft.Storage/storageAccounts" and res["sa"]["apiVersion"] == "2023-01-01"
    assert res["sa::blob"]["type"] == "Microsoft.Storage/storageAccounts/blobServices"
    assert res["sa::blob"]["name"] == "[format('{0}/{1}', format('{0}sa', variables('prefix')), 'default')]"
    assert res["kv"]["existing"] is True
    roles = res["roles"]
    assert roles["copy"] == {"name": "roles", "count": "[length(parameters('names'))]"}
    assert roles["condition"] == "[equals(parameters('env'), 'prod')]"
    assert roles["scope"] == "[resourceId('Microsoft.Storage/storageAccounts', format('{0}sa', variables('prefix')))]"
    assert roles["properties"]["principalId"] == "[parameters('names')[copyIndex()]]"
    assert roles["properties"]["description"] == "[coalesce(reference('kv').vaultUri, tryGet(reference('sa', '2023-01-01', 'full'), 'tags'))]"
    assert t["outputs"]["key"]["value"] == "[listKeys('sa', '2023-01-01').keys[0].value]"
    assert t["outputs"]["blob"]["value"] == "['default']"


def test_the_arm_evaluator_reads_the_translation():
    t = view_of(SHAPE).values[0]
    ctx = Context({"env": "dev", "names": ["a", "b"], "password": UNKNOWN}, t["variables"])
    assert ctx.resolve(t["resources"]["sa"]["name"]) == "app-devsa"
    rid = ctx.resolve(t["resources"]["roles"]["properties"]["roleDefinitionId"])
    assert rid.endswith("/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert ctx.resolve(t["resources"]["roles"]["condition"]) is False
    assert ctx.resolve(t["resources"]["roles"]["properties"]["principalId"]) is UNKNOWN  # copyIndex()


def test_locate_answers_arm_paths_with_bicep_spans():
    v = view_of(SHAPE)
    assert v.locate((0, "resources", "roles", "properties", "roleDefinitionId")).start.line == 23
    assert v.locate_key((0, "parameters", "env")).start.line == 5
    assert v.locate((0, "resources", "sa", "type")).start.line == 9
    assert v.locate((0, "outputs", "key", "value")).start.line == 28
    assert v.locate((0, "resources", "nope")) is None


def test_subscription_scope_ids_and_module_targets():
    v = view_of("""\
targetScope = 'subscription'
resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg'
  location: 'westeurope'
}
module a './a.bicep' = {
  name: 'a'
  scope: rg
}
module b './b.bicep' = {
  name: 'b'
  scope: resourceGroup('other-sub', 'other-rg')
}
module c './c.bicep' = {
  name: 'c'
  scope: managementGroup('mg')
}
output id string = rg.id
""")
    t = v.values[0]
    assert "subscriptionDeploymentTemplate" in t["$schema"]
    assert t["resources"]["a"]["resourceGroup"] == "['rg']"
    assert t["resources"]["b"]["subscriptionId"] == "['other-sub']"
    assert t["resources"]["c"]["scope"] == "[format('Microsoft.Management/managementGroups/{0}', 'mg')]"
    assert t["outputs"]["id"]["value"] == "[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg')]"
    assert "template" not in t["resources"]["a"]["properties"]  # no workspace: the module is unknown


def test_unreadable_and_compile_time_values_stay_unknown():
    t = view_of("""\
var a = loadTextContent('x.txt')
var b = az.getSecret('s', 'r', 'n')
var c = imported.fn()
""").values[0]
    ctx = Context({}, t["variables"])
    assert ctx.variable("a") is UNKNOWN and ctx.variable("b") is UNKNOWN and ctx.variable("c") is UNKNOWN


# ---- modules -------------------------------------------------------------------------------------

ROLE_MODULE = """\
param principalId string
param roleDefinitionId string
resource role 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleDefinitionId)
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
  }
}
"""


def test_caller_decided_role_is_reported_once_at_the_callers_params_entry(tmp_path):
    found = lint_tree(tmp_path, {
        "infra/core/role.bicep": ROLE_MODULE,
        "infra/main.bicep": """\
module r 'core/role.bicep' = {
  name: 'r'
  params: {
    principalId: 'p'
    roleDefinitionId: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'
  }
}
""",
    }, "KL401")
    assert [(p, line, code) for p, line, code, _ in found] == [("infra/main.bicep", 5, "KL401")]
    msg = found[0][3]
    assert "'Owner'" in msg and "via module 'r'" in msg
    assert "module 'r' in infra/core/role.bicep, value passed for 'roleDefinitionId'" in msg


def test_module_cycles_and_missing_modules_are_bounded(tmp_path):
    found = lint_tree(tmp_path, {
        "a.bicep": "module b './b.bicep' = {\n  name: 'b'\n}\nmodule gone './missing.bicep' = {\n  name: 'g'\n}\n",
        "b.bicep": "module a './a.bicep' = {\n  name: 'a'\n}\n" + ROLE_MODULE.replace(
            "param roleDefinitionId string", "param roleDefinitionId string = 'b24988ac-6180-42a0-ab88-20f7382dd24c'"),
    }, "KL401")
    assert [(p, line, code) for p, line, code, _ in found] == [("b.bicep", 10, "KL401")]


def test_module_outside_the_repository_is_not_read(tmp_path):
    v = view_of("module m '../../etc/x.bicep' = {\n  name: 'm'\n}\n", "main.bicep", Workspace(str(tmp_path)))
    assert "template" not in v.values[0]["resources"]["m"]["properties"]


# ---- parameter files -----------------------------------------------------------------------------

ACR = """\
param admin bool = false
@secure()
param adminPassword string = ''
param apiKey string = ''
resource acr 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: 'acr'
  location: 'westeurope'
  properties: {
    adminUserEnabled: admin
  }
}
"""


def test_bicepparam_scenarios(tmp_path):
    found = lint_tree(tmp_path, {
        "main.bicep": ACR,
        "prod.bicepparam": "using './main.bicep'\nparam admin = true\n",
        "env.bicepparam": "using './main.bicep'\nparam admin = bool(readEnvironmentVariable('ADMIN', 'true'))\n",
        "other.bicepparam": "using './other.bicep'\nparam admin = true\n",
    }, "KL251")
    assert len(found) == 1 and found[0][:3] == ("main.bicep", 9, "KL251")
    assert "prod.bicepparam" in found[0][3] and "env.bicepparam" not in found[0][3]


def test_secure_and_secret_named_values_never_reach_evaluation(tmp_path):
    from keyless.rules.iac.bicepfacts import bicep_scenarios

    (tmp_path / "main.bicep").write_text(ACR)
    (tmp_path / "main.bicepparam").write_text(
        "using './main.bicep'\nparam admin = true\nparam adminPassword = 'S3cr3t-value!'\nparam apiKey = 'abcd1234efgh'\n")
    ws = Workspace(str(tmp_path))
    runs = bicep_scenarios(view_of(ACR, "main.bicep", ws))
    assert len(runs) == 1
    assert runs[0].values == {"admin": True, "adminpassword": UNKNOWN, "apikey": UNKNOWN}


def test_azd_parameters_json_placeholders_are_unknown(tmp_path):
    found = lint_tree(tmp_path, {
        "infra/main.bicep": ACR,
        "infra/main.parameters.json": '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
                                      'deploymentParameters.json#", "parameters": {"admin": {"value": "${ACR_ADMIN}"}}}',
    }, "KL251")
    assert found == []


# ---- Bicep syntax in messages and fixes ----------------------------------------------------------

WEB = """\
param name string
resource web 'Microsoft.Web/sites@2022-09-01' = {
  name: name
  location: resourceGroup().location
  properties: {}
}
"""


def test_messages_name_bicep_symbols_never_arm_expressions():
    findings = lint_source(WEB, "infra/web.bicep", select=["KL301"])
    assert len(findings) == 1
    msg = findings[0].message
    assert msg.startswith("web app `web` ") and "parameters(" not in msg and "[" not in msg


def test_identity_fix_is_bicep_and_leaves_a_file_without_the_finding():
    [finding] = lint_source(WEB, "infra/web.bicep", select=["KL301"])
    [edit] = finding.fix.edits
    assert "identity: {" in edit.content and "type: 'SystemAssigned'" in edit.content
    lines = WEB.split("\n")
    line = lines[edit.span.start.line - 1]
    col = edit.span.start.column - 1
    lines[edit.span.start.line - 1] = line[:col] + edit.content + line[col:]
    fixed = "\n".join(lines)
    doc = make_document("x.bicep", "x.bicep", fixed)
    doc.ensure_parsed()
    assert doc.parse_error is None
    assert lint_source(fixed, "infra/web.bicep", select=["KL301"]) == []


def test_broad_role_help_names_the_data_role_and_its_guid():
    text = ROLE_MODULE.replace("param roleDefinitionId string",
                               "param roleDefinitionId string = 'b24988ac-6180-42a0-ab88-20f7382dd24c'")
    [f] = lint_source(text, "role.bicep", select=["KL401"])
    assert "'Storage Blob Data Reader' is role 2a2b9908-6ea1-4ae2-8e65-a410df84e7d1" in f.fix.message
    assert "\n" not in f.fix.message


def test_one_guid_mistake_is_one_finding():
    text = """\
var cognitiveServicesUserRoleDefinitionId = resourceId('Microsoft.Authorization/roleDefinitions', '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd')
resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid('x')
  properties: {
    roleDefinitionId: cognitiveServicesUserRoleDefinitionId
    principalId: 'p'
  }
}
"""
    found = lint_source(text, "mi.bicep", select=["KL403"])
    assert [f.span.start.line for f in found] == [1]


@pytest.mark.parametrize("name", ["good.bicep"])
def test_registry_modules_stay_unknown(name):
    v = view_of("module m 'br/public:avm/res/x:1.0.0' = {\n  name: 'm'\n  params: { a: 1 }\n}\n", name,
                Workspace(os.getcwd()))
    props = v.values[0]["resources"]["m"]["properties"]
    assert props["parameters"] == {"a": {"value": 1}} and "template" not in props


# ---- what the ARM extractor learned for the compiled shape (ARM JSON benefits too) ----------------

def test_arm_nested_template_evaluates_expression_defaults():
    from keyless.rules.iac.arm import inner_context

    template = {"parameters": {"role": {"type": "string", "defaultValue": "[concat('b24988ac-6180-42a0', '-a0ab88-20f7382dd24c')]"},
                               "given": {"type": "string"}}}
    ctx = inner_context(template, {"given": {"value": "x"}}, Context().resolve)
    assert ctx.resolve("[parameters('role')]") == "b24988ac-6180-42a0-a0ab88-20f7382dd24c"
    assert ctx.resolve("[parameters('given')]") == "x"


def test_arm_property_copy_loop_makes_env_unknown():
    import json

    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"settings": {"type": "array"}},
        "resources": [{
            "type": "Microsoft.App/containerApps", "apiVersion": "2024-03-01", "name": "api",
            "identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {"[parameters('id')]": {}}},
            "properties": {"template": {"containers": [{"name": "api", "image": "x", "copy": [
                {"name": "env", "count": "[length(parameters('settings'))]",
                 "input": {"name": "[parameters('settings')[copyIndex('env')].name]"}}]}]}},
        }],
    }
    assert lint_source(json.dumps(template, indent=1), "app.json", select=["KL501"]) == []
    del template["resources"][0]["properties"]["template"]["containers"][0]["copy"]
    assert [f.code for f in lint_source(json.dumps(template, indent=1), "app.json", select=["KL501"])] == ["KL501"]


def test_expression_parse_cache_keeps_errors():
    from keyless.rules.iac.expr import ExprError, parse

    for _ in range(2):
        with pytest.raises(ExprError):
            parse("concat('a',")
    assert parse("concat('a', 'b')") is parse("concat('a', 'b')")


# ---- unreadable regions stay unknown ---------------------------------------------------------------

def test_unreadable_body_or_entry_is_unknown_not_absent():
    broken_body = ("resource st 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  identity: { type: = }\n"
                   "  properties: { allowSharedKeyAccess: true }\n")
    assert lint_source(broken_body, "bad.bicep", select=["KL260"]) == []
    broken_entry = """\
resource web 'Microsoft.Web/sites@2022-09-01' = {
  name: 'web'
  ]]] unreadable
  properties: {}
}
resource st 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: 'st'
  properties: {
    ]]] unreadable
  }
}
"""
    assert lint_source(broken_entry, "bad.bicep", select=["KL301", "KL260"]) == []
    readable = broken_entry.replace("  ]]] unreadable\n", "").replace("    ]]] unreadable\n", "")
    assert sorted(f.code for f in lint_source(readable, "ok.bicep", select=["KL301", "KL260"])) == ["KL260", "KL301"]


def test_module_with_params_we_cannot_read_is_unknown(tmp_path):
    """The module's default says Owner; its only caller passes values we cannot read (a variable):
    what is deployed is unknown, so neither the default nor a guess is reported."""
    owner_default = ROLE_MODULE.replace(
        "param roleDefinitionId string", "param roleDefinitionId string = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'")
    found = lint_tree(tmp_path, {
        "core/role.bicep": owner_default,
        "main.bicep": "var p = { roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7' }\n"
                      "module r 'core/role.bicep' = {\n  name: 'r'\n  params: p\n}\n",
    }, "KL401")
    assert found == []
    # Deployed by nobody in the repository, the module is linted with its defaults.
    (tmp_path / "main.bicep").unlink()
    found = lint_tree(tmp_path, {"core/role.bicep": owner_default}, "KL401")
    assert [(p, code) for p, _, code, _ in found] == [("core/role.bicep", "KL401")]


def test_a_modules_declaration_checks_stay_its_own_when_callers_deploy_it(tmp_path):
    # Callers do not walk a module's parameter/output checks again (they read no value passed):
    # the module's KL257/KL258 are still reported once, in the module, and never in a caller.
    module = """\
@secure()
param adminPassword string = 'not-a-real-default-1'
resource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: 'sa${uniqueString(resourceGroup().id)}'
}
output key string = sa.listKeys().keys[0].value
"""
    found = lint_tree(tmp_path, {
        "infra/core/storage.bicep": module,
        "infra/main.bicep": "module s 'core/storage.bicep' = {\n  name: 's'\n  params: {\n    adminPassword: 'x'\n  }\n}\n"
                            "module t 'core/storage.bicep' = {\n  name: 't'\n}\n",
    }, "KL257,KL258")
    assert [(p, line, code) for p, line, code, _ in found] == [
        ("infra/core/storage.bicep", 2, "KL257"), ("infra/core/storage.bicep", 6, "KL258")]
