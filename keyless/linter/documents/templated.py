"""Scalars of a Helm template view (keyless.linter.documents.helm), in a module of their own so
the IaC rules can recognise them without loading the template reader."""

from __future__ import annotations


class Templated(str):
    """A scalar built by template actions that cannot be evaluated without rendering: never a
    literal value. Its text is the source scalar with each action normalised, so two scalars
    written the same way (`{{ include "app.serviceAccountName" . }}`) compare equal."""

    __slots__ = ()


class ChartValue(str):
    """A string substituted from the chart's values.yaml (`origin`: file and key path)."""

    __slots__ = ("origin",)

    def __new__(cls, value: str, origin: str):
        self = super().__new__(cls, value)
        self.origin = origin
        return self

    def __reduce__(self):
        return (ChartValue, (str(self), self.origin))
