"""Detection depth (issue #15): encoded and embedded values, Python string building, Terraform and
ARM literals, contexts and names, new credential types, SAS expiry and repetition."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

import keygen as kg
from keyless.linter.documents import make_document
from keyless.linter.finding import Severity
from keyless.rules.secrets import RULES, decoded, formats, pystrings, sas
from keyless.rules.secrets.scanner import classify_name, scan


def findings(text, rel="x.txt"):
    doc = make_document(rel, rel, text)
    out = []
    for r in RULES:
        out.extend(r().check(doc))
    return doc, sorted(out, key=lambda f: (f.span.start.line, f.span.start.column))


def span_text(doc, f):
    return doc.text[doc.lines.offset(f.span.start) : doc.lines.offset(f.span.end)]


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


# ---- decoded views ---------------------------------------------------------------------------------

def test_unescape_maps_every_character_back():
    raw = 'a\\u0026b\\"c%3Dd&amp;e'
    view, offsets = decoded.unescape(raw)
    assert view == 'a&b"c=d&e'
    assert len(offsets) == len(view) + 1 and offsets[-1] == len(raw)
    for i, ch in enumerate(view):
        assert raw[offsets[i] : offsets[i + 1]] in (ch, "\\u0026", '\\"', "%3D", "&amp;")
    assert decoded.unescape("nothing to do") is None
    assert decoded.unescape_view(raw) == view


def test_escaped_sas_is_reported_on_the_raw_characters():
    sig = kg.sas_sig("t1")
    line = f'{{"uri": "https://contoso.blob.core.windows.net/c/b?sv=2021-08-06\\u0026se=2099-01-01\\u0026sr=b\\u0026sp=r\\u0026sig={sig}"}}\n'
    doc, found = findings(line, "rec.json")
    assert [f.code for f in found] == ["KL102"]
    assert span_text(doc, found[0]) == sig
    assert "SAS token, escaped;" in found[0].message


def test_json_escaped_connection_string_inside_json():
    key = kg.legacy_b64(64, "t2")
    inner = json.dumps({"Storage": f"DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={key};EndpointSuffix=core.windows.net"})
    doc, found = findings(json.dumps({"settings": inner}) + "\n", "app.json")
    assert [f.code for f in found] == ["KL101"]
    assert span_text(doc, found[0]) == key


def test_kubernetes_secret_data_is_decoded_and_reported_on_the_encoded_value():
    key = kg.legacy_b64(64, "t3")
    encoded = b64(key)
    text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  azurestorageaccountkey: {encoded}\n"
    doc, found = findings(text, "secret.yaml")
    assert [f.code for f in found] == ["KL101"]
    assert span_text(doc, found[0]) == encoded
    assert "in Secret data)" in found[0].message
    assert key[:6] not in found[0].message  # redacted: 4 characters only


def test_kubernetes_secret_reads_a_password_with_its_encoded_host():
    pw = kg.password("t4")
    text = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: pg\ndata:\n"
            f"  host: {b64('contoso.postgres.database.azure.com')}\n  password: {b64(pw)}\n")
    doc, found = findings(text, "pg.yaml")
    assert [f.code for f in found] == ["KL106"]
    assert span_text(doc, found[0]) == b64(pw) and "PostgreSQL" in found[0].message


def test_configmap_data_is_not_decoded():
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  azurestorageaccountkey: {b64(kg.legacy_b64(64, 't5'))}\n"
    assert findings(text, "cm.yaml")[1] == []


def test_dockerconfigjson_registry_password_only_for_azure_registries():
    pw = kg.legacy_b64(32, "t6")
    for registry, want in (("contoso.azurecr.io", ["KL114"]), ("ghcr.io", [])):
        dcj = json.dumps({"auths": {registry: {"auth": b64("user:" + pw)}}})
        text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: p\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {b64(dcj)}\n"
        assert [f.code for f in findings(text, "pull.yaml")[1]] == want


# ---- Python string building -------------------------------------------------------------------------

def test_string_pieces_lexer():
    src = '''"a" 'b' # comment
    r"c\\d" f"e{x}f" """g"""'''
    pieces = pystrings._pieces(src)
    assert [src[a:b] for a, b, _, _ in pieces] == ["a", "b", "c\\d", "e{x}f", "g"]
    assert pystrings._pieces('"a" + name') is None
    assert pystrings._fstring_placeholders("A={name};B={{x}}") == "A=<xxxx>;B={{x}}"


def test_adjacent_literals_form_one_connection_string_with_exact_positions():
    key = kg.legacy_b64(32, "t7")
    text = ('CONN = ("Endpoint=sb://contoso.servicebus.windows.net/;"\n'
            '        "SharedAccessKeyName=RootManageSharedAccessKey;"\n'
            f'        "SharedAccessKey={key}")\n')
    doc, found = findings(text, "a.py")
    assert [f.code for f in found] == ["KL103"]
    assert span_text(doc, found[0]) == key and found[0].span.start.line == 3
    assert "contoso" in found[0].message


def test_plus_joined_literals_and_f_string_fields():
    pw = kg.password("t8")
    text = ('conn = "Server=tcp:contoso.database.windows.net,1433;" + "User ID=admin;" + '
            f'f"Password={pw};Database={{db}}"\n')
    doc, found = findings(text, "a.py")
    assert [f.code for f in found] == ["KL106"]
    assert span_text(doc, found[0]) == pw


def test_defaults_of_getenv_and_settings_fields():
    keys = [kg.legacy_b64(64, f"t9{i}") for i in range(3)]
    text = (f'a = os.environ.get("AZURE_STORAGE_KEY", "{keys[0]}")\n'
            f'class S(BaseSettings):\n    account_key: str = Field(alias="K", default="{keys[1]}")\n'
            f'    backup_account_key: SecretStr = SecretStr("{keys[2]}")\n')
    doc, found = findings(text, "s.py")
    assert [span_text(doc, f) for f in found] == keys


def test_f_string_replacement_field_is_not_a_resource_name():
    key = kg.legacy_b64(64, "t10")
    _, found = findings(f'c = f"DefaultEndpointsProtocol=https;AccountName={{name}};AccountKey={key}"\n', "a.py")
    assert len(found) == 1 and "'name'" not in found[0].message


# ---- Terraform, ARM, Bicep -----------------------------------------------------------------------------

def test_terraform_database_passwords_by_resource_type_and_variable_reference():
    pws = [kg.password(f"tf{i}") for i in range(3)]
    text = (f'resource "azurerm_mssql_server" "s" {{\n  administrator_login_password = "{pws[0]}"\n}}\n'
            f'resource "azurerm_mysql_flexible_server" "m" {{\n  administrator_password = var.mysql\n}}\n'
            f'variable "mysql" {{\n  default = "{pws[1]}"\n}}\n'
            f'resource "azurerm_linux_virtual_machine" "vm" {{\n  admin_password = "{pws[2]}"\n}}\n')
    doc, found = findings(text, "main.tf")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL106", pws[0]), ("KL106", pws[1])]
    assert "Azure SQL password" in found[0].message and "azurerm_mssql_server.s" in found[0].message
    assert "MySQL password" in found[1].message and "var.mysql" in found[1].message


def test_named_variable_default_after_a_database_resource():
    key = kg.legacy_b64(64, "tfvar")
    text = (f'resource "azurerm_mssql_server" "s" {{\n  administrator_login_password = var.pw\n}}\n'
            f'variable "pw" {{\n  sensitive = true\n}}\n'
            f'variable "storage_account_key" {{\n  default = "{key}"\n}}\n')
    doc, found = findings(text, "main.tf")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL101", key)]
    assert "default of var.storage_account_key" in found[0].message


def test_one_literal_password_gives_one_finding():
    pw = kg.password("one")
    text = f'resource "azurerm_mssql_server" "s" {{\n  administrator_login_password = "{pw}"\n}}\n'
    _, found = findings(text, "main.tf")
    assert len(found) == 1


def test_backend_configuration_file():
    key = kg.legacy_b64(64, "be")
    text = f'storage_account_name = "st"\ncontainer_name = "tfstate"\nkey = "x.tfstate"\naccess_key = "{key}"\n'
    doc, found = findings(text, "prod.tfbackend")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL101", key)]
    # the same attributes without the backend's markers are not a backend
    _, found = findings(f'access_key = "{key}"\n', "other.tfvars")
    assert found == []


def test_arm_template_parameter_default_read_by_a_database_and_parameter_file():
    pw1, pw2 = kg.password("arm1"), kg.password("arm2")
    template = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                "contentVersion": "1.0.0.0",
                "parameters": {"p": {"type": "securestring", "defaultValue": pw1}},
                "resources": [{"type": "Microsoft.Sql/servers", "apiVersion": "2021-11-01", "name": "s",
                               "properties": {"administratorLoginPassword": "[parameters('p')]"}}]}
    doc, found = findings(json.dumps(template, indent=1), "azuredeploy.json")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL106", pw1)]
    params = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
              "contentVersion": "1.0.0.0", "parameters": {"sqlAdministratorLoginPassword": {"value": pw2}}}
    doc, found = findings(json.dumps(params, indent=1), "azuredeploy.parameters.json")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL106", pw2)]


# ---- contexts and names ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,cls", [
    ("DEFAULT_ACCOUNT_KEY", "accountkey"), ("AzureDefaultAccountKey", "accountkey"),
    ("AZUREAD-AKS-APPID-SECRET", "entra"), ("app_secret", "entra-weak"), ("secret", "secret"),
    ("monkey", None), ("AZURE_MANAGEMENT_API_KEY", "keyish"), ("client_secret_name", None),
])
def test_name_classes(name, cls):
    assert classify_name(name) == cls


def test_name_value_without_space_only_for_exact_shapes():
    key = kg.legacy_b64(64, "tight")
    _, found = findings(f"azureStorageAccessKey:{key}\n")
    assert [f.code for f in found] == ["KL101"]
    host = "contoso.database.windows.net"
    _, found = findings(f"server={host}\ndb_password:{kg.password('tight')}\n")
    assert found == []


def test_legacy_entra_secret_shapes():
    assert formats.looks_like_legacy_aad("gH3uiL_j6t4b6DG?Qr-G6M@IOS?mX3B9")  # 32, older symbols
    assert formats.looks_like_legacy_aad(kg.aad_legacy("z"))
    assert not formats.looks_like_legacy_aad("2024-03-07T02:50:56.464790+00:00")
    assert not formats.looks_like_legacy_aad(kg.legacy_b64(24, "b64")[:32])  # plain base64
    assert not formats.looks_like_legacy_aad("a-b" * 11)


# ---- new types and checksum seeds ---------------------------------------------------------------------

@pytest.mark.parametrize("index,variant", [(2, "system read-write key"), (3, "system read-only key"),
                                          (4, "system key"), (5, "resource key"), (6, "data encryption key")])
def test_cosmos_seeds(index, variant):
    key = kg.identifiable("ACDb", index)
    assert formats.validate_identifiable(key, "ACDb") == variant
    _, found = findings(f'k = "{key}"\n', "a.py")
    assert [f.code for f in found] == ["KL105"] and variant in found[0].message


def test_event_grid_send_receive_seed():
    key = kg.identifiable("AZEG", 0)
    assert formats.validate_identifiable(key, "AZEG") == "access key"


def test_identifiable_key_glued_to_the_next_token():
    key = kg.identifiable("+ASt")
    _, found = findings(f"x {key}ZZZZ\n")
    assert [f.code for f in found] == ["KL101"]
    _, found = findings(f"x A{key}\n")  # the left edge stays a boundary
    assert found == []


def test_refresh_token():
    token = kg.refresh_token("t")
    doc, found = findings(json.dumps({"refresh_token": token}) + "\n", "cache.json")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL118", token)]
    assert findings(json.dumps({"refresh_token": token[:150]}) + "\n", "cache.json")[1] == []


def test_apim_git_key_and_management_key():
    git = kg.apim_git_key("g")
    mgmt = kg.legacy_b64(64, "m")
    text = (f"URL=https://contoso.scm.azure-api.net\nPASSWORD={git}\n"
            f"API=https://contoso.management.azure-api.net\nAPI_KEY={mgmt}\n")
    doc, found = findings(text, ".env")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL117", git), ("KL117", mgmt)]
    assert "repository (Git) key" in found[0].message and "direct management key" in found[1].message


# ---- SAS -----------------------------------------------------------------------------------------------

def _sas(extra: str, seed: str) -> str:
    return f"https://contoso.blob.core.windows.net/c?sv=2021-08-06&se=2099-01-01&sr=c&sp=rl{extra}&sig={kg.sas_sig(seed)}"


def test_user_delegation_sas_is_dead_when_its_key_expired(monkeypatch):
    monkeypatch.setattr(sas, "now_utc", lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    url = _sas("&skoid=a&sktid=b&skt=2025-01-01&ske=2025-01-02&sks=b&skv=2021-08-06", "ud")
    _, found = findings(url + "\n")
    assert len(found) == 1 and found[0].severity is Severity.LOW
    assert "delegation key expired 2025-01-02" in found[0].message
    info = sas.analyse({"se": "2099-01-01", "ske": "2099-06-01", "sp": "r"})
    assert not info.key_expired_first and info.expiry.year == 2099


def test_one_sas_repeated_on_a_line_is_one_finding():
    url = _sas("", "rep")
    token = url.split("?", 1)[1]
    _, found = findings(f"A={url} B={url} C={token} D={url}\nE={url}\n")
    assert [f.span.start.line for f in found] == [1, 2]


def test_sas_with_unknown_permission_letter_is_not_a_sas():
    assert findings(_sas("", "perm").replace("sp=rl", "sp=rqx") + "\n")[1] == []
    assert not sas.looks_like_sas({"sv": "2021-08-06", "sp": "rqx", "sig": kg.sas_sig("p", urlencode=False)})


def test_sas_token_assigned_to_a_variable_keeps_its_fields():
    token = f"sp=rqx&se=2099-01-01&sv=2022-11-02&sr=c&sig={kg.sas_sig('var')}"
    assert findings(f"AZURE_BLOB_SAS_TOKEN={token}\n")[1] == []  # sp=rqx is read, so refused


def test_decoded_findings_never_carry_the_secret_in_messages():
    key = kg.legacy_b64(64, "leak")
    text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  azurestorageaccountkey: {b64(key)}\n"
    _, found = findings(text, "s.yaml")
    assert len(found) == 1
    blob = found[0].message + found[0].fix.message + found[0].fingerprint
    assert key not in blob and b64(key) not in blob and key[4:12] not in blob


def test_name_value_pair_objects_still_read_after_a_comma():
    """`{"name": "registry-password", "value": "..."}`: the quoted name is followed by a comma but
    opens no pair itself; the object's `value` is its value (regression)."""
    pw = kg.legacy_b64(32, "acrpair")
    text = ('{"registries": [{"server": "contoso.azurecr.io", "username": "contoso"}], '
            f'"secrets": [{{"name": "registry-password", "value": "{pw}"}}]}}\n')
    doc, found = findings(text, "app.json")
    assert [(f.code, span_text(doc, f)) for f in found] == [("KL114", pw)]


