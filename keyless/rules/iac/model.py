"""The project model: one pass over every IaC and Python fact that links deployed apps (their
identities and env) with the Python code in the same repository. Built once per run
(`project.memo`) and shared by every IaC rule."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from keyless.linter.rule import Fact, Project
from keyless.rules.iac import roles as R

MODEL_KEY = "keyless.iac.model"

_GENERIC = {"src", "app", "apps", "source", "code", "python", "py", "lib", "main", "service", "services",
            "backend", "server", "api_app", "function", "functions", "packages", "pkg", "module", "modules"}
_SKIP_CODE = re.compile(r"(^|/)(tests?|testing|scripts?|infra|notebooks?|samples?|examples?|docs?|\.venv|venv|site-packages)/|(^|/)test_[^/]*\.py$|_test\.py$|conftest\.py$")


@dataclass
class Link:
    app: dict
    app_path: str
    reason: str


@dataclass
class Model:
    issues: dict[str, list[Fact]] = field(default_factory=dict)
    apps: list[Fact] = field(default_factory=list)
    roles: list[Fact] = field(default_factory=list)
    sas: list[Fact] = field(default_factory=list)
    pods: list[Fact] = field(default_factory=list)
    azd: list[Fact] = field(default_factory=list)
    creds: list[Fact] = field(default_factory=list)
    sdk: list[Fact] = field(default_factory=list)  # py.sdk-client, and iac.key-user (a CI step using a key)
    links: dict[str, list[Link]] = field(default_factory=dict)  # python path -> linked apps
    deploys: dict[str, list[Fact]] = field(default_factory=dict)  # linked ARM template -> its deployments
    deployed_scopes: dict[str, "DeployedScope | None"] = field(default_factory=dict)  # memo of deployed_scope


def _dedupe(facts: list[Fact]) -> list[Fact]:
    seen = set()
    out = []
    for f in facts:
        k = (f.kind, f.path, repr(sorted(f.data.items(), key=lambda kv: kv[0])))
        if k in seen:
            continue
        seen.add(k)
        out.append(f)
    return out


def build(project: Project) -> Model:
    m = project.memo.get(MODEL_KEY)
    if m is not None:
        return m
    m = Model()
    dropped = superseded_module_facts(project.of_kind("iac.bicep-module"))
    for f in _dedupe(project.of_kind("iac.issue", "iac.app", "iac.role", "iac.k8s-sa", "iac.k8s-pod", "iac.azd",
                                     "iac.deploys", "py.credential", "py.sdk-client", "iac.key-user")):
        if dropped and f.path in dropped and f.kind in ("iac.issue", "iac.app", "iac.role"):
            from keyless.rules.iac.bicepfacts import fact_id

            if fact_id(f) in dropped[f.path]:
                continue
        if f.kind == "iac.issue":
            m.issues.setdefault(f.data["code"], []).append(f)
        elif f.kind == "iac.app":
            m.apps.append(f)
        elif f.kind == "iac.role":
            m.roles.append(f)
        elif f.kind == "iac.k8s-sa":
            m.sas.append(f)
        elif f.kind == "iac.k8s-pod":
            m.pods.append(f)
        elif f.kind == "iac.azd":
            m.azd.append(f)
        elif f.kind == "iac.deploys":
            m.deploys.setdefault(f.data["target"], []).append(f)
        elif f.kind == "py.credential":
            m.creds.append(f)
        else:
            m.sdk.append(f)
    for path in sorted({f.path for f in m.creds}):
        m.links[path] = link_code(path, m)
    project.memo[MODEL_KEY] = m
    return m


def superseded_module_facts(deployments: list[Fact]) -> dict[str, set[str]]:
    """Bicep modules deployed from the repository's top-level files (files no other file deploys):
    module path -> ids of its own facts (linted with its defaults) that none of those deployments
    reproduces. Such a fact describes no deployment of this repository: the values every caller
    passes replace the defaults, and what they decide is reported at the callers."""
    targets = {f.data.get("target") for f in deployments}
    by_target: dict[str, list[set[str]]] = {}
    for f in deployments:
        if f.path in targets:
            continue  # emitted by a module's own walk, not by a top-level deployment
        by_target.setdefault(f.data.get("target"), []).append(set(f.data.get("unreproduced") or ()))
    return {t: set.intersection(*sets) for t, sets in by_target.items() if isinstance(t, str) and sets}


_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")


def _tokens(text: str) -> set[str]:
    return {t for t in _TOKEN_SPLIT.split(text.lower()) if len(t) >= 3}


def _app_tokens(m: Model) -> list[tuple[Fact, set[str]]]:
    """Name and image tokens of every app, computed once per model (not once per code file)."""
    cached = getattr(m, "_app_tokens", None)
    if cached is None:
        cached = []
        for f in m.apps:
            # An unresolved ARM name is expression text ("parameters('appName')"): no evidence.
            atoks = _tokens(f.data.get("name") or "") if f.data.get("name_known", True) else set()
            for img in f.data.get("images") or []:
                repo = img.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
                atoks |= _tokens(repo)
            cached.append((f, atoks - _GENERIC))
        m._app_tokens = cached
    return cached


def _token_index(m: Model) -> dict[str, list[int]]:
    """token -> positions in _app_tokens(m): a code file only looks at apps sharing a token."""
    cached = getattr(m, "_token_index", None)
    if cached is None:
        cached = {}
        for i, (_, atoks) in enumerate(_app_tokens(m)):
            for t in atoks:
                cached.setdefault(t, []).append(i)
        m._token_index = cached
    return cached


def link_code(py_path: str, m: Model) -> list[Link]:
    """Which deployed apps (or Kubernetes workloads) run this Python file, and why we think so."""
    if _SKIP_CODE.search(py_path) or not m.apps:
        return []
    # 1. azd: azure.yaml maps a service to the directory holding this file.
    for a in m.azd:
        for sname, s in a.data["services"].items():
            proj = s["project"]
            if proj == "" or py_path == proj or py_path.startswith(proj.rstrip("/") + "/"):
                hits = [f for f in m.apps if f.data.get("azd_service") == sname
                        or (f.data.get("name") or "").lower() == sname.lower()]
                if hits:
                    return [Link(h.data, h.path, f"azure.yaml maps service '{sname}' to {proj or '.'}/ and "
                                                 f"{h.path} deploys it") for h in hits]
    # 2. directory names of the code that name the app or its image.
    dirs = [d for d in py_path.split("/")[:-1] if d.lower() not in _GENERIC]
    dtoks = set()
    for d in dirs:
        dtoks |= _tokens(d) - _GENERIC
    if dtoks:
        hits = []
        index = _token_index(m)
        candidates = sorted({i for t in dtoks for i in index.get(t, ())})
        pairs = _app_tokens(m)
        for f, atoks in (pairs[i] for i in candidates):
            common = dtoks & atoks
            if common:
                hits.append((f, sorted(common)[0]))
        if hits:
            return [Link(f.data, f.path, f"its directory and the app/image name share '{tok}'") for f, tok in hits]
    # 3. exactly one deployed app in the repository (an ARM template evaluated with several
    # parameter files has one fact per differing scenario of the same app).
    distinct = getattr(m, "_distinct_apps", None)
    if distinct is None:
        distinct = m._distinct_apps = len({(f.path, f.data.get("key")) for f in m.apps})  # once per model
    if distinct == 1:
        return [Link(f.data, f.path, f"{f.path} deploys the only app in this repository") for f in m.apps]
    return []


BROADEST_FIRST = ("tenant", "managementGroup", "subscription", "resourceGroup")


@dataclass
class DeployedScope:
    """Where the repository's templates deploy an ARM template through `templateLink`."""

    scope: str  # the broadest scope kind it is deployed at
    by: dict[str, list[str]]  # scope kind -> the templates that deploy it there
    via: list[tuple[str, str]]  # (parent, grandparent): the parent deploys at its own scope, which the grandparent chose


