"""The Coinbase adapter in the contract suite, against the fake Coinbase of its unit tests.

Each ``open`` starts a fresh fake venue (documented v3 response shapes, JWT checked on every
request) holding exactly the given balances, with SEI-USD quoted several ticks wide, and
builds the real ``CoinbaseExchange`` on an ``httpx.MockTransport`` over it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal

from cleanslate.clock import SimulatedClock
from cleanslate.exchange.coinbase import CoinbaseExchange, Credentials, make_client
from cleanslate.exchange.port import Exchange
from unit.coinbase import fixtures as fx
from unit.coinbase.fake_venue import FakeCoinbase

BASE_URL = "https://api.coinbase.com"


class CoinbaseHarness:
    """Coinbase Advanced Trade, trading SEI-USD (tick 0.0001, spread 0.0004)."""

    product_id = "SEI-USD"
    base = "SEI"

    def __init__(self) -> None:
        self.clock = SimulatedClock()
        self._credentials = Credentials(fx.KEY_NAME, fx.new_private_key_pem())
        self._opened: list[CoinbaseExchange] = []

    def open(self, holdings: Mapping[str, Decimal]) -> Exchange:
        venue = FakeCoinbase(self._credentials.public_key_pem(), self.clock)
        for asset, quantity in holdings.items():
            venue.add_account(asset, str(quantity))
        venue.add_product(
            fx.product("SEI-USD", "0.1563", base_increment="0.1", base_min_size="0.1"),
            bids=[("0.1561", "5000"), ("0.1559", "8000"), ("0.1550", "20000")],
            asks=[("0.1565", "4000"), ("0.1567", "9000"), ("0.1580", "20000")],
        )
        client = make_client(BASE_URL, transport=venue.transport())
        exchange = CoinbaseExchange(
            client,
            self._credentials,
            self.clock,
            read_only=False,
            base_url=BASE_URL,
            rng=random.Random(len(self._opened)),
        )
        self._opened.append(exchange)
        return exchange

    async def close(self) -> None:
        for exchange in self._opened:
            await exchange.aclose()
