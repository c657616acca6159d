"""Resources that still accept keys (KL251, KL260-KL272, KL404): one checker over every format,
severity and message from the repository's code, defaults by API version, fixes per document kind."""

from __future__ import annotations

import json
import os

import pytest

from conftest import write
from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, lint_source, resolve_selection
from keyless.linter.finding import Severity
from keyless.linter.rule import load_registry


def run(root, select):
    reg = load_registry()
    st = Settings(root=str(root), select=resolve_selection(reg, select))
    return lint_paths([str(root)], Config(root=str(root)), st, excludes=[], jobs=1).findings


STORAGE_TF = '''
resource "azurerm_storage_account" "sa" {
  name                     = "ordersdata"
  resource_group_name      = "rg"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}
'''

KEY_USER = '''
import os
from azure.storage.blob import BlobServiceClient

client = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
'''

TOKEN_USER = '''
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient

client = BlobServiceClient("https://ordersdata.blob.core.windows.net", credential=DefaultAzureCredential())
client.get_container_client("x").upload_blob("a", b"b")
'''


def test_key_user_in_the_repository_makes_it_high_and_names_the_line(tmp_path):
    write(tmp_path, "infra/main.tf", STORAGE_TF)
    write(tmp_path, "app/x.py", KEY_USER)
    (f,) = run(tmp_path, ["KL260"])
    assert f.severity is Severity.HIGH
    assert "shared_access_key_enabled not set" in f.message
    assert "app/x.py:5 uses the account key" in f.message
    assert "(app/x.py:5, KL201)" in f.fix.message and "safe once" not in f.fix.message


def test_identity_only_clients_make_it_medium_and_safe_to_flip(tmp_path):
    write(tmp_path, "infra/main.tf", STORAGE_TF)
    write(tmp_path, "app/x.py", TOKEN_USER)
    (f,) = run(tmp_path, ["KL260"])
    assert f.severity is Severity.MEDIUM
    assert "safe once the identity-based clients (app/x.py:5) hold" in f.fix.message
    assert "'Storage Blob Data Contributor" in f.fix.message and "app/x.py" not in f.message


def test_no_code_keeps_the_rule_default(tmp_path):
    write(tmp_path, "infra/main.tf", STORAGE_TF)
    (f,) = run(tmp_path, ["KL260"])
    assert f.severity is Severity.MEDIUM and "flipped safely" not in f.message and "uses" not in f.message


def test_other_services_code_does_not_count(tmp_path):
    write(tmp_path, "infra/main.tf", STORAGE_TF)
    write(tmp_path, "app/x.py", "from azure.servicebus import ServiceBusClient\n"
                                "c = ServiceBusClient.from_connection_string(conn_str)\n")
    (f,) = run(tmp_path, ["KL260"])
    assert f.severity is Severity.MEDIUM and "uses" not in f.message


def kv(api: str, props: str = "{}") -> str:
    return ('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",\n'
            ' "resources": [\n  {"type": "Microsoft.KeyVault/vaults", "apiVersion": "%s", "name": "kv",\n'
            '   "properties": %s}\n ]}\n' % (api, props))


@pytest.mark.parametrize("api,flagged", [("2019-09-01", True), ("2023-07-01", True), ("2025-05-01-preview", True),
                                         ("2026-02-01", False), ("2026-02-01-preview", False), ("2027-01-01", False)])
def test_key_vault_default_follows_the_api_version(api, flagged):
    found = lint_source(kv(api), "kv.json", select=["KL404"])
    assert bool(found) is flagged


def test_key_vault_unknown_api_version_stays_unknown():
    assert lint_source(kv("[parameters('api')]"), "kv.json", select=["KL404"]) == []


def test_key_vault_access_policies_are_broad_role_and_counted():
    (f,) = lint_source(kv("2023-07-01", '{"enableRbacAuthorization": false, "accessPolicies": [{}, {}]}'),
                       "kv.json", select=["KL404"])
    assert f.category.value == "broad-role" and "; 2 policies here)" in f.message


@pytest.mark.parametrize("attr,value,flagged", [
    ("local_authentication_enabled", "true", True), ("local_authentication_enabled", "false", False),
    ("local_authentication_disabled", "false", True), ("local_authentication_disabled", "true", False),
])
def test_azurerm_4x_and_5x_spellings(attr, value, flagged):
    tf = f'resource "azurerm_cosmosdb_account" "db" {{\n  name = "db"\n  {attr} = {value}\n}}\n'
    assert bool(lint_source(tf, "main.tf", select=["KL261"])) is flagged


def test_cosmos_non_sql_api_is_left_alone():
    tf = ('resource "azurerm_cosmosdb_account" "db" {\n  name = "db"\n  kind = "MongoDB"\n}\n'
          'resource "azurerm_cosmosdb_account" "t" {\n  name = "t"\n  capabilities {\n    name = "EnableTable"\n  }\n}\n')
    assert lint_source(tf, "main.tf", select=["KL261"]) == []


