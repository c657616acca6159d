"""yaml documents (placeholder: values/locate are filled in by the documents work)."""

from __future__ import annotations

from keyless.linter.documents import Document, register_kind


class YamlDocument(Document):
    kind = "yaml"


register_kind("yaml", YamlDocument)
