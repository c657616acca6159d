"""Resources that still accept keys: a format-neutral view of one deployed resource, the switch
tables the rules declare (`Switch`, `Attr`), the one checker that evaluates them and the one
renderer that writes a setting in each document kind.

Front ends build a `ResourceView` (ARM/Bicep: `arm.py`; Terraform `azurerm_*` and
`azapi_resource`/`azapi_update_resource`: `terraform.py`) and call `check_resource`. A view answers
`lookup(path)` with a `Value`: `set` (with the document path of the value, whether it is written
there as a literal, and where a resolved value came from), `absent`, or `unknown` (an expression,
a parameter without a value, a reference, a dynamic block). The checker never guesses: an unknown
value, or an absent one where the API version's default is not known, gives no finding.

The facts it emits are `iac.issue` facts with the rule's code; the rules' project phase
(`local_auth.py`) adds what only the whole repository knows: which code uses the service with a
key, and so the severity.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Callable, NamedTuple

from keyless.linter.messages import MESSAGE_MAX, short_name
from keyless.rules.iac.facts import fix_dict


# ---- tables ---------------------------------------------------------------------------------------

class Attr(NamedTuple):
    """One Terraform azurerm spelling of a switch: `path` is attribute names and block names
    (`("authentication", "password_auth_enabled")`); `default` the provider's value when the
    attribute is absent (None: not known, no finding)."""

    type: str
    path: tuple[str, ...]
    secure: Any
    default: Any = None


class Companion(NamedTuple):
    """A separate resource that can turn the same switch off (SQL `azureADOnlyAuthentications`,
    MySQL `configurations/aad_auth_only`): ARM child type and the property holding the value, or a
    Terraform type whose `name_attr` equals `name` and whose `value_attr` holds it.

    With `grants` it is the other kind: a resource that uses what the switch leaves on (Key Vault
    access policies written as their own resource). `grants(view)` says how many it grants (0: none,
    e.g. a `remove` operation; None: unknown). Such a companion counts in its resource's finding;
    one whose resource is not deployed in the same file is reported on its own (`check_grants`)."""

    arm_type: str | None
    arm_path: tuple[str, ...]
    tf_type: str | None
    name: str | None
    tf_value: tuple[str, ...]
    secure: Any
    grants: Callable[["ResourceView"], int | None] | None = None
    grant_noun: str = ""  # how a message names it: "access polic(y|ies)"


class Switch(NamedTuple):
    """A property that decides whether a resource accepts keys or passwords.

    `default(api_version)` is ARM's value when the property is absent (None: unknown for that
    version, so no finding); `azurerm` lists the provider's spellings (4.x and 5.x), the first
    one's default counting when none is written; `applies(view)` returns False for resources of the
    type the switch does not cover (e.g. Cosmos DB accounts that are not NoSQL) and None when that
    is unknown."""

    arm_type: str
    path: tuple[str, ...]
    secure: Any
    default: Callable[[str | None], Any]
    azurerm: tuple[Attr, ...] = ()
    label: str = ""  # what messages call the resource: "Storage account"
    setting: str = ""  # how messages name it (part of the finding's key: never changes)
    shown: str = ""  # a shorter name for messages, when `setting` is long
    tf_shown: str = ""  # the same for the Terraform attribute
    applies: Callable[["ResourceView"], bool | None] | None = None
    companions: tuple[Companion, ...] = ()
    detail: Callable[["ResourceView"], str] | None = None  # extra message text
    fix_text: str = ""  # a display-only fix where the setting is not a property of the resource
    arm_fix_text: str = ""  # the same, for ARM/Bicep only ("{setting}": the companion's setting)
    tf_fix_text: str = ""  # the same, for Terraform only
    group: str = ""  # switches of one rule with the same group give one finding per resource
    # A value that is not simply the secure one or not (Batch's list of modes): whether it leaves
    # keys on (None: unknown), and the value to write instead.
    insecure: Callable[[Any], bool | None] | None = None
    secured: Callable[[Any], Any] | None = None


def always(value: Any) -> Callable[[str | None], Any]:
    return lambda api_version: value


def from_api(date: str, before: Any, since: Any) -> Callable[[str | None], Any]:
    """A default that changed with API version `date` (previews of that date count as newer);
    unknown when the version is."""

    def default(api_version: str | None) -> Any:
        m = re.match(r"\d{4}-\d{2}-\d{2}", api_version or "")
        if not m:
            return None
        return since if m.group(0) >= date else before

    return default


# ---- the view -------------------------------------------------------------------------------------

class Value(NamedTuple):
    state: str  # "set", "absent" or "unknown"
    value: Any = None
    path: tuple | None = None  # document path of the value as written
    literal: bool = False  # written right there as a literal: an edit can replace it
    note: str = ""  # where a resolved value came from: " (from parameter 'x')"


UNKNOWN_VALUE = Value("unknown")
ABSENT = Value("absent")


class ResourceView:
    """One resource as every rule sees it. Subclasses (per front end) implement `lookup` and
    `container`."""

    fmt = "arm"  # arm, tf, tf-json, tf-plan, azapi

    def __init__(self, type_: str, api_version: str | None, name: str, key: str, anchor: tuple,
                 address: str = "", absent_unknown: bool = False):
        self.type = type_  # ARM type (ARM, Bicep, azapi) or azurerm type
        self.api_version = api_version
        self.name = name  # as messages show it
        self.key = key  # structural: finding keys (and so fingerprints) use it
        self.anchor = anchor  # document path a finding about an absent setting points at
        self.address = address  # Terraform address
        
        self.absent_unknown = absent_unknown  # a patch (azapi_update_resource), a plan: absent says nothing
        self.companions: list[ResourceView] = []

    def lookup(self, path: tuple[str, ...]) -> Value:
        raise NotImplementedError

    def container(self, path: tuple[str, ...]) -> tuple[tuple, tuple[str, ...]] | None:
        """Where a missing setting would go: (document path of the deepest existing object on
        `path`, the names still missing below it); None when that object is not written out."""
        return None

    def written_path(self, path: tuple[str, ...]) -> tuple[str, ...]:
        """How a fix names the switch at `path` in this resource's own syntax (a module call
        passes it as a parameter)."""
        return path

    def companion_name(self) -> Any:
        return None

    def own_name(self) -> str | None:
        """The last segment of the resource's name (`add` of `vault/add`); None when unknown."""
        return None

    def parent(self) -> tuple[str, str | None, str]:
        """The resource a child or companion belongs to: (structural key, its name when it
        resolves, how to point at it otherwise)."""
        return self.key, None, self.name


