"""CI workflows, docker-compose and Dockerfiles -> the deployment model.

- GitHub Actions workflows and composite actions, Azure Pipelines: every inline script (`run:`,
  `azure/cli` and `azure/powershell` `inlineScript`, `script:`/`bash:`/`pwsh:`/`powershell:`,
  `AzureCLI@2`/`AzurePowerShell@5`/`Bash@3`/`PowerShell@2` inline scripts) goes to the same
  extractor as `.sh`/`.ps1` files (keyless.rules.iac.azcli), positions mapped through the YAML
  scalar; the shell comes from `shell:`, `defaults.run.shell`, the runner OS or `scriptType`.
- CI identity (KL280): `azure/login` with `creds` (a client-secret JSON) or `client-secret`, and
  `ARM_CLIENT_SECRET`/`AZURE_CLIENT_SECRET` in a workflow's `env`; the fix is the federated
  credential whose subject the workflow determines (branch, environment, pull requests).
- docker-compose `environment:`/`env_file:` and Dockerfile `ENV`/`ARG` that hold Azure keys or
  key-based connection strings (KL252) or `AZURE_CLIENT_SECRET` (KL259).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from keyless.linter.messages import HELP_MAX, fit, short_name
from keyless.linter.documents.shell import Script, mask_placeholders
from keyless.rules.iac.azcli import _AZURE_COMMAND, ScriptExtractor
from keyless.rules.iac.common import Emitter
from keyless.rules.iac.facts import fix_dict

# ---- which YAML is a workflow ------------------------------------------------------------------------


def ci_flavor(relpath: str, d: Any) -> str | None:
    """"github" (workflow or composite action), "azure" (Azure Pipelines) or None."""
    if not isinstance(d, dict):
        return None
    lower = "/" + relpath.lower()
    name = lower.rsplit("/", 1)[-1]
    if "/.github/workflows/" in lower:
        return "github"
    if name in ("action.yml", "action.yaml") and isinstance(d.get("runs"), dict):
        return "github"
    jobs = d.get("jobs")
    if isinstance(jobs, dict) and any(isinstance(j, dict) and ("runs-on" in j or "uses" in j) for j in jobs.values()):
        return "github"
    if any(k in d for k in ("stages", "steps", "trigger", "pool", "extends")) or isinstance(jobs, list):
        return "azure"
    return None


# ---- scripts in workflows ---------------------------------------------------------------------------

_GH_SHELLS = {"bash": "bash", "sh": "bash", "pwsh": "pwsh", "powershell": "pwsh"}


def workflow(em: Emitter, i: int, d: dict, flavor: str) -> None:
    scripts: list[Script] = []
    login_fix: dict[int, str] = {}
    if flavor == "github":
        for job_path, job in _gh_jobs(d):
            fix = _oidc_fix_text(d, job)
            shell = _gh_default_shell(d, job)
            for step_path, step in _steps(job.get("steps"), (i,) + job_path + ("steps",)):
                _gh_login(em, step, step_path, d, job, job_path, i)
                _publish_profile(em, step, step_path)
                _env_secrets(em, step.get("env"), step_path + ("env",))
                for script in _gh_scripts(em, step, step_path, shell):
                    scripts.append(script)
                    login_fix[id(script)] = fix
            _env_secrets(em, job.get("env"), (i,) + job_path + ("env",))
        _env_secrets(em, d.get("env"), (i, "env"))
    else:
        for step_path, step in _ado_steps(d, (i,)):
            scripts.extend(_ado_scripts(em, step, step_path))
            _env_secrets(em, step.get("env"), step_path + ("env",))
    scripts = [s for s in scripts if _AZURE_COMMAND.search(s.text)]
    if scripts:
        ex = ScriptExtractor(em, scripts)
        ex.login_fix = login_fix
        ex.run()


def _gh_jobs(d: dict):
    jobs = d.get("jobs")
    if isinstance(jobs, dict):
        for name, job in jobs.items():
            if isinstance(job, dict):
                yield ("jobs", name), job
    runs = d.get("runs")
    if isinstance(runs, dict) and isinstance(runs.get("steps"), list):  # composite action
        yield ("runs",), runs


def _steps(steps: Any, path: tuple):
    if isinstance(steps, list):
        for k, step in enumerate(steps):
            if isinstance(step, dict):
                yield path + (k,), step


def _gh_default_shell(d: dict, job: dict) -> str | None:
    for holder in (job, d):
        shell = ((holder.get("defaults") or {}).get("run") or {}).get("shell") if isinstance(
            holder.get("defaults"), dict) else None
        if isinstance(shell, str):
            return _GH_SHELLS.get(shell.split()[0].lower())
    runs_on = job.get("runs-on")
    labels = runs_on if isinstance(runs_on, list) else [runs_on]
    if any(isinstance(x, str) and "windows" in x.lower() for x in labels):
        return "pwsh"
    return "bash"


def _gh_scripts(em: Emitter, step: dict, path: tuple, default_shell: str | None) -> list[Script]:
    out = []
    if isinstance(step.get("run"), str):
        shell = step.get("shell")
        lang = _GH_SHELLS.get(shell.split()[0].lower()) if isinstance(shell, str) and shell.split() else (
            None if isinstance(shell, str) else default_shell)
        if lang is not None:
            out.append(_yaml_script(em, path + ("run",), lang, macros=False))
    uses = step.get("uses")
    with_ = step.get("with")
    if isinstance(uses, str) and isinstance(with_, dict) and isinstance(with_.get("inlineScript"), str):
        action = uses.split("@", 1)[0].lower()
        lang = {"azure/cli": "bash", "azure/powershell": "pwsh"}.get(action)
        if lang is not None:
            out.append(_yaml_script(em, path + ("with", "inlineScript"), lang, macros=False))
    return [s for s in out if s is not None]


def _ado_steps(node: Any, path: tuple, depth: int = 0):
    """Every step of a pipeline, wherever it is nested (stages, jobs, deployment strategies)."""
    if depth > 12:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "steps" and isinstance(v, list):
                yield from _steps(v, path + (k,))
            elif isinstance(v, (dict, list)):
                yield from _ado_steps(v, path + (k,), depth + 1)
    elif isinstance(node, list):
        for k, v in enumerate(node):
            yield from _ado_steps(v, path + (k,), depth + 1)


_ADO_TASK_SCRIPTS = {
    # task name -> (input holding the script, language or the input choosing it)
    "azurecli": ("inlineScript", "scriptType"),
    "azurepowershell": ("Inline", "pwsh"),
    "bash": ("script", "bash"),
    "powershell": ("script", "pwsh"),
}


def _ado_scripts(em: Emitter, step: dict, path: tuple) -> list[Script]:
    out = []
    for key, lang in (("script", "bash"), ("bash", "bash"), ("pwsh", "pwsh"), ("powershell", "pwsh")):
        if isinstance(step.get(key), str):
            out.append(_yaml_script(em, path + (key,), lang, macros=True))
    task = step.get("task")
    inputs = step.get("inputs")
    if isinstance(task, str) and isinstance(inputs, dict):
        entry = _ADO_TASK_SCRIPTS.get(task.split("@", 1)[0].lower())
        if entry is not None:
            field_name, lang = entry
            key = next((k for k in inputs if isinstance(k, str) and k.lower() == field_name.lower()), None)
            if lang == "scriptType":
                st = next((v for k, v in inputs.items() if isinstance(k, str) and k.lower() == "scripttype"), None)
                lang = {"bash": "bash", "pscore": "pwsh", "ps": "pwsh"}.get(str(st).lower()) if isinstance(st, str) else None
            if key is not None and lang is not None and isinstance(inputs[key], str):
                out.append(_yaml_script(em, path + ("inputs", key), lang, macros=True))
    return [s for s in out if s is not None]


def _yaml_script(em: Emitter, path: tuple, language: str, macros: bool) -> Script | None:
    doc = em.doc
    value = doc.values[path[0]]
    for part in path[1:]:
        value = value[part]
    found = doc.scalar_origin(path)
    if found is None:
        return None
    origin, wide = found
    return Script(mask_placeholders(value, macros), language, origin, wide=wide)


# ---- CI identity ------------------------------------------------------------------------------------

_LOGIN_INPUTS = ("creds", "client-secret")


_DEPLOY_ACTIONS = ("azure/webapps-deploy", "azure/functions-action")


def _publish_profile(em: Emitter, step: dict, path: tuple) -> None:
    """A deployment with a publishing profile (basic auth): a key user of App Service (KL273)."""
    uses = step.get("uses")
    with_ = step.get("with")
    if not (isinstance(uses, str) and uses.split("@", 1)[0].lower() in _DEPLOY_ACTIONS and isinstance(with_, dict)
            and with_.get("publish-profile") not in (None, "")):
        return
    sp = em.span(path + ("with", "publish-profile"))
    if sp is not None:
        em.add("iac.key-user", {"service": "appservice-deploy", "auth": "key", "line": sp.start.line,
                                "client": uses.split("@", 1)[0], "access": "write"})


# Older actions that take the same client-secret JSON in `creds` (their current versions log in
# through azure/login): the old `azure/actions/login` path and aks-set-context v1.
_CREDS_ACTIONS = ("azure/actions/login", "azure/aks-set-context", "azure/k8s-actions/aks-set-context")


def _gh_login(em: Emitter, step: dict, path: tuple, d: dict, job: dict, job_path: tuple, i: int) -> None:
    uses = step.get("uses")
    with_ = step.get("with")
    action = uses.split("@", 1)[0].lower() if isinstance(uses, str) else ""
    if action in _CREDS_ACTIONS and isinstance(with_, dict) and with_.get("creds") not in (None, ""):
        em.issue("KL280", path + ("with", "creds"), f"{action}|{'/'.join(map(str, job_path))}|creds",
                 f"{action} signs in with a client-secret JSON (`creds`); use azure/login with OIDC",
                 severity="high", fix=fix_dict(
                     ("Log in first with azure/login@v2 and OIDC, then use azure/aks-set-context@v4 without creds"
                      if "aks-set-context" in action else "Use azure/login@v2 with OIDC instead")
                     + " (client-id/tenant-id/subscription-id, id-token: write); drop the secret", "display-only"))
        return
    if not (action == "azure/login" and isinstance(with_, dict)):
        return
    key = next((k for k in _LOGIN_INPUTS if with_.get(k) not in (None, "")), None)
    if key is None:
        return
    what = "a client-secret JSON (`creds`)" if key == "creds" else "a client secret (`client-secret`)"
    msg = f"azure/login signs in with {what}; use OpenID Connect (a federated credential)"
    em.issue("KL280", path + ("with", key), f"azure/login|{'/'.join(map(str, job_path))}|{key}", msg,
             severity="high", fix=_oidc_fix(em, d, job, job_path, path, with_, key, i))


def subjects(d: dict, job: dict) -> list[str]:
    """The federated-credential subjects this job's tokens carry (`repo:<owner>/<repo>:...`),
    as far as the workflow tells: its environment, else its triggers."""
    env = job.get("environment")
    if isinstance(env, dict):
        env = env.get("name")
    if isinstance(env, str) and env and "${{" not in env:
        return [f"environment:{env}"]
    on = d.get("on", d.get(True))
    events: dict = {}
    if isinstance(on, str):
        events = {on: None}
    elif isinstance(on, list):
        events = {e: None for e in on if isinstance(e, str)}
    elif isinstance(on, dict):
        events = on
    out: list[str] = []
    for event, spec in events.items():
        if event in ("pull_request", "pull_request_target"):
            out.append("pull_request")
        elif event == "push":
            branches = spec.get("branches") if isinstance(spec, dict) else None
            tags = spec.get("tags") if isinstance(spec, dict) else None
            for b in branches if isinstance(branches, list) else ([branches] if isinstance(branches, str) else []):
                out.append(f"ref:refs/heads/{b}" if isinstance(b, str) and not re.search(r"[*?\[!]", b)
                           else "ref:refs/heads/<branch>")
            for t in tags if isinstance(tags, list) else ([tags] if isinstance(tags, str) else []):
                out.append(f"ref:refs/tags/{t}" if isinstance(t, str) and not re.search(r"[*?\[!]", t)
                           else "ref:refs/tags/<tag>")
            if not branches and not tags:
                out.append("ref:refs/heads/<branch>")
        elif event in ("workflow_dispatch", "schedule", "workflow_call", "release"):
            out.append("ref:refs/heads/<branch>")
    seen: list[str] = []
    for s in out:
        if s not in seen:
            seen.append(s)
    return seen or ["ref:refs/heads/<branch>"]


def _oidc_fix_text(d: dict, job: dict, edited: bool = False) -> str:
    """One line: the federated credentials this job needs (one per subject its tokens carry; the
    full `az ad app federated-credential create` call is in KL280's documentation), then the login."""
    subs = [f"repo:<owner>/<repo>:{s}" for s in subjects(d, job)]
    then = ("the edit switches azure/login to client-id/tenant-id/subscription-id with id-token: write" if edited
            else "use azure/login with client-id/tenant-id/subscription-id and id-token: write")
    prefix = "repo:<owner>/<repo>:"
    for shown in range(len(subs), 0, -1):
        more = f" and {len(subs) - shown} more" if shown < len(subs) else ""
        listed = prefix + ", :".join(s[len(prefix):] for s in subs[:shown])  # repo:<owner>/<repo>:a, :b
        text = f"Add federated credentials for {listed}{more}; {then}; drop the secret"
        if len(text) <= HELP_MAX:
            return text
    return text


def _oidc_fix(em: Emitter, d: dict, job: dict, job_path: tuple, step_path: tuple, with_: dict, key: str,
              i: int) -> dict:
    edits = _oidc_edits(em, d, job, job_path, step_path, with_, key, i)
    if edits:
        return fix_dict(_oidc_fix_text(d, job, edited=True), "unsafe", edits)
    return fix_dict(_oidc_fix_text(d, job), "display-only")


def _oidc_edits(em: Emitter, d: dict, job: dict, job_path: tuple, step_path: tuple, with_: dict, key: str,
                i: int) -> list | None:
    """Replace the `creds`/`client-secret` entry by the three OIDC inputs and grant the job
    `id-token: write`; None when the layout is not plain block YAML (the advice stays)."""
    doc = em.doc
    lines = doc.lines
    entry = doc._entry(step_path + ("with", key))
    if entry is None:
        return None
    ks, _, vs, ve, _ = entry
    kpos, vend = lines.position(ks), lines.position(ve)
    if kpos.line != vend.line or any(k in with_ for k in ("client-id", "tenant-id", "subscription-id")):
        return None
    line_text = lines.line_text(kpos.line)
    indent = line_text[:kpos.column - 1]
    if indent.strip():
        return None  # flow mapping (`with: {creds: ...}`)
    oidc = (f"client-id: ${{{{ secrets.AZURE_CLIENT_ID }}}}\n{indent}tenant-id: ${{{{ secrets.AZURE_TENANT_ID }}}}\n"
            f"{indent}subscription-id: ${{{{ secrets.AZURE_SUBSCRIPTION_ID }}}}")
    end_col = len(line_text) + 1
    edits = [[kpos.line, kpos.column, kpos.line, end_col, oidc]]
    perm = _permission_edit(em, d, job, job_path, i)
    if perm is False:
        return None
    if perm:
        edits.append(perm)
    return edits if _edited_workflow_reads(doc, edits, step_path, key) else None


def _edited_workflow_reads(doc: Any, edits: list, step_path: tuple, key: str) -> bool:
    """The fix is offered only if the edited file is still YAML whose step logs in with OIDC."""
    from keyless.linter.documents import make_document
    from keyless.linter.finding import Edit, Position, Span
    from keyless.linter.fixes import apply_edits

    try:
        text = apply_edits(doc.text, doc.lines, [Edit(Span(Position(a, b), Position(c, e)), t) for a, b, c, e, t in edits])
    except ValueError:
        return False
    new = make_document(doc.path, doc.relpath, text)
    if not new.ensure_parsed() or len(new.values) != len(doc.values):
        return False
    node: Any = new.values[step_path[0]]
    for part in step_path[1:] + ("with",):
        if not isinstance(node, (dict, list)):
            return False
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(node, dict) and key not in node and {"client-id", "tenant-id", "subscription-id"} <= set(node)


def _permission_edit(em: Emitter, d: dict, job: dict, job_path: tuple, i: int) -> list | bool | None:
    """An edit granting `id-token: write`; None when already granted; False when unclear."""
    doc = em.doc
    lines = doc.lines
    for holder, hpath in ((job, (i,) + job_path), (d, (i,))):
        perms = holder.get("permissions")
        if perms is None:
            continue
        if perms == "write-all":
            return None
        if isinstance(perms, dict):
            if perms.get("id-token") == "write":
                return None
            first = next(iter(perms), None)
            if first is None or "id-token" in perms:
                return False
            entry = doc._entry(hpath + ("permissions", first))
            if entry is None:
                return False
            pos = lines.position(entry[0])
            indent = lines.line_text(pos.line)[:pos.column - 1]
            if indent.strip():
                return False
            return [pos.line, pos.column, pos.line, pos.column, f"id-token: write\n{indent}"]
        return False  # read-all or an expression
    if job_path == ("runs",):
        return False  # a composite action cannot grant permissions; its caller must
    steps = doc._entry((i,) + job_path + ("steps",))
    if steps is None:
        return False
    pos = lines.position(steps[0])
    indent = lines.line_text(pos.line)[:pos.column - 1]
    if indent.strip():
        return False
    return [pos.line, pos.column, pos.line, pos.column,
            f"permissions:\n{indent}  id-token: write\n{indent}  contents: read\n{indent}"]


_CI_SECRET_ENV = {"ARM_CLIENT_SECRET": "Terraform's azurerm provider", "AZURE_CLIENT_SECRET": "the Azure SDKs and azd"}


def _env_secrets(em: Emitter, env: Any, path: tuple) -> None:
    if not isinstance(env, dict):
        return
    for name, value in env.items():
        if not isinstance(name, str) or name.upper() not in _CI_SECRET_ENV or value in (None, ""):
            continue
        em.issue("KL280", path + (name,), f"ci-env|{'/'.join(map(str, path[1:]))}|{name}",
                 f"{name} signs {_CI_SECRET_ENV[name.upper()]} in with a client secret; use OpenID Connect",
                 severity="high", locate_key=True,
                 fix=fix_dict("Add a federated credential for the pipeline (az ad app federated-credential create), "
                              "set ARM_USE_OIDC=true (Terraform) or use azure/login with client-id/tenant-id/"
                              "subscription-id and id-token: write, then delete the client secret", "display-only"))


# ---- docker-compose and Dockerfiles ------------------------------------------------------------------------

_CONN_NAME = re.compile(r"CONN(ECTION)?_?STR(ING)?", re.I)
_KEY_NAME = re.compile(r"(?:^|_)(API_?KEY|ACCOUNT_?KEY|ACCESS_?KEY|PRIMARY_?KEY|SECONDARY_?KEY|ADMIN_?KEY|MASTER_?KEY|"
                       r"SHARED_?ACCESS_?KEY|KEY)$", re.I)
_AZURE_HINT = re.compile(r"AZURE|STORAGE|BLOB|QUEUE|COSMOS|SERVICE_?BUS|EVENT_?HUBS?|SIGNALR|WEB_?PUB_?SUB|APP_?CONFIG|"
                         r"IOT_?HUB|WEBJOBS|COGNITIVE|DOCUMENT_?INTELLIGENCE|FORM_?RECOGNIZER|CONTENT_?SAFETY|"
                         r"AI_?SERVICES|AI_?SEARCH", re.I)
_NOT_KEY_AUTH = re.compile(r"APP(LICATION)?_?INSIGHTS|INSTRUMENTATION|PUBLIC_?KEY|KEY_?VAULT|_(URI|URL|ENDPOINT|NAME|ID)$",
                           re.I)
_KEY_VALUE = re.compile(r"(AccountKey|SharedAccessKey|AccessKey)\s*=", re.I)
_LOCAL = re.compile(r"UseDevelopmentStorage=true|devstoreaccount1|azurite|localhost|127\.0\.0\.1|host\.docker\.internal", re.I)


def key_setting(name: str, value: Any) -> str | None:
    """'client-secret', 'connection string' or 'key' when a container setting authenticates to
    Azure with a secret; None for local emulators, empty values and anything else."""
    if not isinstance(name, str):
        return None
    if isinstance(value, str) and (_LOCAL.search(value) or value.strip() in ("", '""', "''")):
        return None
    if name.upper() == "AZURE_CLIENT_SECRET":
        return "client-secret"
    if isinstance(value, str) and _KEY_VALUE.search(value):
        return "connection string"
    if _NOT_KEY_AUTH.search(name) or not _AZURE_HINT.search(name) and name.lower() != "azurewebjobsstorage":
        return None
    if _CONN_NAME.search(name) or name.lower() == "azurewebjobsstorage":
        return "connection string"
    if _KEY_NAME.search(name):
        return "key"
    return None


_LOCAL_DEV = ("locally, DefaultAzureCredential uses your `az login` (in a container: mount ~/.azure); in Azure, "
              "the app's managed identity with a data-plane role")


def _report_setting(em: Emitter, kind: str, name: str, where: str, key: str, path: Any, on_key: bool = False,
                    note: str = "") -> None:
    """KL259 / KL252 for one container setting; `note` (why it matters there) goes to the help."""
    if kind == "client-secret":
        em.issue("KL259", path, key, f"AZURE_CLIENT_SECRET is set for {where}; sign in with an identity instead",
                 severity="high", fix=fix_dict(fit("Remove AZURE_CLIENT_SECRET: " + _LOCAL_DEV, [note] if note else []),
                                               "display-only"), locate_key=on_key)
        return
    what = "a key-based connection string" if kind == "connection string" else "an access key"
    em.issue("KL252", path, key, f"'{short_name(name)}' gives {where} {what}; use an identity",
             severity="high",
             fix=fix_dict(fit(f"Set only the service endpoint and use DefaultAzureCredential: {_LOCAL_DEV}",
                              [note] if note else []), "display-only"),
             locate_key=on_key)


def compose(em: Emitter, i: int, d: dict) -> None:
    services = d.get("services")
    if not isinstance(services, dict):
        return
    for sname, svc in services.items():
        if not isinstance(svc, dict):
            continue
        where = f"compose service '{sname}'"
        env = svc.get("environment")
        base = (i, "services", sname, "environment")
        if isinstance(env, dict):
            for name, value in env.items():
                kind = key_setting(name, value if value is not None else "${" + str(name) + "}")
                if kind:
                    _report_setting(em, kind, name, where, f"compose|{sname}|{name}", base + (name,), on_key=True)
        elif isinstance(env, list):
            for k, item in enumerate(env):
                if not isinstance(item, str):
                    continue
                name, eq, value = item.partition("=")
                kind = key_setting(name.strip(), value if eq else "${" + name.strip() + "}")
                if kind:
                    _report_setting(em, kind, name.strip(), where, f"compose|{sname}|{name.strip()}", base + (k,))
        env_files = svc.get("env_file")
        files = env_files if isinstance(env_files, list) else [env_files]
        for k, f in enumerate(files):
            path = f.get("path") if isinstance(f, dict) else f
            if not isinstance(path, str) or "${" in path:
                continue
            fpath = base[:-1] + ("env_file",) + ((k,) if isinstance(env_files, list) else ())
            _env_file(em, path, where, sname, fpath)


def _env_file(em: Emitter, path: str, where: str, sname: str, fpath: tuple) -> None:
    ws = getattr(em.doc, "workspace", None)
    if ws is None:
        return
    reldir = posixpath.dirname(em.relpath)
    target = posixpath.normpath(posixpath.join(reldir, path))
    if target.startswith("../") or target == "..":
        return
    try:
        env_doc = ws.load(target)
    except Exception:
        env_doc = None
    if env_doc is None or getattr(env_doc, "kind", "") != "env" or not env_doc.values:
        return
    values = env_doc.values[0] if isinstance(env_doc.values[0], dict) else {}
    found: dict[str, list[str]] = {}
    for name, value in values.items():
        kind = key_setting(name, value)
        if kind:
            found.setdefault("client-secret" if kind == "client-secret" else "key", []).append(name)
    for kind, names in found.items():
        listed = ", ".join(sorted(names)[:4]) + (" ..." if len(names) > 4 else "")
        if kind == "client-secret":
            _report_setting(em, kind, names[0], f"{where} (through env_file {path})", f"compose|{sname}|env_file|{path}|secret", fpath)
        else:
            em.issue("KL252", fpath, f"compose|{sname}|env_file|{path}|keys",
                     f"env_file {short_name(path)} gives {where} shared keys ({short_name(listed)}); use an identity",
                     severity="high",
                     fix=fix_dict("Replace them with service endpoints and DefaultAzureCredential: " + _LOCAL_DEV,
                                  "display-only"))


def dockerfile_settings(em: Emitter, doc: Any) -> None:
    for s in doc.settings():
        kind = key_setting(s.name, s.value if s.value is not None else "${" + s.name + "}")
        if not kind:
            continue
        span = doc.lines.span(s.name_start, s.name_end)
        where = f"the image ({s.keyword})"
        _report_setting(em, kind, s.name, where, f"dockerfile|{s.keyword}|{s.name}", span,
                        note=f"{s.keyword} values stay in the image's layers and history")
