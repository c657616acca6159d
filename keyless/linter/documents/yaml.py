"""YAML documents (Azure Container Apps / Container Instances YAML, Kubernetes, compose, pipelines).

Safe by construction: only PyYAML's *parser* is used (`yaml.parse` with `CSafeLoader` when
libyaml is available, else `SafeLoader`); no PyYAML constructor or composer runs. The event stream
is composed here, iteratively (PyYAML's composer is recursive: the C one segfaults on 100,000
nested `[`, the Python one raises RecursionError), into plain data plus a position tree.

Values follow `yaml.safe_load` (YAML 1.1 SafeConstructor) semantics, with these deliberate
differences (the contract is plain, JSON-serialisable data):

* timestamps (`2024-01-01`, `!!timestamp`) and `!!binary` stay strings (their source text);
* unknown tags (`!Ref`, `!!python/...`) are ignored: the node is built as if untagged (strings,
  lists, dicts), never rejected and never executed;
* `!!set` gives a dict with None values, `!!omap` / `!!pairs` a list of one-key dicts;
* an explicit tag that cannot convert (`!!int abc`) keeps the string.

As in safe_load, plain `on`/`yes`/`off` resolve to booleans (also as mapping keys: a GitHub
workflow's `on:` key is `True`), `<<` merge keys are applied (explicit keys win, earlier merge
sources win over later ones) and an alias is the *same object* as its anchor.

Hostile input: alias expansion is metered (nodes reachable through aliases, counted as if
expanded); past MAX_ALIAS_EXPANSION the document is a ParseError ("billion laughs"). A recursive
alias (an alias to an anchor still being built) and nesting beyond MAX_DEPTH are ParseErrors.

Positions come from the events' marks as character offsets (`mark.index`), converted through
`doc.lines`, so they agree with LineIndex even where YAML's own line counting differs (NEL,
U+2028). Block collections end at their last child (not at the next token); flow collections at
their closing bracket.

Helm chart templates (`templates/` next to `Chart.yaml`) are parsed from the same-length YAML
view of keyless.linter.documents.helm; `doc.helm` then answers what the view cannot show.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from keyless.linter.documents import Document, ParseError, register_kind
from keyless.linter.documents.json import gc_paused, walk_positions

if TYPE_CHECKING:
    from keyless.linter.documents import helm

MAX_DEPTH = 1000
MAX_ALIAS_EXPANSION = 1_000_000

_TAG = "tag:yaml.org,2002:"
_MISSING = object()
_MERGE = object()  # pending-key marker for `<<`


class _Composer:
    """Builds values and positions from a PyYAML event stream, without recursion."""

    def __init__(self, yaml_module):
        self.yaml = yaml_module
        from yaml.constructor import SafeConstructor
        from yaml.nodes import ScalarNode
        from yaml.resolver import Resolver

        self._resolvers = Resolver.yaml_implicit_resolvers
        self._constructor = SafeConstructor()
        self._scalar_node = ScalarNode
        self._plain_cache: dict[str, Any] = {}

    # ---- scalars ------------------------------------------------------------------------------
    def scalar(self, ev) -> Any:
        tag = ev.tag
        value = ev.value
        if tag is None or tag == "!":
            if not ev.implicit[0]:  # quoted / block scalar, or `!` non-specific tag
                return value
            cached = self._plain_cache.get(value, _MISSING)
            if cached is not _MISSING:
                return cached
            resolved = self._resolve_plain(value)
            if len(self._plain_cache) < 50_000:
                self._plain_cache[value] = resolved
            return resolved
        return self._construct(tag, value)

    def _resolve_plain(self, value: str) -> Any:
        resolvers = self._resolvers.get(value[0] if value else "", ())
        wildcard = self._resolvers.get(None, ())
        for tag, regexp in (*resolvers, *wildcard):
            if regexp.match(value):
                return self._construct(tag, value)
        return value

    def _construct(self, tag: str, value: str) -> Any:
        if not tag.startswith(_TAG):
            return value
        kind = tag[len(_TAG):]
        try:
            if kind == "null":
                return None
            if kind == "bool":
                return self._constructor.bool_values[value.lower()]
            if kind == "int":
                return self._constructor.construct_yaml_int(self._scalar_node(tag, value))
            if kind == "float":
                return self._constructor.construct_yaml_float(self._scalar_node(tag, value))
            if kind == "merge":
                return _MERGE
        except (ValueError, KeyError, IndexError, TypeError):
            return value
        return value  # str, timestamp, binary, value, custom

    # ---- documents ----------------------------------------------------------------------------
    def compose(self, events) -> tuple[list[Any], list[tuple]]:
        y = self.yaml
        ScalarEvent, AliasEvent = y.ScalarEvent, y.AliasEvent
        MappingStartEvent, MappingEndEvent = y.MappingStartEvent, y.MappingEndEvent
        SequenceStartEvent, SequenceEndEvent = y.SequenceStartEvent, y.SequenceEndEvent
        DocumentStartEvent, DocumentEndEvent = y.DocumentStartEvent, y.DocumentEndEvent

        values: list[Any] = []
        positions: list[tuple] = []
        anchors: dict[str, tuple] = {}  # name -> (value, children, size)
        open_anchors: set[str] = set()
        expanded = 0
        # Frame: [container, children, start, anchor, is_map, pending_key, merges, size, last_end,
        #         flow]
        stack: list[list] = []
        root: tuple | None = None

        for ev in events:
            cls = type(ev)
            if cls is ScalarEvent:
                value = self.scalar(ev)
                start, end = ev.start_mark.index, ev.end_mark.index
                children = None
                size = 1
                if value is _MERGE and not (stack and stack[-1][4] and stack[-1][5] is _MISSING):
                    value = "<<"  # only a plain `<<` *key* merges
                if ev.anchor is not None:
                    anchors[ev.anchor] = ("<<" if value is _MERGE else value, None, 1)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise ParseError("yaml", "nesting too deep", *self._where(ev.start_mark.index))
                is_map = cls is MappingStartEvent
                if ev.anchor is not None:
                    open_anchors.add(ev.anchor)
                stack.append([{} if is_map else [], {} if is_map else [], ev.start_mark.index,
                              ev.anchor, is_map, _MISSING, None, 1, ev.start_mark.index,
                              bool(ev.flow_style)])
                continue
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                frame = stack.pop()
                value, children, start, anchor, is_map, _, merges, size, last_end, flow = frame
                end = ev.end_mark.index if flow or last_end == start else last_end
                if merges:
                    value, children = _apply_merges(value, children, merges)
                if anchor is not None:
                    open_anchors.discard(anchor)
                    anchors[anchor] = (value, children, size)
            elif cls is AliasEvent:
                name = ev.anchor
                target = anchors.get(name)
                if target is None:
                    where = self._where(ev.start_mark.index)  # never the alias: it may be a secret
                    if name in open_anchors:
                        raise ParseError("yaml", "recursive alias", *where)
                    raise ParseError("yaml", "undefined alias", *where)
                value, children, size = target
                expanded += size
                if expanded > MAX_ALIAS_EXPANSION:
                    raise ParseError("yaml", "alias expansion too large", *self._where(ev.start_mark.index))
                start, end = ev.start_mark.index, ev.end_mark.index
            elif cls is DocumentStartEvent:
                anchors = {}
                open_anchors = set()
                root = None
                continue
            elif cls is DocumentEndEvent:
                if root is None:
                    values.append(None)
                    positions.append((ev.start_mark.index, ev.start_mark.index, None))
                else:
                    values.append(root[0])
                    positions.append(root[1])
                continue
            else:  # stream start / end
                continue

            # ---- attach the finished node -----------------------------------------------------
            if not stack:
                root = (value, (start, end, children))
                continue
            frame = stack[-1]
            frame[7] += size
            frame[8] = end
            if frame[4]:
                pending = frame[5]
                if pending is _MISSING:  # this node is a key
                    if value is _MERGE:
                        frame[5] = _MERGE
                        continue
                    if isinstance(value, (dict, list)):
                        raise ParseError("yaml", "mapping or sequence used as a key", *self._where(start))
                    frame[5] = (value, start, end)
                elif pending is _MERGE:
                    frame[5] = _MISSING
                    if frame[6] is None:
                        frame[6] = []
                    if isinstance(value, dict):
                        frame[6].append((value, children))
                    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
                        # Earlier sources win: apply them last.
                        for item, rec in reversed(list(zip(value, children))):
                            frame[6].append((item, rec[2]))
                    else:
                        raise ParseError("yaml", "invalid merge key", *self._where(start))
                else:
                    key, ks, ke = pending
                    frame[5] = _MISSING
                    frame[0][key] = value
                    frame[1][key] = (ks, ke, start, end, children)
            else:
                frame[0].append(value)
                frame[1].append((start, end, children))
        return values, positions

    _line_index = None

    def _where(self, offset: int) -> tuple[int | None, int | None]:
        if self._line_index is None:
            return None, None
        pos = self._line_index.position(offset)
        return pos.line, pos.column


def _apply_merges(own: dict, own_kids: dict, merges: list) -> tuple[dict, dict]:
    value: dict = {}
    kids: dict = {}
    for src, src_kids in merges:
        value.update(src)
        if src_kids:
            kids.update(src_kids)
    value.update(own)
    kids.update(own_kids)
    return value, kids


# ---- templated YAML -----------------------------------------------------------------------------

_TEMPLATE_NAME = re.compile(r"\.tmpl\.ya?ml$", re.I)
# Something a template or substitution tool fills in: a Go action or `${X}`, `#{X}#`, `$(X)`.
_PLACEHOLDER_HINT = re.compile(r"\{\{|\$\{[A-Za-z_]|#\{[^}#\r\n]+\}#|\$\([A-Za-z_]")


# ---- subkinds --------------------------------------------------------------------------------

def detect_yaml_subkind(name: str, value: Any) -> str:
    lower = name.lower()
    if not isinstance(value, dict):
        return ""
    typ = value.get("type")
    typ = typ.lower() if isinstance(typ, str) else ""
    props = value.get("properties")
    props = props if isinstance(props, dict) else {}
    if typ.startswith(("microsoft.app/containerapps", "microsoft.app/jobs")):
        return "aca"
    if typ.startswith("microsoft.containerinstance/containergroups"):
        return "aci"
    if "apiVersion" in value and "kind" in value:
        return "k8s"
    template = props.get("template")
    if (isinstance(template, dict) and "containers" in template) or "configuration" in props:
        return "aca"
    if "containers" in props and "osType" in props:
        return "aci"
    if isinstance(value.get("services"), dict):
        return "compose"
    if any(k in value for k in ("jobs", "steps", "on", True, "trigger", "stages")):
        return "pipeline"
    base = lower.rsplit("/", 1)[-1]
    if base.startswith(("docker-compose", "compose.")):
        return "compose"
    if base.startswith("azure-pipelines") or "/.github/workflows/" in "/" + lower:
        return "pipeline"
    return ""


class YamlDocument(Document):
    kind = "yaml"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._values: list[Any] = []
        self._positions: list[tuple] = []
        self.subkinds: list[str] = []
        # Helm chart templates: the view the values come from (keyless.linter.documents.helm).
        self.helm: helm.HelmView | None = None

    def _parse(self) -> None:
        if "{{" in self.text and "templates" in self.relpath.split("/")[:-1]:
            self._parse_template()
        elif "{{" in self.text and _TEMPLATE_NAME.search(self.name):
            self._parse_templated()  # azd's `*.tmpl.yaml`: a Go template by name
        else:
            try:
                self._values, self._positions = self._compose(self.text)
            except ParseError as exc:
                # `location: {{ .Env.AZURE_LOCATION }}`, `[${A}, ${B}]`: placeholders a tool fills in
                # before the file deploys are not YAML; read the rest around them.
                if not _PLACEHOLDER_HINT.search(self.text):
                    raise
                try:
                    self._parse_templated()
                except ParseError as templated:
                    raise (templated if exc.problem == "mapping or sequence used as a key" else exc) from None
        self.subkinds = [detect_yaml_subkind(self.relpath or self.name, v) for v in self._values]
        self.subkind = next((k for k in self.subkinds if k), "")

    def _parse_templated(self) -> None:
        """Go-template actions (`{{ .Env.X }}`) and substitution placeholders (`${X}`, `#{X}#`,
        `$(X)`) read as unknown scalars, as in a Helm template without a chart."""
        from keyless.linter.documents import helm

        self._parse_helm(helm.Values(None), substituted=True)

    def _parse_template(self) -> None:
        """A file under templates/: a Helm template when its chart holds Chart.yaml; otherwise
        plain YAML, or its Helm view when it only parses that way."""
        from keyless.linter.documents import helm  # only charts pay for the template reader

        chart = helm.chart_root(self.relpath, self.workspace)
        if chart is None:
            try:
                self._values, self._positions = self._compose(self.text)
                return
            except ParseError as exc:
                try:
                    self._parse_helm(helm.Values(None))
                except ParseError:
                    raise exc from None
                return
        if self.name.startswith("_"):  # Helm renders no manifest from partials such as _helpers
            return
        self._parse_helm(helm.chart_values(chart, self.workspace), chart)

    def _parse_helm(self, values: helm.Values, chart: str | None = None, substituted: bool = False) -> None:
        from keyless.linter.documents import helm

        try:
            view = helm.detemplate(self.text, values, substituted)
        except helm.TemplateError as exc:
            pos = self.lines.position(exc.offset)
            if substituted:
                raise ParseError("yaml-template", exc.problem, pos.line, pos.column) from None
            raise ParseError("helm", exc.problem, pos.line, pos.column) from None
        try:
            parsed, positions = self._compose(view.text)
        except ParseError as exc:
            if substituted:
                raise ParseError("yaml-template", exc.problem, exc.line, exc.column) from None
            raise ParseError("helm-yaml", exc.problem, exc.line, exc.column) from None
        view.resolve(parsed, positions, self.lines)
        view.entry, view.chart = self._entry, chart
        self._values, self._positions, self.helm = parsed, positions, view

    def _compose(self, text: str) -> tuple[list[Any], list[tuple]]:
        import yaml

        loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
        composer = _Composer(yaml)
        composer._line_index = self.lines
        try:
            with gc_paused():
                return composer.compose(yaml.parse(text, Loader=loader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = self.lines.position(mark.index) if mark is not None else None
            raise ParseError("yaml", yaml_problem(exc.problem, exc.context),
                             pos and pos.line, pos and pos.column) from None
        except yaml.YAMLError as exc:  # ReaderError (control characters) and friends
            offset = getattr(exc, "position", None)
            pos = self.lines.position(offset) if isinstance(offset, int) else None
            problem = "control character not allowed" if isinstance(exc, yaml.reader.ReaderError) else "syntax error"
            raise ParseError("yaml", problem, pos and pos.line, pos and pos.column) from None
        except UnicodeError:
            raise ParseError("yaml", "undecodable bytes") from None
        except RecursionError:
            raise ParseError("yaml", "nesting too deep") from None

    @property
    def values(self) -> list[Any]:
        self.ensure_parsed()
        return self._values

    def _entry(self, path: tuple) -> tuple | None:
        if not path or not self.ensure_parsed():
            return None
        index = path[0]
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self._positions):
            return None
        return walk_positions(self._positions[index], tuple(path[1:]))

    def scalar_origin(self, path: tuple) -> tuple[list[int], dict[int, int]] | None:
        """Where each character of the string scalar at `path` is written in the file: the
        offset of every character plus one for the end, and the characters written with more
        than one (`''`, `\\"`, `\\u00e9`) with their width. Embedded scripts (a CI step's `run:`)
        map their positions through it. None when the value is not a string written at `path`
        (an alias, a Helm view) or its characters cannot be matched one by one."""
        entry = self._entry(path)
        if entry is None or self.helm is not None:
            return None
        node = self.values[path[0]]
        for part in path[1:]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        if not isinstance(node, str):
            return None
        return scalar_origin(self.text, entry[2], entry[3], node)


def scalar_origin(text: str, start: int, end: int, value: str) -> tuple[list[int], dict[int, int]] | None:
    """Align a scalar's value with its source text[start:end] (see YamlDocument.scalar_origin)."""
    if start >= len(text):
        return None
    head = text[start]
    if head in "|>":
        line_end = text.find("\n", start)
        if line_end < 0:
            return None
        if head == "|":
            found = _literal_origin(text, line_end + 1, end, value)
            if found is not None:
                return found
        return _aligned_origin(text, line_end + 1, end, value, "")
    if head in "'\"":
        return _aligned_origin(text, start + 1, end - 1, value, head)
    return _aligned_origin(text, start, end, value, "")


def _literal_origin(text: str, body: int, end: int, value: str) -> tuple[list[int], dict[int, int]] | None:
    """`|` blocks keep lines one for one: value line i is host line i without its indentation."""
    origin: list[int] = []
    pos = body
    lines = value.split("\n")
    for n, line in enumerate(lines):
        if pos > len(text):
            return None
        nl = text.find("\n", pos)
        if nl < 0:
            nl = len(text)
        host_line = text[pos:nl].rstrip("\r")
        if line:
            indent = len(host_line) - len(line)
            if indent < 0 or host_line[indent:] != line or host_line[:indent].strip(" "):
                return None
            origin.extend(range(pos + indent, pos + indent + len(line)))
            origin.append(pos + indent + len(line))  # its line break, or the end
        else:
            origin.append(pos if n == len(lines) - 1 else pos + len(host_line))
        pos = nl + 1
    return origin, {}


_DQ_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
               "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
               "L": "\u2028", "P": "\u2029"}


