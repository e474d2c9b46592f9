"""Crash safety over the ccxt adapter: a purge killed mid-flight resumes without a second
order and never sells more than held, on ccxt's real binance and kraken classes (and
coinbase's) talking to paper-backed fakes.

The hardest case is a placement whose answer is lost AFTER the venue accepted it (ccxt raises
RequestTimeout): the order exists, the operator does not know it. Whether the same process
carries on or dies right there, the next step must find that order by its client id instead
of placing another one.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import pytest
from cycle.harness import ProcessDied, account_spec, policy

from cleanslate.api.account import TradingAccountSpec
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest
from cleanslate.exchange.errors import ExchangeTimeout
from fakes.ccxt_venues import LIVE_DIALECTS, FakeVenue, Request

from .rig import CcxtRig, venue_for

D = Decimal
HOLDINGS = {"USD": "150", "WLFI": "200"}  # ~$28 of WLFI: several TWAP slices
VENUES = [
    *LIVE_DIALECTS,
    *(f"{v}-usdt" for v in ("binance", "okx", "bybit", "gate", "bitget")),
    *(f"{v}-eur" for v in ("kraken", "bitstamp")),
]
"""Each Live venue selling into USD on the calm market, Binance's own shape (a USDT-settled
account on the ``usdt`` paper market, no USD market at all), OKX's and Bybit's USDT ones,
and Kraken's and Bitstamp's EUR ones (an EUR-settled account on ``eur``)."""


def _case(case: str) -> tuple[str, TradingAccountSpec, str]:
    """(exchange id, account spec, the currency the account sells into) of a case: ``ID``
    sells into USD on ``calm``, ``ID-usdt`` into USDT on ``usdt``, ``ID-eur`` into EUR on
    ``eur`` (the paper market named as the currency)."""
    exchange_id, _, settled = case.partition("-")
    if not settled:
        return exchange_id, account_spec(HOLDINGS, market="calm"), "USD"
    cash = settled.upper()
    holdings = {cash if a == "USD" else a: q for a, q in HOLDINGS.items()}
    spec = account_spec(holdings, market=settled, settlementCurrencies=[cash])
    return exchange_id, spec, cash


def _rig(case: str) -> tuple[CcxtRig, FakeVenue, str]:
    """A rig of ``case`` over a fresh fake venue, the venue, and what the account sells into."""
    exchange_id, spec, cash = _case(case)
    clock = SimulatedClock()
    venue = venue_for(exchange_id, spec, clock)
    return CcxtRig(spec, policy(), clock=clock, venue=venue, exchange_id=exchange_id), venue, cash


def _restarted(first: CcxtRig) -> CcxtRig:
    """The process of ``first`` started again from its last persisted status, 30 s later."""
    restarted = CcxtRig(first.spec, policy(), clock=first.clock, status=first.persisted[-1],
                        venue=first.venue, exchange_id=first.exchange_id)  # fmt: skip
    restarted.clock.advance(30)
    return restarted


def _is_placement(request: Request) -> bool:
    if request.method != "POST":
        return False
    if request.url.startswith("https://api.exchange.coinbase.com/orders"):
        return True
    return (
        request.path.endswith(
            (
                "/api/v3/order",
                "/0/private/AddOrder",
                "/api/v3/brokerage/orders",
                "/api/v5/trade/batch-orders",
                "/v5/order/create",
                "/api/v4/spot/orders",
                "/api/v2/spot/trade/place-order",
            )
        )
        or re.fullmatch(r"/api/v2/(sell|buy)/[a-z0-9]+/", request.path) is not None
    )


async def _ledger(venue: FakeVenue) -> dict[str, Decimal]:
    return {b.asset: b.total for b in await venue.paper.balances()}


def _assert_one_order_per_client_id(venue: FakeVenue) -> None:
    counts = Counter(venue.placed_client_ids())
    assert [cid for cid, n in counts.items() if n > 1] == [], counts


async def _assert_sold_at_most_held(
    venue: FakeVenue, start: dict[str, Decimal], cash: str = "USD"
) -> None:
    end = await _ledger(venue)
    assert D(0) <= end.get("WLFI", D(0)) <= start["WLFI"]
    assert end[cash] >= start[cash]
    sold = start["WLFI"] - end.get("WLFI", D(0))
    filled = sum(
        (o.filled_size for o in await venue.orders() if o.product_id == f"WLFI-{cash}"), D(0)
    )
    assert sold == filled, "the ledger and the orders disagree"


class DiesOnTimeout:
    """Wraps the adapter: the process dies the moment a placement times out."""

    def __init__(self, rig: CcxtRig) -> None:
        self.rig = rig
        self.inner = rig.exchange.inner
        self.died = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def place_order(self, request: OrderRequest) -> object:
        try:
            return await self.inner.place_order(request)
        except ExchangeTimeout:
            self.died = True
            raise ProcessDied from None


@pytest.mark.parametrize("case", VENUES)
@pytest.mark.parametrize("crash_at", [1, 2, 3])
async def test_a_purge_killed_after_a_placement_resumes_without_a_second_order(
    case: str, crash_at: int
) -> None:
    first, venue, cash = _rig(case)
    start = await _ledger(venue)
    first.exchange.crash_after_place = crash_at
    with pytest.raises(ProcessDied):
        await first.cycle()
    flight = first.persisted[-1].in_flight[f"WLFI-{cash}"]

    restarted = _restarted(first)
    await restarted.cycle()

    assert f"resuming attempt {flight.attempt}" in restarted.events.events[0].message
    both = [r.client_order_id for r in first.exchange.requests + restarted.exchange.requests]
    assert [c for c, n in Counter(both).items() if n > 1] == []
    _assert_one_order_per_client_id(venue)
    assert restarted.status.in_flight == {}
    await _assert_sold_at_most_held(venue, start, cash)
    await first.close()
    await restarted.close()


@pytest.mark.parametrize("case", VENUES)
async def test_a_placement_lost_after_the_venue_took_it_is_found_not_placed_again(
    case: str,
) -> None:
    rig, venue, cash = _rig(case)
    start = await _ledger(venue)
    venue.inject("timeout_after", _is_placement)

    await rig.cycle()

    placements = [r for r in venue.requests if _is_placement(r)]
    assert placements, "the purge placed something"
    assert len(venue.placed_client_ids()) >= 1
    _assert_one_order_per_client_id(venue)
    await _assert_sold_at_most_held(venue, start, cash)
    await rig.close()


@pytest.mark.parametrize("case", VENUES)
async def test_a_process_killed_by_a_lost_placement_finds_the_order_after_restart(
    case: str,
) -> None:
    first, venue, cash = _rig(case)
    dying = DiesOnTimeout(first)
    first.exchange.inner = dying  # type: ignore[assignment]
    start = await _ledger(venue)
    venue.inject("timeout_after", _is_placement)
    with pytest.raises(ProcessDied):
        await first.cycle()
    assert dying.died
    accepted = venue.placed_client_ids()
    assert len(accepted) == 1, "the venue took the order whose answer was lost"

    restarted = _restarted(first)
    await restarted.cycle()

    _assert_one_order_per_client_id(venue)
    assert restarted.status.in_flight == {}
    await _assert_sold_at_most_held(venue, start, cash)
    await first.close()
    await restarted.close()


def _is_taker_placement(request: Request) -> bool:
    """An immediate (IOC or market) placement, in each dialect's words."""
    if not _is_placement(request):
        return False
    p = request.params
    body = request.body or ""
    return (
        p.get("timeInForce") == "IOC"
        or p.get("type") == "MARKET"
        or p.get("timeinforce") == "IOC"
        or p.get("time_in_force") == "IOC"
        or p.get("ordertype") == "market"
        or p.get("time_in_force") == "ioc"
        or p.get("ioc_order") == "true"
        or p.get("force") == "IOC"
        or "_ioc" in body
        or re.search(r'"ordType":\s*"(ioc|market)"', body) is not None
        or re.search(r'"orderType":\s*"Market"', body) is not None
    )


@pytest.mark.parametrize("case", VENUES)
async def test_a_lost_answer_to_a_filled_taker_order_does_not_sell_twice(case: str) -> None:
    """The dangerous case for Binance's and Kraken's id semantics: a taker order fills at
    once, so its id is no longer "open" and the venue WOULD accept the same id again as a new
    order. After its answer is lost the order must be found, not re-sent."""
    rig, venue, cash = _rig(case)
    start = await _ledger(venue)
    venue.inject("timeout_after", _is_taker_placement)

    await rig.cycle()

    takers = [r for r in venue.requests if _is_taker_placement(r)]
    assert takers, "the purge crossed the spread at least once"
    assert not venue.faults[0].times, "the taker's answer was lost"
    _assert_one_order_per_client_id(venue)
    await _assert_sold_at_most_held(venue, start, cash)
    await rig.close()
