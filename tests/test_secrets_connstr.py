"""Connection-string grammar (ADO.NET, ODBC, Redis, libpq, JDBC, URIs)."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from keyless.rules.secrets import connstr


def test_basic_pairs_case_and_synonyms():
    cs = connstr.parse_pairs(" server = tcp:x.database.windows.net,1433 ; UID=bob;PWD=s3cret;Data Source=y")
    assert cs.value("password") == "s3cret"
    assert cs.value("user") == "bob"
    assert cs.get("server").value == "tcp:x.database.windows.net,1433"


def test_quoted_values_may_contain_semicolons():
    s = "Server=a;Password='p;w''d';User ID=\"u;v\";Pwd={x;}}y};End=1"
    cs = connstr.parse_pairs(s)
    pw = [p for p in cs.pairs if p.role == "password"]
    assert [p.value for p in pw] == ["p;w'd", "x;}y"]
    assert cs.value("user") == "u;v"
    for p in pw:
        assert s[p.start : p.end].replace("''", "'").replace("}}", "}") == p.value


def test_env_prefix_and_yaml_key_prefix():
    cs = connstr.parse_pairs("AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=a;AccountKey=K")
    assert cs.value("accountname") == "a" and cs.value("accountkey") == "K"
    cs = connstr.parse_pairs("connectionString: Endpoint=sb://n.servicebus.windows.net/;SharedAccessKey=K")
    assert cs.value("endpoint") == "sb://n.servicebus.windows.net/"


def test_unquoted_context_cuts_secret_at_whitespace():
    cs = connstr.parse_pairs("Password=abc123 --flag x", unquoted_context=True)
    assert cs.value("password") == "abc123"


def test_redis_comma_form_any_order():
    cs = connstr.parse_any("n.redis.cache.windows.net:6380,ssl=True,PASSWORD = key==,abortConnect=False")
    assert cs.form == "redis" and cs.url_host == "n.redis.cache.windows.net:6380"
    assert cs.value("password") == "key=="


def test_libpq_and_jdbc():
    cs = connstr.parse_any("host=p.postgres.database.azure.com port=5432 user=u password='a b' sslmode=require")
    assert cs.form == "libpq" and cs.value("password") == "a b"
    cs = connstr.parse_any("jdbc:sqlserver://s.database.windows.net:1433;database=d;user=u;password=p;encrypt=true")
    assert cs.form == "jdbc" and "database.windows.net" in cs.url_host and cs.value("password") == "p"


def test_userinfo_uri():
    t = 'x = "postgresql://admin:p%40ss@h.postgres.database.azure.com:5432/db"'
    u = connstr.parse_userinfo_uri(t, t.index("://"))
    assert u.scheme == "postgresql" and u.user == "admin" and u.password == "p%40ss"
    assert u.host == "h.postgres.database.azure.com:5432"
    assert t[u.password_span[0] : u.password_span[1]] == "p%40ss"
    t2 = "rediss://:KEY@c.redis.cache.windows.net:6380"
    u2 = connstr.parse_userinfo_uri(t2, t2.index("://"))
    assert u2.user == "" and u2.password == "KEY"
    t3 = "https://example.com/path"
    assert connstr.parse_userinfo_uri(t3, t3.index("://")) is None


_VAL = st.text(alphabet=string.ascii_letters + string.digits + "+/=!@#$%^*-_.", min_size=1, max_size=40)
_KEY = st.sampled_from(["Server", "User ID", "Password", "AccountKey", "Endpoint", "Foo", "pwd", "SharedAccessKey"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_KEY, _VAL, st.sampled_from(["", "'", '"', "{"])), min_size=1, max_size=8))
def test_roundtrip_property(items):
    """Serialise pairs with any quoting, parse back: values and spans match."""
    parts = []
    for k, v, q in items:
        if q == "'":
            parts.append(f"{k}='{v.replace(chr(39), chr(39) * 2)}'")
        elif q == '"':
            parts.append(f'{k}="{v}"')
        elif q == "{":
            parts.append(f"{k}={{{v.replace('}', '}}')}}}")
        else:
            parts.append(f"{k}={v}")
    s = ";".join(parts)
    cs = connstr.parse_pairs(s)
    assert [p.value for p in cs.pairs] == [v for _, v, _ in items]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parsers_never_crash(s):
    connstr.parse_any(s)
    connstr.parse_any(s, unquoted_context=True)
    i = s.find("://")
    if i >= 0:
        connstr.parse_userinfo_uri(s, i)
