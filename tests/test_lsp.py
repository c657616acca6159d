"""`keyless server`: a real LSP client (pytest-lsp / pygls) talking to `python -m keyless server`
over stdio.

The quick-fix tests use a test-only rule plugin: a module plus a `*.dist-info/entry_points.txt` in a
temporary directory put on the server's PYTHONPATH, exactly how a third-party plugin registers
(`keyless.rules` entry point). Its codes are picked among the codes no installed rule uses, so the
tests keep working while built-in rules are added.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap

import pytest
import pytest_asyncio

pytest.importorskip("pygls")
from lsprotocol import types as lsp  # noqa: E402
from pygls.protocol import default_converter  # noqa: E402
from pytest_lsp import LanguageClient  # noqa: E402

from keyless.linter.rule import load_registry  # noqa: E402

TIMEOUT = 120.0  # a hang guard for waits on the server: a live server answers in well under a second


# ---- the test-only rule plugin ------------------------------------------------------------------

def _free_codes(n: int) -> list[str]:
    used = set(load_registry().codes)
    free = [f"KL2{i:02d}" for i in range(99, -1, -1) if f"KL2{i:02d}" not in used]
    return free[:n]


SAFE, UNSAFE, GUIDE, LAZY = _free_codes(4)

PLUGIN = '''
"""Test-only keyless rules: flag fixed tokens, with every kind of fix."""

import os
import re

from keyless.linter.finding import Applicability, Category, Edit, Fix, Severity
from keyless.linter.rule import Rule


class _Token(Rule):
    """Test rule.

    ## What it does
    Flags a test token.
    """

    category = Category.KEY_AUTH
    token = ""
    lazy = False

    def check(self, doc):
        for m in re.finditer(r"\\b%s\\b" % self.token, doc.text):
            span = doc.lines.span(m.start(), m.end())
            edits = () if self.lazy or self.fix_applicability is Applicability.DISPLAY_ONLY else (
                Edit(span, "kl_done"),)
            fix = Fix("Replace the test token", self.fix_applicability, edits, lazy=self.lazy)
            yield self.finding(doc.relpath, span, key=str(m.start()), fix=fix)

    def materialize_fix(self, doc, finding):
        marker = os.environ.get("KL_LSP_TEST_MARKER")
        if marker:
            with open(marker, "a") as fh:
                fh.write(finding.code + "\\n")
        return Fix("Replace the test token", Applicability.SAFE, (Edit(finding.span, "kl_done"),))


class Safe(_Token):
    """Safe test rule.

    ## What it does
    Flags kl_fixme_safe.
    """

    code = "{SAFE}"
    name = "lsp-test-safe"
    severity = Severity.CRITICAL
    message = "Test finding (safe fix)"
    token = "kl_fixme_safe"
    keywords = ("kl_fixme_safe",)
    fix_applicability = Applicability.SAFE


class Unsafe(_Token):
    """Unsafe test rule.

    ## What it does
    Flags kl_fixme_unsafe.
    """

    code = "{UNSAFE}"
    name = "lsp-test-unsafe"
    severity = Severity.MEDIUM
    message = "Test finding (unsafe fix)"
    token = "kl_fixme_unsafe"
    keywords = ("kl_fixme_unsafe",)
    fix_applicability = Applicability.UNSAFE


class Guide(_Token):
    """Display-only test rule.

    ## What it does
    Flags kl_fixme_guide.
    """

    code = "{GUIDE}"
    name = "lsp-test-guide"
    severity = Severity.LOW
    message = "Test finding (guidance only)"
    token = "kl_fixme_guide"
    keywords = ("kl_fixme_guide",)
    fix_applicability = Applicability.DISPLAY_ONLY


class Lazy(_Token):
    """Lazy test rule.

    ## What it does
    Flags kl_fixme_lazy.
    """

    code = "{LAZY}"
    name = "lsp-test-lazy"
    severity = Severity.INFO
    message = "Test finding (lazy safe fix)"
    token = "kl_fixme_lazy"
    keywords = ("kl_fixme_lazy",)
    fix_applicability = Applicability.SAFE
    lazy = True


RULES = [Safe, Unsafe, Guide, Lazy]
'''


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("klplugin")
    src = PLUGIN
    for name, code in (("SAFE", SAFE), ("UNSAFE", UNSAFE), ("GUIDE", GUIDE), ("LAZY", LAZY)):
        src = src.replace("{%s}" % name, code)
    (d / "kl_lsp_test_plugin.py").write_text(src)
    info = d / "kl_lsp_test_plugin-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kl-lsp-test-plugin\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[keyless.rules]\nzz_lsp_test = kl_lsp_test_plugin\n")
    return str(d)


# ---- a client session ---------------------------------------------------------------------------

def capabilities(*, resolve: bool = False, disabled: bool = True, snippets: bool = False) -> lsp.ClientCapabilities:
    return lsp.ClientCapabilities(
        general=lsp.GeneralClientCapabilities(position_encodings=[lsp.PositionEncodingKind.Utf16]),
        workspace=lsp.WorkspaceClientCapabilities(
            workspace_edit=lsp.WorkspaceEditClientCapabilities(document_changes=True,
                                                               snippet_edit_support=snippets or None),
            did_change_watched_files=lsp.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True),
        ),
        text_document=lsp.TextDocumentClientCapabilities(
            code_action=lsp.CodeActionClientCapabilities(
                code_action_literal_support=lsp.ClientCodeActionLiteralOptions(
                    code_action_kind=lsp.ClientCodeActionKindOptions(value_set=["", "quickfix", "source"])),
                is_preferred_support=True,
                disabled_support=disabled,
                data_support=True,
                resolve_support=lsp.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None,
            ),
            publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(version_support=True),
        ),
    )


def lsp_offset(text: str, pos: lsp.Position) -> int:
    """LSP position (UTF-16) -> index into text; lines end at \\n, \\r\\n or \\r only."""
    starts = [0]
    i = 0
    while i < len(text):
        if text[i] == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1
        if text[i] in "\r\n":
            starts.append(i + 1)
        i += 1
    if pos.line >= len(starts):
        return len(text)
    j, units = starts[pos.line], 0
    while j < len(text) and text[j] not in "\r\n" and units < pos.character:
        units += 2 if ord(text[j]) > 0xFFFF else 1
        j += 1
    return j


def apply_text_edits(text: str, edits) -> str:
    spans = sorted(((lsp_offset(text, e.range.start), lsp_offset(text, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for a, b, new in spans:
        text = text[:a] + new + text[b:]
    return text


class Session:
    def __init__(self, client: LanguageClient, root):
        self.client = client
        self.root = root
        self.published: list[lsp.PublishDiagnosticsParams] = []
        self.registrations: list[lsp.RegistrationParams] = []
        self.messages: list[lsp.ShowMessageParams] = []
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def diags(self, uri: str) -> list[lsp.Diagnostic] | None:
        for p in reversed(self.published):
            if p.uri == uri:
                return list(p.diagnostics)
        return None

    def codes(self, uri: str) -> list[str]:
        return sorted(str(d.code) for d in self.diags(uri) or ())

    async def wait(self, pred, what: str = "condition"):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            value = pred()
            if value:
                return value
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; published: {self.published[-3:]}")
            await asyncio.sleep(0.01)

    async def wait_codes(self, uri: str, codes: list[str]) -> list[lsp.Diagnostic]:
        await self.wait(lambda: self.diags(uri) is not None and self.codes(uri) == sorted(codes),
                        f"diagnostics {sorted(codes)} on {uri}")
        return self.diags(uri)

    def open(self, name: str, text: str, language_id: str = "python") -> str:
        path = self.root / name
        path.write_text(text)
        uri = path.as_uri()
        self.texts[uri], self.versions[uri] = text, 1
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)))
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))

    def save(self, uri: str) -> None:
        with open(lsp_path(uri), "w", newline="") as fh:
            fh.write(self.texts[uri])
        self.client.text_document_did_save(lsp.DidSaveTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri)))

    async def actions(self, uri: str, rng: lsp.Range, only=None, diagnostics=None) -> list[lsp.CodeAction]:
        res = await asyncio.wait_for(self.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), range=rng,
            context=lsp.CodeActionContext(diagnostics=diagnostics or [], only=only))), TIMEOUT)
        return [a for a in res or () if isinstance(a, lsp.CodeAction)]

    def apply(self, edit: lsp.WorkspaceEdit) -> None:
        """Apply a WorkspaceEdit as an editor would, then tell the server (didChange)."""
        per_uri: dict[str, list] = {}
        for dc in edit.document_changes or ():
            assert dc.text_document.version == self.versions[dc.text_document.uri], "edit for a stale version"
            per_uri.setdefault(dc.text_document.uri, []).extend(dc.edits)
        for uri, edits in (edit.changes or {}).items():
            per_uri.setdefault(uri, []).extend(edits)
        for uri, edits in per_uri.items():
            self.change(uri, apply_text_edits(self.texts[uri], edits))


def lsp_path(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(uri).path)


@pytest_asyncio.fixture
async def start(tmp_path, plugin_dir):
    """start(resolve=False) -> a Session with a server running in tmp_path (which has a keyless.toml
    reporting every severity)."""
    clients: list[LanguageClient] = []
    (tmp_path / "keyless.toml").write_text('severity = "info"\n')
    marker = tmp_path / "materialized.txt"

    async def _start(debounce_ms: int = 20, **caps) -> Session:
        client = LanguageClient(converter_factory=default_converter)
        session = Session(client, tmp_path)
        session.marker = marker

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(ls, params: lsp.PublishDiagnosticsParams):
            session.published.append(params)

        @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
        def _register(ls, params: lsp.RegistrationParams):
            session.registrations.append(params)

        @client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def _message(ls, params: lsp.ShowMessageParams):
            session.messages.append(params)

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (plugin_dir, env.get("PYTHONPATH")) if p)
        env["KL_LSP_TEST_MARKER"] = str(marker)
        await client.start_io(sys.executable, "-m", "keyless", "server", env=env, cwd=str(tmp_path))
        clients.append(client)
        await asyncio.wait_for(client.initialize_session(lsp.InitializeParams(
            capabilities=capabilities(**caps), root_uri=tmp_path.as_uri(),
            initialization_options={"debounceMs": debounce_ms},
            workspace_folders=[lsp.WorkspaceFolder(uri=tmp_path.as_uri(), name="ws")])), TIMEOUT)
        return session

    yield _start
    for client in clients:
        try:
            await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
        finally:
            await client.stop()


def _range(line: int, start: int, end: int) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=line, character=start), end=lsp.Position(line=line, character=end))


# ---- tests --------------------------------------------------------------------------------------

# Fixes are verified like any other: the names the test fixes write must exist (a star import).
NAMES = "from kl_test_names import *\n"
SAMPLE = 's = "😀😀"; kl_fixme_safe = 1\nx = kl_fixme_unsafe\ny = kl_fixme_guide\nz = kl_fixme_lazy\n' + NAMES


@pytest.mark.asyncio
async def test_diagnostics_on_open_change_and_save(start):
    s = await start(debounce_ms=300)  # the default
    uri = s.open("app.py", SAMPLE)
    diags = await s.wait_codes(uri, [SAFE, UNSAFE, GUIDE, LAZY])
    by_code = {d.code: d for d in diags}
    safe = by_code[SAFE]
    # 0-based line, UTF-16 columns: each emoji is two code units.
    assert safe.range == _range(0, 12, 25)  # 10 code points before it, 12 UTF-16 units
    assert by_code[UNSAFE].range == _range(1, 4, 19)
    assert safe.source == "keyless" and safe.message == "Test finding (safe fix)"
    assert [by_code[c].severity for c in (SAFE, UNSAFE, GUIDE, LAZY)] == [
        lsp.DiagnosticSeverity.Error, lsp.DiagnosticSeverity.Warning,
        lsp.DiagnosticSeverity.Information, lsp.DiagnosticSeverity.Hint]
    # `data` carries what code actions need and nothing from the source text.
    for d in diags:
        blob = json.dumps(d.data)
        assert "kl_fixme" not in blob and "😀" not in blob and "kl_fixme" not in d.message
    assert by_code[SAFE].data["fix"] == "safe" and by_code[GUIDE].data["fix"] == "display-only"
    # Linting never materializes a lazy fix.
    assert not s.marker.exists()
    # The config watchers were registered.
    methods = [r.method for p in s.registrations for r in p.registrations]
    assert lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES in methods

    # didChange: debounced; a burst of edits gives one lint of the last text.
    count = len(s.published)
    s.change(uri, "a = kl_fixme_unsafe\n")
    s.change(uri, "a = kl_fixme_unsafe\nb = kl_fixme_guide\n")
    await s.wait_codes(uri, [UNSAFE, GUIDE])
    assert len(s.published) == count + 1
    assert s.published[-1].version == 3

    # didSave: published again right away (the in-memory text, not the disk).
    count = len(s.published)
    s.texts[uri] = "nothing here\n"  # what is on disk now differs from the buffer
    s.save(uri)
    await s.wait(lambda: len(s.published) > count, "a publish after save")
    assert s.codes(uri) == sorted([UNSAFE, GUIDE])

    # An untitled buffer (kind from its language id); a form feed is not a line break in LSP.
    untitled = "untitled:Untitled-1"
    s.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=untitled, language_id="python", version=1, text="\x0c\nx = 1  # \x0c kl_fixme_safe\n")))
    (d,) = await s.wait_codes(untitled, [SAFE])
    assert d.range == _range(1, 11, 24)

    # didClose clears the file's diagnostics.
    s.client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    await s.wait(lambda: s.diags(uri) == [], "cleared diagnostics")


@pytest.mark.asyncio
async def test_quick_fixes(start):
    s = await start()
    uri = s.open("app.py", SAMPLE)
    diags = await s.wait_codes(uri, [SAFE, UNSAFE, GUIDE, LAZY])
    by_code = {d.code: d for d in diags}

    # Unsafe fixes say so in the title and are not preferred.
    actions = await s.actions(uri, by_code[UNSAFE].range, diagnostics=[by_code[UNSAFE]],
                              only=[lsp.CodeActionKind.QuickFix])
    titles = [a.title for a in actions]
    assert "Fix (unsafe: needs a role assignment): Replace the test token" in titles
    unsafe = next(a for a in actions if a.title.startswith("Fix (unsafe"))
    assert not unsafe.is_preferred and list(unsafe.diagnostics) == [by_code[UNSAFE]]

    # Display-only: shown disabled, with the reason, and no edit.
    actions = await s.actions(uri, by_code[GUIDE].range, only=[lsp.CodeActionKind.QuickFix])
    guide = [a for a in actions if a.disabled is not None]
    assert len(guide) == 1 and guide[0].edit is None and "keyless explain" in guide[0].disabled.reason

    # A safe quick fix (on a line with astral characters) applies and its diagnostic goes away.
    actions = await s.actions(uri, by_code[SAFE].range, only=[lsp.CodeActionKind.QuickFix])
    fix = next(a for a in actions if a.title == "Fix: Replace the test token")
    assert fix.is_preferred and fix.kind == lsp.CodeActionKind.QuickFix
    s.apply(fix.edit)
    assert s.texts[uri].startswith('s = "😀😀"; kl_done = 1\n')
    await s.wait_codes(uri, [UNSAFE, GUIDE, LAZY])

    # A lazy fix is materialized only now that its action is requested.
    assert not s.marker.exists()
    lazy_range = {d.code: d for d in s.diags(uri)}[LAZY].range
    actions = await s.actions(uri, lazy_range, only=[lsp.CodeActionKind.QuickFix])
    assert s.marker.read_text().split() == [LAZY]
    s.apply(next(a for a in actions if a.title.startswith("Fix:")).edit)
    assert "z = kl_done\n" in s.texts[uri]
    await s.wait_codes(uri, [UNSAFE, GUIDE])


@pytest.mark.asyncio
async def test_fix_all_applies_only_safe_fixes(start):
    s = await start()
    text = SAMPLE + "w = kl_fixme_safe + kl_fixme_safe\n"
    uri = s.open("app.py", text)
    await s.wait_codes(uri, [SAFE, SAFE, SAFE, UNSAFE, GUIDE, LAZY])
    actions = await s.actions(uri, _range(0, 0, 0), only=["source.fixAll"])
    assert [a.kind for a in actions] == ["source.fixAll.keyless"]
    s.apply(actions[0].edit)
    assert s.texts[uri] == (
        's = "😀😀"; kl_done = 1\nx = kl_fixme_unsafe\ny = kl_fixme_guide\nz = kl_done\n' + NAMES +
        'w = kl_done + kl_done\n')
    await s.wait_codes(uri, [UNSAFE, GUIDE])
    # Nothing safe left to fix: no fix-all action.
    assert await s.actions(uri, _range(0, 0, 0), only=[FIX_ALL]) == []


FIX_ALL = "source.fixAll.keyless"


@pytest.mark.asyncio
async def test_resolve_materializes_lazily(start):
    s = await start(resolve=True, disabled=False)
    uri = s.open("app.py", "z = kl_fixme_lazy\ny = kl_fixme_guide\n" + NAMES)
    diags = await s.wait_codes(uri, [GUIDE, LAZY])
    by_code = {d.code: d for d in diags}
    actions = await s.actions(uri, by_code[LAZY].range)
    fix = next(a for a in actions if a.title.startswith("Fix:"))
    assert fix.edit is None and not s.marker.exists()
    resolved = await asyncio.wait_for(s.client.code_action_resolve_async(fix), TIMEOUT)
    assert s.marker.read_text().split() == [LAZY]
    s.apply(resolved.edit)
    await s.wait_codes(uri, [GUIDE])
    # Without disabledSupport, display-only fixes are not offered at all (the suppression is).
    actions = await s.actions(uri, by_code[GUIDE].range)
    assert [a.title for a in actions] == [f"Suppress {GUIDE} with a comment (then write the reason)"]
    # Fix-all resolves too.
    s.change(uri, "a = kl_fixme_safe\n" + NAMES)
    await s.wait_codes(uri, [SAFE])
    (fix_all,) = await s.actions(uri, _range(0, 0, 0), only=[FIX_ALL])
    assert fix_all.edit is None
    resolved = await asyncio.wait_for(s.client.code_action_resolve_async(fix_all), TIMEOUT)
    s.apply(resolved.edit)
    assert s.texts[uri] == "a = kl_done\n" + NAMES


@pytest.mark.asyncio
async def test_suppress_with_reason(start):
    s = await start()
    text = "def f():\n    x = kl_fixme_unsafe\n    return x\n" + NAMES
    uri = s.open("app.py", text)
    (diag,) = await s.wait_codes(uri, [UNSAFE])
    actions = await s.actions(uri, diag.range, diagnostics=[diag])
    sup = next(a for a in actions if a.title.startswith("Suppress"))
    s.apply(sup.edit)
    assert s.texts[uri] == (
        f"def f():\n    # keyless: ignore[{UNSAFE}]\n    x = kl_fixme_unsafe\n    return x\n" + NAMES)
    # No placeholder reason: the finding stays, and KL190 says the comment needs one.
    await s.wait_codes(uri, [UNSAFE, "KL190"])
    # Once the user writes a reason, both go.
    s.change(uri, s.texts[uri].replace(f"ignore[{UNSAFE}]", f"ignore[{UNSAFE}] test token, never deployed"))
    await s.wait_codes(uri, [])
    # A placeholder is not a reason either (the quick fix used to write `TODO: reason`).
    s.change(uri, s.texts[uri].replace("test token, never deployed", "TODO: reason"))
    await s.wait_codes(uri, [UNSAFE, "KL190"])

    # YAML: `#` comments, and a second code joins an existing comment that has a reason.
    yuri = s.open("deploy.yaml", "env:\n  - value: kl_fixme_guide kl_fixme_safe\n", language_id="yaml")
    diags = await s.wait_codes(yuri, [SAFE, GUIDE])
    guide = next(d for d in diags if d.code == GUIDE)
    s.apply(next(a for a in await s.actions(yuri, guide.range) if a.title.startswith("Suppress")).edit)
    assert s.texts[yuri].startswith(f"env:\n  # keyless: ignore[{GUIDE}]\n  - value:")
    await s.wait_codes(yuri, [SAFE, GUIDE, "KL190"])
    s.change(yuri, s.texts[yuri].replace(f"ignore[{GUIDE}]", f"ignore[{GUIDE}] sample values"))
    (safe,) = await s.wait_codes(yuri, [SAFE])
    s.apply(next(a for a in await s.actions(yuri, safe.range) if a.title.startswith("Suppress")).edit)
    assert f"# keyless: ignore[{GUIDE}, {SAFE}] sample values\n" in s.texts[yuri]
    await s.wait_codes(yuri, [])


@pytest.mark.asyncio
async def test_suppress_puts_the_cursor_where_the_reason_goes(start):
    s = await start(snippets=True)
    uri = s.open("app.py", "x = kl_fixme_guide\n")
    (diag,) = await s.wait_codes(uri, [GUIDE])
    actions = await s.actions(uri, diag.range, diagnostics=[diag])
    sup = next(a for a in actions if a.title.startswith("Suppress"))
    (edit,) = sup.edit.document_changes[0].edits
    # A snippet whose only tab stop is the reason: nothing is typed in the user's place.
    assert edit.snippet.value == f"# keyless: ignore[{GUIDE}] $0\n"


@pytest.mark.asyncio
async def test_config_reload(start):
    s = await start()
    uri = s.open("app.py", "x = kl_fixme_unsafe\ny = kl_fixme_guide\n")
    await s.wait_codes(uri, [UNSAFE, GUIDE])

    # A watched config file changes on disk: the client notifies, diagnostics follow.
    (s.root / "keyless.toml").write_text(f'severity = "info"\nignore = ["{UNSAFE}"]\n')
    s.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[
        lsp.FileEvent(uri=s.uri("keyless.toml"), type=lsp.FileChangeType.Changed)]))
    await s.wait_codes(uri, [GUIDE])

    # Saving the config file in the editor reloads it too.
    cfg = s.open("keyless.toml", f'severity = "info"\nper-file-ignores = {{"*.py" = ["{GUIDE}"]}}\n',
                 language_id="toml")
    s.save(cfg)
    await s.wait_codes(uri, [UNSAFE])

    # An invalid config: an error message, and the last valid settings stay in force.
    s.texts[cfg] = 'select = "not a list"\n'
    s.save(cfg)
    await s.wait(lambda: any("configuration error" in m.message for m in s.messages), "a config error message")
    assert s.codes(uri) == [UNSAFE]


def test_check_path_does_not_import_pygls(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    code = textwrap.dedent("""
        import sys
        from keyless.cli import main
        try:
            main(["check", "--no-cache", sys.argv[1]])
        except SystemExit:
            pass
        print("pygls" in sys.modules or "lsprotocol" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


def test_suppression_comment_styles():
    from keyless.linter.documents import make_document
    from keyless.linter.lsp import suppression_edit

    def edit(name, text, line, code="KL101"):
        doc = make_document("/x/" + name, name, text)
        res = suppression_edit(doc, line, code)
        return None if res is None else text[: res[0]] + res[2] + text[res[1]:]

    assert edit("main.tf", 'x = "k"\n', 1) == '# keyless: ignore[KL101]\nx = "k"\n'
    assert edit("app.js", "  k = 1;\r\n", 1) == "  // keyless: ignore[KL101]\r\n  k = 1;\r\n"
    assert edit("web.config", "<a k='1'/>\n", 1) == "<!-- keyless: ignore[KL101] -->\n<a k='1'/>\n"
    assert edit("data.json", '{"k": "v"}\n', 1) is None  # JSON has no comments
    # Inside a Python multi-line string or after a backslash: a comment line would change the code.
    assert edit("a.py", 'S = """\nkey\n"""\n', 2) is None
    assert edit("a.py", "x = 1 + \\\n    2\n", 2) is None
    assert edit("a.py", "x = f(\n    'k')\n", 2) == "x = f(\n    # keyless: ignore[KL101]\n    'k')\n"
    # Inside a YAML block scalar or an HCL heredoc: the comment would become text.
    assert edit("a.yaml", "a: |\n  key\n", 2) is None
    assert edit("a.tf", "a = <<EOF\nkey\nEOF\n", 2) is None
    assert edit("a.tf", "a = <<EOF\nx\nEOF\nb = 1\n", 4) is not None


@pytest.mark.asyncio
async def test_no_secret_in_diagnostics_or_code_actions(start):
    """The LSP artifacts (diagnostics, their data, every code action) never carry a secret."""
    import keygen

    key = keygen.identifiable("+ASt", seed="lsp-leak")
    aad = keygen.aad_secret(seed="lsp-leak")
    text = ("from azure.storage.blob import BlobServiceClient\n"
            f'CS = "DefaultEndpointsProtocol=https;AccountName=lspleak;AccountKey={key};EndpointSuffix=core.windows.net"\n'
            f'client_secret = "{aad}"\n'
            "svc = BlobServiceClient.from_connection_string(CS)\n")
    s = await start()
    uri = s.open("leak.py", text)
    diags = await s.wait_codes(uri, ["KL101", "KL112", "KL201"])
    blobs = [json.dumps({"m": d.message, "data": d.data, "code": d.code}) for d in diags]
    for d in diags:
        actions = await s.actions(uri, d.range, diagnostics=[d])
        blobs += [json.dumps(lsp_converter_dump(a)) for a in actions]
    everything = "\n".join(blobs)
    for secret in (key, aad):
        assert not any(secret[i:i + 8] in everything for i in range(len(secret) - 7)), "secret material leaked"


def lsp_converter_dump(obj):
    return default_converter().unstructure(obj)


MODULE_MAIN = '''resource "azurerm_role_assignment" "app" {
  scope                = data.azurerm_subscription.current.id
  role_definition_name = var.role
  principal_id         = azurerm_user_assigned_identity.app.principal_id
}
'''


@pytest.mark.asyncio
async def test_companion_edits_relint_dependents_with_unsaved_text(start):
    """main.tf reads var.role from variables.tf: editing variables.tf (unsaved) updates main.tf's
    diagnostics, and closing it without saving goes back to what is on disk."""
    s = await start()
    s.open("variables.tf", 'variable "role" {\n  default = "Reader"\n}\n', language_id="terraform")
    main = s.open("main.tf", MODULE_MAIN, language_id="terraform")
    variables = (s.root / "variables.tf").as_uri()
    await s.wait(lambda: s.diags(main) is not None, "main.tf linted")
    assert "KL401" not in s.codes(main)

    s.change(variables, 'variable "role" {\n  default = "Owner"\n}\n')  # not saved
    await s.wait(lambda: "KL401" in s.codes(main), "KL401 on main.tf from the unsaved default")
    (d,) = [d for d in s.diags(main) if d.code == "KL401"]
    assert d.message.startswith("'Owner' at ")  # the unsaved default decides the role

    s.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=variables)))
    await s.wait(lambda: "KL401" not in s.codes(main), "main.tf back to the saved default")


