"""Shared access signatures: parse the query, judge the signature, grade the risk.

Storage SAS: `sv`, `ss`, `srt`, `sr`, `sp`, `st`, `se`, `spr`, `sip`, `si`, `sig` (+ user-delegation
`skoid`, `sktid`, ...). Service Bus / Event Hubs / IoT tokens: `SharedAccessSignature sr=...&sig=...
&se=<epoch>&skn=<policy>`.

Severity: write/delete/create/add/update-type permissions raise it, an expiry in the past lowers
it (for a user-delegation SAS, the delegation key's expiry `ske` counts too), an expiry more than a
year ahead (or none, or a stored access policy) raises it. A token with a permission letter no
storage service knows (`sp=rqx`) is refused by the service and is not reported.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from keyless.linter.finding import Severity

SAS_FIELDS = frozenset(
    {"sv", "ss", "srt", "sr", "sp", "st", "se", "spr", "sip", "si", "skn", "skoid", "sktid", "skt", "ske",
     "sks", "skv", "saoid", "suoid", "scid", "sdd", "ses", "rscc", "rscd", "rsce", "rscl", "rsct"}
)
WRITE_PERMS = frozenset("wdcaupxmoiey")
# Every permission letter a storage SAS may carry (blob, file, queue, table and account SAS); a
# token with any other letter is refused by the service.
PERMISSION_LETTERS = frozenset("racwdxyltfmeopiu")
FAR_FUTURE = timedelta(days=366)


def now_utc() -> datetime:
    """Today's date (tests monkeypatch this)."""
    return datetime.now(timezone.utc)


def signature_ok(raw_sig: str) -> bool:
    """An HMAC-SHA256 signature: base64 of 32 bytes (URL-encoding allowed)."""
    sig = unquote(raw_sig.replace("%25", "%")) if "%" in raw_sig else raw_sig
    sig = sig.replace(" ", "+")
    if len(sig) not in (43, 44) or len(set(sig)) < 12:
        return False
    if not re.fullmatch(r"[A-Za-z0-9+/]{43}=?", sig):
        return False
    try:
        return len(base64.b64decode(sig.rstrip("=") + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def parse_expiry(value: str) -> datetime | None:
    v = unquote(value).strip()
    if not v:
        return None
    if v.isdigit():  # epoch seconds (Service Bus / IoT tokens)
        try:
            return datetime.fromtimestamp(int(v), timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    v = v.replace("Z", "+00:00")
    for fmt in (None, "%Y-%m-%d"):
        try:
            dt = datetime.fromisoformat(v) if fmt is None else datetime.strptime(v[:10], fmt)
        except ValueError:
            continue
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt
    return None


@dataclass(slots=True)
class SasInfo:
    fields: dict[str, str]
    permissions: str
    expiry: datetime | None  # the earlier of `se` and, for a user-delegation SAS, `ske`
    account_sas: bool
    token_form: bool  # SharedAccessSignature sr=... (Service Bus / IoT)
    key_expired_first: bool = False  # the delegation key (`ske`) ends before the token (`se`)

    @property
    def expired(self) -> bool:
        return self.expiry is not None and self.expiry < now_utc()

    @property
    def can_write(self) -> bool:
        return any(c in WRITE_PERMS for c in self.permissions.lower())

    @property
    def long_lived(self) -> bool:
        if self.expiry is None:
            return True  # no expiry in the token: a stored access policy or no limit we can see
        return self.expiry - now_utc() > FAR_FUTURE

    def severity(self) -> Severity:
        if self.expired:
            return Severity.LOW
        if self.token_form:
            return Severity.CRITICAL if self.long_lived else Severity.HIGH
        if self.can_write or not self.permissions:
            return Severity.CRITICAL if (self.long_lived or self.account_sas) else Severity.HIGH
        return Severity.HIGH if self.long_lived else Severity.MEDIUM

    def describe(self) -> str:
        bits = []
        if self.permissions:
            bits.append(f"permissions '{self.permissions}'")
        if self.expiry is not None:
            state = "expired" if self.expired else "expires"
            if self.key_expired_first:
                state = "delegation key " + state
            bits.append(f"{state} {self.expiry.date().isoformat()}")
        else:
            bits.append("no expiry in the token")
        if self.account_sas:
            bits.append("account SAS")
        return ", ".join(bits)


def analyse(params: dict[str, str], token_form: bool = False) -> SasInfo:
    """A user-delegation SAS is signed with a delegation key that has its own expiry (`ske`): the
    token stops working at the earlier of `se` and `ske`."""
    sp = unquote(params.get("sp", ""))
    expiry = parse_expiry(params.get("se", ""))
    key_expiry = parse_expiry(params.get("ske", "")) if "ske" in params else None
    key_first = key_expiry is not None and (expiry is None or key_expiry < expiry)
    return SasInfo(
        fields=params,
        permissions=sp,
        expiry=key_expiry if key_first else expiry,
        account_sas="ss" in params or "srt" in params,
        token_form=token_form,
        key_expired_first=key_first,
    )


def looks_like_sas(params: dict[str, str]) -> bool:
    """A `sig` plus at least one other SAS field, a real-looking signature, and permissions the
    service accepts."""
    if "sig" not in params:
        return False
    if not any(k in SAS_FIELDS for k in params):
        return False
    sp = unquote(params.get("sp", ""))
    if sp and not set(sp) <= PERMISSION_LETTERS:
        return False
    return signature_ok(params["sig"])
