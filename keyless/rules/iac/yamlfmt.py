"""YAML: `az containerapp --yaml` files, ACI YAML, Kubernetes manifests and azd's azure.yaml."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from keyless.rules.iac.arm import analyze_aca, analyze_aci, client_secret_message, yaml_env_entry
from keyless.rules.iac.common import Emitter, Uami, Workload, emit_workload, parse_identity_type
from keyless.rules.iac.facts import fix_dict, span_to_list

K8S_POD_PATHS = {
    "pod": ("spec",),
    "deployment": ("spec", "template", "spec"),
    "statefulset": ("spec", "template", "spec"),
    "daemonset": ("spec", "template", "spec"),
    "replicaset": ("spec", "template", "spec"),
    "job": ("spec", "template", "spec"),
    "cronjob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WI_USE = "azure.workload.identity/use"
WI_CLIENT = "azure.workload.identity/client-id"


def _get(d: Any, *keys: Any) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def detect_subkind(d: Any) -> str:
    if not isinstance(d, dict):
        return ""
    if isinstance(d.get("apiVersion"), str) and isinstance(d.get("kind"), str):
        return "k8s"
    t = str(d.get("type", "")).lower()
    props = d.get("properties")
    if t.startswith("microsoft.app/") or (isinstance(props, dict) and ("template" in props or "configuration" in props)
                                          and ("environmentId" in props or "managedEnvironmentId" in props
                                               or "configuration" in props)):
        return "aca"
    if t.startswith("microsoft.containerinstance/") or (isinstance(props, dict) and "containers" in props
                                                          and "osType" in props):
        return "aci"
    return ""


def yaml_document(em: Emitter, i: int, d: Any, sub: str) -> None:
    if not sub:
        sub = detect_subkind(d)
    if sub == "aca":
        aca_yaml(em, i, d)
    elif sub == "aci":
        aci_yaml(em, i, d)
    elif sub == "k8s":
        k8s(em, i, d)
    elif isinstance(d, dict) and isinstance(d.get("services"), dict) and i == 0 and em.relpath.rsplit("/", 1)[-1].lower() in ("azure.yaml", "azure.yml"):
        azd(em, d)


def _yaml_workload(em: Emitter, i: int, d: dict, kind: str, fmt: str) -> Workload:
    name = d.get("name") if isinstance(d.get("name"), str) else None
    if name is None:
        # `az containerapp create --name api --yaml app.yaml`: the name is often noted in a comment
        m = re.search(r"^\s*#.*?--name\s+([A-Za-z0-9][A-Za-z0-9-]*)", em.doc.text, re.M)
        name = m.group(1) if m else em.relpath.rsplit("/", 1)[-1]
    t = d.get("type") if isinstance(d.get("type"), str) else ("Microsoft.App/containerApps" if kind == "containerapp" else "Microsoft.ContainerInstance/containerGroups")
    anchor = (i, "name") if "name" in d else (i, "properties")
    w = Workload(fmt, kind, name, f"{t}/{name}", (i,), anchor)
    ident = d.get("identity")
    if isinstance(ident, dict):
        w.identity_path = (i, "identity", "type")
        w.identity = parse_identity_type(ident.get("type"))
        uai = ident.get("userAssignedIdentities")
        if w.identity.user:
            if isinstance(uai, dict):
                for k in uai:
                    w.uamis.append(Uami(str(k), f"<client id of {k}>"))
            else:
                w.uami_unknown = True
    elif ident is not None:
        w.identity_path = (i, "identity")
        w.identity = parse_identity_type(ident if isinstance(ident, str) else None)
    msg = "Add a system-assigned managed identity (then grant it AcrPull/data-plane roles and switch registries and secrets to it)"
    text = "identity:\n  type: SystemAssigned\n"
    fix = fix_dict(msg + ":\n" + text, "display-only")
    if ident is None:
        ksp = em.span((i, "properties"), key=True)
        if ksp is not None and ksp.start.column == 1:
            fix = fix_dict(msg, "unsafe", [[ksp.start.line, 1, ksp.start.line, 1, text]])
    w.identity_fix = fix
    return w


def aca_yaml(em: Emitter, i: int, d: Any) -> None:
    if not isinstance(d, dict):
        return
    t = str(d.get("type", "")).lower()
    props = d.get("properties") if isinstance(d.get("properties"), dict) else {}
    is_job = t.endswith("/jobs") or isinstance(_get(props, "configuration", "triggerType"), str)
    w = _yaml_workload(em, i, d, "containerappjob" if is_job else "containerapp", "aca-yaml")
    analyze_aca(em, w, d, (i,), lambda v: v, "aca-yaml", None)
    w.client_id_fix_text = yaml_env_entry(w)
    emit_workload(em, w)


def aci_yaml(em: Emitter, i: int, d: Any) -> None:
    if not isinstance(d, dict):
        return
    w = _yaml_workload(em, i, d, "aci", "aci-yaml")
    analyze_aci(em, w, d, (i,), lambda v: v, "aci-yaml")
    emit_workload(em, w)


def k8s(em: Emitter, i: int, d: Any) -> None:
    if not isinstance(d, dict):
        return
    kind = str(d.get("kind", ""))
    api = str(d.get("apiVersion", ""))
    meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else "?"
    ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    lk = kind.lower()
    if api.startswith("aadpodidentity.k8s.io"):
        em.issue("KL504", (i, "kind"), f"k8s|{kind}|{ns}|{name}",
                 f"{kind} '{name}' belongs to aad-pod-identity, which was deprecated in October 2022 and archived in "
                 "2023; it no longer receives fixes.",
                 fix=fix_dict("Migrate to Microsoft Entra Workload ID: a federated identity credential on the "
                              "user-assigned identity, a ServiceAccount annotated with azure.workload.identity/client-id, "
                              "and pods labelled azure.workload.identity/use: \"true\".", "display-only"))
        return
    if lk == "serviceaccount":
        ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        em.add("iac.k8s-sa", {
            "name": name, "namespace": ns, "client_id": WI_CLIENT in ann,
            "span": span_to_list(em.span((i, "metadata", "name"))),
            "ann_span": span_to_list(em.span((i, "metadata", "annotations"), key=True)) if ann else None,
        })
        return
    pod_path = K8S_POD_PATHS.get(lk)
    if pod_path is None:
        return
    spec = _get(d, *pod_path)
    if not isinstance(spec, dict):
        return
    tmeta_path = pod_path[:-1] + ("metadata",) if lk != "pod" else ("metadata",)
    tmeta = _get(d, *tmeta_path)
    labels = _get(tmeta, "labels") if isinstance(tmeta, dict) else None
    labels = labels if isinstance(labels, dict) else {}
    wl_labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    use = str(labels.get(WI_USE, "")).lower() == "true"
    wl_only = not use and str(wl_labels.get(WI_USE, "")).lower() == "true" and lk != "pod"
    if "aadpodidbinding" in labels:
        em.issue("KL504", (i,) + tmeta_path + ("labels", "aadpodidbinding"), f"k8s|{kind}|{ns}|{name}|aadpodidbinding",
                 f"{kind} '{name}' binds an identity with the aad-pod-identity label 'aadpodidbinding'; "
                 "aad-pod-identity is deprecated and archived.",
                 fix=fix_dict("Replace the label with azure.workload.identity/use: \"true\", set serviceAccountName to a "
                              "ServiceAccount annotated with azure.workload.identity/client-id, and add a federated "
                              "identity credential for it.", "display-only"), locate_key=True)
    env_client = False
    for ckey in ("containers", "initContainers"):
        for ci, c in enumerate(spec.get(ckey) or []):
            if not isinstance(c, dict):
                continue
            for ei, e in enumerate(c.get("env") or []):
                if not isinstance(e, dict):
                    continue
                if e.get("name") == "AZURE_CLIENT_ID":
                    env_client = True
                if e.get("name") == "AZURE_CLIENT_SECRET":
                    em.issue("KL259", (i,) + pod_path + (ckey, ci, "env", ei, "name"), f"k8s|{kind}|{ns}|{name}|AZURE_CLIENT_SECRET",
                             client_secret_message(f"{kind} '{name}'"), severity="high",
                             fix=fix_dict("Remove AZURE_CLIENT_SECRET and use Microsoft Entra Workload ID "
                                          "(azure.workload.identity/use label + annotated ServiceAccount).", "display-only"))
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount")
    label_path = (i,) + tmeta_path + ("labels", WI_USE)
    em.add("iac.k8s-pod", {
        "kind": kind, "name": name, "namespace": ns, "sa": sa if isinstance(sa, str) else None,
        "use": use, "workload_label_only": wl_only, "env_client_id": env_client,
        "span": span_to_list(em.span(label_path if use else (i, "metadata", "name"))),
        "wl_span": span_to_list(em.span((i, "metadata", "labels", WI_USE))) if wl_only else None,
        "images": [c.get("image") for c in (spec.get("containers") or []) if isinstance(c, dict) and isinstance(c.get("image"), str)][:10],
    })


def azd(em: Emitter, d: dict) -> None:
    base = posixpath.dirname(em.relpath)
    services = {}
    for sname, s in d["services"].items():
        if isinstance(s, dict) and isinstance(s.get("project"), str):
            proj = posixpath.normpath(posixpath.join(base, s["project"])) if s["project"] else base
            services[str(sname)] = {"project": "" if proj == "." else proj, "host": str(s.get("host", ""))}
    if services:
        em.add("iac.azd", {"dir": base, "services": services})