def test_dynamic_block_is_unknown():
    tf = ('variable "x" {}\nresource "azurerm_mssql_server" "s" {\n  name = "s"\n'
          '  dynamic "azuread_administrator" {\n    for_each = var.x\n    content {\n'
          '      azuread_authentication_only = true\n    }\n  }\n}\n')
    assert lint_source(tf, "main.tf", select=["KL270"]) == []


def test_sql_literal_password_is_mentioned_never_printed():
    tmpl = ('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",\n'
            ' "resources": [{"type": "Microsoft.Sql/servers", "apiVersion": "2023-08-01-preview", "name": "s",\n'
            '   "properties": {"administratorLogin": "admin", "administratorLoginPassword": "Zq9!hunter2-longpass"}}]}\n')
    (f,) = lint_source(tmpl, "sql.json", select=["KL270"])
    assert "; password in the file)" in f.message
    assert "hunter2" not in f.message and "hunter2" not in (f.fix.message if f.fix else "")


def test_azapi_update_resource_without_the_property_says_nothing():
    tf = ('resource "azapi_update_resource" "sa" {\n  type = "Microsoft.Storage/storageAccounts@2023-05-01"\n'
          '  resource_id = azurerm_storage_account.sa.id\n  body = {\n    properties = {\n      minimumTlsVersion = "TLS1_2"\n'
          '    }\n  }\n}\n')
    assert lint_source(tf, "main.tf", select=["KL260"]) == []
    flipped = tf.replace('minimumTlsVersion = "TLS1_2"', "allowSharedKeyAccess = true")
    (f,) = lint_source(flipped, "main.tf", select=["KL260"])
    assert f.span.start.line == 6


def test_azapi_jsonencode_body_is_read_but_never_edited():
    tf = ('resource "azapi_resource" "sa" {\n  type = "Microsoft.Storage/storageAccounts@2023-05-01"\n'
          '  body = jsonencode({ properties = { allowSharedKeyAccess = true } })\n}\n')
    (f,) = lint_source(tf, "main.tf", select=["KL260"])
    assert f.span.start.line == 3 and f.fix.applicability.value == "display-only" and not f.fix.edits


def edits(found):
    (f,) = found
    return f.fix.applicability.value, [(e.span.start.line, e.span.start.column, e.content) for e in f.fix.edits]


def test_fix_replaces_a_literal_in_each_kind():
    arm = kv("2023-07-01", '{\n    "enableRbacAuthorization": false\n   }')
    assert edits(lint_source(arm, "kv.json", select=["KL404"])) == ("unsafe", [(5, 32, "true")])
    tf = 'resource "azurerm_key_vault" "kv" {\n  name = "kv"\n  rbac_authorization_enabled = false\n}\n'
    assert edits(lint_source(tf, "main.tf", select=["KL404"])) == ("unsafe", [(3, 32, "true")])


def test_fix_inserts_a_missing_setting_per_kind():
    arm = kv("2023-07-01", '{\n     "sku": {"family": "A", "name": "standard"}\n   }')
    assert edits(lint_source(arm, "kv.json", select=["KL404"])) == (
        "unsafe", [(4, 19, '\n     "enableRbacAuthorization": true,')])
    tf = 'resource "azurerm_storage_account" "sa" {\n  name = "sa"\n}\n'
    assert edits(lint_source(tf, "main.tf", select=["KL260"])) == (
        "unsafe", [(3, 1, "  shared_access_key_enabled = false\n")])
    azapi = ('resource "azapi_resource" "sa" {\n  type = "Microsoft.Storage/storageAccounts@2023-05-01"\n'
             '  body = {\n    properties = {\n      minimumTlsVersion = "TLS1_2"\n    }\n  }\n}\n')
    assert edits(lint_source(azapi, "main.tf", select=["KL260"])) == (
        "unsafe", [(6, 1, "      allowSharedKeyAccess = false\n")])


def test_fix_is_display_only_where_a_parameter_decides():
    arm = kv("2023-07-01", '{"enableRbacAuthorization": "[parameters(\'rbac\')]"}').replace(
        '"resources"', '"parameters": {"rbac": {"type": "bool", "defaultValue": false}},\n "resources"')
    applicability, found_edits = edits(lint_source(arm, "kv.json", select=["KL404"]))
    assert applicability == "display-only" and found_edits == []


def test_a_missing_terraform_block_is_described_not_written():
    tf = 'resource "azurerm_mssql_server" "s" {\n  name = "s"\n}\n'
    (f,) = lint_source(tf, "main.tf", select=["KL270"])
    assert f.fix.applicability.value == "display-only"
    assert "azuread_administrator { azuread_authentication_only = true }" in f.fix.message


def test_applied_fix_parses_and_clears_the_finding(tmp_path):
    from keyless.linter.documents import make_document

    tf = ('resource "azapi_resource" "sa" {\n  type = "Microsoft.Storage/storageAccounts@2023-05-01"\n'
          '  body = {\n    properties = {\n      minimumTlsVersion = "TLS1_2"\n    }\n  }\n}\n')
    (f,) = lint_source(tf, "main.tf", select=["KL260"])
    (e,) = f.fix.edits
    lines = tf.split("\n")
    line = lines[e.span.start.line - 1]
    lines[e.span.start.line - 1] = line[: e.span.start.column - 1] + e.content + line[e.span.start.column - 1:]
    fixed = "\n".join(lines)
    assert make_document(str(tmp_path / "main.tf"), "main.tf", fixed).ensure_parsed()
    assert lint_source(fixed, "main.tf", select=["KL260"]) == []


