"""Hostile inputs from issue #10 ("never hang"), timed end to end.

- `keyless check big.txt`: a 4.9 MB file of `host=x.postgres.database.azure.com password=y aaaa...`
  lines (8 KiB each: the scanner's window on long lines), which took 240 s when the libpq
  connection-string regex was quadratic;
- the language server answering `textDocument/didOpen` of a 240 KB file of the same lines (the
  time from the notification to its `publishDiagnostics`), 12 s before.

    python bench/hostile.py [--timeout 900] [--python .venv/bin/python]

Prints a Markdown table (wall and CPU seconds). The files are written to a temporary directory
with an empty keyless.toml (so the project root is that directory).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time

LINE = "host=x.postgres.database.azure.com password=y " + "a" * 8000 + "\n"


def write(directory: str, name: str, size: int) -> str:
    path = os.path.join(directory, name)
    with open(path, "w") as fh:
        fh.write(LINE * max(1, size // len(LINE)))
    return path


def check(python: str, path: str, cwd: str, timeout: float) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([python, "-m", "keyless", "check", os.path.basename(path), "--no-cache", "--no-progress"],
                              cwd=cwd, capture_output=True, text=True, timeout=timeout)
        outcome = f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        outcome = f"killed after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), outcome


async def lsp_open(python: str, path: str, cwd: str, timeout: float) -> tuple[float, str]:
    from lsprotocol import types as lsp
    from pygls.lsp.client import BaseLanguageClient

    client = BaseLanguageClient("bench", "0")
    published = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.set()

    await client.start_io(python, "-m", "keyless", "server", cwd=cwd)
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                       root_uri="file://" + cwd))
    client.initialized(lsp.InitializedParams())
    with open(path) as fh:
        text = fh.read()
    t0 = time.perf_counter()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri="file://" + path, language_id="plaintext", version=1, text=text)))
    try:
        await asyncio.wait_for(published.wait(), timeout)
        outcome = "diagnostics published"
    except asyncio.TimeoutError:
        outcome = f"nothing after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    try:
        await asyncio.wait_for(client.shutdown_async(None), 5)
        client.exit(None)
    except Exception:
        pass
    await client.stop()
    return wall, outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "keyless.toml"), "w").close()
        big = write(tmp, "big.txt", 4_900_000)
        small = write(tmp, "small.txt", 240_000)
        rows = []
        wall, cpu, outcome = check(args.python, big, tmp, args.timeout)
        rows.append((f"`keyless check big.txt` ({os.path.getsize(big):,} bytes)", f"{wall:.2f}", f"{cpu:.2f}", outcome))
        wall, outcome = asyncio.run(lsp_open(args.python, small, tmp, args.timeout))
        rows.append((f"language server, didOpen to diagnostics ({os.path.getsize(small):,} bytes)", f"{wall:.2f}", "",
                     outcome))
    print("| Run | Wall (s) | CPU (s) | Outcome |\n|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
