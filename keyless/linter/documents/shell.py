"""Shell and PowerShell scripts: the commands they run, with every argument's exact position.

A `Script` is the text a shell runs plus where each of its characters sits in the file that
holds it: a `.sh`/`.ps1` file itself, a Dockerfile `RUN`, a Makefile recipe or a CI step's
`run:`/`script:`/`inlineScript` scalar (keyless.linter.documents.embedded builds those). It is
parsed by tree-sitter-bash or tree-sitter-powershell, which recover from errors, so one bad line
never hides the commands around it.

A `Word` is one argument after quote removal. Only fully literal words have a `value`; anything
expanded at run time (`$VAR`, `${VAR}`, `$(cmd)`, backticks, `$env:X`, CI placeholders such as
`${{ secrets.X }}` or `$(macro)`, which the hosts replace by same-length `${GGG}` expansions)
leaves `value` None and shows as `{?}` in the word's `skeleton`, so a scope like
`/subscriptions/$SUB/resourceGroups/$RG` keeps its shape while its names stay unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from keyless.linter.documents import Document, ParseError, register_kind
from keyless.linter.documents.tree_sitter_budget import bounded_parse

UNKNOWN_PART = "{?}"
UNKNOWN_EXPRESSION = "{?expr}"  # a PowerShell expression argument (member access, method call, ...)


# ---- scripts -------------------------------------------------------------------------------------

class Script:
    """Script text and where each of its characters sits in the host file.

    `origin`: None when the script is the host text from `shift` on; else the host offset of
    every character (plus one entry for the end). `wide`: characters that stand for more than one
    host character (`''` in a single-quoted YAML scalar, `\\"` in a double-quoted one), with their
    host width."""

    __slots__ = ("text", "language", "origin", "wide", "shift", "_commands", "_assignments", "too_complex")

    def __init__(self, text: str, language: str, origin: list[int] | None = None, shift: int = 0,
                 wide: dict[int, int] | None = None):
        self.text = text
        self.language = language  # "bash" or "pwsh"
        self.origin = origin
        self.wide = wide or {}
        self.shift = shift
        self._commands: list[Command] | None = None
        self._assignments: dict[str, list[Word]] | None = None
        self.too_complex = False  # the grammar's error recovery ran away: no commands were read

    @classmethod
    def from_pieces(cls, pieces: list[tuple[int, str, int]], language: str) -> "Script":
        """A script assembled from host text: each (host_offset, text, width) piece's characters
        are written from host_offset on, `width` host characters each (2 for Make's `$$`)."""
        chars: list[str] = []
        origin: list[int] = []
        wide: dict[int, int] = {}
        for host, text, width in pieces:
            for k, ch in enumerate(text):
                if width != 1:
                    wide[len(chars)] = width
                chars.append(ch)
                origin.append(host + k * width)
        last = pieces[-1] if pieces else (0, "", 1)
        origin.append(last[0] + len(last[1]) * last[2])
        return cls("".join(chars), language, origin, wide=wide)

    def host(self, offset: int) -> int:
        if self.origin is None:
            return offset + self.shift
        return self.origin[max(0, min(offset, len(self.origin) - 1))]

    def host_range(self, start: int, end: int) -> tuple[int, int]:
        """Host offsets of script[start:end] (end exclusive)."""
        if end <= start:
            h = self.host(start)
            return h, h
        last = end - 1
        return self.host(start), self.host(last) + self.wide.get(last, 1)

    @property
    def commands(self) -> list["Command"]:
        """Every command in source order, including those in `$(...)`, functions and loops."""
        if self._commands is None:
            self._parse()
        return self._commands  # type: ignore[return-value]

    @property
    def assignments(self) -> dict[str, list["Word"]]:
        """Variable name (lower-cased for PowerShell) -> every value assigned to it."""
        if self._assignments is None:
            self._parse()
        return self._assignments  # type: ignore[return-value]

    def _parse(self) -> None:
        self._commands, self._assignments = [], {}
        parser = _parser(self.language)
        if parser is None:
            return
        data = self.text.encode("utf-8", "surrogateescape")
        tree = bounded_parse(parser, data)  # None: the grammar's error recovery ran away
        if tree is None:
            self.too_complex = True
            return
        reader = (_BashReader if self.language == "bash" else _PwshReader)(self, data)
        reader.read(tree.root_node)
        if tree.root_node.has_error:
            self._recover(reader, tree.root_node)
        if self.language == "bash" and _NESTED_SHELL.search(self.text):
            self._nested(reader, tree.root_node)
        if "az" in self.text:
            self._containers()
        self._commands.sort(key=lambda c: c.start)

    def _containers(self) -> None:
        """`docker run [options] mcr.microsoft.com/azure-cli az login`: the words from `az` on
        are the command the container runs."""
        for cmd in list(self._commands):  # type: ignore[arg-type]
            if cmd.name not in ("docker", "podman") or len(cmd.words) < 3 or cmd.words[1].value not in ("run", "exec"):
                continue
            for k, w in enumerate(cmd.words[2:], start=2):
                if w.value == "az" and not (cmd.words[k - 1].value or "-").startswith("-"):
                    self._commands.append(Command(cmd.words[k:], w.start, cmd.end, self.language))  # type: ignore[union-attr]
                    break

    def _nested(self, reader: "_Reader", root, depth: int = 0) -> None:
        """`sh -c '...'`, `bash -c "..."`: the string is a script too (Dockerfiles, Makefiles and
        CI steps wrap commands that way, often in a container: `docker run image sh -c "az ..."`).
        The string's characters keep their own positions; in double quotes `\\"`, `\\$`, `\\``
        and `\\\\` lose their backslash, and what the outer shell would expand stays an expansion."""
        for node in _captures("bash", "(command) @c", root).get("c", ()):
            kids = node.named_children
            for k, kid in enumerate(kids[:-1]):
                if k == 0 or kid.type != "word" or not re.fullmatch(r"-[a-z]*c", reader.src(kid)):
                    continue
                # the shell is the command, or an argument (`docker run image sh -c "..."`)
                if reader.src(kids[k - 1]).rsplit("/", 1)[-1] not in _SHELLS:
                    continue
                body = kids[k + 1]
                if body.type not in ("string", "raw_string"):
                    break
                a, b = reader.off(body.start_byte) + 1, reader.off(body.end_byte) - 1
                pieces = []
                i = a
                while i < b:
                    ch = self.text[i]
                    if body.type == "string" and ch == "\\" and i + 1 < b and self.text[i + 1] in '"\\$`':
                        start = self.host(i)  # `\"` stands for `"`: both characters are its place
                        pieces.append((start, self.text[i + 1], self.host(i + 1) + self.wide.get(i + 1, 1) - start))
                        i += 2
                        continue
                    pieces.append((self.host(i), ch, self.wide.get(i, 1)))
                    i += 1
                if not pieces:
                    break
                inner = Script.from_pieces(pieces, "bash")
                self._commands.extend(inner.commands)  # type: ignore[union-attr]
                for var, values in inner.assignments.items():
                    self._assignments.setdefault(var, []).extend(values)  # type: ignore[union-attr]
                break

    def _recover(self, reader: "_Reader", root) -> None:
        """tree-sitter's error recovery can swallow the commands after a construct it cannot
        read (an unterminated `if`): every line inside an ERROR node that starts with an Azure
        command and was not read as one is parsed again on its own."""
        starts = {c.start for c in self._commands}
        pattern = _AZ_LINE_BASH if self.language == "bash" else _AZ_LINE_PWSH
        cont = "\\" if self.language == "bash" else "`"
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type != "ERROR":
                stack.extend(node.children)
                continue
            a, b = reader.off(node.start_byte), reader.off(node.end_byte)
            for m in pattern.finditer(self.text, a, b):
                start = m.start(1)
                if self.host(start) in starts:
                    continue
                pos = start
                while True:  # the logical line: physical lines continued with \\ or `
                    nl = self.text.find("\n", pos)
                    nl = len(self.text) if nl < 0 else nl
                    if self.text[pos:nl].rstrip("\r").endswith(cont) and nl < len(self.text):
                        pos = nl + 1
                        continue
                    end = nl
                    break
                part = self.slice(start, end)
                for c in part.commands:
                    if c.start not in starts:
                        starts.add(c.start)
                        self._commands.append(c)
                for name, values in part.assignments.items():
                    self._assignments.setdefault(name, []).extend(values)

    def slice(self, start: int, end: int) -> "Script":
        """script[start:end] as a script of its own, mapped to the same host."""
        if self.origin is None:
            return Script(self.text[start:end], self.language, shift=self.shift + start)
        origin = self.origin[start:end] + [self.host(end)]
        wide = {k - start: w for k, w in self.wide.items() if start <= k < end}
        return Script(self.text[start:end], self.language, origin, wide=wide)


@dataclass(eq=False)
class Word:
    """One argument. Offsets are host offsets."""

    value: str | None  # the literal value; None when any part is expanded at run time
    skeleton: str  # literal parts with UNKNOWN_PART for each expansion
    start: int
    end: int
    variables: tuple[str, ...] = ()  # variables it expands (PowerShell: lower-cased, no `env:`)
    commands: tuple["Command", ...] = ()  # commands whose output it holds ($(...), `...`, $x = cmd)
    splits: bool = False  # may become several words or options (unquoted expansion, "$@", @splat)

    @property
    def known(self) -> bool:
        return self.value is not None


class Command:
    """One simple command. Its words are read from the tree when first asked for (most
    commands of a script are never looked at beyond their name)."""

    __slots__ = ("_words", "_build", "_name", "start", "end", "outputs", "inputs", "piped_into", "language")

    def __init__(self, words: list[Word] | None, start: int, end: int, language: str = "bash",
                 build: Callable[[], list[Word]] | None = None, name: str | None = None):
        self._words = words
        self._build = build
        self._name = name  # the command name's source text, when known before the words
        self.start = start
        self.end = end
        self.outputs: list[Word] = []  # files its stdout is redirected to
        self.inputs: list[Word] = []  # here-documents, piped-in expressions
        self.piped_into: Command | None = None
        self.language = language

    @property
    def words(self) -> list[Word]:  # words[0]: the command name
        if self._words is None:
            build, self._build = self._build, None
            self._words = build() if build is not None else []
        return self._words

    @property
    def name(self) -> str | None:
        if self._name is not None and self._words is None:
            raw = self._name
            if not raw or any(c in raw for c in "$`\"\'{}()"):
                raw = None  # quoted or expanded: read the word
            if raw is not None:
                return raw.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        words = self.words
        if not words or words[0].value is None:
            return None
        return words[0].value.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]

    @property
    def args(self) -> list[Word]:
        return self.words[1:]


