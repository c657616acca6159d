"""Known non-secrets: values that look like credentials but must never be reported.

- Key Vault references (`@Microsoft.KeyVault(...)`), resolved at runtime through managed identity.
- The storage emulator (Azurite) and Cosmos DB emulator keys: published, local-only. They are kept
  here as SHA-256 digests, never as literals.
- Placeholders and templates: `<...>`, `{...}`, `{{...}}`, `${...}`, `$(...)`, `%...%`, `#{...}#`,
  `__X__`, `your-...`, `xxx...`, `REDACTED`, `changeme`, `***`, dictionary words such as `password`.
- Indirections: environment variables, ARM expressions (`[parameters('x')]`, `listKeys(...)`),
  Terraform references (`var.x`, `azurerm_....primary_access_key`), file paths (`/run/secrets/x`).
- Integrity hashes (`sha256-...`, `sha512-...`) and GUIDs.
"""

from __future__ import annotations

import hashlib
import re

from keyless.linter.lazyre import lazy_compile

EMULATOR_KEY_DIGESTS = frozenset(
    {
        # Azurite / storage emulator account key for devstoreaccount1.
        "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",
        # Cosmos DB emulator key.
        "aa6547439583c3a275d4542a0df6c1ad6a863971be9f2a2220f027cc02aef615",
    }
)

EMULATOR_ACCOUNT_NAMES = frozenset({"devstoreaccount1", "storagesample"})


def is_emulator_key(value: str) -> bool:
    if len(value) != 88:
        return False
    return hashlib.sha256(value.encode("ascii", "replace")).hexdigest() in EMULATOR_KEY_DIGESTS


