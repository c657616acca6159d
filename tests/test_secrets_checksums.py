"""Checksum algorithms against the reference's test vectors and generated keys."""

from __future__ import annotations

import pytest

import keygen as kg
from keyless.rules.secrets import checksums as ck
from keyless.rules.secrets import formats


def test_marvin32_vectors():
    assert ck.marvin32(b"abc", 0xD53CD9CECD0893B7) == 0x22C74339492769BF
    assert ck.marvin32(b"abcdefghijklmnopqrstuvwxyz", 0x0DDDDEEEEFFFF000) == 0xA128EB7E7260ACA2


def test_seed_is_big_endian_ascii():
    assert ck.seed_of("Default0") == 0x44656661756C7430
    assert ck.seed_of("AbAcct00") == 0x4162416363743030
    with pytest.raises(ValueError):
        ck.seed_of("short")


def test_custom_alphabet_encoder_vectors():
    # MSU CustomAlphabetEncoder test cases (default base62 alphabet).
    assert ck.encode_uint(2883656711, ck.BASE62_DIGITS) == "399Wq7"
    assert ck.encode_uint(0xFFFFFFFF, ck.BASE62_DIGITS) == "4gfFC3"
    assert ck.encode_uint(0, ck.AAD_ALPHABET) == "aaaaaa"


def test_base62_bytes_keeps_leading_zeros():
    assert ck.base62_bytes(b"\x00\x00\x00\x01") == "0001"
    assert ck.base62_bytes(b"\x00\x00\x00\x00") == "0000"
    assert ck.base62_bytes(b"\x01\x00") == "48"  # 256 = 4*62 + 8


@pytest.mark.parametrize("sig", sorted(formats.BY_SIGNATURE))
def test_every_identifiable_kind_and_seed_validates(sig):
    spec = formats.BY_SIGNATURE[sig]
    for i, (_, variant) in enumerate(spec.seeds):
        key = kg.identifiable(sig, i, seed="t")
        assert formats.validate_identifiable(key, sig) == variant
        # One flipped character breaks the checksum (or the shape).
        j = 5
        bad = key[:j] + ("B" if key[j] != "B" else "C") + key[j + 1 :]
        assert formats.validate_identifiable(bad, sig) is None


def test_identifiable_wrong_signature_or_length():
    key = kg.identifiable("+ASt")
    assert formats.validate_identifiable(key, "ACDb") is None
    assert formats.validate_identifiable(key[:-1], "+ASt") is None
    assert formats.validate_identifiable(kg.legacy_b64(64), "+ASt") is None


def test_redis_special_character_variant_rejects_lookalikes():
    # MSU's variant recomputes the checksum over all decoded bytes and compares after mapping
    # '+'->'P', '/'->'F'; a valid instance is a fixed point we cannot construct here, so check only
    # that ordinary look-alikes with the AzCa shape are rejected.
    key = kg.identifiable("AzCa")
    bad = key[:3] + ("P" if key[3] != "P" else "F") + key[4:]
    assert formats.validate_identifiable(bad, "AzCa") is None


@pytest.mark.parametrize("length", [84, 88])
@pytest.mark.parametrize("provider,reserved,kind", [
    ("ACOG", "AAAB", "ai-key"), ("AZDO", "AAAS", "devops-pat"), ("AWPS", "AAAA", "webpubsub-key"),
    ("AZMP", "AAAA", "maps-key"), ("AZAC", "AAAA", "appconfig-secret"), ("AZEG", "AAAA", "eventgrid-key"),
    ("ZZZZ", "AAAA", "cask-key"),
])
def test_cask(length, provider, reserved, kind):
    key = kg.cask(provider, reserved, length=length, seed="c")
    info = formats.classify_cask(key)
    assert info is not None and info.checksum_ok
    expected = "cask-key" if (provider == "ACOG" and length == 88) else kind
    assert info.kind == expected
    if provider == "ACOG" and length == 84:
        assert info.variant == "Azure OpenAI"
    # A broken checksum is still a CASK frame (high confidence per the reference) but flagged.
    broken = key[:80] + ("A" if key[80] != "A" else "B") + key[81:]
    if length == 84:
        info2 = formats.classify_cask(broken)
        assert info2 is not None and not info2.checksum_ok


def test_cask_frame_rules():
    key = kg.cask()
    assert formats.classify_cask(key.replace("JQQJ9", "JQQJ8")) is None
    assert formats.classify_cask(key[:-1]) is None


def test_aad_secrets():
    cur = kg.aad_secret("x")
    assert formats.classify_aad(cur) == "current"
    assert cur[37] in "abcd"  # derived in the reference: 2**32 < 4 * 66**5
    assert formats.classify_aad(cur[:-1] + ("a" if cur[-1] != "a" else "b")) is None
    assert formats.classify_aad(kg.aad_secret("y", current=False)) == "previous"
    assert formats.looks_like_legacy_aad(kg.aad_legacy("z"))
    assert not formats.looks_like_legacy_aad("a" * 34)
    assert not formats.looks_like_legacy_aad("2024-01-01T00:00:00.000-0000000000")


@pytest.mark.parametrize("kind", ["user", "application"])
def test_ado_pat_checksum(kind):
    pat = kg.ado_pat("q", kind)
    assert len(pat) == 52 and pat.islower()
    assert formats.is_ado_pat(pat) == kind
    assert formats.is_ado_pat(pat.upper()) == kind  # the decoder is case-insensitive
    flipped = pat[:10] + ("a" if pat[10] != "a" else "b") + pat[11:]
    assert formats.is_ado_pat(flipped) is None
    assert formats.is_ado_pat("a" * 52) is None
    assert formats.is_ado_pat(pat[:-1]) is None
