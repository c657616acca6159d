"""Unit tests of the IaC building blocks: the ARM expression evaluator, identity-type
normalisation, role tables, Terraform plans and the identity-insertion fix."""

from __future__ import annotations

import json

import pytest

from keyless.linter.engine import lint_source
from keyless.rules.iac import roles as R
from keyless.rules.iac.common import Ref, key_source, parse_identity_type
from keyless.rules.iac.expr import UNKNOWN, Context, classify_scope, functions_called


def ev(expr, params=None, variables=None):
    return Context(params or {}, variables or {}).evaluate(expr)


@pytest.mark.parametrize("expr,want", [
    ("[concat('a', 'b', parameters('p'))]", "abc"),
    ("[format('{0}-{1}', 'x', 2)]", "x-2"),
    ("[toLower(variables('v'))]", "mixed"),
    ("[if(equals(parameters('p'), 'c'), 'yes', 'no')]", "yes"),
    ("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'abc')]",
     "/subscriptions/{subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/abc"),
    ("[resourceGroup().id]", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"),
    ("[createObject('a', 1).a]", 1),
    ("[createArray('x', 'y')[1]]", "y"),
])
def test_evaluator_models_pure_functions(expr, want):
    assert ev(expr, {"p": "c"}, {"v": "MiXeD"}) == want


@pytest.mark.parametrize("expr", [
    "[reference('x').clientId]", "[listKeys('x', '2023-01-01').keys[0].value]", "[uniqueString('a')]",
    "[concat('a', parameters('missing'))]", "[if(parameters('missing'), 'a', 'b')]", "[newGuid()]",
    "[concat(", "[variables('self')]",
])
def test_evaluator_never_guesses(expr):
    assert ev(expr, {}, {"self": "[variables('self')]"}) is UNKNOWN


def test_evaluator_budget_on_hostile_nesting():
    deep = "[" + "concat(" * 500 + "'a'" + ")" * 500 + "]"
    assert ev(deep) is UNKNOWN


def test_functions_called():
    assert functions_called("[concat(listKeys(variables('a'), '1').key1, 'x')]") == {"concat", "listkeys", "variables"}
    assert functions_called("plain") == set()


@pytest.mark.parametrize("value,state,system,user", [
    ("SystemAssigned,UserAssigned", "set", True, True),
    ("SystemAssigned, UserAssigned", "set", True, True),
    ("userassigned", "set", False, True),
    ("None", "none", False, False),
    ("", "none", False, False),
    (None, "none", False, False),
    (UNKNOWN, "unknown", False, False),
    (Ref("var.identity_type"), "unknown", False, False),
    ("SystemAssigned,Bogus", "unknown", False, False),
])
def test_identity_type_normalisation(value, state, system, user):
    t = parse_identity_type(value)
    assert (t.state, t.system, t.user) == (state, system, user)


@pytest.mark.parametrize("scope,kind", [
    ("/subscriptions/{subscriptionId}", "subscription"),
    ("/subscriptions/x/resourceGroups/rg", "resourceGroup"),
    ("/providers/Microsoft.Management/managementGroups/mg", "managementGroup"),
    ("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa", "resource"),
    ("Microsoft.Storage/storageAccounts/sa", "resource"),
    ("/", "tenant"),
    (UNKNOWN, "unknown"),
])
def test_scope_classification(scope, kind):
    assert classify_scope(scope) == kind


def test_role_table_and_hints():
    assert R.guid_of("/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/B24988AC-6180-42A0-AB88-20F7382DD24C") \
        == R.ROLES["Contributor"]
    assert R.role_named_in("storageBlobDataOwnerRoleId") == "Storage Blob Data Owner"
    assert R.role_named_in("acr_pull_role") == "AcrPull"
    assert R.role_named_in("Cognitive Services Contributor") is None  # a role we do not model
    assert R.role_named_in("contributorRoleId") == "Contributor"
    assert len(set(R.ROLES.values())) == len(R.ROLES)


def test_key_source():
    assert key_source(Ref("azurerm_storage_account.sa.primary_connection_string")) == "primary_connection_string"
    assert key_source(Ref("azurerm_storage_account.sa.primary_blob_endpoint")) is None
    assert key_source(Ref("azurerm_application_insights.ai.connection_string")) is None
    assert key_source("[listKeys(variables('sa'), '2023-01-01').keys[0].value]") == "listKeys()"
    assert key_source("[reference(variables('ai')).ConnectionString]") is None
    assert key_source("literal") is None


PLAN = {
    "format_version": "1.2",
    "planned_values": {"root_module": {"resources": []}},
    "resource_changes": [
        {"address": "azurerm_role_assignment.a", "mode": "managed", "type": "azurerm_role_assignment", "name": "a",
         "change": {"actions": ["create"], "after": {"role_definition_name": "Owner", "principal_id": "p"},
                    "after_unknown": {"scope": True, "id": True}}},
        {"address": "azurerm_role_assignment.b", "mode": "managed", "type": "azurerm_role_assignment", "name": "b",
         "change": {"actions": ["create"], "after": {"role_definition_name": "Owner", "scope": "/subscriptions/0000"},
                    "after_unknown": {}}},
        {"address": "azurerm_container_app.c", "mode": "managed", "type": "azurerm_container_app", "name": "c",
         "change": {"actions": ["create"], "after": {"name": "c", "identity": [], "template": [{"container": [{"name": "c", "image": "i"}]}]},
                    "after_unknown": {"identity": []}}},
    ],
}


def test_terraform_plan_unknown_scope_is_not_guessed():
    text = json.dumps(PLAN, indent=1)
    found = lint_source(text, "plan.json", select=["KL401", "KL301"])
    got = sorted((f.code, text.splitlines()[f.span.start.line - 1].strip()) for f in found)
    assert [c for c, _ in got] == ["KL301", "KL401"]
    assert "Owner" in got[1][1]


def test_arm_identity_insert_fix_keeps_valid_json():
    text = open("fixtures/KL301/bad_containerapp.json", encoding="utf-8").read()
    found = [f for f in lint_source(text, "KL301/bad_containerapp.json", select=["KL301"]) if f.fix and f.fix.edits]
    assert found
    from keyless.linter.documents import LineIndex

    li = LineIndex(text)
    e = found[0].fix.edits[0]
    out = text[: li.offset(e.span.start)] + e.content + text[li.offset(e.span.end):]
    doc = json.loads(out)
    assert doc["resources"][0]["identity"] == {"type": "SystemAssigned"}


def test_findings_never_carry_secret_values():
    text = open("fixtures/KL257/bad.json", encoding="utf-8").read()
    for f in lint_source(text, "KL257/bad.json", select=["KL2", "KL3", "KL4", "KL5"]):
        assert "P@ssw0rd" not in f.message and "not-a-real-key" not in f.message


def test_guid_spans_are_what_the_guid_pattern_finds():
    # guid_spans (a literal-led search) must give GUID_RE.finditer's matches on any text: runs of
    # hex digits of every length around dashes, adjacent and overlapping candidates.
    import random

    rng = random.Random(20261206)
    hexdigits = "0123456789abcdefABCDEF"
    texts = ["", "-", "0" * 8 + "-0000-0000-0000-" + "0" * 12, "x8e3af657-a8ff-443c-a75c-2fe8c4bcb635y",
             "8e3af657-a8ff-443c-a75c-2fe8c4bcb6358e3af657-a8ff-443c-a75c-2fe8c4bcb635",
             "aaaaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeeeee-ffff-0000-1111-222222222222"]
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 4)):  # GUID-shaped groups, some a digit longer or shorter
            for size in (8, 4, 4, 4, 12):
                size += rng.choice((0, 0, 0, 0, 0, 0, -1, 1, 2))
                parts.append("".join(rng.choice(hexdigits) for _ in range(max(size, 0))))
                parts.append(rng.choice(("-",) * 12 + ("--", " ", "g", "")))
        texts.append("".join(parts))
    found = 0
    for text in texts:
        expected = [m.span() for m in R.GUID_RE.finditer(text)]
        assert R.guid_spans(text) == expected, text
        found += len(expected)
    assert found > 20  # the inputs do hold GUIDs
