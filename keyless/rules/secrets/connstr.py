"""A real (if forgiving) parser for connection strings and credential-bearing URIs.

Grammar (ADO.NET / Azure SDK style): `key=value` pairs separated by `;`; keys are case-insensitive
and trimmed; values may be quoted with '...', "..." (a doubled quote escapes itself) or {...} (ODBC,
`}}` escapes) and may then contain `;`. Also understood:

- the StackExchange.Redis comma form: `host:port,password=...,ssl=True,abortConnect=False`;
- libpq keyword form: `host=... port=5432 user=... password=... sslmode=require`;
- JDBC: `jdbc:sqlserver://host:1433;database=d;user=u;password=p` (the URL is the first item);
- URIs: `scheme://user:pass@host:port/path?query` (postgresql, mysql, mssql+pyodbc, mongodb,
  redis/rediss, amqps, https...).

Every value keeps its offsets so findings point at the secret itself. All functions are linear in
the input length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from keyless.linter.lazyre import lazy_compile

# Normalised key (lower-case, no spaces/underscores/hyphens) -> canonical role name.
KEY_SYNONYMS = {
    "accountkey": "accountkey",
    "sharedaccesskey": "sharedaccesskey",
    "sharedaccesssignature": "sharedaccesssignature",
    "accesskey": "accesskey",
    "secret": "secret",
    "password": "password",
    "pwd": "password",
    "pass": "password",
    "passwd": "password",
    "accountname": "accountname",
    "sharedaccesskeyname": "sharedaccesskeyname",
    "userid": "user",
    "uid": "user",
    "user": "user",
    "username": "user",
    "id": "id",
    "deviceid": "deviceid",
    "moduleid": "moduleid",
    "instrumentationkey": "instrumentationkey",
    "applicationid": "applicationid",
    "endpoint": "endpoint",
    "accountendpoint": "endpoint",
    "hostname": "hostname",
    "host": "hostname",
    "server": "server",
    "datasource": "server",
    "address": "server",
    "addr": "server",
    "networkaddress": "server",
    "blobendpoint": "blobendpoint",
    "queueendpoint": "queueendpoint",
    "tableendpoint": "tableendpoint",
    "fileendpoint": "fileendpoint",
    "endpointsuffix": "endpointsuffix",
    "defaultendpointsprotocol": "defaultendpointsprotocol",
    "ingestionendpoint": "ingestionendpoint",
    "liveendpoint": "liveendpoint",
    "entitypath": "entitypath",
    "initialcatalog": "database",
    "database": "database",
    "dbname": "database",
    "port": "port",
    "authentication": "authentication",
    "integratedsecurity": "integratedsecurity",
    "trustedconnection": "integratedsecurity",
    "usedevelopmentstorage": "usedevelopmentstorage",
    "x509": "x509",
    "authtype": "authtype",
    "version": "version",
    "sslmode": "sslmode",
    "ssl": "ssl",
    "encrypt": "encrypt",
    "abortconnect": "abortconnect",
    "gatewayhostname": "gatewayhostname",
}

KNOWN_ROLES = frozenset(KEY_SYNONYMS.values())
_EQ_OR_SEMI = lazy_compile(r"[=;]")
SECRET_ROLES = frozenset({"accountkey", "sharedaccesskey", "sharedaccesssignature", "accesskey", "secret", "password"})


_KEY_DELETE = str.maketrans("", "", " \t_-.")


def norm_key(raw: str) -> str:
    return raw.lower().translate(_KEY_DELETE)


@dataclass(slots=True)
class Pair:
    role: str  # canonical role (KEY_SYNONYMS value) or the normalised key when unknown
    key: str  # raw key text
    value: str  # unquoted value
    start: int  # value span (offsets into the parsed string), quotes excluded
    end: int


@dataclass(slots=True)
class ConnString:
    pairs: list[Pair] = field(default_factory=list)
    form: str = "ado"  # ado, redis, libpq, jdbc
    url_host: str = ""  # JDBC / redis host item
    _idx: dict | None = None
    _idx_len: int = -1

    def _index(self) -> dict[str, Pair]:
        idx: dict[str, Pair] = {}
        for p in self.pairs:
            idx.setdefault(p.role, p)
        return idx

    def get(self, role: str) -> Pair | None:
        # Built once per parse (callers finish appending pairs before querying).
        if self._idx is None or self._idx_len != len(self.pairs):
            self._idx = self._index()
            self._idx_len = len(self.pairs)
        return self._idx.get(role)

    def value(self, role: str) -> str:
        p = self.get(role)
        return p.value if p else ""

    def roles(self) -> set[str]:
        self.get("")
        return set(self._idx)


_RESOLVED: dict[str, str] = {}


def _resolve_key(raw: str) -> str:
    r = _RESOLVED.get(raw)
    if r is None:
        r = _resolve_key_uncached(raw)
        if len(_RESOLVED) < 20_000:
            _RESOLVED[raw] = r
    return r


def _resolve_key_uncached(raw: str) -> str:
    """Canonical role for a raw key; for junk prefixes (`conn: Endpoint`, `--x Server`) try the
    trailing one or two words."""
    n = norm_key(raw)
    if n in KEY_SYNONYMS:
        return KEY_SYNONYMS[n]
    words = re.split(r"[\s:\"'(,=`]+", raw.strip())
    words = [w for w in words if w]
    for k in (2, 1):
        if len(words) >= k:
            n2 = norm_key("".join(words[-k:]))
            if n2 in KEY_SYNONYMS:
                return KEY_SYNONYMS[n2]
    return n


def parse_pairs(s: str, unquoted_context: bool = False) -> ConnString:
    """Parse `key=value;key=value` (ADO.NET / Azure). `unquoted_context`: the text was not inside
    a string literal, so an unquoted value also ends at whitespace for secret keys (shell/YAML)."""
    cs = ConnString()
    n = len(s)
    i = 0
    first = True
    while i < n:
        # key
        m = _EQ_OR_SEMI.search(s, i)
        j = m.start() if m else n
        if j >= n or s[j] == ";":
            item = s[i:j].strip()
            if first and "//" in item:
                cs.url_host = item
                cs.form = "jdbc"
            i = j + 1
            first = False
            continue
        raw_key = s[i:j]
        role = _resolve_key(raw_key)
        j += 1  # past '='
        while j < n and s[j] in " \t":
            j += 1
        if first and role not in KNOWN_ROLES:
            # `NAME=Endpoint=sb://...` (env var holding the string): re-parse after the first '='.
            m2 = _EQ_OR_SEMI.search(s, j)
            k = m2.start() if m2 else n
            if k < n and s[k] == "=" and _resolve_key(s[j:k]) in KNOWN_ROLES:
                i = j
                first = False
                continue
        # value
        if j < n and s[j] in "'\"":
            q = s[j]
            k = j + 1
            buf = []
            while k < n:
                if s[k] == q:
                    if k + 1 < n and s[k + 1] == q:
                        buf.append(q)
                        k += 2
                        continue
                    break
                buf.append(s[k])
                k += 1
            vstart, vend = j + 1, k
            value = "".join(buf)
            k += 1
            while k < n and s[k] != ";":
                k += 1
        elif j < n and s[j] == "{":
            k = j + 1
            buf = []
            while k < n:
                if s[k] == "}":
                    if k + 1 < n and s[k + 1] == "}":
                        buf.append("}")
                        k += 2
                        continue
                    break
                buf.append(s[k])
                k += 1
            vstart, vend = j + 1, k
            value = "".join(buf)
            k += 1
            while k < n and s[k] != ";":
                k += 1
        else:
            k = s.find(";", j)
            if k < 0:
                k = n
            vstart, vend = j, k
            while vend > vstart and s[vend - 1] in " \t\r":
                vend -= 1
            if unquoted_context and role in SECRET_ROLES:
                m = j
                while m < vend and s[m] not in " \t":
                    m += 1
                vend = m
            value = s[vstart:vend]
        if first and role not in KNOWN_ROLES and "//" in value and not cs.url_host:
            cs.url_host, cs.form = value, "jdbc"  # prop=jdbc:sqlserver://host:1433;user=...;password=...
        cs.pairs.append(Pair(role, raw_key.strip(), value, vstart, vend))
        first = False
        i = k + 1
    return cs


_REDIS_HOST_RE = lazy_compile(r"\s*([A-Za-z0-9.-]+(?::\d{2,5})?)\s*$")


def parse_redis(s: str) -> ConnString | None:
    """StackExchange.Redis: `host:port,password=...,ssl=True` (options in any order/case)."""
    if "," not in s:
        return None
    cs = ConnString(form="redis")
    pos = 0
    for idx, part in enumerate(s.split(",")):
        start = pos
        pos += len(part) + 1
        if "=" not in part:
            if idx == 0 and _REDIS_HOST_RE.match(part):
                cs.url_host = part.strip()
            continue
        k, _, v = part.partition("=")
        vstart = start + len(k) + 1
        lead = len(v) - len(v.lstrip())
        vstart += lead
        v = v.strip()
        cs.pairs.append(Pair(_resolve_key(k), k.strip(), v, vstart, vstart + len(v)))
    if not cs.url_host and not cs.get("endpoint"):
        return None
    return cs


# A key starts a word (a match attempt inside a run of letters would scan the whole run again) and
# no part gives characters back: linear (a 4.9 MB file of `password=y aaaa...` lines took 240 s).
_LIBPQ_RE = lazy_compile(r"(?<![A-Za-z_])([A-Za-z_]++)\s*+=\s*+('(?:[^'\\]|\\.)*+'|[^\s']*+)")


def parse_libpq(s: str) -> ConnString | None:
    """libpq keyword/value form separated by spaces: `host=... user=... password=...`."""
    cs = ConnString(form="libpq")
    for m in _LIBPQ_RE.finditer(s):
        raw = m.group(2)
        if raw.startswith("'"):
            value, vstart = raw[1:-1], m.start(2) + 1
        else:
            value, vstart = raw, m.start(2)
        cs.pairs.append(Pair(_resolve_key(m.group(1)), m.group(1), value, vstart, vstart + len(value)))
    if not (cs.get("hostname") or cs.get("server")) or not cs.get("password"):
        return None
    return cs


def parse_any(s: str, unquoted_context: bool = False) -> ConnString:
    """Pick the grammar from the text's shape."""
    if ";" not in s:
        low = s.lower()
        if "," in s and "password" in low:
            r = parse_redis(s)
            if r is not None and r.get("password"):
                return r
        if " " in s.strip() and "host=" in low.replace(" ", "") and "password" in low:
            r = parse_libpq(s)
            if r is not None:
                return r
    return parse_pairs(s, unquoted_context)


