"""`python -m keyless` and the `keyless` command (pyproject's console script)."""


def main() -> None:
    from keyless import startup

    startup.begin()  # the collector waits until start-up is over (keyless/startup.py)
    from keyless.cli import main as cli

    cli()


if __name__ == "__main__":
    main()
