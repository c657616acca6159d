#!/usr/bin/env python3
"""Bicep speed: cold scans with and without the Bicep front end, the editor check of one Bicep file,
and checkov's Bicep framework on the same files.

    python bench/bicep_speed.py --tree /tmp/corpus/bicep-registry-modules \\
        --baseline-src /tmp/keyless-main          # a `git archive main` of keyless: today's time
        [--checkov /tmp/checkov-venv/bin/checkov] [--runs 3] [--editor-file infra/main.bicep]

Every tool runs in a fresh child process; CPU time (user + sys of the child and its waited-for
descendants) is reported next to wall time, because this machine is shared: CPU time is what the
1.3x target is judged on, wall time is shown for reference. checkov runs offline
(BC_SKIP_MAPPING=TRUE, --skip-download) with `--framework bicep` on the same directory.
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

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def run(args: list[str], cwd: str, env: dict | None = None, stdin: str | None = None) -> tuple[float, float, int]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fh:
        p = subprocess.run(args, cwd=cwd, env=env, stdin=fh, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, len(p.stdout)


def keyless(src: str, *args: str) -> tuple[list[str], dict]:
    env = dict(os.environ, PYTHONPATH=src)
    return [sys.executable, "-m", "keyless", "check", "--no-cache", "--exit-zero", "-q", *args], env


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", required=True)
    ap.add_argument("--baseline-src", required=True, help="keyless source tree without Bicep (git archive main)")
    ap.add_argument("--checkov")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--editor-tree", default=os.path.join(REPO, "fixtures", "KL505", "project_azd_bicep"))
    ap.add_argument("--editor-file", default="infra/core/host/container-app.bicep")
    ap.add_argument("--editor-python", default="src/api/main.py")
    args = ap.parse_args()
    out: dict = {"load": os.getloadavg()[0]}
    rows = {}
    for name, src in (("today", args.baseline_src), ("bicep", REPO)):
        for jobs in ("1", "2"):
            cmd, env = keyless(src, "-j", jobs, ".")
            samples = [run(cmd, args.tree, env) for _ in range(args.runs)]
            rows[f"{name} -j{jobs}"] = {"wall": min(s[0] for s in samples), "cpu": min(s[1] for s in samples)}
    out["cold"] = rows
    out["cold_cpu_ratio_j1"] = rows["bicep -j1"]["cpu"] / rows["today -j1"]["cpu"]
    out["cold_wall_ratio_j2"] = rows["bicep -j2"]["wall"] / rows["today -j2"]["wall"]
    editor = {}
    for label, rel, src in (("bicep file", args.editor_file, REPO), ("python file", args.editor_python, REPO),
                            ("python file (today)", args.editor_python, args.baseline_src)):
        cmd, env = keyless(src, "--stdin-filename", rel, "-")
        samples = [run(cmd, args.editor_tree, env, os.path.join(args.editor_tree, rel)) for _ in range(max(args.runs * 5, 10))]
        editor[label] = {"wall_median_ms": round(statistics.median(s[0] for s in samples) * 1000),
                         "cpu_median_ms": round(statistics.median(s[1] for s in samples) * 1000)}
    out["editor"] = editor
    if args.checkov and os.path.exists(args.checkov):
        env = dict(os.environ, BC_SKIP_MAPPING="TRUE")
        cmd = [args.checkov, "-d", ".", "--framework", "bicep", "--skip-download", "--quiet", "--compact", "-o", "json"]
        wall, cpu, size = run(cmd, args.tree, env)
        kcmd, kenv = keyless(REPO, "--select", "KL2,KL3,KL4,KL5", ".")
        kwall, kcpu, _ = run(kcmd, args.tree, kenv)
        out["checkov_bicep"] = {"wall": wall, "cpu": cpu, "keyless_iac_wall": kwall, "keyless_iac_cpu": kcpu}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