def _aligned_origin(text: str, i: int, end: int, value: str, quote: str) -> tuple[list[int], dict[int, int]] | None:
    """Plain, quoted and folded scalars: walk value and source together, skipping what folding
    and escapes removed."""
    origin: list[int] = []
    wide: dict[int, int] = {}
    end = min(end, len(text))
    for k, c in enumerate(value):
        while True:
            if i >= end:
                return None
            h = text[i]
            if quote == '"' and h == "\\" and i + 1 < end:
                nxt = text[i + 1]
                if nxt in "\r\n":  # escaped line break: nothing, nor the next line's indentation
                    i += 2 if text[i + 1:i + 3] != "\r\n" else 3
                    while i < end and text[i] in " \t":
                        i += 1
                    continue
                width = {"x": 4, "u": 6, "U": 10}.get(nxt, 2)
                if nxt in "xuU":
                    try:
                        ch = chr(int(text[i + 2:i + width], 16))
                    except ValueError:
                        return None
                else:
                    ch = _DQ_ESCAPES.get(nxt)
                if ch != c:
                    return None
                origin.append(i)
                wide[k] = width
                i += width
                break
            if quote == "'" and h == "'" and text[i + 1:i + 2] == "'":
                if c != "'":
                    return None
                origin.append(i)
                wide[k] = 2
                i += 2
                break
            if h == c:
                origin.append(i)
                i += 1
                break
            if c in " \n" and h in "\r\n":  # a folded line break
                origin.append(i)
                i += 2 if text[i:i + 2] == "\r\n" else 1
                while i < end and text[i] in " \t":
                    i += 1
                break
            if h in " \t\r\n":
                i += 1
                continue
            return None
    origin.append(i)
    return origin, wide


