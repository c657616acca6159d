"""Symbolic links and special files: nothing that is not a regular file is ever read, links that
leave the project are followed only on request, loops and dangling links are notes.

Every case that once hung runs `keyless` in a child process with a deadline, so a regression fails
instead of hanging the suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, write

PROBE = "x = 1  # keyless: ignore[KL190]\n"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX links and FIFOs")


def keyless(cwd, *args, stdin=None, timeout=60):
    """Returns (exit code, stdout, stderr); a hang fails the test after `timeout` seconds."""
    proc = subprocess.run([sys.executable, "-m", "keyless", *args], cwd=cwd, input=stdin, text=True,
                          capture_output=True, timeout=timeout, env={**os.environ, "PYTHONPATH": ROOT})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def paths(out: str) -> set[str]:
    return {f["path"] for f in json.loads(out)["findings"]}


@pytest.fixture
def hostile(tmp_path):
    """A project with every kind of link and special file a hostile repository can hold."""
    project = tmp_path / "project"
    write(project, "a/ok.py", PROBE)
    write(tmp_path, "outside/secret.py", PROBE)
    os.mkfifo(tmp_path / "outside" / "pipe")
    os.mkfifo(project / "pipe.py")
    os.symlink(tmp_path / "outside" / "pipe", project / "link-to-outside-pipe.py")
    os.symlink("pipe.py", project / "link-to-pipe.py")
    os.symlink(tmp_path / "outside" / "secret.py", project / "outside.py")
    os.symlink(tmp_path / "outside", project / "outside-dir")
    os.symlink("a/ok.py", project / "inside.py")  # inside the project: followed (same file, once)
    os.symlink("self.py", project / "self.py")
    os.symlink("nowhere.py", project / "dangling.py")
    if os.path.exists("/proc/kmsg"):  # blocks on read (and each read consumes kernel messages)
        os.symlink("/proc/kmsg", project / "kmsg.txt")
    return project


def test_a_scan_never_blocks_and_follows_no_link_out_of_the_project(hostile):
    rc, out, err = keyless(hostile, "check", ".", "--no-cache", "--output-format", "json")
    assert rc == 1 and paths(out) == {"a/ok.py"}
    for expected in ("pipe.py: skipped, not a regular file (named pipe)",
                     "link-to-pipe.py: skipped, symbolic link to a named pipe",
                     "link-to-outside-pipe.py: skipped, symbolic link to a named pipe",
                     "outside.py: skipped, symbolic link to a file outside the project",
                     "outside-dir: skipped, symbolic link to a directory outside the project",
                     "self.py: skipped, symbolic link loop",
                     "dangling.py: skipped, dangling symbolic link"):
        assert expected in err, (expected, err)
    if (hostile / "kmsg.txt").is_symlink():
        assert "kmsg.txt: skipped, symbolic link to a file outside the project" in err


def test_paths_named_one_by_one_obey_the_same_rules(hostile):
    """pre-commit passes a committed link by name."""
    names = [n for n in os.listdir(hostile) if n != "a"] + ["a/ok.py"]
    rc, out, err = keyless(hostile, "check", *sorted(names), "--no-cache", "--output-format", "json")
    assert rc == 1 and paths(out) == {"a/ok.py"}, err
    assert "symbolic link to a file outside the project" in err and "dangling" in err and "loop" in err


def test_follow_symlinks_opts_in_flag_and_config(hostile):
    # The outside file is reached through two links (outside.py, outside-dir/): reported once.
    rc, out, err = keyless(hostile, "check", ".", "--no-cache", "--output-format", "json", "--follow-symlinks")
    assert rc == 1 and paths(out) in ({"a/ok.py", "outside.py"}, {"a/ok.py", "outside-dir/secret.py"}), err
    assert "named pipe" in err  # still never read
    write(hostile, ".keyless.toml", "follow-symlinks = true\n")
    rc, out, err = keyless(hostile, "check", ".", "--no-cache", "--output-format", "json")
    assert rc == 1 and len(paths(out)) == 2, err
    rc, out, err = keyless(hostile, "check", "outside.py", "--no-cache", "--output-format", "json")
    assert rc == 1 and paths(out) == {"outside.py"}, err


def test_a_directory_link_loop_ends(tmp_path):
    write(tmp_path, "a/ok.py", PROBE)
    os.symlink("..", tmp_path / "a" / "up")
    os.symlink("a", tmp_path / "again")
    rc, out, err = keyless(tmp_path, "check", ".", "--no-cache", "--output-format", "json", "--follow-symlinks")
    assert rc == 1 and paths(out) == {"a/ok.py"} and "symbolic link loop" in err


def test_a_file_replaced_by_a_pipe_after_discovery_is_not_read(tmp_path):
    """The race: discovery saw a regular file, the read finds a FIFO (or the .gitignore is one)."""
    os.mkfifo(tmp_path / "late.py")
    os.mkfifo(tmp_path / ".gitignore")
    code = (
        "import sys\n"
        "from keyless.linter.discovery import Candidate, discover\n"
        "from keyless.linter.engine import Settings, run_files\n"
        "root = sys.argv[1]\n"
        "discover([root], root, excludes=[], max_file_size=1 << 20)\n"
        "[r] = run_files([Candidate(root + '/late.py', 'late.py', 10, 0)], Settings(root, frozenset({'KL190'})))\n"
        "print(r.note)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "late.py: skipped, not a regular file (named pipe)"


def test_companions_read_from_disk_are_never_special_files(tmp_path):
    """Editor mode: a Helm chart whose values.yaml is a FIFO, or a link out of the project."""
    write(tmp_path, "chart/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
    os.mkfifo(tmp_path / "chart" / "values.yaml")
    template = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\nspec:\n"
                "  template:\n    metadata:\n      labels:\n        azure.workload.identity/use: \"true\"\n"
                "    spec:\n      serviceAccountName: {{ .Values.sa }}\n")
    write(tmp_path, "chart/templates/cm.yaml", template)
    rc, out, err = keyless(tmp_path, "check", "--stdin-filename", "chart/templates/cm.yaml", "-", stdin=template)
    assert rc == 0, err


def test_read_regular_file_refuses_what_is_not_a_regular_file(tmp_path):
    from keyless.linter.readfile import NotRegularFile, read_regular_file

    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(NotRegularFile):
        read_regular_file(str(tmp_path / "pipe"))  # returns at once: the open does not wait for a writer
    with pytest.raises(NotRegularFile):
        read_regular_file(str(tmp_path))
    if os.path.exists("/proc/self/status"):  # a pseudo file: regular, size 0, content made on read
        assert read_regular_file("/proc/self/status") == b""
    (tmp_path / "f").write_bytes(b"abcdef")
    assert read_regular_file(str(tmp_path / "f"), 3) == b"abcd"
