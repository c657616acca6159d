"""Helm chart templates read as YAML, without Helm: a line- and offset-preserving view.

A Helm template (`<chart>/templates/*.yaml` next to `Chart.yaml`) is a Go template whose output
is YAML. Nothing is rendered here and nothing is guessed; the template text is turned into YAML
of exactly the same length and line structure, so every parser offset is an offset into the
original file:

* actions alone on their lines (`{{- if ... }}`, `{{- end }}`, `{{/* ... */}}`, `{{ $x := ... }}`,
  `{{- include "x.labels" . | nindent 4 }}`) become spaces;
* other actions become a placeholder of the same length, so the scalar holding them is a
  `Templated` string: its text is the source with each action normalised (`{{ .Release.Name }}`),
  and rules treat it as unknown. A scalar that is exactly one `.Values.a.b` action whose value in
  the chart's values.yaml is a string, number or boolean becomes that value (`ChartValue`, which
  remembers where it came from);
* `define` bodies are blanked (they are not rendered in place); both branches of `if`/`else`
  are kept, and `conditional(path)` says whether a node sits in a branch that does not enclose
  its whole YAML document (the outcome then depends on install-time values);
* an action that emits YAML blocks (`toYaml .Values.x | nindent 8`, or `toYaml .` inside
  `with .Values.x`) is an *injection*: when the values are literal in values.yaml they are merged
  at the place the indentation says, positioned on the action; otherwise the enclosing node is
  marked unknown (`unknown(path)`), because keys we cannot see may be there.

Scanning follows Go's lexer: `{{-`/`-}}` trim markers need a space, comments are `{{/* */}}`,
and `}}` inside a "string", `raw string` or 'c' constant does not close an action. Everything is
linear in the text size (regex jumps, no backtracking); block nesting and the work of placing
injections are capped.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from keyless.linter.documents import LineIndex
from keyless.linter.documents.templated import ChartValue, Templated

MARK = "\ue000"  # starts a placeholder; U+E000.. are private-use, never in real templates
FILL = "\ue001"  # pads a placeholder to the action's length
_DIGIT0 = 0xE100  # placeholder index digits: U+E100 .. U+E100+_BASE-1
_BASE = 0x1000
_PLACEHOLDER = re.compile("\ue000([\ue100-\uf0ff]+)\ue001*")

MAX_NESTING = 1000  # open if/with/range/define blocks
MAX_INJECTION_STEPS = 50_000  # tree levels walked placing injections; past it a document is unknown

_UNRESOLVED = object()


class TemplateError(Exception):
    """`problem`: one of keyless.linter.documents.PARSE_PROBLEMS; `offset`: where in the text."""

    def __init__(self, problem: str, offset: int):
        super().__init__(problem)
        self.problem = problem
        self.offset = offset


# ---- scanning ----------------------------------------------------------------------------------

_STOP = re.compile(r"\}\}|[\"`']")
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\[^\n])*"')
_CHAR = re.compile(r"'(?:[^'\\\n]|\\[^\n])*'")
_SPACE = frozenset(" \t\r\n")


@dataclass(slots=True)
class Action:
    start: int  # offset of `{{`
    end: int  # offset just past `}}`
    inner: str  # between the delimiters, without trim markers, stripped
    comment: bool = False
    literal: str | None = None  # a deploy-time placeholder (`${NAME}`), not a Go action: its text


# Placeholders other tools substitute before a YAML file deploys: envsubst/azd `${NAME}` (with
# `${NAME:-default}`), Replace Tokens `#{NAME}#`, Azure Pipelines `$(NAME)`. On one line each.
_SUBSTITUTION = re.compile(r"\$\{[A-Za-z_]\w*(?:[:?+=-](?:[^${}\r\n]|\$(?!\{))*)?\}|#\{[^}#\r\n]+\}#|\$\([A-Za-z_][\w.]*\)")


def substitutions(text: str, actions: list[Action]) -> list[Action]:
    """`actions` plus the substitution placeholders outside them, in order."""
    found = [Action(m.start(), m.end(), "", literal=m.group(0)) for m in _SUBSTITUTION.finditer(text)]
    if not found:
        return actions
    if actions:
        starts = [a.start for a in actions]
        found = [f for f in found if not _inside(f.start, actions, starts)]
    return sorted(actions + found, key=lambda a: a.start)


def _inside(offset: int, actions: list[Action], starts: list[int]) -> bool:
    k = bisect.bisect_right(starts, offset) - 1
    return k >= 0 and actions[k].start <= offset < actions[k].end


def scan(text: str) -> list[Action]:
    """Every `{{ ... }}` action in order. Raises TemplateError (offset of the action) when one
    is not closed."""
    actions: list[Action] = []
    find = text.find
    pos = 0
    while True:
        start = find("{{", pos)
        if start < 0:
            return actions
        body = start + 2
        if text.startswith("-", body) and text[body + 1:body + 2] in _SPACE:
            body += 2
        if text.startswith("/*", body):
            close = find("*/", body + 2)
            if close < 0:
                raise TemplateError("unclosed template comment", start)
            after = close + 2
            if text.startswith("}}", after):
                end = after + 2
            elif text[after:after + 1] in _SPACE and text.startswith("-}}", after + 1):
                end = after + 4
            else:
                raise TemplateError("template comment does not end the action", start)
            actions.append(Action(start, end, "", True))
            pos = end
            continue
        i = body
        while True:
            m = _STOP.search(text, i)
            if m is None:
                raise TemplateError("unclosed template action", start)
            c = m.group(0)
            if c == "}}":
                break
            if c == "`":
                close = find("`", m.end())
                if close < 0:
                    raise TemplateError("unterminated string in template action", start)
                i = close + 1
                continue
            s = (_QUOTED if c == '"' else _CHAR).match(text, m.start())
            if s is None:
                raise TemplateError("unterminated string in template action", start)
            i = s.end()
        inner = text[body:m.start()]
        if len(inner) >= 2 and inner[-1] == "-" and inner[-2] in _SPACE:
            inner = inner[:-1]
        actions.append(Action(start, m.end(), inner.strip()))
        pos = m.end()


# ---- pipelines ----------------------------------------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\'(?:[^\'\\]|\\.)*\'|[()|]|[^\s()|"`\']+')
_PATH = re.compile(r"(\$|\$?(?:\.[A-Za-z_]\w*)+|\.)$")
_ASSIGN = re.compile(r"\$\w*\s*(?:,\s*\$\w*\s*)?:?=(?!=)")
_WORD = re.compile(r"[\w$]*")
_CONTROL = frozenset({"if", "else", "end", "range", "with", "define", "block", "break", "continue"})


def commands(inner: str) -> list[list[str]]:
    """The pipeline's commands, each a list of top-level words; a parenthesised argument is the
    single word "(" (never resolved)."""
    out: list[list[str]] = [[]]
    depth = 0
    for tok in _TOKEN.findall(inner):
        if tok == "(":
            if depth == 0:
                out[-1].append("(")
            depth += 1
        elif tok == ")":
            depth = max(depth - 1, 0)
        elif depth:
            continue
        elif tok == "|":
            out.append([])
        else:
            out[-1].append(tok)
    return out


def _path(word: str, dot: tuple | None) -> tuple | None:
    """`.Values.a.b` / `$.Values.a` / `.` / `$` as a key path from the root context."""
    if not _PATH.match(word):
        return None
    if word.startswith("$"):
        base: tuple | None = ()
        word = word[1:]
    else:
        base = dot
    if base is None:
        return None
    return base + tuple(p for p in word.split(".") if p)


@dataclass(slots=True)
class Values:
    """The chart's values.yaml: its data (None when not visible) and its name for messages."""

    data: Any
    name: str = "values.yaml"

    def lookup(self, path: tuple | None) -> Any:
        if path is None or not path or path[0] != "Values" or not isinstance(self.data, dict):
            return _UNRESOLVED
        node = self.data
        for key in path[1:]:
            if not isinstance(node, dict) or key not in node:
                return _UNRESOLVED
            node = node[key]
        return node

    def origin(self, path: tuple) -> str:
        return f"{self.name} `{'.'.join(path[1:]) or '.'}`"


