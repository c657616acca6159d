"""YAML documents: safe_load-equal values, multi-document positions, hostile input."""

import datetime

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from keyless.linter.documents import ParseError, make_document
from keyless.linter.documents.yaml import YamlDocument
from keyless.linter.finding import Position, Span


def doc(text, name="app.yaml"):
    d = make_document(name, name, text)
    assert isinstance(d, YamlDocument)
    return d


def text_at(d, span):
    return d.text[d.lines.offset(span.start):d.lines.offset(span.end)]


ACA = """\
# az containerapp create --yaml
location: westeurope
identity:
  type: SystemAssigned,UserAssigned
  userAssignedIdentities:
    /subscriptions/x/id1: {}
properties:
  configuration:
    secrets:
      - name: db
        value: "s3cr3t"
  template:
    containers:
      - name: api
        image: contoso.azurecr.io/api:1
        env:
          - name: AZURE_CLIENT_ID
            value: 0000-1111
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  template:
    spec:
      containers:
        - name: web
          env: [{name: A, value: "1"}]
"""


def test_multi_document_values_subkinds_and_positions():
    d = doc(ACA)
    assert d.ensure_parsed(), d.parse_error
    assert d.values == list(yaml.safe_load_all(ACA))
    assert d.subkinds == ["aca", "k8s"]
    assert d.subkind == "aca"
    sp = d.locate((0, "properties", "configuration", "secrets", 0, "value"))
    assert sp == Span(Position(11, 16), Position(11, 24))
    assert text_at(d, sp) == '"s3cr3t"'
    assert text_at(d, d.locate_key((0, "properties", "configuration", "secrets", 0, "value"))) == "value"
    env = d.locate((0, "properties", "template", "containers", 0, "env", 0, "name"))
    assert text_at(d, env) == "AZURE_CLIENT_ID" and env.start.line == 17
    # second document
    sp = d.locate((1, "spec", "template", "spec", "containers", 0, "env", 0, "value"))
    assert sp.start.line == 28 and text_at(d, sp) == '"1"'
    assert text_at(d, d.locate((1, "metadata"))) == "{name: web, labels: {app: web}}"
    # a block mapping ends at its last child, not at the next document
    ident = d.locate((0, "identity"))
    assert ident.start == Position(4, 3) and ident.end == Position(6, 29)
    assert d.locate((2,)) is None and d.locate((0, "nope")) is None and d.locate(("0",)) is None
    assert d.locate((0, "properties", "configuration", "secrets", 1)) is None


def test_crlf_lone_cr_and_non_ascii_positions():
    for nl in ("\r\n", "\r", "\n"):
        text = nl.join(["näme: wért", "list:", "  - 'ünï ✓'", "  - {k: 🔑}", "u2028: 'a\u2028b'", "last: 1", ""])
        d = doc(text)
        assert d.ensure_parsed(), (nl, d.parse_error)
        assert d.values == [yaml.safe_load(text)]
        assert text_at(d, d.locate((0, "näme"))) == "wért"
        sp = d.locate((0, "list", 0))
        assert sp == Span(Position(3, 5), Position(3, 12)), nl
        sp = d.locate((0, "list", 1, "k"))
        assert sp == Span(Position(4, 9), Position(4, 10)) and text_at(d, sp) == "🔑"
        # U+2028 is a line break to YAML, not to LineIndex: offsets keep them in agreement.
        assert d.locate((0, "last")).start.line == 6


def test_scalar_resolution_follows_safe_load_except_timestamps_and_binary():
    text = ("a: 1\nb: 0x1F\nc: 1_000\nd: 1:30\ne: 1.5e+3\nf: .inf\ng: ~\nh: yes\ni: off\nj: '1'\n"
            "k: 2024-01-02\nl: !!binary aGVsbG8=\nm: !!str 12\nn: !!int '7'\no: !!int abc\np: !Ref Foo\n"
            "q: !!set {x, y}\nr: =\n")
    d = doc(text)
    assert d.ensure_parsed(), d.parse_error
    v = d.values[0]
    assert v["a"] == 1 and v["b"] == 31 and v["c"] == 1000 and v["d"] == 90 and v["e"] == 1500.0
    assert v["f"] == float("inf") and v["g"] is None and v["h"] is True and v["i"] is False
    assert v["j"] == "1" and v["m"] == "12" and v["n"] == 7 and v["o"] == "abc"
    assert v["k"] == "2024-01-02" and v["l"] == "aGVsbG8="  # kept as strings (plain data)
    assert v["p"] == "Foo" and v["q"] == {"x": None, "y": None} and v["r"] == "="
    ref = yaml.safe_load(text.replace("p: !Ref Foo\n", "").replace("o: !!int abc\n", "").replace("r: =\n", ""))
    for key, value in ref.items():
        if isinstance(value, (datetime.date, bytes, set)):
            continue
        assert v[key] == value, key


def test_github_workflow_on_key_is_true_like_safe_load_and_is_a_pipeline():
    d = doc("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n", ".github/workflows/ci.yml")
    assert d.values == [{True: "push", "jobs": {"build": {"runs-on": "ubuntu-latest"}}}]
    assert d.subkinds == ["pipeline"]
    assert d.locate((0, True)).start == Position(1, 5)


@pytest.mark.parametrize("text,subkind", [
    ("services:\n  web:\n    image: x\n", "compose"),
    ("trigger: [main]\npool: {vmImage: ubuntu}\nsteps: []\n", "pipeline"),
    ("type: Microsoft.App/containerApps\nname: x\n", "aca"),
    ("properties:\n  configuration: {}\n", "aca"),
    ("apiVersion: 2019-12-01\nproperties:\n  osType: Linux\n  containers: []\n", "aci"),
    ("type: Microsoft.ContainerInstance/containerGroups\n", "aci"),
    ("apiVersion: v1\nkind: Secret\n", "k8s"),
    ("a: 1\n", ""),
    ("- 1\n", ""),
])
def test_subkinds(text, subkind):
    d = doc(text)
    assert d.ensure_parsed()
    assert d.subkinds == [subkind]


