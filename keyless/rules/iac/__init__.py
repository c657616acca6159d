"""IaC rules: key-based auth, missing and ambiguous managed identities, and broad role assignments in
ARM/Bicep-compiled templates, Terraform (HCL, JSON, plans), Container Apps / Container Instances YAML
and Kubernetes manifests, linked across files with the Python code that runs in each app."""

from keyless.rules.iac.local_auth import RESOURCE_RULES
from keyless.rules.iac.rules import RULES as _RULES

RULES = sorted(_RULES + RESOURCE_RULES, key=lambda rule: rule.code)

__all__ = ["RULES"]
