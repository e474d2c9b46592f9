"""Harnesses of the contract suite: one per adapter; see ``conftest.py`` for how to add one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Protocol

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.paper import open_paper_exchange
from cleanslate.exchange.port import Exchange
from fakes.ccxt_venues import LIVE_DIALECTS

from .ccxt_harness import CcxtHarness
from .coinbase_harness import CoinbaseHarness


class ExchangeHarness(Protocol):
    """What a contract test needs from an adapter's test setup."""

    clock: SimulatedClock
    product_id: str
    """A tradeable product (quote currency USD) with several ticks of spread."""
    base: str
    """Its base asset."""

    def open(self, holdings: Mapping[str, Decimal]) -> Exchange:
        """A fresh account holding exactly ``holdings`` (asset -> quantity)."""
        ...

    async def close(self) -> None:
        """Close every exchange ``open`` returned."""
        ...


class PaperHarness:
    """The paper exchange on the ``documents`` market, trading SEI-USD."""

    product_id = "SEI-USD"
    base = "SEI"

    def __init__(self, seed: int = 11) -> None:
        self.clock = SimulatedClock()
        self._seed = seed
        self._opened: list[Exchange] = []

    def open(self, holdings: Mapping[str, Decimal]) -> Exchange:
        config = PaperConfig(seed=self._seed, market="documents", holdings=dict(holdings))
        exchange = open_paper_exchange(config, self.clock, account=f"contract/{len(self._opened)}")
        self._opened.append(exchange)
        return exchange

    async def close(self) -> None:
        for exchange in self._opened:
            await exchange.aclose()


HARNESSES: dict[str, Callable[[], ExchangeHarness]] = {
    "paper": PaperHarness,
    "coinbase": CoinbaseHarness,
    # the ccxt adapter over the fake of every venue that may trade Live
    **{f"ccxt-{venue}": partial(CcxtHarness, venue) for venue in LIVE_DIALECTS},
}
