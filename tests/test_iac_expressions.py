"""ARM expressions and the values rules read from them: whitespace, generated defaults, what a
secure parameter is used for, object outputs, deployment bodies; Terraform attributes versus
resource labels; registries; Container Apps add-ons."""

from __future__ import annotations

import json
import os

import pytest

from keyless.linter.engine import lint_source
from keyless.linter.messages import MESSAGE_MAX
from keyless.rules.iac.arm import name_only_parameters
from keyless.rules.iac.common import Ref, azure_registry, key_source
from keyless.rules.iac.expr import generated_per_deployment, only_reference, referenced

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def template(parameters=None, resources=None, outputs=None, **extra):
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": parameters or {},
            "resources": resources or [], "outputs": outputs or {}, **extra}


def lint_json(obj, select, name="t.json"):
    text = json.dumps(obj, indent=2)
    return text, lint_source(text, name, select=select)


# ---- expressions ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "[newGuid()]", "[ newGuid() ]", "[concat(newGuid(), 'x')]", "[concat('x', newGuid())]",
    "[format('{0}Aa1!', newGuid())]", "[toUpper(substring(newGuid(), 0, 12))]",
    "[if(parameters('a'), newGuid(), concat('p', newGuid()))]", "[uniqueString(newGuid())]",
])
def test_generated_defaults(value):
    assert generated_per_deployment(value)


@pytest.mark.parametrize("value", [
    "P@ssw0rd!", "[uniqueString(resourceGroup().id)]", "[if(parameters('a'), newGuid(), 'fixed')]",
    "[concat('Pw-', uniqueString(subscription().id))]", "[replace('x', 'y', newGuid())]", "[[newGuid()]",
])
def test_defaults_that_are_not_generated(value):
    assert not generated_per_deployment(value)


def test_references_are_read_from_the_parse_tree():
    assert referenced("[ parameters ('p') ]") == ["p"]
    assert referenced("[concat(parameters('a'), variables('v'), parameters( 'b' ))]") == ["a", "b"]
    assert referenced("[concat(parameters('a'), variables('v'))]", ("variables", "parameters")) == ["a", "v"]
    assert only_reference("[ parameters ( 'p' ) ]") == ("parameters", "p")
    assert only_reference("[concat(parameters('p'), 'x')]") is None
    assert referenced("parameters('p')") == []  # a literal string, not an expression


# ---- secure parameters that hold a name --------------------------------------------------------

def secret_resource(name_expr, value_expr="[listKeys('x', '2023-01-01').keys[0].value]"):
    return {"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2022-07-01", "name": name_expr,
            "properties": {"value": value_expr}}


def test_a_parameter_used_only_as_a_name_is_a_name():
    t = template({"secretName": {"type": "securestring"}, "kv": {"type": "string"}},
                 [secret_resource("[format('{0}/{1}', parameters('kv'), parameters('secretName'))]")])
    assert name_only_parameters(t) == {"secretname", "kv"}


def test_a_value_use_wins_over_name_uses():
    t = template({"token": {"type": "securestring"}},
                 [secret_resource("[parameters('token')]", "[parameters('token')]")])
    assert name_only_parameters(t) == set()


def test_name_positions_and_value_positions():
    t = template({"a": {"type": "securestring"}, "b": {"type": "securestring"}, "c": {"type": "securestring"},
                  "d": {"type": "securestring"}},
                 [{"type": "Microsoft.App/containerApps", "name": "app", "properties": {"configuration": {"secrets": [
                     {"name": "[parameters('a')]", "keyVaultUrl": "[parameters('b')]"},
                     {"name": "x", "value": "[parameters('c')]"}]},
                     "template": {"containers": [{"env": [{"name": "X", "secretRef": "[parameters('d')]"}]}]}}}])
    assert name_only_parameters(t) == {"a", "b", "d"}


def test_a_parameter_passed_to_a_module_is_judged_by_the_module():
    inner = template({"secretName": {"type": "string"}, "secretValue": {"type": "securestring"}},
                     [secret_resource("[parameters('secretName')]", "[parameters('secretValue')]")])
    t = template({"nameParam": {"type": "securestring"}, "valueParam": {"type": "securestring"}}, [{
        "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "m",
        "properties": {"expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental", "template": inner,
                       "parameters": {"secretName": {"value": "[parameters('nameParam')]"},
                                      "secretValue": {"value": "[parameters('valueParam')]"}}}}])
    assert name_only_parameters(t) == {"nameparam"}


def test_an_unused_parameter_counts_as_a_name_only_when_its_own_name_says_so():
    t = template({"dbPasswordSecretName": {"type": "securestring"}, "dbPassword": {"type": "securestring"}})
    assert name_only_parameters(t) == {"dbpasswordsecretname"}


