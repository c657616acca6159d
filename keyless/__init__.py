"""keyless: stop Azure credentials leaking into repositories; move apps to managed identity."""

__version__ = "0.1.0"
