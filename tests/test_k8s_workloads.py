"""Kubernetes: each pod-bearing workload is judged on its own pod template and ServiceAccount, and
ServiceAccounts are matched within one project only."""

from __future__ import annotations

import os

from conftest import write
from keyless.linter.config import Config
from keyless.linter.engine import Settings, lint_paths, lint_source, resolve_selection
from keyless.linter.rule import load_registry

SA = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
{annotations}---
"""

WORKLOAD = """apiVersion: apps/v1
kind: {kind}
metadata:
  name: {name}
spec:
  template:
    metadata:
      labels:
        azure.workload.identity/use: "true"
    spec:
      serviceAccountName: api
      containers:
        - name: c
          image: contoso.azurecr.io/{name}:1
---
"""

ANNOTATED = "  annotations:\n    azure.workload.identity/client-id: 11111111-1111-1111-1111-111111111111\n"


def run(root, select):
    st = Settings(root=str(root), select=resolve_selection(load_registry(), select))
    return lint_paths([str(root)], Config(root=str(root)), st, excludes=[".git"], jobs=1).findings


def test_one_finding_per_service_account_names_every_workload():
    text = SA.format(annotations="") + "".join(
        WORKLOAD.format(kind=k, name=n) for k, n in (("Deployment", "web"), ("StatefulSet", "db"), ("DaemonSet", "agent")))
    [f] = lint_source(text, "k8s/all.yaml", select=["KL503"])
    assert f.span.start.line == 4
    assert "ServiceAccount 'api'" in f.message and "\n" not in f.message + f.fix.message
    assert "Deployment 'web' (k8s/all.yaml) and 2 more" in f.fix.message


def test_each_workload_of_a_list_is_judged(tmp_path):
    text = """apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: Job
    metadata:
      name: export
    spec:
      template:
        metadata:
          labels:
            azure.workload.identity/use: "true"
        spec:
          restartPolicy: Never
          containers: [{name: c, image: x}]
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels:
        azure.workload.identity/use: "true"
    spec:
      template:
        metadata:
          labels: {app: web}
        spec:
          containers: [{name: c, image: x}]
"""
    found = sorted((f.span.start.line, f.message.split(" ")[1]) for f in lint_source(text, "k8s/list.yaml", select=["KL503"]))
    assert found == [(12, "'export'"), (21, "'web'")]


def test_service_accounts_are_matched_within_one_repository(tmp_path):
    for repo in ("shop", "ledger", "tools"):
        os.makedirs(tmp_path / repo / ".git")
    # shop annotates its 'api' ServiceAccount; ledger does not; tools only runs a pod as 'api'.
    write(tmp_path, "shop/k8s/sa.yaml", SA.format(annotations=ANNOTATED))
    write(tmp_path, "shop/k8s/web.yaml", WORKLOAD.format(kind="Deployment", name="web"))
    write(tmp_path, "ledger/k8s/sa.yaml", SA.format(annotations=""))
    write(tmp_path, "ledger/k8s/web.yaml", WORKLOAD.format(kind="Deployment", name="ledger-web"))
    write(tmp_path, "tools/k8s/job.yaml", WORKLOAD.format(kind="Deployment", name="tool"))
    found = [(f.path, f.code) for f in run(tmp_path, ["KL503"])]
    assert found == [("ledger/k8s/sa.yaml", "KL503")]
    [f] = run(tmp_path, ["KL503"])
    assert "ledger-web" in f.fix.message and "tool" not in f.fix.message
