"""Accounts on one ccxt venue share its public data (``exchange.marketdata``) like Coinbase's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.marketdata import SharedMarkets
from cleanslate.exchange.paper import open_paper_exchange
from fakes.ccxt_venues import credentials, open_venue


async def test_a_second_account_on_a_ccxt_venue_reads_a_warm_quote_without_a_request() -> None:
    clock = SimulatedClock()
    holdings = {"USD": Decimal("100"), "SEI": Decimal("50")}
    paper = open_paper_exchange(
        PaperConfig(seed=11, market="documents", holdings=holdings), clock, account="shared/0"
    )
    venue = open_venue("binance", paper, clock)
    client = venue.install(make_client("binance", credentials("binance")))
    client.enableRateLimit = False
    first = CcxtExchange(client, clock, exchange_id="binance", read_only=True)
    second = CcxtExchange(client, clock, exchange_id="binance", read_only=True)
    markets = SharedMarkets(timedelta(seconds=30))
    market = markets.for_exchange(first, clock)
    assert markets.for_exchange(second, clock) is market

    quote = await market.quote(first, "SEI-USD", clock.now())
    sent = len(venue.requests)
    assert sent > 0
    assert await market.quote(second, "SEI-USD", clock.now()) == quote
    assert len(venue.requests) == sent

    clock.advance(31)
    await market.quote(second, "SEI-USD", clock.now())
    assert len(venue.requests) > sent
    await first.aclose()
    await second.aclose()


async def test_a_sandbox_is_another_market() -> None:
    live = make_client("binance", credentials("binance"))
    sandbox = make_client("binance", credentials("binance"), sandbox=True)
    clock = SimulatedClock()
    a = CcxtExchange(live, clock, exchange_id="binance", read_only=True)
    b = CcxtExchange(sandbox, clock, exchange_id="binance", read_only=True)
    assert a.market_identity.startswith("ccxt:binance@")
    assert a.market_identity != b.market_identity
    await a.aclose()
    await b.aclose()
