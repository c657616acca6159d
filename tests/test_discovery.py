"""Discovery's .gitignore fast path must agree with pathspec on every path."""

from __future__ import annotations

import pathspec
from hypothesis import given, settings, strategies as st

from keyless.linter.discovery import _GitIgnore

SEGMENTS = ["a", "b", "build", "node_modules", "x.pyc", "keep.pyc", "bin", "Debug", ".env", "foo bar", "ü"]
LINES = ["*.pyc", "!keep.pyc", "build/", "/bin", "**/Debug/**", "node_modules", "a/**/b", "[Bb]in/", "!/a/",
         "foo\\ bar", "*.env", "# comment", "", "   ", "!*.pyc", "b/", "x*", "?", "\\#x", "a/b/"]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.sampled_from(LINES), max_size=12),
       parts=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4),
       is_dir=st.booleans())
def test_gitignore_fast_path_agrees_with_pathspec(lines, parts, is_dir):
    path = "/".join(parts) + ("/" if is_dir else "")
    ours = _GitIgnore(lines)
    want = pathspec.GitIgnoreSpec.from_lines(lines).check_file(path).include
    assert ours.check(path) == want


def test_a_big_ignore_file_matches_like_pathspec():
    lines = [f"*.ext{i}" for i in range(300)] + ["!keep.ext7", "logs/", "/dist"]
    ours = _GitIgnore(lines)
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    for path in ["src/app.py", "x.ext7", "keep.ext7", "a/logs/", "a/logs/x", "dist/", "a/dist/", "README.md"]:
        assert ours.check(path) == spec.check_file(path).include, path


# ---- the directory memo a warm rescan reuses -------------------------------------------------------

import os  # noqa: E402

from keyless.linter.discovery import discover  # noqa: E402


def _touch(path: str, text: str = "x") -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def _bump_mtime(path: str) -> None:
    # Filesystems with coarse timestamps: make the change visible to the memo.
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def _files(root: str, memo: dict | None) -> list[str]:
    return [c.relpath for c in discover([root], root, excludes=["node_modules"], max_file_size=10_000, memo=memo).files]


def test_directory_memo_sees_every_change(tmp_path):
    root = str(tmp_path)
    _touch(f"{root}/a/app.py")
    _touch(f"{root}/a/b/deep.tf")
    _touch(f"{root}/a/b/skip.log")
    _touch(f"{root}/node_modules/x.js")
    _touch(f"{root}/.gitignore", "*.log\n")
    memo: dict = {}
    first = _files(root, memo)
    assert first == _files(root, None) == [".gitignore", "a/app.py", "a/b/deep.tf"]
    assert _files(root, memo) == first  # replayed from the memo

    _touch(f"{root}/a/b/new.py")  # a new file changes its directory's mtime
    _bump_mtime(f"{root}/a/b")
    assert "a/b/new.py" in _files(root, memo)

    os.remove(f"{root}/a/app.py")
    _bump_mtime(f"{root}/a")
    assert "a/app.py" not in _files(root, memo)

    _touch(f"{root}/.gitignore", "*.log\n*.tf\n")  # a parent .gitignore changes: children re-matched
    _bump_mtime(f"{root}/.gitignore")
    assert _files(root, memo) == _files(root, None) == [".gitignore", "a/b/new.py"]

    _touch(f"{root}/a/.gitignore", "!deep.tf\n")  # a new nested .gitignore
    _bump_mtime(f"{root}/a")
    assert _files(root, memo) == _files(root, None)
    assert "a/b/deep.tf" in _files(root, memo)


def test_memo_is_reset_when_the_options_change(tmp_path):
    root = str(tmp_path)
    _touch(f"{root}/keep/x.py")
    _touch(f"{root}/skip/y.py")
    memo: dict = {}
    assert len(discover([root], root, excludes=[], max_file_size=10_000, memo=memo).files) == 2
    got = discover([root], root, excludes=["skip"], max_file_size=10_000, memo=memo).files
    assert [c.relpath for c in got] == ["keep/x.py"]
