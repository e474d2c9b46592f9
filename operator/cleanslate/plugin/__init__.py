"""``kubectl cleanslate``: the kubectl plugin (status, plan, manual actions, history)."""

from cleanslate.plugin.main import main

__all__ = ["main"]