def test_names_taken_from_the_file_never_carry_the_secret():
    """A parameter or key named with (part of) its own value: the message says `'...'` instead."""
    pw = kg.password("named")
    params = {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
              "contentVersion": "1.0.0.0", "parameters": {f"sqlAdministratorLoginPassword{pw}": {"value": pw}}}
    _, found = findings(json.dumps(params), "x.parameters.json")
    assert len(found) == 1 and pw not in found[0].message and "'...'" in found[0].message


def test_permissive_views_keep_structure_findings_as_candidates():
    """The history scan's first pass sees a few lines of a file (which rarely parse): a value the
    structure passes would report there must come out as a candidate, never be lost."""
    from keyless.rules.secrets.scanner import Scanner

    pw = kg.password("hist")
    key = kg.legacy_b64(64, "hist")
    views = {
        "main.tf": f'  type = string\n  default = "{pw}"\n}}\n',
        "azuredeploy.json": f'      "type": "securestring",\n      "defaultValue": "{pw}"\n    }},\n',
        "secret.yaml": f"data:\n  azurestorageaccountkey: {b64(key)}\n",
        "app.py": f'CONN = ("Server=tcp:x.database.windows.net;"\n        "Password={pw}")\n',
    }
    for name, text in views.items():
        doc = make_document(name, name, text)
        found = Scanner(doc, permissive=True).run()
        assert found, name
        assert not Scanner(make_document(name, name, text)).run() or name == "app.py", name  # not a finding


