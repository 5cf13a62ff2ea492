"""``python -m pmo_maturity``: the same command line as ``pmo-maturity``."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="pmo-maturity")