@pytest.mark.asyncio
async def test_untitled_buffers_of_the_script_and_workflow_languages(start):
    """Editors' language ids pick the reader of a buffer that has no file name yet."""
    s = await start()
    role = "az role assignment create --role Owner --scope /subscriptions/x --assignee y\n"
    buffers = {
        "shellscript": role,
        "powershell": "New-AzRoleAssignment -ObjectId $id -RoleDefinitionName Owner\n",
        "dockerfile": "FROM x\nRUN " + role,
        "makefile": "grant:\n\t" + role,
        "github-actions-workflow": "jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: " + role,
    }
    for n, (language, text) in enumerate(buffers.items()):
        uri = f"untitled:Untitled-{n + 10}"
        s.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
            uri=uri, language_id=language, version=1, text=text)))
        await s.wait_codes(uri, ["KL401"])
    # A Bicep parameter file not saved yet is read as one (its literal values are parameter values).
    uri = "untitled:Untitled-20"
    s.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id="bicep-params", version=1,
        text="using 'main.bicep'\n\nparam sqlAdminPassword = 'Xq7vR2mLp9sTw4Kz!'\n")))
    await s.wait_codes(uri, ["KL106"])


def test_notebooks_get_no_comment_line():
    from keyless.linter.documents import make_document
    from keyless.linter.lsp import comment_style

    assert comment_style(make_document("nb.ipynb", "nb.ipynb", '{"cells": []}')) is None
    assert comment_style(make_document("deploy.ps1", "deploy.ps1", "")) == ("#", "")