@dataclass(slots=True)
class Output:
    """What an output action evaluates to, as far as values.yaml tells."""

    value: Any = _UNRESOLVED  # literal data, or _UNRESOLVED
    origin: str = ""
    yaml: bool = False  # passed through toYaml: a block of YAML, not a scalar
    nindent: int | None = None  # `nindent N`: output starts on a new line at column N
    indent: int | None = None  # `indent N`


_PASS = frozenset({"trim", "toString"})


def evaluate(inner: str, dot: tuple | None, values: Values) -> Output:
    cmds = commands(inner)
    out = Output()
    last = cmds[-1]
    if len(last) == 2 and last[0] in ("nindent", "indent") and last[1].isdigit():
        setattr(out, last[0], int(last[1]))
        cmds = cmds[:-1]
    if not cmds or not cmds[0]:
        return out
    first, quoted = cmds[0], False
    if len(first) == 2 and first[0] in ("toYaml", "quote", "squote"):
        out.yaml, quoted = first[0] == "toYaml", first[0] != "toYaml"
        first = first[1:]
    if len(first) != 1:
        return out
    path = _path(first[0], dot)
    for cmd in cmds[1:]:
        if cmd == ["toYaml"]:
            out.yaml = True
        elif cmd in (["quote"], ["squote"]):
            quoted = True
        elif len(cmd) != 1 or cmd[0] not in _PASS:
            return out
    value = values.lookup(path)
    if value is _UNRESOLVED:
        return out
    if quoted:
        if isinstance(value, (dict, list)) or value is None:
            return out
        value = str(value).lower() if isinstance(value, bool) else str(value)
    out.value, out.origin = value, values.origin(path)
    return out


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and not (isinstance(value, (dict, list)) and not value)


