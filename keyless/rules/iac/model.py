"""The project model: one pass over every IaC and Python fact that links deployed apps (their
identities and env) with the Python code in the same repository. Built once per run
(`project.memo`) and shared by every IaC rule."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable

from keyless.linter.projects import within
from keyless.linter.rule import Fact, Project
from keyless.rules.iac import roles as R

MODEL_KEY = "keyless.iac.model"

# Words that name no particular app: every other repository has an `api`, a `web` and a `worker`,
# so a directory and an app (or image) sharing one of them is no evidence that one runs the other.
_GENERIC = frozenset("""
    src source code lib libs pkg packages module modules python py node java dotnet golang
    api apis app apps application web webapp webapi site www service services svc srv
    worker workers func funcs function functions functionapp backend frontend server client clients
    main core common shared base util utils tools
    container containers containerapp containerapps docker image images latest
    infra deploy deployment azure azd aca aks k8s kubernetes helm chart
    prod production dev development staging stage test demo sample samples example examples default
    host hosting job jobs task tasks handler handlers http https rest grpc gateway proxy admin portal
    data database
""".split())
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
    links: Mapping[str, list[Link]] = field(default_factory=dict)  # python path -> linked apps
    # the project (keyless.linter.projects) a file belongs to: nothing is linked across projects
    project_of: Callable[[str], str] = field(default=lambda path: "")
    deploys: dict[str, list[Fact]] = field(default_factory=dict)  # linked ARM template -> its deployments
    deployed_scopes: dict[str, "DeployedScope | None"] = field(default_factory=dict)  # memo of deployed_scope
    modules: list[Fact] = field(default_factory=list)  # iac.bicep-module: a Bicep or Terraform module deployed
    compiled: list[Fact] = field(default_factory=list)  # iac.compiled: a Bicep-compiled template and its source
    deployments: dict[str, str] | None = None  # memo of deployment_of: template (or Terraform directory) -> its group


class _Links(Mapping):
    """python path -> linked apps, each computed when first asked for (a run that reports on a
    few files links only the code it needs)."""

    def __init__(self, m: "Model", paths: list[str]):
        self._m, self._paths, self._done = m, paths, {}
        self._known = set(paths)

    def __getitem__(self, path: str) -> list[Link]:
        if path not in self._known:
            raise KeyError(path)
        hit = self._done.get(path)
        if hit is None:
            hit = self._done[path] = link_code(path, self._m)
        return hit

    def __iter__(self):
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def build(project: Project) -> Model:
    m = project.memo.get(MODEL_KEY)
    if m is not None:
        return m
    m = Model(project_of=project.project_of)
    m.modules = project.of_kind("iac.bicep-module")
    m.compiled = project.of_kind("iac.compiled")
    dropped = superseded_module_facts(m.modules)
    # Issues and role assignments only give findings on their own file: a run that reports on a
    # few files (Project.report_paths) leaves the others out. (Facts come deduplicated per file:
    # keyless.rules.iac.extract.)
    local = ("iac.issue", "iac.role")
    for f in project.of_kind("iac.issue", "iac.app", "iac.role", "iac.k8s-sa", "iac.k8s-pod", "iac.azd",
                             "iac.deploys", "py.credential", "py.sdk-client", "iac.key-user"):
        if f.kind in local and not project.reported(f.path):
            continue
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
    m.links = _Links(m, sorted({f.path for f in m.creds}))
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


def _app_tokens(m: Model) -> dict[str, list[tuple[Fact, set[str]]]]:
    """Name and image tokens of every app, by project, computed once per model (not once per code
    file)."""
    cached = getattr(m, "_app_tokens", None)
    if cached is None:
        cached = {}
        for f in m.apps:
            # An unresolved ARM name is expression text ("parameters('appName')"): no evidence.
            atoks = _tokens(f.data.get("name") or "") if f.data.get("name_known", True) else set()
            for img in f.data.get("images") or []:
                repo = img.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
                atoks |= _tokens(repo)
            cached.setdefault(m.project_of(f.path), []).append((f, atoks - _GENERIC))
        m._app_tokens = cached
    return cached


def _token_index(m: Model, project: str) -> dict[str, list[int]]:
    """token -> positions in the project's _app_tokens: a code file only looks at apps sharing a
    token."""
    cached = getattr(m, "_token_index", None)
    if cached is None:
        cached = m._token_index = {}
    index = cached.get(project)
    if index is None:
        index = cached[project] = {}
        for i, (_, atoks) in enumerate(_app_tokens(m).get(project, ())):
            for t in atoks:
                index.setdefault(t, []).append(i)
    return index


def _service_apps(m: Model, service: str) -> list[Fact]:
    """The apps an azd service names (its `azd-service-name` tag, else the app's name), in model
    order; the index is built once per model."""
    index = getattr(m, "_service_index", None)
    if index is None:
        index = {}
        for i, f in enumerate(m.apps):
            tag, name = f.data.get("azd_service"), f.data.get("name") or ""
            if isinstance(tag, str):
                index.setdefault(("tag", tag), []).append(i)
            if isinstance(name, str):
                index.setdefault(("name", name.lower()), []).append(i)
        m._service_index = index
    found = sorted({*index.get(("tag", service), ()), *index.get(("name", service.lower()), ())})
    return [m.apps[i] for i in found]


def link_code(py_path: str, m: Model) -> list[Link]:
    """Which deployed apps (or Kubernetes workloads) run this Python file, and why we think so.
    Only apps of the file's own project count (a nested repository, config root or azd project is
    a project of its own), and only specific names: a generic word (`api`, `web`, `worker`) is
    no evidence."""
    if _SKIP_CODE.search(py_path) or not m.apps:
        return []
    project = m.project_of(py_path)
    apps = [f for f, _ in _app_tokens(m).get(project, ())]
    if not apps:
        return []
    # 1. azd: azure.yaml maps a service to the directory holding this file.
    for a in m.azd:
        if m.project_of(a.path) != project:
            continue
        for sname, s in a.data["services"].items():
            proj = s["project"]
            if proj == "" or py_path == proj or py_path.startswith(proj.rstrip("/") + "/"):
                hits = [h for h in _service_apps(m, sname) if m.project_of(h.path) == project]
                if hits:
                    return [Link(h.data, h.path, f"azure.yaml maps service '{sname}' to {proj or '.'}/ and "
                                                 f"{h.path} deploys it") for h in hits]
    # 2. directory names of the code (below its project's directory) that name the app or its image.
    dtoks = set()
    for d in within(py_path, project).split("/")[:-1]:
        if d.lower() not in _GENERIC:
            dtoks |= _tokens(d) - _GENERIC
    if dtoks:
        hits = []
        index = _token_index(m, project)
        candidates = sorted({i for t in dtoks for i in index.get(t, ())})
        pairs = _app_tokens(m)[project]
        for f, atoks in (pairs[i] for i in candidates):
            common = dtoks & atoks
            if common:
                hits.append((f, sorted(common)[0]))
        if hits:
            return [Link(f.data, f.path, f"its directory and the app/image name share '{tok}'") for f, tok in hits]
    # 3. exactly one deployed app in the project (an ARM template evaluated with several parameter
    # files has one fact per differing scenario of the same app).
    distinct = getattr(m, "_distinct_apps", None)
    if distinct is None:
        distinct = m._distinct_apps = {}  # once per model and project
    if project not in distinct:
        distinct[project] = len({(f.path, f.data.get("key")) for f in apps})
    if distinct[project] == 1:
        where = f"project {project}/" if project else "this repository"
        return [Link(f.data, f.path, f"{f.path} deploys the only app in {where}") for f in apps]
    return []


def _deployment_node(path: str) -> str:
    """A Terraform module is its directory; any other template is its file."""
    return posixpath.dirname(path) + "/" if path.endswith((".tf", ".tf.json")) else path


def deployment_of(m: Model, path: str) -> str:
    """The deployment a template belongs to: the template, the modules and linked templates it
    deploys (and theirs), the templates that deploy it, and a Bicep-compiled template's source,
    as one group named by one of its members. What a template reads (a resource's key) concerns
    only its own group. The groups are computed once per model from the module, `templateLink`
    and compiled-template facts."""
    if m.deployments is None:
        parent: dict[str, str] = {}

        def root(node: str) -> str:
            while parent.get(node, node) != node:
                parent[node] = parent.get(parent[node], parent[node])  # path halving
                node = parent[node]
            return node

        edges = [(f.path, f.data.get("target")) for f in m.modules]
        edges += [(f.path, target) for target, facts in m.deploys.items() for f in facts]
        edges += [(f.path, f.data.get("source")) for f in m.compiled]
        for a, b in edges:
            if isinstance(b, str):
                ra, rb = root(_deployment_node(a)), root(_deployment_node(b))
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        m.deployments = {node: root(node) for node in parent}
    node = _deployment_node(path)
    return m.deployments.get(node, node)


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
    if app.get("system") and app.get("system_granted"):
        # The identity the code gets without a client id is the one the deployment grants access
        # (the user-assigned ones typically pull images): nothing is silently wrong.
        return None
    return "system+user" if app.get("system") else "users"


def identity_words(app: dict) -> str:
    """`system + 1 user-assigned identity`, `2 user-assigned identities`."""
    n_user = len(app.get("uamis") or [])
    parts = []
    if app.get("system"):
        parts.append("system")
    if n_user:
        parts.append(f"{n_user} user-assigned identit{'y' if n_user == 1 else 'ies'}")
    return " + ".join(parts)


def sdk_roles(m: Model, project: str) -> list[tuple[str, str, str, list[str]]]:
    """(service, role, resource label, clients) for every SDK client the code of `project` uses."""
    by_service: dict[str, dict] = {}
    for f in m.sdk:
        if m.project_of(f.path) != project:
            continue
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