def test_no_suppression_line_inside_a_continued_command_or_a_heredoc():
    from keyless.linter.documents import make_document
    from keyless.linter.lsp import suppression_edit

    def offered(name, text, line):
        return suppression_edit(make_document("/x/" + name, name, text), line, "KL401") is not None

    sh = "az role assignment create \\\n  --role Owner\ncat > f <<EOF\nkey\nEOF\necho done\n"
    assert offered("a.sh", sh, 1) and not offered("a.sh", sh, 2)
    assert not offered("a.sh", sh, 4) and offered("a.sh", sh, 6)
    ps = "New-AzRoleAssignment `\n  -RoleDefinitionName Owner\n$s = @\"\nkey\n\"@\nWrite-Host x\n"
    assert not offered("a.ps1", ps, 2) and not offered("a.ps1", ps, 4) and offered("a.ps1", ps, 6)


@pytest.mark.asyncio
async def test_the_configured_baseline_applies_and_keyless_01_baselines_are_understood(start):
    """As `check` does: the baseline configured relative to the config file, and a keyless 0.1
    baseline (unsalted SHA-256 entries) still hides the secrets it accepted."""
    import hashlib

    import keygen

    password = keygen.password("lsp-baseline")
    sql = ('SQL = "Server=tcp:contoso-sql.database.windows.net,1433;Initial Catalog=app;'
           'User ID=appadmin;Password={};Encrypt=True"\n')
    old_fp = hashlib.sha256(b"KL106\0" + password.encode() + b"\0").hexdigest()
    s = await start()
    (s.root / "ci").mkdir()
    (s.root / "ci" / "base.json").write_text(json.dumps({"version": 1, "findings": [
        {"code": "KL106", "path": "app.py", "fingerprint": old_fp, "count": 1}]}))
    (s.root / "keyless.toml").write_text('severity = "info"\nbaseline = "ci/base.json"\n')
    uri = s.open("app.py", sql.format(password))
    await s.wait_codes(uri, [])
    other = s.open("other.py", sql.format(keygen.password("lsp-new")))
    await s.wait_codes(other, ["KL106"])


