"""Regular expressions compiled on first use.

Compiling a pattern costs 20-300 µs, and keyless defines ~200 at module level while a one-file
check (an editor's on-save run) uses about a third of them. `lazy_compile` takes re.compile's
arguments and returns a stand-in that compiles on first use, then rebinds the module-level names
holding it to the compiled pattern, so later uses cost nothing extra. Meant for module-level
names the code calls methods on (`NAME.search(...)`, `module.NAME.match(...)`); a stand-in held
elsewhere (a container, a default argument, `from m import NAME`) still works, through one more
attribute lookup per use.

tests/regex_audit.py audits every stand-in (`created()`), used or not.
"""

from __future__ import annotations

import re
import sys
from typing import Any

_CREATED: list[LazyPattern] = []


class LazyPattern:
    __slots__ = ("_source", "_flags", "_namespace", "_compiled")

    def __init__(self, source: str, flags: int, namespace: dict[str, Any]):
        self._source = source
        self._flags = flags
        self._namespace = namespace
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        pattern = self._compiled
        if pattern is None:
            pattern = self._compiled = re.compile(self._source, self._flags)
            for name, value in list(self._namespace.items()):
                if value is self:
                    self._namespace[name] = pattern
        return pattern

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"lazy_compile({self._source!r}, {self._flags})"


def lazy_compile(source: str, flags: int = 0) -> Any:
    """re.compile(source, flags), deferred to the first use (typed Any: it stands for a re.Pattern)."""
    pattern = LazyPattern(source, flags, sys._getframe(1).f_globals)
    _CREATED.append(pattern)
    return pattern


def created() -> list[LazyPattern]:
    """Every stand-in made so far (the regex audit compiles and checks them all)."""
    return list(_CREATED)
