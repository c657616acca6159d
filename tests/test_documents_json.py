"""JSON documents: values equal json.loads, positions match LineIndex, hostile input is a ParseError."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyless.linter.documents import ParseError, make_document
from keyless.linter.documents.json import JsonDocument, parse_json
from keyless.linter.finding import Position, Span


def doc(text, name="template.json"):
    d = make_document(name, name, text)
    assert isinstance(d, JsonDocument)
    return d


def text_at(d, span):
    return d.text[d.lines.offset(span.start):d.lines.offset(span.end)]


ARM = """{
  // ARM templates may carry comments
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  /* block
     comment */
  "resources": [
    {
      "type": "Microsoft.App/containerApps",
      "name": "app",
      "identity": { "type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {} },
      "properties": { "configuration": { "secrets": [ { "name": "s", "value": "[parameters('p')]" } ] } },
    },
  ],
}
"""


def test_arm_with_comments_and_trailing_commas_parses_with_positions():
    d = doc(ARM)
    assert d.ensure_parsed(), d.parse_error
    assert d.subkind == "arm"
    res = d.values[0]["resources"][0]
    assert res["identity"]["type"] == "SystemAssigned,UserAssigned"
    span = d.locate((0, "resources", 0, "identity", "type"))
    assert span == Span(Position(11, 29), Position(11, 58))
    assert text_at(d, span) == '"SystemAssigned,UserAssigned"'
    key = d.locate_key((0, "resources", 0, "identity", "type"))
    assert text_at(d, key) == '"type"'
    assert key.start.line == 11
    value = d.locate((0, "resources", 0, "properties", "configuration", "secrets", 0, "value"))
    assert text_at(d, value) == "\"[parameters('p')]\""
    # list items: locate_key == locate
    assert d.locate_key((0, "resources", 0)) == d.locate((0, "resources", 0))
    whole = d.locate((0, "resources", 0))
    assert whole.start == Position(8, 5) and whole.end == Position(13, 6)
    assert d.locate((0,)).start == Position(1, 1)


@pytest.mark.parametrize("path", [
    (1,), (0, "nope"), (0, "resources", 5), (0, "resources", "0"), (0, "resources", -1),
    (0, "resources", True), (0, "contentVersion", "x"), (), ("0",),
])
def test_unknown_paths_give_none(path):
    d = doc(ARM)
    assert d.locate(path) is None
    assert d.locate_key(path) is None


def test_crlf_lone_cr_and_non_ascii_positions():
    for nl in ("\r\n", "\r", "\n"):
        text = nl.join(['{', '  "näme": "wért ✓",', '  "🔑": [1, {"k": "v"}]', '}'])
        d = doc(text)
        assert d.ensure_parsed(), d.parse_error
        assert d.values[0] == {"näme": "wért ✓", "🔑": [1, {"k": "v"}]}
        sp = d.locate((0, "näme"))
        assert sp == Span(Position(2, 11), Position(2, 19)), nl
        assert text_at(d, sp) == '"wért ✓"'
        sp = d.locate((0, "🔑", 1, "k"))
        assert sp.start.line == 3 and text_at(d, sp) == '"v"'
        assert text_at(d, d.locate_key((0, "🔑"))) == '"🔑"'


def test_bom_character_is_skipped():
    d = doc('\ufeff{"a": 1}')
    assert d.ensure_parsed() and d.values == [{"a": 1}]
    assert d.locate((0, "a")) == Span(Position(1, 8), Position(1, 9))


def test_duplicate_keys_last_wins_with_its_position():
    d = doc('{"a": 1,\n "b": 2,\n "a": 3}')
    assert d.values[0] == json.loads(d.text) == {"a": 3, "b": 2}
    assert list(d.values[0]) == ["a", "b"]
    assert d.locate((0, "a")).start.line == 3


def test_escapes_and_special_numbers_match_json_loads():
    text = r'{"s": "a\"b\\c\u00e9\ud83d\ude00\n", "n": [0, -0, 1.5e3, -2E-2, 1e400, 12345678901234567890], ' \
           r'"c": [NaN, Infinity, -Infinity, true, false, null]}'
    ours = parse_json(text)[0]
    ref = json.loads(text)
    assert ours["s"] == ref["s"] and ours["n"] == ref["n"]
    assert [type(x) for x in ours["n"]] == [type(x) for x in ref["n"]]
    assert math.isnan(ours["c"][0]) and ours["c"][1:] == ref["c"][1:]


@pytest.mark.parametrize("text,line", [
    ('{\n  "a": 1\n  "b": 2\n}', 3),
    ('{"a": [1, 2,, 3]}', 1),
    ('{\n"a": }', 2),
    ('[1, 2', 1),
    ('{"a": "unterminated\n}', 1),
    ('', 1),
    ('{"a": 1} trailing', 1),
    ('[01]', 1),
    ('{"a" 1}', 1),
    ('[1,\n2,\n/* unterminated', 3),
    ('{\'single\': 1}', 1),
    ('[1 2]', 1),
    ('{"a": tru}', 1),
    ('[-]', 1),
    ('{"a":1}}', 1),
    ('[1}', 1),
])
def test_invalid_json_is_a_parse_error_with_line(text, line):
    d = doc(text)
    assert not d.ensure_parsed()
    assert isinstance(d.parse_error, ParseError)
    assert d.parse_error.line == line, d.parse_error


def test_huge_integer_is_a_parse_error_not_valueerror():
    d = doc("[" + "9" * 5000 + "]")
    assert not d.ensure_parsed() and isinstance(d.parse_error, ParseError)


@pytest.mark.slow
@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_deep_nesting_is_a_clean_parse_error(opener, closer):
    text = opener * 100_000 + "1" + closer * 100_000
    d = doc(text)
    assert not d.ensure_parsed()
    assert "nesting" in str(d.parse_error)
    # Just below the limit it parses (no recursion anywhere).
    ok = doc("[" * 900 + "]" * 900)
    assert ok.ensure_parsed()
    span = ok.locate((0,) + (0,) * 899)
    assert span == Span(Position(1, 900), Position(1, 902))


@pytest.mark.parametrize("name,text,subkind", [
    ("azuredeploy.json", '{"$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"}', "arm"),
    ("x.json", '{"resources": [], "contentVersion": "1.0.0.0"}', "arm"),
    ("p.json", '{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"}', "arm-parameters"),
    ("main.tf.json", '{"resource": {}}', "tf-json"),
    ("plan.json", '{"format_version": "1.2", "resource_changes": []}', "tf-plan"),
    ("appsettings.Development.json", '{"ConnectionStrings": {}}', "appsettings"),
    ("local.settings.json", '{"Values": {}}', "local-settings"),
    ("package.json", '{"name": "x"}', ""),
    ("list.json", '[1, 2]', ""),
])
def test_subkinds(name, text, subkind):
    d = doc(text, name)
    assert d.ensure_parsed()
    assert d.subkind == subkind


def test_ipynb_name_gives_notebook_subkind_when_parsed_as_json():
    d = JsonDocument("nb.ipynb", "nb.ipynb", '{"cells": []}')
    assert d.ensure_parsed() and d.subkind == "notebook"


# ---- property test: values equal json.loads ----------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 0, 1, 2, 4]), st.booleans())
def test_values_equal_json_loads(value, indent, ensure_ascii):
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)
    ours, root = parse_json(text)
    assert ours == json.loads(text)
    assert json.dumps(ours) == json.dumps(json.loads(text))  # same key order, same types
    assert root[0] == 0 and root[1] == len(text)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.text() | st.integers(), min_size=1), st.sampled_from(["\n", "\r\n"]))
def test_positions_point_at_the_serialised_value(obj, nl):
    text = json.dumps(obj, indent=2, ensure_ascii=False).replace("\n", nl)
    d = doc(text)
    assert d.ensure_parsed()
    for key, value in obj.items():
        assert json.loads(text_at(d, d.locate((0, key)))) == value
        assert json.loads(text_at(d, d.locate_key((0, key)))) == key