def test_kl257_and_kl258_skip_a_secure_name_and_keep_a_secure_value():
    t = template({"secretName": {"type": "securestring", "defaultValue": "db-password"},
                  "password": {"type": "securestring", "defaultValue": "Orders-Pw-2024"}},
                 [secret_resource("[concat('vault/', parameters('secretName'))]", "[parameters('password')]")],
                 {"name": {"type": "string", "value": "[parameters('secretName')]"},
                  "pw": {"type": "string", "value": "[ parameters ('password') ]"}})
    text, found = lint_json(t, ["KL257", "KL258"])
    lines = text.splitlines()
    got = sorted((f.code, lines[f.span.start.line - 1].strip().split(":")[0]) for f in found)
    assert got == [("KL257", '"defaultValue"'), ("KL258", '"value"')]
    assert all("password" in f.message for f in found)


# ---- outputs, permissions, deployment bodies ---------------------------------------------------

def test_listkeys_inside_an_object_output_points_at_the_member():
    t = template(outputs={"conn": {"type": "object", "value": {"endpoint": "https://x", "nested": {
        "key": "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'sa'), '2023-01-01').keys[0].value]"}}}})
    text, found = lint_json(t, ["KL258"])
    [f] = found
    assert '"key"' in text.splitlines()[f.span.start.line - 1] and "listKeys()" in f.message


def test_custom_role_actions_from_a_parameter_default():
    t = template({"actions": {"type": "array", "defaultValue": ["*"]}}, [{
        "type": "Microsoft.Authorization/roleDefinitions", "apiVersion": "2022-04-01", "name": "r",
        "properties": {"roleName": "Deployer", "permissions": [{"actions": "[parameters('actions')]"}],
                       "assignableScopes": ["[subscription().id]"]}}])
    _, found = lint_json(t, ["KL402"])
    [f] = found
    assert "every action" in f.message and "(actions from parameter 'actions')" in f.fix.message


def test_a_deployment_body_is_linted_at_the_template_it_holds():
    body = {"name": "d", "properties": {
        "mode": "Incremental",
        "parameters": {"roleId": {"type": "String", "value": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"},
                       "pw": {"type": "SecureString"}},
        "template": template({"roleId": {"type": "string", "defaultValue": "acdd72a7-3385-48ef-bd42-f606fba81ae7"},
                              "pw": {"type": "securestring", "defaultValue": "Orders-Pw-2024"}},
                             [{"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
                               "name": "a", "properties": {"principalId": "p", "roleDefinitionId":
                               "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', parameters('roleId'))]"}}])}}
    text, found = lint_json(body, ["KL257", "KL401"], name="deployment.json")
    by_code = {f.code: f for f in found}
    assert set(by_code) == {"KL257", "KL401"}
    # The template's default is Reader; the deployment passed Owner.
    assert "'Owner'" in by_code["KL401"].message and "(with deployment.json)" in by_code["KL401"].message
    assert '"roleDefinitionId"' in text.splitlines()[by_code["KL401"].span.start.line - 1]


def test_a_json_file_that_only_has_a_properties_template_key_is_not_arm():
    _, found = lint_json({"properties": {"template": {"containers": []}}}, ["KL301", "KL257"])
    assert found == []


# ---- Terraform attributes, registries --------------------------------------------------------------

@pytest.mark.parametrize("ref,expected", [
    ("azurerm_key_vault_secret.primary_key.id", None),
    ("azurerm_key_vault_secret.primary_key.value", None),
    ("azurerm_storage_account.primary_key.primary_blob_endpoint", None),
    ("azurerm_storage_account.sa.primary_access_key", "primary_access_key"),
    ("azurerm_storage_account.sa[0].secondary_connection_string", "secondary_connection_string"),
    ("data.azurerm_storage_account.sa.primary_connection_string", "primary_connection_string"),
    ("module.storage.primary_access_key", "primary_access_key"),
    ("var.primary_key", "primary_key"),
    ("azurerm_cosmosdb_account.db.connection_strings[0]", "connection_strings"),
    ('"${azurerm_eventhub_namespace.ns.default_primary_connection_string}"', "default_primary_connection_string"),
])
def test_terraform_key_attributes_are_attributes_not_labels(ref, expected):
    assert key_source(Ref(ref)) == expected


@pytest.mark.parametrize("server,expected", [
    ("contoso.azurecr.io", True), ("https://contoso.azurecr.io", True), ("contoso.azurecr.cn", True),
    ("docker.io", False), ("index.docker.io", False), ("ghcr.io", False), ("quay.io", False),
    ("https://index.docker.io/v1/", False), ("registry.example.com:5000", False),
    ("[parameters('server')]", None), ("${ACR_SERVER}", None), ("contoso", None), (None, None),
])
def test_azure_registries(server, expected):
    assert azure_registry(server) is expected


def test_a_non_azure_registry_says_what_to_do_instead():
    t = template({"token": {"type": "securestring"}}, [{
        "type": "Microsoft.App/containerApps", "apiVersion": "2024-03-01", "name": "api", "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {"configuration": {
            "secrets": [{"name": "hub", "value": "[parameters('token')]"}],
            "registries": [{"server": "docker.io", "username": "contoso", "passwordSecretRef": "hub"}]}}}])
    _, found = lint_json(t, ["KL250"])
    [f] = found
    assert "'docker.io'" in f.message and "Key Vault" in f.message and "\n" not in f.message
    assert len(f.message) <= MESSAGE_MAX and "pulls only from Azure Container Registry" in f.fix.message
    assert "az acr import" in f.fix.message and "Key Vault" in f.fix.message
    assert f.severity.value == "medium"