def test_parameter_file_note_stays_last(tmp_path):
    write(tmp_path, "st/main.json", json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"sharedKey": {"type": "bool", "defaultValue": False}},
        "resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": "st",
                       "properties": {"allowSharedKeyAccess": "[parameters('sharedKey')]"}}]}, indent=1))
    write(tmp_path, "st/main.parameters.json", json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "parameters": {"sharedKey": {"value": True}}}))
    write(tmp_path, "app/x.py", KEY_USER)
    (f,) = run(tmp_path, ["KL260"])
    assert "(allowSharedKeyAccess: true, with main.parameters.json)" in f.message
    assert f.message.endswith(("x.py:5 uses the account key", "x.py:5 uses a key"))
    assert "(app/x.py:5, KL201)" in f.fix.message


def test_rules_are_selectable_per_service_family():
    tf = STORAGE_TF + 'resource "azurerm_servicebus_namespace" "sb" {\n  name = "sb"\n}\n'
    assert {f.code for f in lint_source(tf, "main.tf", select=["KL2"])} >= {"KL260", "KL262"}
    assert {f.code for f in lint_source(tf, "main.tf", select=["service-bus-local-auth"])} == {"KL262"}


def bicep_compiled(props: str) -> str:
    return ('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",\n'
            ' "parameters": {"allowSharedKeyAccess": {"type": "bool", "defaultValue": true}, "extra": {"type": "object"}},\n'
            ' "resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": "st",\n'
            '   "properties": "%s"}]}\n' % props)


@pytest.mark.parametrize("props,flagged", [
    # AVM-style: one member of a merged object, the other arguments cannot set it
    ("[shallowMerge(createArray(createObject('allowSharedKeyAccess', parameters('allowSharedKeyAccess'), "
     "'minimumTlsVersion', 'TLS1_2'), if(true(), createObject('isHnsEnabled', true()), createObject())))]", True),
    ("[union(createObject('allowSharedKeyAccess', false()), createObject('x', 1))]", False),
    # a later argument that may set it (a parameter object) makes the member unknown
    ("[union(createObject('allowSharedKeyAccess', true()), parameters('extra'))]", False),
    # the member is absent from every argument: the default counts
    ("[union(createObject('minimumTlsVersion', 'TLS1_2'), createObject('x', 1))]", True),
])
def test_member_of_an_object_built_by_an_expression(props, flagged):
    assert bool(lint_source(bicep_compiled(props), "st.json", select=["KL260"])) is flagged


# ---- Key Vault access policies written as their own resource (KL404) ------------------------------------

POLICY_TF = '''resource "azurerm_key_vault_access_policy" "{name}" {{
  key_vault_id       = {vault}
  tenant_id          = "00000000-0000-0000-0000-000000000000"
  object_id          = "11111111-1111-1111-1111-111111111111"
  secret_permissions = ["Get"]
}}
'''


def test_access_policies_of_one_vault_give_one_finding_at_the_first():
    tf = (POLICY_TF.format(name="a", vault="var.kv_id") + POLICY_TF.format(name="b", vault="var.kv_id")
          + POLICY_TF.format(name="c", vault="var.other_id"))
    found = sorted(lint_source(tf, "main.tf", select=["KL404"]), key=lambda f: f.span.start.line)
    assert [f.span.start.line for f in found] == [1, 13]
    assert "gets 2 access policies here" in found[0].message
    assert "azurerm_key_vault_access_policy.a and 1 more" in found[0].fix.message
    assert found[0].message.startswith("Key vault (key_vault_id = var.kv_id)")
    assert found[0].fix.applicability.value == "display-only"
    assert "rbac_authorization_enabled = true" in found[0].fix.message


def test_access_policy_names_the_vault_from_a_literal_id_or_a_data_source():
    tf = ('data "azurerm_key_vault" "kv" {\n  name = "kv-data"\n  resource_group_name = "rg"\n}\n'
          + POLICY_TF.format(name="a", vault="data.azurerm_key_vault.kv.id")
          + POLICY_TF.format(name="b", vault='"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-id"'))
    messages = sorted(f.message for f in lint_source(tf, "main.tf", select=["KL404"]))
    assert messages[0].startswith("Key vault 'kv-data' gets 1 access policy here")
    assert messages[1].startswith("Key vault 'kv-id' gets 1 access policy here")


def test_access_policy_counts_in_its_vault_s_finding_and_adds_none():
    tf = ('resource "azurerm_key_vault" "kv" {\n  name = "kv"\n}\n'
          + POLICY_TF.format(name="a", vault="azurerm_key_vault.kv.id"))
    (f,) = lint_source(tf, "main.tf", select=["KL404"])
    assert f.span.start.line == 1 and "; 1 policy here)" in f.message


