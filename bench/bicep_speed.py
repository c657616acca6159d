#!/usr/bin/env python3
"""Bicep speed: cold scans of a tree by several keyless builds, run alternately, and the editor
check of one file (`keyless check --stdin-filename F -`).

    python bench/bicep_speed.py cold --tree /tmp/corpus/bicep-registry-modules \\
        --variant pre-bicep=/tmp/kl-3c55194/.venv/bin/python --variant now=.venv/bin/python --runs 5
    python bench/bicep_speed.py editor --tree /tmp/corpus/openai-chat-app-quickstart \\
        --file infra/core/host/container-apps.bicep --variant now=/tmp/kl-now/.venv/bin/python --runs 20 \\
        --cache-dir /tmp/kl-editor-cache
    [--checkov /tmp/checkov-venv/bin/checkov]    # cold: also checkov's Bicep framework, once

A variant is a name and the Python interpreter of a venv where that build of keyless is installed
(`pip install <git archive of the commit>`: not editable, so nothing of this checkout leaks in);
each run is a fresh child process started from the tree (`--no-cache`, `-j 1` unless --jobs).
The machine this was written on is shared by up to eight jobs on 2 cores, so the runs of the
variants are interleaved (A B A B ...) and the report gives medians: CPU time (user + sys of the
child), which a loaded machine moves much less than wall time, and wall time for reference, with
the load average before and after. The output is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def run(args: list[str], cwd: str, env: dict | None = None, stdin: str | None = None) -> tuple[float, float, bytes]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fh:
        p = subprocess.run(args, cwd=cwd, env=env, stdin=fh, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} exited {p.returncode}")
    return wall, cpu, p.stdout


def variants(specs: list[str]) -> list[tuple[str, str]]:
    out = []
    for spec in specs:
        name, _, python = spec.partition("=")
        if not python:
            raise SystemExit(f"--variant NAME=PYTHON, got {spec!r}")
        out.append((name, os.path.abspath(python)))
    return out


def env_for(python: str) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # Any non-empty value (even "0") stops Python from writing .pyc files: without them every run
    # compiles keyless's modules from source (~50 ms of an editor check), which no install does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def summary(samples: list[tuple[float, float]]) -> dict:
    walls = [s[0] for s in samples]
    cpus = [s[1] for s in samples]
    return {"runs": len(samples), "cpu_median": round(statistics.median(cpus), 3), "cpu_min": round(min(cpus), 3),
            "cpu_max": round(max(cpus), 3), "wall_median": round(statistics.median(walls), 3),
            "cpu_all": [round(c, 2) for c in cpus]}


def cold(args) -> dict:
    vs = variants(args.variant)
    samples: dict[str, list] = {n: [] for n, _ in vs}
    outputs: dict[str, set] = {}
    load0 = os.getloadavg()
    for i in range(args.runs):
        for name, python in (vs if i % 2 == 0 else vs[::-1]):
            cmd = [python, "-m", "keyless", "check", "--no-cache", "-j", str(args.jobs), "--exit-zero", "-q",
                   "--output-format", "json", "."]
            wall, cpu, out = run(cmd, args.tree, env_for(python))
            samples[name].append((wall, cpu))
            found = json.loads(out)
            outputs.setdefault(name, set()).add(json.dumps(found["findings"], sort_keys=True))
            print(f"run {i + 1} {name}: cpu {cpu:.2f} s wall {wall:.2f} s", file=sys.stderr)
    result: dict = {"tree": args.tree, "jobs": args.jobs, "load_before": [round(x, 1) for x in load0],
                    "load_after": [round(x, 1) for x in os.getloadavg()],
                    "variants": {n: summary(s) for n, s in samples.items()},
                    "findings_stable": {n: len(o) == 1 for n, o in outputs.items()}}
    base = vs[0][0]
    for name, _ in vs[1:]:
        result[f"ratio_cpu_median {name}/{base}"] = round(
            result["variants"][name]["cpu_median"] / result["variants"][base]["cpu_median"], 3)
    if args.checkov and os.path.exists(args.checkov):
        env = dict(os.environ, BC_SKIP_MAPPING="TRUE")
        cmd = [args.checkov, "-d", ".", "--framework", "bicep", "--skip-download", "--quiet", "--compact", "-o", "json"]
        wall, cpu, _ = run(cmd, args.tree, env)
        result["checkov_bicep"] = {"wall": round(wall, 2), "cpu": round(cpu, 2)}
    return result


def editor(args) -> dict:
    vs = variants(args.variant)
    samples: dict[str, list] = {n: [] for n, _ in vs}
    load0 = os.getloadavg()
    path = os.path.join(args.tree, args.file)
    for i in range(args.runs):
        for name, python in (vs if i % 2 == 0 else vs[::-1]):
            cmd = [python, "-m", "keyless", "check", "--exit-zero", "-q", "--stdin-filename", args.file, "-"]
            env = env_for(python)
            if args.cache_dir:
                cmd[4:4] = ["--cache-dir", os.path.join(args.cache_dir, name)]
                # The user cache (the entry-point list) too: on a shared machine other keyless runs
                # evict its entries, and a miss costs ~30 ms of importlib.metadata.
                env["XDG_CACHE_HOME"] = os.path.join(args.cache_dir, name + "-user")
            wall, cpu, _ = run(cmd, args.tree, env, path)
            samples[name].append((wall, cpu))
    return {"tree": args.tree, "file": args.file, "bytes": os.path.getsize(path),
            "load_before": [round(x, 1) for x in load0], "load_after": [round(x, 1) for x in os.getloadavg()],
            "variants": {n: {k: (round(v * 1000) if isinstance(v, float) else v) for k, v in summary(s).items()
                             if k != "cpu_all"} for n, s in samples.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cold")
    c.add_argument("--tree", required=True)
    c.add_argument("--variant", action="append", required=True, help="NAME=PYTHON; the first is the reference")
    c.add_argument("--runs", type=int, default=5)
    c.add_argument("--jobs", type=int, default=1)
    c.add_argument("--checkov")
    e = sub.add_parser("editor")
    e.add_argument("--tree", required=True)
    e.add_argument("--file", required=True, help="path of the file inside --tree")
    e.add_argument("--variant", action="append", required=True)
    e.add_argument("--runs", type=int, default=20)
    e.add_argument("--cache-dir", help="a cache directory per variant under this one, and a user cache directory "
                                       "(XDG_CACHE_HOME) per variant beside it (else keyless's defaults)")
    args = ap.parse_args()
    print(json.dumps(cold(args) if args.what == "cold" else editor(args), indent=2))


if __name__ == "__main__":
    main()