# ---- code after a name, and the file's time budget ------------------------------------------------

CODE_AFTER_NAME = {
    "cache.go": 'component.Metadata["redisPassword"] = genDaprComponentMetadata{\n\tValue: ref,\n}\n',
    "Cache.cs": 'options.RedisPassword = GetSecretValueFromVaultAsync("redis");\n',
    "Cache.java": "config.redisPassword = getSecretFromKeyVault(\"redis\");\n",
    "cache.ts": "const cfg = { redisPassword: secrets.redis.primaryKeyValue };\n",
}


@pytest.mark.parametrize("rel", sorted(CODE_AFTER_NAME))
def test_code_after_a_secret_name_is_not_its_value(rel):
    host = "// host: contoso-cache.redis.cache.windows.net\n"
    doc, found = findings(host + CODE_AFTER_NAME[rel], rel)
    assert found == []
    # the same characters in prose, or as a string's text, are still read as a value
    doc, found = findings(host + "// redisPassword = Zk9wQm2Lp8Rt4Vn6Bq7XyA3cD\n", rel)
    assert [f.code for f in found] == ["KL107"]
    doc, found = findings(host + 'conn := "redisPassword=Zk9wQm2Lp8Rt4Vn6Bq7XyA3cD"\n', rel)
    assert [f.code for f in found] == ["KL107"]


