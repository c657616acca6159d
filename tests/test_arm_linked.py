"""Linked ARM templates (`Microsoft.Resources/deployments` with `templateLink`): which file a
deployment deploys, at which scope, and how KL401 rates a role assignment whose scope is the
template's own deployment scope when parent templates decide it."""

from __future__ import annotations

import json
import os

import pytest

from conftest import FIXTURES, write
from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, read_document, resolve_selection
from keyless.linter.finding import fingerprint
from keyless.linter.rule import load_registry
from keyless.rules.iac.expr import UNKNOWN, Context
from keyless.rules.iac.extract import extract

TENANT = "https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#"
MANAGEMENT_GROUP = "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#"
SUBSCRIPTION = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
LINKED_FIXTURE = os.path.join(FIXTURES, "KL401", "project_linked")


def run(root):
    st = Settings(root=str(root), select=resolve_selection(load_registry(), ["KL401"]))
    return lint_paths([str(root)], Config(root=str(root)), st, excludes=[], jobs=1).findings


def by_path(findings):
    return {(f.path, f.span.start.line): f for f in findings}


def template(schema, resources, **extra):
    return json.dumps({"$schema": schema, "contentVersion": "1.0.0.0", **extra, "resources": resources}, indent=2)


def deployment(link, **scope):
    return {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "child",
            "location": "westeurope", **scope, "properties": {"mode": "Incremental", "templateLink": link}}


def owner_assignment():
    role_id = f"[tenantResourceId('Microsoft.Authorization/roleDefinitions', '{OWNER}')]"
    return {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01", "name": "owner",
            "properties": {"roleDefinitionId": role_id, "principalId": "[parameters('principalId')]"}}


def deploys(text, relpath="infra/main.json"):
    doc = read_document(relpath, relpath, data=text.encode())
    return [f.data for f in extract(doc) if f.kind == "iac.deploys"]


# ---- the fixture project: labels and severities -------------------------------------------------

def test_fixture_labels_and_severities():
    found = by_path(run(LINKED_FIXTURE))
    mg = found[("management-group/policyAssignments/remediation.json", 18)]
    assert mg.message.startswith("'Owner' at management-group scope")
    assert "scope: where management-group/landing-zone.json deploys it" in mg.fix.message
    assert mg.severity.value == "critical"

    explicit = found[("management-group/policyAssignments/remediation.json", 29)]
    assert explicit.message.startswith("'Contributor' at tenant scope ")  # its own `scope` wins
    assert "scope:" not in explicit.fix.message

    rg = found[("resource-group/modules/identity.json", 13)]
    assert "at resource-group scope" in rg.message
    assert "scope: where resource-group/main.json deploys it" in rg.fix.message
    assert rg.severity.value == "medium"  # Contributor on a subscription-schema template would be high

    disagree = found[("disagree/shared/access.json", 13)]
    assert "at management-group scope" in disagree.message
    assert ("scope: the broadest it is deployed at: disagree/management.json (management-group), "
            "disagree/workload.json (subscription)") in disagree.fix.message

    chain = found[("chain/platform/identity/identity.json", 13)]
    assert "at management-group scope" in chain.message
    assert ("scope: where chain/platform/platform.json deploys it; chain/root.json deploys "
            "chain/platform/platform.json there") in chain.fix.message

    unresolved = found[("unresolved/nested/admins.json", 13)]
    assert "at tenant scope" in unresolved.message
    assert "scope: the template's deployment scope" in unresolved.fix.message


def test_fingerprint_does_not_depend_on_the_parent(tmp_path):
    child = template(TENANT, [owner_assignment()], parameters={"principalId": {"type": "string"}})
    write(tmp_path / "alone", "policies/owner.json", child)
    write(tmp_path / "linked", "policies/owner.json", child)
    write(tmp_path / "linked", "main.json", template(TENANT, [deployment(
        {"relativePath": "policies/owner.json"},
        scope="[tenantResourceId('Microsoft.Management/managementGroups', 'contoso')]")]))
    [alone] = run(tmp_path / "alone")
    [linked] = run(tmp_path / "linked")
    assert "tenant scope" in alone.message and "management-group scope" in linked.message
    assert alone.fingerprint == linked.fingerprint == fingerprint("KL401", "roleAssignment|owner|Owner")


def test_a_parent_deploying_at_a_computed_scope_keeps_the_template_scope(tmp_path):
    write(tmp_path, "policies/owner.json",
          template(TENANT, [owner_assignment()], parameters={"principalId": {"type": "string"}}))
    write(tmp_path, "main.json", template(TENANT, [deployment({"relativePath": "policies/owner.json"},
                                                              scope="[parameters('target')]")],
                                          parameters={"target": {"type": "string"}}))
    [f] = run(tmp_path)
    assert "at tenant scope" in f.message and "scope: the template's deployment scope" in f.fix.message