def deployed_scope(m: Model, path: str, visiting: frozenset[str] = frozenset()) -> DeployedScope | None:
    """Where the ARM template `path` is deployed by the templates that link to it; None when none
    does, or one does at a scope known only at deploy time. A parent that deploys it without scope
    properties passes on its own scope, which the parent's parents decide in turn. A deployment
    that closes a cycle (`visiting`: the templates below on this chain) is ignored: ARM could not
    run it."""
    if not visiting and path in m.deployed_scopes:
        return m.deployed_scopes[path]
    by: dict[str, list[str]] = {}
    via: list[tuple[str, str]] = []
    for f in m.deploys.get(path, ()):
        if f.path == path or f.path in visiting:
            continue
        scope = f.data.get("scope")
        if f.data.get("scope_is_default"):
            up = deployed_scope(m, f.path, visiting | {path})
            if up is not None:
                scope = up.scope
                via += [(f.path, g) for g in up.by[scope] if (f.path, g) not in via]
        if scope not in BROADEST_FIRST:
            by = {}
            break
        if f.path not in by.setdefault(scope, []):
            by[scope].append(f.path)
    found = DeployedScope(min(by, key=BROADEST_FIRST.index), by, via) if by else None
    if not visiting:
        m.deployed_scopes[path] = found
    return found


def ambiguity(app: dict) -> str | None:
    """None, or 'system+user' / 'users' when the app attaches two or more runtime identities."""
    n = app.get("identity_count")
    if not isinstance(n, int) or n < 2:
        return None
    return "system+user" if app.get("system") else "users"


def identity_words(app: dict) -> str:
    n_user = len(app.get("uamis") or [])
    parts = []
    if app.get("system"):
        parts.append("the system-assigned identity")
    if n_user:
        parts.append(f"{n_user} user-assigned identit{'y' if n_user == 1 else 'ies'}")
    return " and ".join(parts)


def sdk_roles(m: Model) -> list[tuple[str, str, str, list[str]]]:
    """(service, role, resource label, clients) for every SDK client the repo's code uses."""
    by_service: dict[str, dict] = {}
    for f in m.sdk:
        svc = f.data.get("service")
        if not isinstance(svc, str):
            continue
        e = by_service.setdefault(svc, {"access": set(), "clients": set()})
        e["access"].add(f.data.get("access", "unknown"))
        if isinstance(f.data.get("client"), str):
            e["clients"].add(f.data["client"])
    out = []
    for svc in sorted(by_service):
        e = by_service[svc]
        access = "read" if e["access"] == {"read"} else "write"
        rl = R.role_for(svc, access)
        if rl:
            out.append((svc, rl[0], rl[1], sorted(e["clients"])))
    return out


def rel(a: str, b: str) -> str:
    return posixpath.relpath(a, posixpath.dirname(b) or ".") if a and b else a