# ---- URIs with user info --------------------------------------------------------------------------

# Matched right after '://': user (no ':' '@' '/'), optional ':password' (no '@' '/' space), '@'.
USERINFO_RE = lazy_compile(r"([^\s/?#@:\"'<>()\[\]{},;`]{0,256})(?::([^\s/?#@\"'<>`]{0,512}))?@")
HOST_RE = lazy_compile(r"\[?[A-Za-z0-9._~%-]{1,253}\]?(?::\d{1,5})?")
_URI_TAIL_RE = lazy_compile(r"[^ \t\r\n\"'`<>]{0,512}")
SCHEME_RE = lazy_compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}$")


@dataclass(slots=True)
class UriCred:
    scheme: str
    user: str
    password: str
    host: str
    user_span: tuple[int, int]
    password_span: tuple[int, int] | None
    query_start: int  # offset of '?' or -1
    end: int


def parse_userinfo_uri(text: str, colon_slash: int) -> UriCred | None:
    """Parse `scheme://user[:password]@host...` where `colon_slash` is the offset of '://'."""
    sm = SCHEME_RE.search(text, max(0, colon_slash - 31), colon_slash)
    scheme = sm.group(0).lower() if sm else ""
    start = colon_slash + 3
    m = USERINFO_RE.match(text, start)
    if not m:
        return None
    hm = HOST_RE.match(text, m.end())
    if not hm:
        return None
    user = m.group(1)
    pw = m.group(2)
    end = hm.end()
    k = _URI_TAIL_RE.match(text, end).end()
    q = text.find("?", end, k)
    return UriCred(
        scheme=scheme,
        user=unquote(user),
        password=pw if pw is not None else "",
        host=hm.group(0),
        user_span=(m.start(1), m.end(1)),
        password_span=(m.start(2), m.end(2)) if pw is not None else None,
        query_start=q,
        end=k,
    )


def parse_query(text: str, start: int, end: int) -> list[tuple[str, str, int, int]]:
    """`k=v&k=v` between offsets -> (lower key, raw value, value start, value end)."""
    out = []
    i = start
    while i < end:
        j = text.find("&", i, end)
        if j < 0:
            j = end
        part_eq = text.find("=", i, j)
        if part_eq > 0:
            key = text[i:part_eq].lower()
            if key.startswith("amp;"):
                key = key[4:]
            out.append((key, text[part_eq + 1 : j], part_eq + 1, j))
        i = j + 1
    return out
