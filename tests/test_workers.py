"""Worker processes, with real processes: `--jobs` is capped, a pool that cannot start falls back
instead of hanging, and workers die with the process that started them (CI cancel, editor)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ROOT, write

PROBE = "x = 1  # keyless: ignore[KL190]\n"

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the pool tests use fork, like keyless on POSIX")

# A run_files() call in a child process; `{setup}` patches it first. Workers are forked from it.
CHILD = textwrap.dedent("""
    import json, os, sys, time
    from keyless.linter import engine
    from keyless.linter.discovery import discover
    from keyless.linter.engine import Settings, resolve_selection, run_files
    from keyless.linter.rule import load_registry

    root, piddir, cpus, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    os.sched_getaffinity = lambda pid: set(range(cpus))  # the machine this test pretends to run on
    os.cpu_count = lambda: cpus
    engine.PARALLEL_MIN_FILES = 1
    {setup}
    settings = Settings(root=root, select=resolve_selection(load_registry(), None))
    files = discover([root], root, excludes=[], max_file_size=1 << 20).files
    notes = []
    results = run_files(files, settings, jobs=jobs, notes=notes)
    print(json.dumps({{"files": sorted(r.relpath for r in results if r.findings), "notes": notes}}))
""")


HANG_GUARD = 600  # seconds: a hang guard, not a speed bound (only a process that never gets there fails)


def tree(tmp_path, n=130):
    for i in range(n):  # more than one batch (64 files each): the pool is used
        write(tmp_path, f"src/f{i:03d}.py", PROBE)
    (tmp_path / "pids").mkdir()
    return str(tmp_path / "src"), str(tmp_path / "pids")


def start_child(setup, root, piddir, cpus, jobs):
    code = CHILD.format(setup=textwrap.indent(textwrap.dedent(setup), "").strip())
    return subprocess.Popen([sys.executable, "-c", code, root, piddir, str(cpus), str(jobs)],
                            env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its new parent to reap it is dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def run_child(setup, tmp_path, cpus, jobs, timeout=120):
    root, piddir = tree(tmp_path)
    child = start_child(setup, root, piddir, cpus, jobs)
    try:
        out, err = child.communicate(timeout=timeout)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0 and "Traceback" not in err, err
    return json.loads(out)


SLOW_WORKERS = """
def slow_lint_file(cand, *args):
    open(os.path.join(piddir, str(os.getpid())), "w").close()
    time.sleep(600)
engine.lint_file = slow_lint_file
"""


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGKILL-portable-watch"])
def test_workers_die_with_their_parent(tmp_path, how):
    setup = SLOW_WORKERS
    if how.endswith("portable-watch"):  # what macOS and Windows rely on: no prctl
        setup += "from keyless.linter import workers\nworkers.set_parent_death_signal = lambda: False\n"
    root, piddir = tree(tmp_path)
    child = start_child(setup, root, piddir, 2, 2)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + HANG_GUARD
        while len(os.listdir(piddir)) < 2:
            assert child.poll() is None, child.communicate()[1]
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        pids = [int(p) for p in os.listdir(piddir)]
        assert child.pid not in pids and all(alive(p) for p in pids)
        child.send_signal(getattr(signal, how.split("-")[0]))
        child.wait(timeout=HANG_GUARD)
        # How soon they die is not asserted (a loaded machine delays the watch): only that they do.
        deadline = time.monotonic() + HANG_GUARD
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in pids if alive(p)], "workers outlived their parent"
    finally:
        if child.poll() is None:
            child.kill()
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


# A process limit: at most {ok} live children (killed and reaped ones free their slot).
FAILING_FORK = """
real_fork, children = os.fork, set()
def fork():
    for pid in list(children):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            children.discard(pid)
    if len(children) >= {ok}:
        raise BlockingIOError(11, "Resource temporarily unavailable")
    pid = real_fork()
    if pid:
        children.add(pid)
    return pid
os.fork = fork
"""


def test_a_pool_that_cannot_start_falls_back_to_the_main_process(tmp_path):
    got = run_child(FAILING_FORK.format(ok=1), tmp_path, cpus=4, jobs=4)
    assert len(got["files"]) == 130
    assert any("could not start worker processes" in n and "main process" in n for n in got["notes"]), got


def test_a_pool_that_cannot_start_every_worker_uses_fewer(tmp_path):
    # 130 files are 3 batches: 3 workers wanted, 2 allowed.
    got = run_child(FAILING_FORK.format(ok=2), tmp_path, cpus=4, jobs=4)
    assert len(got["files"]) == 130
    assert any("could not start 3 worker processes" in n and "using 2" in n for n in got["notes"]), got


def test_jobs_are_capped_at_the_cpus_available(tmp_path):
    count_workers = SLOW_WORKERS.replace("time.sleep(600)", "time.sleep(0.01)\n    return real(cand, *args)")
    count_workers = "real = engine.lint_file\n" + count_workers
    got = run_child(count_workers, tmp_path, cpus=2, jobs=150)
    assert len(got["files"]) == 130
    assert len(os.listdir(tmp_path / "pids")) <= 2
    assert any("--jobs 150" in n and "using 2" in n for n in got["notes"]), got


def test_jobs_must_be_positive(run_cli, tmp_path):
    write(tmp_path, "a.py", PROBE)
    for bad in ("0", "-3"):
        rc, out, err = run_cli("check", ".", "--jobs", bad)
        assert rc == 2 and "Traceback" not in err
    rc, out, err = run_cli("check", ".", "--jobs", "100000")
    assert rc == 1 and "--jobs 100000" in err