def truthy(value: Any) -> Any:
    """ARM and Terraform booleans, also written as strings; other values unchanged."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def same(value: Any, secure: Any) -> bool:
    value = truthy(value)
    if isinstance(secure, str):
        return isinstance(value, str) and value.strip().lower() == secure.lower()
    return type(value) is type(secure) and value == secure


# ---- the checker ----------------------------------------------------------------------------------

def _index() -> tuple[dict, dict, dict]:
    from keyless.rules.iac.local_auth import RESOURCE_RULES

    by_arm: dict[str, list] = {}
    by_tf: dict[str, list] = {}
    grants: dict[str, tuple] = {}  # ARM type (lower) or Terraform type -> (rule, switch, companion)
    for rule in RESOURCE_RULES:
        for sw in rule.switches:
            by_arm.setdefault(sw.arm_type.lower(), []).append((rule, sw))
            for attr_type in dict.fromkeys(a.type for a in sw.azurerm):
                by_tf.setdefault(attr_type, []).append((rule, sw))
            for c in sw.companions:
                if c.grants is not None:
                    if c.arm_type:
                        grants[c.arm_type.lower()] = (rule, sw, c)
                    if c.tf_type:
                        grants[c.tf_type] = (rule, sw, c)
    return by_arm, by_tf, grants


_INDEX: tuple[dict, dict, dict] | None = None


def index() -> tuple[dict, dict, dict]:
    global _INDEX
    if _INDEX is None:
        _INDEX = _index()
    return _INDEX


def grant_of(view: ResourceView) -> tuple | None:
    """(rule, switch, companion) when the view is a grant companion (see `Companion.grants`)."""
    grants = index()[2]
    return grants.get(view.type) or grants.get(view.type.lower())


def granted(view: ResourceView) -> int:
    """How many grants the view's attached grant companions make (unknown ones count none)."""
    total = 0
    for comp in view.companions:
        found = grant_of(comp)
        if found is not None:
            total += found[2].grants(comp) or 0
    return total