@pytest.mark.parametrize("op,flagged", [("add", True), ("replace", True), ("remove", False), ("Add", True)])
def test_arm_access_policy_operation_decides(op, flagged):
    arm = json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                      "resources": [{"type": "Microsoft.KeyVault/vaults/accessPolicies", "apiVersion": "2023-07-01",
                                     "name": f"kv-ext/{op}", "properties": {"accessPolicies": [
                                         {"tenantId": "t", "objectId": "o", "permissions": {"secrets": ["get"]}}]}}]},
                     indent=1)
    assert bool(lint_source(arm, "kv.json", select=["KL404"])) is flagged


def test_access_policy_in_another_file_follows_that_file_through_the_cache(run_cli, tmp_path):
    vault = 'resource "azurerm_key_vault" "kv" {{\n  name = "kv"\n  rbac_authorization_enabled = {rbac}\n}}\n'
    write(tmp_path, "infra/vault.tf", vault.format(rbac="true"))
    write(tmp_path, "infra/policies.tf", POLICY_TF.format(name="app", vault="azurerm_key_vault.kv.id"))
    cache = str(tmp_path / ".cache")

    def found():
        rc, out, err = run_cli("check", ".", "--select", "KL404", "--output-format", "json", "--cache-dir", cache)
        assert rc in (0, 1), err
        return [(f["path"], f["location"]["line"]) for f in json.loads(out)["findings"]]

    assert found() == []  # the vault in vault.tf uses RBAC: the policy is ignored
    assert found() == []
    write(tmp_path, "infra/vault.tf", vault.format(rbac="false"))
    assert found() == [("infra/vault.tf", 3)]  # reported once, at the vault
    os.remove(tmp_path / "infra" / "vault.tf")  # the vault is no longer in the module
    assert found() == [("infra/policies.tf", 1)]


# ---- every resource rule's Bicep fixtures: fixes written in Bicep, verified, and clearing the finding ----

def bicep_fixtures():
    from conftest import FIXTURES

    from keyless.rules.iac.local_auth import RESOURCE_RULES

    out = []
    for rule in RESOURCE_RULES:
        d = os.path.join(FIXTURES, rule.code)
        out += [(rule.code, os.path.join(d, n)) for n in sorted(os.listdir(d)) if n.startswith("bad") and n.endswith(".bicep")]
    return out


def test_every_resource_rule_has_bicep_fixtures_and_a_module():
    from conftest import FIXTURES

    from keyless.rules.iac.local_auth import RESOURCE_RULES

    for rule in RESOURCE_RULES:
        names = os.listdir(os.path.join(FIXTURES, rule.code))
        assert any(n.startswith("bad") and n.endswith(".bicep") for n in names), rule.code
        assert any(n.startswith("good") and n.endswith(".bicep") for n in names), rule.code
        projects = [n for n in names if n.startswith("project")]
        assert any(os.path.exists(os.path.join(FIXTURES, rule.code, p, "main.bicep")) for p in projects), rule.code


@pytest.mark.parametrize("code,path", bicep_fixtures(), ids=lambda v: os.path.basename(os.path.dirname(v)) + "/" +
                         os.path.basename(v) if isinstance(v, str) and os.sep in v else v)
def test_bicep_fix_is_bicep_verified_and_clears_its_finding(code, path):
    from keyless.linter.documents import make_document
    from keyless.linter.fixes import apply_verified

    text = open(path, encoding="utf-8").read()
    found = lint_source(text, "main.bicep", select=[code])
    assert found, f"{path}: no {code} finding"
    edited = [f for f in found if f.fix and f.fix.edits]
    for f in found:
        assert '":' not in f.fix.message, f"{path}:{f.span.start.line}: JSON in a Bicep fix: {f.fix.message}"
    for f in edited:
        assert all('"' not in e.content for e in f.fix.edits), f"{path}: JSON-quoted edit {f.fix.edits}"
        doc = make_document(path, "main.bicep", text)
        fixed = apply_verified(doc, f.fix)  # parses, or raises
        after = {(g.span.start.line, g.message.split(":")[0]) for g in lint_source(fixed, "main.bicep", select=[code])}
        assert (f.span.start.line, f.message.split(":")[0]) not in after, f"{path}: the fix left {f.message}"


WORKFLOW = '''name: deploy
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: azure/webapps-deploy@v3
        with:
          app-name: app-web
          publish-profile: ${{ secrets.AZURE_WEBAPP_PUBLISH_PROFILE }}
'''


def test_a_workflow_deploying_with_a_publishing_profile_is_the_basic_auth_key_user(tmp_path):
    write(tmp_path, "infra/main.tf", 'resource "azurerm_linux_web_app" "web" {\n  name = "app-web"\n}\n')
    write(tmp_path, ".github/workflows/deploy.yml", WORKFLOW)
    (f,) = run(tmp_path, ["KL273"])
    assert f.severity is Severity.HIGH
    assert "uses a publishing profile" in f.message  # the file or "the repository" when the path does not fit
    assert ".github/workflows/deploy.yml:11" in f.fix.message and "azure/login (OIDC)" in f.fix.message
    write(tmp_path, ".github/workflows/deploy.yml", WORKFLOW.replace("publish-profile:", "slot-name:"))
    (f,) = run(tmp_path, ["KL273"])
    assert f.severity is Severity.MEDIUM and "publishing profile" not in f.message


