"""Azure host suffixes -> service, and a per-document index of where they occur."""

from __future__ import annotations

import bisect
import re

# (suffix, service). Longest suffixes first where one contains another.
HOST_SUFFIXES: tuple[tuple[str, str], ...] = (
    (".blob.core.windows.net", "storage"),
    (".file.core.windows.net", "storage"),
    (".queue.core.windows.net", "storage"),
    (".table.core.windows.net", "storage"),
    (".dfs.core.windows.net", "storage"),
    (".web.core.windows.net", "storage"),
    (".core.windows.net", "storage"),
    (".servicebus.windows.net", "messaging"),
    (".documents.azure.com", "cosmos"),
    (".table.cosmos.azure.com", "cosmos"),
    (".mongo.cosmos.azure.com", "cosmos"),
    (".cosmos.azure.com", "cosmos"),
    (".database.windows.net", "sql"),
    (".sql.azuresynapse.net", "sql"),
    (".postgres.database.azure.com", "postgres"),
    (".postgres.cosmos.azure.com", "postgres"),
    (".mysql.database.azure.com", "mysql"),
    (".mariadb.database.azure.com", "mysql"),
    (".redis.cache.windows.net", "redis"),
    (".redis.azure.net", "redis"),
    (".redisenterprise.cache.azure.net", "redis"),
    (".azure-devices-provisioning.net", "dps"),
    (".azure-devices.net", "iot"),
    (".service.signalr.net", "signalr"),
    (".webpubsub.azure.com", "webpubsub"),
    (".azconfig.io", "appconfig"),
    (".openai.azure.com", "ai"),
    (".cognitiveservices.azure.com", "ai"),
    (".services.ai.azure.com", "ai"),
    (".api.cognitive.microsoft.com", "ai"),
    (".cognitive.microsoft.com", "ai"),
    (".search.windows.net", "search"),
    (".azurecr.io", "acr"),
    (".scm.azurewebsites.net", "appservice"),
    (".azurewebsites.net", "functions"),
    (".batch.azure.com", "batch"),
    (".communication.azure.com", "acs"),
    (".eventgrid.azure.net", "eventgrid"),
    (".management.azure-api.net", "apim-management"),  # direct management API (its keys are 64 bytes)
    (".scm.azure-api.net", "apim-management"),  # configuration Git repository
    (".azure-api.net", "apim"),
    ("atlas.microsoft.com", "maps"),
    (".vault.azure.net", "keyvault"),
    ("dev.azure.com", "devops"),
    (".visualstudio.com", "devops"),
    (".in.applicationinsights.azure.com", "appinsights"),
    (".fluidrelay.azure.com", "fluidrelay"),
    (".mixedreality.azure.com", "mixedreality"),
)

# Each suffix with its last two labels (`windows.net`), which a text holds wherever it holds the suffix.
_SUFFIX_TAILS = tuple((sfx, svc, ".".join(sfx.split(".")[-2:])) for sfx, svc in HOST_SUFFIXES)
_SUFFIX_MAP = {(sfx if sfx.startswith(".") else "." + sfx): svc for sfx, svc in HOST_SUFFIXES}
_MAX_LABELS = max(suffix.count(".") for suffix in _SUFFIX_MAP) + 1

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", "host.docker.internal",
                         "host.containers.internal", "db", "database", "postgres", "postgresql", "mysql",
                         "mariadb", "mssql", "sqlserver", "sql", "redis", "cache", "mongo", "mongodb",
                         "azurite", "cosmos", "cosmosdb", "emulator", "example.com", "example.org"})


def service_of_host(host: str) -> str | None:
    """The Azure service for a host name (lower-case compare), None when not an Azure host."""
    h = host.strip().lower().rstrip(".")
    if h.startswith("tcp:"):
        h = h[4:]
    h = h.split(",", 1)[0].split(":", 1)[0].split("/", 1)[0].split("\\", 1)[0]
    if not h:
        return None
    parts = h.split(".")
    # Longest suffix first; none is longer than _MAX_LABELS labels (a value full of dots stays linear).
    for k in range(max(0, len(parts) - _MAX_LABELS), len(parts)):
        service = _SUFFIX_MAP.get("." + ".".join(parts[k:]))
        if service is not None:
            return service
    return None


def is_local_host(host: str) -> bool:
    h = host.strip().lower()
    if h.startswith("tcp:"):
        h = h[4:]
    h = h.split(",", 1)[0].split("\\", 1)[0]
    if h.startswith("["):
        h = h.split("]", 1)[0] + "]"
    else:
        h = h.split(":", 1)[0]
    h = h.strip("()")
    return h in LOCAL_HOSTS or h.startswith(("127.", "10.", "192.168.")) or h.endswith((".local", ".localhost",
                                                                                         ".internal", ".test",
                                                                                         ".example"))


_HOST_LABEL = re.compile(r"[a-z0-9-]{1,63}$")


def first_label(text_before: str) -> str:
    """The DNS label just before a suffix occurrence (e.g. the account name)."""
    m = _HOST_LABEL.search(text_before[-64:].lower())
    return m.group(0) if m else ""


class HostIndex:
    """Occurrences of Azure host suffixes in a document (built once, queried by window)."""

    __slots__ = ("offsets", "services", "names", "present")

    def __init__(self, low: str):
        hits: list[tuple[int, str, str]] = []
        seen_at: set[int] = set()
        tails: dict[str, bool] = {}
        for suffix, service, tail in _SUFFIX_TAILS:
            present = tails.get(tail)
            if present is None:
                present = tails[tail] = tail in low
            if not present:
                continue  # no suffix ending so occurs: one search for the ~10 that share a tail
            i = low.find(suffix)
            while i >= 0:
                end = i + len(suffix)
                if end not in seen_at:  # the longest suffix claimed this host already
                    seen_at.add(end)
                    name = first_label(low[max(0, i - 64) : i]) if suffix.startswith(".") else ""
                    hits.append((i, service, name))
                i = low.find(suffix, end)
        hits.sort()
        self.offsets = [h[0] for h in hits]
        self.services = [h[1] for h in hits]
        self.names = [h[2] for h in hits]
        self.present = frozenset(self.services)

    def near(self, pos: int, radius: int = 1500) -> list[tuple[int, str, str]]:
        """(distance, service, resource name) for hosts within `radius` characters, nearest first."""
        lo = bisect.bisect_left(self.offsets, pos - radius)
        hi = bisect.bisect_right(self.offsets, pos + radius)
        out = [(abs(self.offsets[i] - pos), self.services[i], self.names[i]) for i in range(lo, min(hi, lo + 64))]
        out.sort()
        return out

    def nearest(self, pos: int, services: set[str] | frozenset[str], radius: int = 1500) -> tuple[str, str] | None:
        for _, service, name in self.near(pos, radius):
            if service in services:
                return service, name
        return None


class AnyHost:
    """A host index that finds every service everywhere. The history scan's first pass reads a few
    lines of a file without the rest of it, where any host could be: with this index the scanner
    over-approximates what the whole file would give, and the whole file then decides."""

    __slots__ = ()
    offsets = (0,)
    present = frozenset(service for _, service in HOST_SUFFIXES)

    def near(self, pos: int, radius: int = 1500) -> list[tuple[int, str, str]]:
        return [(0, service, "") for service in sorted(self.present)]

    def nearest(self, pos: int, services: set[str] | frozenset[str], radius: int = 1500) -> tuple[str, str] | None:
        return (min(services), "") if services else None
