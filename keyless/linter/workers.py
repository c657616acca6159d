"""Worker processes: how many, starting them without hanging, and making them die with the run.

- `--jobs` is capped at the CPUs this process may use: more workers than CPUs only cost memory
  (each holds the rule set and parses files) and fork time.
- A pool that cannot start (fork fails: process or memory limits) falls back to fewer workers,
  then to the main process, with a note; already started workers are killed, never left waiting.
- A worker dies with its parent: on Linux the kernel sends it SIGKILL when the parent goes
  (prctl PR_SET_PDEATHSIG); elsewhere a thread notices the parent is gone (re-parented on POSIX,
  its process handle signalled on Windows). A cancelled CI job or an editor killing `keyless`
  therefore leaves no worker running on.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any, Callable

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_INTERVAL = 0.5  # seconds between two looks at the parent (portable fallback)


def available_cpus() -> int:
    """CPUs this process may run on (affinity and, on Python 3.13+, its CPU limit)."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return count() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def effective_jobs(requested: int | None, notes: list[str] | None = None) -> int:
    cpus = available_cpus()
    if requested is None:
        return cpus
    if requested > cpus:
        if notes is not None:
            notes.append(f"--jobs {requested}: only {cpus} CPU{'s' if cpus != 1 else ''} available, "
                          f"using {cpus} worker process{'es' if cpus != 1 else ''}")
        return cpus
    return max(1, requested)


def _ready() -> bool:
    return True


def start_pool(jobs: int, mp_context: Any, initializer: Callable, initargs: tuple,
               notes: list[str] | None = None):
    """A started ProcessPoolExecutor and its size, or (None, 1): the caller lints in process.
    After a failure to start, the next try asks for as many workers as did start (the system's
    limit, now that they are gone again), or half as many."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    wanted = jobs
    problem = ""
    while jobs > 1:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp_context, initializer=initializer,
                                   initargs=initargs)
        try:
            # With fork, the first task starts every worker: a failure shows up here, not halfway.
            pool.submit(_ready).result()
        except (OSError, BrokenProcessPool) as exc:
            started = len(getattr(pool, "_processes", None) or ())
            abandon(pool)
            problem = problem or (getattr(exc, "strerror", None) or type(exc).__name__)
            jobs = started if 1 <= started < jobs else jobs // 2
            continue
        if jobs < wanted and notes is not None:
            notes.append(f"could not start {wanted} worker processes ({problem}); using {jobs}")
        return pool, jobs
    if notes is not None:
        notes.append(f"could not start worker processes ({problem}); linting in the main process")
    return None, 1


def abandon(pool: Any) -> None:
    """Stop a pool now: kill its workers (they may be mid-file) and reap them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        try:
            p.kill()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        pool.shutdown(wait=False, cancel_futures=True)
    except Exception:
        pass
    for p in processes:
        try:
            p.join(timeout=5)
        except (OSError, ValueError, AssertionError, AttributeError):
            pass


# ---- in the worker ------------------------------------------------------------------------------

def die_with_parent(parent_pid: int) -> None:
    """Called first in every worker. Ctrl-C is the parent's to handle (it stops the pool)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):
        pass
    armed = set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="keyless-parent-watch",
                         daemon=True).start()


def set_parent_death_signal() -> bool:
    """Linux: the kernel kills this process when its parent exits, however it exits."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError, TypeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    sentinel = None
    if sys.platform == "win32":  # no re-parenting there: wait on the parent's process handle
        import multiprocessing

        parent = multiprocessing.parent_process()
        sentinel = parent.sentinel if parent is not None else None
    while True:
        if sentinel is not None:
            from multiprocessing.connection import wait

            if wait([sentinel], timeout=WATCH_INTERVAL):
                os._exit(1)
        else:
            time.sleep(WATCH_INTERVAL)
        if os.getppid() != parent_pid:
            os._exit(1)
