"""ARM templates: parameter files as deployment scenarios, the scope of nested deployments, and
how messages name resources whose names do not resolve."""

from __future__ import annotations

import json
import os

import pytest

from conftest import write
from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, lint_source, read_document, resolve_selection
from keyless.linter.finding import fingerprint
from keyless.linter.rule import load_registry
from keyless.linter.workspace import Workspace
from keyless.rules.iac.arm import deployment_target
from keyless.rules.iac.armparams import is_named_parameter_file, literal_value, parameter_file_values, scenarios
from keyless.rules.iac.expr import UNKNOWN, Context

TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PARAMETERS_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def role_template(default_role: str | None = None, **extra_params) -> str:
    role = {"type": "string", **({"defaultValue": default_role} if default_role else {})}
    return json.dumps({
        "$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"roleId": role, "principalId": {"type": "string"}, **extra_params},
        "resources": [{
            "type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01",
            "name": "[guid(resourceGroup().id, parameters('principalId'))]",
            "properties": {
                "roleDefinitionId":
                    "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', parameters('roleId'))]",
                "principalId": "[parameters('principalId')]"}}],
    }, indent=2)


def registry_template() -> str:
    return json.dumps({
        "$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"registryName": {"type": "string"}, "adminUserEnabled": {"type": "bool"}},
        "resources": [{
            "type": "Microsoft.ContainerRegistry/registries", "apiVersion": "2023-07-01",
            "name": "[parameters('registryName')]", "sku": {"name": "Basic"},
            "properties": {"adminUserEnabled": "[parameters('adminUserEnabled')]"}}],
    }, indent=2)


def parameter_file(**values) -> str:
    return json.dumps({"$schema": PARAMETERS_SCHEMA, "contentVersion": "1.0.0.0",
                       "parameters": {k: v if isinstance(v, dict) and "reference" in v else {"value": v}
                                      for k, v in values.items()}}, indent=2)


def run(root, select):
    st = Settings(root=str(root), select=resolve_selection(load_registry(), select))
    return lint_paths([str(root)], Config(root=str(root)), st, excludes=[], jobs=1).findings


# ---- which parameter files deploy a template ------------------------------------------------------

@pytest.mark.parametrize("name,want", [
    ("azuredeploy.parameters.json", True),
    ("AzureDeploy.Parameters.json", True),
    ("azuredeploy.parameters.dev.json", True),
    ("azuredeploy.prod.parameters.json", True),
    ("azuredeploy.json", False),
    ("azuredeploy.parameters.dev.eu.json", False),
    ("azuredeploy2.parameters.json", False),
    ("other.parameters.json", False),
])
def test_parameter_file_names(name, want):
    assert is_named_parameter_file("azuredeploy.json", name) is want


def test_only_literal_values_are_used():
    values = parameter_file_values({"parameters": {
        "plain": {"value": "orders"},
        "flag": {"value": True},
        "tags": {"value": {"env": "prod"}},
        "fromVault": {"reference": {"keyVault": {"id": "/x"}, "secretName": "s"}},
        "azd": {"value": "${AZURE_LOCATION}"},
        "pipeline": {"value": "$(location)"},
        "token": {"value": "#{region}#"},
        "expression": {"value": "[resourceGroup().location]"},
        "connection": {"value": "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKey=abc"},
        "nested": {"value": {"list": ["a", "${B}"]}},
        "noValue": {},
    }})
    assert values["plain"] == "orders" and values["flag"] is True and values["tags"] == {"env": "prod"}
    for name in ("fromvault", "azd", "pipeline", "token", "expression", "connection", "nested", "novalue"):
        assert values[name] is UNKNOWN, name
    assert literal_value([1, "x"]) == [1, "x"]


def test_scenarios_match_declared_names_and_keep_secrets_out(tmp_path):
    write(tmp_path, "infra/main.json", role_template(
        adminPassword={"type": "securestring"}, storageAccountKey={"type": "string"}))
    write(tmp_path, "infra/main.parameters.json", parameter_file(
        roleId=OWNER, adminPassword="not-for-evaluation", storageAccountKey="not-either"))
    write(tmp_path, "infra/main.parameters.other.json", parameter_file(roleId=OWNER, vnetName="hub"))
    write(tmp_path, "infra/main.parameters.empty.json", parameter_file())
    doc = read_document(str(tmp_path / "infra/main.json"), "infra/main.json")
    doc.workspace = Workspace(str(tmp_path))
    found = scenarios(doc, doc.values[0])
    assert [s.file_name for s in found] == ["main.parameters.json"]
    values = found[0].values
    assert values["roleid"] == OWNER
    assert values["adminpassword"] is UNKNOWN and values["storageaccountkey"] is UNKNOWN


