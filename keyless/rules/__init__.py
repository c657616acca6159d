"""Built-in rule families. Each family package exposes RULES and is registered through the
`keyless.rules` entry-point group, exactly like a third-party plugin."""
