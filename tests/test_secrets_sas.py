"""SAS parsing and severity (permissions, expiry)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import keygen as kg
from keyless.linter.documents import make_document
from keyless.linter.finding import Severity
from keyless.rules.secrets import sas
from keyless.rules.secrets.storage import SasToken


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(sas, "now_utc", lambda: datetime(2026, 6, 1, tzinfo=timezone.utc))


def _sev(sp, se, extra=""):
    url = (f"https://a.blob.core.windows.net/c/b?sv=2022-11-02&sr=b{extra}&sp={sp}&se={se}"
           f"&sig={kg.sas_sig(sp + se)}")
    doc = make_document("x.yaml", "x.yaml", f"url: {url}\n")
    found = list(SasToken().check(doc))
    assert len(found) == 1
    return found[0]


def test_read_only_near_expiry_is_medium():
    assert _sev("r", "2026-12-31").severity is Severity.MEDIUM


def test_write_raises():
    assert _sev("rw", "2026-12-31").severity is Severity.HIGH


def test_write_far_future_is_critical():
    assert _sev("racwdl", "2031-01-01T00%3A00%3A00Z").severity is Severity.CRITICAL


def test_read_only_far_future_is_high():
    assert _sev("rl", "2030-01-01").severity is Severity.HIGH


def test_expired_is_low():
    f = _sev("racwdl", "2021-01-01T00:00:00Z")
    assert f.severity is Severity.LOW and "expired 2021-01-01" in f.message


def test_account_sas_with_write_is_critical():
    assert _sev("w", "2026-07-01", extra="&ss=b&srt=sco").severity is Severity.CRITICAL


def test_token_form_epoch_expiry():
    info = sas.analyse({"sr": "x", "se": "1999999999", "skn": "p", "sig": "x"}, token_form=True)
    assert not info.expired and info.severity() is Severity.CRITICAL
    info = sas.analyse({"sr": "x", "se": "1600000000", "sig": "x"}, token_form=True)
    assert info.expired and info.severity() is Severity.LOW


def test_signature_shape():
    assert sas.signature_ok(kg.sas_sig(1))
    assert sas.signature_ok(kg.sas_sig(1, urlencode=False))
    assert not sas.signature_ok("REDACTED")
    assert not sas.signature_ok("A" * 43 + "=")
    assert not sas.looks_like_sas({"sig": kg.sas_sig(2)})  # no SAS field besides sig


def test_placeholder_and_fake_sig_not_reported():
    for text in ("?sv=2022-11-02&sp=r&sig=<signature>", "?sv=2022&sig=REDACTED", "?code=1&sig=short"):
        doc = make_document("x.md", "x.md", f"see https://a.blob.core.windows.net/c{text}\n")
        assert list(SasToken().check(doc)) == []
