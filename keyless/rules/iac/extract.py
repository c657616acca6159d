"""One pass over one document -> every IaC fact (memoized on the document)."""

from __future__ import annotations

import re
from typing import Any

from keyless.linter.finding import Position, Span
from keyless.linter.rule import Fact, mentions
from keyless.rules.iac import roles as R
from keyless.rules.iac.arm import arm_template, guid_mismatch
from keyless.rules.iac.armparams import deployment_body, deployment_body_scenario, looks_like_arm
from keyless.rules.iac.common import Emitter
from keyless.rules.iac.facts import fix_dict

# The Terraform and YAML extractors are imported for the files that need them: an editor's check
# of one file loads one of them.

MEMO_KEY = "keyless.iac.facts"
SCRIPT_KINDS = frozenset({"shell", "powershell", "dockerfile", "makefile"})
EMITTED_KEY = "keyless.iac.emitted"


def extract(doc: Any) -> list[Fact]:
    cached = doc.memo.get(MEMO_KEY)
    if cached is not None:
        return cached
    em = Emitter(doc)
    try:
        _extract(doc, em)
    except RecursionError:
        pass
    facts = _dedupe(em.facts)
    source = compiled_from(doc) if doc.kind == "json" else None
    if source:
        facts = [_from_source(f, source) if f.kind == "iac.issue" else f for f in facts]
        folder = doc.relpath.rsplit("/", 1)[0] + "/" if "/" in doc.relpath else ""
        facts.append(Fact("iac.compiled", doc.relpath, {"source": folder + source}))
    doc.memo[MEMO_KEY] = facts
    return facts


def compiled_from(doc: Any) -> str | None:
    """The `.bicep` file a Bicep-compiled template (`metadata._generator.name: bicep`) was built
    from, when the scan holds it next to the template under the same name (`main.json` and
    `main.bicep`)."""
    name = doc.relpath.rsplit("/", 1)[-1]
    ws = getattr(doc, "workspace", None)
    if not name.lower().endswith(".json") or ws is None or not doc.ensure_parsed() or not doc.values:
        return None
    meta = doc.values[0].get("metadata") if isinstance(doc.values[0], dict) else None
    generator = meta.get("_generator") if isinstance(meta, dict) else None
    if not (isinstance(generator, dict) and generator.get("name") == "bicep"):
        return None
    source = name[:-5] + ".bicep"
    return source if source in ws.names(doc.relpath.rsplit("/", 1)[0] if "/" in doc.relpath else "") else None


def _from_source(f: Fact, source: str) -> Fact:
    """A finding of the compiled template is fixed in its Bicep source: the help says so and
    offers no edit (an edit of generated JSON is lost at the next build)."""
    fix = f.data.get("fix")
    if not fix:
        return f
    message = fix["message"]
    message = f"Fix {source} (this file is built from it) and rebuild: {message[:1].lower()}{message[1:]}"
    return Fact(f.kind, f.path, {**f.data, "fix": fix_dict(message, "display-only")})