@pytest.mark.asyncio
async def test_project_findings_as_check_reports_them_and_follow_other_buffers(start, run_cli):
    """Opening one file gives the project findings `keyless check .` reports for it (the server
    reads the rest of the repository), and an unsaved edit of another open file that changes what
    it tells the project model re-lints it."""
    import shutil

    from conftest import FIXTURES

    s = await start()
    src = os.path.join(FIXTURES, "KL505", "project_azd")
    shutil.copytree(src, s.root, dirs_exist_ok=True)
    rc, out, _ = run_cli("check", ".", "--no-cache", "--output-format", "json", "--select", "KL505", cwd=s.root)
    (want,) = [f for f in json.loads(out)["findings"] if f["path"] == "src/worker/main.py"]
    worker = s.open("src/worker/main.py", (s.root / "src" / "worker" / "main.py").read_text())
    (d,) = [d for d in await s.wait_codes(worker, ["KL505"])]
    assert d.message == want["message"]
    assert (d.range.start.line + 1, d.range.start.character + 1) == (want["location"]["line"], want["location"]["column"])

    main_tf = (s.root / "infra" / "main.tf").read_text()
    tf = s.open("infra/main.tf", main_tf, language_id="terraform")
    await s.wait(lambda: s.diags(tf) is not None, "main.tf linted")
    s.change(tf, main_tf.replace('"SystemAssigned, UserAssigned"', '"UserAssigned"'))  # one identity left
    await s.wait(lambda: s.codes(worker) == [], "KL505 gone from the worker with the unsaved edit")


