"""Scripts, CI workflows, compose files and Dockerfiles feed the one deployment model: the same
rules (KL401, KL301, KL501, KL250-KL252, KL259) fire on them, plus KL280-KL282."""

from __future__ import annotations

import os

import yaml

from conftest import write
from keygen import aad_secret, legacy_b64
from keyless.linter.engine import lint_source


def codes(text: str, relpath: str, select=("KL1", "KL2", "KL3", "KL4", "KL5")) -> list[tuple[int, str]]:
    return sorted((f.span.start.line, f.code) for f in lint_source(text, relpath, select=list(select)))


def findings(text: str, relpath: str, select=("KL1", "KL2", "KL3", "KL4", "KL5")):
    return sorted(lint_source(text, relpath, select=list(select)), key=lambda f: f.sort_key())


# ---- roles ----------------------------------------------------------------------------------------------

def test_role_and_scope_come_from_literals_skeletons_and_agreeing_assignments():
    text = ('SCOPE="/subscriptions/$SUB"\n'
            'ROLE=Owner\n'
            'az role assignment create --role "$ROLE" --scope "$SCOPE" --assignee x\n'
            'if [ "$PROD" ]; then SCOPE2="/subscriptions/$SUB"; else SCOPE2="/subscriptions/$SUB/resourceGroups/rg"; fi\n'
            'az role assignment create --role Owner --scope "$SCOPE2" --assignee x\n')
    [f] = findings(text, "grant.sh", ["KL401"])
    assert f.span.start.line == 3 and f.message.startswith("'Owner' at subscription scope")
    assert "role: from $ROLE" in f.fix.message and "scope: from $SCOPE" in f.fix.message
    assert text.splitlines()[2][f.span.start.column - 1:f.span.end.column - 1] == '"$ROLE"'  # on the argument


def test_no_finding_when_every_value_is_unknown():
    text = ('az role assignment create --role "$ROLE" --scope "$SCOPE" --assignee "$ID"\n'
            'az role assignment create --role Owner --scope "$SCOPE"\n'
            'az role assignment create --role Owner --scope "$(get_scope)"\n'
            'az containerapp create -n "$(name)" -g rg --environment e --image i\n'
            'az containerapp identity assign -n "$(other)" -g rg --system-assigned\n'
            'az role assignment create --role Owner $ARGS\n')
    assert codes(text, "unknown.sh") == []


def test_powershell_role_assignment_defaults_to_the_subscription():
    text = "New-AzRoleAssignment -ObjectId $id -RoleDefinitionName Owner\n"
    [f] = findings(text, "grant.ps1", ["KL401"])
    assert f.severity.value == "critical" and "subscription scope" in f.message and "no -Scope" in f.fix.message


# ---- apps ----------------------------------------------------------------------------------------------------

def test_missing_identity_is_lower_confidence_and_a_later_assign_counts():
    text = ("az containerapp create -n api -g rg --environment e --image i\n"
            "az containerapp create -n web -g rg --environment e --image i\n"
            "az containerapp identity assign -n web -g rg --user-assigned $ID\n")
    [f] = findings(text, "deploy.sh", ["KL301"])
    assert f.span.start.line == 1 and f.severity.value == "low" and "lower confidence" in f.fix.message


def test_script_apps_are_linked_to_the_code_they_run(tmp_path):
    from keyless.linter.config import Config
    from keyless.linter.engine import Settings, lint_paths, resolve_selection
    from keyless.linter.rule import load_registry

    write(tmp_path, "deploy.sh", "az containerapp create -n orders -g rg --environment e --image i "
                                 "--system-assigned --user-assigned $PULL_ID --env-vars MODE=prod\n")
    write(tmp_path, "orders/app.py", "from azure.identity import DefaultAzureCredential\ncred = DefaultAzureCredential()\n")
    settings = Settings(root=str(tmp_path), select=resolve_selection(load_registry(), ["KL501", "KL505"]))
    res = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), settings, excludes=[], jobs=1)
    got = sorted((f.path, f.code) for f in res.findings)
    assert got == [("deploy.sh", "KL501"), ("orders/app.py", "KL505")]


# ---- keys -----------------------------------------------------------------------------------------------------