def test_single_template_takes_any_parameter_file_but_two_templates_only_named_ones(tmp_path):
    write(tmp_path, "one/deploy.json", role_template())
    write(tmp_path, "one/prod.json", parameter_file(roleId=OWNER))
    write(tmp_path, "two/network.json", role_template())
    write(tmp_path, "two/storage.json", role_template())
    write(tmp_path, "two/prod.json", parameter_file(roleId=OWNER))
    write(tmp_path, "two/storage.parameters.json", parameter_file(roleId=CONTRIBUTOR))
    found = {(f.path, f.message.split(" at ")[0], said(f, "(with ")) for f in run(tmp_path, ["KL401"])}
    assert found == {("one/deploy.json", "'Owner'", "prod.json"),
                     ("two/storage.json", "'Contributor'", "storage.parameters.json")}


def said(f, prefix: str) -> str:
    """What a finding's message, else its help, says after `prefix` up to the closing parenthesis
    or the next note (a note that does not fit in the message is in the help)."""
    for text in (f.message, f.fix.message if f.fix else ""):
        if prefix in text:
            return text.split(prefix, 1)[1].split(")")[0].split(";")[0]
    if prefix.startswith("(") and prefix[1:] in (f.fix.message if f.fix else ""):
        return f.fix.message.split(prefix[1:], 1)[1].split(")")[0].split(";")[0]
    raise AssertionError(f"{prefix!r} in neither {f.message!r} nor its help")


def test_a_crowded_directory_is_only_searched_by_name(tmp_path):
    write(tmp_path, "many/deploy.json", role_template())
    for i in range(40):
        write(tmp_path, f"many/sample{i}.json", "{}")
    write(tmp_path, "many/prod.json", parameter_file(roleId=OWNER))
    assert run(tmp_path, ["KL401"]) == []
    write(tmp_path, "many/deploy.parameters.json", parameter_file(roleId=OWNER))
    assert [f.path for f in run(tmp_path, ["KL401"])] == ["many/deploy.json"]


def test_editor_mode_reads_parameter_files_from_disk(tmp_path):
    write(tmp_path, "acr/acr.parameters.json", parameter_file(registryName="r", adminUserEnabled=True))
    (f,) = lint_source(registry_template(), "acr/acr.json", select=["KL251"], root=str(tmp_path))
    assert f.message.endswith(", with acr.parameters.json)")


# ---- scenarios: union, deduplication, identity -----------------------------------------------------

def test_finding_from_a_parameter_file_names_the_file_not_the_values(tmp_path):
    write(tmp_path, "acr/acr.json", registry_template())
    write(tmp_path, "acr/acr.parameters.json", parameter_file(registryName="zzuniqueregistryzz", adminUserEnabled=True))
    (f,) = run(tmp_path, ["KL251"])
    assert f.path == "acr/acr.json" and f.span.start.line == 21
    assert f.message.startswith("Container registry '[parameters('registryName')]' allows admin login "
                                "(adminUserEnabled: true")
    assert f.message.endswith(", with acr.parameters.json)")
    assert "zzuniqueregistryzz" not in f.message


def test_same_finding_from_two_parameter_files_is_reported_once(tmp_path):
    write(tmp_path, "rbac/main.json", role_template())
    write(tmp_path, "rbac/main.parameters.dev.json", parameter_file(roleId=OWNER))
    write(tmp_path, "rbac/main.prod.parameters.json", parameter_file(roleId=OWNER))
    (f,) = run(tmp_path, ["KL401"])
    assert said(f, "with ") == "main.parameters.dev.json, main.prod.parameters.json"


def test_each_scenario_keeps_its_own_finding(tmp_path):
    write(tmp_path, "rbac/main.json", role_template())
    write(tmp_path, "rbac/main.parameters.dev.json", parameter_file(roleId=CONTRIBUTOR))
    write(tmp_path, "rbac/main.parameters.prod.json", parameter_file(roleId=OWNER))
    found = sorted((f.span.start.line, f.message.split(" at ")[0], said(f, "with "))
                   for f in run(tmp_path, ["KL401"]))
    assert found == [(18, "'Contributor'", "main.parameters.dev.json"),
                     (18, "'Owner'", "main.parameters.prod.json")]


@pytest.mark.parametrize("given", [READER, {"reference": {"keyVault": {"id": "/kv"}, "secretName": "role"}},
                                   "${AZURE_ROLE_ID}"])