# ---- Bicep buffers -------------------------------------------------------------------------------

STORAGE_BICEP = """param location string = resourceGroup().location

resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stdata'
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: true
  }
}

output key string = sa.listKeys().keys[0].value
"""


def check_positions(run_cli, root, select: str) -> dict[str, list[tuple[str, int, int]]]:
    """What `keyless check .` reports: path -> [(code, 0-based line, 0-based column)]."""
    rc, out, err = run_cli("check", ".", "--no-cache", "--output-format", "json", "--select", select, cwd=root)
    assert rc in (0, 1), err
    found: dict[str, list] = {}
    for f in json.loads(out)["findings"]:
        found.setdefault(f["path"], []).append((f["code"], f["location"]["line"] - 1, f["location"]["column"] - 1))
    return {k: sorted(v) for k, v in found.items()}


def published(diags) -> list[tuple[str, int, int]]:
    return sorted((str(d.code), d.range.start.line, d.range.start.character) for d in diags)


@pytest.mark.asyncio
async def test_a_bicep_buffer_gets_the_findings_check_reports_at_the_bicep_lines(start, run_cli):
    """didOpen with languageId `bicep` -> publishDiagnostics with the codes and positions `keyless
    check` gives the saved file; an unsaved edit that turns the switch off clears its finding."""
    s = await start()
    (s.root / "infra").mkdir()
    uri = s.open("infra/main.bicep", STORAGE_BICEP, language_id="bicep")
    diags = await s.wait_codes(uri, ["KL258", "KL260"])
    want = check_positions(run_cli, s.root, "KL258,KL260")["infra/main.bicep"]
    assert published(diags) == want
    assert [(line, col) for code, line, col in want if code == "KL260"] == [(8, 26)]  # `true`, not the file's top
    assert [(line, col) for code, line, col in want if code == "KL258"] == [(12, 20)]  # the listKeys() output
    (kl260,) = [d for d in diags if d.code == "KL260"]
    assert "Storage account 'stdata'" in kl260.message

    s.change(uri, STORAGE_BICEP.replace("allowSharedKeyAccess: true", "allowSharedKeyAccess: false"))
    await s.wait_codes(uri, ["KL258"])


