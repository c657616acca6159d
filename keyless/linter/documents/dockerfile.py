"""Dockerfiles: instructions with exact positions, `RUN` scripts and `ENV`/`ARG` settings.

Read by hand (a Dockerfile is a list of line-based instructions; the tree-sitter grammar on PyPI
still uses the deprecated int-pointer binding): parser directives (`# escape=`` ` ``), comments,
line continuations with the escape character (comment lines inside a continuation are dropped,
as BuildKit does), `RUN` heredocs (`RUN <<EOF` ... `EOF`), shell and exec (`["az", ...]`) forms,
and `SHELL` switching later `RUN`s to PowerShell. Every character of a joined instruction keeps
its offset in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from keyless.linter.documents import Document, register_kind
from keyless.linter.documents.shell import Command, Script, Word

_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_KEYWORD = re.compile(r"[ \t]*([A-Za-z]+)(?=[ \t\r\n]|$)")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][\w.-]*)\2")


@dataclass
class Instruction:
    keyword: str  # upper-cased
    start: int  # offset of the keyword
    text: str  # the arguments after joining continuations
    origin: list[int]  # file offset of each character of `text` (plus the end)
    heredocs: list[tuple[str, int, int]] = field(default_factory=list)  # (body, start, end) in the file

    def span(self, start: int, end: int) -> tuple[int, int]:
        """File offsets of text[start:end]."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


@dataclass
class Setting:
    """One `ENV`/`ARG` name with its value (None: `ARG NAME` without a default)."""

    keyword: str
    name: str
    value: str | None
    name_start: int
    name_end: int
    value_start: int
    value_end: int


class DockerfileDocument(Document):
    kind = "dockerfile"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instructions: list[Instruction] = []
        self.escape = "\\"

    def _parse(self) -> None:
        self.instructions = list(_read(self.text, self))

    def scripts(self) -> list[Script]:
        """One script per shell-form `RUN` (and per heredoc body); exec-form `RUN`s give a
        script whose only command is built from the JSON array. `RUN` under a `SHELL` that is not
        a POSIX shell or PowerShell (cmd) is skipped."""
        self.ensure_parsed()
        out: list[Script] = []
        language: str | None = "bash"
        for ins in self.instructions:
            if ins.keyword == "FROM":
                language = "bash"
            elif ins.keyword == "SHELL":
                language = _shell_language(ins.text)
            elif ins.keyword == "RUN" and language is not None:
                out.extend(_run_scripts(ins, language))
        return out

    def settings(self) -> list[Setting]:
        self.ensure_parsed()
        out: list[Setting] = []
        for ins in self.instructions:
            if ins.keyword in ("ENV", "ARG"):
                out.extend(_settings(ins))
        return out


def _read(text: str, doc: DockerfileDocument):
    """Instructions in order. Parser directives come first; the escape character changes
    continuations for the rest of the file."""
    lines = _lines(text)
    i = 0
    directives = True
    while i < len(lines):
        start, end = lines[i]
        line = text[start:end]
        stripped = line.strip()
        if directives:
            m = _DIRECTIVE.match(stripped)
            if m and m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
                doc.escape = m.group(2)
                i += 1
                continue
            if m is None or not stripped.startswith("#"):
                directives = False
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        m = _KEYWORD.match(line)
        if m is None:
            i += 1
            continue
        keyword = m.group(1).upper()
        chars: list[str] = []
        origin: list[int] = []
        pos = start + m.end()
        seg_end = end
        while True:
            segment = text[pos:seg_end]
            cont = segment.rstrip(" \t").endswith(doc.escape)
            if cont:
                cut = len(segment.rstrip(" \t")) - 1
                segment = segment[:cut]
            for k, ch in enumerate(segment):
                chars.append(ch)
                origin.append(pos + k)
            i += 1
            if not cont:
                break
            # the next non-comment line continues the instruction (blank lines too)
            while i < len(lines) and text[lines[i][0]:lines[i][1]].lstrip().startswith("#"):
                i += 1
            if i >= len(lines):
                break
            pos, seg_end = lines[i]
        origin.append(origin[-1] + 1 if origin else pos)
        ins = Instruction(keyword, start + len(line) - len(line.lstrip()), "".join(chars), origin)
        if keyword in ("RUN", "COPY", "ADD"):
            # here-documents: their bodies follow the instruction line
            for hm in _HEREDOC.finditer(ins.text):
                strip_tabs, delim = hm.group(1) == "-", hm.group(3)
                body_start = lines[i][0] if i < len(lines) else len(text)
                while i < len(lines):
                    ls, le = lines[i]
                    ln = text[ls:le]
                    i += 1
                    if (ln.lstrip("\t") if strip_tabs else ln) == delim:
                        ins.heredocs.append((text[body_start:ls], body_start, ls))
                        break
        yield ins


