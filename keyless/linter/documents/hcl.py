"""hcl documents (placeholder: values/locate are filled in by the documents work)."""

from __future__ import annotations

from keyless.linter.documents import Document, register_kind


class HclDocument(Document):
    kind = "hcl"


register_kind("hcl", HclDocument)
