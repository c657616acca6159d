"""Azure CLI and Az PowerShell commands -> the deployment model.

The front end for scripts wherever they are written (`.sh`, `.ps1`, Dockerfile `RUN`, Makefile
recipes, CI steps): it reads the commands of keyless.linter.documents.shell and emits the facts
the ARM and Terraform front ends emit, so the same rules judge them:

- `az role assignment create`, `az ad sp create-for-rbac --role`, `New-AzRoleAssignment` ->
  `iac.role` (KL401);
- `az containerapp|container|webapp|functionapp create` -> `iac.app` (KL301, KL501, KL505), with
  a missing identity reported at lower confidence (a later command the script does not show may
  add one);
- registry passwords (KL250), ACR admin user (KL251), listed keys stored in app settings (KL252);
- what only scripts do: service-principal logins with a client secret (KL280), commands that mint
  client secrets (KL281), listed keys written to files, CI variables or stores (KL282).

Only literal values decide: a role or scope that is a variable is read from the script's own
assignments when they all agree (`SCOPE="/subscriptions/$SUB"`, `RG_ID=$(az group show ...
--query id)`), a scope built from expansions is classified by its literal skeleton
(`/subscriptions/{?}/resourceGroups/{?}` is a resource group), and anything else stays unknown.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from keyless.linter.messages import fit, short_name
from keyless.linter.documents.shell import UNKNOWN_PART, Command, Script, Word
from keyless.linter.finding import Span
from keyless.rules.iac import roles as R
from keyless.rules.iac.common import (
    Emitter,
    IdentityType,
    Uami,
    Workload,
    azure_registry,
    emit_workload,
    non_azure_registry_fix,
)
from keyless.rules.iac.expr import classify_scope
from keyless.rules.iac.facts import bare, fix_dict, span_to_list

BROAD_SCOPES = ("managementGroup", "subscription", "resourceGroup", "tenant")


# ---- calls: a command with its options -------------------------------------------------------------

@dataclass(eq=False)
class Call:
    tool: str  # "az" or "pwsh" (an Az PowerShell cmdlet)
    verb: str  # "role assignment create"; cmdlets lower-cased: "new-azroleassignment"
    command: Command
    script: Script
    verb_word: Word
    options: dict[str, list[list[Word]]] = field(default_factory=dict)  # option -> values per occurrence
    flags: dict[str, Word] = field(default_factory=dict)  # option -> the option's own word (first)
    uncertain: bool = False  # some word may add options that cannot be seen
    index: int = 0  # order in the file

    def has(self, *names: str) -> bool:
        return any(n in self.options for n in names)

    def value(self, *names: str) -> Word | None:
        """The first value of the first option present (None: absent or given without a value)."""
        for n in names:
            for occurrence in self.options.get(n, ()):
                if occurrence:
                    return occurrence[0]
        return None

    def values(self, *names: str) -> list[Word]:
        return [w for n in names for occ in self.options.get(n, ()) for w in occ]

    def flag_word(self, *names: str) -> Word | None:
        for n in names:
            if n in self.flags:
                return self.flags[n]
        return None


# Per-command short options (`-n` is --name for most commands, but `-p` is --plan for webapp create).
_ALIASES: dict[str, dict[str, str]] = {
    "": {"-n": "--name", "-g": "--resource-group", "-l": "--location", "-o": "--output"},
    "login": {"-u": "--username", "-p": "--password", "-t": "--tenant"},
    "container create": {"-e": "--environment-variables", "-f": "--file"},
    "webapp create": {"-p": "--plan", "-i": "--deployment-container-image-name", "-s": "--docker-registry-server-user",
                      "-w": "--docker-registry-server-password"},
    "webapp config container set": {"-p": "--docker-registry-server-password", "-u": "--docker-registry-server-user",
                                    "-r": "--docker-registry-server-url"},
    "functionapp config container set": {"-p": "--registry-password", "-u": "--registry-username"},
    "acr update": {}, "acr create": {},
}
_RENAMED = {  # newer CLI names of the same options
    "--container-registry-password": "--docker-registry-server-password",
    "--container-registry-user": "--docker-registry-server-user",
    "--container-image-name": "--deployment-container-image-name",
    "--scope": "--scope",
}
_NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?$")


def az_call(script: Script, cmd: Command, index: int) -> Call | None:
    words = cmd.words
    if cmd.name not in ("az", "az.cmd", "az.exe") or len(words) < 2:
        return None
    positionals: list[Word] = []
    i = 1
    while i < len(words) and words[i].known and not words[i].value.startswith("-"):  # type: ignore[union-attr]
        positionals.append(words[i])
        i += 1
    if not positionals or (i < len(words) and not words[i].known):
        return None  # `az $GROUP create`: which command runs is unknown
    verb = " ".join(w.value.lower() for w in positionals)  # type: ignore[union-attr]
    call = Call("az", verb, cmd, script, positionals[-1], index=index)
    aliases = dict(_ALIASES[""])
    for prefix, table in _ALIASES.items():
        if prefix and verb.startswith(prefix):
            aliases.update(table)
    current: list[Word] | None = None
    for w in words[i:]:
        v = w.value
        if v is not None and v.startswith("-") and len(v) > 1 and not _NEGATIVE_NUMBER.match(v):
            name, eq, rest = v.partition("=") if v.startswith("--") else (v, "", "")
            name = aliases.get(name, name).lower()
            name = _RENAMED.get(name, name)
            current = []
            call.options.setdefault(name, []).append(current)
            call.flags.setdefault(name, w)
            if eq:  # `--scope=/subscriptions/x`: the value's position is the whole word's
                current.append(Word(rest, rest, w.start, w.end, w.variables, w.commands))
                current = None
            continue
        if v is None and w.skeleton.startswith("--") and "=" in w.skeleton \
                and UNKNOWN_PART not in w.skeleton.split("=", 1)[0]:
            name = w.skeleton.split("=", 1)[0].lower()  # `--password="$SECRET"`
            name = _RENAMED.get(aliases.get(name, name), aliases.get(name, name))
            call.options.setdefault(name, []).append([Word(None, w.skeleton.split("=", 1)[1], w.start, w.end,
                                                           w.variables, w.commands)])
            call.flags.setdefault(name, w)
            current = None
            continue
        if v is None and w.skeleton.startswith("-"):
            call.uncertain = True  # an option whose name is computed
            current = None
            continue
        if current is None:
            if not w.known:
                call.uncertain = True
            continue
        if w.splits and current:
            call.uncertain = True  # `--a x $REST`: $REST may hold more options
        current.append(w)
    return call


# Az PowerShell cmdlets read here: parameter -> takes a value (False: a switch).
_CMDLETS: dict[str, dict[str, bool]] = {
    "new-azroleassignment": {"objectid": True, "signinname": True, "applicationid": True, "serviceprincipalname": True,
                             "roledefinitionname": True, "roledefinitionid": True, "scope": True,
                             "resourcegroupname": True, "resourcename": True, "resourcetype": True,
                             "parentresource": True, "objecttype": True, "description": True, "condition": True,
                             "conditionversion": True, "subscriptionid": True, "allowdelegation": False,
                             "skipclientsideroledefinitionexistencecheck": False, "whatif": False, "confirm": False},
    "connect-azaccount": {"serviceprincipal": False, "credential": True, "tenant": True, "tenantid": True,
                          "subscription": True, "applicationid": True, "certificatethumbprint": True,
                          "certificatepath": True, "certificatepassword": True, "federatedtoken": True,
                          "identity": False, "accountid": True, "environment": True, "usedeviceauthentication": False,
                          "force": False, "scope": True, "sendcertificatechain": False, "skipcontextpopulation": False},
    "new-azadspcredential": {"objectid": True, "serviceprincipalname": True, "displayname": True,
                             "certvalue": True, "passwordcredentials": True, "keycredentials": True,
                             "startdate": True, "enddate": True, "serviceprincipalobject": True},
    "new-azadappcredential": {"objectid": True, "applicationid": True, "displayname": True, "certvalue": True,
                              "passwordcredentials": True, "keycredentials": True, "startdate": True,
                              "enddate": True, "applicationobject": True},
    "new-azcontainerregistry": {"resourcegroupname": True, "name": True, "sku": True, "location": True,
                                "enableadminuser": False, "storageaccountname": True, "tag": True},
    "update-azcontainerregistry": {"resourcegroupname": True, "name": True, "sku": True,
                                   "enableadminuser": False, "disableadminuser": False, "tag": True},
}
_KEY_CMDLETS = {
    "get-azstorageaccountkey": "the storage account key", "get-azcosmosdbaccountkey": "the Cosmos DB key",
    "get-azservicebuskey": "the Service Bus key", "get-azeventhubkey": "the Event Hubs key",
    "get-azrediscachekey": "the Redis access key", "get-azcognitiveservicesaccountkey": "the Azure AI services key",
    "get-azcontainerregistrycredential": "the container registry password",
    "get-azsearchadminkeypair": "the search admin key", "get-azsearchquerykey": "the search query key",
    "get-azsignalrkey": "the SignalR key", "get-azwebpubsubkey": "the Web PubSub key",
    "get-azbatchaccountkey": "the Batch account key", "get-azmapsaccountkey": "the Azure Maps key",
    "get-aziothubkey": "the IoT Hub key", "get-azappconfigurationstorekey": "the App Configuration key",
}


def pwsh_call(script: Script, cmd: Command, index: int) -> Call | None:
    name = (cmd.name or "").lower()
    known = _CMDLETS.get(name)
    if known is None and name not in _KEY_CMDLETS:
        return None
    known = known or {}
    call = Call("pwsh", name, cmd, script, cmd.words[0], index=index)
    current: list[Word] | None = None
    for w in cmd.words[1:]:
        v = w.value
        if v is not None and v.startswith("-") and len(v) > 1 and not _NEGATIVE_NUMBER.match(v):
            pname, colon, rest = v[1:].partition(":")
            pname = pname.lower()
            matches = [p for p in known if p == pname] or [p for p in known if p.startswith(pname)]
            pname = matches[0] if len(matches) == 1 else pname
            occurrence: list[Word] = []
            call.options.setdefault(pname, []).append(occurrence)
            call.flags.setdefault(pname, w)
            if colon:
                occurrence.append(Word(rest, rest, w.start + len(pname) + 2, w.end))
                current = None
            else:
                current = occurrence if known.get(pname, True) else None
            continue
        if w.splits:
            call.uncertain = True  # splatting (@params) may bind any parameter
            current = None
            continue
        if current is None:
            continue  # a positional argument, or the rest of an expression the grammar split
        current.append(w)
        current = None
    return call


def calls(scripts: Iterable[Script]) -> list[Call]:
    out: list[Call] = []
    for script in scripts:
        for cmd in script.commands:
            c = az_call(script, cmd, len(out)) if cmd.name and cmd.name.startswith("az") else (
                pwsh_call(script, cmd, len(out)) if script.language == "pwsh" else None)
            if c is not None:
                out.append(c)
    return out


# ---- values --------------------------------------------------------------------------------------------

def lone_variable(w: Word) -> str | None:
    """`$X`, `"${X}"`, `$env:X`: the variable a word is exactly, else None."""
    if w.skeleton == UNKNOWN_PART and len(w.variables) == 1 and not w.commands:
        return w.variables[0]
    return None


def literal(w: Word | None, script: Script, depth: int = 0) -> tuple[str | None, str]:
    """The word's literal value, through the script's own assignments when they all agree;
    and a note naming the variable it came from."""
    if w is None:
        return None, ""
    if w.known:
        return w.value, ""
    var = lone_variable(w)
    if var is None or depth > 4:
        return None, ""
    assigned = script.assignments.get(var) or []
    found = {literal(a, script, depth + 1)[0] for a in assigned}
    if len(found) == 1 and None not in found:
        return found.pop(), f" (from ${var})" if script.language == "bash" else f" (from ${var})"
    return None, ""


_GROUP_ID = re.compile(r"^group (show|create)$")


def scope_kind(w: Word, script: Script, depth: int = 0) -> tuple[str, str]:
    """(scope kind, note) of a scope argument: its literal value, its skeleton, the variable it
    names (when every assignment in the script agrees), or `az group show/create --query id`."""
    if w.known:
        return classify_scope(w.value), ""
    if depth > 4:
        return "unknown", ""
    var = lone_variable(w)
    if var is not None:
        kinds = {scope_kind(a, script, depth + 1)[0] for a in script.assignments.get(var) or []}
        if len(kinds) == 1 and "unknown" not in kinds:
            return kinds.pop(), f" (from ${var})"
        return "unknown", ""
    if w.commands and w.skeleton == UNKNOWN_PART:
        az = [c for c in w.commands if c.name == "az"]
        if len(az) == 1:
            call = az_call(script, az[0], 0)
            if call is not None and _GROUP_ID.match(call.verb) and _query(call) == "id":
                return "resourceGroup", ""
        return "unknown", ""
    return classify_scope(w.skeleton), ""


def _query(call: Call) -> str | None:
    q = call.value("--query")
    return q.value.strip().strip("'\"") if q is not None and q.known else None


def name_key(w: Word | None, text: str) -> str | None:
    """How two commands can tell they name the same app: the literal, the same variable, or
    the same expression as written (`$CONFIG.AppName`)."""
    if w is None:
        return None
    if w.known:
        return w.value
    var = lone_variable(w)
    if var is not None:
        return "$" + var
    raw = text[w.start:w.end].strip("\"'")
    return raw if w.variables and "$(" not in raw and "`" not in raw else None


def shown(w: Word | None, text: str) -> str:
    """A word as written, for messages and keys (quotes around the whole word dropped)."""
    if w is None:
        return "?"
    raw = text[w.start:w.end]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        raw = raw[1:-1]
    return raw if len(raw) <= 80 else raw[:77] + "..."


# ---- the front end ------------------------------------------------------------------------------------

class ScriptExtractor:
    def __init__(self, em: Emitter, scripts: list[Script], where: str = ""):
        self.em = em
        self.doc = em.doc
        self.text = em.doc.text
        self.calls = calls(scripts)
        self.scripts = scripts
        self.where = where  # e.g. " (in the step 'Deploy')"
        self.login_fix: dict[int, str] = {}  # id(script) -> the OIDC recipe of the CI job running it

    def span(self, w: Word | Command) -> Span:
        return self.doc.lines.span(w.start, w.end)

    def run(self) -> None:
        for c in self.calls:
            for method in _HANDLERS.get((c.tool, c.verb), ()):
                getattr(self, method)(c)
        for script in self.scripts:
            for cmd in script.commands:
                if cmd.name == "azd":
                    self.azd_login(script, cmd)
        self.key_flows()

    def azd_login(self, script: Script, cmd: Command) -> None:
        words = [w.value for w in cmd.words[1:3]]
        if words != ["auth", "login"]:
            return
        for k, w in enumerate(cmd.words):
            if w.value in ("--client-secret",) or (w.value or "").startswith("--client-secret="):
                anchor = cmd.words[k + 1] if k + 1 < len(cmd.words) and "=" not in (w.value or "") else w
                self.em.issue("KL280", (), f"azd|login|{shown(anchor, self.text)}",
                              "`azd auth login --client-secret` signs in with a client secret; use an identity or OIDC",
                              severity="high", span=self.span(anchor), fix=self.login_fix_for(script))
                return

    # -- roles -----------------------------------------------------------------------------------------
    def role_assignment(self, c: Call) -> None:
        role_word = c.value("--role")
        role, role_note = self.role_of(role_word, c.script)
        if role not in R.BROAD_ROLES or role_word is None:
            return
        scope_word = c.value("--scope")
        if scope_word is not None:
            scope, note = scope_kind(scope_word, c.script)
        elif c.has("--scope"):
            return
        elif c.uncertain:
            return
        elif c.has("--resource-group"):
            scope, note = "resourceGroup", " (no --scope: --resource-group scopes it to that group; current Azure " \
                                           "CLI versions require --scope)"
        else:
            scope, note = "subscription", (" (no --scope: older Azure CLI versions assign at the current "
                                           "subscription; current ones reject the command)")
        self.role_fact(c, role, role_note, role_word, scope, note, scope_word, c.value("--assignee", "--assignee-object-id"),
                       c.value("--assignee-principal-type"))

    def create_for_rbac(self, c: Call) -> None:
        self.minted(c, "`az ad sp create-for-rbac` creates a service principal with a client secret",
                    ("--create-cert", "--cert", "--keyvault"))
        role_word = c.value("--role")
        role, role_note = self.role_of(role_word, c.script)
        if role not in R.BROAD_ROLES or role_word is None:
            return
        scopes = c.values("--scopes")
        if not scopes:
            if c.has("--scopes") or c.uncertain:
                return
            kinds = [("subscription", " (no --scopes: older Azure CLI versions assign at the current subscription; "
                                      "current ones reject the command)", None)]
        else:
            kinds = [(*scope_kind(w, c.script), w) for w in scopes]
        for scope, note, w in kinds:
            self.role_fact(c, role, role_note, role_word, scope, note, w, None, None)

    def new_role_assignment(self, c: Call) -> None:
        role_word = c.value("roledefinitionname") or c.value("roledefinitionid")
        role, role_note = self.role_of(role_word, c.script)
        if role not in R.BROAD_ROLES or role_word is None:
            return
        scope_word = c.value("scope")
        if scope_word is not None:
            scope, note = scope_kind(scope_word, c.script)
        elif c.has("scope", "resourcename", "parentresource") or c.uncertain:
            return
        elif c.has("resourcegroupname"):
            scope, note = "resourceGroup", ""
        else:
            scope, note = "subscription", " (no -Scope: New-AzRoleAssignment assigns at the current subscription)"
        principal = c.value("objectid", "signinname", "applicationid", "serviceprincipalname")
        self.role_fact(c, role, role_note, role_word, scope, note, scope_word, principal, c.value("objecttype"))

    def role_of(self, w: Word | None, script: Script) -> tuple[str | None, str]:
        value, note = literal(w, script)
        if value is None:
            return None, ""
        name = R.canonical_name(value)
        if name is None:
            guid = R.guid_of(value)
            name = R.NAME_BY_GUID.get(guid) if guid else None
        return name, note

    def role_fact(self, c: Call, role: str, role_note: str, role_word: Word, scope: str, note: str,
                  scope_word: Word | None, principal: Word | None, principal_type: Word | None) -> None:
        if scope not in BROAD_SCOPES:
            return
        ptype = principal_type.value if principal_type is not None and principal_type.known else None
        if ptype and ptype.lower() in ("user", "group", "serviceprincipal", "foreigngroup"):
            ptype = {"user": "User", "group": "Group", "serviceprincipal": "ServicePrincipal",
                     "foreigngroup": "ForeignGroup"}[ptype.lower()]
        self.em.add("iac.role", {
            "span": span_to_list(self.span(role_word)),
            "key": f"{c.tool}|{c.verb}|{shown(principal, self.text)}|{role}|{shown(scope_word, self.text)}",
            "role": role, "scope": scope, "scope_note": note + self.where, "role_note": role_note,
            "fmt": "az-cli" if c.tool == "az" else "az-powershell",
            "principal_type": ptype, "principal": shown(principal, self.text),
        })

    # -- apps ----------------------------------------------------------------------------------------------
    def app_create(self, c: Call) -> None:
        kind = {"containerapp create": "containerapp", "containerapp job create": "containerappjob",
                "container create": "aci", "webapp create": "webapp", "functionapp create": "functionapp"}[c.verb]
        if c.has("--yaml", "--file", "--source", "--repo"):
            return  # the definition (or the build) comes from elsewhere
        name_word = c.value("--name")
        key = name_key(name_word, self.text)
        label_name = name_word.value if name_word is not None and name_word.known else shown(name_word, self.text)
        anchor = self.span(name_word) if name_word is not None else self.span(c.verb_word)
        w = Workload("az-cli", kind, label_name, f"az|{kind}|{key or shown(name_word, self.text)}", (), anchor)
        if name_word is None or not name_word.known:
            w.display_name = label_name
        ident = self.identity_of(c, kind)
        later = self.later_identity(c, kind, key)
        if ident is None or later is None:
            return  # the identity cannot be read: no fact rather than a guess
        if later.state == "set":
            ident = IdentityType("set", ident.system or later.system, ident.user or later.user)
        w.identity = ident
        uamis = c.values("--user-assigned", "--mi-user-assigned")
        if kind in ("aci", "webapp", "functionapp"):
            uamis = [x for x in c.values("--assign-identity") if not (x.known and x.value.lower() == "[system]")]
        for u in uamis:  # an unquoted $IDS may hold several: at least one identity either way
            w.uamis.append(Uami(shown(u, self.text), "<client id of " + shown(u, self.text) + ">"))
        if ident.state == "none":
            w.low_confidence = True
            w.identity_note = f" (lower confidence: no identity flag here nor a later `identity assign`{self.where})"
            w.identity_fix = fix_dict(
                f"Add {_IDENTITY_FLAGS[kind].split(' or ')[0]} (or run `az {c.verb.rsplit(' ', 1)[0]} identity assign` "
                f"later), then grant the identity its data-plane roles"
                + (" and pull with --registry-identity" if kind.startswith("containerapp") else ""), "display-only")
        env_opts = ("--env-vars", "--environment-variables", "--secure-environment-variables", "--settings",
                    "--set-env-vars")
        env_words = c.values(*env_opts)
        env_words += [x for later_call in self.same_app_calls(c, key) for x in later_call.values(*env_opts)]
        for x in env_words:
            if x.known:
                w.env_names.add(x.value.split("=", 1)[0])
            elif "=" in x.skeleton and not x.skeleton.startswith(UNKNOWN_PART):
                w.env_names.add(x.skeleton.split("=", 1)[0])
            else:
                w.env_unknown = True
        if c.uncertain:
            w.env_unknown = True
        if c.has("--registry-password", "--docker-registry-server-password"):
            w.key_auth.append("a registry password")
        img = c.value("--image", "--deployment-container-image-name")
        if img is not None:
            w.images.append(img.value if img.known else img.skeleton)
        w.client_id_fix_text = {"webapp": "az webapp config appsettings set --settings AZURE_CLIENT_ID=<client id>",
                                "functionapp": "az functionapp config appsettings set --settings AZURE_CLIENT_ID=<client id>",
                                "aci": "--environment-variables AZURE_CLIENT_ID=<client id>"}.get(
            kind, "--env-vars AZURE_CLIENT_ID=<client id>")
        w.ambiguity_note = self.where
        emit_workload(self.em, w)

    def identity_of(self, c: Call, kind: str) -> IdentityType | None:
        if c.uncertain:
            return None
        if kind in ("containerapp", "containerappjob"):
            system = c.has("--system-assigned", "--mi-system-assigned")
            user = c.has("--user-assigned", "--mi-user-assigned")
            # pulling with an identity attaches it: `system`, or a user-assigned identity's id
            pull = c.value("--registry-identity")
            if pull is not None:
                system = system or (pull.known and pull.value.lower() == "system")
                user = user or not (pull.known and pull.value.lower() == "system")
        else:
            ids = c.values("--assign-identity")
            system = c.has("--assign-identity") and (not ids or any(x.known and x.value.lower() == "[system]" for x in ids))
            user = any(not (x.known and x.value.lower() == "[system]") for x in ids) or c.has("--acr-identity")
            # Flex Consumption: the deployment storage identity is attached to the app
            auth = c.value("--deployment-storage-auth-type")
            if auth is not None:
                if not auth.known:
                    return None
                system = system or auth.value.lower() == "systemassignedidentity"
                user = user or auth.value.lower() == "userassignedidentity"
        if system or user:
            return IdentityType("set", system, user)
        return IdentityType("none")

    def same_app_calls(self, c: Call, key: str | None) -> list[Call]:
        group = c.verb.rsplit(" ", 1)[0]
        return [o for o in self.calls if o is not c and o.verb.startswith(group + " ")
                and key is not None and name_key(o.value("--name"), self.text) == key]

    def later_identity(self, c: Call, kind: str, key: str | None) -> IdentityType | None:
        """What later `identity assign` commands add to the app; None when one of them may name
        it but its name cannot be compared."""
        group = c.verb.rsplit(" ", 1)[0]
        found = IdentityType("none")
        for o in self.calls:
            if o.verb != group + " identity assign":
                continue
            other = name_key(o.value("--name"), self.text)
            if other is None or key is None:
                return None
            if other != key:
                continue
            system = o.has("--system-assigned") or not o.has("--user-assigned", "--identities")
            if "--identities" in o.options:
                ids = o.values("--identities")
                system = not ids or any(x.known and x.value.lower() == "[system]" for x in ids)
            found = IdentityType("set", found.system or system,
                                 found.user or o.has("--user-assigned") or bool(o.values("--identities")))
        return found

    # -- key-based auth ------------------------------------------------------------------------------
    def registry_password(self, c: Call) -> None:
        opts = ("--registry-password", "--docker-registry-server-password")
        if not c.has(*opts):
            return
        w = c.value(*opts) or c.flag_word(*opts)
        name = c.value("--name")
        where = {"containerapp": "container app", "container": "container group", "webapp": "web app",
                 "functionapp": "function app"}[c.verb.split(" ", 1)[0]]
        target = f"{where} '{shown(name, self.text)}'" if name is not None else f"this {where}"
        server = c.value("--registry-server", "--registry-login-server", "--docker-registry-server-url",
                         "--container-registry-url", "--registry-server-url")
        host = server.value if server is not None and server.known else None
        if azure_registry(host) is False:
            self.em.issue("KL250", (), f"az|{c.verb}|{name_key(name, self.text) or '?'}|registry-password",
                          f"`az {c.verb}` pulls images for {target} from '{short_name(str(host))}' with a password; "
                          "use Key Vault", severity="medium",
                          span=self.span(w), fix=self.with_where(non_azure_registry_fix(
                              "read it at run time (az keyvault secret show) instead of writing it")))
            return
        msg = f"`az {c.verb}` pulls images for {target} with a registry password; use an identity"
        fixtext = {"containerapp": "Use --registry-identity system (or a user-assigned identity's resource id) with "
                                   "AcrPull on the registry; drop --registry-username/--registry-password",
                   "container": "Use --acr-identity with a user-assigned identity that has AcrPull on the registry; "
                                "drop --registry-username/--registry-password",
                   }.get(c.verb.split(" ", 1)[0], "Give the app a managed identity with AcrPull and set "
                                                 "acrUseManagedIdentityCreds (az webapp config set --generic-configurations "
                                                 "'{\"acrUseManagedIdentityCreds\": true}'); drop the registry password")
        self.em.issue("KL250", (), f"az|{c.verb}|{name_key(name, self.text) or '?'}|registry-password", msg, severity="high",
                      span=self.span(w), fix=self.with_where(fix_dict(fixtext, "display-only")))

    def acr_admin(self, c: Call) -> None:
        if c.tool == "az":
            w = c.value("--admin-enabled")
            on = w is not None and w.known and w.value.lower() in ("true", "yes", "1")
            if w is None and c.has("--admin-enabled"):
                w, on = c.flag_word("--admin-enabled"), True
        else:
            w = c.flag_word("enableadminuser")
            on = w is not None
        if not on or w is None:
            return
        name = c.value("--name", "name")
        how = f"`az acr {c.verb.split()[-1]} --admin-enabled`" if c.tool == "az" else f"`{c.command.words[0].value} -EnableAdminUser`"
        label = f"Container registry '{short_name(shown(name, self.text))}'"
        # worded like the template front ends' KL251 facts: the rule appends what the code needs
        self.em.issue("KL251", (), f"{c.tool}|acr|{name_key(name, self.text) or '?'}|admin",
                      f"{label} has an admin user with a shared password ({how})", severity="high", span=self.span(w),
                      fix=self.with_where(fix_dict("Drop the admin user (--admin-enabled false; pulling identities "
                                                   "get AcrPull with az role assignment create)", "display-only")),
                      resource=label)

    def sp_login(self, c: Call) -> None:
        if c.tool == "az":
            if not c.has("--service-principal"):
                return
            secret = c.value("--password", "--secret", "--client-secret")
            if secret is None:
                return
            value, _ = literal(secret, c.script)
            if value is not None and value.lower().endswith((".pem", ".pfx", ".crt", ".cer")):
                return  # a certificate file
            anchor = secret
            how = "`az login --service-principal -p`"
        else:
            if not c.has("serviceprincipal") or c.has("certificatethumbprint", "certificatepath", "federatedtoken"):
                return
            anchor = c.value("credential")
            if anchor is None:
                return
            how = "`Connect-AzAccount -ServicePrincipal -Credential`"
        self.em.issue("KL280", (), f"{c.tool}|login|{shown(c.value('--username', 'applicationid'), self.text)}",
                      f"{how} signs in with a client secret; use a managed identity or OIDC", severity="high",
                      span=self.span(anchor), fix=self.login_fix_for(c.script))

    def login_fix_for(self, script: Script) -> dict:
        """The fix of a client-secret login: the CI job's OIDC recipe, else the one for where it runs."""
        return self.with_where(fix_dict(self.login_fix.get(id(script)) or login_fix_text(self.doc), "display-only"))

    def with_where(self, fix: dict) -> dict:
        """`fix` naming the CI step or job the script runs in, when the help has room for it."""
        return {**fix, "message": fit(fix["message"], [bare(self.where)])} if self.where else fix

    def minted(self, c: Call, what: str, cert_options: tuple[str, ...]) -> None:
        if c.has(*cert_options) or c.uncertain:
            return
        self.em.issue("KL281", (), f"{c.tool}|{c.verb}|{shown(c.value('--id', '--name', '--display-name', 'objectid', 'applicationid', 'displayname'), self.text)}",
                      f"{what}; prefer a managed identity or OIDC", severity="medium", span=self.span(c.verb_word),
                      fix=self.with_where(fix_dict(
                          "Use a managed identity for workloads in Azure and a federated credential (OIDC, `az ad app "
                          "federated-credential create`) for CI; if a secret is unavoidable, a certificate in Key Vault "
                          "(--create-cert)", "display-only")))

    def credential_reset(self, c: Call) -> None:
        self.minted(c, f"`az {c.verb}` creates a new client secret for the service principal", ("--create-cert", "--cert", "--keyvault"))

    def new_credential(self, c: Call) -> None:
        if c.has("certvalue", "keycredentials"):
            return
        self.minted(c, f"`{c.command.words[0].value}` creates a client secret", ())

    # -- listed keys: where do they go? ----------------------------------------------------------------
    def key_flows(self) -> None:
        sources = {id(c.command): c for c in self.calls if key_listing(c) is not None}
        if not sources:
            return
        memo: dict[str, Call | None] = {}
        for c in self.calls:
            if c.tool != "az":
                continue
            for opt, (code, what) in _SETTING_SINKS.items():
                for w in c.values(opt):
                    src = self.carries_key(w, sources, memo)
                    if src is not None:
                        self.key_stored(code, src, w, f"{what} (`az {c.verb} {opt}`)", c)
            for opt, what in _STORE_SINKS.get(c.verb, {}).items():
                for w in c.values(opt):
                    src = self.carries_key(w, sources, memo)
                    if src is not None:
                        self.key_stored("KL282", src, w, what, c)
        for script in self.scripts:
            for cmd in script.commands:
                self.file_sinks(cmd, sources, memo)

    def file_sinks(self, cmd: Command, sources: dict, memo: dict) -> None:
        name = (cmd.name or "").lower()
        targets = [o for o in cmd.outputs if sink_file(o)]
        nxt = cmd.piped_into
        if nxt is not None and (nxt.name or "").lower() in _WRITERS:
            targets += [a for a in nxt.args if sink_file(a)]
        if name in ("add-content", "set-content", "out-file") and any(sink_file(a) for a in cmd.args):
            targets.append(next(a for a in cmd.args if sink_file(a)))
        raw = self.text[cmd.start:cmd.end]
        if not targets and name != "azd" and "::set-output" not in raw and "##vso[" not in raw:
            return  # nothing written where it stays: its words need not be read
        data = cmd.args + cmd.inputs if cmd.words else cmd.inputs
        if name == "azd" and len(cmd.words) >= 4 and [w.value for w in cmd.words[1:3]] == ["env", "set"]:
            for w in cmd.words[3:]:
                src = self.carries_key(w, sources, memo)
                if src is not None:
                    self.key_stored("KL282", src, w, "the azd environment (`azd env set`, kept in .azure/<env>/.env)", None)
            return
        if id(cmd) in sources and targets:  # `az storage account show-connection-string ... >> .env`
            self.key_stored("KL282", sources[id(cmd)], targets[0], _sink_words(targets[0]), None, listed_here=True)
            return
        for w in data:
            runner = runner_command(w)
            if not targets and runner is None:
                continue
            src = self.carries_key(w, sources, memo)
            if src is not None:
                self.key_stored("KL282", src, w, runner or _sink_words(targets[0]), None)

    def carries_key(self, w: Word, sources: dict, memo: dict, depth: int = 0) -> Call | None:
        """The key-listing call whose output this word holds (directly or through variables)."""
        for cmd in w.commands:
            if id(cmd) in sources:
                return sources[id(cmd)]
            if depth < 6:
                for inner in cmd.words:
                    found = self.carries_key(inner, sources, memo, depth + 1)
                    if found is not None:
                        return found
        if depth > 6:
            return None
        for var in w.variables:
            if var not in memo:
                memo[var] = None  # cycle guard
                for script in self.scripts:
                    for a in script.assignments.get(var) or ():
                        found = self.carries_key(a, sources, memo, depth + 1)
                        if found is not None:
                            memo[var] = found
                            break
            if memo[var] is not None:
                return memo[var]
        return None

    def key_stored(self, code: str, src: Call, w: Word, where: str, sink: Call | None, listed_here: bool = False) -> None:
        what = key_listing(src) or "a key"
        line = self.doc.lines.position(src.command.start).line
        listed = "listed here" if listed_here else f"from line {line}"
        sink, _, detail = where.partition(" (")  # `app settings (`az ... --settings`)`: the detail goes to the help
        notes = [f"listed by `{_call_text(src)}`" if not listed_here else "", f"({detail}" if detail else "",
                 self.where]
        if code == "KL252":
            msg = f"{what[0].upper()}{what[1:]} {listed} feeds {sink}; use the endpoint and an identity"
            fix = ("Set the service endpoint instead (e.g. AZURE_STORAGE_ACCOUNT_URL, <NAME>__serviceUri) and use "
                   "DefaultAzureCredential with the app's managed identity and a data-plane role")
        else:
            msg = f"{what[0].upper()}{what[1:]} {listed} is written to {sink}; do not export keys"
            fix = ("Give the workload a managed identity with a data-plane role and pass only endpoints; locally, "
                   "DefaultAzureCredential uses your `az login`")
        fix = fit(fix + "; exported keys outlive the script and leak" if code != "KL252" else fix,
                  [bare(n) for n in notes if n])
        # the word as written may hold literal text next to the key: only its digest is kept
        digest = hashlib.sha256(self.text[w.start:w.end].encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.em.issue(code, (), f"{code}|{src.verb}|{where}|{digest}", msg, severity="high",
                      span=self.span(w), fix=fix_dict(fix, "display-only"))


def login_fix_text(doc: Any) -> str:
    """What replaces a client-secret login, by where the script runs (a GitHub workflow's own
    recipe, with its subjects, comes from ci.py)."""
    if doc.kind == "yaml":  # an Azure Pipelines step
        return ("Use an Azure Resource Manager service connection with workload identity federation in an "
                "AzureCLI@2 / AzurePowerShell@5 task (azureSubscription: <connection>): no secret is stored")
    return ("Sign in without a secret: `az login --identity` in Azure, a federated token in CI (`az login "
            "--service-principal ... --federated-token <token>`), or `az login` as yourself on a workstation")


_IDENTITY_FLAGS = {
    "containerapp": "--system-assigned or --user-assigned", "containerappjob": "--mi-system-assigned or --mi-user-assigned",
    "aci": "--assign-identity", "webapp": "--assign-identity", "functionapp": "--assign-identity",
}

# az commands that print keys, SAS tokens or key-based connection strings -> what they print.
_KEY_LISTING_AZ = {
    "storage account keys list": "the storage account key",
    "storage account show-connection-string": "the storage account's key-based connection string",
    "storage account generate-sas": "an account SAS signed with the storage key",
    "cosmosdb keys list": "the Cosmos DB key", "cosmosdb list-keys": "the Cosmos DB key",
    "cosmosdb list-connection-strings": "the Cosmos DB connection string",
    "cosmosdb list-read-only-keys": "the Cosmos DB read-only key",
    "servicebus namespace authorization-rule keys list": "the Service Bus SAS key",
    "servicebus queue authorization-rule keys list": "the Service Bus SAS key",
    "servicebus topic authorization-rule keys list": "the Service Bus SAS key",
    "eventhubs namespace authorization-rule keys list": "the Event Hubs SAS key",
    "eventhubs eventhub authorization-rule keys list": "the Event Hubs SAS key",
    "relay namespace authorization-rule keys list": "the Relay SAS key",
    "redis list-keys": "the Redis access key",
    "cognitiveservices account keys list": "the Azure AI services key",
    "search admin-key show": "the search admin key", "search query-key list": "the search query key",
    "acr credential show": "the container registry admin password",
    "signalr key list": "the SignalR access key", "webpubsub key show": "the Web PubSub access key",
    "iot hub connection-string show": "the IoT Hub connection string",
    "iot hub show-connection-string": "the IoT Hub connection string",
    "appconfig credential list": "the App Configuration access key",
    "batch account keys list": "the Batch account key", "maps account keys list": "the Azure Maps key",
    "communication list-key": "the Communication Services key",
    "eventgrid topic key list": "the Event Grid topic key", "eventgrid domain key list": "the Event Grid domain key",
}
_SAS_VERBS = re.compile(r"^storage (container|blob|share|queue|table|file|fs) generate-sas$")


def key_listing(c: Call) -> str | None:
    if c.tool == "pwsh":
        return _KEY_CMDLETS.get(c.verb)
    what = _KEY_LISTING_AZ.get(c.verb)
    if what is not None:
        return what
    if _SAS_VERBS.match(c.verb) and not c.has("--as-user"):
        return "a SAS token signed with the storage account key"
    return None


# az options that set app settings or env -> (rule, what they are).
_SETTING_SINKS = {
    "--settings": ("KL252", "app settings"),
    "--env-vars": ("KL252", "container env"), "--set-env-vars": ("KL252", "container env"),
    "--replace-env-vars": ("KL252", "container env"),
    "--environment-variables": ("KL252", "container env"),
    "--secure-environment-variables": ("KL252", "container env"),
    "--secrets": ("KL252", "app secrets"),
}
# az commands that store a value elsewhere -> option -> where.
_STORE_SINKS = {
    "keyvault secret set": {"--value": "a Key Vault secret (`az keyvault secret set`)"},
    "appconfig kv set": {"--value": "App Configuration (`az appconfig kv set`)"},
    "pipelines variable create": {"--value": "an Azure Pipelines variable"},
    "pipelines variable update": {"--value": "an Azure Pipelines variable"},
    "pipelines variable-group variable create": {"--value": "an Azure Pipelines variable group"},
    "deployment group create": {"--parameters": "deployment parameters (`az deployment group create`)"},
    "deployment sub create": {"--parameters": "deployment parameters (`az deployment sub create`)"},
}

_WRITERS = frozenset({"tee", "out-file", "add-content", "set-content", "tee-object"})
_SINK_NAME = re.compile(r"(^|[/\\])\.env(\.[\w.-]+)?$|\.env$|(^|[/\\])local\.settings\.json$|(^|[/\\])appsettings[\w.-]*\.json$",
                        re.I)


def sink_file(w: Word) -> bool:
    text = w.value if w.known else w.skeleton
    if any(v.lower() in ("github_env", "github_output", "github_step_summary") for v in w.variables):
        return True
    return bool(text and _SINK_NAME.search(text.strip()))


def _sink_words(w: Word) -> str:
    if any(v.lower() == "github_env" for v in w.variables):
        return "$GITHUB_ENV (every later step of the job sees it)"
    if any(v.lower() == "github_output" for v in w.variables):
        return "$GITHUB_OUTPUT (a step output)"
    text = w.value if w.known else w.skeleton
    return f"the file {text.strip()}"


def runner_command(w: Word) -> str | None:
    """A workflow command printed to stdout that stores a value for later steps."""
    text = w.value if w.known else w.skeleton
    if "::set-output" in text:
        return "a step output (`::set-output`)"
    if "##vso[task.setvariable" in text:
        return "a pipeline variable (`##vso[task.setvariable]`)"
    return None


def _call_text(c: Call) -> str:
    return f"az {c.verb}" if c.tool == "az" else (c.command.words[0].value or c.verb)


# (tool, verb) -> the ScriptExtractor methods that read it.
_HANDLERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("az", "role assignment create"): ("role_assignment",),
    ("az", "ad sp create-for-rbac"): ("create_for_rbac",),
    ("pwsh", "new-azroleassignment"): ("new_role_assignment",),
    ("az", "containerapp create"): ("app_create", "registry_password"),
    ("az", "containerapp job create"): ("app_create",),
    ("az", "container create"): ("app_create", "registry_password"),
    ("az", "webapp create"): ("app_create", "registry_password"),
    ("az", "functionapp create"): ("app_create",),
    ("az", "containerapp update"): ("registry_password",),
    ("az", "containerapp registry set"): ("registry_password",),
    ("az", "webapp config container set"): ("registry_password",),
    ("az", "functionapp config container set"): ("registry_password",),
    ("az", "acr create"): ("acr_admin",),
    ("az", "acr update"): ("acr_admin",),
    ("pwsh", "new-azcontainerregistry"): ("acr_admin",),
    ("pwsh", "update-azcontainerregistry"): ("acr_admin",),
    ("az", "login"): ("sp_login",),
    ("pwsh", "connect-azaccount"): ("sp_login",),
    ("az", "ad sp credential reset"): ("credential_reset",),
    ("az", "ad app credential reset"): ("credential_reset",),
    ("pwsh", "new-azadspcredential"): ("new_credential",),
    ("pwsh", "new-azadappcredential"): ("new_credential",),
}


# A script that names no Azure command is not parsed at all (most scripts of a repository).
_AZURE_COMMAND = re.compile(
    r"(?<![\w.-])azd?(?:\.cmd|\.exe)?[ \t\\`]|new-azroleassignment|connect-azaccount|new-azad(?:sp|app)credential"
    r"|(?:new|update)-azcontainerregistry|get-az\w*(?:key|credential)", re.I)


def script_facts(em: Emitter, scripts: list[Script], where: str = "") -> None:
    scripts = [s for s in scripts if s._commands is not None or _AZURE_COMMAND.search(s.text)]
    if scripts:
        ScriptExtractor(em, scripts, where).run()
