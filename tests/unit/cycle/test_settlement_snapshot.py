"""Valuing a snapshot with settlement currencies asks the venue for each holding's own market
once and for one market per non-par quote currency, never more: a [USD] account asks
exactly what it asked before settlement currencies existed."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Quote
from cleanslate.cycle import snapshotting
from cleanslate.events import EventList
from cleanslate.exchange.marketdata import MarketData
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange
from cycle.harness import account_spec, policy


class Counting:
    """The paper exchange, counting the quotes asked of it."""

    def __init__(self, inner: PaperExchange) -> None:
        self.inner = inner
        self.asked: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def quote(self, product_id: str) -> Quote:
        self.asked[product_id] += 1
        return await self.inner.quote(product_id)


async def _gather(holdings: dict[str, str], market: str, settlement: list[str]) -> Any:
    spec = account_spec(holdings, market=market, settlementCurrencies=settlement)
    clock = SimulatedClock()
    config = spec.exchange.paper or PaperConfig()
    exchange = Counting(open_paper_exchange(config, clock, account="ns/a"))
    balances = await exchange.balances()
    gathered = await snapshotting.gather(
        exchange,  # type: ignore[arg-type]
        clock,
        policy(),
        balances,
        {},
        MarketData(),
        EventList(),
        spec.settlement_currencies,
    )
    return gathered.snapshot, exchange.asked


async def test_a_usd_account_asks_each_holding_once_and_nothing_else() -> None:
    snapshot, asked = await _gather({"USD": "100", "USDC": "5", "SEI": "40"}, "calm", ["USD"])
    assert asked == Counter({"SEI-USD": 1})
    assert snapshot.holding("USDC").price == 1 and snapshot.holding("USD").price == 1


async def test_a_usdt_account_asks_each_market_once_and_usdc_usdt_for_usdt() -> None:
    holdings = {"USDT": "100", "USDC": "5", "SEI": "40", "WLFI": "50"}
    snapshot, asked = await _gather(holdings, "usdt", ["USDT"])
    assert asked == Counter({"SEI-USDT": 1, "WLFI-USDT": 1, "USDC-USDT": 1})
    usdt = snapshot.holding("USDT")
    sei = snapshot.holding("SEI")
    assert usdt.price is not None and Decimal("0.99") < usdt.price < 1
    assert sei.product_id == "SEI-USDT" and sei.quote is not None
    assert sei.price == sei.quote.bid * usdt.price


async def test_a_quote_currency_the_venue_cannot_price_leaves_its_holdings_unpriced() -> None:
    """USDT with USDC not at par: no route prices USDT in USD on a USDT-only venue, so SEI
    is held unpriced (never valued or sold on a guess), and no freeze is counted."""
    spec = account_spec({"USDT": "100", "SEI": "40"}, market="usdt", settlementCurrencies=["USDT"])
    clock = SimulatedClock()
    config = spec.exchange.paper or PaperConfig()
    exchange = open_paper_exchange(config, clock, account="ns/a")
    gathered = await snapshotting.gather(
        exchange,
        clock,
        policy(usdParCurrencies=[]),
        await exchange.balances(),
        {},
        MarketData(),
        EventList(),
        spec.settlement_currencies,
    )
    sei = gathered.snapshot.holding("SEI")
    assert sei is not None and sei.price is None and "USDT" in (sei.price_error or "")
    assert gathered.frozen == {} and "SEI-USDT" in gathered.unpriced
