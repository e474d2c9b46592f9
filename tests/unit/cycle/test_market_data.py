"""Shared public market data (``exchange/marketdata.py``): one request for everyone asking at
once, nothing older than its bound, no failure kept past its request, a bounded cache, and
sharing only between accounts that really see one market."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock, SystemClock
from cleanslate.core.market import Product, Quote
from cleanslate.exchange.errors import (
    AuthenticationFailed,
    InvalidProductId,
    RateLimited,
    TemporaryError,
    Unavailable,
)
from cleanslate.exchange.marketdata import (
    JOIN_WINDOW,
    MarketData,
    SharedMarkets,
    market_identity,
)
from cleanslate.exchange.paper import open_paper_exchange

D = Decimal
T0 = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)


def _quote(product_id: str, bid: str) -> Quote:
    return Quote(product_id, D(bid), D(bid) + D("0.01"), D(5_000_000), D(20_000), T0)


class Venue:
    """The market-data half of the port, answering when the test lets it."""

    def __init__(self, identity: str | None = "venue@https://example") -> None:
        self.market_identity = identity
        self.quotes: list[str] = []
        self.listings = 0
        self.bid = "1.00"
        self.gate: asyncio.Event | None = None
        self.fail_with: Exception | None = None

    async def quote(self, product_id: str) -> Quote:
        self.quotes.append(product_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return _quote(product_id, self.bid)

    async def products(self) -> Sequence[Product]:
        self.listings += 1
        if self.gate is not None:
            await self.gate.wait()
        return [Product("SEI-USD", "SEI", "USD", D("0.1"), D("0.0001"), D("0.1"), D(1))]


def _shared(seconds: float = 30) -> MarketData:
    return MarketData("venue@https://example", quote_max_age=timedelta(seconds=seconds))


async def test_accounts_asking_at_once_cause_one_request_and_share_its_answer() -> None:
    market, venue = _shared(), Venue()
    venue.gate = asyncio.Event()
    askers = [asyncio.create_task(market.quote(venue, "SEI-USD", T0)) for _ in range(50)]
    await asyncio.sleep(0)
    venue.gate.set()

    quotes = await asyncio.gather(*askers)

    assert venue.quotes == ["SEI-USD"]
    assert {q.bid for q in quotes} == {D("1.00")}
    assert (market.stats.fetches, market.stats.joined) == (1, 49)


async def test_the_product_list_is_fetched_once_for_accounts_asking_at_once() -> None:
    market, venue = _shared(), Venue()
    venue.gate = asyncio.Event()
    askers = [asyncio.create_task(market.products(venue, T0)) for _ in range(20)]
    await asyncio.sleep(0)
    venue.gate.set()

    lists = await asyncio.gather(*askers)

    assert venue.listings == 1
    assert all(listed is lists[0] for listed in lists), "one map, shared by every account"


async def test_a_quote_is_served_only_while_younger_than_its_bound() -> None:
    clock, market, venue = SimulatedClock(T0), _shared(30), Venue()
    await market.quote(venue, "SEI-USD", clock.now())
    venue.bid = "2.00"

    clock.advance(29.999)
    cached = await market.quote(venue, "SEI-USD", clock.now())
    clock.advance(0.001)  # now exactly 30 s after the request was sent
    fresh = await market.quote(venue, "SEI-USD", clock.now())

    assert (cached.bid, fresh.bid) == (D("1.00"), D("2.00"))
    assert venue.quotes == ["SEI-USD", "SEI-USD"]


async def test_age_counts_from_when_the_request_was_sent_not_when_it_was_answered() -> None:
    clock, market, venue = SimulatedClock(T0), _shared(30), Venue()
    venue.gate = asyncio.Event()
    asking = asyncio.create_task(market.quote(venue, "SEI-USD", clock.now()))
    await asyncio.sleep(0)
    clock.advance(20)  # a slow answer
    venue.gate.set()
    await asking
    venue.gate = None

    clock.advance(10)  # 30 s after the request, 10 s after the answer
    await market.quote(venue, "SEI-USD", clock.now())

    assert len(venue.quotes) == 2


async def _all_fail(market: MarketData, venue: Venue, error: Exception) -> list[Any]:
    """Three accounts ask at once; the one request fails with ``error``."""
    venue.gate = asyncio.Event()
    venue.fail_with = error
    askers = [asyncio.create_task(market.quote(venue, "SEI-USD", T0)) for _ in range(3)]
    await asyncio.sleep(0)
    venue.gate.set()
    outcomes = await asyncio.gather(*askers, return_exceptions=True)
    venue.gate, venue.fail_with = None, None
    return outcomes


async def test_a_failure_is_shared_by_its_waiters_and_never_served_again() -> None:
    market, venue = _shared(), Venue()
    outcomes = await _all_fail(market, venue, RateLimited("429 for one account", retry_after=60))

    after = await market.quote(venue, "SEI-USD", T0)  # same instant: the 429 is not kept

    assert all(isinstance(o, TemporaryError) for o in outcomes)
    assert after.bid == D("1.00")
    assert venue.quotes == ["SEI-USD", "SEI-USD"]
    assert market.stats.failures == 1


async def test_the_senders_own_refusal_is_temporary_for_the_accounts_that_waited() -> None:
    """One account's revoked key must not count toward every account's freeze of SEI."""
    market, venue = _shared(), Venue()

    sender, *waiters = await _all_fail(market, venue, AuthenticationFailed("key revoked"))

    assert isinstance(sender, AuthenticationFailed)
    assert all(isinstance(w, Unavailable) and "asked again" in str(w) for w in waiters)


async def test_an_unknown_product_is_a_fact_every_waiter_hears_as_it_is() -> None:
    market, venue = _shared(), Venue()

    outcomes = await _all_fail(market, venue, InvalidProductId("unknown product SEI-USD"))

    assert all(isinstance(o, InvalidProductId) for o in outcomes)


async def test_the_account_that_started_a_request_can_be_cancelled_without_its_waiters() -> None:
    market, venue = _shared(), Venue()
    venue.gate = asyncio.Event()
    leader = asyncio.create_task(market.quote(venue, "SEI-USD", T0))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(market.quote(venue, "SEI-USD", T0))
    await asyncio.sleep(0)

    leader.cancel()
    await asyncio.sleep(0)
    venue.gate.set()

    assert (await waiter).bid == D("1.00")
    assert leader.cancelled() and venue.quotes == ["SEI-USD"]


async def test_a_request_stuck_past_its_join_window_is_not_joined_nor_lets_its_answer_win() -> None:
    clock, market, venue = SimulatedClock(T0), _shared(30), Venue()
    stuck_gate = venue.gate = asyncio.Event()
    stuck = asyncio.create_task(market.quote(venue, "SEI-USD", clock.now()))
    while not venue.quotes:  # until its request is out and waiting
        await asyncio.sleep(0)
    clock.advance(JOIN_WINDOW.total_seconds())  # the sender is still waiting out a 429
    venue.gate, venue.bid = None, "2.00"

    later = await market.quote(venue, "SEI-USD", clock.now())
    venue.bid = "1.50"
    stuck_gate.set()
    late = await stuck

    assert (later.bid, late.bid) == (D("2.00"), D("1.50"))
    assert len(venue.quotes) == 2, "the later caller sent its own request"
    cached = await market.quote(venue, "SEI-USD", clock.now())
    assert cached.bid == D("2.00") and len(venue.quotes) == 2, "the younger quote stays"


async def test_the_cache_keeps_at_most_its_bound_least_recently_used_first() -> None:
    market = MarketData("venue@x", quote_max_age=timedelta(seconds=30), max_quotes=3)
    venue = Venue()
    for product in ("A-USD", "B-USD", "C-USD"):
        await market.quote(venue, product, T0)
    await market.quote(venue, "A-USD", T0)  # A is used again: B is now the oldest
    await market.quote(venue, "D-USD", T0)

    assert market.cached_quotes == 3
    venue.quotes.clear()
    for product in ("A-USD", "C-USD", "D-USD", "B-USD"):
        await market.quote(venue, product, T0)
    assert venue.quotes == ["B-USD"], "only the evicted one is asked again"


async def test_an_unshared_market_caches_no_quote() -> None:
    market, venue = MarketData(), Venue()
    await market.quote(venue, "SEI-USD", T0)
    await market.quote(venue, "SEI-USD", T0)

    assert venue.quotes == ["SEI-USD", "SEI-USD"] and market.cached_quotes == 0


def test_accounts_on_one_market_share_one_instance_and_other_markets_do_not() -> None:
    shared, clock = SharedMarkets(timedelta(seconds=30)), SystemClock()
    one, two = (
        Venue("coinbase@https://api.coinbase.com"),
        Venue("coinbase@https://api.coinbase.com"),
    )
    sandbox = Venue("coinbase@https://sandbox.example")

    assert shared.for_exchange(one, clock) is shared.for_exchange(two, SystemClock())
    assert shared.for_exchange(one, clock) is not shared.for_exchange(sandbox, clock)
    assert len(shared.markets()) == 2


def test_simulated_clocks_never_share_a_market_with_each_other() -> None:
    shared, venue = SharedMarkets(timedelta(seconds=30)), Venue()

    assert shared.for_exchange(venue, SimulatedClock()) is not shared.for_exchange(
        venue, SimulatedClock()
    )


def test_sharing_off_gives_every_account_its_own_market() -> None:
    shared, venue, clock = SharedMarkets(timedelta(0)), Venue(), SystemClock()

    first, second = shared.for_exchange(venue, clock), shared.for_exchange(venue, clock)

    assert first is not second and first.quote_max_age == timedelta(0)


def test_paper_accounts_name_no_market_and_share_nothing() -> None:
    shared, clock = SharedMarkets(timedelta(seconds=30)), SimulatedClock()
    accounts = [open_paper_exchange(PaperConfig(), clock, account=f"ns/acct-{i}") for i in range(2)]

    markets = [shared.for_exchange(a, clock) for a in accounts]

    assert [market_identity(a) for a in accounts] == [None, None]
    assert markets[0] is not markets[1] and shared.markets() == []
    assert markets[0].quote_max_age == timedelta(0), "a paper quote is always the venue's own"


def test_a_negative_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        SharedMarkets(timedelta(seconds=-1))
