"""A tree-sitter parse that cannot run away.

tree-sitter's error recovery can take time quadratic in the input (a PowerShell script of
unclosed `${`: 320 KB took 42 s; a Bicep statement of 20,000 broken entries; 4,000 `a.b` in one
Bicep object): the parse reads its input through a callback and is cancelled once it has made
more reads than a linear parse needs. A read budget is deterministic, unlike a timer (~40,000
reads a second): a linear parse reads each chunk about twice (real scripts at most ~15 times), a
runaway one thousands of times.
"""

from __future__ import annotations

READ_CHUNK = 4096
READ_BUDGET = 20_000  # reads allowed on top of PER_CHUNK for each chunk of the input
PER_CHUNK = 16


def bounded_parse(parser, data: bytes):
    """`parser.parse(data)`, or None when the parse needed more than `READ_BUDGET` plus
    `PER_CHUNK` reads a chunk of `data` (the parser is reset then, ready for the next input)."""
    reads = 0
    limit = READ_BUDGET + PER_CHUNK * (len(data) // READ_CHUNK)

    def read(offset, _point):
        nonlocal reads
        reads += 1
        return data[offset:offset + READ_CHUNK]

    try:
        tree = parser.parse(read, progress_callback=lambda _offset, _error: reads > limit)
    except ValueError:  # cancelled
        tree = None
    if tree is None:
        parser.reset()
    return tree
