"""Checksums embedded in Microsoft credential formats (pure functions, no I/O).

Written from the algorithm descriptions in docs/shared credential-formats reference:

- Marvin32 (the keyed checksum used by Microsoft "identifiable" keys and CASK keys);
- identifiable-key (HIS) validation: Marvin32 over the decoded key minus its last 4 bytes, folded
  to 32 bits, compared with those 4 bytes read little-endian;
- the Entra ID (AAD) client-secret checksum: Marvin32 over the first 37 characters, written in a
  66-character alphabet, first 3 digits appended;
- the Azure DevOps legacy PAT checksum: CRC-32 (IEEE) over 28 of the 32 base32-decoded bytes,
  XORed with a per-kind constant, stored in bytes 22, 8, 7 and 2;
- CASK (common annotated security key) checksums, encoded with a big-number base62 encoder.
"""

from __future__ import annotations

import base64
import binascii
import zlib

_M32 = 0xFFFFFFFF


def seed_of(label: str) -> int:
    """An 8-character seed label such as 'Default0' read as a big-endian 64-bit integer."""
    raw = label.encode("ascii")
    if len(raw) != 8:
        raise ValueError("seed labels are 8 ASCII characters")
    return int.from_bytes(raw, "big")


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M32


def marvin32(data: bytes, seed: int) -> int:
    """Marvin32 hash of `data` keyed with a 64-bit `seed`; returns the 64-bit result."""
    p0 = seed & _M32
    p1 = (seed >> 32) & _M32
    n = len(data)
    full = n - (n % 4)

    def mix(p0: int, p1: int) -> tuple[int, int]:
        p1 ^= p0
        p0 = _rotl(p0, 20)
        p0 = (p0 + p1) & _M32
        p1 = _rotl(p1, 9)
        p1 ^= p0
        p0 = _rotl(p0, 27)
        p0 = (p0 + p1) & _M32
        p1 = _rotl(p1, 19)
        return p0, p1

    for i in range(0, full, 4):
        p0 = (p0 + int.from_bytes(data[i : i + 4], "little")) & _M32
        p0, p1 = mix(p0, p1)
    tail = data[full:] + b"\x80"
    p0 = (p0 + int.from_bytes(tail, "little")) & _M32
    p0, p1 = mix(p0, p1)
    p0, p1 = mix(p0, p1)
    return (p1 << 32) | p0


def marvin32_folded(data: bytes, seed: int) -> int:
    """Marvin32 folded to 32 bits (high XOR low), as an unsigned integer."""
    h = marvin32(data, seed)
    return ((h >> 32) ^ h) & _M32


# ---- base64 helpers ----------------------------------------------------------------------------

def b64decode_loose(text: str, urlsafe: bool = False) -> bytes | None:
    """Decode standard or URL-safe base64, padding optional; None when it is not base64."""
    if urlsafe:
        text = text.replace("-", "+").replace("_", "/")
    stripped = text.rstrip("=")
    pad = (-len(stripped)) % 4
    if pad == 3:
        return None
    try:
        return base64.b64decode(stripped + "=" * pad, validate=True)
    except (binascii.Error, ValueError):
        return None


def his_checksum_ok(decoded: bytes, seed: int) -> bool:
    """Identifiable-key checksum: last 4 bytes (LE) == folded Marvin32 of the rest."""
    if len(decoded) < 8:
        return False
    expected = int.from_bytes(decoded[-4:], "little")
    return marvin32_folded(decoded[:-4], seed) == expected


# ---- custom alphabets ----------------------------------------------------------------------------

BASE62_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
AAD_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890.-_~"


def encode_uint(value: int, alphabet: str, min_length: int = 6) -> str:
    """Most significant digit first, left-padded with the alphabet's first character."""
    base = len(alphabet)
    digits = []
    while value > 0:
        value, r = divmod(value, base)
        digits.append(alphabet[r])
    while len(digits) < min_length:
        digits.append(alphabet[0])
    return "".join(reversed(digits))


def base62_bytes(data: bytes) -> str:
    """Big-number base62 encoding of a byte string (big-endian), one '0' per leading zero byte
    (but never more zeros than len(data) - 1), digits 0-9A-Za-z. This is the byte encoder CASK
    uses for its checksum."""
    if not data:
        return ""
    leading = 0
    for b in data:
        if b:
            break
        leading += 1
    leading = min(leading, len(data) - 1)
    n = int.from_bytes(data, "big")
    digits = []
    while True:
        n, r = divmod(n, 62)
        digits.append(BASE62_DIGITS[r])
        if n == 0:
            break
    return "0" * leading + "".join(reversed(digits))


# ---- Entra ID client secrets -----------------------------------------------------------------------

AAD_SEED = seed_of("AadPwd00")


def aad_checksum(prefix37: str) -> str:
    """The 3 checksum characters of a current ('8Q~') client secret whose first 37 chars are given."""
    data = prefix37.encode("latin-1", "replace")
    return encode_uint(marvin32_folded(data, AAD_SEED), AAD_ALPHABET)[:3]


def aad_secret_ok(secret: str) -> bool:
    if len(secret) != 40 or secret[3:6] != "8Q~":
        return False
    return aad_checksum(secret[:37]) == secret[37:]


# ---- Azure DevOps legacy PATs ---------------------------------------------------------------------

ADO_PAT_SEEDS = {"user": 0xE0B9692D, "application": 0x1019F92E}
_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_INDEX = {c: i for i, c in enumerate(_B32)}


def base32_first_bytes(text: str, nbytes: int) -> bytes | None:
    acc = 0
    for ch in text.lower():
        v = _B32_INDEX.get(ch)
        if v is None:
            return None
        acc = (acc << 5) | v
    bits = 5 * len(text)
    if bits < nbytes * 8:
        return None
    return (acc >> (bits - nbytes * 8)).to_bytes(nbytes, "big")


def ado_pat_kind(token: str) -> str | None:
    """'user' or 'application' when a 52-char base32 token carries a valid legacy PAT checksum."""
    if len(token) != 52:
        return None
    b = base32_first_bytes(token, 32)
    if b is None:
        return None
    body = b[0:2] + b[3:7] + b[9:22] + b[23:32]
    embedded = b[22] | (b[8] << 8) | (b[7] << 16) | (b[2] << 24)
    crc = zlib.crc32(body) & _M32
    for kind, seed in ADO_PAT_SEEDS.items():
        if crc ^ seed == embedded:
            return kind
    return None


# ---- CASK ------------------------------------------------------------------------------------------

CASK_SEED = seed_of("Default0")


def cask_checksum_ok(key: str) -> bool:
    """Checksum of an 84- or 88-character CASK key."""
    if len(key) == 88:
        raw = b64decode_loose(key)
        return raw is not None and len(raw) == 64 and his_checksum_ok(raw[:64], CASK_SEED)
    if len(key) != 84:
        return False
    raw = b64decode_loose(key[:80])
    if raw is None or len(raw) != 60:
        return False
    checksum = marvin32_folded(raw, CASK_SEED).to_bytes(4, "little")
    tail = key[80:84]
    if base62_bytes(checksum).startswith(tail):
        return True
    return base64.b64encode(checksum).decode("ascii").startswith(tail)
