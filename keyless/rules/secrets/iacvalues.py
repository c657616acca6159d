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
- `("entra", name, setting)`: a Terraform variable default that an azurerm / azuread / azapi
  provider block of the module reads as its `client_secret`;
- `("named", name, setting)`: any other variable default / parameter value, to be judged by its
  name like any assignment. `flags` says what the module tells about it: `azure` (the module
  deploys to Azure: an azurerm / azapi / azuread resource, data source or provider in one of its
  files), `read` (a resource or a local of the module uses it; a database administrator password
  is `db` above) and `sensitive` (`sensitive = true`).

A Terraform module is its directory: the resources and providers of its other `.tf` files (read
through `doc.workspace`, so they are cache dependencies) say what a variable default is, as the
ones of the same file do; without a workspace (a history scan) only the file's own count.

Expressions (`${...}`, `[parameters(...)]`, references, Key Vault references) are never literals.
Spans are the string's characters, quotes excluded.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

from keyless.linter.workspace import join, reldir_of

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
_TF_VAR_USE_RE = re.compile(r"(?<![\w.-])var\.([A-Za-z_][A-Za-z0-9_-]*)")
_ARM_PARAM_RE = re.compile(r"^\[\s*parameters\s*\(\s*'([^']+)'\s*\)\s*\]$", re.I)


_AZURE_PROVIDERS = ("azurerm", "azapi", "azuread")
_AZURE_TYPE_PREFIXES = tuple(f"{p}_" for p in _AZURE_PROVIDERS)


class Literal(NamedTuple):
    what: str  # db | backend | entra | named
    detail: str  # db: service; backend: field; entra, named: the name
    setting: str  # how the value is named in messages
    start: int
    end: int
    value: str
    flags: frozenset[str] = frozenset()  # named Terraform defaults: "azure", "sensitive"


class ModuleFacts(NamedTuple):
    """What the Terraform files of a module say about its variables."""

    azure: bool = False  # an azurerm / azapi / azuread resource, data source or provider
    db_vars: tuple[tuple[str, str], ...] = ()  # (variable, database service) read as an admin password
    entra_vars: frozenset[str] = frozenset()  # variables an Azure provider reads as client_secret
    resource_vars: frozenset[str] = frozenset()  # variables a resource or a local reads (anywhere)


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
    elif doc.kind == "bicep" and doc.subkind == "bicepparam":
        yield from _bicepparam(doc, named)


# ---- Terraform ---------------------------------------------------------------------------------------

