"""Templated YAML outside Helm charts: azd `*.tmpl.yaml`, `{{ }}` in other files, envsubst
`${VAR}` placeholders. What can be read is read; the unreadable says so in plain words."""

from __future__ import annotations

import pytest

from keyless.linter.documents import make_document
from keyless.linter.documents.templated import Templated
from keyless.rules.iac.common import deploy_placeholder, is_unknown

AZD_TEMPLATE = """\
api-version: 2024-02-02-preview
location: {{ .Env.AZURE_LOCATION }}
identity:
  type: UserAssigned
  userAssignedIdentities:
    ? "{{ .Env.AZURE_CONTAINER_REGISTRY_MANAGED_IDENTITY_ID }}"
    : {}
properties:
  configuration:
    ingress:
      targetPort: {{ targetPortOrDefault 8080 }}
    secrets:
      - name: db
        value: '{{ securedParameter "db_password" }}'
  template:
    containers:
      - image: {{ .Image }}
        name: api
tags:
  azd-service-name: api
"""


def parsed(relpath, text):
    doc = make_document(relpath, relpath, text)
    assert doc.ensure_parsed(), doc.parse_error
    return doc


def test_an_azd_template_is_read_around_its_actions():
    doc = parsed("infra/api.tmpl.yaml", AZD_TEMPLATE)
    root = doc.values[0]
    assert root["api-version"] == "2024-02-02-preview"
    assert is_unknown(root["location"]) and root["location"] == "{{ .Env.AZURE_LOCATION }}"
    assert root["identity"]["type"] == "UserAssigned"
    [uami] = root["identity"]["userAssignedIdentities"]
    assert isinstance(uami, Templated)
    assert isinstance(root["properties"]["configuration"]["secrets"][0]["value"], Templated)
    assert root["properties"]["template"]["containers"][0]["name"] == "api"
    assert doc.subkinds == ["aca"]
    # positions are the file's own
    assert doc.locate((0, "properties", "template", "containers", 0, "name")).start.line == 18
    assert doc.locate((0, "location")).start.column == 11


def test_other_yaml_with_actions_that_break_it_is_read_the_same_way():
    text = "kind: ServiceAccount\napiVersion: v1\nmetadata:\n  name: {{ .Values.name }}\n  namespace: orders\n"
    doc = parsed("deploy/sa.yaml", text)
    assert is_unknown(doc.values[0]["metadata"]["name"]) and doc.values[0]["metadata"]["namespace"] == "orders"


def test_envsubst_placeholders_in_flow_collections_are_read():
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {app: api, tier: ${TIER}}\nspec:\n  containers:\n" \
           "    - name: api\n      image: ${REGISTRY}/api:${TAG}\n      args: [--port, ${PORT}]\n"
    doc = parsed("k8s/pod.yaml", text)
    pod = doc.values[0]
    assert pod["metadata"]["labels"]["app"] == "api"
    assert is_unknown(pod["metadata"]["labels"]["tier"]) and pod["metadata"]["labels"]["tier"] == "${TIER}"
    assert pod["spec"]["containers"][0]["args"][0] == "--port"
    assert is_unknown(pod["spec"]["containers"][0]["args"][1])


def test_yaml_that_parses_stays_plain():
    """A GitHub workflow's `${{ }}` expressions parse as YAML: no template view, and scripts keep
    their exact positions."""
    text = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.sha }}\n"
    doc = parsed(".github/workflows/ci.yml", text)
    assert doc.helm is None
    assert doc.values[0]["jobs"]["build"]["steps"][0]["run"] == "echo ${{ github.sha }}"
    assert doc.scalar_origin((0, "jobs", "build", "steps", 0, "run")) is not None


def test_an_unreadable_template_names_what_it_is():
    text = "location: {{ .Env.AZURE_LOCATION }}\nproperties:\n  a: [1, 2\n"
    doc = make_document("infra/api.tmpl.yaml", "infra/api.tmpl.yaml", text)
    assert not doc.ensure_parsed()
    message = str(doc.parse_error)
    assert message.startswith("invalid templated YAML: ")
    assert "mapping or sequence used as a key" not in message and "unhashable" not in message
    assert "Env" not in message  # no source text


def test_plain_yaml_errors_keep_their_kind():
    doc = make_document("a.yaml", "a.yaml", "a: [1, 2\nb: ${X}\n")
    assert not doc.ensure_parsed()
    assert str(doc.parse_error).startswith("invalid YAML: ")


def test_a_flow_mapping_key_without_placeholders_is_still_an_error():
    doc = make_document("a.yaml", "a.yaml", "? {a: 1}\n: b\n")
    assert not doc.ensure_parsed()
    assert "mapping or sequence used as a key" in str(doc.parse_error)


@pytest.mark.parametrize("value,expected", [
    ("${API_KEY}", True), ("${TOKEN:-unset}", True), ("$(dbPassword)", True), ("$(Build.BuildId)", True),
    ("#{QueueKey}#", True), ("__DB_PASSWORD__", True), ("{{ .Env.X }}", True), ("prefix-${X}", True),
    ("not-a-placeholder-$NAME", False), ("$(az keyvault secret show --name x)", False), ("plain", False),
    (None, False), (42, False),
])
def test_deploy_placeholders(value, expected):
    assert deploy_placeholder(value) is expected
