"""Reading files a repository controls: only regular files, never a blocking open or read.

A FIFO, a device or a socket (directly or through a symbolic link) would block `open()` or an
endless `read()`; files on pseudo file systems (`/proc/kmsg`) claim to be regular with a size of 0
and block or never end. Every file keyless reads from a scanned tree (sources, companions,
`.gitignore`, configuration, the baseline) goes through `read_regular_file`.
"""

from __future__ import annotations

import errno
import os
import stat

# Never wait for a writer (FIFO) or a terminal; binary on Windows.
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class NotRegularFile(OSError):
    """The path is a FIFO, device, socket or directory: keyless does not read it."""

    def __init__(self, kind: str):
        super().__init__(errno.EINVAL, f"not a regular file ({kind})")
        self.kind = kind


def file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def read_regular_file(path: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file, at most `limit + 1` of them (the caller tells "too big").
    Raises NotRegularFile for anything else, OSError when it cannot be read."""
    fd = os.open(path, _FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(file_kind(st.st_mode))
        if st.st_size == 0:
            return b""  # empty, or a pseudo file (/proc) whose reads may block or never end
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object closes it
            return fh.read(limit + 1 if limit is not None else -1)
    finally:
        if fd >= 0:
            os.close(fd)
