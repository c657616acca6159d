"""Base class of the KL1xx rules: filter the shared scan by credential kind and build findings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Iterable
from urllib.parse import unquote

from keyless.linter.finding import Applicability, Category, Finding, Fix, redact
from keyless.linter.messages import MESSAGE_MAX, fit, short_name
from keyless.linter.rule import Rule
from keyless.rules.secrets import guidance
from keyless.rules.secrets.kinds import KINDS
from keyless.rules.secrets.scanner import P_CHECKSUM, Secret, credential_spans, is_b64_bytes, is_hex32, scan

if TYPE_CHECKING:
    from keyless.linter.documents import Document

_SAS_GUIDE = {"messaging": "servicebus", "iot": "iot", "dps": "iot", "eventgrid": "eventgrid"}


# Text whose decoded form may hold any kind of secret (scanner.scan_escaped / scan_secret_manifests):
# every secret rule also runs where these occur, since the raw text need not carry its keywords.
DECODED_KEYWORDS = ("kind: secret", '"kind": "secret"', "kind: 'secret'", 'kind: "secret"', "dockerconfigjson",
                    "\\u0026", "\\u003d", "%3d", "%3b", "&amp;")


class SecretRule(Rule):
    category = Category.SECRET
    fix_applicability = Applicability.DISPLAY_ONLY
    # Credential kinds (kinds.KINDS keys) this rule reports.
    secret_kinds: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("keywords"):
            cls.keywords = tuple(dict.fromkeys(cls.keywords + DECODED_KEYWORDS))

    def check(self, doc: "Document") -> Iterable[Finding]:
        for s in scan(doc):
            if s.kind in self.secret_kinds:
                yield self.to_finding(doc, s)

    def sensitive_spans(self, doc: "Document") -> Iterable[tuple[int, int]]:
        return credential_spans(doc)

    def to_finding(self, doc: "Document", s: Secret) -> Finding:
        info = KINDS[s.kind]
        guide = info.guidance
        if s.kind == "sas":
            guide = _SAS_GUIDE.get(s.extra.get("service", ""), "sas")
        elif s.kind == "db-password" and s.extra.get("service") in ("postgres", "mysql"):
            guide = "ossrdbms"
        resource = s.resource if _safe_name(s.resource, s.value) else ""
        setting = s.setting if _safe_name(s.setting, s.value) else ""
        label = info.label
        if s.kind == "db-password":
            label = {"postgres": "PostgreSQL password", "mysql": "MySQL password", "sql": "Azure SQL password"}.get(
                s.extra.get("service", ""), label
            )
        if s.kind == "sas" and s.extra.get("token_form"):
            label = "Shared access signature token"
        if s.variant and s.variant not in ("unverified",) and s.variant.lower() not in label.lower():
            label += f" ({s.variant})"
        generated = generated_key(s)
        # A value a person may have chosen shows no character, only its length.
        shown = redact(s.value, prefix=generated)
        how = _safe_source(s.source, s.value)
        sas = s.extra.get("sas", "") if s.kind == "sas" else ""  # permissions, expiry: they rate the finding
        expiry = next((p for p in sas.split(", ") if "expir" in p), "")  # the part the message keeps
        context = f"also seen as {_safe_source(s.context, s.value)}" if s.context and s.context != s.source else ""
        action = guidance.short_text(guide, resource)
        for_resource = f" for '{short_name(resource)}'" if resource else ""
        # The first that fits: what, for which resource, the secret, how it was found, what to do; what
        # the message has no room for goes to the help.
        candidates = [
            (f"{label}{for_resource} {shown} ({how}; {expiry}); {action}" if expiry else "", [sas, context]),
            (f"{label} {shown} ({how}; {expiry}); {action}" if expiry else "",
             [f"for '{resource}'" if resource else "", sas, context]),
            (f"{label}{for_resource} {shown} ({how}); {action}", [sas, context]),
            (f"{label}{for_resource} {shown}; {action}", [f"found as {how}", sas, context]),
            (f"{label} {shown} ({how}); {action}", [f"for '{resource}'" if resource else "", sas, context]),
            (f"{label} {shown}; {action}", [f"for '{resource}'" if resource else "", f"found as {how}", sas, context]),
        ]
        msg, notes = next(((m, n) for m, n in candidates if m and len(m) <= MESSAGE_MAX), candidates[-1])
        help_ = guidance.fix_text(guide, resource, setting, doc)
        fix = Fix(fit(help_, notes), Applicability.DISPLAY_ONLY)
        return self.finding(
            doc.relpath,
            doc.lines.span(s.start, s.end),
            key=s.value,
            message=msg,
            severity=s.severity,
            fix=fix,
            generated_key=generated,
        )


# Credentials the service generates (or accepts only as base64/hex of 256 random bits): a value of
# exactly that shape is key material, not something a person chose. Passwords, registry and
# client secrets, function and API Management keys can be chosen by hand and are never listed.
_SERVICE_GENERATED = frozenset({
    "storage-key", "sas", "servicebus-key", "eventhubs-key", "relay-key", "messaging-key", "iot-key",
    "cosmos-key", "redis-key", "appconfig-secret", "signalr-key", "webpubsub-key", "ai-key",
    "search-key", "batch-key", "maps-key", "eventgrid-key", "acs-key", "fluidrelay-key",
    "mixedreality-key", "ml-key",
})


def generated_key(s: Secret) -> bool:
    """True when the value is key material with at least 128 random bits: a Microsoft identifiable
    key whose checksum verified, or a service-generated kind whose value is exactly base64 of 32 or
    64 bytes or 32 hex digits. Such a value cannot be guessed, so its fingerprint may be cheap and
    its first characters may be shown; anything else is treated as guessable."""
    if s.priority >= P_CHECKSUM:
        return True
    if s.kind not in _SERVICE_GENERATED:
        return False
    v = unquote(s.value) if "%" in s.value else s.value
    return is_b64_bytes(v, 32) or is_b64_bytes(v, 64) or is_hex32(v)


_QUOTED_NAME = re.compile(r"'[^']*'")


def _safe_source(source: str, secret: str) -> str:
    """How the secret was found, with any quoted name (a variable, parameter or key taken from the
    file) that is too long or carries part of the secret replaced by `'...'`."""
    return _QUOTED_NAME.sub(lambda m: m.group(0) if _safe_name(m.group(0)[1:-1], secret) else "'...'", source)


def _safe_name(name: str, secret: str) -> bool:
    """Names shown in messages must never carry (part of) the secret."""
    if not name:
        return False
    if len(name) > 80:
        return False
    return not (secret and (secret in name or (len(name) >= 12 and name in secret)))
