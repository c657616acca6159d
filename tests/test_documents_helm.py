"""Helm chart templates: the line-preserving YAML view (keyless.linter.documents.helm)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write
from keyless.linter.documents import make_document
from keyless.linter.documents.helm import ChartValue, Templated, TemplateError, Values, detemplate, scan
from keyless.linter.workspace import Workspace
from keyless.rules.iac.common import is_unknown


def charted(values=None) -> Workspace:
    """Companions as if the directory `chart` held Chart.yaml (and values.yaml with `values`)."""

    class Charted(Workspace):
        def names(self, reldir):
            return frozenset({"Chart.yaml", "values.yaml"}) if reldir == "chart" else frozenset()

        def load(self, relpath):
            if values is None or relpath != "chart/values.yaml":
                return None
            return make_document("values.yaml", relpath, values)

    return Charted("/nonexistent")


def view_doc(text, values=None, relpath="chart/templates/app.yaml"):
    """A template parsed through its Helm view, as if its chart held Chart.yaml."""
    doc = make_document(relpath, relpath, text)
    doc.workspace = charted(values)
    assert doc.ensure_parsed(), doc.parse_error
    return doc


def line_of(doc, path, key=False):
    span = doc.locate_key(path) if key else doc.locate(path)
    return span.start.line


# ---- the view keeps every offset ----------------------------------------------------------------

TEMPLATE = """\
{{- /* a comment with "}}" and ' inside */ -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_view_has_the_same_length_and_line_breaks(newline):
    text = TEMPLATE.replace("\n", newline)
    view = detemplate(text)
    assert len(view.text) == len(text)
    assert [i for i, c in enumerate(view.text) if c in "\r\n"] == [i for i, c in enumerate(text) if c in "\r\n"]
    assert "{{" not in view.text and "}}" not in view.text


def test_actions_alone_on_their_lines_become_blank_lines():
    view = detemplate(TEMPLATE)
    lines = view.text.split("\n")
    for n in (0, 1, 7, 8, 10, 11, 12):
        assert not lines[n].strip(), (n, lines[n])
    assert lines[5].startswith("  name: ") and lines[9] == "  annotations:"


def test_positions_point_into_the_template():
    doc = view_doc(TEMPLATE, "serviceAccount:\n  annotations:\n    azure.workload.identity/client-id: abc\n")
    assert line_of(doc, (0, "metadata", "name")) == 6
    assert line_of(doc, (0, "metadata", "annotations"), key=True) == 10
    # injected from values.yaml: positioned on the toYaml action
    span = doc.locate((0, "metadata", "annotations", "azure.workload.identity/client-id"))
    assert span.start.line == 11 and doc.lines.line_text(11)[span.start.column - 1:].startswith("{{- toYaml")


# ---- scanning like Go's lexer ---------------------------------------------------------------------

def test_trim_markers_need_a_space():
    acts = scan("{{- if .x -}}a{{-3}}b{{ .y -}}")
    assert [a.inner for a in acts] == ["if .x", "-3", ".y"]


def test_braces_inside_go_strings_do_not_close_an_action():
    text = 'a: {{ printf "}}{{%s}}" .x }}\nb: {{ `raw }} with\nnewline` }}\nc: {{ \'}\' }}\n'
    acts = scan(text)
    assert [a.inner.split()[0] for a in acts] == ["printf", "`raw", "'}'"]
    doc = view_doc(text)
    assert doc.values[0]["a"] == '{{ printf "}}{{%s}}" .x }}'


def test_braces_outside_actions_are_text():
    doc = view_doc('a: "}}"\nb: "{ {x} }"\nc: {{ .Values.c }}\n')
    assert doc.values[0]["a"] == "}}" and doc.values[0]["b"] == "{ {x} }"


def test_actions_inside_yaml_quotes():
    doc = view_doc("a: \"{{ .Values.x }}\"\nb: 'pre-{{ .Release.Name }}-post'\nc: \"{{ .Values.y | quote }}\"\n",
                   "x: hello\n")
    assert doc.values[0]["a"] == "hello" and isinstance(doc.values[0]["a"], ChartValue)
    b = doc.values[0]["b"]
    assert isinstance(b, Templated) and b == "pre-{{ .Release.Name }}-post"


@pytest.mark.parametrize("text,message", [
    ("a: 1\nb: {{ .Values.x\nc: 2\n", "unclosed template action"),
    ('a: {{ "unterminated }}\n', "unterminated string in template action"),
    ("a: {{/* never closed }}\n", "unclosed template comment"),
    ("a: {{/* closed */ x }}\n", "template comment does not end the action"),
])
def test_unclosed_actions_are_errors_at_their_line(text, message):
    with pytest.raises(TemplateError, match=message):
        detemplate(text)
    doc = make_document("chart/templates/x.yaml", "chart/templates/x.yaml", text)
    doc.workspace = view_doc("a: 1\n").workspace
    assert not doc.ensure_parsed()
    assert doc.parse_error.line == text[:text.index("{{")].count("\n") + 1
    assert "Helm template" in str(doc.parse_error)


# ---- scalars -----------------------------------------------------------------------------------

def test_inline_actions_make_the_scalar_unknown():
    doc = view_doc('image: {{ .Values.image.repository }}:{{- .Values.image.tag -}}\n'
                   'name: {{ include "app.fullname" . }}\n'
                   '{{ .Values.key }}: v\n')
    d = doc.values[0]
    assert d["image"] == "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
    assert all(is_unknown(v) for v in (d["image"], d["name"])) and any(is_unknown(k) for k in d)


def test_values_yaml_scalars_are_substituted_with_their_origin():
    values = "image:\n  tag: v1\nreplicas: 3\nwi:\n  use: true\nmap: {a: 1}\n"
    doc = view_doc("tag: {{ .Values.image.tag }}\nreplicas: {{ .Values.replicas }}\n"
                   "use: {{ .Values.wi.use | quote }}\nmap: {{ .Values.map }}\nmissing: {{ .Values.nope }}\n"
                   "piped: {{ .Values.image.tag | upper }}\n", values)
    d = doc.values[0]
    assert d["tag"] == "v1" and d["tag"].origin == "chart/values.yaml `image.tag`"
    assert d["replicas"] == 3 and d["use"] == "true"
    assert all(isinstance(d[k], Templated) for k in ("map", "missing", "piped"))


def test_control_actions_inside_a_scalar_make_it_unknown_but_at_line_edges_they_do_not():
    doc = view_doc("a: {{ if .x }}on{{ else }}off{{ end }}\nb: plain {{- if .y }}\nc: 1\n{{- end }}\n")
    assert isinstance(doc.values[0]["a"], Templated)
    assert doc.values[0]["b"] == "plain" and doc.values[0]["c"] == 1


def test_define_bodies_and_silent_actions_are_blank():
    doc = view_doc('{{- define "app.x" }}\nnot: rendered\n{{- if .y }}\nalso: no\n{{- end }}\n{{- end }}\n'
                   '{{- $name := include "app.fullname" . }}\nkind: ConfigMap\n')
    assert doc.values == [{"kind": "ConfigMap"}]


# ---- branches and injections --------------------------------------------------------------------

BRANCHES = """\
{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: x
    {{- if .Values.wi }}
    azure.workload.identity/use: "true"
    {{- end }}
    {{- with .Values.known }}
    known: {{ .a }}
    {{- end }}
    {{- with .Values.unset }}
    unset: x
    {{- end }}
{{- end }}
"""


def test_only_branches_inside_the_document_are_conditional():
    doc = view_doc(BRANCHES, "known: {a: 1}\n")
    helm = doc.helm
    labels = (0, "metadata", "labels")
    assert not helm.conditional(labels + ("app",))  # the `if` around the whole document does not count
    assert helm.conditional(labels + ("azure.workload.identity/use",))
    assert not helm.conditional(labels + ("known",))  # values.yaml decides: rendered
    assert helm.conditional(labels + ("unset",))


def test_injections_merge_known_values_and_mark_the_rest_unknown():
    text = """\
spec:
  template:
    metadata:
      labels:
        app: x
        {{- toYaml .Values.podLabels | nindent 8 }}
      annotations: {{- include "app.annotations" . | nindent 8 }}
    spec:
      containers:
        - name: api
          env:
            - name: A
              value: "1"
            {{- with .Values.env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
      nodeSelector:
        {{- toYaml .Values.notInValues | nindent 8 }}
"""
    doc = view_doc(text, "podLabels: {tier: web}\nenv:\n  - {name: B, value: '2'}\nresources: {limits: {cpu: 1}}\n")
    d, helm = doc.values[0], doc.helm
    assert d["spec"]["template"]["metadata"]["labels"] == {"app": "x", "tier": "web"}
    container = d["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in container["env"]] == ["A", "B"]
    assert container["resources"] == {"limits": {"cpu": 1}}
    assert helm.origin((0, "spec", "template", "spec", "containers", 0, "env", 1, "name")) == "chart/values.yaml `env`"
    assert line_of(doc, (0, "spec", "template", "spec", "containers", 0, "env", 1)) == 15
    assert helm.unknown((0, "spec", "template", "metadata", "annotations", "anything"))
    assert helm.unknown((0, "spec", "template", "spec", "nodeSelector"))
    assert not helm.unknown((0, "spec", "template", "metadata", "labels"))


def test_values_yaml_is_never_modified():
    values = "ann:\n  a: 1\n"
    doc = view_doc("m:\n  ann:\n    {{- toYaml .Values.ann | nindent 4 }}\n    {{- toYaml .Values.ann | nindent 4 }}\n"
                   "  x: 1\n", values)
    assert doc.values[0]["m"]["ann"] == {"a": 1}
    companion = doc.workspace.load("chart/values.yaml")
    assert companion.values == [{"ann": {"a": 1}}]


# ---- which files, and the engine --------------------------------------------------------------------

def test_charts_are_found_through_the_workspace(tmp_path):
    write(tmp_path, "chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
    write(tmp_path, "chart/values.yaml", "name: from-values\n")
    tpl = write(tmp_path, "chart/templates/sub/cm.yaml", "kind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n")
    partial = write(tmp_path, "chart/templates/_partial.yaml", "{{- define \"x\" }}a: 1{{ end }}\n")
    loose = write(tmp_path, "other/templates/cm.yaml", "a: '{{ x }}'\nb: {{ y }}\n")
    ws = Workspace(str(tmp_path))

    def parsed(path):
        rel = path[len(str(tmp_path)) + 1:]
        doc = make_document(path, rel, open(path, encoding="utf-8").read())
        doc.workspace = ws
        ws.begin(doc)
        assert doc.ensure_parsed(), doc.parse_error
        return doc, ws.end()

    doc, deps = parsed(tpl)
    assert doc.values[0]["metadata"]["name"] == "from-values" and doc.helm.chart == "chart"
    assert {"d:chart", "f:chart/values.yaml"} <= set(deps)  # the cache re-lints it when they change
    assert parsed(partial)[0].values == []
    doc, _ = parsed(loose)  # no Chart.yaml: a template only when plain YAML fails
    assert doc.helm is not None and doc.helm.chart is None and isinstance(doc.values[0]["b"], Templated)


def test_no_parse_warning_for_a_chart_and_a_line_for_a_broken_one(run_cli, tmp_path):
    write(tmp_path, "chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
    write(tmp_path, "chart/templates/deployment.yaml",
          "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
          "        - name: {{ .Chart.Name }}\n          env:\n          {{- toYaml .Values.env | nindent 10 }}\n")
    write(tmp_path, "chart/templates/broken.yaml",
          "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Values.name\n")
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json", "--exit-zero")
    errors = json.loads(out)["errors"]
    assert [(e["path"], e["line"]) for e in errors] == [("chart/templates/broken.yaml", 4)]


# ---- hostile input ----------------------------------------------------------------------------------

# Hostile templates, each (head, unit): the unit repeated to the size, or a function of the size.
HOSTILE = {
    "openers": ("", "{{"),
    "empty actions": ("", "{{}}"),
    "actions as values": ("", "a: {{ .x }}\n"),
    "unclosed ifs": ("", "{{ if .x }}\n"),
    "ifs and ends": ("", "{{ if .x }}\n{{ end }}\n"),
    "branches inside a scalar": ("k: a", "{{ if .x }}b{{ end }}"),
    "an unterminated string": ('{{ "', "a"),
    "an unterminated raw string": ("{{ `", "a\n"),
    "a run of quotes": ("", lambda n: "{{ " + "'" * n + " }}"),
    "toYaml blocks under deep nesting": ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 100)),
                                         "{{ toYaml .Values.x | nindent 4 }}\n"),
    "placeholder characters": ("", "\ue000\ue100 {{ .x }}: \ue000\ue100\ue001\n"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_templates_are_read_in_linear_time(name):
    from test_time_bounds import MAX_GROWTH, every_rule, growth

    head, unit = HOSTILE[name]
    ratio = growth("chart/templates/x.yaml", unit, head=head, rules=every_rule(), workspace=charted())
    assert ratio <= MAX_GROWTH, f"{name}: 4x the input took {ratio:.1f}x the time"


def test_the_placeholder_characters_of_the_view_never_become_keys():
    doc = make_document("chart/templates/x.yaml", "chart/templates/x.yaml",
                        "\ue000\ue100 {{ .x }}: \ue000\ue100\ue001\n" * 1000)
    doc.workspace = charted()
    doc.ensure_parsed()
    assert doc.helm is not None and isinstance(doc.values[0], dict)
    assert all("\ue000" not in k for k in doc.values[0] if isinstance(k, str))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.sampled_from(list('{}{}{}-/*. \n\t:"\'`|$()abVlues#[]')), max_size=300))
def test_fuzz_views_keep_offsets_and_parsing_never_raises(text):
    try:
        view = detemplate(text, Values({"a": {"b": "x"}, "l": [1]}))
    except TemplateError:
        view = None
    if view is not None:
        assert len(view.text) == len(text)
        assert [i for i, c in enumerate(view.text) if c in "\r\n"] == [i for i, c in enumerate(text) if c in "\r\n"]
    doc = make_document("chart/templates/x.yaml", "chart/templates/x.yaml", text)
    doc.workspace = view_doc("a: 1\n", "a: {b: x}\nl: [1]\n").workspace
    if doc.ensure_parsed() and doc.helm is not None:
        for i in range(len(doc.values)):
            doc.locate((i,))
            doc.helm.conditional((i, "a"))