# ---- the view ----------------------------------------------------------------------------------

class _Frame:
    """One open block. `conditional`: its body may or may not render, whatever values.yaml says."""

    __slots__ = ("parent", "conditional", "dot", "kind", "depth")

    def __init__(self, parent: "_Frame | None", conditional: bool, dot: tuple | None, kind: str):
        self.parent = parent
        self.conditional = conditional
        self.dot = dot
        self.kind = kind
        self.depth = parent.depth + 1 if parent is not None else 0


@dataclass(slots=True)
class Injection:
    action: Action
    output: Output
    column: int | None  # column (0-based) of the emitted block's keys or `-`; None: not said
    key_line: int | None  # the emitted block is the value of the key on this line (`key: {{ ... | nindent }}`)


@dataclass
class HelmView:
    """The YAML view of one template plus what the rules need to read it honestly."""

    text: str
    placeholders: list[tuple[str, Any]]  # index -> (normalised action text, Output)
    injections: list[Injection]
    scope_offsets: list[int]
    scope_frames: list[_Frame]
    chart: str | None = None  # the chart directory; None when no Chart.yaml was found
    unknown_paths: set = field(default_factory=set)  # nodes that may hold content we cannot see
    injected: dict = field(default_factory=dict)  # path -> values.yaml origin of that node
    entry: Callable[[tuple], tuple | None] | None = None  # the document's path -> position entry
    _doc_frames: dict = field(default_factory=dict)

    # -- questions rules ask ---------------------------------------------------------------------
    def unknown(self, path: tuple) -> bool:
        """Whether the node at `path` (or one around it) may hold content the view cannot see."""
        return any(path[:n] in self.unknown_paths for n in range(1, len(path) + 1))

    def origin(self, path: tuple) -> str | None:
        """The values.yaml origin of the node at `path`, when it (or a node around it) came from there."""
        for n in range(len(path), 0, -1):
            hit = self.injected.get(path[:n])
            if hit is not None:
                return hit
        return None

    def conditional(self, path: tuple) -> bool:
        """Whether the node at `path` is rendered only in some branch of an if/else/with/range
        that does not enclose its whole YAML document."""
        if self.entry is None or not path:
            return False
        node = self.entry(path)
        root = self.entry(path[:1])
        if node is None or root is None:
            return False
        around = self._doc_frames.get(path[0])
        if around is None:
            around = self._doc_frames[path[0]] = set()
            frame: _Frame | None = self.frame_at(root[0])
            while frame is not None:
                around.add(id(frame))
                frame = frame.parent
        frame = self.frame_at(node[0])
        while frame is not None and id(frame) not in around:
            if frame.conditional:
                return True
            frame = frame.parent
        return False

    def frame_at(self, offset: int) -> _Frame:
        return self.scope_frames[bisect.bisect_right(self.scope_offsets, offset) - 1]

    # -- after parsing ---------------------------------------------------------------------------
    def resolve(self, values: list, positions: list, lines: LineIndex) -> None:
        """Replace placeholders in the parsed values and merge the injections (in place)."""
        _Resolver(self, lines).run(values, positions)