def test_anchors_aliases_and_merge_keys():
    text = """\
base: &base
  image: x
  env: &env [{name: A, value: "1"}]
one:
  <<: *base
  image: y
two:
  <<: [{a: 1, b: 1}, {b: 2, c: 2}]
  c: 3
three: *env
"""
    d = doc(text)
    assert d.ensure_parsed(), d.parse_error
    v = d.values[0]
    assert v == yaml.safe_load(text)
    assert v["one"] == {"image": "y", "env": [{"name": "A", "value": "1"}]}
    assert v["two"] == {"a": 1, "b": 1, "c": 3}
    assert v["three"] is v["base"]["env"]  # aliases share the anchored object
    # the alias itself is located at `*env`; paths through it lead to the anchored text
    assert text_at(d, d.locate((0, "three"))) == "*env"
    assert text_at(d, d.locate((0, "three", 0, "value"))) == '"1"'
    assert d.locate((0, "three", 0, "value")).start.line == 3
    # a merged key is located where it is written (in the anchor); an own key wins
    assert d.locate((0, "one", "env")).start.line == 3
    assert d.locate((0, "one", "image")).start.line == 6


def test_billion_laughs_is_refused_by_the_expansion_meter():
    """Aliases are metered as if expanded but never expanded: the read stops at the alias that
    passes MAX_ALIAS_EXPANSION (the rest of the document is not read), and below the limit every
    alias is its anchor's own object, so the work follows the text, not the expansion."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    d = doc("\n".join(lines) + "\n")
    assert not d.ensure_parsed()
    assert "alias expansion too large" in str(d.parse_error)
    assert d.parse_error.line is not None and d.parse_error.line < len(lines)
    below = doc("\n".join(lines[:6]) + "\n")  # ~650,000 nodes if expanded: under the limit
    assert below.ensure_parsed(), below.parse_error
    v = below.values[0]
    assert all(item is v["e"] for item in v["f"]) and all(item is v["a"] for item in v["b"])


def test_modest_alias_reuse_is_fine():
    text = "x: &x {a: 1, b: [1, 2, 3]}\n" + "".join(f"k{i}: *x\n" for i in range(1000))
    d = doc(text)
    assert d.ensure_parsed() and len(d.values[0]) == 1001


@pytest.mark.parametrize("text,line,word", [
    ("a:\n\tb: 1\n", 2, "invalid YAML"),
    ("a: [1, 2\nb: 3\n", 2, "invalid YAML"),
    ("a: b: c\n", 1, "invalid YAML"),
    ("ok: 1\nx: &a [*a]\n", 2, "recursive"),
    ("a: *missing\n", 1, "undefined"),
    ("? [a, b]\n: 1\n", 1, "used as a key"),
    ("a: 1\nb: \x07\n", 2, "invalid YAML"),
    ("a: 1\n  b: 2\n", 2, "invalid YAML"),
    ("base: 1\nm:\n  <<: 5\n", 3, "merge"),
])
def test_invalid_yaml_is_a_parse_error_with_line(text, line, word):
    d = doc(text)
    assert not d.ensure_parsed()
    assert isinstance(d.parse_error, ParseError)
    assert word in str(d.parse_error)
    assert d.parse_error.line == line, d.parse_error
    assert "missing" not in str(d.parse_error)  # the alias name is source text


def test_undecodable_bytes_are_a_parse_error():
    d = doc("a: \udc80\n")
    assert not d.ensure_parsed() and isinstance(d.parse_error, ParseError)


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    "{a: " * 100_000 + "1" + "}" * 100_000,
    "".join("  " * i + "- \n" for i in range(3000)),
])
def test_deep_nesting_never_recursion_error(text):
    d = doc(text)
    assert not d.ensure_parsed()
    assert isinstance(d.parse_error, ParseError)


def test_empty_stream_and_empty_documents():
    assert doc("").values == []
    assert doc("# only a comment\n").values == []
    d = doc("---\n---\na: 1\n")
    assert d.values == [None, {"a": 1}] and d.subkinds == ["", ""]


def test_block_scalar_span_excludes_trailing_newlines():
    d = doc("script: |\n  echo one\n  echo two\n\nnext: 1\n")
    assert d.values[0]["script"] == "echo one\necho two\n"
    sp = d.locate((0, "script"))
    assert sp.start == Position(1, 9) and sp.end == Position(3, 11)


_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)
_scalars = st.none() | st.booleans() | st.integers() | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_values = st.recursive(_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(_keys, c, max_size=4),
                       max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(_values, min_size=1, max_size=3), st.booleans())
def test_values_equal_safe_load_all(docs, flow):
    text = yaml.safe_dump_all(docs, default_flow_style=flow, allow_unicode=True)
    d = doc(text)
    assert d.ensure_parsed(), d.parse_error
    assert d.values == list(yaml.safe_load_all(text))
    for i, v in enumerate(d.values):
        if isinstance(v, dict):
            for k in v:
                assert d.locate((i, k)) is not None


def test_python_loader_fallback_gives_same_result(monkeypatch):
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    d = doc(ACA)
    assert d.ensure_parsed()
    assert d.values == list(yaml.safe_load_all(ACA))
    assert text_at(d, d.locate((0, "properties", "configuration", "secrets", 0, "value"))) == '"s3cr3t"'