# ---- the deployment itself hands a resource's key to an app (iac.key-user) ---------------------------

FUNC_BICEP = '''
resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: 'ordersdata'
  location: resourceGroup().location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
}

resource bus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: 'orders-bus'
}

resource func 'Microsoft.Web/sites@2023-01-01' = {
  name: 'orders-func'
  location: resourceGroup().location
  kind: 'functionapp'
  identity: { type: 'SystemAssigned' }
  properties: {
    siteConfig: {
      appSettings: [
        {
          name: 'AzureWebJobsStorage'
          value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value}'
        }
        {
          name: 'BUS'
          value: listKeys('${bus.id}/AuthorizationRules/RootManageSharedAccessKey', bus.apiVersion).primaryConnectionString
        }
      ]
    }
  }
}
'''

FUNC_ARM = '''{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "ordersdata",
     "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
    {"type": "Microsoft.Web/sites", "apiVersion": "2023-01-01", "name": "orders-func", "location": "westeurope",
     "kind": "functionapp", "identity": {"type": "SystemAssigned"},
     "properties": {"siteConfig": {"appSettings": [
       {"name": "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "value": "[format('DefaultEndpointsProtocol=https;AccountName=ordersdata;AccountKey={0}', listKeys(resourceId('Microsoft.Storage/storageAccounts', 'ordersdata'), '2023-01-01').keys[0].value)]"}
     ]}}}
  ]
}
'''

FUNC_TF = STORAGE_TF + '''
resource "azurerm_linux_function_app" "func" {
  name                       = "orders-func"
  resource_group_name        = "rg"
  location                   = "westeurope"
  service_plan_id            = "plan"
  storage_account_name       = azurerm_storage_account.sa.name
  storage_account_access_key = azurerm_storage_account.sa.primary_access_key
  identity {
    type = "SystemAssigned"
  }
  site_config {}
}
'''


@pytest.mark.parametrize("name,text,line,code", [
    ("infra/main.bicep", FUNC_BICEP, 23, "KL253"),
    ("infra/azuredeploy.json", FUNC_ARM, 11, ""),
    ("infra/main.tf", FUNC_TF, 15, "KL253"),
])
def test_a_key_the_deployment_hands_to_an_app_is_a_key_user(tmp_path, name, text, line, code):
    """Identity-based Python clients alone used to make turning keys off 'safe', while the same
    template fed the account key to a function app's host storage: flipping the switch breaks it."""
    write(tmp_path, name, text)
    write(tmp_path, "app/x.py", TOKEN_USER)
    (f,) = run(tmp_path, ["KL260"])
    assert f.severity is Severity.HIGH
    assert "safe once" not in f.fix.message
    assert f.message.endswith(f"{name.rsplit('/', 1)[-1]}:{line} uses the account key")
    assert f"({name}:{line}{f', {code}' if code else ''})" in f.fix.message


def test_a_key_of_another_service_is_not_this_resource_s_key_user(tmp_path):
    write(tmp_path, "infra/main.bicep", FUNC_BICEP.replace(
        "value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value}'",
        "value: 'AzureWebJobsStorage__accountName'"))
    write(tmp_path, "app/x.py", TOKEN_USER)
    (f,) = run(tmp_path, ["KL260"])
    assert f.severity is Severity.MEDIUM and "safe once" in f.fix.message  # the Service Bus key is KL262's


@pytest.mark.parametrize("value,symbols,rule", [
    ("[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'st'), '2023-01-01').keys[0].value]", {}, "KL260"),
    ("[listKeys('rule', '2021-11-01').primaryConnectionString]",
     {"rule": "Microsoft.ServiceBus/namespaces/topics/authorizationRules"}, "KL262"),
    ("[listAdminKeys(resourceId(subscription().subscriptionId, 'rg', 'Microsoft.Search/searchServices', 's'), '2022-09-01').primaryKey]",
     {}, "KL267"),
    ("[listKeys('/subscriptions/x/resourceGroups/y/providers/Microsoft.Cache/redis/c', '2023-08-01').primaryKey]", {}, "KL269"),
    ("[listCredentials(resourceId('Microsoft.ContainerRegistry/registries', 'cr'), '2023-07-01').passwords[0].value]",
     {}, "KL251"),
    ("[listKeys(parameters('anything'), '2023-01-01').key1]", {}, None),  # whose key: unknown
    ("[listSecrets(resourceId('Microsoft.KeyVault/vaults/secrets', 'kv', 's'), '2023-07-01').value]", {}, None),
])
def test_whose_key_an_arm_value_carries(value, symbols, rule):
    from keyless.rules.iac.common import key_rule

    assert (key_rule(value, symbols) or (None,))[0] == rule


