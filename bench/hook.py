"""One-file runs on a big repository: the pre-commit hook and the editor's stdin check.

A hook run names one changed file, but keyless still gives the project rules the facts of every
other file (keyless.linter.context). This script measures what that costs on a generated
repository (bench/gen.py, default 5,000 files):

- cold: no cache at all (the facts-only pass over the whole repository);
- warm, unchanged: the same command again;
- warm, edited: the named file changed so that its facts change (a line inserted at the top
  moves every credential and client it holds), i.e. the project rules must run again;
- the same for `keyless check --stdin-filename F -`.

Each warm row is the median of `--repeat` runs; wall and CPU (user + sys of the child) are
printed as a Markdown table. The tree is left in place (`--tree`); edits are undone.

    python bench/hook.py --tree /tmp/corpus/hook5k --files 5000
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402


def build_tree(tree: str, files: int, seed: int) -> None:
    if os.path.isdir(tree) and os.path.exists(os.path.join(tree, "keyless.toml")):
        return
    os.makedirs(tree, exist_ok=True)
    gen.generate(tree, seed=seed, min_files=files, min_bytes=0, planted=40)
    # A project root of its own: the configuration file's directory.
    with open(os.path.join(tree, "keyless.toml"), "w") as fh:
        fh.write("")


def timed(cmd: list[str], cwd: str, stdin: str | None = None) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
        proc = subprocess.run(cmd, cwd=cwd, stdin=inp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def pick(tree: str, suffix: str, needle: str) -> str:
    for directory, _, names in sorted(os.walk(tree)):
        for name in sorted(names):
            if name.endswith(suffix):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    if needle in fh.read():
                        return os.path.relpath(path, tree)
    raise SystemExit(f"no {suffix} file with {needle!r} in {tree}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default=os.path.join(tempfile.gettempdir(), "keyless-hook-bench"))
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    build_tree(args.tree, args.files, args.seed)
    keyless = [sys.executable, "-m", "keyless"]
    env_note = "" if os.environ.get("PYTHONDONTWRITEBYTECODE") is None else " (PYTHONDONTWRITEBYTECODE is set)"
    targets = [pick(args.tree, ".py", "DefaultAzureCredential()"), pick(args.tree, ".tf", "azurerm_role_assignment")]
    rows: list[tuple[str, str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        common = ["--cache-dir", cache, "--no-progress", "-q"]
        wall, cpu, _ = timed(keyless + ["check", "."] + common, args.tree)
        rows.append(("`keyless check .`, cold (fills the cache)", ".", wall, cpu))
        for target in targets:
            path = os.path.join(args.tree, target)
            with open(path, encoding="utf-8") as fh:
                original = fh.read()
            try:
                cold_cache = os.path.join(tmp, "cold-" + os.path.basename(target))
                wall, cpu, _ = timed(keyless + ["check", target, "--cache-dir", cold_cache, "--no-progress", "-q"],
                                     args.tree)
                rows.append((f"`keyless check {os.path.basename(target)}`, no cache (facts-only pass)", target, wall, cpu))
                shutil.rmtree(cold_cache, ignore_errors=True)
                for label, stdin in (("keyless check F", None), ("keyless check --stdin-filename F -", path)):
                    cmd = keyless + (["check", target] if stdin is None else ["check", "--stdin-filename", target, "-"])
                    cmd += common
                    timed(cmd, args.tree, stdin)  # the context is cached from here on
                    same = [timed(cmd, args.tree, stdin) for _ in range(args.repeat)]
                    edited = []
                    for i in range(args.repeat):
                        # A new number of lines on top each time: the file's facts (lines of its
                        # credentials and clients) are new, so the project rules run again.
                        with open(path, "w", encoding="utf-8") as fh:
                            fh.write("#\n" * (i + 1 + (args.repeat if stdin else 0)) + original)
                        edited.append(timed(cmd, args.tree, stdin))
                    with open(path, "w", encoding="utf-8") as fh:
                        fh.write(original)
                    for what, runs in (("unchanged", same), ("edited, its facts changed", edited)):
                        rows.append((f"`{label}`, warm, {what}", target, statistics.median(r[0] for r in runs),
                                     statistics.median(r[1] for r in runs)))
            finally:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(original)
    print(f"Tree: {args.tree} ({args.files} generated files, seed {args.seed}){env_note}; "
          f"load average at the end {os.getloadavg()[0]:.2f}\n")
    print("| Run | File | Wall (s) | CPU (s) |\n|---|---|---:|---:|")
    for label, target, wall, cpu in rows:
        print(f"| {label} | `{target}` | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
