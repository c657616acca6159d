"""Secrets that only the structure of a template names: literal values of Terraform and ARM.

The raw scan reads `NAME = value`; in infrastructure code the name that says what a value is often
sits elsewhere: the resource type (`administrator_password` of an
`azurerm_postgresql_flexible_server`), the variable or parameter a default belongs to
(`variable "sql_admin_password" { default = "..." }`, `"defaultValue"` of an ARM parameter, the
`"value"` of a parameter file), the backend block (`backend "azurerm" { access_key = ... }`, a
`*.tfbackend` file). `literals(doc)` walks the parsed document and yields each literal string with
what says what it is:

- `("db", service, setting)`: a database administrator password (SQL, Synapse, PostgreSQL, MySQL,
  MariaDB, Cosmos DB for MongoDB vCore), by the resource type or by a parameter/variable that such
  a resource reads (or whose name says it, `administratorLoginPassword`);
- `("backend", field, setting)`: `access_key`, `sas_token`, `client_secret` of an azurerm backend;
- `("named", name, setting)`: any other variable default / parameter value, to be judged by its
  name like any assignment.

Expressions (`${...}`, `[parameters(...)]`, references, Key Vault references) are never literals.
Spans are the string's characters, quotes excluded.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

if TYPE_CHECKING:
    from keyless.linter.documents import Document

# Terraform azurerm resource type -> (database service, password attribute paths).
TF_DB_PASSWORDS: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "azurerm_mssql_server": ("sql", (("administrator_login_password",),)),
    "azurerm_sql_server": ("sql", (("administrator_login_password",),)),
    "azurerm_mssql_managed_instance": ("sql", (("administrator_login_password",),)),
    "azurerm_sql_managed_instance": ("sql", (("administrator_login_password",),)),
    "azurerm_mssql_database": ("sql", (("administrator_login_password",),)),
    "azurerm_synapse_workspace": ("sql", (("sql_administrator_login_password",),)),
    "azurerm_data_factory_integration_runtime_azure_ssis": ("sql", (("catalog_info", "administrator_password"),)),
    "azurerm_postgresql_server": ("postgres", (("administrator_login_password",),)),
    "azurerm_postgresql_flexible_server": ("postgres", (("administrator_password",),)),
    "azurerm_cosmosdb_postgresql_cluster": ("postgres", (("administrator_login_password",),)),
    "azurerm_mysql_server": ("mysql", (("administrator_login_password",),)),
    "azurerm_mysql_flexible_server": ("mysql", (("administrator_password",),)),
    "azurerm_mariadb_server": ("mysql", (("administrator_login_password",),)),
    "azurerm_mongo_cluster": ("mongo", (("administrator_password",),)),
}

# ARM resource type (lower case) -> (database service, property paths).
ARM_DB_PASSWORDS: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "microsoft.sql/servers": ("sql", (("properties", "administratorLoginPassword"),)),
    "microsoft.sql/managedinstances": ("sql", (("properties", "administratorLoginPassword"),)),
    "microsoft.synapse/workspaces": ("sql", (("properties", "sqlAdministratorLoginPassword"),)),
    "microsoft.dbforpostgresql/servers": ("postgres", (("properties", "administratorLoginPassword"),)),
    "microsoft.dbforpostgresql/flexibleservers": ("postgres", (("properties", "administratorLoginPassword"),)),
    "microsoft.dbforpostgresql/servergroupsv2": ("postgres", (("properties", "administratorLoginPassword"),)),
    "microsoft.dbformysql/servers": ("mysql", (("properties", "administratorLoginPassword"),)),
    "microsoft.dbformysql/flexibleservers": ("mysql", (("properties", "administratorLoginPassword"),)),
    "microsoft.dbformariadb/servers": ("mysql", (("properties", "administratorLoginPassword"),)),
    "microsoft.documentdb/mongoclusters": ("mongo", (("properties", "administratorLoginPassword"),
                                                     ("properties", "administrator", "password"))),
}

# Property / attribute names that are an Azure database administrator's password wherever they
# appear (variables and parameters named after them).
DB_PASSWORD_NAMES = {"administratorloginpassword": "sql", "sqladministratorloginpassword": "sql"}
_DB_WORDS = (("postgres", "postgres"), ("pgsql", "postgres"), ("mysql", "mysql"), ("mariadb", "mysql"),
             ("synapse", "sql"), ("mssql", "sql"), ("sql", "sql"), ("database", "sql"), ("db", "sql"))
_PASSWORD_WORDS = ("password", "passwd", "pwd")

BACKEND_FIELDS = ("access_key", "sas_token", "client_secret")
_BACKEND_MARKERS = ("storage_account_name", "container_name")

_TF_VAR_RE = re.compile(r"\$\{\s*var\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}")
_ARM_PARAM_RE = re.compile(r"^\[\s*parameters\s*\(\s*'([^']+)'\s*\)\s*\]$", re.I)


class Literal(NamedTuple):
    what: str  # db | backend | named
    detail: str  # db: service; backend: field; named: the name
    setting: str  # how the value is named in messages
    start: int
    end: int
    value: str


def db_service_of_name(name: str) -> str | None:
    """A parameter / variable name that says "database password" (`sql_admin_password`)."""
    norm = name.lower().replace("_", "").replace("-", "")
    if norm in DB_PASSWORD_NAMES:
        return DB_PASSWORD_NAMES[norm]
    if not any(w in norm for w in _PASSWORD_WORDS):
        return None
    for word, service in _DB_WORDS:
        if word in norm:
            return service
    return None


def _span(doc: "Document", path: tuple, value: str) -> tuple[int, int] | None:
    span = doc.locate(path)
    if span is None:
        return None
    start, end = doc.lines.offset(span.start), doc.lines.offset(span.end)
    raw = doc.text[start:end]
    if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
        start, end = start + 1, end - 1
    if doc.text[start:end] != value:
        return None  # escapes or a heredoc: the characters are not the value one to one
    return start, end


def _get(node: Any, path: tuple[str, ...]) -> tuple[Any, tuple] | None:
    """Follow `path` through dicts (HCL blocks appear as lists of one dict)."""
    doc_path: tuple = ()
    for name in path:
        while isinstance(node, list) and len(node) == 1:
            node = node[0]
            doc_path += (0,)
        if not isinstance(node, dict) or name not in node:
            return None
        node = node[name]
        doc_path += (name,)
    return node, doc_path


def literals(doc: "Document", named: Callable[[str], bool] = lambda name: True) -> Iterator[Literal]:
    """`named(name)`: whether a variable / parameter that is not a database password is worth
    yielding (locating a value costs more than asking)."""
    if doc.kind == "hcl":
        yield from _hcl(doc, named)
    elif doc.kind == "json" and doc.ensure_parsed() and doc.subkind in ("arm", "arm-parameters"):
        yield from _arm(doc, named)


# ---- Terraform ---------------------------------------------------------------------------------------

def _hcl_literal(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and "${" not in value and "%{" not in value


def _hcl(doc: "Document", named: Callable[[str], bool]) -> Iterator[Literal]:
    if not doc.ensure_parsed() or not doc.values or not isinstance(doc.values[0], dict):
        return
    root = doc.values[0]
    db_vars: dict[str, str] = {}
    # Resources that hold a database password.
    for i, block in enumerate(root.get("resource") or ()):
        if not isinstance(block, dict):
            continue
        for rtype, by_name in block.items():
            spec = TF_DB_PASSWORDS.get(rtype)
            if spec is None or not isinstance(by_name, dict):
                continue
            service, paths = spec
            for rname, body in by_name.items():
                for path in paths:
                    got = _get(body, path)
                    if got is None:
                        continue
                    value, sub = got
                    if isinstance(value, str):
                        m = _TF_VAR_RE.fullmatch(value.strip())
                        if m:
                            db_vars[m.group(1)] = service
                    if _hcl_literal(value):
                        span = _span(doc, (0, "resource", i, rtype, rname, *sub), value)
                        if span:
                            yield Literal("db", service, f"{path[-1]} of {rtype}.{rname}", *span, value)
    # Variable defaults.
    for i, block in enumerate(root.get("variable") or ()):
        if not isinstance(block, dict):
            continue
        for vname, body in block.items():
            if not isinstance(body, dict) or not _hcl_literal(body.get("default")):
                continue
            value = body["default"]
            service = db_vars.get(vname) or db_service_of_name(vname)
            if not service and not named(vname):
                continue
            span = _span(doc, (0, "variable", i, vname, "default"), value)
            if span is None:
                continue
            if service:
                yield Literal("db", service, f"default of var.{vname}", *span, value)
            else:
                yield Literal("named", vname, f"default of var.{vname}", *span, value)
    # backend "azurerm" blocks, and backend configuration files (`*.tfbackend`, `backend.hcl`).
    for i, block in enumerate(root.get("terraform") or ()):
        for j, backend in enumerate((block or {}).get("backend") or () if isinstance(block, dict) else ()):
            if isinstance(backend, dict) and isinstance(backend.get("azurerm"), dict):
                yield from _backend(doc, backend["azurerm"], (0, "terraform", i, "backend", j, "azurerm"))
    if all(isinstance(root.get(k), str) for k in _BACKEND_MARKERS):
        yield from _backend(doc, root, (0,))


def _backend(doc: "Document", body: dict, prefix: tuple) -> Iterator[Literal]:
    for field in BACKEND_FIELDS:
        value = body.get(field)
        if _hcl_literal(value):
            span = _span(doc, (*prefix, field), value)
            if span:
                yield Literal("backend", field, f"{field} of the azurerm backend", *span, value)


# ---- ARM templates and parameter files -----------------------------------------------------------------

def _arm(doc: "Document", named: Callable[[str], bool]) -> Iterator[Literal]:
    if not doc.ensure_parsed() or not doc.values or not isinstance(doc.values[0], dict):
        return
    root = doc.values[0]
    params = root.get("parameters")
    db_params: dict[str, str] = {}
    if doc.subkind == "arm":
        for path, res in _arm_resources(root.get("resources"), ("resources",)):
            rtype = res.get("type")
            spec = ARM_DB_PASSWORDS.get(rtype.lower()) if isinstance(rtype, str) else None
            if spec is None:
                continue
            service, paths = spec
            for prop in paths:
                got = _get(res, prop)
                if got is None or not isinstance(got[0], str) or not got[0]:
                    continue
                value = got[0]
                m = _ARM_PARAM_RE.match(value.strip())
                if m:
                    db_params[m.group(1)] = service
                    continue
                if value.startswith("[") and not value.startswith("[["):
                    continue  # an expression
                span = _span(doc, (0, *path, *got[1]), value)
                if span:
                    yield Literal("db", service, f"{prop[-1]} of {rtype}", *span, value)
    if not isinstance(params, dict):
        return
    member = "defaultValue" if doc.subkind == "arm" else "value"
    for pname, body in params.items():
        if not isinstance(body, dict) or not isinstance(body.get(member), str) or not body[member]:
            continue
        value = body[member]
        if value.startswith("[") and not value.startswith("[["):
            continue
        service = db_params.get(pname) or db_service_of_name(pname)
        if not service and not named(pname):
            continue
        span = _span(doc, (0, "parameters", pname, member), value)
        if span is None:
            continue
        setting = f"{'default' if member == 'defaultValue' else 'value'} of parameter '{pname}'"
        if service:
            yield Literal("db", service, setting, *span, value)
        else:
            yield Literal("named", pname, setting, *span, value)


def _arm_resources(resources: Any, path: tuple, depth: int = 0) -> Iterator[tuple[tuple, dict]]:
    """Every resource of a template, nested `resources` included (not inline nested deployments)."""
    if depth > 8:
        return
    if isinstance(resources, dict):  # languageVersion 2.0: symbolic names
        items = list(resources.items())
    elif isinstance(resources, list):
        items = list(enumerate(resources))
    else:
        return
    for i, res in items:
        if not isinstance(res, dict):
            continue
        yield (*path, i), res
        yield from _arm_resources(res.get("resources"), (*path, i, "resources"), depth + 1)
