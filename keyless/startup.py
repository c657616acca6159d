"""The command line's start-up window for the cyclic garbage collector.

Start-up (importing click and keyless's modules, reading the configuration, loading the rules)
allocates tens of thousands of objects that live as long as the process: modules, classes,
functions, compiled patterns. With the collector on, it walks them again and again (~7-10 ms of
an editor's one-file check) and once more in the full collection at interpreter exit. So the
command line (`keyless`, `python -m keyless`; never a library caller) turns the collector off
while it starts and, once start-up is over, freezes what it built (`gc.freeze`: never scanned
again, as lasting as it is) and turns the collector back on for the work itself. A scan's own
policy (keyless.linter.engine.scan_gc_policy) applies on top.
"""

from __future__ import annotations

import gc

_pending = False


def begin() -> None:
    """Called first thing by the command-line entry."""
    global _pending
    if gc.isenabled():
        gc.disable()
        _pending = True


def end() -> None:
    """Start-up is over (the rules are loaded, or the command needs no rules): collect again."""
    global _pending
    if _pending:
        _pending = False
        gc.freeze()
        gc.enable()