# PyYAML's messages quote the source ("found character '\\t' that cannot start any token",
# "expected <block end>, but found '<scalar>'", "found undefined alias 'x'"): only their kind is
# kept (keyless.linter.documents.PARSE_PROBLEMS). First match wins.
_YAML_PROBLEMS = (
    ("undefined alias", "undefined alias"),
    ("duplicate anchor", "duplicate anchor"),
    ("escape", "invalid escape sequence"),
    ("mapping values are not allowed", "mapping value not allowed here"),
    ("block sequence entries are not allowed", "sequence entry not allowed here"),
    ("could not find expected ':'", "missing ':'"),
    ("expected key", "expected a key"),
    ("expected node content", "expected a value"),
    ("expected '-' indicator", "expected '-'"),
    ("expected <document start>", "expected a document start"),
    ("expected ',' or", "expected ',' or a closing bracket"),
    ("tab", "invalid indentation"),
    ("indentation", "invalid indentation"),
    ("cannot start any token", "unexpected character"),
    ("tag", "invalid tag"),
    ("directive", "invalid directive"),
    ("alias", "invalid anchor or alias"),
    ("anchor", "invalid anchor or alias"),
)


def yaml_problem(problem: str | None, context: str | None) -> str:
    p = (problem or "").lower()
    c = (context or "").lower()
    if "end of stream" in p:
        return "unterminated string" if "quoted scalar" in c else "unexpected end of input"
    for needle, kind in _YAML_PROBLEMS:
        if needle in p:
            return kind
    if "expected" in p and "but found" in p and "<" in p:  # expected <block end>, but found '<scalar>'
        return "unexpected token"
    for needle, kind in _YAML_PROBLEMS:  # "while scanning an alias", "while parsing a tag"...
        if needle in c:
            return kind
    return "syntax error"


register_kind("yaml", YamlDocument)