def test_an_identifier_shaped_key_in_source_is_still_a_key():
    text = ("k := `\nAZURE_OPENAI_API_KEY=e5f8a9c0d1b2e3f4a5b6c7d8e9f0a1b2\n`\n"
            "// endpoint: https://contoso.openai.azure.com\n")
    doc, found = findings(text, "main.go")
    assert [f.code for f in found] == ["KL111"]


def test_decoded_views_spend_the_budget_of_their_file(monkeypatch):
    """A view (here a JSON-escaped connection string) is scanned with the file's budget: when the
    file's time is up, the scan of the view stops too."""
    from keyless.linter import rule as rule_module

    ticked = []
    real_tick = rule_module.Budget.tick

    def tick(self):
        ticked.append(self.doc)
        real_tick(self)

    monkeypatch.setattr(rule_module.Budget, "tick", tick)
    key = kg.legacy_b64(64, "budget")
    inner = json.dumps({"Storage": f"DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={key}"})
    doc, found = findings(json.dumps({"settings": inner}) + "\n", "app.json")
    assert [f.code for f in found] == ["KL101"] and "escaped)" in found[0].message
    assert ticked and all(d is doc for d in ticked)  # never a budget of the view's own


def test_a_list_of_names_is_not_a_name_value_pair():
    host = "// Server=tcp:contoso-sql.database.windows.net,1433\n"
    for line in ('data.ImportStep("administrator_login_password", "dns_zone_partner_id"),\n',
                 'data.ImportStep("administrator_login_password", "Xq7!vR2#pL9@", "source_id"),\n',
                 'AtLeastOneOf: []string{"administrator_login_password",\n    "Xq7!vR2#pL9@", "azure_ad_admin"},\n'):
        doc, found = findings(host + line, "resource.go")
        assert found == [], line
    doc, found = findings(host + 'builder.Add("administrator_login_password", "Xq7!vR2#pL9@");\n', "Setup.cs")
    assert [f.code for f in found] == ["KL106"] and span_text(doc, found[0]) == "Xq7!vR2#pL9@"