@pytest.mark.asyncio
async def test_a_bicep_module_whose_caller_decides_is_reported_at_the_callers_params(start, run_cli):
    """The module's own buffer is clean (its default is secure); the caller's buffer gets the
    finding at the `params` entry that passes the insecure value, as `keyless check .` reports it,
    and follows an unsaved edit of that entry."""
    import shutil

    from conftest import FIXTURES

    s = await start()
    shutil.copytree(os.path.join(FIXTURES, "KL260", "project_bicep_module"), s.root, dirs_exist_ok=True)
    want = check_positions(run_cli, s.root, "KL260")
    assert list(want) == ["main.bicep"]  # the caller decides: nothing in the module
    module_text = (s.root / "modules" / "storage.bicep").read_text()
    module = s.open("modules/storage.bicep", module_text, language_id="bicep")
    await s.wait(lambda: s.diags(module) is not None, "the module linted")
    assert s.codes(module) == []

    caller_text = (s.root / "main.bicep").read_text()
    caller = s.open("main.bicep", caller_text, language_id="bicep")
    diags = await s.wait_codes(caller, ["KL260"])
    assert published(diags) == want["main.bicep"]
    assert caller_text.splitlines()[diags[0].range.start.line].strip() == "sharedKey: true"
    assert "via module 'data'" in diags[0].message  # (the quick fix's help names modules/storage.bicep)

    s.change(caller, caller_text.replace("sharedKey: true", "sharedKey: false"))
    await s.wait_codes(caller, [])


