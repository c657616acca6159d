"""ARM parameter files: which ones deploy a template, and the values they pass it.

A template is linted once with its own defaults and once more per parameter file that deploys
it (one deployment scenario each). Parameter files are companions read through
`doc.workspace`, so a template's cached result is invalidated when one of them changes or
appears.

A parameter file is JSON whose `$schema` names `deploymentParameters.json`. For template
`X.json` (names compared case-insensitively) these in the same directory deploy it:
`X.parameters.json`, `X.parameters.<env>.json` and `X.<env>.parameters.json` (which covers
`azuredeploy.parameters.json` and `main.parameters.json`), and any parameter file when the
directory holds exactly one template. A candidate counts only if every parameter it sets is
declared by the template.

Only literal values are used. Key Vault `reference` entries, strings that look like a
placeholder substituted by a tool (`${AZURE_LOCATION}` for azd, `$(var)`, `#{token}#`,
`{{ value }}`), expressions and anything that may be a credential are UNKNOWN, and so are the
template's secure or secret-named parameters: a secret never enters evaluation, so it cannot
reach a fact or a message. Bicep templates get their scenarios the same way from `.bicepparam`
files and `main.parameters.json` (`bicepfacts.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keyless.linter.rule import text_lower
from keyless.linter.workspace import join, reldir_of
from keyless.rules.iac.common import secretish_name, tool_token_or_credential
from keyless.rules.iac.expr import UNKNOWN, is_expression

PARAMETERS_SCHEMA = "deploymentparameters.json"
# A directory with more JSON files than this is a collection (of samples, policies...): only
# parameter files named after the template are looked at, nothing else there is read.
MAX_DIRECTORY_JSON = 40
SECURE_TYPES = ("securestring", "secureobject")



@dataclass(frozen=True)
class Scenario:
    file_name: str
    values: dict[str, Any]  # lower-case parameter name -> literal value or UNKNOWN


@dataclass(frozen=True)
class DirectoryFiles:
    templates: tuple[str, ...]
    parameter_files: dict[str, dict[str, Any]]  # file name -> its values


def looks_like_arm(root: Any) -> bool:
    if not isinstance(root, dict):
        return False
    schema = str(root.get("$schema", "")).lower()
    return "deploymenttemplate" in schema or ("resources" in root and ("contentVersion" in root or "$schema" in root))


def deployment_body(root: Any) -> dict | None:
    """The template a deployment body holds (`{"properties": {"template": {...}, "parameters":
    {...}}}`: what `az deployment ... show` prints, a deployment REST request, an exported
    deployment), when it looks like an ARM template; else None."""
    if not isinstance(root, dict) or "resources" in root:
        return None
    props = root.get("properties")
    tmpl = props.get("template") if isinstance(props, dict) else None
    return tmpl if looks_like_arm(tmpl) else None


def deployment_body_scenario(file_name: str, root: dict, template: dict) -> list[Scenario]:
    """The values a deployment body passes its template, as one scenario (literal values only)."""
    values = parameter_file_values(root["properties"])
    return scenarios_from(template, {file_name: values}) if values else []


def is_parameter_file(root: Any) -> bool:
    return isinstance(root, dict) and PARAMETERS_SCHEMA in str(root.get("$schema", "")).lower()


def literal_value(value: Any, depth: int = 0) -> Any:
    """A parameter file's value as evaluation may use it, or UNKNOWN."""
    if depth > 20:
        return UNKNOWN
    if isinstance(value, str):
        # `${AZURE_LOCATION}`: azd fills parameter files in at deploy time.
        if is_expression(value) or "${" in value or tool_token_or_credential(value):
            return UNKNOWN
        return value
    if isinstance(value, list):
        items = [literal_value(v, depth + 1) for v in value]
        return UNKNOWN if any(v is UNKNOWN for v in items) else items
    if isinstance(value, dict):
        entries = {k: literal_value(v, depth + 1) for k, v in value.items()}
        return UNKNOWN if any(v is UNKNOWN for v in entries.values()) else entries
    return value


def parameter_file_values(root: dict) -> dict[str, Any]:
    params = root.get("parameters")
    if not isinstance(params, dict):
        return {}
    out: dict[str, Any] = {}
    for name, entry in params.items():
        given = isinstance(entry, dict) and "value" in entry and "reference" not in entry
        out[name.lower()] = literal_value(entry["value"]) if given else UNKNOWN
    return out


