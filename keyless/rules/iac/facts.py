"""Secret-free facts the IaC extractors emit, and helpers to turn them back into Findings.

Three kinds:

- `iac.issue`: a finding decided from one file (code, span, structural key, message, fix);
- `iac.app`: one deployed workload (container app/job, container group, web/function app,
  Kubernetes workload) with its identities and whether AZURE_CLIENT_ID is set - the node of the
  project model that links deployments to the Python code in the repo;
- `iac.k8s-sa`, `iac.k8s-pod`, `iac.azd`: Kubernetes service accounts/pods and azd service maps,
  joined across files by the project model;
- `iac.deploys`: an ARM deployment of another file of the repository (`templateLink`): its
  repository path (`target`) and the scope kind it deploys it at (`scope`, None when computed at
  deploy time; `scope_is_default` when that is the deploying template's own `$schema` scope). An
  `iac.role` with `scope_is_default` takes its scope from the templates that deploy its file.

- `iac.key-user`: something that uses a resource's key: a CI step deploying with a publishing
  profile (`service`), or a template / configuration reading a resource's key (a `list*()` call, a
  Terraform key attribute: into an app setting, a Key Vault secret, a Container Apps environment,
  a connection, an output; `rule` and `switch_type`: the resource rule and the ARM type of its
  switch table entry the key belongs to; `code`: KL252/KL253 when one reports it). The resource
  rules count them with the Python SDK clients that use keys (`line`: where).
- `iac.bicep-module`: a Bicep module walked with a caller's values: its repository path
  (`target`) and the ids of the module's own facts that walk did not reproduce
  (`unreproduced`); `iac.app` facts a caller's values produce carry `instance_of` and `via`.

An `iac.app` or `iac.role` fact that only an ARM parameter file's values produce lists those files
in `parameters_from` (an `iac.issue` says so in its message).
"""

from __future__ import annotations

from typing import Any

from keyless.linter.finding import Applicability, Edit, Fix, Position, Span

SpanList = list  # [line, column, end_line, end_column]


def span_to_list(span: Span | None) -> SpanList:
    if span is None:
        return [1, 1, 1, 1]
    return [span.start.line, span.start.column, span.end.line, span.end.column]


def list_to_span(v: SpanList) -> Span:
    return Span(Position(v[0], v[1]), Position(v[2], v[3]))


def parameters_note(files: list[str] | None) -> str:
    """Message suffix of a finding that only an ARM parameter file's values produce."""
    return f" (with parameters from {', '.join(files)})" if files else ""


def fix_dict(message: str, applicability: str, edits: list | None = None) -> dict[str, Any]:
    """edits: [[line, col, end_line, end_col, content], ...]"""
    return {"message": message, "applicability": applicability, "edits": edits or []}


def fix_from_dict(d: dict | None) -> Fix | None:
    if not d:
        return None
    edits = tuple(Edit(Span(Position(e[0], e[1]), Position(e[2], e[3])), e[4]) for e in d.get("edits") or ())
    appl = Applicability(d.get("applicability") or "display-only")
    if appl is not Applicability.DISPLAY_ONLY and not edits:
        appl = Applicability.DISPLAY_ONLY
    return Fix(d["message"], appl, edits)


def and_list(words: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`: for messages."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