@pytest.mark.parametrize("value,rule", [
    ("[listKeys(variables('storageId'), '2023-01-01').keys[0].value]", "KL260"),
    ("[listCredentials(variables('acrId'), '2023-07-01').passwords[0].value]", "KL251"),
    ("[listKeys(variables('literalId'), '2023-01-01').primaryKey]", "KL262"),  # a literal resource id
    ("[listKeys(variables('loop'), '2023-01-01').keys[0].value]", None),  # a cycle: unknown
    ("[listKeys(variables('missing'), '2023-01-01').keys[0].value]", None),
])
def test_whose_key_an_arm_value_carries_through_a_template_variable(value, rule):
    from keyless.rules.iac.common import key_rule

    variables = {"storageid": "[resourceId('Microsoft.Storage/storageAccounts', 'st')]",
                 "acrid": "[resourceId('Microsoft.ContainerRegistry/registries', 'cr')]",
                 "literalid": "/subscriptions/x/resourceGroups/y/providers/Microsoft.ServiceBus/namespaces/sb",
                 "loop": "[variables('loop')]"}
    assert (key_rule(value, {}, variables) or (None,))[0] == rule


@pytest.mark.parametrize("ref,rule", [
    ("azurerm_storage_account.sa.primary_access_key", "KL260"),
    ("data.azurerm_storage_account.sa.primary_connection_string", "KL260"),
    ("azurerm_servicebus_topic_authorization_rule.send.primary_connection_string", "KL262"),
    ("azurerm_eventhub_authorization_rule.listen.primary_connection_string", "KL263"),
    ("azurerm_cosmosdb_account.db.primary_key", "KL261"),
    ("azurerm_container_registry.acr.admin_password", "KL251"),  # the registry's admin password
    ("azurerm_container_registry.acr.admin_username", None),  # its user name: no credential
    ("azurerm_application_insights.ai.instrumentation_key", None),  # not a key attribute of a switch
    ("azurerm_storage_account.sa.name", None),
])
def test_whose_key_a_terraform_reference_carries(ref, rule):
    from keyless.rules.iac.common import Ref, key_rule

    assert (key_rule(Ref(ref)) or (None,))[0] == rule


@pytest.mark.parametrize("path", ["fixtures/KL252/bad_acr_credentials.bicep", "fixtures/KL252/bad_acr_credentials.tf"])
def test_a_registry_password_in_an_app_gets_registry_advice(path):
    """A setting or secret fed with the registry's admin password is fixed by pulling with the app's
    identity (AcrPull), not by a service endpoint and a data-plane role; the registry's KL251 names
    that use (Terraform's `admin_password` included)."""
    from conftest import ROOT

    text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    found = lint_source(text, path.split("/", 1)[1], select=["KL252"])
    assert found and all("AcrPull" in f.fix.message and "endpoint" not in f.fix.message for f in found)
    registry = ('resource "azurerm_container_registry" "acr" {\n  name = "ordersacr"\n  resource_group_name = "rg"\n'
                '  location = "westeurope"\n  sku = "Basic"\n  admin_enabled = true\n}\n')
    if path.endswith(".tf"):
        (kl251,) = lint_source(registry + text, "main.tf", select=["KL251"])
        assert "uses a registry password" in kl251.message


@pytest.mark.parametrize("module,arm_type", [
    ("br/public:avm/res/key-vault/vault:0.3.5", "microsoft.keyvault/vaults"),
    ("br:mcr.microsoft.com/bicep/avm/res/storage/storage-account:0.14.3", "microsoft.storage/storageaccounts"),
    ("br/public:avm/res/container-registry/registry:0.6.0", "microsoft.containerregistry/registries"),
    ("br/public:avm/res/document-db/database-account:0.11.0", "microsoft.documentdb/databaseaccounts"),
    ("br/public:avm/res/cache/redis:0.9.0", "microsoft.cache/redis"),
    ("br/public:avm/res/signal-r-service/web-pub-sub:0.5.0", "microsoft.signalrservice/webpubsub"),
    ("br/public:avm/res/db-for-postgre-sql/flexible-server:0.8.0", "microsoft.dbforpostgresql/flexibleservers"),
    ("br/public:avm/res/devices/iot-hub:0.1.0", "microsoft.devices/iothubs"),
    ("br/public:avm/res/container-service/managed-cluster:0.9.0", "microsoft.containerservice/managedclusters"),
    ("br/public:avm/ptn/azd/aks:0.2.0", None),  # a pattern, not a resource
    ("br/public:avm/res/network/virtual-network:0.5.0", None),  # no switch table
    ("./modules/vault.bicep", None),
])
def test_avm_resource_modules_name_the_resource_they_deploy(module, arm_type):
    from keyless.rules.iac.avm import avm_resource
    from keyless.rules.iac.resource_view import arm_types

    found = avm_resource(module, arm_types())
    assert (found[0] if found else None) == arm_type


