"""Secrets stay secret: plant unique secrets in every file kind, produce every artifact keyless
writes (each output format, -o files, the cache, a baseline, --diff, error messages), and grep
all of it for any 8-character piece of any planted secret."""

from __future__ import annotations

import json
import os

import pytest

import keygen
from conftest import SARIF_SCHEMA, write


def planted(seed: str) -> dict[str, str]:
    return {
        "storage": keygen.identifiable("+ASt", seed=f"{seed}-st"),
        "storage_legacy": keygen.legacy_b64(64, seed=f"{seed}-stl"),
        "servicebus": keygen.identifiable("+ASb", seed=f"{seed}-sb"),
        "cosmos": keygen.identifiable("ACDb", seed=f"{seed}-cos"),
        "redis": keygen.identifiable("AzCa", seed=f"{seed}-redis"),
        "aad": keygen.aad_secret(seed=f"{seed}-aad"),
        "openai": keygen.cask("ACOG", "AAAB", seed=f"{seed}-oai"),
        "sas": keygen.sas_sig(seed=f"{seed}-sas"),
        "sqlpwd": "Zq7!" + keygen.password(seed=f"{seed}-sql"),
        "acr": keygen.identifiable("+ACR", seed=f"{seed}-acr"),
        "pat": keygen.ado_pat(seed=f"{seed}-pat"),
        "param_storage": keygen.identifiable("+ASt", seed=f"{seed}-pst"),
        "param_name": keygen.aad_secret(seed=f"{seed}-pname"),
        "script_aad": keygen.aad_secret(seed=f"{seed}-saad"),
        "script_key": keygen.legacy_b64(64, seed=f"{seed}-skey"),
        "nb_key": keygen.identifiable("+ASt", seed=f"{seed}-nb"),
        "compose_key": keygen.identifiable("ACDb", seed=f"{seed}-compose"),
        # decoded views and structure-named literals
        "k8s_key": keygen.legacy_b64(64, seed=f"{seed}-k8s"),
        "escaped_key": keygen.legacy_b64(64, seed=f"{seed}-esc"),
        "tf_password": "Qv3!" + keygen.password(seed=f"{seed}-tfpw"),
        "refresh_token": keygen.refresh_token(seed=f"{seed}-rt"),
    }


