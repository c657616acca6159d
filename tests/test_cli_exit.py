"""The command line leaves its heap to the operating system: what a check kept is frozen before the
interpreter exits, so its last collection does not traverse and free it (keyless/__main__.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROBE = textwrap.dedent("""
    import atexit, gc, sys
    atexit.register(lambda: sys.stderr.write(f"frozen-at-exit={gc.get_freeze_count()}\\n"))
    from keyless.__main__ import main
    sys.argv = ["keyless", "check", "--no-cache", "--exit-zero", "-q", "."]
    main()
""")


def test_check_freezes_the_heap_before_exit_and_still_reports(tmp_path):
    (tmp_path / "app.py").write_text("from azure.storage.blob import BlobServiceClient\n"
                                     "c = BlobServiceClient.from_connection_string(CONN)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYLESS_")}
    env["PYTHONPATH"] = ROOT
    r = subprocess.run([sys.executable, "-c", _PROBE], cwd=tmp_path, capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    frozen = int(r.stderr.rsplit("frozen-at-exit=", 1)[1].split()[0])
    assert frozen > 0
    assert "KL2" in r.stdout  # the report was written before
