"""Every regular expression keyless compiles is linear on adversarial inputs built from its own
structure (tests/regex_audit.py), and the patterns rewritten for it still match what they matched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from hypothesis import given, settings, strategies as st

from conftest import ROOT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import regex_audit  # noqa: E402

AUDIT_TIMEOUT = 900  # an exponential pattern never returns: the audit is killed and named


def test_every_regex_is_linear_on_adversarial_inputs():
    """Run in shards, one process per CPU (at most 2: CI machines have 2), each with the timeout."""
    shards = max(1, min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
    procs = [subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "regex_audit.py"), "--shard", f"{k}/{shards}"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(shards)]
    findings = []
    try:
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=AUDIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
                began = [line for line in err.splitlines() if line.startswith("BEGIN ")]
                raise AssertionError(f"the audit hung on {began[-1] if began else 'its first pattern'}") from None
            assert proc.returncode == 0, err[-2000:]
            findings += [json.loads(line) for line in out.splitlines() if line.strip()]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert findings == [], "\n".join(f"{f['where']} ({f['mode']}): {f['pattern']!r} grows {f['growth']}x on "
                                     f"{f['input']}" for f in findings)


def test_the_audit_sees_every_regex():
    found = {(p.pattern, p.flags): (where, mode) for p, where, mode in regex_audit.collect()}
    from keyless.linter import suppression
    from keyless.rules.secrets import connstr, scanner

    for pattern in (connstr._LIBPQ_RE, suppression._DIRECTIVE, scanner.ANCHOR_RE, scanner._REGISTRY_RE,
                    connstr.USERINFO_RE):
        assert (pattern.pattern, pattern.flags) in found, pattern.pattern
    assert found[(connstr._LIBPQ_RE.pattern, connstr._LIBPQ_RE.flags)][1] == "search"
    assert found[(connstr.USERINFO_RE.pattern, connstr.USERINFO_RE.flags)][1] == "anchored"  # only .match()
    assert len(found) > 100
    wheres = {where for where, _ in found.values()}
    assert set(regex_audit.EXEMPT) <= wheres  # no stale exemption


def test_the_audit_sees_every_lazily_compiled_regex():
    from keyless.linter import lazyre

    found = {(p.pattern, p.flags) for p, _, _ in regex_audit.collect()}
    lazy = lazyre.created()  # complete: collect() imported every module
    assert len(lazy) > 50
    for stand_in in lazy:
        pattern = stand_in.compiled()
        assert (pattern.pattern, pattern.flags) in found, pattern.pattern


# What the audit must catch: the patterns this audit replaced, as they were.
REPLACED = {
    "libpq keyword=value": r"([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)",
    "suppression directive": r"keyless:[ \t]*ignore[ \t]*\[([^\]\r\n]*)\]([^\r\n]*)",
    "registry name": r"([a-z0-9-]+)\.azurecr\.io",
    "Terraform interpolation": r"\$\{[^}]*\}",
    "ARM format item": r"\{(\d+)(?::[^}]*)?\}",
    "ARM function name": r"([A-Za-z_][A-Za-z0-9_]*)\s*\(",
}
HEADING = r"^#{1,6}\s+(.*?)\s*#*\s*$"  # rule docstring headings: cubic when matched


def test_the_audit_flags_the_patterns_it_replaced():
    flagged = {f["where"] for f in regex_audit.audit([(re.compile(p), name, "search") for name, p in REPLACED.items()],
                                                     out=open(os.devnull, "w"))}
    assert flagged == set(REPLACED)
    assert regex_audit.audit([(re.compile(HEADING), "heading", "anchored")], out=open(os.devnull, "w"))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["#", " ", "\t", "a", "##", "\u00a0"]), max_size=14))
def test_heading_text_is_what_the_regex_gave(parts):
    from keyless.linter.report._common import heading

    line = "".join(parts)
    m = re.match(HEADING, line)
    assert heading(line) == (m.group(1) if m else None)


# The rewritten patterns match what the originals matched (hypothesis, on their own alphabets).

def _all(pattern: re.Pattern, text: str) -> list:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["host", "a", "_", "=", " ", "'", "\\", "\t", "x'y", "password"]), max_size=16))
def test_libpq_pattern_matches_as_before(parts):
    from keyless.rules.secrets.connstr import _LIBPQ_RE

    text = "".join(parts)
    assert _all(_LIBPQ_RE, text) == _all(re.compile(REPLACED["libpq keyword=value"]), text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["keyless:", " ", "ignore", "[", "]", "KL101", ",", "\t", "reason", "\n"]),
                max_size=14))
def test_directive_pattern_matches_as_before_unless_a_list_holds_another_directive(parts):
    from keyless.linter.suppression import _DIRECTIVE

    text = "".join(parts)
    before = _all(re.compile(REPLACED["suppression directive"]), text)
    if any("keyless:" in (groups[0] or "") for _, groups in before):
        return  # `ignore[KL1 keyless: ignore[KL2]`: the list now stops at the second directive
    assert _all(_DIRECTIVE, text) == before


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", "0", "-", ".azurecr.io", ".", " ", "login"]), max_size=12))
def test_registry_pattern_finds_the_same_first_registry(parts):
    from keyless.rules.secrets.scanner import _REGISTRY_RE

    text = "".join(parts)
    old = re.compile(REPLACED["registry name"]).search(text)
    new = _REGISTRY_RE.search(text)
    assert (old and (old.span(), old.groups())) == (new and (new.span(), new.groups()))
