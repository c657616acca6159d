"""note_listed_keys: every string of a template's resources and outputs that reads a key with a
list*() call is a key user, at its own line; inline nested templates are walked on their own."""

from __future__ import annotations

import json

from keyless.linter import engine
from keyless.linter.documents import make_document

TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "resources": [
        {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "data", "location": "x",
         "tags": {"note": "listKeys is mentioned here but this is no expression", "n": 1, "b": True, "z": None}},
        {"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-02-01", "name": "kv/storage",
         "properties": {"value": "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'data'), "
                                 "'2023-01-01').keys[0].value]"}},
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inner",
         "properties": {"mode": "Incremental", "template": {"resources": [
             {"type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": "2023-02-01", "name": "kv/inner",
              "properties": {"value": "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'data'), "
                                      "'2023-01-01').keys[1].value]"}}]}}},
    ],
    "outputs": {"keys": {"type": "array", "value": [
        "[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'data'), '2023-01-01').keys[0].value]"]}},
}


def _key_user_lines(text):
    doc = make_document("azuredeploy.json", "azuredeploy.json", text)
    settings = engine.Settings(root=".", select=engine.resolve_selection(engine.load_registry(), None))
    res = engine.lint_document(doc, settings)
    return sorted(f.data["line"] for f in res.facts if f.kind == "iac.key-user")


def test_key_users_are_found_at_their_lines_in_resources_outputs_and_nested_templates():
    text = json.dumps(TEMPLATE, indent=1)
    lines = text.splitlines()
    expected = sorted(n for n, line in enumerate(lines, 1) if '"[listKeys(' in line)
    assert len(expected) == 3
    assert _key_user_lines(text) == expected  # the nested template's own walk reports its line