def test_listed_keys_are_followed_through_variables_to_where_they_are_stored():
    text = ('K=$(az storage account keys list -n sa --query [0].value -o tsv)\n'
            'CONN="DefaultEndpointsProtocol=https;AccountName=sa;AccountKey=$K"\n'
            'az webapp config appsettings set -n web -g rg --settings "STORAGE=$CONN"\n'
            'echo "CONN=$CONN" >> .env\n'
            'echo "$K" > key.txt\n')
    assert codes(text, "keys.sh", ["KL252", "KL282"]) == [(3, "KL252"), (4, "KL282")]


def test_a_literal_secret_in_a_command_is_one_secret_finding():
    key = legacy_b64(64, seed="scripts")
    secret = aad_secret(seed="scripts")
    text = (f'az containerapp secret set -n api -g rg --secrets "storage-key={key}"\n'
            f'az login --service-principal -u 00000000-0000-0000-0000-000000000001 -p "{secret}" --tenant t\n')
    got = findings(text, "deploy.sh")
    secrets = [(f.span.start.line, f.code) for f in got if f.category.value == "secret"]
    assert len(secrets) == 2 and len({line for line, _ in secrets}) == 2
    assert {f.code for f in got if f.span.start.line == 2} >= {"KL280"}
    for f in got:  # never the secret itself
        assert key not in f.message and secret not in f.message
        assert f.fix is None or secret not in f.fix.message


# ---- CI -------------------------------------------------------------------------------------------------------

WORKFLOW = """name: deploy
on:
  push:
    branches: [main, 'release/**']
  pull_request:
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: azure/login@v2
        with:
          creds: ${{ secrets.AZURE_CREDENTIALS }}
      - run: az group list
"""


