"""Companion files: what a document's rules read is recorded as a dependency of its result."""

from __future__ import annotations

import os

from keyless.linter.discovery import discover
from keyless.linter.engine import Settings, lint_file, resolve_selection
from keyless.linter.rule import load_registry
from keyless.linter.workspace import Workspace


def _write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    "chart/values.yaml": "serviceAccount:\n  annotations: {}\n",
    "chart/templates/sa.yaml": (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n"
        "  {{- with .Values.serviceAccount.annotations }}\n  annotations:\n    {{- toYaml . | nindent 4 }}\n"
        "  {{- end }}\n"),
    "other.yaml": "a: 1\n",
}


class Doc:
    """Stands for the document whose rules are running."""

    def __init__(self, relpath):
        self.relpath, self.memo = relpath, {}


def _setup(tmp_path):
    root = str(tmp_path)
    for rel, text in CHART.items():
        _write(root, rel, text)
    files = discover([root], root, excludes=[], max_file_size=1 << 20).files
    settings = Settings(root=root, select=resolve_selection(load_registry(), None))
    return root, files, settings, Workspace.from_candidates(root, files)


def test_dependencies_read_while_parsing_follow_the_document(tmp_path):
    root, files, settings, ws = _setup(tmp_path)
    template = next(c for c in files if c.relpath == "chart/templates/sa.yaml")
    other = next(c for c in files if c.relpath == "other.yaml")
    # another file's rules read the template first (it is parsed as a companion) ...
    res_other = lint_file(other, settings, ws)
    ws.begin(Doc("other.yaml"))
    ws.load("chart/templates/sa.yaml").ensure_parsed()
    ws.end()
    # ... and the template's own result still depends on the chart's values.yaml.
    res = lint_file(template, settings, ws)
    assert "f:chart/values.yaml" in res.deps
    assert "f:chart/values.yaml" not in res_other.deps


def test_derived_values_replay_their_dependencies(tmp_path):
    root, files, settings, ws = _setup(tmp_path)
    ws.begin(Doc("a"))
    first = ws.derived(("k",), lambda: ws.load("chart/values.yaml") is not None)
    deps_a = ws.end()
    ws.begin(Doc("b"))
    second = ws.derived(("k",), lambda: 1 / 0)  # not computed again
    deps_b = ws.end()
    assert first is True and second is True
    assert deps_a == deps_b and "f:chart/values.yaml" in deps_a


def test_a_changed_or_new_companion_is_seen(tmp_path):
    root, files, settings, ws = _setup(tmp_path)
    ws.begin(Doc("x"))
    ws.names("chart")
    ws.load("chart/values.yaml")
    deps = ws.end()
    assert ws.unchanged(deps)
    _write(root, "chart/values.prod.yaml", "x: 1\n")  # a new file in a listed directory
    again = Workspace.from_candidates(root, discover([root], root, excludes=[], max_file_size=1 << 20).files)
    assert not again.unchanged(deps)
