"""The keyless engine: discovery, documents, rules, suppressions, config, reporting, fixes."""