MONITORING_BICEP = '''
resource logs 'Microsoft.OperationalInsights/workspaces@2022-10-01' = {
  name: 'logs-orders'
  location: resourceGroup().location
  properties: {
    sku: { name: 'PerGB2018' }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'ai-orders'
  location: resourceGroup().location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
  }
}

resource environment 'Microsoft.App/managedEnvironments@2023-05-01' = {
  name: 'cae-orders'
  location: resourceGroup().location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: 'kv-orders'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: 'stordersdata'
  location: resourceGroup().location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
}

resource connection 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'storage-connection'
  properties: {
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value}'
  }
}
'''


def test_any_key_the_template_reads_is_a_key_user_of_that_resource_only(tmp_path):
    """A Container Apps environment shipping logs with the workspace's shared key, a Key Vault
    secret holding a storage connection string: both break when keys are turned off. The shared
    key is the workspace's, not Application Insights' (one rule, two resource types)."""
    write(tmp_path, "infra/main.bicep", MONITORING_BICEP)
    found = {f.message.split(" accepts")[0]: f for f in run(tmp_path, ["KL275", "KL260"])}
    logs, insights = found["Log Analytics workspace 'logs-orders'"], found["Application Insights 'ai-orders'"]
    storage = found["Storage account 'stordersdata'"]
    assert logs.severity is Severity.HIGH and logs.message.endswith(("main.bicep:28 uses a key", "line 28 uses a key"))
    assert insights.severity is Severity.LOW and " uses " not in insights.message
    assert storage.severity is Severity.HIGH and "main.bicep:49 uses the account key" in storage.message


def test_a_terraform_key_attribute_anywhere_is_a_key_user(tmp_path):
    write(tmp_path, "infra/main.tf", STORAGE_TF + '''
resource "azurerm_key_vault_secret" "conn" {
  name         = "storage-connection"
  key_vault_id = azurerm_key_vault.kv.id
  value        = azurerm_storage_account.sa.primary_connection_string
}
''')
    write(tmp_path, "app/x.py", TOKEN_USER)
    (f,) = run(tmp_path, ["KL260"])
    assert f.severity is Severity.HIGH and "main.tf:12 uses the account key" in f.message
    assert "(infra/main.tf:12" in f.fix.message


def test_a_terraform_key_attribute_is_a_key_user_only_in_its_own_module_directory(tmp_path):
    """A module repository's root reads its workspace key in an output; an example directory
    declares a workspace at the same address (another root module, another resource): only the
    root's workspace has a key user (terraform-azurerm-aks: examples/named_cluster)."""
    write(tmp_path, "main.tf", STORAGE_TF)
    write(tmp_path, "outputs.tf", 'output "key" {\n  value     = azurerm_storage_account.sa.primary_access_key\n'
                                  '  sensitive = true\n}\n')
    write(tmp_path, "examples/basic/main.tf", STORAGE_TF)
    found = {f.path: f for f in run(tmp_path, ["KL260"])}
    assert set(found) == {"main.tf", "examples/basic/main.tf"}
    assert found["main.tf"].severity is Severity.HIGH and "outputs.tf:2" in found["main.tf"].fix.message
    example = found["examples/basic/main.tf"]
    assert example.severity is not Severity.HIGH and "outputs.tf" not in example.fix.message


def test_a_module_reading_its_own_key_is_a_key_user_of_the_resource_it_deploys_for_a_caller(tmp_path):
    """The resource is reported at the caller's module block; the key user in the module's
    directory still counts for it."""
    write(tmp_path, "modules/store/main.tf", 'variable "shared_key" {\n  type = bool\n}\n'
          + STORAGE_TF.replace('"LRS"\n', '"LRS"\n  shared_access_key_enabled = var.shared_key\n'))
    write(tmp_path, "modules/store/outputs.tf", 'output "conn" {\n'
                                                '  value     = azurerm_storage_account.sa.primary_connection_string\n'
                                                '  sensitive = true\n}\n')
    write(tmp_path, "env/main.tf", 'module "store" {\n  source     = "../modules/store"\n  shared_key = true\n}\n')
    (f,) = run(tmp_path, ["KL260"])
    assert f.path == "env/main.tf" and "via module 'store'" in f.message
    assert f.severity is Severity.HIGH and "(modules/store/outputs.tf:2)" in f.fix.message

# ---- a setting written onto a server that another template or file deploys ----

def sql_child(value):
    return json.dumps({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                       "parameters": {"server": {"type": "string"}},
                       "resources": [{"type": "Microsoft.Sql/servers/azureADOnlyAuthentications",
                                      "apiVersion": "2023-08-01-preview",
                                      "name": "[format('{0}/{1}', parameters('server'), 'Default')]",
                                      "properties": {"azureADOnlyAuthentication": value}}]}, indent=1)


@pytest.mark.parametrize("value, flagged", [(False, True), ("false", True), (True, False),
                                            ("[parameters('server')]", False)])
def test_entra_only_turned_off_on_a_server_deployed_elsewhere_is_reported_where_it_is_written(value, flagged):
    found = lint_source(sql_child(value), "entra.json", select=["KL270"])
    assert bool(found) is flagged
    if flagged:
        (f,) = found
        assert f.span.start.line == 14 and "(azureADOnlyAuthentication: false)" in f.message
        assert f.message.startswith("The SQL server of azureADOnlyAuthentications 'Default' accepts SQL logins")
        assert edits(found) == ("unsafe", [(14, 34, "true")])


