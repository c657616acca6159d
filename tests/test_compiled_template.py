"""A Bicep-compiled template committed next to its source (`main.json` built from `main.bicep`):
its findings are reported (the file is deployable, e.g. by a Deploy to Azure button, and may be
stale), but their help points at the Bicep source and offers no edit of the generated JSON
(field test stop 19; keyless/rules/iac/extract.py `compiled_from`)."""

from __future__ import annotations

import json

from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, resolve_selection
from keyless.linter.finding import Applicability
from keyless.linter.rule import load_registry

BICEP = """resource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stdata'
  location: 'westeurope'
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
  }
}
"""


def compiled(generator: str | None) -> str:
    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "resources": [{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
                               "name": "stdata", "location": "westeurope", "kind": "StorageV2",
                               "sku": {"name": "Standard_LRS"},
                               "properties": {"minimumTlsVersion": "TLS1_2"}}]}
    if generator:
        template = {"$schema": template["$schema"], "contentVersion": "1.0.0.0",
                    "metadata": {"_generator": {"name": generator, "version": "0.30.23.60470"}},
                    "resources": template["resources"]}
    return json.dumps(template, indent=2)


def run(root):
    reg = load_registry()
    st = Settings(root=str(root), select=resolve_selection(reg, ["KL260"]), concrete_fixes=True)
    return {f.path: f for f in lint_paths([str(root)], Config(root=str(root)), st, excludes=[], jobs=1).findings}


def test_the_compiled_template_is_reported_and_fixed_in_its_source(tmp_path):
    (tmp_path / "main.bicep").write_text(BICEP)
    (tmp_path / "main.json").write_text(compiled("bicep"))
    found = run(tmp_path)
    assert set(found) == {"main.bicep", "main.json"}
    fix = found["main.json"].fix
    assert fix.applicability is Applicability.DISPLAY_ONLY and not fix.edits
    assert "fix main.bicep (this file is built from it) and rebuild" in fix.message
    assert found["main.bicep"].fix.applicability is Applicability.UNSAFE and found["main.bicep"].fix.edits


def test_a_hand_written_template_or_one_without_its_source_keeps_its_edit(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.bicep").write_text(BICEP)
    (tmp_path / "a" / "main.json").write_text(compiled(None))  # not Bicep's output
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "main.json").write_text(compiled("bicep"))  # the source is not in the scan
    found = run(tmp_path)
    for path in ("a/main.json", "b/main.json"):
        assert found[path].fix.applicability is Applicability.UNSAFE and found[path].fix.edits, path
        assert "built from" not in found[path].fix.message