def test_an_acr_registry_keeps_the_managed_identity_advice():
    t = template(resources=[{
        "type": "Microsoft.App/containerApps", "apiVersion": "2024-03-01", "name": "api", "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {"configuration": {"registries": [
            {"server": "contoso.azurecr.io", "username": "contoso", "passwordSecretRef": "acr"}]}}}])
    _, found = lint_json(t, ["KL250"])
    [f] = found
    assert f.severity.value == "high" and "AcrPull" in f.fix.message


# ---- dev add-ons ----------------------------------------------------------------------------------

def test_an_add_on_is_no_app_to_link_code_to(tmp_path):
    """A postgres add-on next to the one real app: the code still links to the only app."""
    from conftest import write
    from keyless.linter.config import Config
    from keyless.linter.engine import Settings, lint_paths, resolve_selection
    from keyless.linter.rule import load_registry

    addon = {"type": "Microsoft.App/containerApps", "apiVersion": "2023-04-01-preview", "name": "db",
             "location": "westeurope", "properties": {"configuration": {"service": {"type": "postgres"}}}}
    app = {"type": "Microsoft.App/containerApps", "apiVersion": "2024-03-01", "name": "orders", "location": "westeurope",
           "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {"[resourceId('x', 'y')]": {}}},
           "properties": {"template": {"containers": [{"name": "orders", "image": "contoso.azurecr.io/orders:1"}]}}}
    write(tmp_path, "infra/main.json", json.dumps(template(resources=[addon, app]), indent=2))
    write(tmp_path, "tools/run.py", "from azure.identity import DefaultAzureCredential\nc = DefaultAzureCredential()\n")
    st = Settings(root=str(tmp_path), select=resolve_selection(load_registry(), ["KL301", "KL505"]))
    found = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), st, excludes=[], jobs=1).findings
    assert [(f.path, f.code) for f in found] == [("tools/run.py", "KL505")]


# ---- ACR credentials read with listCredentials() ----

@pytest.mark.parametrize("expression, key", [
    ("[listCredentials(variables('acr'), '2023-07-01').passwords[0].value]", {"listcredentials"}),
    ("[listCredentials(variables('acr'), '2023-07-01')]", {"listcredentials"}),
    ("[listCredentials(variables('acr'), '2023-07-01').username]", set()),
    ("[concat(listCredentials(variables('acr'), '2023-07-01').username, ':', "
     "listCredentials(variables('acr'), '2023-07-01').passwords[1].value)]", {"listcredentials"}),
    ("[listKeys(variables('sa'), '2023-01-01').keys[0].keyName]", set()),
    ("[listKeys(variables('sa'), '2023-01-01').keys[0].value]", {"listkeys"}),
])
def test_a_list_result_read_only_for_its_user_or_key_name_holds_no_key(expression, key):
    from keyless.rules.iac.expr import secret_list_calls

    assert secret_list_calls(expression) == key


def test_acr_list_credentials_into_settings_secrets_and_outputs_in_bicep_and_arm():
    """The registry password (listCredentials() in ARM/Bicep, admin_password in Terraform) is a
    key wherever it is stored; the admin user's name is not."""
    from conftest import FIXTURES

    select = ["KL250", "KL252", "KL258"]
    found = {}
    for name in ("bad_acr_credentials.bicep", "bad_acr_credentials.json", "bad_acr_credentials.tf"):
        text = open(os.path.join(FIXTURES, "KL252", name), encoding="utf-8").read()
        lines = text.splitlines()
        found[name] = sorted((f.code, lines[f.span.start.line - 1].strip()) for f in lint_source(text, name, select=select))
    bicep = found["bad_acr_credentials.bicep"]
    assert [c for c, _ in bicep] == ["KL250", "KL252", "KL252", "KL258"]
    assert all("username" not in line for _, line in bicep)
    assert ("KL258", "output registryPassword string = acr.listCredentials().passwords[0].value") in bicep
    assert [c for c, _ in found["bad_acr_credentials.json"]] == ["KL250", "KL252", "KL252", "KL258"]
    assert all("username" not in line for _, line in found["bad_acr_credentials.json"])
    tf = found["bad_acr_credentials.tf"]
    assert [c for c, _ in tf] == ["KL250", "KL252", "KL252", "KL258"]
    assert all("admin_username" not in line for _, line in tf)
