"""Terraform module calls followed: a local `module "x" { source = "./modules/storage" ... }` is
walked with the values its caller passes, like a Bicep module (`bicepfacts.py`).

A module directory is linted on its own with its variables' defaults. A caller walks each of the
module's files again, with the caller's arguments as the variables' values (a literal after the
caller's own `var.*`/`local.*` are resolved, or a reference to a resource; anything else is
unknown) and the defaults for the variables it does not pass; tfvars files are the root module's
only, so they do not count inside a module. A finding or role fact that walk produces which the
module alone also produces (same rule at the same place) stays the module's and is reported
once. Any other one was decided by the caller: it is reported in the caller's file, at the
argument passing the variable the decisive value is read from (else at the `module` block), with
the module chain in the message and the fix display-only (the edit would be in the module). The
module's own facts that no call of it from the repository's top-level files reproduces are
dropped by the project model (`model.superseded_module_facts`), as for Bicep.

Only local sources (`./`, `../`) inside the scan are followed; registry, git and URL sources are
unknown. Chains are cut at MAX_DEPTH modules and at a cycle; a `module` block with `count = 0` is
not followed. Every file read is a cache dependency of the caller (`doc.workspace`).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from keyless.linter.messages import fit
from keyless.linter.rule import Fact
from keyless.linter.workspace import join, reldir_of
from keyless.rules.iac.common import Emitter, Ref, secretish_name, tool_token_or_credential
from keyless.rules.iac.facts import bare, span_to_list, via_notes, with_note

MAX_DEPTH = 4  # modules followed below a caller
MODULE_FACT = "iac.bicep-module"  # the project model's module-deployment fact (shared with Bicep)
_META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on", "lifecycle"})
_VAR_RE = re.compile(r"(?<![\w.-])var\.([A-Za-z_][\w-]*)")
_FOLLOWED = ("iac.issue", "iac.role")


def local_source(source: Any) -> bool:
    return isinstance(source, str) and not isinstance(source, Ref) and source.startswith(("./", "../"))


def module_dir(caller_relpath: str, source: str) -> str | None:
    """The scan-relative directory a local source names from the caller's file; None when it
    climbs above where the caller's own path starts (the scanned tree)."""
    if "\\" in source or "://" in source:
        return None
    target = posixpath.normpath(join(reldir_of(caller_relpath), source.rstrip("/")))
    if target == ".":
        return ""
    if _ups(target) > _ups(caller_relpath) or target.startswith("/") != caller_relpath.startswith("/"):
        return None
    return target


def _ups(path: str) -> int:
    n = 0
    while path.startswith("../") or path == "..":
        n, path = n + 1, path[3:]
    return n


def follow_module_calls(ex: Any, root: Any) -> None:
    """Walk every local module the document at `ex` calls (see the module docstring)."""
    from keyless.rules.iac.terraform import TDict

    ws = ex.doc.workspace
    if ws is None or ex.fmt not in ("tf", "tf-json") or len(ex.chain) > MAX_DEPTH:
        return
    for name, body in ex.iter_blocks1(root, "module"):
        if not isinstance(body, TDict) or body.get("count") == 0 or not local_source(body.get("source")):
            continue
        target = module_dir(ex.doc.relpath, body["source"])
        if target is None or target in ex.chain:
            continue  # outside the scan, or a cycle
        inputs = caller_inputs(ex, body)
        names = sorted(n for n in ws.names(target) if n.endswith((".tf", ".tf.json")) and not _override(n))
        for fname in names:
            child = ws.load(join(target, fname))
            if child is None or not child.ensure_parsed() or not child.values:
                continue
            walk_module_file(ex, name, body, child, inputs, target)


def _override(name: str) -> bool:
    stem = name[:-len(".tf.json")] if name.endswith(".tf.json") else name[:-len(".tf")]
    return stem == "override" or stem.endswith("_override")


def caller_inputs(ex: Any, body: Any) -> dict[str, tuple[Any, frozenset[str]] | None]:
    """The caller's arguments as the module's variable values: (value, where it came from), or
    None when it is not a literal (or a plain resource reference)."""
    from keyless.rules.iac.terraform import TDict, TList, plain

    ex.resolve_refs(body, module=True)
    inputs: dict[str, tuple[Any, frozenset[str]] | None] = {}
    for arg, value in body.items():
        if arg in _META_ARGUMENTS or not isinstance(arg, str):
            continue
        if secretish_name(arg) and not isinstance(value, bool):
            inputs[arg] = None  # a secret's value never travels into the module's facts
            continue
        origin = ex.origins.get(body.p(arg)) or frozenset({f"the value passed for {arg}"})
        if isinstance(value, Ref):
            # a resource, data source or module output stays a reference; expressions are unknown
            plain_ref = re.fullmatch(r"(?:data\.)?[a-z][\w-]*\.[\w-]+(?:\[[^\]]*\])?(?:\.[\w-]+)+", value.strip())
            inputs[arg] = (Ref(value.strip()), frozenset()) if plain_ref and not value.startswith(
                ("var.", "local.", "module.", "each.", "count.", "path.", "terraform.")) else None
        elif isinstance(value, (TDict, TList)):
            v = plain(value)
            inputs[arg] = None if _has_expression(v) else (v, origin)
        elif isinstance(value, str) and tool_token_or_credential(value):
            inputs[arg] = None
        else:
            inputs[arg] = (value, origin)
    return inputs