def _lines(text: str) -> list[tuple[int, int]]:
    out = []
    pos = 0
    n = len(text)
    while pos < n:
        nl = text.find("\n", pos)
        if nl < 0:
            nl = n
        end = nl - 1 if nl > pos and text[nl - 1] == "\r" else nl
        out.append((pos, end))
        pos = nl + 1
    return out


def _shell_language(args: str) -> str | None:
    import json

    try:
        argv = json.loads(args.strip())
    except ValueError:
        return None
    if not isinstance(argv, list) or not argv or not isinstance(argv[0], str):
        return None
    exe = argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    if exe.endswith(".exe"):
        exe = exe[:-4]
    if exe in ("pwsh", "powershell"):
        return "pwsh"
    if exe in ("sh", "bash", "ash", "dash", "zsh", "ksh"):
        return "bash"
    return None


_RUN_FLAG = re.compile(r"[ \t]*--[a-z-]+(?:=(?:\"[^\"]*\"|\S)*)?")


def _run_scripts(ins: Instruction, language: str) -> list[Script]:
    text = ins.text
    pos = 0
    while True:  # RUN --mount=... --network=... flags
        m = _RUN_FLAG.match(text, pos)
        if m is None:
            break
        pos = m.end()
    rest = text[pos:].lstrip(" \t")
    pos = len(text) - len(rest)
    if rest.startswith("["):
        script = _exec_form(ins, pos, language)
        return [script] if script is not None else []
    scripts = []
    if ins.heredocs and _HEREDOC.match(rest):
        for body, start, _ in ins.heredocs:
            scripts.append(Script(body, language, shift=start))
        return scripts
    pieces = [(ins.origin[k], text[k], 1) for k in range(pos, len(text))]
    return [Script.from_pieces(pieces, language)] if pieces else []


def _exec_form(ins: Instruction, pos: int, language: str) -> Script | None:
    """`RUN ["az", "login", ...]`: the command is the JSON array, no shell involved."""
    from keyless.linter.documents.json import JsonSyntaxError, parse_json

    try:
        value, positions = parse_json(ins.text[pos:])
    except (JsonSyntaxError, RecursionError):
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        return None
    words = []
    for v, (s, e, _) in zip(value, positions[2]):
        hs, he = ins.span(pos + s, pos + e)
        words.append(Word(v, v, hs + 1, he - 1))  # inside the quotes
    script = Script("", language)
    hs, he = ins.span(pos, len(ins.text))
    script._commands = [Command(words, hs, he, language)]
    script._assignments = {}
    return script


def _settings(ins: Instruction) -> list[Setting]:
    """`ENV A=1 B="two words"`, legacy `ENV A one value`, `ARG A` and `ARG A=default`."""
    text = ins.text
    tokens = _tokens(text)
    out = []
    if ins.keyword == "ENV" and tokens and "=" not in tokens[0][0]:
        # legacy form: the rest of the line is the value
        name, ns, ne = tokens[0]
        rest_start = ne
        while rest_start < len(text) and text[rest_start] in " \t":
            rest_start += 1
        raw = text[rest_start:].rstrip(" \t")
        value = raw
        s, e = ins.span(rest_start, rest_start + len(raw))
        nsp = ins.span(ns, ne)
        out.append(Setting("ENV", name, value, nsp[0], nsp[1], s, e))
        return out
    for tok, ts, te in tokens:
        raw = text[ts:te]
        eq = raw.find("=")
        if eq < 0:
            if ins.keyword == "ARG":
                s, e = ins.span(ts, te)
                out.append(Setting("ARG", tok, None, s, e, e, e))
            continue
        name = raw[:eq]
        value = _unquote(raw[eq + 1:])
        nsp = ins.span(ts, ts + eq)
        vsp = ins.span(ts + eq + 1, te)
        out.append(Setting(ins.keyword, name, value, nsp[0], nsp[1], vsp[0], vsp[1]))
    return out


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Whitespace-separated tokens, quotes and backslash escapes kept together."""
    out = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        start = i
        quote = ""
        while i < n:
            ch = text[i]
            if quote:
                if ch == "\\" and quote == '"' and i + 1 < n:
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "\\" and i + 1 < n:
                i += 2
                continue
            elif ch in " \t\r\n":
                break
            i += 1
        out.append((_unquote(text[start:i]), start, i))
    return out


def _unquote(raw: str) -> str:
    out = []
    quote = ""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < len(raw):
                out.append(raw[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
            else:
                out.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 1
        else:
            out.append(ch)
        i += 1
    return "".join(out)


register_kind("dockerfile", DockerfileDocument)
