"""The paper exchange: the embedded default venue and the stand-in for every test.

``open_paper_exchange`` builds one from ``TradingAccount.spec.exchange.paper``; the account key
(``namespace/name``) names its state file and, without an injected random source, seeds it.
"""

from __future__ import annotations

import random
from pathlib import Path

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import Clock
from cleanslate.exchange.paper.exchange import PaperExchange
from cleanslate.exchange.paper.markets import MARKETS, Trend

__all__ = ["MARKETS", "PaperExchange", "Trend", "open_paper_exchange"]


def open_paper_exchange(
    config: PaperConfig,
    clock: Clock,
    state_dir: Path | None = None,
    account: str = "default",
    rng: random.Random | None = None,
    trend: Trend | None = None,
) -> PaperExchange:
    """A paper account; with ``state_dir`` it resumes the state saved there for ``account``.
    ``trend`` moves every product's price path (benchmarks of falling markets)."""
    return PaperExchange(config, clock, rng, state_dir=state_dir, account=account, trend=trend)