def is_named_parameter_file(template_name: str, name: str) -> bool:
    """`X.parameters.json`, `X.parameters.<env>.json` or `X.<env>.parameters.json` for `X.json`."""
    stem, low = template_name.lower(), name.lower()
    if not stem.endswith(".json") or not low.endswith(".json"):
        return False
    stem = stem[:-5]
    if not low.startswith(stem + "."):
        return False
    middle = low[len(stem) + 1:-5].split(".")
    return middle == ["parameters"] or (len(middle) == 2 and "parameters" in middle and all(middle))


def _classify(doc: Any) -> tuple[str, dict[str, Any] | None]:
    """("template", None), ("parameters", values) or ("", None) for a companion document."""
    if doc is None or doc.kind != "json":
        return "", None
    low = text_lower(doc)  # a text check first: most JSON next to a template is neither, and stays unparsed
    if PARAMETERS_SCHEMA in low and doc.ensure_parsed() and is_parameter_file(doc.values[0]):
        return "parameters", parameter_file_values(doc.values[0])
    if "resources" in low and doc.ensure_parsed():
        root = doc.values[0]
        if doc.subkind == "arm" or (not doc.subkind and looks_like_arm(root)):
            return "template", None
    return "", None


def _directory(ws: Any, reldir: str) -> DirectoryFiles | None:
    names = sorted(n for n in ws.names(reldir) if n.lower().endswith(".json"))
    if len(names) > MAX_DIRECTORY_JSON:
        return None
    templates: list[str] = []
    parameter_files: dict[str, dict[str, Any]] = {}
    for name in names:
        kind, values = _classify(ws.load(join(reldir, name)))
        if kind == "template":
            templates.append(name)
        elif kind == "parameters" and values is not None:
            parameter_files[name] = values
    return DirectoryFiles(tuple(templates), parameter_files)


def _candidates(ws: Any, reldir: str, own: str) -> dict[str, dict[str, Any]]:
    directory = ws.derived(("keyless.iac.arm-directory", reldir), lambda: _directory(ws, reldir))
    if directory is not None:
        if directory.templates == (own,):
            return dict(directory.parameter_files)
        return {n: v for n, v in directory.parameter_files.items() if is_named_parameter_file(own, n)}
    found: dict[str, dict[str, Any]] = {}
    for name in sorted(ws.names(reldir)):
        if is_named_parameter_file(own, name):
            kind, values = _classify(ws.load(join(reldir, name)))
            if kind == "parameters" and values is not None:
                found[name] = values
    return found


def scenarios(doc: Any, template: dict) -> list[Scenario]:
    """The parameter files that deploy the template `doc` holds, with the values each passes."""
    ws = getattr(doc, "workspace", None)
    if ws is None or not doc.relpath:
        return []
    reldir, own = reldir_of(doc.relpath), doc.relpath.rsplit("/", 1)[-1]
    return scenarios_from(template, _candidates(ws, reldir, own))


def parameter_file(ws: Any, relpath: str) -> dict[str, Any] | None:
    """The values of the ARM parameter file at `relpath`, or None when it is not one."""
    kind, values = _classify(ws.load(relpath))
    return values if kind == "parameters" else None


def scenarios_from(template: dict, candidates: dict[str, dict[str, Any]]) -> list[Scenario]:
    """One scenario per candidate parameter file (file name -> values) that belongs to the
    template: it sets something, and only parameters the template declares. The template's
    secure and secret-named parameters stay UNKNOWN."""
    params = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}
    declared = {name.lower(): (name, p) for name, p in params.items()}
    out = []
    for file_name, values in sorted(candidates.items()):
        if not values or not set(values) <= set(declared):
            continue  # sets nothing, or belongs to another template
        out.append(Scenario(file_name, {
            name: UNKNOWN if _keeps_secret(*declared[name]) else value for name, value in values.items()}))
    return out


def _keeps_secret(name: str, definition: Any) -> bool:
    secure = isinstance(definition, dict) and str(definition.get("type", "")).lower() in SECURE_TYPES
    return secure or secretish_name(name)
