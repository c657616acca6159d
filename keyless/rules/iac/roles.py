"""Built-in Azure role names and GUIDs, and which data-plane role fits which SDK client.

Every GUID here was checked against the azure-docs built-in roles page or at least two independent
public templates that show the name next to the GUID.
"""

from __future__ import annotations

import re

ROLES: dict[str, str] = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Reader": "19e7f393-937e-4f77-808e-94535e297925",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Key Vault Administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Service Bus Data Owner": "090c5cfd-751d-490a-894a-3ce6f1109419",
    "Azure Event Hubs Data Sender": "2b629674-e913-4c01-ae53-ef4638d8f975",
    "Azure Event Hubs Data Receiver": "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
    "Azure Event Hubs Data Owner": "f526a384-b230-433a-b45c-95f59c4a2dec",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    "Cognitive Services User": "a97b65f3-24c7-4388-baec-2e87135dc908",
    "App Configuration Data Owner": "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b",
    "App Configuration Data Reader": "516239f1-63e1-4d78-a4de-a74fb236a071",
    "Search Index Data Reader": "1407120a-92aa-4202-b7e9-c0e197c71c8f",
    "Search Index Data Contributor": "8ebe5a00-799e-43f5-93ac-243d3dce84a7",
}

NAME_BY_GUID = {g: n for n, g in ROLES.items()}

BROAD_ROLES = frozenset({
    "Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator",
})

_ALIASES = {
    "rbac administrator": "Role Based Access Control Administrator",
    "role based access control administrator": "Role Based Access Control Administrator",
}

GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The middle of a GUID (`-xxxx-xxxx-xxxx-`): it starts with a literal, so the regex engine skips
# to each `-` instead of trying 8 hex digits at every position (200x faster on a 400 kB template).
_GUID_MIDDLE_RE = re.compile(r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-")
_HEX = frozenset("0123456789abcdefABCDEF")


def guid_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every match of GUID_RE in `text`, as `GUID_RE.finditer` gives them
    (leftmost, not overlapping). A match's middle is the one at its start + 8, and a middle that
    starts inside an earlier middle has a `-` where its 8 leading digits would be, so no valid
    middle is ever hidden by the one the search found."""
    out: list[tuple[int, int]] = []
    end = 0
    hex_ = _HEX
    for m in _GUID_MIDDLE_RE.finditer(text):
        c = m.start()
        s, e = c - 8, c + 28
        if s < end or e > len(text):
            continue
        if all(ch in hex_ for ch in text[s:c]) and all(ch in hex_ for ch in text[c + 16:e]):
            out.append((s, e))
            end = e
    return out


# Actions that let the holder write role assignments, i.e. grant itself (or anyone) any role.
_ESCALATING = ("*", "*/write", "microsoft.authorization/*", "microsoft.authorization/*/write",
               "microsoft.authorization/roleassignments/*", "microsoft.authorization/roleassignments/write")


def escalating_action(action: object, not_actions: list | None) -> bool:
    """`*` and the narrower patterns that include `Microsoft.Authorization/roleAssignments/write`,
    unless `notActions` takes that back (`*` minus `Microsoft.Authorization/*/Write` is the built-in
    Contributor: broad, but it cannot grant itself more)."""
    if not isinstance(action, str):
        return False
    a = action.strip().lower()
    if a not in _ESCALATING:
        return False
    excluded = {str(n).strip().lower() for n in not_actions or () if isinstance(n, str)}
    return not excluded & set(_ESCALATING[1:])


def escalation_words(action: object) -> str:
    if isinstance(action, str) and action.strip() == "*":
        return "allows every action ('*')"
    if isinstance(action, str) and action.strip().lower() == "microsoft.authorization/roleassignments/write":
        return "allows writing role assignments"
    return f"allows '{action}'"


def canonical_name(name: str) -> str | None:
    low = " ".join(name.split()).lower()
    for n in ROLES:
        if n.lower() == low:
            return n
    return _ALIASES.get(low)


def guid_of(role_definition_id: str) -> str | None:
    """The role GUID at the end of a role definition id (or the id itself)."""
    if not isinstance(role_definition_id, str):
        return None
    last = role_definition_id.rstrip("/").rsplit("/", 1)[-1]
    m = GUID_RE.fullmatch(last.strip())
    return m.group(0).lower() if m else None


def _squash(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


# Squashed role-name spellings seen in comments and variable names -> canonical name.
_NAME_HINTS: list[tuple[str, str]] = sorted(
    [(_squash(n), n) for n in ROLES]
    + [
        ("rbacadministrator", "Role Based Access Control Administrator"),
        ("rbacadmin", "Role Based Access Control Administrator"),
        ("servicebusdatasender", "Azure Service Bus Data Sender"),
        ("servicebusdatareceiver", "Azure Service Bus Data Receiver"),
        ("servicebusdataowner", "Azure Service Bus Data Owner"),
        ("eventhubsdatasender", "Azure Event Hubs Data Sender"),
        ("eventhubsdatareceiver", "Azure Event Hubs Data Receiver"),
        ("eventhubsdataowner", "Azure Event Hubs Data Owner"),
        ("eventhubdatasender", "Azure Event Hubs Data Sender"),
        ("eventhubdatareceiver", "Azure Event Hubs Data Receiver"),
        ("eventhubdataowner", "Azure Event Hubs Data Owner"),
        ("openaiuser", "Cognitive Services OpenAI User"),
        ("useraccessadmin", "User Access Administrator"),
    ],
    key=lambda p: -len(p[0]),
)


def role_named_in(text: str) -> str | None:
    """The built-in role a comment or variable name refers to, if exactly one is recognisable."""
    sq = _squash(text)
    if not sq:
        return None
    for hint, name in _NAME_HINTS:
        pos = sq.find(hint)
        if pos >= 0:
            # 'Storage Blob Data Owner' must not be read as 'Owner'; longest hint wins. A generic name
            # preceded by other words ('Cognitive Services Contributor') names a role we do not know.
            if name in _GENERIC_NAMES:
                prefix = sq[:pos]
                if prefix and not prefix.endswith(("role", "var", "builtin", "param", "local", "locals")):
                    return None
            return name
    return None


_GENERIC_NAMES = {"Owner", "Contributor", "Reader"}


# SDK service (py.sdk-client "service") -> (read role, write role, resource label)
SERVICE_ROLES: dict[str, tuple[str, str, str]] = {
    "storage-blob": ("Storage Blob Data Reader", "Storage Blob Data Contributor", "storage account"),
    "storage-datalake": ("Storage Blob Data Reader", "Storage Blob Data Contributor", "storage account"),
    "storage-queue": ("Storage Queue Data Reader", "Storage Queue Data Contributor", "storage account"),
    "storage-table": ("Storage Table Data Contributor", "Storage Table Data Contributor", "storage account"),
    "servicebus": ("Azure Service Bus Data Receiver", "Azure Service Bus Data Sender", "Service Bus namespace"),
    "eventhubs": ("Azure Event Hubs Data Receiver", "Azure Event Hubs Data Sender", "Event Hubs namespace"),
    "keyvault-secrets": ("Key Vault Secrets User", "Key Vault Secrets Officer", "key vault"),
    "keyvault-keys": ("Key Vault Crypto User", "Key Vault Crypto User", "key vault"),
    "appconfig": ("App Configuration Data Reader", "App Configuration Data Owner", "App Configuration store"),
    "openai": ("Cognitive Services OpenAI User", "Cognitive Services OpenAI User", "Azure OpenAI account"),
    "cognitive": ("Cognitive Services User", "Cognitive Services User", "Azure AI services account"),
    "search": ("Search Index Data Reader", "Search Index Data Contributor", "search service"),
    "cosmos": ("Cosmos DB Built-in Data Reader", "Cosmos DB Built-in Data Contributor", "Cosmos DB account"),
}


def role_for(service: str, access: str) -> tuple[str, str] | None:
    """(role name, resource label) for an SDK service and access kind."""
    entry = SERVICE_ROLES.get(service)
    if entry is None:
        return None
    read, write, label = entry
    return (read if access == "read" else write), label
