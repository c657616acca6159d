"""Every regular expression keyless compiles, run on adversarial inputs built from its own
structure, to find super-linear ones (tests/test_regex_audit.py runs this in a subprocess with a
timeout: an exponential pattern would never return).

Collection: every module under `keyless` is imported and its module-level and class-level
`re.Pattern` objects are taken (also inside dicts, lists and tuples), and every `re.<function>`
call with a literal pattern in the source is compiled (patterns used inside functions). Patterns
compiled on first use (`keyless.linter.lazyre.lazy_compile`) are compiled here, every one made
(`created()`), whether its module-level name is found or it sits in a container.

Inputs, from the parsed pattern (`re._parser`): long runs of the characters its atoms accept
(each one alone, and pairs alternating), matching strings (witnesses) repeated, every proper
prefix of a witness repeated (near-matches that fail late), and a witness prefix followed by a
long run of one accepted character. Each input is a unit repeated to a length.

How a pattern is used decides how it is run: a pattern the code only ever calls `match` or
`fullmatch` on (found in the source) is matched once at the start of the input; any other use
(`search`, `finditer`, `findall`, `sub`, `split`, or passed around) is a search, run as `finditer`
(one attempt per start position). Loops over positions around `match` calls are the callers'
business: tests/test_time_bounds.py runs every rule family on huge adversarial files.

Scaling, not wall-clock: each input is run at growing sizes (from 256 characters, doubling) until
one run takes `MIN_MEASURE_SECONDS` of process time, and then at four times that size. Linear
code grows ~4x; the check fails above `MAX_GROWTH` (quadratic code grows ~16x), after three
measurements (noise only ever makes one slow). An input still that fast at `SCREEN_SIZE`
characters is linear enough.

Run directly: `python tests/regex_audit.py` prints one JSON line per finding (`--shard K/N`: only
every N-th pattern from the K-th, so that N processes share the audit).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import pkgutil
import re
import sys
import time
from re import _constants as C  # noqa: N812
from re import _parser as P  # noqa: N812

from keyless.linter.lazyre import LazyPattern, created

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_SIZE = 256
SCREEN_SIZE = 16_384
MIN_MEASURE_SECONDS = 0.005
TOO_SLOW = 0.25  # linear patterns take microseconds per thousand characters
MAX_GROWTH = 8.0
MAX_INPUTS = 80
SEARCH_METHODS = {"search", "finditer", "findall", "sub", "subn", "split"}
ANCHORED_METHODS = {"match", "fullmatch"}

# Searched patterns whose caller never searches inside what a failed attempt scanned, so repeated
# attempts cannot pile up; tests/test_time_bounds.py runs their files at scale instead.
EXEMPT = {
    "keyless.linter.documents.bicep._CODE_TOP": "the Bicep scanner's tokens: a string the quick"
    " alternative cannot close is then consumed in string mode, and the next search starts after it",
    "keyless.linter.documents.bicep._CODE_NESTED": "as _CODE_TOP",
}

# Characters tried for negated classes and "anything but" atoms.
POOL = "aA0 \t\n-_./=;:,\"'`@%#?&+*()[]{}<>|\\!$~^xZ9é\u00a0"


# ---- collection ------------------------------------------------------------------------------------

def _walk_values(value, out, depth=0):
    if isinstance(value, LazyPattern):
        out.append(value.compiled())
    elif isinstance(value, re.Pattern):
        out.append(value)
    elif depth < 2 and isinstance(value, dict):
        for v in value.values():
            _walk_values(v, out, depth + 1)
    elif depth < 2 and isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _walk_values(v, out, depth + 1)


def module_names() -> list[str]:
    import keyless

    names = ["keyless"]
    for info in pkgutil.walk_packages(keyless.__path__, "keyless."):
        if not info.name.endswith("__main__"):  # importing it runs the command line
            names.append(info.name)
    return sorted(names)


_RE_FUNCS = {"compile", "search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"}
_FLAG_NAMES = {"I": re.I, "IGNORECASE": re.I, "M": re.M, "MULTILINE": re.M, "S": re.S, "DOTALL": re.S,
               "X": re.X, "VERBOSE": re.X, "A": re.A, "ASCII": re.A}


def _literal_flags(node) -> int | None:
    if node is None:
        return 0
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "re":
        return _FLAG_NAMES.get(node.attr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        a, b = _literal_flags(node.left), _literal_flags(node.right)
        return None if a is None or b is None else a | b
    return None


def source_patterns(path: str, module: str) -> list[tuple[str, int, str, str]]:
    """(pattern, flags, where, function) of every `re.<func>("literal", ...)` call in a file."""
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                and node.func.attr in _RE_FUNCS and node.args):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        flag_node = None
        pos_flags = {"compile": 1, "search": 2, "match": 2, "fullmatch": 2, "finditer": 2, "findall": 2,
                     "split": 3, "sub": 4, "subn": 4}[node.func.attr]
        if len(node.args) > pos_flags:
            flag_node = node.args[pos_flags]
        for kw in node.keywords:
            if kw.arg == "flags":
                flag_node = kw.value
        flags = _literal_flags(flag_node)
        if flags is None:
            continue
        out.append((first.value, flags, f"{module}:{node.lineno}", node.func.attr))
    return out


def name_uses(paths: dict[str, str]) -> tuple[dict[tuple[str, str], set[str]], dict[str, set[str]]]:
    """How the source uses names: ((module, NAME) -> methods) for names used in their own module
    (`NAME.match(...)`, `x = NAME.search`), and (NAME -> methods) for `mod.NAME.fullmatch(...)`
    anywhere. A mention that is not a method lookup (passed on, stored) counts as "other"."""
    local: dict[tuple[str, str], set[str]] = {}
    remote: dict[str, set[str]] = {}
    for module, path in paths.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        inner_ids = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in SEARCH_METHODS | ANCHORED_METHODS:
                inner = node.value
                if isinstance(inner, ast.Name):
                    local.setdefault((module, inner.id), set()).add(node.attr)
                    inner_ids.add(id(inner))
                elif isinstance(inner, ast.Attribute):
                    remote.setdefault(inner.attr, set()).add(node.attr)
                    inner_ids.add(id(inner))
        for node in ast.walk(tree):
            if id(node) in inner_ids or not isinstance(getattr(node, "ctx", None), ast.Load):
                continue
            if isinstance(node, ast.Name):
                local.setdefault((module, node.id), set()).add("other")
            elif isinstance(node, ast.Attribute):
                remote.setdefault(node.attr, set()).add("other")
    return local, remote


def collect() -> list[tuple[re.Pattern, str, str]]:
    """(pattern, where, mode): mode "anchored" when the code only calls match/fullmatch on it."""
    seen: dict[tuple[str, int], int] = {}
    found: list[tuple[re.Pattern, str, str]] = []
    paths = {}
    for name in module_names():
        try:
            path = importlib.import_module(name).__file__
        except ImportError:
            continue
        if path and path.endswith(".py"):
            paths[name] = path
    local, remote = name_uses(paths)

    def add(pattern: re.Pattern, where: str, methods: set[str] | None = None, weak: bool = False) -> None:
        if not isinstance(pattern.pattern, str):
            return
        if methods is None:
            module, _, attr = where.rpartition(".")
            methods = local.get((module, attr), set()) | remote.get(attr, set())
            if not methods:  # defined but never called here: assume the worst
                methods = {"other"}
        mode = "anchored" if methods and methods <= ANCHORED_METHODS else "search"
        key = (pattern.pattern, pattern.flags)
        if key in seen:  # used both ways somewhere: the stricter check
            i = seen[key]
            if mode == "search" and found[i][2] == "anchored" and not weak:
                found[i] = (found[i][0], found[i][1], "search")
            return
        seen[key] = len(found)
        found.append((pattern, where, mode))

    for name in module_names():
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if name == "keyless.linter.lazyre":
            continue  # its registry of stand-ins: audited below, each under its own name
        for attr, value in sorted(vars(module).items()):
            pats: list[re.Pattern] = []
            if isinstance(value, type) and value.__module__ == name:
                for cattr, cvalue in vars(value).items():
                    cp: list[re.Pattern] = []
                    _walk_values(cvalue, cp)
                    for p in cp:
                        add(p, f"{name}.{attr}.{cattr}")
                continue
            _walk_values(value, pats)
            for p in pats:
                add(p, f"{name}.{attr}")
        path = getattr(module, "__file__", None)
        if path and path.endswith(".py"):
            for text, flags, where, func in source_patterns(path, name):
                try:
                    # `re.compile("...")` in the source: its use is known when the result is a
                    # module-level name (collected above); inside a function, assume a search.
                    add(re.compile(text, flags), where, {func} if func != "compile" else {"other"},
                        weak=func == "compile")
                except re.error:
                    pass
    # Patterns compiled on first use (keyless.linter.lazyre): every one made, found by name above
    # or not (one in a container or built by a function is audited as a search).
    for lazy in created():
        add(lazy.compiled(), f"{_namespace_name(lazy)}", {"other"}, weak=True)
    return found


def _namespace_name(lazy: LazyPattern) -> str:
    """module.NAME of a stand-in (or of the pattern it became), else its module."""
    namespace = lazy._namespace
    module = namespace.get("__name__", "?")
    for name, value in namespace.items():
        if value is lazy or value is lazy._compiled:
            return f"{module}.{name}"
    return f"{module}:lazy"


# ---- inputs from a pattern's structure ------------------------------------------------------------

def _in_chars(items, ignorecase: bool) -> tuple[list[str], bool]:
    """Characters an IN set accepts (a few per range) and whether it is negated."""
    chars: list[str] = []
    negate = False
    for op, av in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL:
            chars.append(chr(av))
        elif op is C.RANGE:
            lo, hi = av
            chars += [chr(lo), chr(hi), chr((lo + hi) // 2)]
        elif op is C.CATEGORY:
            chars += _category_chars(av)
    return chars, negate


def _category_chars(cat) -> list[str]:
    name = str(cat).lower()
    if "not_digit" in name:
        return ["a", " "]
    if "digit" in name:
        return ["0", "7"]
    if "not_space" in name:
        return ["a", "0"]
    if "space" in name:
        return [" ", "\t"]
    if "not_word" in name:
        return [" ", "-"]
    if "word" in name:
        return ["a", "0", "_"]
    if "not_linebreak" in name:
        return ["a"]
    return ["a"]


def _accepts(items, ch: str) -> bool:
    try:
        return re.compile(_set_source(items)).fullmatch(ch) is not None
    except re.error:
        return False


def _set_source(items) -> str:
    parts = []
    neg = ""
    for op, av in items:
        if op is C.NEGATE:
            neg = "^"
        elif op is C.LITERAL:
            parts.append(re.escape(chr(av)))
        elif op is C.RANGE:
            parts.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is C.CATEGORY:
            parts.append({"category_digit": r"\d", "category_not_digit": r"\D", "category_space": r"\s",
                          "category_not_space": r"\S", "category_word": r"\w",
                          "category_not_word": r"\W"}.get(str(av).lower(), ""))
    return f"[{neg}{''.join(parts)}]"


def atom_chars(op, av) -> list[str]:
    """Characters one atom matches (a sample)."""
    if op is C.LITERAL:
        return [chr(av)]
    if op is C.NOT_LITERAL:
        return [c for c in POOL if ord(c) != av][:4]
    if op is C.ANY:
        return ["a", " "]
    if op is C.IN:
        chars, negate = _in_chars(av, False)
        if negate:
            return [c for c in POOL if _accepts(av, c)][:6]
        return chars[:8]
    if op is C.CATEGORY:
        return _category_chars(av)
    return []


def walk(sub, visit) -> None:
    for op, av in sub:
        visit(op, av)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            walk(av[2], visit)
        elif op is C.SUBPATTERN:
            walk(av[-1], visit)
        elif op is C.ATOMIC_GROUP:
            walk(av, visit)
        elif op is C.BRANCH:
            for alt in av[1]:
                walk(alt, visit)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            walk(av[1], visit)
        elif op is C.GROUPREF_EXISTS:
            walk(av[1], visit)
            if av[2] is not None:
                walk(av[2], visit)


def witnesses(sub, limit: int = 6) -> list[str]:
    """Strings built to match `sub` (best effort: lookarounds and anchors are ignored)."""
    outs = [""]
    groups: dict[int, str] = {}
    for op, av in sub:
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, body = av
            reps = max(lo, 1) if hi != 0 else 0
            reps = min(reps, 3 if hi is C.MAXREPEAT or hi >= 3 else hi)
            inner = witnesses(body, 2) or [""]
            options = [w * reps for w in inner]
            if lo == 0:
                options.append("")
        elif op is C.SUBPATTERN:
            options = witnesses(av[-1], 3)
        elif op is C.ATOMIC_GROUP:
            options = witnesses(av, 3)
        elif op is C.BRANCH:
            options = [w for alt in av[1] for w in witnesses(alt, 2)]
        elif op is C.GROUPREF:
            options = [groups.get(av, "")]
        elif op is C.GROUPREF_EXISTS:
            options = witnesses(av[1], 2)
        else:
            chars = atom_chars(op, av)
            options = chars[:2] if chars else [""]
        outs = [a + b for a in outs for b in options][:limit]
    return outs


def inputs(pattern: re.Pattern) -> list[tuple[str, str]]:
    """(description, unit) pairs; a unit is repeated to the measured length."""
    try:
        parsed = P.parse(pattern.pattern, pattern.flags)
    except re.error:
        return []
    chars: list[str] = []
    run_chars: list[str] = []  # characters of repeated atoms

    def visit(op, av):
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            for op2, av2 in av[2]:
                run_chars.extend(atom_chars(op2, av2))
        chars.extend(atom_chars(op, av))

    walk(parsed, visit)
    chars = list(dict.fromkeys(chars))[:24]
    run_chars = list(dict.fromkeys(run_chars))[:12] or chars[:6]
    out: list[tuple[str, str]] = []
    for c in chars:
        out.append((f"run of {c!r}", c))
    for a in run_chars[:6]:
        for b in run_chars[:6]:
            if a < b:
                out.append((f"alternating {a!r}{b!r}", a + b))
    for w in witnesses(parsed):
        if not w:
            continue
        out.append((f"witness {w[:40]!r} repeated", w + " "))
        out.append((f"witness {w[:40]!r} back to back", w))
        for k in range(1, len(w)):
            prefix = w[:k]
            out.append((f"prefix {prefix[:40]!r} repeated", prefix))
            for c in run_chars[:4]:
                out.append((f"prefix {prefix[:40]!r} + run of {c!r}", "\0RUN" + prefix + "\0" + c))
    # Deterministic thinning: keep the first of each description family, then every n-th.
    if len(out) > MAX_INPUTS:
        step = len(out) / MAX_INPUTS
        out = [out[int(i * step)] for i in range(MAX_INPUTS)]
    return out


def build(unit: str, size: int) -> str:
    if unit.startswith("\0ONE"):  # a prefix and one run of the whole size: what an anchored match reads
        prefix, _, c = unit[4:].partition("\0")
        return prefix + c * max(0, size - len(prefix))
    if unit.startswith("\0RUN"):
        prefix, _, c = unit[4:].partition("\0")
        # A prefix then a long run, eight times whatever the size (the shape scales with it).
        piece = prefix + c * max(16, size // 8)
        return (piece * (size // len(piece) + 1))[:size]
    return (unit * (size // len(unit) + 1))[:size]


def cost(pattern: re.Pattern, text: str, mode: str) -> float:
    t0 = time.process_time()
    if mode == "anchored":
        pattern.match(text)
    else:
        for _ in pattern.finditer(text):
            pass
    return time.process_time() - t0


def growth(pattern: re.Pattern, unit: str, mode: str) -> tuple[float, int] | None:
    """(t(4n)/t(n), n) with n the first size (doubling from START_SIZE) where t(n) reaches
    MIN_MEASURE_SECONDS; None when SCREEN_SIZE characters are faster than that. A size that
    already takes TOO_SLOW seconds is not run four times bigger (a cubic pattern would take
    minutes): its growth over the last doubling, squared, stands for the 4x growth."""
    n = START_SIZE
    previous = None
    while n <= SCREEN_SIZE:
        t1 = cost(pattern, build(unit, n), mode)
        if t1 >= TOO_SLOW and previous:
            return (t1 / max(previous, 1e-4)) ** 2, n
        if t1 >= MIN_MEASURE_SECONDS:
            return cost(pattern, build(unit, 4 * n), mode) / t1, n
        previous = t1
        n *= 2
    return None


def audit(patterns=None, out=sys.stdout) -> list[dict]:
    findings = []
    for pattern, where, mode in patterns or collect():
        if where in EXEMPT:
            continue
        print(f"BEGIN {where} {mode} {pattern.pattern[:120]!r}", file=sys.stderr, flush=True)
        units = inputs(pattern)
        if mode == "anchored":  # the repeated pieces hold runs an eighth as long: a fast machine missed
            units += [(f"{what} (one run)", "\0ONE" + unit[4:]) for what, unit in units if unit.startswith("\0RUN")]
        for what, unit in units:
            ratios = []
            for _ in range(3):
                g = growth(pattern, unit, mode)
                if g is None or g[0] <= MAX_GROWTH:
                    break
                ratios.append(g)
            else:
                finding = {"where": where, "mode": mode, "pattern": pattern.pattern, "input": what,
                           "growth": round(min(r for r, _ in ratios), 1), "n": ratios[0][1]}
                findings.append(finding)
                print(json.dumps(finding), file=out, flush=True)
                break  # one input is enough to show it
    return findings


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    if len(sys.argv) > 1 and sys.argv[1] == "--list":
        for p, where, mode in collect():
            print(where, mode, repr(p.pattern)[:150])
    elif len(sys.argv) > 2 and sys.argv[1] == "--shard":  # --shard K/N: every N-th pattern from the K-th
        k, n = (int(x) for x in sys.argv[2].split("/"))
        audit(collect()[k::n])
    else:
        audit()