def key_source_switch(resource_type: str) -> tuple[str, str] | None:
    """(rule code, the switch's ARM type in lower case) of the resource that hands out the keys of
    `resource_type`: an ARM type (the resource or a child of it,
    `Microsoft.ServiceBus/namespaces/topics/authorizationRules`) or an azurerm type (the resource,
    or an `..._authorization_rule` of its service). None for other types and for rules about
    something else than keys (Key Vault access policies). The ARM type tells resources of one rule
    apart (KL275: Application Insights and Log Analytics)."""
    by_arm, by_tf, _ = index()
    found = by_tf.get(resource_type)
    if found is None and resource_type.startswith("azurerm_") and resource_type.endswith("_authorization_rule"):
        service = resource_type.split("_")[1]
        found = next((v for t, v in sorted(by_tf.items()) if t.startswith(f"azurerm_{service}_")), None)
    if found is None:
        low = resource_type.lower()
        found = next((v for t, v in sorted(by_arm.items(), key=lambda kv: -len(kv[0]))
                      if low == t or low.startswith(t + "/")), None)
    for rule, sw in found or ():
        if rule.category.value == "key-auth":
            return rule.code, sw.arm_type.lower()
    return None


# Asked once per template walked: computed once.
@lru_cache(maxsize=1)
def arm_types() -> frozenset[str]:
    return frozenset(index()[0])


@lru_cache(maxsize=1)
def tf_types() -> frozenset[str]:
    return frozenset(index()[1])


@lru_cache(maxsize=1)
def companion_types() -> tuple[frozenset[str], frozenset[str]]:
    arm, tf = set(), set()
    for rules in index()[0].values():
        for _, sw in rules:
            for c in sw.companions:
                if c.arm_type:
                    arm.add(c.arm_type.lower())
                if c.tf_type:
                    tf.add(c.tf_type)
    return frozenset(arm), frozenset(tf)


def check_resource(em: Any, view: ResourceView) -> None:
    """Evaluate every switch declared for the view's type and emit one `iac.issue` per switch
    that leaves keys (or passwords, or access policies) on; switches of one rule that share a
    `group` (App Service FTP and SCM basic auth) give one finding together."""
    by_arm, by_tf, _ = index()
    tf = view.fmt in ("tf", "tf-json", "tf-plan")
    groups: dict[tuple, list] = {}
    for rule, sw in (by_tf if tf else by_arm).get(view.type if tf else view.type.lower(), ()):
        outcome = _check(em, view, rule, sw, tf)
        if outcome is not None:
            groups.setdefault((rule.code, sw.group or id(sw)), []).append(outcome)
    for outcomes in groups.values():
        _emit(em, view, outcomes)


def _spellings(view: ResourceView, sw: Switch, tf: bool) -> list[tuple[tuple[str, ...], Any, Any]]:
    if not tf:
        return [(sw.path, sw.secure, sw.default(view.api_version))]
    return [(a.path, a.secure, a.default) for a in sw.azurerm if a.type == view.type]


class _Outcome(NamedTuple):
    rule: Any
    sw: Switch
    how: str
    setting: str
    anchor: tuple
    fix: dict
    default: str = ""  # absent: "not set"
    api_default: str = ""  # absent, ARM: "API version 2023-01-01 defaults to true"
    shown: str = ""  # the setting as the message names it


