"""How IaC findings write code: the one place that knows ARM JSON and Bicep syntax.

The ARM extractor reads ARM templates and Bicep files alike (Bicep through its ARM-shaped view),
so its messages and fixes ask the emitter's `syntax` for every snippet they show: a property
(`"identity": {"type": "SystemAssigned"}` or `identity: { type: 'SystemAssigned' }`), an
expression (`[newGuid()]` or `newGuid()`), how a resource is named (`web app 'x'` or
`resource web 'Microsoft.Web/sites'`), the identity block a fix inserts, the AZURE_CLIENT_ID
entry and the data-plane role assignment that KL401 proposes. Rules never format code themselves.
"""

from __future__ import annotations

import json
import re
from typing import Any


class Code(str):
    """An expression written as code, not as a string literal: `Code(text, arm=...)` is `text` in
    Bicep and the ARM expression string `arm` (default `[text]`) in JSON."""

    __slots__ = ("arm",)

    def __new__(cls, text: str, arm: str | None = None) -> "Code":
        obj = super().__new__(cls, text)
        obj.arm = arm if arm is not None else f"[{text}]"
        return obj


def short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ArmSyntax:
    name = "arm"

    def value(self, v: Any, indent: str = "") -> str:
        return json.dumps(self._plain(v), indent=2).replace("\n", "\n" + indent)

    def _plain(self, v: Any) -> Any:
        if isinstance(v, Code):
            return v.arm
        if isinstance(v, dict):
            return {k: self._plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self._plain(x) for x in v]
        return v

    def prop(self, key: str, v: Any, indent: str = "") -> str:
        """`"key": value`: one object entry as written in a template."""
        return f"{json.dumps(key)}: {self.value(v, indent)}"

    def props(self, entries: dict, joiner: str = " and ") -> str:
        return joiner.join(self.prop(k, v) for k, v in entries.items())

    def expr(self, text: str) -> str:
        return f"[{text}]"

    def default_word(self) -> str:
        return "defaultValue"

    def shown(self, em: Any, path: tuple, raw: Any) -> str:
        """How a message names a value that did not resolve: the template's own text."""
        if not isinstance(raw, str):
            return "?"
        return raw if len(raw) <= 80 else raw[:77] + "..."

    def unresolved_name(self, em: Any, path: tuple, raw: Any) -> str:
        """What `<kind> '<name>'` says for a resource whose name did not resolve."""
        return self.shown(em, path + ("name",), raw)

    def resource(self, em: Any, path: tuple, kind: str, name: Any, raw: Any) -> str:
        """`container registry 'x'`: a resource as messages name it."""
        return f"{kind} '{name if isinstance(name, str) else self.shown(em, path + ('name',), raw)}'"

    def symbol(self, em: Any, path: tuple) -> str:
        return ""

    def entry(self, entries: dict) -> str:
        """An array item such as an env entry: `{"name": ..., "value": ...}`."""
        return self.value(entries)

    def client_id(self, em: Any, path: tuple, key: Any) -> str:
        """The expression of a user-assigned identity's client id, from its key in
        `userAssignedIdentities`."""
        if isinstance(key, str) and key.startswith("[") and key.endswith("]"):
            return f"[reference({key[1:-1]}, '2023-01-31').clientId]"
        return f"[reference('{key}', '2023-01-31').clientId]"


class BicepSyntax(ArmSyntax):
    name = "bicep"

    def value(self, v: Any, indent: str = "") -> str:
        if isinstance(v, Code):
            return str(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if v is None:
            return "null"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, str):
            return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
        inner = indent + "  "
        if isinstance(v, dict):
            if not v:
                return "{}"
            lines = [f"{inner}{self._key(k)}: {self.value(x, inner)}" for k, x in v.items()]
            return "{\n" + "\n".join(lines) + f"\n{indent}}}"
        if isinstance(v, list):
            if not v:
                return "[]"
            return "[\n" + "\n".join(f"{inner}{self.value(x, inner)}" for x in v) + f"\n{indent}]"
        return "null"

    @staticmethod
    def _key(k: str) -> str:
        return k if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) else "'" + k.replace("'", "\\'") + "'"

    def prop(self, key: str, v: Any, indent: str = "") -> str:
        return f"{self._key(key)}: {self.value(v, indent)}"

    def expr(self, text: str) -> str:
        return text

    def default_word(self) -> str:
        return "default value"

    def shown(self, em: Any, path: tuple, raw: Any) -> str:
        text = em.source_text(path) if hasattr(em, "source_text") else None
        if text:
            return short(text)
        return "?"

    def resource(self, em: Any, path: tuple, kind: str, name: Any, raw: Any) -> str:
        sym = self.symbol(em, path)
        if not sym:
            return super().resource(em, path, kind, name, raw)
        return f"{sym} ({kind} '{name}')" if isinstance(name, str) else sym

    def unresolved_name(self, em: Any, path: tuple, raw: Any) -> str:
        found = em.declaration(path) if hasattr(em, "declaration") else None
        return found[1] if found else self.shown(em, path + ("name",), raw)  # the symbolic name

    def symbol(self, em: Any, path: tuple) -> str:
        """`resource web 'Microsoft.Web/sites'`: the declaration as written."""
        found = em.declaration(path) if hasattr(em, "declaration") else None
        if found is None:
            return ""
        keyword, name, rtype = found
        return f"{keyword} {name} '{rtype}'"

    def entry(self, entries: dict) -> str:
        return self.value(entries)

    def client_id(self, em: Any, path: tuple, key: Any) -> str:
        text = em.source_text(path) if hasattr(em, "source_text") else None
        if text:
            m = re.fullmatch(r"'\$\{\s*([A-Za-z_]\w*)\.id\s*\}'", text.strip())
            if m:
                return f"{m.group(1)}.properties.clientId"
            return f"reference({_interpolated(text.strip()) or text.strip()}, '2023-01-31').clientId"
        return "<client id of the user-assigned identity>"


def _interpolated(text: str) -> str | None:
    """`x` for `'${ x }'` (the text of a whole-string interpolation), else None. Sliced: a regex
    with a lazy group between optional blanks backtracks quadratically on long blank runs."""
    if not (len(text) >= 6 and text.startswith("'${") and text.endswith("}'")):
        return None
    inner = text[3:-2]
    return inner.strip() or inner[-1:]


ARM = ArmSyntax()
BICEP = BicepSyntax()
_BY_NAME = {"arm": ARM, "bicep": BICEP}


def syntax_for(name: Any) -> ArmSyntax:
    return _BY_NAME.get(name, ARM) if isinstance(name, str) else ARM