GUID_RE = lazy_compile(r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?")

_PLACEHOLDER_WORDS = frozenset(
    """
    password passwd pwd pass secret secrets key keys token apikey api_key accesskey access_key
    accountkey account_key sharedaccesskey mypassword mysecret mykey yourpassword yoursecret yourkey
    changeme changeit change_me changethis example sample test testing dummy fake placeholder redacted
    hidden masked removed none null nil undefined empty default admin administrator root user username
    guest letmein qwerty secret123 password123 password1 pass123 p@ssw0rd p@ssword passw0rd
    notasecret not_a_secret not-a-secret todo tbd fixme insert_here replace_me replaceme
    value string str text foo bar baz foobar abc abcd abc123 123456 12345678 1234 0000 xxxx
    sas sig signature code subscriptionkey subscription_key primarykey secondarykey
    """.split()
)

_PLACEHOLDER_RE = lazy_compile(
    r"""
    ^\s*(?:
        <[^<>]*>                      # <your-key>
      | \{\{.*\}\}                    # {{ secret }}
      | \$\{[^}]*\}                   # ${VAR}
      | \$\([^)]*\)                   # $(Var) / $(cmd)
      | \$[A-Za-z_][A-Za-z0-9_]*      # $VAR
      | \$env:[A-Za-z_][A-Za-z0-9_]*  # PowerShell
      | %[A-Za-z_][A-Za-z0-9_]*%      # %VAR%
      | \#\{[^}]*\}\#?                # #{token}# (replace-tokens)
      | __[A-Za-z0-9_]+__             # __TOKEN__
      | \{[^{}]*\}                    # {password}
      | \[[^\]]*\]                    # [parameters('x')]
      | @Microsoft\.KeyVault\(.*      # Key Vault reference
      | \*{3,}.*                      # ***
    )\s*$
    """,
    re.X | re.S,
)

# Template text inside a value, printf verbs included (`%s`, `%[3]s`, `%d`; `%d` followed by a hex
# digit is a URL escape such as `%dA`, not a verb).
_TEMPLATE_INSIDE_RE = lazy_compile(r"\$\{|\{\{|<[A-Za-z_][\w .-]*>|\$\(|#\{|%(?:\[\d{1,2}\])?(?:[svq]|d(?![0-9A-Fa-f]))")
_REPEATED_RE = lazy_compile(r"^(.)\1{5,}$|^(?:xx|XX|\*\*|\.\.|--)")
_REF_RE = lazy_compile(
    r"""^(?:
        (?:os\.)?environ(?:\.get)?[\[(]
      | os\.getenv\(
      | getenv\(
      | process\.env\.
      | Environment\.GetEnvironmentVariable
      | System\.getenv
      | env\(
      | secrets?\.[A-Za-z_]
      | var\.[A-Za-z_]
      | local\.[A-Za-z_]
      | data\.[A-Za-z_]
      | module\.[A-Za-z_]
      | azurerm_[A-Za-z0-9_]+\.
      | listKeys\(
      | \[?list(?:Keys|ConnectionStrings|Credentials|Secrets)\(
      | reference\(
      | parameters\(
      | variables\(
      | /run/secrets/
      | /var/run/secrets/
      | /etc/
      | ~/
      | \./
      | file:
    )""",
    re.X | re.I,
)
_SRI_RE = lazy_compile(r"^sha(?:1|256|384|512)-[A-Za-z0-9+/=]+$")


def is_placeholder(value: str) -> bool:
    """True for template text, redactions, indirections and dictionary words (never a credential)."""
    v = value.strip().strip("\"'`")
    if not v:
        return True
    low = v.lower()
    if low in _PLACEHOLDER_WORDS:
        return True
    if "keyvault" in low.replace(".", "").replace("_", "") and ("@microsoft" in low or "secreturi" in low or "vaultname" in low):
        return True
    if _PLACEHOLDER_RE.match(v) or _REF_RE.match(v):
        return True
    if _TEMPLATE_INSIDE_RE.search(v):
        return True
    if _REPEATED_RE.match(v):
        return True
    if low.startswith(("your-", "your_", "yourpass", "your ", "my-", "my_", "insert", "replace", "enter-", "enter_",
                       "<", "example", "sample-", "sample_", "dummy", "fake", "test-", "test_", "redacted",
                       "placeholder", "changeme", "change-me", "change_me", "xxxx", "todo")):
        return True
    if "redacted" in low or "xxxxxxxx" in low or "..." in v or "…" in v:
        return True
    if _SRI_RE.match(v):
        return True
    if GUID_RE.fullmatch(v):
        return True
    # Identical character repeated, or a run like 0000..., abcd...
    if len(set(low)) <= 2 and len(low) >= 4:
        return True
    # Code, not a literal: a function call (Bicep `guid(...)`, `uniqueString(...)`) or a variable
    # whose name says what it holds (`servicePrincipalSecret`, `ACR_PASSWORD`).
    if _CALL_RE.match(v):
        return True
    if _NAME_ONLY_RE.match(v) and _CREDENTIAL_WORD_RE.search(v):
        return True
    return False


# `name(` then a closed simple call or an argument that starts like code (a name, quote, bracket).
_CALL_RE = lazy_compile(r"^[A-Za-z_][A-Za-z0-9_.]{2,}\((?:[^()]*\)|[A-Za-z_\[('\"])")
_NAME_ONLY_RE = lazy_compile(r"^[A-Za-z_]++(?:[.-][A-Za-z_]++)*+$")  # ACR_PASSWORD, properties.adminPassword
_CREDENTIAL_WORD_RE = lazy_compile(r"(?i)secret|passw|pwd|key|token|credential")


def is_reference(value: str) -> bool:
    """An indirection to where the secret really lives (env var, file, template expression)."""
    return bool(_REF_RE.match(value.strip()))


def looks_like_word_password(value: str) -> bool:
    """Obvious non-passwords: dictionary-ish words without digits or symbols, very short values."""
    v = value.strip()
    if len(v) < 6:
        return True
    if v.isalpha() and (v.islower() or v.isupper() or v.istitle()) and len(v) <= 12:
        return True
    return False


def entropy_ok(value: str, min_distinct: int = 8) -> bool:
    """A cheap randomness check for key material: enough distinct characters."""
    return len(set(value)) >= min(min_distinct, max(4, len(value) // 3))