_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash"})
_NESTED_SHELL = re.compile(r"\b(?:ba|da|z|k|a)?sh[ \t]+-[a-z]*c\b")
_AZ_LINE_BASH = re.compile(r"^[ \t]*((?:az|azd)[ \t])", re.M)
_AZ_LINE_PWSH = re.compile(r"^[ \t]*((?:az|azd)[ \t]|[A-Za-z]+-Az\w+)", re.M)


# ---- tree-sitter ------------------------------------------------------------------------------------

_PARSERS: dict[str, object] = {}


def _parser(language: str):
    """The tree-sitter parser of a shell grammar, or None when it cannot be loaded (a binary
    built for another tree-sitter ABI): the script then yields no commands."""
    parser = _PARSERS.get(language)
    if parser is None:
        try:
            import tree_sitter

            if language == "bash":
                import tree_sitter_bash as grammar
            else:
                import tree_sitter_powershell as grammar
            parser = tree_sitter.Parser(tree_sitter.Language(grammar.language()))
        except Exception:
            parser = False
        _PARSERS[language] = parser
    return parser or None


_QUERIES: dict[tuple[str, str], object] = {}


def _captures(language: str, source: str, root) -> dict[str, list]:
    """The nodes of the types a reader needs, found by tree-sitter itself (a Python walk over
    every node cost more than the parse). Not in a tree with errors: the query cursor's time grows
    with the square of an ERROR node's width (200 KB of quotes in a .ps1: 4 s in one call), so
    that tree is walked (`_walk_captures`)."""
    import tree_sitter

    if root.has_error:
        return _walk_captures(source, root)
    query = _QUERIES.get((language, source))
    if query is None:
        parser = _parser(language)
        query = _QUERIES[(language, source)] = tree_sitter.Query(parser.language, source)
    return tree_sitter.QueryCursor(query).captures(root)