def test_azure_login_creds_fix_names_the_subjects_and_rewrites_the_workflow():
    from keyless.linter.fixes import apply_edits
    from keyless.linter.documents import LineIndex

    [f] = findings(WORKFLOW, ".github/workflows/deploy.yml", ["KL280"])
    assert f.span.start.line == 13 and f.fix.applicability.value == "unsafe"
    assert ("repo:<owner>/<repo>:ref:refs/heads/main, :pull_request, :ref:refs/heads/<branch>" in f.fix.message
            or "repo:<owner>/<repo>:ref:refs/heads/main, :ref:refs/heads/<branch>, :pull_request" in f.fix.message)
    fixed = apply_edits(WORKFLOW, LineIndex(WORKFLOW), list(f.fix.edits))
    data = yaml.safe_load(fixed)
    job = data["jobs"]["deploy"]
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    assert set(job["steps"][1]["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert findings(fixed, ".github/workflows/deploy.yml", ["KL280"]) == []


def test_an_environment_decides_the_subject_and_existing_permissions_get_id_token():
    text = WORKFLOW.replace("    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    environment: prod\n"
                            "    permissions:\n      contents: read\n")
    [f] = findings(text, ".github/workflows/deploy.yml", ["KL280"])
    assert "repo:<owner>/<repo>:environment:prod" in f.fix.message and "refs/heads" not in f.fix.message
    from keyless.linter.documents import LineIndex
    from keyless.linter.fixes import apply_edits

    job = yaml.safe_load(apply_edits(text, LineIndex(text), list(f.fix.edits)))["jobs"]["deploy"]
    assert job["permissions"] == {"id-token": "write", "contents": "read"}


def test_flow_style_login_keeps_display_only_advice():
    text = WORKFLOW.replace("        with:\n          creds: ${{ secrets.AZURE_CREDENTIALS }}\n",
                            "        with: {creds: '${{ secrets.AZURE_CREDENTIALS }}'}\n")
    [f] = findings(text, ".github/workflows/deploy.yml", ["KL280"])
    assert f.fix.applicability.value == "display-only" and not f.fix.edits


def test_windows_jobs_run_powershell_and_composite_actions_are_read():
    text = ("jobs:\n  w:\n    runs-on: windows-latest\n    steps:\n"
            "      - run: New-AzRoleAssignment -ObjectId $id -RoleDefinitionName Owner -Scope \"/subscriptions/$s\"\n")
    assert codes(text, ".github/workflows/w.yml", ["KL401"]) == [(5, "KL401")]
    action = ("name: grant\nruns:\n  using: composite\n  steps:\n"
              "    - shell: bash\n      run: az acr update -n r --admin-enabled true\n")
    assert codes(action, "grant/action.yml", ["KL251"]) == [(6, "KL251")]


def test_azure_pipelines_tasks_and_macros():
    text = ("trigger: [main]\nsteps:\n"
            "  - task: AzureCLI@2\n    inputs:\n      azureSubscription: conn\n      scriptType: pscore\n"
            "      scriptLocation: inlineScript\n      inlineScript: |\n"
            "        az role assignment create --role Owner --scope /subscriptions/$(subscriptionId) --assignee $(sp)\n"
            "  - task: AzureCLI@2\n    inputs:\n      azureSubscription: conn\n      scriptType: batch\n"
            "      inlineScript: az role assignment create --role Owner --scope /subscriptions/x\n")
    assert codes(text, "azure-pipelines.yml", ["KL401"]) == [(9, "KL401")]


# ---- compose and Dockerfiles ------------------------------------------------------------------------------------

def test_compose_env_file_settings_are_read_from_the_env_file(tmp_path):
    from keyless.linter.config import Config
    from keyless.linter.engine import Settings, lint_paths, resolve_selection
    from keyless.linter.rule import load_registry

    write(tmp_path, "docker-compose.yml", "services:\n  api:\n    image: x\n    env_file:\n      - .env.docker\n")
    write(tmp_path, ".env.docker", "AZURE_STORAGE_CONNECTION_STRING=${CONN}\nAZURE_CLIENT_SECRET=${SECRET}\nPORT=80\n")
    settings = Settings(root=str(tmp_path), select=resolve_selection(load_registry(), ["KL252", "KL259"]))
    res = lint_paths([str(tmp_path)], Config(root=str(tmp_path)), settings, excludes=[], jobs=1)
    got = sorted((f.path, f.span.start.line, f.code) for f in res.findings)
    assert got == [("docker-compose.yml", 5, "KL252"), ("docker-compose.yml", 5, "KL259")]


def test_dockerfile_settings_say_where_the_value_ends_up():
    [f] = findings("FROM x\nENV AZURE_CLIENT_SECRET=${SECRET}\n", "Dockerfile", ["KL259"])
    assert "the image (ENV)" in f.message and "layers" in f.fix.message and "az login" in f.fix.message


def test_pre_commit_identify_tags_cover_the_new_kinds():
    """The hook runs on `types: [text]`: pre-commit must call every new file kind text."""
    from identify.identify import tags_from_filename

    for name in ("deploy.sh", "x.zsh", "setup.ps1", "Module.psm1", "Dockerfile", "Makefile", "rules.mk",
                 "nb.ipynb", "action.yml"):
        assert "text" in tags_from_filename(name), name


# ---- reading a script with errors ---------------------------------------------------------------------

def test_a_script_with_errors_is_walked_and_gives_the_nodes_the_query_gives():
    """A tree with errors is walked instead of queried (tree-sitter's query cursor is quadratic in
    the width of an ERROR node; tests/test_time_bounds.py measures it): the walk finds the very
    nodes the query finds, in document order."""
    import glob

    import tree_sitter

    from conftest import FIXTURES
    from keyless.linter.documents import shell

    compared = 0
    for lang, pattern, query in (("bash", "**/*.sh", shell._BashReader.QUERY),
                                 ("pwsh", "**/*.ps1", shell._PwshReader.QUERY)):
        parser = shell._parser(lang)
        compiled = tree_sitter.Query(parser.language, query)
        for path in sorted(glob.glob(os.path.join(FIXTURES, pattern), recursive=True)):
            text = open(path, encoding="utf-8", errors="replace").read()
            half = len(text) // 2
            for broken in (text + "\nif [ x\n${ (", text[:half] + '"\n' + text[half:]):
                root = parser.parse(broken.encode()).root_node
                if not root.has_error:
                    continue
                queried = tree_sitter.QueryCursor(compiled).captures(root)
                walked = shell._captures(lang, query, root)
                spans = {name: [(n.start_byte, n.end_byte, n.type) for n in nodes] for name, nodes in walked.items()}
                assert {name: sorted(s) for name, s in spans.items()} == \
                    {name: sorted((n.start_byte, n.end_byte, n.type) for n in nodes) for name, nodes in queried.items()}
                assert all(s == sorted(s, key=lambda x: (x[0], -x[1])) for s in spans.values())
                compared += 1
    assert compared > 20
