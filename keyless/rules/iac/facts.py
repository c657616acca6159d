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
- `iac.compiled`: a Bicep-compiled template and its Bicep source next to it (`source`): one
  deployment for the project model.

An `iac.app` or `iac.role` fact that only an ARM parameter file's values produce lists those files
in `parameters_from` (an `iac.issue` says so in its message).
"""

from __future__ import annotations

from typing import Any

from keyless.linter.messages import short_name
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
    return f" (with {', '.join(files)})" if files else ""


def via_notes(via: list, param: str | None) -> tuple[str, str]:
    """What a finding re-homed from a module says of the modules it went through (outermost
    first): a short note for the message (` (via module 'api' -> module 'app')`) and the full one
    for the help (` (module 'api' in infra/app/api.bicep -> ..., value passed for 'x')`)."""
    short = " -> ".join(f"module '{m}'" for m, _ in via)
    chain = " -> ".join(f"module '{m}' in {p}" for m, p in via)
    full = f" ({chain}, value passed for '{param}')" if param else f" ({chain})"
    return f" (via {short})", full


def with_note(message: str, note: str) -> tuple[str, str]:
    """`message` with ` (note)` added: inside its closing parenthesis when it ends with one
    (`... (x is true, via module 'a')`), else at the end (before a final period). Returns the new
    message and the text inserted, which `message.replace(inserted, "", 1)` takes out again."""
    if not note:
        return message, ""
    body = message[:-1] if message.endswith(".") else message
    end = message[len(body):]
    inner = note.strip()
    if body.endswith(")") and inner.startswith("(") and inner.endswith(")"):
        inserted = f", {inner[1:-1]}"
        return body[:-1] + inserted + ")" + end, inserted
    return body + note + end, note


def inline(text: str) -> str:
    """A snippet written on several lines (`identity: {\n  type: 'SystemAssigned'\n}`) as one line
    for a fix message: the lines trimmed and joined by one blank."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


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


def _last_name(ref: str) -> str:
    """`orders-api-id` of `/subscriptions/.../userAssignedIdentities/orders-api-id` or of
    `[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'orders-api-id')]`."""
    words = [w for w in ref.replace('"', "'").split("'") if w.strip(" ,()[]")]
    last = words[-1] if "'" in ref and words else ref
    return short_name(last.strip(" ,()[]").rstrip("/").rsplit("/", 1)[-1] or ref)


def client_id_help(data: dict) -> str:
    """One line saying how to set AZURE_CLIENT_ID for an app fact (`iac.app` data): the value the
    format writes for its first user-assigned identity, or the command line of a script."""
    text = data.get("client_id_fix_text") or ""
    if text and "\n" not in text:  # a script's command line, e.g. az webapp config appsettings set ...
        return f"set AZURE_CLIENT_ID (`{text}`)"
    ids = [c for c in data.get("uami_client_ids") or [] if isinstance(c, str)]
    if not ids:
        return "set AZURE_CLIENT_ID to the client id of the user-assigned identity the code should use"
    cid = ids[0]
    uamis = [u for u in data.get("uamis") or [] if isinstance(u, str)]
    if cid.startswith("<client id of ") and cid.endswith(">"):  # YAML and scripts: a resource id or a name
        cid = f"the client id of '{_last_name(cid[len('<client id of '):-1])}'"
    elif len(cid) > 48 and uamis:  # an ARM expression: name the identity instead
        cid = f"the client id of '{_last_name(uamis[0])}'"
    else:
        cid = f"`{cid}`"
    if len(ids) > 1:  # several user-assigned identities: the author picks one
        names = ", ".join(_last_name(u) for u in uamis[:3]) if uamis else cid
        return f"set AZURE_CLIENT_ID to the client id of the identity the code uses ({names})"
    return f"set AZURE_CLIENT_ID to {cid}"


def bare(note: str) -> str:
    """` (from the default of var.role)` -> `from the default of var.role`: a note without its
    parentheses, for a list of notes."""
    text = note.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and i < len(text) - 1:
            return text  # `(a) (b)`: two notes, not one in parentheses
    return text[1:-1]