def _check(em: Any, view: ResourceView, rule: Any, sw: Switch, tf: bool) -> _Outcome | None:
    if sw.applies is not None and sw.applies(view) is not True:
        return None
    spellings = _spellings(view, sw, tf)
    found = None
    for path, secure, default in spellings:
        v = view.lookup(path)
        if v.state == "unknown":
            return None
        if v.state == "set":
            found = (path, secure, v)
            break
    for comp in view.companions:
        verdict = _companion(comp, sw, tf)
        if verdict is None or verdict is True:
            return None  # turned off elsewhere, or we cannot tell
        if verdict is not False and found is None:
            found = verdict  # the companion itself leaves it on: report it there
    if found is None:
        if view.absent_unknown:
            return None
        path, secure, default = spellings[0]
        if default is None or same(default, secure):
            return None
        v = ABSENT
    else:
        path, secure, v = found
        if v.value is None:
            return None
        if sw.insecure is not None:
            if sw.insecure(v.value) is not True:
                return None
            secure = sw.secured(v.value) if sw.secured else secure
        elif same(v.value, secure):
            return None
    written = (sw.setting if sw.setting and not tf else "") or (
        path[-1] if tf else ".".join(path[1:] if path[0] == "properties" else path))
    named = (sw.tf_shown if tf else sw.shown) or written
    default_text = ""
    if v.state == "set" and isinstance(v.value, list) and isinstance(secure, list):  # the items that leave it on
        how = f"{named} has {', '.join(_shown(x) for x in v.value if x not in secure) or _brief(_shown(v.value))}"
    elif v.state == "set":
        how = f"{named}: {_brief(_shown(v.value))}"  # where the value comes from (v.note): the fix says
    else:
        default_text = "not set"  # only an insecure default is reported
        how = f"{named} not set"
    fix = render_fix(em, view, sw, path, secure, v, rule, tf)
    api_default = ""
    if v.state != "set" and view.api_version and not tf:  # the default depends on the API version
        api_default = f"API version {view.api_version} defaults to {_shown(spellings[0][2])}"
    return _Outcome(rule, sw, how, written, v.path if v.state == "set" else view.anchor, fix, default_text,
                    api_default, named)


def _emit(em: Any, view: ResourceView, outcomes: list[_Outcome]) -> None:
    first = outcomes[0]
    rule, sw = first.rule, first.sw
    label = f"{sw.label} '{short_name(view.name)}'"
    detail = sw.detail(view) if sw.detail else ""
    defaults = {o.default for o in outcomes}
    if len(outcomes) == 1:
        how = first.how
    else:
        absent = len(defaults) == 1 and "" not in defaults
        how = f"{_settings([o.shown or o.setting for o in outcomes])} {'not set' if absent else 'left on'}"
    message = f"{label} {rule.accepts} ({how}{detail})"
    if len(message) > MESSAGE_MAX and view.name == view.address:  # a Terraform address names the type itself
        message = f"'{short_name(view.name)}' {rule.accepts} ({how}{detail})"
    fix = first.fix if len(outcomes) == 1 else _joined_fix([o.fix for o in outcomes])
    api_defaults = sorted({o.api_default for o in outcomes if o.api_default})
    if api_defaults:
        fix = {**fix, "message": f"{fix['message'].rstrip('.')} ({'; '.join(api_defaults)})"}
    em.issue(rule.code, first.anchor, f"{view.key}|{'+'.join(o.setting for o in outcomes)}", message,
             fix=fix, resource=label, switch_type=sw.arm_type.lower())