@pytest.mark.parametrize("value,template", [
    ("P@55W0rD!!%[3]s", True), ("acctest-%d-Pw!", True), ("%s%s", True), ("Pa55w0rd%v!", True),
    ("Xq7%2Bv%3DR2pL9", False), ("Xq7%dAR2pL9", False), ("Xq7%DR2pL9!", False),
])
def test_printf_verbs_make_a_value_a_template(value, template):
    from keyless.rules.secrets import allowlist

    assert allowlist.is_placeholder(value) is template


@pytest.mark.parametrize("value,name", [
    ("properties.administratorLoginPassword", True), ("redis-stack-password", True), ("ACR_PASSWORD", True),
    ("H@Sh1CoR3!", False), ("correct-horse-battery", False), ("Xq7.vR2-pL9", False),
])
def test_a_credential_name_with_separators_is_not_a_value(value, name):
    from keyless.rules.secrets import allowlist

    assert allowlist.is_placeholder(value) is name


# ---- a Terraform module's variable defaults, judged with the module's other files (#15) ----------

AZURE_MAIN_TF = 'provider "azurerm" {\n  features {}\n}\n'


def module_findings(tmp_path, files: dict[str, str], select=("secret",)):
    """Lint a Terraform module the way `keyless check .` does (its files read together)."""
    from keyless.linter.config import Config
    from keyless.linter.engine import Settings, lint_paths, resolve_selection
    from keyless.linter.rule import load_registry

    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    settings = Settings(root=str(tmp_path), select=resolve_selection(load_registry(), list(select)))
    res = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), settings, excludes=[], jobs=1)
    return sorted(res.findings, key=lambda f: (f.path, f.span.start.line))