def test_harmless_or_unknown_values_stay_quiet(tmp_path, given):
    write(tmp_path, "rbac/main.json", role_template())
    write(tmp_path, "rbac/main.parameters.json", parameter_file(roleId=given))
    assert run(tmp_path, ["KL401"]) == []


def test_a_default_finding_is_unchanged_by_a_parameter_file(tmp_path):
    write(tmp_path, "rbac/main.json", role_template(default_role=OWNER))
    (alone,) = run(tmp_path, ["KL401"])
    write(tmp_path, "rbac/main.parameters.json", parameter_file(roleId=OWNER, principalId="1234"))
    (again,) = run(tmp_path, ["KL401"])
    assert (again.fingerprint, again.message, again.span) == (alone.fingerprint, alone.message, alone.span)
    assert "parameters.json" not in again.message + again.fix.message


def test_parameter_file_that_sets_an_undeclared_name_is_ignored(tmp_path):
    write(tmp_path, "rbac/main.json", role_template())
    write(tmp_path, "rbac/main.parameters.json", parameter_file(roleId=OWNER, vnetName="hub"))
    assert run(tmp_path, ["KL401"]) == []


def test_cache_follows_parameter_file_edits(run_cli, tmp_path):
    write(tmp_path, "acr/acr.json", registry_template())
    write(tmp_path, "acr/acr.parameters.json", parameter_file(registryName="r", adminUserEnabled=False))
    cache = str(tmp_path / "cache")

    def kl251():
        rc, out, _ = run_cli("check", ".", "--select", "KL251", "--cache-dir", cache, "--output-format", "json")
        return [(f["path"], f["message"].rsplit(", ", 1)[-1]) for f in json.loads(out)["findings"]]

    assert kl251() == []
    assert kl251() == []  # warm cache
    write(tmp_path, "acr/acr.parameters.json", parameter_file(registryName="r", adminUserEnabled=True, x=1))
    assert kl251() == []  # sets an undeclared name ("x"): not this template's parameter file
    write(tmp_path, "acr/acr.parameters.json", parameter_file(registryName="r", adminUserEnabled=True))
    assert kl251() == [("acr/acr.json", "with acr.parameters.json)")]
    os.remove(tmp_path / "acr/acr.parameters.json")
    assert kl251() == []
    write(tmp_path, "acr/acr.parameters.prod.json", parameter_file(adminUserEnabled=True))
    assert kl251() == [("acr/acr.json", "with acr.parameters.prod.json)")]


def test_app_from_parameter_file_links_to_the_code(tmp_path):
    write(tmp_path, "infra/app.json", json.dumps({
        "$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0",
        "parameters": {"appName": {"type": "string"}, "identityType": {"type": "string"}},
        "resources": [{
            "type": "Microsoft.App/containerApps", "apiVersion": "2024-03-01", "name": "[parameters('appName')]",
            "identity": {"type": "[parameters('identityType')]", "userAssignedIdentities": {
                "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'a')]": {},
                "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'b')]": {}}},
            "properties": {"template": {"containers": [{"name": "c", "image": "nginx"}]}}}],
    }, indent=2))
    write(tmp_path, "infra/app.parameters.json", parameter_file(appName="orders", identityType="UserAssigned"))
    write(tmp_path, "src/main.py",
          "from azure.identity import ManagedIdentityCredential\ncred = ManagedIdentityCredential()\n")
    found = {f.code: f for f in run(tmp_path, ["KL501", "KL505"])}
    assert set(found) == {"KL501", "KL505"}
    assert ("'[parameters('appName')]' (with app.parameters.json) has 2 user-assigned identities"
            in found["KL501"].message)
    assert "deploys the only app in this repository" in found["KL505"].fix.message


# ---- nested deployments ---------------------------------------------------------------------------

@pytest.mark.parametrize("scope,want", [
    ("/", "tenant"),
    ("Microsoft.Management/managementGroups/{?}", "managementGroup"),
    ("/providers/Microsoft.Management/managementGroups/corp", "managementGroup"),
    ("/subscriptions/0000", "subscription"),
    ("/subscriptions/{?}", None),
    ("{?}", None),
    ("Microsoft.Storage/storageAccounts/x", None),
    (UNKNOWN, None),
])
def test_deployment_target(scope, want):
    assert deployment_target(scope) == want


def test_placeholders_show_the_shape_of_an_id():
    ctx = Context({"mg": UNKNOWN, "known": "corp"})
    shape = ctx.with_placeholders()
    assert shape.evaluate("[format('Microsoft.Management/managementGroups/{0}', parameters('mg'))]") == \
        "Microsoft.Management/managementGroups/{?}"
    assert shape.evaluate("[parameters('known')]") == "corp"
    assert ctx.evaluate("[parameters('mg')]") is UNKNOWN