def test_a_deployment_cycle_terminates(tmp_path):
    write(tmp_path, "a.json", template(MANAGEMENT_GROUP, [deployment({"relativePath": "b.json"})]))
    write(tmp_path, "b.json", template(TENANT, [deployment({"relativePath": "a.json"}), owner_assignment()],
                                       parameters={"principalId": {"type": "string"}}))
    [f] = run(tmp_path)
    # a.json deploys b.json at a.json's own scope; nothing outside the cycle deploys a.json.
    assert "at management-group scope" in f.message
    assert "scope: where a.json deploys it" in f.fix.message


def test_an_inline_nested_deployment_inherits_the_linked_scope(tmp_path):
    inline = {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inline",
              "location": "westeurope",
              "properties": {"mode": "Incremental", "template": {
                  "$schema": TENANT, "contentVersion": "1.0.0.0", "resources": [owner_assignment()]}}}
    write(tmp_path, "child.json", template(TENANT, [inline], parameters={"principalId": {"type": "string"}}))
    write(tmp_path, "main.json", template(SUBSCRIPTION, [deployment({"relativePath": "child.json"})]))
    [f] = run(tmp_path)
    assert "at subscription scope" in f.message
    assert "scope: where main.json deploys it" in f.fix.message


# ---- which file a deployment deploys ------------------------------------------------------------

@pytest.mark.parametrize("link,variables,want", [
    ({"relativePath": "nested/child.json"}, {}, "infra/nested/child.json"),
    ({"relativePath": "../shared/./child.json"}, {}, "shared/child.json"),
    ({"uri": "[uri(deployment().properties.templateLink.uri, 'nested/child.json')]"}, {}, "infra/nested/child.json"),
    ({"uri": "[uri(deployment().properties.templateLink.uri, concat('nested/', 'child.json'))]"}, {},
     "infra/nested/child.json"),
    ({"uri": "[uri(deployment().properties.templateLink.uri, format('{0}/child.json', 'nested'))]"}, {},
     "infra/nested/child.json"),
    ({"uri": "[variables('uris').child]"},
     {"uris": {"child": "[uri(deployment().properties.templateLink.uri, 'nested/child.json')]"}},
     "infra/nested/child.json"),
    # Not fixed by the template text, or outside the repository:
    ({"relativePath": "[parameters('path')]"}, {}, None),
    ({"uri": "[uri(deployment().properties.templateLink.uri, parameters('path'))]"}, {}, None),
    ({"uri": "[uri(parameters('_artifactsLocation'), 'nested/child.json')]"}, {}, None),
    ({"uri": "https://raw.githubusercontent.com/contoso/infra/main/child.json"}, {}, None),
    ({"uri": "[uri(deployment().properties.templateLink.uri, 'https://example.org/child.json')]"}, {}, None),
    ({"uri": "[concat(uri(deployment().properties.templateLink.uri, 'child.json'), '?sv=x')]"}, {}, None),
    ({"relativePath": "../../outside.json"}, {}, None),
    ({"id": "[resourceId('Microsoft.Resources/templateSpecs/versions', 'spec', '1.0')]"}, {}, None),
])
def test_linked_target(link, variables, want):
    text = template(TENANT, [deployment(link)], variables=variables,
                    parameters={"path": {"type": "string", "defaultValue": "nested/child.json"},
                                "_artifactsLocation": {"type": "string", "defaultValue": "https://x/"}})
    got = deploys(text)
    assert [d["target"] for d in got] == ([want] if want else [])


@pytest.mark.parametrize("schema,scope,want,default", [
    (TENANT, {}, "tenant", True),
    (SUBSCRIPTION, {"resourceGroup": "rg"}, "resourceGroup", False),
    (TENANT, {"subscriptionId": "00000000-0000-0000-0000-000000000000"}, "subscription", False),
    (TENANT, {"scope": "[tenantResourceId('Microsoft.Management/managementGroups/', parameters('prefix'))]"},
     "managementGroup", False),
    # copy loops over management groups: only the group's name is unknown
    (TENANT, {"scope": "[concat('Microsoft.Management/managementGroups/', variables('groups')[copyIndex()])]"},
     "managementGroup", False),
    (TENANT, {"scope": "[parameters('prefix')]"}, None, False),
])
def test_deployed_scope_of_a_linked_deployment(schema, scope, want, default):
    text = template(schema, [deployment({"relativePath": "child.json"}, **scope)],
                    parameters={"prefix": {"type": "string"}}, variables={"groups": ["a", "b"]})
    [d] = deploys(text)
    assert (d["scope"], d["scope_is_default"]) == (want, default)


def test_placeholders_only_stand_in_for_joined_parts():
    shape = Context({"names": ["a"]}, {}).with_placeholders()
    assert shape.resolve("[concat('/subscriptions/', parameters('names')[copyIndex()])]") == "/subscriptions/{?}"
    assert shape.resolve("[empty(parameters('names')[copyIndex()])]") is UNKNOWN  # never a made-up test
