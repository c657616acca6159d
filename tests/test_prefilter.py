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


# ---- the lower-cased text and the prefilter's answers, shared with the rules ------------------------

import os  # noqa: E402

import pytest  # noqa: E402

from keyless.linter import engine  # noqa: E402
from keyless.linter.documents import make_document  # noqa: E402
from keyless.linter.rule import TEXT_WORDS_KEY, mentions, text_lower  # noqa: E402
from keyless.rules.secrets.scanner import Scanner  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("keyacs_zurm=ig8q~ pAKEYZ\u00e9\u00c9\u0130\u212a\n")), max_size=80))
def test_mentions_answers_what_a_substring_search_of_the_lowered_text_answers(text):
    doc = make_document("x.txt", "x.txt", text)
    alone = {w: mentions(doc, w) for w in (*KEYWORDS, "ke", "zz", "i\u0307")}
    doc.memo[TEXT_WORDS_KEY] = engine.text_words(text, KEYWORDS)
    assert text_lower(doc) == text.lower()
    for w, answer in alone.items():
        assert answer == (w in text.lower())
        assert mentions(doc, w) == answer  # searched by the prefilter or not


def _secrets(doc):
    return [(s.kind, s.start, s.end, s.value, s.source, s.confidence, s.setting, s.resource, s.context)
            for s in Scanner(doc).run()]


def _fixture_files():
    for dirpath, _, names in os.walk(FIXTURES):
        for name in sorted(names):
            if not name.endswith(".expect"):
                yield os.path.join(dirpath, name)


@pytest.mark.parametrize("code", sorted(os.listdir(FIXTURES)))
def test_the_secret_scanner_finds_the_same_with_the_engines_prefilter(code):
    words = engine.rule_set().keywords
    for path in _fixture_files():
        if os.sep + code + os.sep not in path:
            continue
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
        for variant in (text, text + "\n\u0130\u212a"):  # a character that lower-cases to two
            rel = os.path.relpath(path, FIXTURES).replace(os.sep, "/")
            alone = _secrets(make_document(rel, rel, variant))
            doc = make_document(rel, rel, variant)
            doc.memo[TEXT_WORDS_KEY] = engine.text_words(variant, words)
            assert _secrets(doc) == alone, rel


def test_the_lowered_copy_is_dropped_when_the_file_is_done(tmp_path):
    doc = make_document(str(tmp_path / "a.env"), "a.env", "AZURE_STORAGE_KEY=x\n")
    settings_ = engine.Settings(root=str(tmp_path), select=engine.resolve_selection(engine.load_registry(), None))
    engine.lint_document(doc, settings_)
    assert TEXT_WORDS_KEY not in doc.memo
