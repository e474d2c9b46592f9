"""The ccxt adapter in the contract suite, one harness per venue that may trade Live.

Each ``open`` builds a fresh paper account holding exactly the given balances (``documents``
market: SEI-USD, tick 0.0001, step 0.1, several ticks wide), a fake venue of the dialect over
it (``fakes.ccxt_venues``), ccxt's REAL exchange class from the adapter's ``make_client`` with
the fake installed at its HTTP seam, and the adapter on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.paper import open_paper_exchange
from cleanslate.exchange.port import Exchange
from fakes.ccxt_venues import FakeVenue, credentials, open_venue

NO_MIN_SIZE = frozenset(
    {
        # Bitstamp's markets state a minimum order value only (Market info > Markets,
        # ``minimum_order_value``, in the quote currency), no minimum size, so ccxt's
        # bitstamp market has no ``limits.amount.min``.
        "bitstamp",
    }
)
"""Venues whose ccxt markets state no minimum order size."""
NO_MIN_NOTIONAL = frozenset(
    {
        # OKX's instruments state ``minSz`` (base) only, no minimum order value (v5 Public
        # Data > Get instruments), so ccxt's okx market has no ``limits.cost.min``.
        "okx",
        # ccxt's bitget reads a minimum order value (``minTradeUSDT``) for USDT markets only
        # (bitget.py fetch_default_markets), so its SEI/USD market has no ``limits.cost.min``.
        "bitget",
    }
)
"""Venues whose ccxt markets state no minimum order value."""


class CcxtHarness:
    """ccxt's ``exchange_id`` class over its fake venue, trading SEI-USD."""

    product_id = "SEI-USD"
    base = "SEI"

    def __init__(self, exchange_id: str) -> None:
        self.exchange_id = exchange_id
        self.lists_min_size = exchange_id not in NO_MIN_SIZE
        self.lists_min_notional = exchange_id not in NO_MIN_NOTIONAL
        self.clock = SimulatedClock()
        self.venues: list[FakeVenue] = []
        self._opened: list[CcxtExchange] = []

    def open(self, holdings: Mapping[str, Decimal]) -> Exchange:
        config = PaperConfig(seed=11, market="documents", holdings=dict(holdings))
        account = f"contract-{self.exchange_id}/{len(self._opened)}"
        paper = open_paper_exchange(config, self.clock, account=account)
        venue = open_venue(self.exchange_id, paper, self.clock)
        client = venue.install(make_client(self.exchange_id, credentials(self.exchange_id)))
        # ccxt's throttle sleeps on the wall clock (Kraken: seconds per private call); the
        # suite checks behaviour, and the adapter's own tests check make_client enables it
        client.enableRateLimit = False
        exchange = CcxtExchange(client, self.clock, exchange_id=self.exchange_id, read_only=False)
        self.venues.append(venue)
        self._opened.append(exchange)
        return exchange

    async def close(self) -> None:
        for exchange in self._opened:
            await exchange.aclose()