def detemplate(text: str, values: Values | None = None, substituted: bool = False) -> HelmView:
    """The YAML view of a Helm template (of any Go-templated YAML, or with `substituted` also of
    envsubst-style placeholders). Raises TemplateError on an unclosed action."""
    values = values or Values(None)
    actions = scan(text)
    if substituted:
        actions = substitutions(text, actions)
    lines = LineIndex(text)
    surroundings = _surroundings(text, actions)
    out: list[str] = []
    placeholders: list[tuple[str, Any]] = []
    injections: list[Injection] = []
    root = _Frame(None, False, (), "root")
    top = root
    offsets, frames = [0], [root]
    defines = 0
    pos = 0
    clean = (lambda s: s.replace(MARK, "\ufffd")) if MARK in text else (lambda s: s)
    for act, (before, after) in zip(actions, surroundings):
        segment = text[pos:act.start]
        out.append(_blank(segment) if defines else clean(segment))
        pos = act.end
        alone = not before and not after
        word = _WORD.match(act.inner).group(0) if act.literal is None else ""
        if act.literal is None and (act.comment or _ASSIGN.match(act.inner)):
            out.append(_blank(text[act.start:act.end]))
            continue
        if word in _CONTROL:
            top, defines = _control(word, act.inner[len(word):].strip(), top, values, defines)
            if top.depth > MAX_NESTING:
                raise TemplateError("template blocks nested too deeply", act.start)
            offsets.append(act.end)
            frames.append(top)
            # `{{- if }}` / `{{- end }}` at either end of a line only delimit YAML text; inside a
            # scalar they make its value depend on the branch.
            if not before or not after or defines:
                out.append(_blank(text[act.start:act.end]))
            else:
                out.append(_placeholder(text, act, len(placeholders)))
                placeholders.append((_normalised(act), Output()))
            continue
        if defines:
            out.append(_blank(text[act.start:act.end]))
            continue
        output = evaluate(act.inner, top.dot, values) if act.literal is None else Output()
        # `key: {{ ... | nindent N }}`: the emitted block is that key's value
        key_line = lines.position(act.start).line if before == ":" and not after \
            and output.nindent is not None else None
        if alone or key_line is not None:
            column = output.nindent if output.nindent is not None else \
                lines.position(act.start).column - 1 + output.indent if output.indent is not None else None
            injections.append(Injection(act, output, column, key_line))
            out.append(_blank(text[act.start:act.end]))
        else:
            out.append(_placeholder(text, act, len(placeholders)))
            placeholders.append((_normalised(act), output))
    tail = text[pos:]
    out.append(_blank(tail) if defines else clean(tail))
    return HelmView("".join(out), placeholders, injections, offsets, frames)


def _control(word: str, rest: str, top: _Frame, values: Values, defines: int) -> tuple[_Frame, int]:
    if word in ("if", "range", "block"):
        return _Frame(top, True, top.dot if word == "if" else None, word), defines
    if word == "with":
        return _with(top, rest, values), defines
    if word == "define":
        return _Frame(top, True, None, "define"), defines + 1
    if word == "else" and top.parent is not None and top.kind != "define":
        if rest.startswith("with "):
            return _with(top.parent, rest[5:], values, top.kind), defines
        return _Frame(top.parent, True, top.parent.dot, top.kind), defines
    if word == "end" and top.parent is not None:
        return top.parent, defines - (top.kind == "define")
    return top, defines  # break, continue, a stray else/end


