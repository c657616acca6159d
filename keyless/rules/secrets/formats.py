"""Shapes of Microsoft credential formats: identifiable keys (HIS), CASK keys, Entra ID client
secrets and Azure DevOps PATs. Each validator takes a candidate token and returns a classification
(or None): the checksum decides, so a random look-alike passes with probability about 2**-32.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from keyless.linter.lazyre import lazy_compile
from keyless.rules.secrets.checksums import (
    ado_pat_kind,
    aad_secret_ok,
    b64decode_loose,
    cask_checksum_ok,
    his_checksum_ok,
    seed_of,
)

B64 = "A-Za-z0-9+/"
B64URL = "A-Za-z0-9_\\-"
B62 = "A-Za-z0-9"

B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
B64URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
B62_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
# Characters that may not touch an identifiable key on either side (MSU-style boundaries).
KEYISH = B64_CHARS | B64URL_CHARS


class Family(NamedTuple):
    """A layout of identifiable keys: total length, signature offset, alphabet, shape regex."""

    name: str
    length: int
    sig_offset: int
    urlsafe: bool
    shape: re.Pattern


def _shape(alpha: str, before: int, sig: str, after: str) -> re.Pattern:
    return lazy_compile(f"[{alpha}]{{{before}}}{re.escape(sig)}{after}")  # only a candidate key needs it


class IdentifiableKind(NamedTuple):
    signature: str
    family: str  # 64, 32, 39, fn
    kind: str  # credential kind (see scanner.KINDS)
    seeds: tuple[tuple[str, str], ...]  # (seed label, variant)
    base62_only: bool = False


# Signature -> kinds, from the reference's HIS table. Seeds that classify the key come first.
IDENTIFIABLE: tuple[IdentifiableKind, ...] = (
    IdentifiableKind("+ASt", "64", "storage-key", (("Default0", "account key"),)),
    # Cosmos DB: the master keys customers hold first; the system, resource and encryption seeds
    # are the others security-utilities' SEC101/160 checks.
    IdentifiableKind("ACDb", "64", "cosmos-key", (
        ("MastRW00", "read-write key"), ("MastRO00", "read-only key"), ("SystRW00", "system read-write key"),
        ("SystRO00", "system read-only key"), ("SysAll00", "system key"), ("Resour00", "resource key"),
        ("Encryp00", "data encryption key"))),
    IdentifiableKind("+ABa", "64", "batch-key", (("AbAcct00", "account key"),)),
    IdentifiableKind(
        "APIM",
        "64",
        "apim-key",
        (
            ("Tenant00", "direct management key"),
            ("IoTHub00", "subscription key"),
            ("Gatewy00", "gateway key"),
            ("GitKey00", "repository key"),
        ),
    ),
    IdentifiableKind("+AMC", "64", "ml-key", (("Classic0", "web service (classic) key"),)),
    IdentifiableKind("+ASb", "32", "servicebus-key", (("Send0000", "send"), ("Listen00", "listen"), ("Manage00", "manage"))),
    IdentifiableKind("+AEh", "32", "eventhubs-key", (("Send0000", "send"), ("Listen00", "listen"), ("Manage00", "manage"))),
    IdentifiableKind("+ARm", "32", "relay-key", (("Send0000", "send"), ("Listen00", "listen"), ("Manage00", "manage"))),
    IdentifiableKind("AzCa", "32", "redis-key", (("Access00", "access key"),)),
    IdentifiableKind(
        "AIoT", "32", "iot-key", (("IoTHub00", "hub"), ("DpsKey00", "dps"), ("Device00", "device"))
    ),
    # Event Grid: security-utilities' SEC101/199 seed, and the default seed its scanner tests use.
    IdentifiableKind("AZEG", "32", "eventgrid-key", (("SendRecv", "access key"), ("Default0", "access key"))),
    IdentifiableKind("AzSe", "39", "search-key", (("PAdmin00", "admin key"), ("Query000", "query key")), base62_only=True),
    IdentifiableKind("+ACR", "39", "acr-key", (("ACRDflt0", "registry key"),)),
    IdentifiableKind(
        "AzFu", "fn", "function-key", (("Functi00", "function key"), ("Master00", "master key"), ("System00", "system key"))
    ),
)

FAMILIES: dict[str, Family] = {
    "64": Family("64", 88, 76, False, re.compile("")),
    "32": Family("32", 44, 33, False, re.compile("")),
    "39": Family("39", 52, 42, False, re.compile("")),
    "fn": Family("fn", 56, 44, True, re.compile("")),
}

_SHAPES: dict[str, re.Pattern] = {}
for _k in IDENTIFIABLE:
    if _k.family == "64":
        _SHAPES[_k.signature] = _shape(B64, 76, _k.signature, f"[{B64}]{{5}}[AQgw]==")
    elif _k.family == "32":
        _SHAPES[_k.signature] = _shape(B64, 33, _k.signature, f"[A-P][{B64}]{{5}}=")
    elif _k.family == "39":
        alpha = B62 if _k.base62_only else B64
        _SHAPES[_k.signature] = _shape(alpha, 42, _k.signature, f"[A-D][{alpha}]{{5}}")
    else:
        _SHAPES[_k.signature] = _shape(B64URL, 44, _k.signature, f"[{B64URL}]{{5}}[AQgw]==")

BY_SIGNATURE: dict[str, IdentifiableKind] = {k.signature: k for k in IDENTIFIABLE}
_SEEDS = {label: seed_of(label) for k in IDENTIFIABLE for label, _ in k.seeds}


def validate_identifiable(token: str, signature: str) -> str | None:
    """Return the variant (e.g. 'query key') when `token` is a valid identifiable key carrying
    `signature` at its offset with a matching checksum; None otherwise."""
    spec = BY_SIGNATURE.get(signature)
    if spec is None or len(token) != FAMILIES[spec.family].length:
        return None
    if not _SHAPES[signature].fullmatch(token):
        return None
    raw = b64decode_loose(token, urlsafe=spec.family == "fn")
    if raw is None:
        return None
    for label, variant in spec.seeds:
        if his_checksum_ok(raw, _SEEDS[label]):
            return variant
    if signature == "AzCa" and _redis_special_ok(token, raw):
        return "access key"
    return None


def _redis_special_ok(token: str, raw: bytes) -> bool:
    """Azure Cache for Redis keys generated before '+' and '/' were avoided: the checksum is the
    Marvin32 of all decoded bytes written over the last 4 bytes, and the encoded result then has
    '+' replaced by 'P' and '/' by 'F'."""
    import base64

    from keyless.rules.secrets.checksums import marvin32_folded

    rebuilt = bytearray(raw)
    rebuilt[-4:] = marvin32_folded(bytes(raw), _SEEDS["Access00"]).to_bytes(4, "little")
    enc = base64.b64encode(bytes(rebuilt)).decode("ascii").replace("+", "P").replace("/", "F")
    return enc == token


# ---- CASK -----------------------------------------------------------------------------------------

CASK_SHAPE = lazy_compile(
    f"[{B62}]{{52}}JQQJ9[9DH][{B62}][A-L][{B62}]{{16}}[A-Za-z][{B62}]{{7}}(?:[{B62}]{{2}}==)?"
)

# Provider signature (offsets 76-79) -> credential kind.
CASK_PROVIDERS = {
    "AZDO": "devops-pat",
    "AZMP": "maps-key",
    "AZEG": "eventgrid-key",
    "AZAC": "appconfig-secret",
    "AZFR": "fluidrelay-key",
    "AZMR": "mixedreality-key",
    "AZCS": "acs-key",
    "MSQL": "sql-key",
    "ACOG": "ai-key",
    "AWPS": "webpubsub-key",
}

COGNITIVE_SERVICES = {
    "A": "AI Services", "B": "Azure OpenAI", "C": "Anomaly Detector EE", "D": "Anomaly Detector",
    "E": "Cognitive Services", "F": "Computer Vision", "G": "Content Moderator", "H": "Content Safety",
    "I": "Custom Vision Prediction", "J": "Custom Vision Training", "K": "Face",
    "L": "Document Intelligence", "M": "Health Decision Support", "N": "Health Insights",
    "O": "Immersive Reader", "P": "Internal All-in-One", "Q": "Knowledge", "R": "LUIS Authoring",
    "S": "LUIS", "T": "Metrics Advisor", "U": "Personalizer", "V": "QnA Maker", "W": "QnA Maker v2",
    "X": "Speaker Recognition", "Y": "Speech", "Z": "Speech Translation", "a": "Text Analytics",
    "b": "Translator", "c": "Dummy", "d": "Transcription Intelligence", "e": "Video Intelligence",
}


class CaskInfo(NamedTuple):
    kind: str
    provider: str
    variant: str
    checksum_ok: bool


def classify_cask(token: str) -> CaskInfo | None:
    """Classify an 84/88-char CASK key. The frame alone is high confidence (the reference's
    recommendation); the checksum is reported alongside."""
    if len(token) not in (84, 88) or not CASK_SHAPE.fullmatch(token):
        return None
    provider = token[76:80]
    kind = CASK_PROVIDERS.get(provider.upper(), "cask-key")
    variant = ""
    if provider.upper() == "ACOG":
        if len(token) == 88:
            # Cognitive keys are never 88 characters long.
            kind = "cask-key"
        elif token[72:75] == "AAA":
            variant = COGNITIVE_SERVICES.get(token[75], "")
    if provider.upper() == "MSQL":
        variant = "SQL internal key"
    return CaskInfo(kind, provider, variant, cask_checksum_ok(token))


# ---- Entra ID client secrets -----------------------------------------------------------------------

AAD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-")


def classify_aad(token: str) -> str | None:
    """'current' (8Q~, checksum verified), 'previous' (7Q~, no checksum exists) or None."""
    if len(token) == 40 and token[3:6] == "8Q~" and aad_secret_ok(token):
        return "current"
    if len(token) == 37 and token[3:6] == "7Q~" and all(c in AAD_CHARS for c in token):
        return "previous"
    return None


# Older portal-generated client secrets (32 characters) also used these symbols.
LEGACY_AAD_CHARS = AAD_CHARS | frozenset("?@:[]*+/=")
_LEGACY_SYMBOLS = frozenset("._~-?@:[]*+/=")


def looks_like_legacy_aad(token: str) -> bool:
    """A legacy (pre-`Q~`) client secret: 32 to 34 characters of [A-Za-z0-9._~-] (older ones also
    `?@:[]*+/=`), at least one symbol, digits and letters, not a date or a base64 key."""
    if not 32 <= len(token) <= 34 or any(c not in LEGACY_AAD_CHARS for c in token):
        return False
    if not any(c in _LEGACY_SYMBOLS for c in token.rstrip("=")):
        return False
    if re.fullmatch(r"[0-9._:TZ+ -]+", token) or re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", token):
        return False
    if len(set(token)) < 16:
        return False
    return sum(c.isdigit() for c in token) >= 2 and sum(c.isalpha() for c in token) >= 8


def is_ado_pat(token: str) -> str | None:
    return ado_pat_kind(token)


__all__ = [
    "IDENTIFIABLE",
    "FAMILIES",
    "BY_SIGNATURE",
    "validate_identifiable",
    "classify_cask",
    "classify_aad",
    "looks_like_legacy_aad",
    "is_ado_pat",
    "CASK_PROVIDERS",
]
