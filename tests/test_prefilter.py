"""The keyword prefilter (one Aho-Corasick pass) finds exactly what a substring search finds."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from keyless.linter.engine import keywords_present, rule_set

KEYWORDS = tuple(sorted({"key", "access_key", "azure", "azurerm_", "sig=", "8q~", "personal access token", "é"}))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("keyacs_zurm=ig8q~ pAKEYZ\u00e9\u00c9\udc80\n")), max_size=80))
def test_automaton_matches_substring_search(text):
    low = text.lower()
    assert keywords_present(text, KEYWORDS) == {w for w in KEYWORDS if w in low}


def test_every_rule_keyword_is_found_case_insensitively():
    rs = rule_set()
    text = " ".join(w.upper() for w in rs.keywords)
    assert keywords_present(text, rs.keywords) == set(rs.keywords)
    assert keywords_present("", rs.keywords) == set()
