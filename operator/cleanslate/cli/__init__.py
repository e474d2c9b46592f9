"""The ``cleanslate`` command: ``once`` and ``liquidate`` on the paper exchange, ``operator``."""

from cleanslate.cli.main import main

__all__ = ["main"]