def _has_expression(v: Any, depth: int = 0) -> bool:
    if depth > 20:
        return True
    if isinstance(v, dict):
        return any(_has_expression(x, depth + 1) for x in v.values())
    if isinstance(v, list):
        return any(_has_expression(x, depth + 1) for x in v)
    return isinstance(v, Ref) or isinstance(v, str) and tool_token_or_credential(v)


def walk_module_file(ex: Any, call: str, body: Any, child: Any, inputs: dict, target: str) -> None:
    from keyless.rules.iac.terraform import TerraformExtractor

    fmt = "tf-json" if child.relpath.endswith(".tf.json") else "tf"
    chain = ex.chain + (target,)
    sub = Emitter(child)
    walker = TerraformExtractor(sub, fmt, inputs=inputs, chain=chain)
    walker.module(child.values[0])
    # The module's file alone, with its defaults. Not the memoized `extract(child)`: what it reads
    # is recorded as this caller's dependencies, and must stay the module file's own when it is
    # linted itself.
    alone = child.workspace.derived(("tf-module-alone", child.relpath, chain), lambda: _alone(child, fmt, chain)) \
        if child.workspace is not None else _alone(child, fmt, chain)
    own = {_identity(f) for f in alone}
    here = {_identity(f) for f in sub.facts if f.kind in _FOLLOWED}
    em = ex.em
    em.add(MODULE_FACT, {"target": child.relpath,
                         "unreproduced": sorted({fact_id(f) for f in alone if _identity(f) not in here})})
    for fact in sub.facts:
        if fact.kind == MODULE_FACT:  # a deeper module, called from this file's walk
            em.facts.append(Fact(fact.kind, em.relpath, fact.data))
        elif fact.kind in _FOLLOWED and _identity(fact) not in own:
            em.facts.append(rehome(ex, call, body, child, walker, fact))


def _alone(child: Any, fmt: str, chain: tuple[str, ...]) -> list[Fact]:
    from keyless.rules.iac.terraform import TerraformExtractor

    own_walk = Emitter(child)
    TerraformExtractor(own_walk, fmt, chain=chain).module(child.values[0])  # the same modules followed
    return [f for f in own_walk.facts if f.kind in _FOLLOWED]


def rehome(ex: Any, call: str, body: Any, child: Any, walker: Any, fact: Fact) -> Fact:
    """A fact of the module's walk, reported in the caller's file."""
    data = dict(fact.data)
    arg = decisive_argument(walker, fact, body)
    span = ex.em.span(body.p(arg) if arg else body.path)
    via = [[call, child.relpath]] + list(data.get("via") or [])
    named = arg and f"'{arg}'" not in str((data.get("fix") or {}).get("message", ""))
    note, full = via_notes(via, arg if named else None)
    old_note, old_full = data.get("via_note", ""), data.get("via_full", "")
    data["via"], data["via_note"], data["via_full"] = via, note, full
    data["span"] = span_to_list(span)
    if "key" in data:
        data["key"] = f"module {call}|{data['key']}"
    said = f" (from the value passed for {arg})" if arg else ""  # the chain note says it now
    if said:
        for k in ("message", "role_note"):
            if isinstance(data.get(k), str):
                data[k] = data[k].replace(said, "")
        if data.get("fix") and isinstance(data["fix"].get("message"), str):
            data["fix"] = {**data["fix"], "message": data["fix"]["message"].replace(said, "")}
    if fact.kind == "iac.issue":
        message = data["message"].replace(old_note, "", 1) if old_note else data["message"]
        data["message"], data["via_note"] = with_note(message, note)
        if data.get("fix"):
            fix_message = data["fix"]["message"]
            fix_message = fix_message.replace(old_full, "", 1) if old_full else fix_message
            data["fix"] = {**data["fix"], "applicability": "display-only", "edits": [],
                           "message": fit(fix_message.rstrip("."), [bare(full)])}
    elif fact.kind == "iac.role":
        role_note = data.get("role_note", "")
        data["role_note"] = (role_note.replace(old_full, "", 1) if old_full else role_note) + full
    return Fact(fact.kind, ex.em.relpath, data)


def decisive_argument(walker: Any, fact: Fact, body: Any) -> str | None:
    """The caller argument the module-side value at the fact's position is read from: a
    `var.<name>` written there (or in the local it names) that the caller passes."""
    span = fact.data.get("span")
    if not span:
        return None
    for path, written in walker.unresolved.items():
        sp = walker.em.span(path)
        if sp is None or [sp.start.line, sp.start.column] != list(span[:2]):
            continue
        for name in _VAR_RE.findall(str(written)) + walker.variables_behind(written):
            if name in body and name not in _META_ARGUMENTS:
                return name
    return None


def _identity(fact: Fact) -> tuple:
    from keyless.rules.iac.bicepfacts import _identity as identity

    return identity(fact)


def fact_id(fact: Fact) -> str:
    from keyless.rules.iac.bicepfacts import fact_id as fid

    return fid(fact)