_PATTERN = re.compile(r"\((\w+)\)\s*@(\w+)")


def _walk_captures(source: str, root) -> dict[str, list]:
    """What `_captures` gives for a query of `(type) @name` patterns, from one cursor walk (linear
    in the number of nodes however wide a node is), in document order."""
    wanted = {node_type: name for node_type, name in _PATTERN.findall(source)}
    found: dict[str, list] = {}
    cursor = root.walk()
    while True:
        node = cursor.node
        name = wanted.get(node.type)
        if name is not None:
            found.setdefault(name, []).append(node)
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found

class _Reader:
    def __init__(self, script: Script, data: bytes):
        self.script = script
        self.data = data
        self.b2c = None if len(data) == len(script.text) else _byte_to_char(data)
        self._built: dict = {}

    def off(self, byte: int) -> int:
        return byte if self.b2c is None else self.b2c[byte]

    def src(self, node) -> str:
        return self.script.text[self.off(node.start_byte):self.off(node.end_byte)]

    def word(self, node, value: str | None, skeleton: str, variables=(), commands=(), splits=False) -> Word:
        s, e = self.script.host_range(self.off(node.start_byte), self.off(node.end_byte))
        return Word(value, skeleton, s, e, tuple(dict.fromkeys(variables)), tuple(commands), splits)

    def command(self, node, words: list[Word] | None, build=None, name: str | None = None) -> "Command":
        s, e = self.script.host_range(self.off(node.start_byte), self.off(node.end_byte))
        cmd = Command(words, s, e, self.script.language, build, name)
        self.script._commands.append(cmd)  # type: ignore[union-attr]
        return cmd

    def assign(self, name: str, value: Word) -> None:
        self.script._assignments.setdefault(name, []).append(value)  # type: ignore[union-attr]


