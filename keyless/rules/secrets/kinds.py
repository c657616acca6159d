"""Credential kinds: which rule reports them, how they are called, how bad they are by default."""

from __future__ import annotations

from typing import NamedTuple

from keyless.linter.finding import Severity


class KindInfo(NamedTuple):
    code: str
    label: str
    severity: Severity
    guidance: str  # key into guidance.GUIDANCE


KINDS: dict[str, KindInfo] = {
    "storage-key": KindInfo("KL101", "Storage account key", Severity.CRITICAL, "storage"),
    "sas": KindInfo("KL102", "Shared access signature (SAS)", Severity.HIGH, "sas"),
    "servicebus-key": KindInfo("KL103", "Service Bus key", Severity.HIGH, "servicebus"),
    "eventhubs-key": KindInfo("KL103", "Event Hubs key", Severity.HIGH, "eventhubs"),
    "relay-key": KindInfo("KL103", "Azure Relay key", Severity.HIGH, "relay"),
    "messaging-key": KindInfo("KL103", "Service Bus / Event Hubs / Relay key", Severity.HIGH, "servicebus"),
    "iot-key": KindInfo("KL104", "IoT Hub key", Severity.CRITICAL, "iot"),
    "cosmos-key": KindInfo("KL105", "Cosmos DB account key", Severity.CRITICAL, "cosmos"),
    "db-password": KindInfo("KL106", "Database password", Severity.HIGH, "sql"),
    # a password default in Terraform that deploys to Azure, read by no database: lower confidence
    "iac-password": KindInfo("KL106", "Password", Severity.MEDIUM, "password"),
    "redis-key": KindInfo("KL107", "Azure Cache for Redis access key", Severity.HIGH, "redis"),
    "appconfig-secret": KindInfo("KL108", "App Configuration access key", Severity.HIGH, "appconfig"),
    "signalr-key": KindInfo("KL109", "SignalR access key", Severity.HIGH, "signalr"),
    "webpubsub-key": KindInfo("KL109", "Web PubSub access key", Severity.HIGH, "webpubsub"),
    "function-key": KindInfo("KL110", "Azure Functions key", Severity.HIGH, "functions"),
    "ai-key": KindInfo("KL111", "Azure AI services key", Severity.HIGH, "ai"),
    "search-key": KindInfo("KL111", "Azure AI Search key", Severity.HIGH, "search"),
    "entra-secret": KindInfo("KL112", "Entra ID client secret", Severity.CRITICAL, "entra"),
    "devops-pat": KindInfo("KL113", "Azure DevOps personal access token", Severity.CRITICAL, "devops"),
    "acr-key": KindInfo("KL114", "Container registry password", Severity.HIGH, "acr"),
    "batch-key": KindInfo("KL115", "Batch account key", Severity.CRITICAL, "batch"),
    "maps-key": KindInfo("KL116", "Azure Maps key", Severity.HIGH, "maps"),
    "apim-key": KindInfo("KL117", "API Management key", Severity.HIGH, "apim"),
    "eventgrid-key": KindInfo("KL117", "Event Grid access key", Severity.HIGH, "eventgrid"),
    "acs-key": KindInfo("KL117", "Communication Services access key", Severity.HIGH, "acs"),
    "fluidrelay-key": KindInfo("KL117", "Fluid Relay key", Severity.HIGH, "keyvault"),
    "mixedreality-key": KindInfo("KL117", "Mixed Reality account key", Severity.HIGH, "keyvault"),
    "ml-key": KindInfo("KL117", "Azure ML web service key", Severity.HIGH, "keyvault"),
    "sql-key": KindInfo("KL117", "SQL identifiable key", Severity.HIGH, "keyvault"),
    "cask-key": KindInfo("KL117", "Microsoft identifiable key (CASK)", Severity.HIGH, "keyvault"),
    "entra-refresh-token": KindInfo("KL118", "Entra ID refresh token", Severity.HIGH, "entra-token"),
}

# Variant -> severity override (read-only, device-scoped, master...).
VARIANT_SEVERITY: dict[tuple[str, str], Severity] = {
    ("cosmos-key", "read-only key"): Severity.HIGH,
    ("cosmos-key", "system read-only key"): Severity.HIGH,
    ("search-key", "query key"): Severity.MEDIUM,
    ("search-key", "admin key"): Severity.HIGH,
    ("iot-key", "device"): Severity.MEDIUM,
    ("iot-key", "hub"): Severity.CRITICAL,
    ("iot-key", "dps"): Severity.CRITICAL,
    ("function-key", "master key"): Severity.CRITICAL,
    ("function-key", "system key"): Severity.HIGH,
    ("servicebus-key", "manage"): Severity.CRITICAL,
    ("eventhubs-key", "manage"): Severity.CRITICAL,
    ("relay-key", "manage"): Severity.CRITICAL,
    ("messaging-key", "manage"): Severity.CRITICAL,
    ("apim-key", "direct management key"): Severity.CRITICAL,
    ("apim-key", "repository (Git) key"): Severity.CRITICAL,
    ("devops-pat", "unverified"): Severity.HIGH,
}


def codes() -> set[str]:
    return {k.code for k in KINDS.values()}