def _dedupe(facts: list[Fact]) -> list[Fact]:
    """Identical facts once (an ARM template evaluated with several parameter files repeats the
    ones no parameter changes); done here, per file, so the project model never has to."""
    seen = set()
    out = []
    for f in facts:
        k = (f.kind, f.path, repr(sorted(f.data.items(), key=lambda kv: kv[0])))
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def _extract(doc: Any, em: Emitter) -> None:
    kind = doc.kind
    name = doc.relpath.rsplit("/", 1)[-1].lower()
    if kind == "text":
        if name.endswith((".bicep", ".bicepparam")):
            guid_lines(doc, em)
        return
    if kind in SCRIPT_KINDS:
        from keyless.rules.iac.azcli import script_facts

        if kind == "dockerfile":
            from keyless.rules.iac.ci import dockerfile_settings

            dockerfile_settings(em, doc)
        script_facts(em, doc.scripts())
        return
    if kind == "bicep":
        # A partly unreadable file says so (parse_error) and still yields what was read.
        doc.ensure_parsed()
        if getattr(doc, "program", None) is not None and doc.subkind != "bicepparam":
            from keyless.rules.iac.bicepfacts import bicep_facts

            bicep_facts(doc, em)
        guid_lines(doc, em)
        # One mistake, one finding: a GUID the text scan reports where it is written is not
        # reported again where a role assignment uses it.
        written = {f.data["key"].rsplit("|", 1)[-1] for f in em.facts
                   if f.kind == "iac.issue" and f.data["code"] == "KL403" and f.data["key"].startswith("guid|")}
        if written:
            em.facts[:] = [f for f in em.facts if not (
                f.kind == "iac.issue" and f.data["code"] == "KL403" and not f.data["key"].startswith("guid|")
                and f.data["key"].rsplit("|", 1)[-1] in written)]
        return
    if kind not in ("json", "yaml", "hcl"):
        return
    if not doc.ensure_parsed():
        guid_lines(doc, em)
        return
    values = doc.values
    if kind == "json" and values:
        root = values[0]
        sub = getattr(doc, "subkind", "") or ""
        if sub == "arm" or (not sub and looks_like_arm(root)):
            arm_template(em, root)
        elif not sub and (wrapped := deployment_body(root)) is not None:
            arm_template(em, wrapped, deployment_body_scenario(doc.name, root, wrapped), path=(0, "properties", "template"))
        elif sub == "tf-plan" or (not sub and isinstance(root, dict) and ("resource_changes" in root or "planned_values" in root)):
            from keyless.rules.iac.terraform import TerraformExtractor

            TerraformExtractor(em, "tf-plan").plan(root)
        elif sub == "tf-json" or (not sub and name.endswith(".tf.json")):
            from keyless.rules.iac.terraform import TerraformExtractor

            TerraformExtractor(em, "tf-json").module(root)
    elif kind == "hcl" and values:
        if getattr(doc, "subkind", "") != "tfvars" and not name.endswith(".tfvars"):
            from keyless.rules.iac.terraform import TerraformExtractor

            TerraformExtractor(em, "tf").module(values[0])
    elif kind == "yaml":
        from keyless.rules.iac.yamlfmt import yaml_document

        subs = getattr(doc, "subkinds", None) or []
        for i, d in enumerate(values):
            sub = subs[i] if i < len(subs) else ""
            yaml_document(em, i, d, sub)
            if sub in ("compose", "pipeline", "") and isinstance(d, dict):
                from keyless.rules.iac import ci

                if sub == "compose":
                    ci.compose(em, i, d)
                else:
                    flavor = ci.ci_flavor(doc.relpath, d)
                    if flavor is not None:
                        ci.workflow(em, i, d, flavor)
    guid_lines(doc, em)


# ---- KL403: a role GUID next to a different role's name ----------------------------------------------

_COMMENT_RE = re.compile(r"(?:^|\s)(?://|#)(.*)$")
_LHS_RE = re.compile(r"""^\s*(?:var\s+|param\s+|let\s+|const\s+|export\s+)?["']?([A-Za-z_][\w.-]*)["']?\s*[:=]""")


def guid_lines(doc: Any, em: Emitter) -> None:
    if not mentions(doc, "role"):  # ("roledefinition" holds it too)
        return
    already = {(f.data["span"][0]) for f in em.facts if f.kind == "iac.issue" and f.data["code"] == "KL403"}
    # One pass over the text for GUIDs, then only their lines (most lines hold none).
    per_line: dict[int, int] = {}
    for start, _ in R.guid_spans(doc.text):
        n = doc.lines.position(start).line
        per_line[n] = per_line.get(n, 0) + 1
    for n, count in per_line.items():
        line = doc.lines.line_text(n)
        if count != 1 or n in already or len(line) > 400:
            continue
        m = R.GUID_RE.search(line)
        guid = m.group(0).lower()
        role = R.NAME_BY_GUID.get(guid)
        rest = line[: m.start()] + line[m.end():]
        cm = _COMMENT_RE.search(rest)
        comment = cm.group(1) if cm and doc.kind != "json" else ""
        lhs = _LHS_RE.match(line)
        hint = R.role_named_in(comment) if comment.strip() else None
        if hint is None and lhs and m.start() > lhs.end() - 1:
            ident = lhs.group(1)
            if re.search(r"role|pull|push|owner|contributor|reader|user|admin|sender|receiver", ident, re.I):
                hint = R.role_named_in(ident)
        if hint is None:
            continue
        msg = guid_mismatch(guid, role, hint)
        if not msg:
            continue
        col = len(line[: m.start()]) + 1
        sp = Span(Position(n, col), Position(n, col + len(m.group(0))))
        em.issue("KL403", (), f"guid|{hint}|{guid}", msg, severity="high", span=sp,
                 fix=fix_dict(f"Use the GUID of '{hint}': {R.ROLES[hint]}.", "unsafe",
                              [[n, col, n, col + len(m.group(0)), R.ROLES[hint]]]) if role is None else
                 fix_dict(f"Use the GUID of '{hint}' ({R.ROLES[hint]}) or correct the name to '{role}'.", "display-only"))