MYSQL_CONFIG_TF = '''
resource "azurerm_mysql_flexible_server_configuration" "aad" {{
  name      = "{name}"
  server_id = {server}
  value     = "OFF"
}}
'''


def test_mysql_entra_only_off_alone_is_reported_unless_its_server_is_in_the_module(tmp_path):
    elsewhere = '"/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforMySQL/flexibleServers/mysql-x"'
    (f,) = lint_source(MYSQL_CONFIG_TF.format(name="aad_auth_only", server=elsewhere), "main.tf", select=["KL271"])
    assert (f.span.start.line, f.message) == (5, "MySQL flexible server 'mysql-x' accepts passwords (aad_auth_only: 'OFF')")
    assert lint_source(MYSQL_CONFIG_TF.format(name="max_connections", server=elsewhere), "main.tf",
                       select=["KL271"]) == []
    # the server in another file of the module: judged there, once
    write(tmp_path, "infra/server.tf", 'resource "azurerm_mysql_flexible_server" "db" {\n  name = "db"\n}\n')
    write(tmp_path, "infra/config.tf", MYSQL_CONFIG_TF.format(name="aad_auth_only",
                                                               server="azurerm_mysql_flexible_server.db.id"))
    assert [(os.path.basename(f.path), f.span.start.line) for f in run(tmp_path, ["KL271"])] == [("server.tf", 1)]


def test_a_key_read_through_a_template_variable_makes_its_resource_a_key_user():
    """`listKeys(variables('storageId'), ...)` in an app setting reads the account this template
    deploys: turning Shared Key off would break that app, so KL260 says so (high, names the line)
    instead of calling the switch safe to flip."""
    template = json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "variables": {"storageId": "[resourceId('Microsoft.Storage/storageAccounts', 'stdata')]"},
        "resources": [
            {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": "stdata",
             "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {}},
            {"type": "Microsoft.Web/sites", "apiVersion": "2022-09-01", "name": "web", "location": "westeurope",
             "identity": {"type": "SystemAssigned"},
             "properties": {"siteConfig": {"appSettings": [
                 {"name": "STORAGE_KEY", "value": "[listKeys(variables('storageId'), '2023-05-01').keys[0].value]"}]}}},
        ]}, indent=2)
    (f,) = lint_source(template, "infra/t.json", select=["KL260"])
    assert f.severity is Severity.HIGH and "uses the account key" in f.message, f.message


def test_a_deployment_s_key_read_counts_only_for_its_own_deployment(tmp_path):
    """A repository of unrelated sample templates (no azure.yaml): one template's listKeys()
    says nothing about another's storage account (AzureStack-QuickStart-Templates, 82 KL260
    findings rated high by one sample). A key read in a linked template's caller or in a sibling
    Bicep module of the same deployment still counts."""
    import shutil

    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "fixtures", "KL260",
                                 "project_key_user_deployments"), tmp_path / "repo")
    found = {f.path: f for f in run(tmp_path / "repo", ["KL260"])}
    assert set(found) == {"reads-key/azuredeploy.json", "other/azuredeploy.json",
                          "linked/nested/storage.json", "bicep/modules/storage.bicep"}
    other = found.pop("other/azuredeploy.json")
    assert other.severity is Severity.MEDIUM and " uses " not in other.message
    assert "azuredeploy.json" not in other.fix.message
    assert found["reads-key/azuredeploy.json"].message.endswith("azuredeploy.json:18 uses the account key")
    assert "(linked/azuredeploy.json:20)" in found["linked/nested/storage.json"].fix.message
    assert "(bicep/modules/app.bicep:15, KL252)" in found["bicep/modules/storage.bicep"].fix.message
    assert all(f.severity is Severity.HIGH for f in found.values())


def test_a_key_read_in_a_bicep_compiled_template_counts_for_its_bicep_source(tmp_path):
    """`main.json` built from `main.bicep` is the same deployment (get-started-with-ai-agents
    keeps both): its listKeys() still rates the Bicep source's resources."""
    fixture = os.path.join(os.path.dirname(__file__), "..", "fixtures", "KL260", "project_key_user_deployments")
    compiled = json.loads(open(os.path.join(fixture, "reads-key", "azuredeploy.json")).read())
    compiled["metadata"] = {"_generator": {"name": "bicep", "version": "0.30.23.60470"}}
    write(tmp_path, "infra/main.json", json.dumps(compiled, indent=2))
    write(tmp_path, "infra/main.bicep", open(os.path.join(fixture, "bicep", "modules", "storage.bicep")).read())
    write(tmp_path, "other/main.bicep", open(os.path.join(fixture, "bicep", "modules", "storage.bicep")).read())
    found = {f.path: f for f in run(tmp_path, ["KL260"])}
    assert found["infra/main.bicep"].severity is Severity.HIGH and "main.json:" in found["infra/main.bicep"].message
    assert found["other/main.bicep"].severity is Severity.MEDIUM and " uses " not in found["other/main.bicep"].message
