"""Writing a report file (`check -o FILE`): whole or not at all.

The report goes to a temporary file in the target's directory, which replaces the target with one
rename; the temporary file is removed on every way out (an error, Ctrl-C, SIGTERM or SIGHUP while
writing). A symbolic link is written through (the file it points to is replaced, the link stays).
A target that is not a regular file (`/dev/stdout`, a named pipe) is written directly: there is
nothing to replace. Any failure is one OutputError line; the caller exits 2.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager


class OutputError(Exception):
    """The report could not be written (one line, naming the file)."""


def write_report(path: str, text: str, what: str = "the report") -> None:
    """`what` names the file in errors (the baseline is written the same way)."""
    from keyless.linter.report._common import printable

    shown = printable(path)
    # Reports hold printable text only; never fail on a stray lone surrogate all the same.
    data = text.encode("utf-8", "backslashreplace")
    target = os.path.realpath(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"cannot write {what} to {shown}: {_reason(exc)}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"cannot write {what} to {shown}: it is a directory")
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            with open(target, "wb") as fh:
                fh.write(data)
            return
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
        _replace(target, directory, data, mode)
    except OSError as exc:
        raise OutputError(f"cannot write {what} to {shown}: {_reason(exc)}") from None


def _replace(target: str, directory: str, data: bytes, mode: int) -> None:
    import tempfile

    tmp = None
    with _signals_raise():
        try:
            fd, tmp = tempfile.mkstemp(prefix=".keyless-", suffix=".tmp", dir=directory)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
            tmp = None
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def _signals_raise():
    """While writing, SIGTERM and SIGHUP (a cancelled CI job, a closed terminal) unwind the stack
    like Ctrl-C does, so the temporary file is removed; the process still ends by that signal's
    conventional exit status (128 + signal number)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    saved = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) is signal.SIG_DFL:
            saved[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