def _with(parent: _Frame, expr: str, values: Values, kind: str = "with") -> _Frame:
    """`with .Values.x`: dot becomes that value; its body renders exactly when the value is
    non-empty, which values.yaml decides when it holds the key."""
    cmds = commands(expr)
    path = _path(cmds[0][0], parent.dot) if len(cmds) == 1 and len(cmds[0]) == 1 else None
    value = values.lookup(path)
    return _Frame(parent, value is _UNRESOLVED or not truthy(value), path, kind)


def _surroundings(text: str, actions: list[Action]) -> list[tuple[str, bool]]:
    """For each action: the last character of YAML text before it on its line ("" when none;
    other actions do not count), and whether YAML text follows it on its last line. Two linear
    passes, so a line holding thousands of actions costs no more than its length."""
    before: list[str] = []
    last = ""
    pos = 0
    for act in actions:
        segment = text[pos:act.start]
        cut = max(segment.rfind("\n"), segment.rfind("\r"))
        tail = segment[cut + 1:].rstrip()
        last = tail[-1:] if cut >= 0 else (tail[-1:] or last)
        before.append(last)
        if "\n" in text[act.start:act.end] or "\r" in text[act.start:act.end]:
            last = ""
        pos = act.end
    after: list[bool] = [False] * len(actions)
    following = False  # text after the next action, on the same line as this one's end
    end = len(text)
    for k in range(len(actions) - 1, -1, -1):
        act = actions[k]
        segment = text[act.end:end]
        cut = min((j for j in (segment.find("\n"), segment.find("\r")) if j >= 0), default=-1)
        if cut >= 0:
            following = bool(segment[:cut].strip())
        else:
            following = bool(segment.strip()) or following
        after[k] = following
        if "\n" in text[act.start:act.end] or "\r" in text[act.start:act.end]:
            following = False
        end = act.start
    return list(zip(before, after))


def _blank(chunk: str) -> str:
    return re.sub(r"[^\r\n]", " ", chunk)


def _placeholder(text: str, act: Action, index: int) -> str:
    """`MARK digits FILL...` over the action's first line, spaces over the rest (newlines kept)."""
    digits = ""
    while True:
        index, d = divmod(index, _BASE)
        digits = chr(_DIGIT0 + d) + digits
        if not index:
            break
    chunk = text[act.start:act.end]
    first = len(re.match(r"[^\r\n]*", chunk).group(0))
    token = MARK + digits
    if len(token) > first:
        return _blank(chunk)  # an action broken right after `{{`: nothing fits, leave a gap
    return token + FILL * (first - len(token)) + _blank(chunk[first:])


def _normalised(act: Action) -> str:
    if act.literal is not None:
        return act.literal
    return "{{ " + " ".join(act.inner.split()) + " }}"


# ---- merging into the parsed YAML -------------------------------------------------------------------