def _joined_fix(fixes: list[dict]) -> dict:
    """One fix for a group: every message, and every edit when each one has its own (insertions
    at the same place become one)."""
    message = _merged([f["message"].rstrip(".") for f in fixes])
    edits: list = []
    for f in fixes:
        for e in f.get("edits") or []:
            if edits and edits[-1][:4] == e[:4] and e[0] == e[2] and e[1] == e[3]:
                edits[-1] = edits[-1][:4] + [edits[-1][4] + e[4]]
            else:
                edits.append(list(e))
    if not edits or any(not f.get("edits") for f in fixes):
        return fix_dict(message, "display-only")
    return fix_dict(message, "unsafe", edits)


def _companion(comp: ResourceView, sw: Switch, tf: bool) -> Any:
    """True: the companion turns keys off; False: it does not concern this switch; None:
    unknown; (path, secure, Value): it sets the value and leaves keys on."""
    for c in sw.companions:
        if c.grants is not None:
            continue  # uses the switch, never turns it off
        if tf and c.tf_type == comp.type:
            if c.name is not None:
                name = comp.lookup(("name",))
                if name.state != "set":
                    return None
                if not isinstance(name.value, str) or name.value.lower() != c.name.lower():
                    continue
            path = c.tf_value
        elif not tf and c.arm_type and c.arm_type.lower() == comp.type.lower():
            if c.name is not None:
                name = comp.own_name()  # the last segment, also when only it is written literally
                if name is None:
                    return None
                if name.lower() != c.name.lower():
                    continue
            path = c.arm_path
        else:
            continue
        v = comp.lookup(path)
        if v.state == "unknown":
            return None
        if v.state != "set" or v.value is None:
            return False
        return True if same(v.value, c.secure) else (path, c.secure, v)
    return False


def check_grants(em: Any, views: list[ResourceView]) -> None:
    """Grant companions whose resource is not deployed in the same file (a vault declared
    `existing`, or deployed elsewhere): one finding per resource they grant on, at the first."""
    groups: dict[str, list] = {}
    for v in views:
        found = grant_of(v)
        if found is None:
            continue
        n = found[2].grants(v)
        if n:
            groups.setdefault(v.parent()[0], []).append((v, found, n))
    for key, items in groups.items():
        v, (rule, sw, comp), _ = items[0]
        total = sum(n for *_, n in items)
        _, shown, ref = v.parent()
        label = f"{sw.label} '{short_name(shown)}'" if shown else f"{sw.label} {short_name(ref)}"
        noun = comp.grant_noun.replace("(y|ies)", "y" if total == 1 else "ies")
        message = f"{label} gets {total} {noun} here, so it {rule.accepts}"
        tf = v.fmt in ("tf", "tf-json", "tf-plan")
        path, secure = (sw.azurerm[0].path, sw.azurerm[0].secure) if tf and sw.azurerm else (sw.path, sw.secure)
        syntax = doc_syntax(em.doc) or ("hcl" if v.fmt in ("tf", "azapi") else "json")
        where = v.address or f"{v.type.rsplit('/', 1)[-1]} '{v.own_name() or v.name}'"
        more = f" and {len(items) - 1} more" if len(items) > 1 else ""
        fix = fix_dict(f"Grant each identity {rule.roles} by role assignment instead of {where}{more}, then set "
                       f"{nested(syntax, tuple(path), secure, block=tf)} on the {sw.label.lower()}", "display-only")
        em.issue(rule.code, v.anchor, f"{sw.arm_type}/{key}|{comp.arm_path[-1] if comp.arm_path else comp.tf_type}",
                 message, fix=fix, resource=label)


def _switch_companion(view: ResourceView) -> tuple | None:
    """(rule, switch, companion) when the view is a companion that can turn a switch off (not a
    grant)."""
    tf = view.fmt in ("tf", "tf-json", "tf-plan")
    t = view.type if tf else view.type.lower()
    for rules in index()[0].values():
        for rule, sw in rules:
            for c in sw.companions:
                if c.grants is None and (c.tf_type == t if tf else (c.arm_type or "").lower() == t):
                    return rule, sw, c
    return None


