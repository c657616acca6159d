"""python rules: key-based Azure authentication in Python code (category key-auth, KL201-KL249)."""

from keyless.rules.python.rules import RULES

__all__ = ["RULES"]