def make_repo(root, s: dict[str, str]) -> None:
    write(root, "app/settings.py",
          f'STORAGE = "DefaultEndpointsProtocol=https;AccountName=leakacct;AccountKey={s["storage"]};EndpointSuffix=core.windows.net"\n'
          f'client_secret = "{s["aad"]}"\n'
          'from azure.storage.blob import BlobServiceClient\n'
          'svc = BlobServiceClient.from_connection_string(STORAGE)\n')
    write(root, "deploy/app.yaml",
          "properties:\n  configuration:\n    secrets:\n"
          f"      - name: sb\n        value: Endpoint=sb://leakns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={s['servicebus']}\n")
    write(root, "infra/main.json", json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"siteName": {"type": "string"}, "storageConnection": {"type": "string"},
                       "identityType": {"type": "string"}},
        "resources": [{"type": "Microsoft.Web/sites", "name": "leak", "apiVersion": "2023-01-01",
                       "properties": {"siteConfig": {"appSettings": [
                           {"name": "COSMOS", "value": f"AccountEndpoint=https://leakdb.documents.azure.com:443/;AccountKey={s['cosmos']};"}]}}},
                      {"type": "Microsoft.Web/sites", "name": "[parameters('siteName')]", "apiVersion": "2023-01-01",
                       "identity": {"type": "[parameters('identityType')]"},
                       "properties": {"siteConfig": {"appSettings": [
                           {"name": "STORAGE", "value": "[parameters('storageConnection')]"}]}}}],
    }, indent=2))
    # The parameter file deploys the template (its findings are evaluated with these values).
    write(root, "infra/main.parameters.json", json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"siteName": {"value": s["param_name"]}, "identityType": {"value": "None"},
                       "storageConnection": {"value": "DefaultEndpointsProtocol=https;AccountName=leakacct;"
                                                      f"AccountKey={s['param_storage']};EndpointSuffix=core.windows.net"}},
    }, indent=2))
    write(root, "infra/main.tf",
          'resource "azurerm_linux_web_app" "leak" {\n  app_settings = {\n'
          f'    REDIS = "leakcache.redis.cache.windows.net:6380,password={s["redis"]},ssl=True,abortConnect=False"\n'
          '  }\n}\n')
    write(root, ".env",
          f"AZURE_OPENAI_API_KEY={s['openai']}\n"
          f"SQL=Server=tcp:leaksql.database.windows.net,1433;Initial Catalog=db;User ID=app;Password={s['sqlpwd']};Encrypt=True\n")
    write(root, "docs/howto.md",
          f"Download: https://leakacct.blob.core.windows.net/c/f.txt?sv=2022-11-02&sp=rw&se=2030-01-01T00:00:00Z&sr=b&sig={s['sas']}\n")
    write(root, "Dockerfile", f"RUN docker login leakacr.azurecr.io -u leakacr -p {s['acr']}\n")
    write(root, "scripts/ci.sh", f"export AZURE_DEVOPS_EXT_PAT={s['pat']}\n")
    write(root, "legacy.env", f"AZURE_STORAGE_ACCOUNT=leakacct\nAZURE_STORAGE_KEY={s['storage_legacy']}\n")
    write(root, "broken.json", '{"AccountKey": "' + s["storage"] + '",,}\n')  # parse error + secret
    # scripts, CI, compose and notebooks: secrets next to the commands and settings they feed
    write(root, "deploy/deploy.sh",
          f'az login --service-principal -u 00000000-0000-0000-0000-000000000001 -p "{s["script_aad"]}" --tenant t\n'
          'KEY=$(az storage account keys list -n leakacct --query [0].value -o tsv)\n'
          f'az webapp config appsettings set -n leak -g rg --settings "S=AccountKey=$KEY;Backup={s["script_key"]}"\n'
          f'echo "K=$KEY;B={s["script_key"]}" >> .env\n'
          'az containerapp create -n leak -g rg --environment e --image i --registry-username u '
          f'--registry-password "{s["script_key"]}"\n')
    write(root, "docker-compose.yml",
          "services:\n  leak:\n    image: x\n    environment:\n      COSMOS_CONNECTION_STRING: "
          f'"AccountEndpoint=https://leakdb.documents.azure.com:443/;AccountKey={s["compose_key"]};"\n')
    write(root, "nb/leak.ipynb", json.dumps({"cells": [{
        "cell_type": "code", "metadata": {}, "execution_count": 1,
        "source": ["from azure.storage.blob import BlobServiceClient\n",
                   f'c = BlobServiceClient.from_connection_string("DefaultEndpointsProtocol=https;AccountName=leakacct;AccountKey={s["nb_key"]}")\n'],
        "outputs": [{"output_type": "stream", "name": "stdout", "text": [s["nb_key"] + "\n"]}]}],
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5},
        indent=1))
    import base64

    write(root, "k8s/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\ndata:\n"
          f"  azurestorageaccountkey: {base64.b64encode(s['k8s_key'].encode()).decode()}\n")
    write(root, "recordings/session.json", json.dumps({"settings": json.dumps(
        {"Storage": f"DefaultEndpointsProtocol=https;AccountName=leakacct;AccountKey={s['escaped_key']}"})}))
    write(root, "infra/sql.tf", 'resource "azurerm_mssql_server" "leak" {\n'
          f'  administrator_login_password = "{s["tf_password"]}"\n}}\n')
    write(root, "cache/msal.json", json.dumps({"refresh_token": s["refresh_token"]}))


def pieces(secret: str, n: int = 8) -> set[str]:
    return {secret[i:i + n] for i in range(0, max(1, len(secret) - n + 1))}