class _Resolver:
    def __init__(self, view: HelmView, lines: LineIndex):
        self.view = view
        self.lines = lines
        self._starts: dict[int, list] = {}
        self._steps = MAX_INJECTION_STEPS

    def run(self, values: list, positions: list) -> None:
        for i in range(len(values)):
            values[i] = self._substitute(values[i], positions, i)
        self._inject(values, positions)

    # -- placeholders -> Templated / ChartValue ----------------------------------------------------
    def scalar(self, text: str) -> Any:
        m = _PLACEHOLDER.fullmatch(text)
        if m is not None:
            found = self._placeholder_at(m.group(1))
            output = found[1] if found is not None else Output()
            if output.value is not _UNRESOLVED and not output.yaml and isinstance(output.value, (str, int)):
                value = output.value
                return ChartValue(value, output.origin) if isinstance(value, str) else value
        return Templated(_PLACEHOLDER.sub(self._action_text, text))

    def _placeholder_at(self, digits: str) -> tuple[str, Output] | None:
        index = 0
        for ch in digits:
            index = index * _BASE + ord(ch) - _DIGIT0
        return self.view.placeholders[index] if index < len(self.view.placeholders) else None

    def _action_text(self, m: re.Match) -> str:
        found = self._placeholder_at(m.group(1))
        return found[0] if found is not None else m.group(0)

    def _substitute(self, root: Any, positions: list, i: int) -> Any:
        if isinstance(root, str):
            return self.scalar(root) if MARK in root else root
        seen: set[int] = set()
        todo = [(root, positions[i][2])]
        while todo:
            node, kids = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                if any(isinstance(k, str) and MARK in k for k in node):
                    items = list(node.items())
                    old_kids = kids if isinstance(kids, dict) else {}
                    new_kids = {}
                    node.clear()
                    for k, v in items:
                        nk = self.scalar(k) if isinstance(k, str) and MARK in k else k
                        node[nk] = v
                        if k in old_kids:
                            new_kids[nk] = old_kids[k]
                    if isinstance(kids, dict):
                        kids.clear()
                        kids.update(new_kids)
                for k, v in node.items():
                    if isinstance(v, str):
                        if MARK in v:
                            node[k] = self.scalar(v)
                    elif isinstance(v, (dict, list)):
                        entry = kids.get(k) if isinstance(kids, dict) else None
                        todo.append((v, entry[4] if entry else None))
            elif isinstance(node, list):
                for n, v in enumerate(node):
                    if isinstance(v, str):
                        if MARK in v:
                            node[n] = self.scalar(v)
                    elif isinstance(v, (dict, list)):
                        rec = kids[n] if isinstance(kids, list) and n < len(kids) else None
                        todo.append((v, rec[2] if rec else None))
        return root

    # -- injections -------------------------------------------------------------------------------
    def _inject(self, values: list, positions: list) -> None:
        view = self.view
        if not values:
            return
        doc_starts = [p[0] for p in positions]
        for inj in view.injections:
            i = max(bisect.bisect_right(doc_starts, inj.action.start) - 1, 0)
            chain = self._chain(values, positions, i, inj.action.start)
            self._steps -= len(chain)
            if self._steps < 0:
                view.unknown_paths.add((i,))
                continue
            target = self._target(chain, inj)
            output = inj.output
            data = output.value
            if output.yaml and (data is None or isinstance(data, (dict, list)) and not data):
                if target is not None and target[1] is None:  # `key:` left empty by values.yaml
                    view.injected[target[0]] = output.origin
                continue
            if target is None:
                # Without nindent/indent (a helper that indents its own output) or at a column no
                # node has, the content lands near the node before it: that node is unknown.
                containers = [c for c in chain if isinstance(c[1], (dict, list))]
                view.unknown_paths.add(containers[-1][0] if containers else (i,))
                continue
            path, node, entry, parent, key = target
            if data is _UNRESOLVED or not output.yaml:
                view.unknown_paths.add(path)
            elif isinstance(node, dict) and isinstance(data, dict):
                self._merge(path, node, entry[4], data, inj, output.origin)
            elif isinstance(node, list) and isinstance(data, list):
                self._extend(path, node, entry[4], data, inj, output.origin)
            elif node is None and isinstance(data, (dict, list)) and parent is not None:
                parent_value, parent_kids = parent
                a, b = inj.action.start, inj.action.end
                parent_value[key] = dict(data) if isinstance(data, dict) else list(data)
                kids = {k: (a, b, a, b, None) for k in data} if isinstance(data, dict) else \
                    [(a, b, None) for _ in data]
                parent_kids[key] = (entry[0], entry[1], a, b, kids)
                view.injected[path] = output.origin
            else:
                view.unknown_paths.add(path)

    def _merge(self, path, node: dict, kids: Any, data: dict, inj: Injection, origin: str) -> None:
        a, b = inj.action.start, inj.action.end
        for k, v in data.items():
            node[k] = v
            if isinstance(kids, dict):
                kids[k] = (a, b, a, b, None)
            self.view.injected[path + (k,)] = origin
        self._starts.pop(id(kids), None)

    def _extend(self, path, node: list, kids: Any, data: list, inj: Injection, origin: str) -> None:
        a, b = inj.action.start, inj.action.end
        for v in data:
            self.view.injected[path + (len(node),)] = origin
            node.append(v)
            if isinstance(kids, list):
                kids.append((a, b, None))

    def _chain(self, values: list, positions: list, i: int, offset: int) -> list[tuple]:
        """The nodes from document `i`'s root down to the last node starting before `offset`:
        (path, value, entry, (parent value, parent children) or None, key)."""
        s, e, kids = positions[i]
        chain = [((i,), values[i], (s, e, s, e, kids), None, None)]
        while len(chain) <= min(self._steps, 1000):
            path, value, entry, _, _ = chain[-1]
            kids = entry[4]
            if isinstance(value, dict) and isinstance(kids, dict) and kids:
                starts = self._sorted_starts(kids)
                j = bisect.bisect_left(starts, (offset,)) - 1
                if j < 0:
                    break
                key = starts[j][1]
                if key not in value:
                    break
                chain.append((path + (key,), value[key], kids[key], (value, kids), key))
            elif isinstance(value, list) and isinstance(kids, list) and kids and len(kids) == len(value):
                j = bisect.bisect_left(kids, (offset,)) - 1
                if j < 0:
                    break
                rs, re_, rk = kids[j]
                chain.append((path + (j,), value[j], (rs, re_, rs, re_, rk), (value, kids), j))
            else:
                break
        return chain

    def _sorted_starts(self, kids: dict) -> list:
        """(key start, key) of a mapping's entries in source order, computed once per mapping."""
        cached = self._starts.get(id(kids))
        if cached is None or cached[0] is not kids:
            cached = (kids, sorted(((v[0], k) for k, v in kids.items()), key=lambda t: t[0]))
            self._starts[id(kids)] = cached
        return cached[1]

    def _target(self, chain: list[tuple], inj: Injection) -> tuple | None:
        """Where the injected block lands: the deepest collection whose items sit at its column,
        or the deepest key left empty (`key:` then the action) above that column."""
        lines = self.lines
        if inj.key_line is not None:
            for link in reversed(chain[1:]):
                if isinstance(link[3][0], dict) and lines.position(link[2][0]).line == inj.key_line:
                    return link
            return None
        if inj.column is None:
            return None
        data = inj.output.value
        for link in reversed(chain):
            path, value, entry, parent, key = link
            kids = entry[4]
            if isinstance(value, dict) and isinstance(kids, dict) and kids:
                if self._column(self._sorted_starts(kids)[0][0]) == inj.column:
                    return link
            elif isinstance(value, list) and isinstance(kids, list) and kids:
                if self._dash_column(kids[0][0]) == inj.column:
                    return link
            if value is None and parent is not None and isinstance(parent[0], dict):
                column = self._column(entry[0])
                if column < inj.column or (column == inj.column and isinstance(data, list)):
                    return link
        return None

    def _column(self, offset: int) -> int:
        return self.lines.position(offset).column - 1

    def _dash_column(self, offset: int) -> int | None:
        """Column of the `-` before a block sequence item (a few spaces back at most)."""
        text = self.lines.text
        j = offset - 1
        while j >= max(offset - 64, 0) and text[j] == " ":
            j -= 1
        return self._column(j) if j >= 0 and text[j] == "-" else None


# ---- charts ----------------------------------------------------------------------------------------

def chart_root(relpath: str, workspace: Any) -> str | None:
    """The chart directory of a template `<chart>/templates/**/<file>`: the nearest one whose
    directory holds Chart.yaml in the scan (a subchart's own templates belong to the subchart)."""
    if workspace is None:
        return None
    parts = relpath.split("/")
    for n in range(len(parts) - 2, -1, -1):
        if parts[n] == "templates":
            chart = "/".join(parts[:n])
            if "Chart.yaml" in workspace.names(chart):
                return chart
    return None


def chart_values(chart: str, workspace: Any) -> Values:
    """The chart's default values (values.yaml), or unknown values when it is not in the scan."""
    name = f"{chart}/values.yaml" if chart else "values.yaml"
    doc = workspace.load(name)
    data = doc.values[0] if doc is not None and doc.ensure_parsed() and doc.values else None
    return Values(data if isinstance(data, dict) else None, name)