def nested(schema: str, deployment: dict, inner_schema: str | None = None, role: str = OWNER) -> str:
    inner = {"contentVersion": "1.0.0.0", "resources": [{
        "type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01", "name": "[guid('x')]",
        "properties": {"roleDefinitionId": f"[tenantResourceId('Microsoft.Authorization/roleDefinitions', '{role}')]",
                       "principalId": "[parameters('p')]"}}]}
    if inner_schema:
        inner["$schema"] = f"https://schema.management.azure.com/schemas/2019-08-01/{inner_schema}.json#"
    return json.dumps({
        "$schema": f"https://schema.management.azure.com/schemas/2019-08-01/{schema}.json#",
        "contentVersion": "1.0.0.0", "parameters": {"p": {"type": "string"}, "mg": {"type": "string"}},
        "resources": [{"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "n",
                       **deployment, "properties": {"mode": "Incremental", "template": inner}}]}, indent=2)


MG_SCOPE = {"scope": "[concat('Microsoft.Management/managementGroups/', parameters('mg'))]", "location": "westeurope"}


@pytest.mark.parametrize("schema,deployment,inner_schema,words", [
    ("tenantDeploymentTemplate", MG_SCOPE, None, "management-group scope|the scope the nested deployment targets"),
    ("tenantDeploymentTemplate", MG_SCOPE, "subscriptionDeploymentTemplate", "management-group scope"),
    ("tenantDeploymentTemplate", {"scope": "/", "location": "westeurope"}, None, "tenant scope"),
    ("tenantDeploymentTemplate", {"location": "westeurope"}, None, "tenant scope"),
    ("managementGroupDeploymentTemplate", {"subscriptionId": "[parameters('mg')]", "location": "westeurope"}, None,
     "subscription scope"),
    ("managementGroupDeploymentTemplate", {"subscriptionId": "0000", "resourceGroup": "rg"}, None,
     "resource-group scope"),
    ("deploymentTemplate", {"subscriptionId": "0000", "location": "westeurope"}, None, "subscription scope"),
    ("deploymentTemplate", {"subscriptionId": "0000"}, None, "resource-group scope"),
    ("tenantDeploymentTemplate", {"scope": "[parameters('mg')]"}, "managementGroupDeploymentTemplate",
     "management-group scope"),
    ("tenantDeploymentTemplate", {"scope": "[parameters('mg')]"}, None,
     "resource-group (or broader) scope|the nested deployment's target, which is only known at deploy time"),
])
def test_nested_deployment_scope(schema, deployment, inner_schema, words):
    (f,) = lint_source(nested(schema, deployment, inner_schema), "main.json", select=["KL401"])
    scope, _, why = words.partition("|")  # the help says why the scope is what it is
    assert f.message.startswith(f"'Owner' at {scope} has full control"), f.message
    assert not why or f"scope: {why}" in f.fix.message, f.fix.message


def test_unknown_nested_scope_is_rated_as_its_certain_minimum():
    (f,) = lint_source(nested("tenantDeploymentTemplate", {"scope": "[parameters('mg')]"}, role=CONTRIBUTOR),
                       "main.json", select=["KL401"])
    assert f.severity.value == "medium"


# ---- names that do not resolve ----------------------------------------------------------------------

def test_unresolved_names_read_as_the_template_wrote_them():
    text = json.dumps({
        "$schema": TEMPLATE_SCHEMA, "contentVersion": "1.0.0.0", "parameters": {"funcName": {"type": "string"}},
        "resources": [{"type": "Microsoft.Web/sites", "apiVersion": "2023-01-01", "kind": "functionapp",
                       "name": "[parameters('funcName')]", "properties": {"siteConfig": {"appSettings": [
                           {"name": "STORAGE", "value": "[listKeys('x', '2023-01-01').keys[0].value]"}]}}}],
    }, indent=2)
    found = {f.code: f for f in lint_source(text, "site.json", select=["KL252", "KL301"])}
    assert "function app '[parameters('funcName')]' has no managed identity" in found["KL301"].message
    assert "of function app '[parameters('funcName')]' holds a key (listKeys())" in found["KL252"].message
    # fingerprints keep the key text they always had, so baselines and code-scanning alerts survive
    site = "Microsoft.Web/sites/parameters('funcName')"
    assert found["KL252"].fingerprint == fingerprint("KL252", f"{site}|setting|STORAGE")
    assert found["KL301"].fingerprint == fingerprint("KL301", f"{site}|identity")