def _byte_to_char(data: bytes) -> list[int]:
    table = []
    char = 0
    for byte in data:
        if byte & 0xC0 != 0x80:
            char += 1
        table.append(char - 1)
    table.append(char)
    return table


# ---- bash -------------------------------------------------------------------------------------------

_BASH_ESCAPES_IN_DQ = {'"', "\\", "$", "`", "\n"}
_ANSI_C = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b",
           "e": "\x1b", "f": "\f", "v": "\v"}
_EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion",
                         "process_substitution"})


class _BashReader(_Reader):
    QUERY = "(command) @c (variable_assignment) @a (redirected_statement) @r (pipeline) @p"

    def read(self, root) -> None:
        found = _captures("bash", self.QUERY, root)
        for node in found.get("c", ()):
            self.built(node)
        for node in found.get("a", ()):
            self.bash_assignment(node)
        for node in found.get("r", ()):
            self.bash_redirected(node)
        for node in found.get("p", ()):
            self.bash_pipeline(node)

    def built(self, node) -> "Command | None":
        """Each command node's one Command (pipelines and redirections attach to it)."""
        key = (node.start_byte, node.end_byte)
        cmd = self._built.get(key)
        if cmd is None and node.type == "command":
            cmd = self.make_command(node)
            self._built[key] = cmd
        return cmd

    def make_command(self, node) -> Command:
        def build() -> list[Word]:
            words = []
            for c in node.named_children:
                if c.type == "command_name":
                    inner = c.named_children[0] if c.named_children else c
                    words.append(self.bash_word(inner))
                elif c.type not in ("variable_assignment", "comment", "file_redirect", "herestring_redirect",
                                    "heredoc_redirect"):
                    words.append(self.bash_word(c))
            return words

        name_node = next((c for c in node.named_children if c.type == "command_name"), None)
        cmd = self.command(node, None, build, self.src(name_node) if name_node is not None else "")
        for c in node.named_children:
            if c.type == "file_redirect":
                self.redirect(cmd, c)
            elif c.type == "herestring_redirect":
                body = [x for x in c.named_children]
                if body:
                    cmd.inputs.append(self.bash_word(body[-1]))
        return cmd

    def bash_redirected(self, node) -> None:
        body = node.named_children[0] if node.named_children else None
        if body is None:
            return
        targets = []
        if body.type == "command":
            targets = [self.built(body)]
        elif body.type == "pipeline":
            cmds = [c for c in body.named_children if c.type == "command"]
            targets = [self.built(cmds[-1])] if cmds else []
        for c in node.named_children[1:]:
            for cmd in targets:
                if cmd is None:
                    continue
                if c.type == "file_redirect":
                    self.redirect(cmd, c)
                elif c.type == "heredoc_redirect":
                    bodies = [x for x in c.named_children if x.type == "heredoc_body"]
                    if bodies:
                        cmd.inputs.append(self.bash_word(bodies[0]))
                elif c.type == "herestring_redirect":
                    kids = c.named_children
                    if kids:
                        cmd.inputs.append(self.bash_word(kids[-1]))

    def redirect(self, cmd: Command, node) -> None:
        ops = [c for c in node.children if not c.is_named]
        op = self.src(ops[0]) if ops else ""
        fd = next((c for c in node.named_children if c.type == "file_descriptor"), None)
        if op not in (">", ">>", ">|", "&>", "&>>") or (fd is not None and self.src(fd) != "1"):
            return
        dest = [c for c in node.named_children if c.type != "file_descriptor"]
        if dest:
            cmd.outputs.append(self.bash_word(dest[-1]))

    def bash_pipeline(self, node) -> None:
        cmds = [self.built(c) if c.type == "command" else None for c in node.named_children]
        for a, b in zip(cmds, cmds[1:]):
            if a is not None and b is not None:
                a.piped_into = b

    def bash_assignment(self, node) -> None:
        name_node = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name_node is None or name_node.type != "variable_name":
            return
        name = self.src(name_node)
        if value is None:
            w = self.word(node, "", "")
            w.start = w.end
        else:
            w = self.bash_word(value, in_assignment=True)
        self.assign(name, w)

    # -- words --------------------------------------------------------------------------------------
    def bash_word(self, node, in_assignment: bool = False) -> Word:
        parts: list[str | None] = []
        variables: list[str] = []
        commands: list[Command] = []
        splits = self.bash_parts(node, parts, variables, commands, quoted=in_assignment)
        value = None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
        skeleton = "".join(UNKNOWN_PART if p is None else p for p in parts)
        return self.word(node, value, skeleton, variables, commands, splits)

    def bash_parts(self, node, parts: list, variables: list, commands: list, quoted: bool) -> bool:
        t = node.type
        splits = False
        if t in ("word", "number", "special_variable_name", "variable_name", "file_descriptor"):
            parts.append(_unescape_word(self.src(node)))
        elif t == "raw_string":
            parts.append(self.src(node)[1:-1])
        elif t == "ansi_c_string":
            parts.append(_ansi_c(self.src(node)[2:-1]))
        elif t in ("string", "translated_string", "heredoc_body"):
            start = node.start_byte
            end = node.end_byte
            inner_start = start + (1 if t == "string" else 2 if t == "translated_string" else 0)
            inner_end = end - (1 if t != "heredoc_body" else 0)
            pos = inner_start
            for c in node.named_children:
                if c.type in _EXPANSIONS:
                    if c.start_byte > pos:
                        parts.append(self.dq_text(pos, c.start_byte, heredoc=t == "heredoc_body"))
                    self.expansion(c, parts, variables, commands)
                    if c.type == "simple_expansion" and self.src(c) in ("$@", "$*"):
                        splits = True
                    if c.type == "expansion" and "[@]" in self.src(c):
                        splits = True
                    pos = c.end_byte
            if inner_end > pos:
                parts.append(self.dq_text(pos, inner_end, heredoc=t == "heredoc_body"))
        elif t in _EXPANSIONS:
            self.expansion(node, parts, variables, commands)
            splits = not quoted
        elif t == "concatenation":
            for c in node.named_children:
                splits |= self.bash_parts(c, parts, variables, commands, quoted)
        elif t == "brace_expression":
            parts.append(None)
            splits = True
        else:  # arrays, tests, anything else: its value is not a plain literal
            parts.append(None)
            self.collect(node, variables, commands)
            splits = not quoted
        return splits

    def dq_text(self, start: int, end: int, heredoc: bool = False) -> str:
        raw = self.script.text[self.off(start):self.off(end)]
        out = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in _BASH_ESCAPES_IN_DQ and not (
                    heredoc and raw[i + 1] == '"'):
                if raw[i + 1] != "\n":
                    out.append(raw[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)

    def expansion(self, node, parts: list, variables: list, commands: list) -> None:
        parts.append(None)
        self.collect(node, variables, commands)

    def collect(self, node, variables: list, commands: list) -> None:
        """Variables and commands referenced inside an expansion. A command's own words are its
        business: the walk stops at it (nested `$(...)` would otherwise be walked once per level)."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "variable_name":
                variables.append(self.src(n))
            elif n.type == "command":
                cmd = self.built(n)
                if cmd is not None:
                    commands.append(cmd)
                continue
            stack.extend(n.children)


def _unescape_word(text: str) -> str:
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _ansi_c(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(_ANSI_C.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# ---- PowerShell ----------------------------------------------------------------------------------------

_PS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
               "e": "\x1b"}


class _PwshReader(_Reader):
    QUERY = "(command) @c (assignment_expression) @a (pipeline_chain) @p (pipeline) @p"

    def read(self, root) -> None:
        found = _captures("pwsh", self.QUERY, root)
        for node in found.get("c", ()):
            self.built(node)
        for node in found.get("a", ()):
            self.ps_assignment(node)
        for node in found.get("p", ()):
            self.ps_pipeline(node)

    def built(self, node) -> Command | None:
        key = (node.start_byte, node.end_byte)
        cmd = self._built.get(key)
        if cmd is None and node.type == "command":
            cmd = self.make_command(node)
            self._built[key] = cmd
        return cmd

    def make_command(self, node) -> Command:
        name = next((c for c in node.named_children if c.type in ("command_name", "command_name_expr")), None)
        elements = next((c for c in node.named_children if c.type == "command_elements"), None)

        def build() -> list[Word]:
            words = []
            if name is not None:
                words.append(self.ps_word(name, bare=True))
            for c in (elements.named_children if elements is not None else ()):
                if c.type in ("command_argument_sep", "redirection"):
                    continue
                if c.type == "command_parameter":
                    text = self.src(c)
                    if ":" in text[1:] and not text.endswith(":"):  # -Scope:value written in one token
                        words.append(self.word(c, text, text))
                    else:
                        words.append(self.word(c, text.rstrip(":"), text.rstrip(":")))
                    continue
                words.append(self.ps_word(c, bare=c.type == "generic_token"))
            return words

        raw_name = self.src(name).strip() if name is not None else ""
        cmd = self.command(node, None, build, raw_name)
        for c in (elements.named_children if elements is not None else ()):
            if c.type == "redirection":
                self.redirect(cmd, c)
        return cmd

    def redirect(self, cmd: Command, node) -> None:
        text = self.src(node)
        op = text.split(None, 1)[0] if text.strip() else ""
        if not op.startswith((">", "1>")) or op.startswith(">&"):
            return
        target = node.named_children[-1] if node.named_children else None
        if target is not None:
            cmd.outputs.append(self.ps_word(target, bare=True))

    def ps_pipeline(self, node) -> None:
        """`a | b | c`: a feeds b, b feeds c; an expression at the head (`"K=$v" | Out-File f`)
        is the next command's input, and an expression redirected to a file (`"K=$v" >> f`)
        becomes a nameless command writing it. `&&`/`||` chains are not pipes."""
        previous: Command | None = None
        upstream = None  # an expression node feeding what follows (read only if something does)
        piped = False
        for c in node.children:
            if not c.is_named:
                piped = self.src(c) == "|"
                if not piped:
                    previous, upstream = None, None
                continue
            if c.type == "comment":
                continue
            if c.type == "command":
                cmd = self.built(c)
                if cmd is not None and piped:
                    if upstream is not None:
                        cmd.inputs.append(self.ps_word(upstream))
                    if previous is not None:
                        previous.piped_into = cmd
                previous, upstream = cmd, None
            elif c.type == "redirections":
                if previous is None and upstream is not None:
                    previous = self.command(c, [])
                    previous.inputs.append(self.ps_word(upstream))
                    upstream = None
                for r in c.named_children:
                    if r.type == "redirection" and previous is not None:
                        self.redirect(previous, r)
            elif c.type not in ("assignment_expression", "pipeline", "pipeline_chain"):
                previous, upstream = None, c
            else:
                previous, upstream = None, None

    def ps_assignment(self, node) -> None:
        left = node.named_children[0] if node.named_children else None
        right = node.named_children[-1] if len(node.named_children) >= 2 else None
        if left is None or right is None:
            return
        var = _first_of_type(left, "variable")
        if var is None or self.src(var).strip() != self.src(left).strip():
            return
        name = _ps_var_name(self.src(var))
        if right.type in ("pipeline", "pipeline_chain") and _first_of_type(right, "command") is not None:
            _, commands = self.ps_refs(right)
            w = self.word(right, None, UNKNOWN_PART, commands=commands)
        else:
            w = self.ps_word(right)
        self.assign(name, w)

    # -- words --------------------------------------------------------------------------------------
    def ps_word(self, node, bare: bool = False) -> Word:
        """A command argument or an expression. `bare`: a token written without quotes."""
        inner = _unwrap(node)
        t = inner.type
        if t in ("generic_token", "command_name") or (bare and t not in (
                "string_literal", "expandable_string_literal", "verbatim_string_characters", "variable",
                "sub_expression", "expandable_here_string_literal", "verbatim_here_string_characters")):
            text = self.src(inner).strip()
            if "$" in text or "@(" in text:
                variables, commands = self.ps_refs(inner)
                variables += [_ps_var_name(m) for m in _PS_VAR_RE.findall(text)]
                return self.word(node, None, _ps_skeleton(text), variables, commands)
            return self.word(node, _ps_unescape(text), _ps_unescape(text))
        if t == "string_literal" and inner.named_children:
            inner = inner.named_children[0]
            t = inner.type
        if t in ("verbatim_string_characters", "verbatim_here_string_characters"):
            text = self.src(inner)
            body = text[1:-1] if t == "verbatim_string_characters" else _here_body(text)
            value = body.replace("''", "'") if t == "verbatim_string_characters" else body
            return self.word(node, value, value)
        if t in ("expandable_string_literal", "expandable_here_string_literal"):
            text = self.src(inner)
            body_start = 1 if t == "expandable_string_literal" else text.find("\n") + 1
            body_end = len(text) - (1 if t == "expandable_string_literal" else 2)
            parts: list[str | None] = []
            variables: list[str] = []
            commands: list[Command] = []
            base = self.off(inner.start_byte)
            pos = base + body_start
            for c in inner.named_children:
                if c.type in ("variable", "sub_expression"):
                    cs = self.off(c.start_byte)
                    if cs > pos:
                        parts.append(_ps_unescape(self.script.text[pos:cs], dq=True))
                    parts.append(None)
                    v, cm = self.ps_refs(c)
                    variables += v
                    commands += cm
                    pos = self.off(c.end_byte)
            end = base + body_end
            if end > pos:
                parts.append(_ps_unescape(self.script.text[pos:end], dq=True))
            value = None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
            skeleton = "".join(UNKNOWN_PART if p is None else p for p in parts)
            return self.word(node, value, skeleton, variables, commands)
        if t == "variable":
            text = self.src(inner)
            variables, commands = self.ps_refs(inner)
            return self.word(node, None, UNKNOWN_PART, variables, commands, splits=text.startswith("@"))
        if t in ("integer_literal", "decimal_integer_literal", "real_literal"):
            text = self.src(inner)
            return self.word(node, text, text)
        # Any other expression ($app.Name, (Get-X).Id, $a + $b): unknown, and not a lone variable
        variables, commands = self.ps_refs(inner)
        return self.word(node, None, UNKNOWN_EXPRESSION, variables, commands)

    def ps_refs(self, node) -> tuple[list[str], list[Command]]:
        """Variables and commands referenced in an expression (not inside those commands)."""
        variables: list[str] = []
        commands: list[Command] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "variable":
                variables.append(_ps_var_name(self.src(n)))
            elif n.type == "command":
                cmd = self.built(n)
                if cmd is not None:
                    commands.append(cmd)
                continue
            stack.extend(n.children)
        return variables, commands


_WRAPPERS = frozenset({"pipeline", "pipeline_chain", "parenthesized_expression", "array_literal_expression",
                       "unary_expression", "range_expression", "format_expression", "multiplicative_expression",
                       "additive_expression", "comparison_expression", "bitwise_expression", "logical_expression"})


def _unwrap(node):
    """array_literal_expression > unary_expression > x: the expression itself (a chain deeper
    than any literal's is left as the expression it is)."""
    for _ in range(32):
        if node.type not in _WRAPPERS or node.named_child_count != 1:
            break
        node = node.named_children[0]
    return node


def _first_of_type(node, t: str):
    """The first node of type `t`, breadth first."""
    from collections import deque

    queue = deque([node])
    while queue:
        n = queue.popleft()
        if n.type == t:
            return n
        queue.extend(n.children)
    return None


def _ps_var_name(text: str) -> str:
    name = text.lstrip("$@").strip("{}").lower()
    for scope in ("env:", "script:", "global:", "local:", "private:", "using:"):
        if name.startswith(scope):
            return name[len(scope):]
    return name


def _ps_unescape(text: str, dq: bool = False) -> str:
    if "`" not in text and not (dq and '""' in text):
        return text
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "`" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "\n":
                i += 2
                continue
            out.append(_PS_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if dq and ch == '"' and i + 1 < len(text) and text[i + 1] == '"':
            out.append('"')
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# `${...}` and `$(...)` stop at the next `${` / `$(`: otherwise each of a run of unclosed openers
# rescans the rest of the text (quadratic).
_PS_VAR_RE = re.compile(r"\$\{(?:[^}$]|\$(?!\{))*+\}|\$[\w:]++")
_PS_PART_RE = re.compile(r"\$\((?:[^)$]|\$(?!\())*+\)|\$\{(?:[^}$]|\$(?!\{))*+\}|\$[\w:]++")


def _ps_skeleton(text: str) -> str:
    return _PS_PART_RE.sub(UNKNOWN_PART, text)


def _here_body(text: str) -> str:
    start = text.find("\n") + 1
    end = text.rfind("\n")
    return text[start:end] if end >= start else ""


# ---- documents ---------------------------------------------------------------------------------------------

class ShellDocument(Document):
    """`.sh`, `.bash`, `.zsh`, `.ksh`: one bash script."""

    kind = "shell"
    language = "bash"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._scripts: list[Script] | None = None

    def _parse(self) -> None:
        script = Script(self.text, self.language)
        self._scripts = [script]
        script.commands  # read the tree now: a script too complex to read is this file's parse error
        if script.too_complex:
            raise ParseError(self.kind, "too complex to read")

    def scripts(self) -> list[Script]:
        self.ensure_parsed()
        return self._scripts or []


class PowerShellDocument(ShellDocument):
    """`.ps1`, `.psm1`: one PowerShell script."""

    kind = "powershell"
    language = "pwsh"


register_kind("shell", ShellDocument)
register_kind("powershell", PowerShellDocument)


def iter_commands(scripts: list[Script]) -> Iterator[tuple[Script, Command]]:
    for s in scripts:
        for c in s.commands:
            yield s, c


# CI placeholders substituted before the shell runs: `${{ expr }}` (GitHub Actions, Azure
# Pipelines templates), `$[ expr ]` (Azure Pipelines runtime) and, in Azure Pipelines only,
# `$(name)` macros. Each becomes a same-length `${GGG}` expansion: positions stay exact and the
# shell grammar sees an unknown value instead of an error or a command substitution.
# Up to the first `}}` / `]` on the line, as `.*?` would, but never past the next opener (linear
# on a line of unclosed `${{`).
_CI_PLACEHOLDER = re.compile(r"\$\{\{(?:[^}$\n]|\}(?!\})|\$(?!\{\{))*+\}\}|\$\[(?:[^\]$\n]|\$(?!\[))*+\]")
_ADO_MACRO = re.compile(r"\$\([A-Za-z_][\w.\-]*\)")


def mask_placeholders(text: str, macros: bool) -> str:
    def blank(m: re.Match) -> str:
        n = len(m.group(0))
        return "${" + "G" * (n - 3) + "}" if n >= 4 else m.group(0)

    text = _CI_PLACEHOLDER.sub(blank, text)
    return _ADO_MACRO.sub(blank, text) if macros else text