def check_alone(em: Any, views: list[ResourceView]) -> None:
    """Companions that can turn a switch off (SQL `azureADOnlyAuthentications`, MySQL
    `aad_auth_only`) deployed without their resource in the same file (the server is deployed
    elsewhere, or declared `existing`): one that writes the value leaving keys or passwords on is
    reported where it writes it; a secure, absent or unknown value says nothing."""
    for v in views:
        found = _switch_companion(v)
        if found is None:
            continue
        rule, sw, comp = found
        tf = v.fmt in ("tf", "tf-json", "tf-plan")
        verdict = _companion(v, sw, tf)
        if not isinstance(verdict, tuple):
            continue
        path, secure, val = verdict
        _, shown, _ = v.parent()
        where = v.address or f"{v.type.rsplit('/', 1)[-1]} '{v.own_name() or v.name}'"
        label = f"{sw.label} '{short_name(shown)}'" if shown else f"The {sw.label} of {short_name(where, 60)}"
        setting = comp.name or path[-1]
        message = f"{label} {rule.accepts} ({setting}: {_brief(_shown(val.value))})"
        fix = render_fix(em, v, sw, path, secure, val, rule, tf)
        em.issue(rule.code, val.path, f"{sw.arm_type}/{v.parent()[0]}|{setting}", message, fix=fix, resource=label)


def _merged(messages: list[str]) -> str:
    """Fix messages that differ in one word said once: `Set a = false` and `Set b = false` ->
    `Set a and b = false`; else joined with "; "."""
    if len(messages) < 2 or len(set(messages)) == 1:
        return messages[0] if messages else ""
    first, last = min(messages), max(messages)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[: first.rfind(" ", 0, n + 1) + 1]
    m = 0
    while m < min(len(first), len(last)) - len(prefix) and first[-1 - m] == last[-1 - m]:
        m += 1
    cut = [s[len(prefix):] for s in messages]
    tail = cut[0][len(cut[0]) - m:]
    space = tail.find(" ")
    suffix = tail[space:] if space >= 0 else ""
    middles = [c[: len(c) - len(suffix)] if suffix else c for c in cut]
    if len(prefix) + len(suffix) < 8 or any(" " in mid.strip() for mid in middles) \
            or any(s != prefix + mid + suffix for s, mid in zip(messages, middles)):
        return "; ".join(messages)
    return prefix + " and ".join(middles) + suffix


def _settings(names: list[str]) -> str:
    """`a/ftp+scm` for `a/ftp` and `a/scm`; else the names joined by commas."""
    heads = {n.rpartition("/")[0] for n in names}
    if len(heads) == 1 and "" not in heads:
        return f"{heads.pop()}/" + "+".join(n.rpartition("/")[2] for n in names)
    for sep in ("_", " "):  # ftp_publish_..._enabled and webdeploy_publish_..._enabled; ftp policy and scm policy
        tails = {n.partition(sep)[2] for n in names}
        if len(tails) == 1 and "" not in tails:
            return "+".join(n.partition(sep)[0] for n in names) + sep + tails.pop()
    return ", ".join(names)


def _brief(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: Any) -> str:
    value = truthy(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(x) for x in value) + "]"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _api_note(view: ResourceView, tf: bool) -> str:
    if tf:
        return ""
    return f" for API version {view.api_version}" if view.api_version else ""


# ---- the renderer ---------------------------------------------------------------------------------

def doc_syntax(doc: Any) -> str:
    """How a setting is written in this document: json, bicep or hcl ('' when we do not edit it)."""
    kind = getattr(doc, "kind", "")
    if kind == "json":
        return "json"
    if kind == "hcl":
        return "hcl"
    if kind == "bicep" or str(getattr(doc, "relpath", "")).lower().endswith(".bicep"):
        return "bicep"
    return ""


