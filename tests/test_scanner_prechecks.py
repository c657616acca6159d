"""The secret scanner's cheap pre-checks select exactly what the searches they replace select:
they never skip a line or a file a recogniser would read."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from keyless.linter.documents import make_document
from keyless.rules.secrets import decoded
from keyless.rules.secrets.scanner import Scanner

_ESCAPE_ALPHABET = list("\\%&u0\"/3dba26f4mpq;t#x \n") + ["\\u00", "%3D", "&amp;", "&quot;", "&#"]


def _scanner(text: str) -> Scanner:
    return Scanner(make_document("x.json", "x.json", text))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ESCAPE_ALPHABET), max_size=120).map("".join))
def test_escape_lines_are_the_lines_holding_an_escape_hint(text):
    sc = _scanner(text)
    fast = sc._escape_line_starts()
    assert fast == sc._escape_line_starts_by_hint()
    lines = {sc.line_bounds(m.start())[0] for m in decoded.ESCAPE_HINT_RE.finditer(sc.low)}
    assert fast == sorted(lines)


def test_escape_lines_where_the_first_characters_are_common_for_other_reasons():
    text = "&& " * 5000 + 'x = "a\\"b"\n' + "%% \\\\ " * 3000 + "\n" + 'k = "&amp;"\n'
    sc = _scanner(text)
    assert sc._escape_line_starts() == sc._escape_line_starts_by_hint() == [0, len(text) - 12]


def test_escape_lines_keep_the_cap_of_the_search_per_hint():
    text = "".join(f'"k{i}": "a\\"b"\n' for i in range(10_050)) + 'x = "%3D"\n'
    sc = _scanner(text)
    got = sc._escape_line_starts()
    assert len(got) == 10_000 and got == sc._escape_line_starts_by_hint()


# ---- scan_signatures runs only where a signature it acts on occurs ----------------------------------

import os  # noqa: E402

import pytest  # noqa: E402

import keygen as kg  # noqa: E402
from keyless.rules.secrets import formats, scanner  # noqa: E402

_DISPATCHED = {*formats.BY_SIGNATURE, "JQQJ9", "8Q~", "7Q~"}
_SIGNATURE_PIECES = ["+", "A", "J", "7", "8", "St", "Ba", "MC", "CR", "CDb", "PIM", "zCa", "IoT", "ZEG", "zSe",
                     "zFu", "QQJ9", "Q~", "q~", "a", "x", " "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SIGNATURE_PIECES), max_size=40).map("".join))
def test_a_dispatched_signature_is_always_mentioned(text):
    if any(m.group(0) in _DISPATCHED for m in scanner.SIGNATURE_RE.finditer(text)):
        low = scanner.ascii_lower(text)
        assert any(w in low for w in scanner._SIGNATURES_LOWER)


def _all_secrets(doc):
    return [(s.kind, s.start, s.end, s.value, s.source, s.priority) for s in Scanner(doc).run()]


def _fixture_texts():
    root = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures")
    for dirpath, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if name.endswith(".expect"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                yield os.path.relpath(path, root).replace(os.sep, "/"), fh.read()


def test_the_pre_checks_skip_nothing_in_the_fixtures(monkeypatch):
    keys = "\n".join(f"k{i} = '{v}'" for i, v in enumerate(
        [kg.identifiable("+ASt"), kg.identifiable("ACDb"), kg.identifiable("AzCa"), kg.identifiable("APIM")]))
    texts = [*_fixture_texts(), ("keys.py", keys)]
    with_checks = {rel: _all_secrets(make_document(rel, rel, text)) for rel, text in texts}
    assert with_checks["keys.py"]  # the keys above are found at all
    monkeypatch.setattr(scanner, "_SIGNATURES_LOWER", ("",))  # "" is in every text: no pre-check
    monkeypatch.setattr(scanner, "_ESCAPE_FIRST_CHARS", "")  # only the search per hint
    monkeypatch.setattr(Scanner, "_escape_line_starts", Scanner._escape_line_starts_by_hint)
    for rel, text in texts:
        assert _all_secrets(make_document(rel, rel, text)) == with_checks[rel], rel


# ---- the host index searches a suffix only where its last two labels occur --------------------------

from keyless.rules.secrets import hosts  # noqa: E402


def _hosts_searching_every_suffix(low):
    hits, seen_at = [], set()
    for suffix, service in hosts.HOST_SUFFIXES:
        i = low.find(suffix)
        while i >= 0:
            end = i + len(suffix)
            if end not in seen_at:
                seen_at.add(end)
                hits.append((i, service, hosts.first_label(low[max(0, i - 64): i]) if suffix.startswith(".") else ""))
            i = low.find(suffix, end)
    return sorted(hits)


_HOST_PIECES = ["acct", ".blob", ".core", ".windows", ".net", ".azure", ".com", ".cosmos", ".postgres", ".database",
                "dev", ".io", ".azurecr", "atlas", ".microsoft", ".scm", ".azure-api", " ", "\n", "-"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_HOST_PIECES), max_size=30).map("".join))
def test_host_index_finds_what_a_search_for_every_suffix_finds(low):
    index = hosts.HostIndex(low)
    assert list(zip(index.offsets, index.services, index.names)) == _hosts_searching_every_suffix(low)


def test_every_host_suffix_holds_its_tail():
    for suffix, _, tail in hosts._SUFFIX_TAILS:
        assert suffix.endswith(tail) and tail.count(".") >= 1


# ---- generic keys under a named parent: the path of a node deep in lists and maps ------------------

def test_a_generic_key_under_a_named_parent_deep_in_lists_is_found_at_its_value():
    key = kg.legacy_b64(64)
    text = ('{"apps": [{"name": "a"}, {"settings": [{"x": 1}, {"Storage": {"Key": "' + key + '", "n": 2}}]}],\n'
            ' "Azure": {"retries": 3}}\n')
    found = [s for s in Scanner(make_document("appsettings.json", "appsettings.json", text)).run()
             if s.value == key]
    assert [(s.start, s.end) for s in found] == [(text.index(key), text.index(key) + len(key))]
    assert found[0].setting.lower().startswith("storage")