def located(tmp_path, f) -> str:
    text = (tmp_path / f.path).read_text()
    lines = text.splitlines()
    line = lines[f.span.start.line - 1]
    return line[f.span.start.column - 1:f.span.end.column - 1]


def test_a_password_default_no_resource_reads_is_reported_in_an_azure_module(tmp_path):
    pw = kg.password("unread")
    found = module_findings(tmp_path, {"main.tf": AZURE_MAIN_TF,
                                       "variables.tf": f'variable "admin_password" {{\n  default = "{pw}"\n}}\n'})
    (f,) = found
    assert (f.code, f.severity, f.path, f.span.start.line, located(tmp_path, f)) == (
        "KL106", Severity.MEDIUM, "variables.tf", 2, pw)
    assert f.message.startswith("Password ") and "default of var.admin_password" in f.message
    assert pw not in f.message and pw not in f.fix.message and "Key Vault" in f.fix.message


def test_a_database_in_another_file_makes_the_default_a_database_password(tmp_path):
    pw = kg.password("sql-split")
    main = ('resource "azurerm_mssql_server" "sql" {\n  name = "sql"\n'
            '  administrator_login_password = var.admin_password\n}\n')
    (f,) = module_findings(tmp_path, {"main.tf": main,
                                      "variables.tf": f'variable "admin_password" {{\n  default = "{pw}"\n}}\n'})
    assert (f.code, f.severity, located(tmp_path, f)) == ("KL106", Severity.HIGH, pw)
    assert f.message.startswith("Azure SQL password")


