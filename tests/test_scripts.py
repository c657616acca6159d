"""Script readers: bash and PowerShell commands with exact argument positions, in every host
(script files, Dockerfile RUN, Makefile recipes, YAML scalars of CI steps)."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from keyless.linter.documents import classify, make_document
from keyless.linter.documents.shell import Script, mask_placeholders


def words(script: Script, name: str = "az") -> list[list[tuple]]:
    """(value, skeleton, source text) of every word of the commands called `name`."""
    return [[(w.value, w.skeleton, script.text[w.start:w.end]) for w in c.words]
            for c in script.commands if c.name == name]


# ---- classification -----------------------------------------------------------------------------

def test_script_file_kinds_come_from_their_names():
    assert classify("deploy.sh") == classify("x.bash") == classify("x.zsh") == "shell"
    assert classify("infra/deploy.ps1") == classify("Module.psm1") == "powershell"
    assert classify("Dockerfile") == classify("Dockerfile.prod") == classify("api.dockerfile") == "dockerfile"
    assert classify("Containerfile") == "dockerfile"
    assert classify("Dockerfile.md") == "text"  # documentation about a Dockerfile
    assert classify("Makefile") == classify("GNUmakefile") == classify("rules.mk") == "makefile"
    assert classify("nb.ipynb") == "notebook"
    assert classify("Dockerfile.yaml") == "yaml"


# ---- bash -----------------------------------------------------------------------------------------------

def test_bash_words_quotes_continuations_and_expansions():
    text = ('az role assignment create --role "Owner" \\\n'
            "   --scope \"/subscriptions/$SUB/resourceGroups/${RG}\" --assignee $ID 'a b'c\\ d # comment\n")
    s = Script(text, "bash")
    [cmd] = words(s)
    assert cmd[:4] == [("az", "az", "az"), ("role", "role", "role"), ("assignment", "assignment", "assignment"),
                       ("create", "create", "create")]
    assert cmd[5] == ("Owner", "Owner", '"Owner"')
    assert cmd[7] == (None, "/subscriptions/{?}/resourceGroups/{?}", '"/subscriptions/$SUB/resourceGroups/${RG}"')
    assert cmd[9] == (None, "{?}", "$ID")
    assert cmd[10] == ("a bc d", "a bc d", "'a b'c\\ d")
    scope = s.commands[0].words[7]
    assert scope.variables == ("SUB", "RG") and not scope.splits
    assert s.commands[0].words[9].splits  # unquoted: may become several words


def test_bash_nested_commands_assignments_and_redirections():
    text = ('KEY=$(az storage account keys list -n "$SA" --query [0].value -o tsv)\n'
            'echo "K=$KEY" >> "$GITHUB_ENV"\n'
            "az x y | tee -a .env\n"
            "cat > .env <<EOF\nA=$KEY\nEOF\n"
            'f() { az ad sp credential reset --id "${IDS[@]}"; }\n')
    s = Script(text, "bash")
    names = [c.name for c in s.commands]
    assert names == ["az", "echo", "az", "tee", "cat", "az"]
    [key] = s.assignments["KEY"]
    assert key.value is None and [c.name for c in key.commands] == ["az"]
    assert key.commands[0].words[8].value == "[0].value"  # a concatenation of brackets and a number
    echo = s.commands[1]
    assert echo.outputs[0].variables == ("GITHUB_ENV",)
    assert echo.words[1].skeleton == "K={?}" and echo.words[1].variables == ("KEY",)
    assert s.commands[2].piped_into is s.commands[3]
    cat = s.commands[4]
    assert cat.outputs[0].value == ".env" and cat.inputs[0].variables == ("KEY",)
    assert s.commands[5].words[-1].splits  # "${IDS[@]}" is several words


def test_bash_recovers_commands_around_a_syntax_error():
    text = "az group create -n a\nif [[ ; then\naz group delete -n b \\\n  --yes\n"
    s = Script(text, "bash")
    assert [[text[w.start:w.end] for w in c.words] for c in s.commands if c.name == "az"] == [
        ["az", "group", "create", "-n", "a"], ["az", "group", "delete", "-n", "b", "--yes"]]


# ---- PowerShell --------------------------------------------------------------------------------------

def test_powershell_words_strings_splats_and_continuations():
    text = ("New-AzRoleAssignment -ObjectId $id -RoleDefinitionName 'Owner''s' `\n"
            '   -Scope "/subscriptions/$($env:SUB)/resourceGroups/$rg" @extra\n'
            '$k = az storage account keys list -n $n --query "[0].value" -o tsv\n'
            '"K=$k" >> $env:GITHUB_ENV\n')
    s = Script(text, "pwsh")
    new = s.commands[0]
    assert [w.value for w in new.words[:5]] == ["New-AzRoleAssignment", "-ObjectId", None, "-RoleDefinitionName",
                                                "Owner's"]
    scope = new.words[6]
    assert scope.skeleton == "/subscriptions/{?}/resourceGroups/{?}" and set(scope.variables) == {"sub", "rg"}
    assert text[scope.start:scope.end] == '"/subscriptions/$($env:SUB)/resourceGroups/$rg"'
    assert new.words[7].splits  # @extra may bind any parameter
    [k] = s.assignments["k"]
    assert [c.name for c in k.commands] == ["az"]
    writer = s.commands[-1]  # an expression redirected to a file: a nameless command
    assert writer.name is None and writer.inputs[0].variables == ("k",) and writer.outputs[0].variables == ("github_env",)


# ---- CI placeholders --------------------------------------------------------------------------------

def test_ci_placeholders_become_same_length_unknown_expansions():
    text = "az login -u ${{ secrets.ID }} -p $(secret) --tenant $[variables.t] && echo $(date)"
    masked = mask_placeholders(text, macros=True)
    assert len(masked) == len(text) and "secrets" not in masked and "variables" not in masked
    s = Script(masked, "bash")
    [cmd] = [c for c in s.commands if c.name == "az"]
    assert [w.value for w in cmd.words[1:]] == ["login", "-u", None, "-p", None, "--tenant", None]
    assert mask_placeholders("$(macro)", macros=False) == "$(macro)"  # GitHub runs bash's $(...)


# ---- YAML scalars -----------------------------------------------------------------------------------

def _origin_ok(text: str, value: str, found) -> bool:
    origin, wide = found
    if len(origin) != len(value) + 1:
        return False
    for k, ch in enumerate(value):
        o = origin[k]
        if k in wide:
            continue  # an escape or '' standing for one character
        if text[o] != ch and not (ch in " \n" and text[o] in "\r\n"):
            return False
    return True


def test_yaml_scalar_origin_for_every_style():
    text = ("a: |\n  az login -p \"x\"\n    indented\n\n  last\n"
            "b: 'it''s'\n"
            'c: "tab\\there \\u00e9 \\\n  next"\n'
            "d: >\n  folded\n  line\n\n  para\n"
            "e: plain\n  multi\n"
            "f: |2-\n   two\n")
    doc = make_document("w.yml", "w.yml", text)
    for key in "abcdef":
        value = doc.values[0][key]
        found = doc.scalar_origin((0, key))
        assert found is not None and _origin_ok(text, value, found), key
    assert doc.scalar_origin((0, "missing")) is None


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("az -$\"'\\\n\t#:{}é")), min_size=1, max_size=40),
       st.sampled_from([None, "'", '"', "|", ">"]))
def test_yaml_scalar_origin_matches_what_pyyaml_wrote(value, style):
    text = yaml.safe_dump({"k": value}, default_style=style, allow_unicode=True, width=20)
    doc = make_document("x.yml", "x.yml", text)
    if doc.values[0]["k"] != value:
        return  # a style that cannot hold this value (trailing spaces in a block)
    found = doc.scalar_origin((0, "k"))
    if found is not None:  # unmatched layouts are refused, never mapped wrongly
        assert _origin_ok(text, value, found), (style, text)


def test_workflow_step_positions_map_to_the_yaml_file():
    text = ("jobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n"
            "          az group create \\\n            -n ${{ env.RG }} -l 'west europe'\n")
    doc = make_document("ci.yml", ".github/workflows/ci.yml", text)
    path = (0, "jobs", "d", "steps", 0, "run")
    origin, wide = doc.scalar_origin(path)
    s = Script(mask_placeholders(doc.values[0]["jobs"]["d"]["steps"][0]["run"], False), "bash", origin, wide=wide)
    [cmd] = s.commands
    assert [text[w.start:w.end] for w in cmd.words] == ["az", "group", "create", "-n", "${{ env.RG }}", "-l",
                                                       "'west europe'"]
    assert cmd.words[6].value == "west europe"


# ---- Dockerfile and Makefile ----------------------------------------------------------------------------

def test_dockerfile_runs_continuations_exec_form_heredoc_and_shell():
    text = ("# syntax=docker/dockerfile:1\n"
            "FROM mcr.microsoft.com/azure-cli\n"
            "RUN --mount=type=secret,id=sp az login \\\n"
            "# a comment inside the continuation\n"
            "    --identity && az acr update -n r --admin-enabled true\n"
            'RUN ["az", "group", "list"]\n'
            "RUN <<EOF\naz group show -n a\nEOF\n"
            'SHELL ["pwsh", "-Command"]\n'
            "RUN az vm list \\\n  -o table\n"
            "ENV A=1 B=\"two words\"\nENV LEGACY some value\nARG TOKEN\n")
    doc = make_document("Dockerfile", "Dockerfile", text)
    scripts = doc.scripts()
    cmds = [(s.language, [text[w.start:w.end] for w in c.words]) for s in scripts for c in s.commands]
    assert cmds == [
        ("bash", ["az", "login", "--identity"]),
        ("bash", ["az", "acr", "update", "-n", "r", "--admin-enabled", "true"]),
        ("bash", ["az", "group", "list"]),
        ("bash", ["az", "group", "show", "-n", "a"]),
        ("pwsh", ["az", "vm", "list", "-o", "table"]),
    ]
    settings_ = [(s.keyword, s.name, s.value, text[s.name_start:s.name_end]) for s in doc.settings()]
    assert settings_ == [("ENV", "A", "1", "A"), ("ENV", "B", "two words", "B"), ("ENV", "LEGACY", "some value", "LEGACY"),
                         ("ARG", "TOKEN", None, "TOKEN")]


def test_dockerfile_escape_directive_and_cmd_shell():
    text = ("# escape=`\nFROM mcr.microsoft.com/windows/servercore\n"
            'SHELL ["powershell", "-Command"]\n'
            "RUN az login `\n    --identity\n"
            'SHELL ["cmd", "/S", "/C"]\n'
            "RUN az group list\n")
    doc = make_document("Dockerfile", "Dockerfile", text)
    cmds = [[w.value for w in c.words] for s in doc.scripts() for c in s.commands]
    assert cmds == [["az", "login", "--identity"]]  # cmd.exe scripts are not read


def test_makefile_recipes_undo_make_syntax_with_exact_positions():
    text = ("RG := demo\n"
            "deploy: build\n"
            "\t@echo $$HOME\n"
            "\taz group create -n $(RG) \\\n"
            "\t  -l westeurope\n"
            "\n"
            "define TEMPLATE\n\taz never run\nendef\n")
    doc = make_document("Makefile", "Makefile", text)
    scripts = doc.scripts()
    assert len(scripts) == 2
    echo = scripts[0].commands[0]
    assert echo.words[1].skeleton == "{?}" and echo.words[1].variables == ("HOME",)
    assert text[echo.words[1].start:echo.words[1].end] == "$$HOME"
    az = scripts[1].commands[0]
    assert [text[w.start:w.end] for w in az.words] == ["az", "group", "create", "-n", "$(RG)", "-l", "westeurope"]
    assert az.words[4].value is None


def test_scripts_passed_to_a_shell_or_run_in_a_container_are_read():
    text = ('docker run --rm -v ~/.azure:/root/.azure mcr.microsoft.com/azure-cli /bin/bash -c "\\\n'
            '  az group create -n \\"$RG\\" -l westeurope && az acr update -n r --admin-enabled true"\n'
            "docker run -it mcr.microsoft.com/azure-cli az login\n"
            "sh -c 'az account show'\n")
    s = Script(text, "bash")
    got = [[text[w.start:w.end] for w in c.words] for c in s.commands if c.name == "az"]
    assert got == [["az", "group", "create", "-n", '\\"$RG\\"', "-l", "westeurope"],
                   ["az", "acr", "update", "-n", "r", "--admin-enabled", "true"],
                   ["az", "login"], ["az", "account", "show"]]


def test_keyless_rules_lists_every_file_kind(run_cli):
    from keyless.linter.documents import _KIND_MODULES, KIND_FILES
    from keyless.linter.rule import ALL_KINDS

    assert set(KIND_FILES) == set(ALL_KINDS) == set(_KIND_MODULES) | {"text"}
    rc, out, _ = run_cli("rules")
    assert rc == 0 and all(f"  {kind} " in out for kind in KIND_FILES)
    assert "KL280" in out and "*.ps1" in out and "*.ipynb" in out