def literal(syntax: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if syntax == "bicep":
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return json.dumps(value)
    if isinstance(value, list) and syntax == "bicep":
        return "[" + ", ".join(literal(syntax, x) for x in value) + "]"
    return json.dumps(value)


def member(syntax: str, name: str, value: Any) -> str:
    if syntax == "json":
        return f"{json.dumps(name)}: {literal(syntax, value)}"
    if syntax == "bicep":
        return f"{name}: {literal(syntax, value)}"
    return f"{name} = {literal(syntax, value)}"


def nested(syntax: str, names: tuple[str, ...], value: Any, block: bool = False) -> str:
    """`a.b.c = value` as nested objects in one line of the given syntax (HCL `block`: blocks)."""
    text = member(syntax, names[-1], value)
    for name in reversed(names[:-1]):
        if syntax == "json":
            text = f"{json.dumps(name)}: {{{text}}}"
        elif syntax == "bicep":
            text = f"{name}: {{ {text} }}"
        else:
            text = f"{name} {{ {text} }}" if block else f"{name} = {{ {text} }}"
    return text


def render_fix(em: Any, view: ResourceView, sw: Switch, path: tuple[str, ...], secure: Any, v: Value, rule: Any,
               tf: bool) -> dict:
    """The edit that turns keys off: replace a literal, or insert the member into the object that
    should hold it. Unsafe (remaining key users break); display-only where the value comes from a
    parameter, a variable or an expression, or the object is not written out."""
    syntax = doc_syntax(em.doc)
    text = (sw.tf_fix_text if tf else sw.arm_fix_text) or sw.fix_text
    if text and not (v.state == "set" and v.literal):
        if "{setting}" in text and sw.companions:  # the companion's setting, in this file's syntax
            c = sw.companions[0]
            text = text.replace("{setting}", nested(syntax or "json", c.arm_path, c.secure))
        return fix_dict(text + rule.fix_note, "display-only")
    block = tf and view.fmt != "azapi"
    snippet = nested(syntax or ("hcl" if view.fmt in ("tf", "azapi") else "json"),
                     tuple(view.written_path(path)), secure, block=block)
    message = f"Set {snippet}{rule.fix_note}"
    edits = None
    if syntax and view.fmt != "tf-plan":
        if v.state == "set" and v.literal:
            sp = em.span(v.path, first_line=False)
            if sp is not None and sp.start.line == sp.end.line:
                edits = [[sp.start.line, sp.start.column, sp.end.line, sp.end.column, literal(syntax, secure)]]
        elif v.state == "absent":
            edits = _insertion(em, view, path, secure, syntax, block)
    if v.state == "set" and not v.literal and v.note:
        message += f" where it is set{v.note}"
    return fix_dict(message, "unsafe" if edits else "display-only", edits)


def _insertion(em: Any, view: ResourceView, path: tuple[str, ...], secure: Any, syntax: str, block: bool
               ) -> list | None:
    found = view.container(path)
    if found is None:
        return None
    obj_path, missing = found
    if not missing or len(missing) > 1 and block:
        return None  # a missing Terraform block may need other settings (an Entra admin): say, do not write
    sp = em.span(obj_path, first_line=False)
    if sp is None or sp.end.line <= sp.start.line:
        return None  # a one-line object: no line to add
    doc = em.doc
    text = nested(syntax, missing, secure, block=block)
    first = doc.lines.line_text(sp.start.line)
    if syntax == "hcl":
        # before the closing brace, on its own line
        close = doc.lines.line_text(sp.end.line)
        if close.strip() != "}":
            return None
        indent = _indent(close) + "  "
        return [[sp.end.line, 1, sp.end.line, 1, f"{indent}{text}\n"]]
    # JSON and Bicep: right after the opening brace
    col = sp.start.column
    if first[col - 1:col] != "{" or first[col:].strip():
        return None
    nxt = doc.lines.line_text(sp.start.line + 1)
    empty = nxt.strip().startswith("}")
    indent = _indent(nxt) if not empty else _indent(first) + "  "
    comma = "," if syntax == "json" and not empty else ""
    return [[sp.start.line, col + 1, sp.start.line, col + 1, f"\n{indent}{text}{comma}"]]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]