PARAMS_PROJECT = {
    "infra/main.bicep": """param sharedKey bool = false
@secure()
param sqlPassword string

module data 'modules/storage.bicep' = {
  name: 'data'
  params: {
    name: 'stdata'
    sharedKey: sharedKey
  }
}

resource sql 'Microsoft.Sql/servers@2023-08-01-preview' = {
  name: 'sqlorders'
  location: 'westeurope'
  properties: {
    administratorLogin: 'sqladmin'
    administratorLoginPassword: sqlPassword
  }
}
""",
    "infra/modules/storage.bicep": """param name string
param sharedKey bool = false

resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: 'westeurope'
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: sharedKey
  }
}
""",
    "infra/main.bicepparam": """using 'main.bicep'

param sharedKey = true
param sqlPassword = 'Xq7vR2mLp9sTw4Kz!'
""",
}


@pytest.mark.asyncio
async def test_a_bicepparam_buffer_and_the_template_it_deploys_agree_with_check(start, run_cli):
    """didOpen of a `.bicepparam` (languageId `bicep-params`) and of the template it deploys
    (`bicep`, through a local module): each buffer gets what `keyless check .` reports for its file
    (codes, lines, columns): the parameter file's literal password, and the module's Shared Key
    switch at the caller's `params` entry, decided by the parameter file. An unsaved edit of the
    parameter file that fixes both clears the template's finding as well as its own."""
    s = await start()
    for rel, text in PARAMS_PROJECT.items():
        (s.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (s.root / rel).write_text(text)
    want = check_positions(run_cli, s.root, "ALL")
    assert sorted(want) == ["infra/main.bicep", "infra/main.bicepparam"], want
    assert [c for c, _, _ in want["infra/main.bicep"]] == ["KL260", "KL270"]  # KL270: SQL logins accepted
    assert [c for c, _, _ in want["infra/main.bicepparam"]] == ["KL106"]

    main = s.open("infra/main.bicep", PARAMS_PROJECT["infra/main.bicep"], language_id="bicep")
    params = s.open("infra/main.bicepparam", PARAMS_PROJECT["infra/main.bicepparam"], language_id="bicep-params")
    assert published(await s.wait_codes(main, ["KL260", "KL270"])) == want["infra/main.bicep"]
    assert published(await s.wait_codes(params, ["KL106"])) == want["infra/main.bicepparam"]
    (kl260,) = [d for d in s.diags(main) if d.code == "KL260"]
    assert PARAMS_PROJECT["infra/main.bicep"].splitlines()[kl260.range.start.line].strip() == "sharedKey: sharedKey"
    assert "main.bicepparam" in kl260.message

    s.change(params, "using 'main.bicep'\n\nparam sharedKey = false\n"
                     "param sqlPassword = readEnvironmentVariable('SQL_PASSWORD')\n")
    await s.wait_codes(params, [])
    await s.wait(lambda: s.codes(main) == ["KL270"], "KL260 gone from the template with the unsaved parameter file")