def test_no_artifact_contains_a_secret(run_cli, tmp_path):
    s = planted("leak")
    repo = tmp_path / "repo"
    make_repo(repo, s)
    art = tmp_path / "artifacts"
    art.mkdir()
    cache = tmp_path / "cache"
    outputs = {}
    for fmt in ("text", "json", "sarif", "github", "azure", "junit", "gitlab"):
        rc, out, err = run_cli("check", ".", "--output-format", fmt, "--cache-dir", str(cache), cwd=repo)
        assert rc == 1, (fmt, out, err)
        outputs[f"stdout.{fmt}"] = out + err
        rc, out, err = run_cli("check", ".", "--output-format", fmt, "-o", str(art / f"report.{fmt}"),
                               "--statistics", cwd=repo)
        outputs[f"stderr.{fmt}"] = out + err
    rc, out, err = run_cli("check", ".", "--diff", "--unsafe-fixes", "--no-cache", cwd=repo)
    outputs["diff"] = out + err
    rc, out, err = run_cli("check", "--stdin-filename", "app/settings.py", "-", "--output-format", "json",
                           input=(repo / "app/settings.py").read_text(), cwd=repo)
    outputs["stdin"] = out + err
    rc, out, err = run_cli("baseline", "write", ".", "-o", str(art / "baseline.json"), cwd=repo)
    outputs["baseline-cli"] = out + err
    for root, _, files in os.walk(tmp_path):
        if str(root).startswith(str(repo)):
            continue
        for name in files:
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as fh:
                outputs[os.path.join(root, name)] = fh.read()
    assert any(k.startswith(str(cache)) for k in outputs), "the cache was not written"

    # Every planted secret is really detected (otherwise this test proves nothing)...
    data = json.loads(outputs["stdout.json"].split("\n}\n")[0] + "\n}")
    flagged_files = {f["path"] for f in data["findings"] if f["category"] == "secret"}
    for path in ("app/settings.py", "deploy/app.yaml", "infra/main.json", "infra/main.parameters.json", "infra/main.tf",
                 ".env", "docs/howto.md", "Dockerfile", "scripts/ci.sh", "legacy.env", "deploy/deploy.sh",
                 "docker-compose.yml", "nb/leak.ipynb", "k8s/secret.yaml", "recordings/session.json",
                 "infra/sql.tf", "cache/msal.json"):
        assert path in flagged_files, f"no secret finding in {path}: {sorted(flagged_files)}"
    script_codes = {f["code"] for f in data["findings"] if f["path"] in ("deploy/deploy.sh", "docker-compose.yml")}
    assert {"KL280", "KL282", "KL252", "KL250"} <= script_codes, script_codes  # the script paths ran
    assert any(f["code"] == "KL201" and f["path"] == "nb/leak.ipynb" for f in data["findings"])
    # ...and no piece of any of them appears anywhere.
    leaks = []
    for where, text in outputs.items():
        for name, secret in s.items():
            hit = next((p for p in pieces(secret) if p in text), None)
            if hit:
                leaks.append((os.path.basename(where), name, hit))
    assert not leaks, f"secret material in outputs: {leaks[:10]}"


def test_sarif_of_the_demo_validates_against_the_schema(run_cli, tmp_path):
    import shutil

    jsonschema = pytest.importorskip("jsonschema")
    from conftest import FIXTURES

    # A repository holding only the demo (in keyless's own checkout, the run would read every
    # other file of it for the project model).
    shutil.copytree(os.path.join(FIXTURES, "demo"), tmp_path / "fixtures" / "demo")
    (tmp_path / ".git").mkdir()
    rc, out, err = run_cli("check", "fixtures/demo", "--output-format", "sarif", cwd=tmp_path)
    log = json.loads(out)
    schema = json.load(open(SARIF_SCHEMA))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = list(validator.iter_errors(log))
    assert not errors, errors[0].message
    results = log["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("fixtures/demo/")
                           for r in results)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    cats = {"secret", "key-auth", "missing-identity", "broad-role", "ambiguous-identity"}
    for rule in rules:
        assert len(cats & set(rule["properties"]["tags"])) == 1, rule["id"]


def test_a_diff_shows_no_character_of_a_password(run_cli, tmp_path):
    """--diff masks every credential on the lines it shows; a password (a value a person chose,
    whatever its length) shows none of its characters, not even the prefix generated keys of 32
    characters or more may show elsewhere."""
    import random

    rnd = random.Random("diff-password")
    # Every other character a symbol prose and code rarely hold: any 3 characters of it in the
    # diff come from the password.
    password = "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") + rnd.choice("~^|!")
                       for _ in range(22))
    assert len(password) >= 32 and "*" not in password
    key = keygen.identifiable("+ASt", seed="diff-password")
    write(tmp_path, "app.py",
          "from azure.storage.blob import BlobServiceClient\n"
          f'SQL = "Server=tcp:contoso-sql.database.windows.net,1433;Initial Catalog=app;User ID=appadmin;'
          f'Password={password};Encrypt=True"\n'
          f'PASSWORD = "{password}"\n'
          "svc = BlobServiceClient.from_connection_string("
          f'"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net")\n')
    rc, out, err = run_cli("check", ".", "--no-cache", "--output-format", "json")
    assert {"KL106", "KL201"} <= {f["code"] for f in json.loads(out)["findings"]}, out  # the password is one
    diffs = [run_cli("check", "app.py", "--diff", "--unsafe-fixes", "--no-cache"),
             run_cli("check", "--stdin-filename", "app.py", "-", "--diff", "--unsafe-fixes", "--no-cache",
                     input=(tmp_path / "app.py").read_text())]
    for rc, out, err in diffs:
        assert rc == 1 and "+from azure.identity import DefaultAzureCredential" in out, out + err
        assert "credentials are masked" in out
        shown = [password[i:i + 3] for i in range(len(password) - 2) if password[i:i + 3] in out + err]
        assert not shown, shown