def _hcl_literal(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and "${" not in value and "%{" not in value


def _bodies(node: Any) -> list[dict]:
    """An HCL block body as the reader gives it (a dict, or a list of dicts)."""
    return [b for b in (node if isinstance(node, list) else [node]) if isinstance(b, dict)]


def _facts(root: Any) -> ModuleFacts:
    """The facts one Terraform file gives about its module's variables."""
    if not isinstance(root, dict):
        return ModuleFacts()
    azure = False
    db_vars: list[tuple[str, str]] = []
    entra: set[str] = set()
    for kind in ("resource", "data"):
        for block in _bodies(root.get(kind)):
            for rtype, by_name in block.items():
                if isinstance(rtype, str) and rtype.startswith(_AZURE_TYPE_PREFIXES):
                    azure = True
                spec = TF_DB_PASSWORDS.get(rtype) if kind == "resource" else None
                if spec is None or not isinstance(by_name, dict):
                    continue
                for body in by_name.values():
                    for path in spec[1]:
                        got = _get(body, path)
                        m = _TF_VAR_RE.fullmatch(got[0].strip()) if got and isinstance(got[0], str) else None
                        if m:
                            db_vars.append((m.group(1), spec[0]))
    for block in _bodies(root.get("provider")):
        for pname, body in block.items():
            if pname not in _AZURE_PROVIDERS:
                continue
            azure = True
            for b in _bodies(body):
                value = b.get("client_secret")
                m = _TF_VAR_RE.fullmatch(value.strip()) if isinstance(value, str) else None
                if m:
                    entra.add(m.group(1))
    for block in _bodies(root.get("terraform")):
        for providers in _bodies(block.get("required_providers")):
            if any(p in providers for p in _AZURE_PROVIDERS):
                azure = True
    read: set[str] = set()
    for kind in ("resource", "locals"):
        _variables_used(root.get(kind), read, 0)
    return ModuleFacts(azure, tuple(db_vars), frozenset(entra), frozenset(read))


def _variables_used(node: Any, out: set[str], depth: int) -> None:
    if depth > 40:
        return
    if isinstance(node, str):
        if "var." in node:
            out.update(_TF_VAR_USE_RE.findall(node))
    elif isinstance(node, dict):
        for v in node.values():
            _variables_used(v, out, depth + 1)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _variables_used(v, out, depth + 1)


def module_facts(doc: "Document") -> ModuleFacts:
    """What the module of a Terraform document (its directory) says about its variables: the
    document's own facts and its sibling `.tf` files' (each read once per process)."""
    own = _facts(doc.values[0] if doc.values else None)
    ws = getattr(doc, "workspace", None)
    if ws is None:
        return own
    azure, db_vars, entra, read = own.azure, list(own.db_vars), set(own.entra_vars), set(own.resource_vars)
    reldir = reldir_of(doc.relpath)
    for name in sorted(ws.names(reldir)):
        relpath = join(reldir, name)
        if not name.endswith(".tf") or relpath == doc.relpath:
            continue
        facts = ws.derived(("secrets.tf-facts", relpath), lambda r=relpath: _file_facts(ws, r))
        azure = azure or facts.azure
        db_vars += facts.db_vars
        entra |= facts.entra_vars
        read |= facts.resource_vars
    return ModuleFacts(azure, tuple(db_vars), frozenset(entra), frozenset(read))


def _file_facts(ws: Any, relpath: str) -> ModuleFacts:
    other = ws.load(relpath)
    if other is None or not other.ensure_parsed() or not other.values:
        return ModuleFacts()
    return _facts(other.values[0])


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
    # Variable defaults, judged with what the whole module says about them.
    module: ModuleFacts | None = None
    module_db: dict[str, str] = {}
    for i, block in enumerate(root.get("variable") or ()):
        if not isinstance(block, dict):
            continue
        for vname, body in block.items():
            if not isinstance(body, dict) or not _hcl_literal(body.get("default")):
                continue
            value = body["default"]
            if module is None:  # the other files of the module, read once for the file's first literal default
                module = module_facts(doc)
                module_db = dict(module.db_vars)
            credential = named(vname)
            if not credential and vname not in db_vars and vname not in module_db and db_service_of_name(vname) is None:
                continue
            name_service = db_service_of_name(vname)
            if name_service and not module.azure and getattr(doc, "workspace", None) is not None:
                name_service = None  # the whole module deploys nothing to Azure: not an Azure database's
            service = db_vars.get(vname) or module_db.get(vname) or name_service
            entra = vname in module.entra_vars
            span = _span(doc, (0, "variable", i, vname, "default"), value)
            if span is None:
                continue
            setting = f"default of var.{vname}"
            if service:
                yield Literal("db", service, setting, *span, value)
            elif entra:
                yield Literal("entra", vname, setting, *span, value)
            else:
                flags = {"azure"} if module.azure else set()
                if body.get("sensitive") is True or str(body.get("sensitive")).lower() == "true":
                    flags.add("sensitive")
                if vname in module.resource_vars:
                    flags.add("read")  # a resource (or a local) of the module uses it: that decides
                yield Literal("named", vname, setting, *span, value, frozenset(flags))
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


def _bicepparam(doc: "Document", named: Callable[[str], bool]) -> Iterator[Literal]:
    """`param name = 'literal'` of a `.bicepparam` file: what an ARM parameter file's `value` is."""
    from keyless.linter.documents import bicep_ast as A

    doc.ensure_parsed()  # what could be read stands even when a region could not
    program = getattr(doc, "program", None)
    for st in program.statements if program is not None else ():
        if not isinstance(st, A.ParamValue) or not isinstance(st.value, A.Str) or not st.value.value:
            continue  # getSecret(), readEnvironmentVariable(), interpolations: not literals
        pname, value = st.name, st.value.value
        service = db_service_of_name(pname)
        if not service and not named(pname):
            continue
        start, end = st.value.span
        if doc.text[start + 1 : end - 1] != value:
            continue  # escapes or a multi-line string: the characters are not the value one to one
        setting = f"value of parameter '{pname}'"
        if service:
            yield Literal("db", service, setting, start + 1, end - 1, value)
        else:
            yield Literal("named", pname, setting, start + 1, end - 1, value)


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
