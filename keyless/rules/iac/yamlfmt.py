"""YAML: `az containerapp --yaml` files, ACI YAML, Kubernetes manifests and azd's azure.yaml."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from keyless.linter.documents.templated import ChartValue
from keyless.linter.messages import fit, short_name
from keyless.rules.iac.arm import analyze_aca, analyze_aci, client_secret_message, yaml_env_entry
from keyless.rules.iac.common import Emitter, Uami, Workload, emit_workload, is_unknown, parse_identity_type
from keyless.rules.iac.facts import fix_dict, span_to_list

K8S_POD_PATHS = {
    "pod": ("spec",),
    "deployment": ("spec", "template", "spec"),
    "statefulset": ("spec", "template", "spec"),
    "daemonset": ("spec", "template", "spec"),
    "replicaset": ("spec", "template", "spec"),
    "job": ("spec", "template", "spec"),
    "cronjob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "replicationcontroller": ("spec", "template", "spec"),
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
    name = d.get("name") if isinstance(d.get("name"), str) and not is_unknown(d.get("name")) else None
    tags = d.get("tags") if isinstance(d.get("tags"), dict) else {}
    service = tags.get("azd-service-name")
    service = service if isinstance(service, str) and not is_unknown(service) else None
    if name is None:
        name = service  # azd's `<service>.tmpl.yaml` names the app by its service tag
    if name is None:
        # `az containerapp create --name api --yaml app.yaml`: the name is often noted in a comment
        m = re.search(r"^\s*#.*?--name\s+([A-Za-z0-9][A-Za-z0-9-]*)", em.doc.text, re.M)
        name = m.group(1) if m else em.relpath.rsplit("/", 1)[-1]
    t = d.get("type") if isinstance(d.get("type"), str) else ("Microsoft.App/containerApps" if kind == "containerapp" else "Microsoft.ContainerInstance/containerGroups")
    anchor = (i, "name") if "name" in d else (i, "properties")
    w = Workload(fmt, kind, name, f"{t}/{name}", (i,), anchor)
    w.azd_service = service
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


def k8s(em: Emitter, i: int | tuple, d: Any, depth: int = 0) -> None:
    """One Kubernetes object at document `i` (or at the path `i` inside a `List`). Each pod-bearing
    workload is judged on its own pod template: its labels, its ServiceAccount, its containers."""
    if not isinstance(d, dict):
        return
    base = i if isinstance(i, tuple) else (i,)
    if str(d.get("kind", "")) == "List" and isinstance(d.get("items"), list) and depth == 0:
        # `kubectl get -o yaml` and some generators wrap several objects in one v1 List
        for j, item in enumerate(d["items"]):
            k8s(em, base + ("items", j), item, depth + 1)
        return
    kind = str(d.get("kind", ""))
    api = str(d.get("apiVersion", ""))
    meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else "?"
    ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    lk = kind.lower()
    if api.startswith("aadpodidentity.k8s.io"):
        em.issue("KL504", base + ("kind",), f"k8s|{kind}|{ns}|{name}",
                 f"{kind} '{short_name(name)}' belongs to the deprecated aad-pod-identity; use workload identity",
                 fix=fix_dict("Migrate to Microsoft Entra Workload ID: a federated credential on the user-assigned "
                              "identity, a ServiceAccount annotated with azure.workload.identity/client-id, pods "
                              "labelled azure.workload.identity/use: \"true\"", "display-only"))
        return
    if lk == "serviceaccount":
        ann_path = base + ("metadata", "annotations")
        ann = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
        client_id: bool | None = WI_CLIENT in ann
        if not client_id and (_helm_unknown(em, ann_path) or is_unknown(meta.get("annotations"))
                              or any(is_unknown(k) for k in ann)):
            client_id = None  # annotations templated from somewhere we cannot see
        sa_labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
        em.add("iac.k8s-sa", {
            "name": name, "namespace": ns, "client_id": client_id,
            # the label webhook versions before 1.0 read on the ServiceAccount
            "use_label": str(sa_labels.get(WI_USE, "")).lower() == "true" or is_unknown(meta.get("labels")),
            "span": span_to_list(em.span(base + ("metadata", "name"))),
            "ann_span": span_to_list(em.span(ann_path, key=True)) if ann else None,
            **_helm_facts(em, {"name": base + ("metadata", "name"), "annotations": ann_path}),
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
    labels_path = base + tmeta_path + ("labels",)
    label_path = labels_path + (WI_USE,)
    # In a Helm template a label inside an if/else branch, or labels from helpers and values we
    # cannot see, may or may not be rendered: such a pod is neither flagged nor cleared.
    use = str(labels.get(WI_USE, "")).lower() == "true" and not _helm_conditional(em, label_path)
    may_use = use or is_unknown(labels.get(WI_USE)) or _helm_unknown(em, labels_path) \
        or any(is_unknown(k) for k in labels) or (WI_USE in labels and _helm_conditional(em, label_path))
    wl_only = not may_use and str(wl_labels.get(WI_USE, "")).lower() == "true" and lk != "pod" \
        and not _helm_conditional(em, base + ("metadata", "labels", WI_USE))
    binding_path = labels_path + ("aadpodidbinding",)
    if "aadpodidbinding" in labels and not _helm_conditional(em, binding_path):
        em.issue("KL504", binding_path, f"k8s|{kind}|{ns}|{name}|aadpodidbinding",
                 f"{kind} '{short_name(name)}' uses the deprecated aad-pod-identity label; use workload identity",
                 fix=fix_dict(fit("Replace the aadpodidbinding label with azure.workload.identity/use: \"true\", "
                                  "run as a ServiceAccount annotated with azure.workload.identity/client-id and "
                                  "add a federated credential for it", [_from_values(em, binding_path)]),
                              "display-only"), locate_key=True)
    env_client = False
    for ckey in ("containers", "initContainers"):
        containers = spec.get(ckey)
        if _helm_unknown(em, base + pod_path + (ckey,)) or is_unknown(containers):
            env_client = True  # containers from a helper or values we cannot see may set AZURE_CLIENT_ID
        for ci, c in enumerate(containers if isinstance(containers, list) else []):
            if not isinstance(c, dict):
                continue
            env_path = base + pod_path + (ckey, ci, "env")
            if _helm_unknown(em, env_path) or is_unknown(c.get("env")):
                env_client = True
            for ei, e in enumerate(c.get("env") if isinstance(c.get("env"), list) else []):
                if not isinstance(e, dict):
                    continue
                if e.get("name") == "AZURE_CLIENT_ID" or is_unknown(e.get("name")):
                    env_client = True
                name_path = env_path + (ei, "name")
                if e.get("name") == "AZURE_CLIENT_SECRET" and not _helm_conditional(em, name_path):
                    em.issue("KL259", name_path, f"k8s|{kind}|{ns}|{name}|AZURE_CLIENT_SECRET",
                             client_secret_message(f"{kind} '{short_name(name)}'"), severity="high",
                             fix=fix_dict(fit("Remove AZURE_CLIENT_SECRET and use Microsoft Entra Workload ID "
                                              "(azure.workload.identity/use label + annotated ServiceAccount)",
                                              [_from_values(em, name_path)]), "display-only"))
    sa_key = "serviceAccountName" if spec.get("serviceAccountName") else "serviceAccount"
    sa = spec.get(sa_key)
    spec_path = base + pod_path
    # Which ServiceAccount runs the pod is unknown when a branch decides it or the pod spec has
    # content we cannot see (no serviceAccountName here does not mean `default` then).
    sa_unknown = _helm_conditional(em, spec_path + (sa_key,)) if sa else _helm_unknown(em, spec_path)
    em.add("iac.k8s-pod", {
        "kind": kind, "name": name, "namespace": ns, "sa": sa if isinstance(sa, str) else None,
        "use": use, "workload_label_only": wl_only, "env_client_id": env_client,
        "use_absent": not may_use and not wl_only,  # the pod template certainly has no use label
        "span": span_to_list(em.span(label_path if use else base + ("metadata", "name"))),
        "wl_span": span_to_list(em.span(base + ("metadata", "labels", WI_USE))) if wl_only else None,
        "images": [c.get("image") for c in (spec.get("containers") or []) if isinstance(c, dict) and isinstance(c.get("image"), str)][:10],
        **({"sa_unknown": True} if sa_unknown else {}),
        **_helm_facts(em, {}),
    })


# ---- Helm chart templates (keyless.linter.documents.helm) ------------------------------------------

def _helm_unknown(em: Emitter, path: tuple) -> bool:
    """The node at `path` may hold keys a Helm template fills from helpers or values we cannot see."""
    helm = getattr(em.doc, "helm", None)
    return helm is not None and helm.unknown(path)


def _helm_conditional(em: Emitter, path: tuple) -> bool:
    """The node at `path` is inside an if/else (or similar) branch of a Helm template."""
    helm = getattr(em.doc, "helm", None)
    return helm is not None and helm.conditional(path)


def _from_values(em: Emitter, path: tuple) -> str:
    helm = getattr(em.doc, "helm", None)
    origin = helm.origin(path) if helm is not None else None
    return f"from {origin}" if origin else ""


def _helm_facts(em: Emitter, paths: dict[str, tuple]) -> dict:
    """For facts from a Helm template: its chart (templated names only match within one chart)
    and where values came from in values.yaml, for messages."""
    helm = getattr(em.doc, "helm", None)
    if helm is None:
        return {}
    origins = {}
    for what, path in paths.items():
        value = _get(em.doc.values[path[0]], *path[1:])
        origin = value.origin if isinstance(value, ChartValue) else helm.origin(path)
        if origin:
            origins[what] = origin
    return {"chart": helm.chart, **({"from_values": origins} if origins else {})}


def azd(em: Emitter, d: dict) -> None:
    base = posixpath.dirname(em.relpath)
    services = {}
    for sname, s in d["services"].items():
        if isinstance(s, dict) and isinstance(s.get("project"), str):
            proj = posixpath.normpath(posixpath.join(base, s["project"])) if s["project"] else base
            services[str(sname)] = {"project": "" if proj == "." else proj, "host": str(s.get("host", ""))}
    if services:
        em.add("iac.azd", {"dir": base, "services": services})
