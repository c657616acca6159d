"""Generate FAKE credential material with valid signatures and checksums, for tests and fixtures.

Every value here comes from a seeded PRNG: none is, or was ever, a real key. Run
`python tests/keygen.py` to print one sample of each format.
"""

from __future__ import annotations

import base64
import random
import string
import zlib

from keyless.rules.secrets.checksums import (
    AAD_ALPHABET,
    ADO_PAT_SEEDS,
    CASK_SEED,
    aad_checksum,
    b64decode_loose,
    base62_bytes,
    marvin32_folded,
    seed_of,
)
from keyless.rules.secrets.formats import BY_SIGNATURE

B62 = string.ascii_letters + string.digits
B64 = B62 + "+/"
B64URL = B62 + "-_"


def _rng(seed: int | str | None) -> random.Random:
    return random.Random(seed)


def identifiable(signature: str, variant_index: int = 0, seed: int | str | None = 0) -> str:
    """An identifiable key with `signature`, checksummed with the kind's `variant_index`-th seed."""
    spec = BY_SIGNATURE[signature]
    label = spec.seeds[variant_index][0]
    r = _rng(f"{seed}-{signature}-{variant_index}")
    for _ in range(1000):
        alpha = B62 if spec.base62_only else (B64URL if spec.family == "fn" else B64)
        if spec.family == "64":
            draft = "".join(r.choice(alpha) for _ in range(76)) + signature + "AAAAAA=="
            body_len = 60
        elif spec.family == "32":
            draft = "".join(r.choice(alpha) for _ in range(33)) + signature + "AAAAAA="
            body_len = 28
        elif spec.family == "39":
            draft = "".join(r.choice(alpha) for _ in range(42)) + signature + "AAAAAA"
            body_len = 35
        else:
            draft = "".join(r.choice(alpha) for _ in range(44)) + signature + "AAAAAA=="
            body_len = 36
        raw = bytearray(b64decode_loose(draft, urlsafe=spec.family == "fn"))
        raw[body_len:] = marvin32_folded(bytes(raw[:body_len]), seed_of(label)).to_bytes(4, "little")
        enc = base64.b64encode(bytes(raw)).decode()
        if spec.family == "fn":
            enc = enc.replace("+", "-").replace("/", "_")
        if spec.family == "39":
            enc = enc.rstrip("=")
        if spec.base62_only and any(c in enc for c in "+/"):
            continue
        if len(enc) != len(draft):
            continue
        return enc
    raise RuntimeError("could not generate key")


def legacy_b64(nbytes: int, seed: int | str | None = 0) -> str:
    """A random base64 value of `nbytes` bytes (legacy keys: 64 -> 88 chars, 32 -> 44 chars)."""
    r = _rng(f"legacy-{nbytes}-{seed}")
    return base64.b64encode(bytes(r.getrandbits(8) for _ in range(nbytes))).decode()


def hex32(seed: int | str | None = 0) -> str:
    r = _rng(f"hex-{seed}")
    return "".join(r.choice("0123456789abcdef") for _ in range(32))


def cask(provider: str = "ACOG", reserved: str = "AAAB", length: int = 84, kind_char: str = "9",
         seed: int | str | None = 0) -> str:
    """A CASK key: 52 random base62, JQQJ9 + kind, date, platform/provider reserved, signature,
    checksum (base62 of the 4 little-endian checksum bytes, first 4 chars)."""
    r = _rng(f"cask-{provider}-{reserved}-{length}-{seed}")
    for _ in range(1000):
        head = "".join(r.choice(B62) for _ in range(52)) + "JQQJ9" + kind_char
        head += "B" + r.choice("ABCDEFGHIJKL")  # 2025, some month
        head += "".join(r.choice(B62) for _ in range(12)) + reserved + provider
        body = b64decode_loose(head)
        checksum = marvin32_folded(body, CASK_SEED).to_bytes(4, "little")
        if length == 84:
            tail = base62_bytes(checksum)[:4]
            if len(tail) == 4:
                return head + tail
        else:
            enc = base64.b64encode(body + checksum).decode()
            if not any(c in enc for c in "+/"):
                return enc
    raise RuntimeError("could not generate CASK key")


def aad_secret(seed: int | str | None = 0, current: bool = True) -> str:
    r = _rng(f"aad-{seed}-{current}")
    if current:
        head = "".join(r.choice(AAD_ALPHABET) for _ in range(3)) + "8Q~"
        head += "".join(r.choice(AAD_ALPHABET) for _ in range(31))
        return head + aad_checksum(head)
    return "".join(r.choice(AAD_ALPHABET) for _ in range(3)) + "7Q~" + "".join(
        r.choice(AAD_ALPHABET) for _ in range(31))


def aad_legacy(seed: int | str | None = 0) -> str:
    r = _rng(f"aadlegacy-{seed}")
    chars = string.ascii_letters + string.digits
    body = [r.choice(chars) for _ in range(34)]
    body[7] = "."
    body[19] = "-"
    body[3] = "7"
    body[25] = "3"
    return "".join(body)


def ado_pat(seed: int | str | None = 0, kind: str = "user") -> str:
    """A 52-char lowercase base32 legacy PAT with a valid CRC32 checksum."""
    r = _rng(f"ado-{seed}-{kind}")
    token = bytes(r.getrandbits(8) for _ in range(28))
    c = (zlib.crc32(token) ^ ADO_PAT_SEEDS[kind]) & 0xFFFFFFFF
    b = bytearray(32)
    b[0:2] = token[0:2]
    b[3:7] = token[2:6]
    b[9:22] = token[6:19]
    b[23:32] = token[19:28]
    b[2] = (c >> 24) & 0xFF
    b[7] = (c >> 16) & 0xFF
    b[8] = (c >> 8) & 0xFF
    b[22] = c & 0xFF
    acc = int.from_bytes(bytes(b), "big") << 4  # 260 bits
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(alphabet[(acc >> (5 * (51 - i))) & 31] for i in range(52))


def sas_sig(seed: int | str | None = 0, urlencode: bool = True) -> str:
    sig = legacy_b64(32, f"sig-{seed}")
    if urlencode:
        sig = sig.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return sig


def password(seed: int | str | None = 0) -> str:
    r = _rng(f"pw-{seed}")
    return "".join(r.choice(B62) for _ in range(14)) + "!" + str(r.randint(10, 99))


def refresh_token(seed: int | str | None = 0, version: str = "0") -> str:
    """An Entra refresh token's shape: version, `.A` client-info part, `.Ag` body (fake, random)."""
    r = _rng(f"rt-{seed}-{version}")
    info = "A" + "".join(r.choice(B64URL) for _ in range(55))
    body = "AgABAAEAAAD" + "".join(r.choice(B64URL) for _ in range(320))
    return f"{version}.{info}.{body}"


def apim_git_key(seed: int | str | None = 0, expiry: str = "209912311200") -> str:
    """An API Management Git credential: `git&<expiry>&<64-byte key>`."""
    return f"git&{expiry}&{legacy_b64(64, f'apimgit-{seed}')}"


def urlsafe_key(nchars: int = 43, seed: int | str | None = 0) -> str:
    r = _rng(f"url-{nchars}-{seed}")
    return "".join(r.choice(B64URL) for _ in range(nchars))


def main() -> None:  # pragma: no cover - dev helper
    for sig in BY_SIGNATURE:
        print(sig, identifiable(sig))
    print("cask ACOG", cask())
    print("cask AZDO", cask("AZDO", "AAAS"))
    print("aad", aad_secret())
    print("ado", ado_pat())


if __name__ == "__main__":  # pragma: no cover
    main()