def test_an_azure_provider_signing_in_with_the_variable_makes_it_an_entra_secret(tmp_path):
    secret = "Xk9~v2Qp8sLm3Nt7Rw1Yz4Bc6Df0Gh5Jk2Lm"
    providers = 'provider "azurerm" {\n  features {}\n  client_secret = var.client_secret\n}\n'
    variables = f'variable "client_secret" {{\n  default = "{secret}"\n}}\n'
    (f,) = module_findings(tmp_path, {"providers.tf": providers, "variables.tf": variables})
    assert (f.code, located(tmp_path, f)) == ("KL112", secret)
    # the same name and value that no provider reads is not shaped like an Entra secret: not reported
    assert module_findings(tmp_path, {"providers.tf": AZURE_MAIN_TF}) == []


@pytest.mark.parametrize("variable", [
    'variable "admin_password_secret_name" {\n  default = "sql-admin-password"\n}\n',
    'variable "password_length" {\n  default = 24\n}\n',
    'variable "admin_password" {\n  default = "<your-password>"\n}\n',
    'variable "admin_password" {\n  default = "${var.other}"\n}\n',
    'variable "admin_password" {\n  default = ""\n}\n',
    'variable "admin_password" {\n  default = null\n}\n',
    'variable "admin_password" {\n  default = "P@ssw0rd"\n}\n',
    'variable "admin_password" {\n  default = "changeme"\n}\n',
    'variable "admin_username" {\n  default = "azureadmin"\n}\n',
])
def test_look_alikes_of_a_password_default_are_quiet(tmp_path, variable):
    assert module_findings(tmp_path, {"main.tf": AZURE_MAIN_TF, "variables.tf": variable}) == []


def test_a_sensitive_default_is_kl257_s_and_a_vm_reader_judges_as_for_its_inline_password(tmp_path):
    pw = kg.password("sensitive")
    sensitive = f'variable "admin_password" {{\n  sensitive = true\n  default = "{pw}"\n}}\n'
    assert [f.code for f in module_findings(tmp_path, {"main.tf": AZURE_MAIN_TF, "variables.tf": sensitive},
                                            select=("secret", "KL257"))] == ["KL257"]
    vm = ('resource "azurerm_linux_virtual_machine" "vm" {\n  name = "vm"\n'
          '  admin_password = var.admin_password\n}\n')
    plain = f'variable "admin_password" {{\n  default = "{pw}"\n}}\n'
    assert module_findings(tmp_path, {"main.tf": vm, "variables.tf": plain}) == []


def test_a_module_that_deploys_nothing_to_azure_keeps_its_password_defaults(tmp_path):
    pw = kg.password("aws")
    aws = 'provider "aws" {\n  region = "eu-west-1"\n}\n'
    variables = (f'variable "admin_password" {{\n  default = "{pw}"\n}}\n'
                 f'variable "db_admin_password" {{\n  default = "{pw}x"\n}}\n')
    assert module_findings(tmp_path, {"main.tf": aws, "variables.tf": variables}) == []


def test_the_other_files_of_the_module_are_cache_dependencies(run_cli, tmp_path):
    pw = kg.password("cache")
    (tmp_path / "variables.tf").write_text(f'variable "admin_password" {{\n  default = "{pw}"\n}}\n')
    (tmp_path / "main.tf").write_text(AZURE_MAIN_TF)
    cache = str(tmp_path / ".cache")

    def codes():
        rc, out, err = run_cli("check", ".", "--select", "secret", "--output-format", "json", "--cache-dir", cache,
                               cwd=tmp_path)
        assert rc in (0, 1), err
        return [(f["path"], f["code"]) for f in json.loads(out)["findings"]]

    assert codes() == [("variables.tf", "KL106")]
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n')  # no longer Azure
    assert codes() == []
    (tmp_path / "main.tf").write_text(AZURE_MAIN_TF)
    assert codes() == [("variables.tf", "KL106")]
