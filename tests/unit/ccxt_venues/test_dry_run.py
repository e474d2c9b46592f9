"""DryRun over the ccxt adapter is read-only: a whole DryRun cycle of a messy account (small
caps to purge, a stale resting order) plans its sales and never reaches an order endpoint.

Every request the fake venue receives is recorded; Kraken's private reads are POSTs too, so
"order endpoint" means the venue's order-writing paths (placement, cancellation, amendment),
whatever the method.
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
from cycle.harness import account_spec, policy

from cleanslate.api.account import PlanAction
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.cycle import CycleOptions
from cleanslate.exchange.ccxt import ReadOnlyRefused, make_client
from fakes.ccxt_venues import DIALECTS, FakeVenue, credentials

from .rig import CcxtRig, venue_for

VENUES = DIALECTS
HOLDINGS = {"USD": "120", "SEI": "36.4", "WLFI": "57.5", "BONK": "889587"}
STALE_SELL = {"productId": "SEI-USD", "side": "SELL", "size": 10, "limitPrice": 0.5,
              "ageMinutes": 180}  # fmt: skip


def _dry_run_rig(exchange_id: str) -> tuple[CcxtRig, FakeVenue]:
    """A DryRun account of HOLDINGS with one stale sell resting, over a read-only adapter."""
    spec = account_spec(HOLDINGS, open_orders=[STALE_SELL], mode="DryRun")
    clock = SimulatedClock()
    venue = venue_for(exchange_id, spec, clock)
    rig = CcxtRig(spec, policy(), clock=clock, venue=venue, exchange_id=exchange_id,
                  read_only=True)  # fmt: skip
    return rig, venue


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_a_dry_run_cycle_sends_no_order_endpoint_request(exchange_id: str) -> None:
    rig, venue = _dry_run_rig(exchange_id)
    before = sorted((b.asset, b.total, b.hold) for b in await venue.paper.balances())

    await rig.cycle(CycleOptions(dry_run=True))

    assert venue.requests, "the cycle read the account"
    assert venue.order_writes() == []
    assert rig.exchange.requests == []
    planned = {p.symbol: p.action for p in rig.status.plan}
    assert {"SEI-USD", "WLFI-USD", "BONK-USD"} <= set(planned), planned
    assert planned["WLFI-USD"] is PlanAction.PURGE
    assert sorted((b.asset, b.total, b.hold) for b in await venue.paper.balances()) == before
    assert len(await venue.paper.open_orders()) == 1, "the stale order was not cancelled"
    await rig.close()


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_a_read_only_adapter_refuses_writes_before_any_request(exchange_id: str) -> None:
    rig, venue = _dry_run_rig(exchange_id)
    adapter = rig.exchange.inner
    stale = await adapter.open_orders()
    assert [o.product_id for o in stale] == ["SEI-USD"]
    seen = len(venue.requests)

    sell = OrderRequest("dry-1", "SEI-USD", Side.SELL, Decimal(10), OrderType.MARKET)
    with pytest.raises(ReadOnlyRefused):
        await adapter.place_order(sell)
    with pytest.raises(ReadOnlyRefused):
        await adapter.cancel_orders([stale[0].order_id])

    assert len(venue.requests) == seen
    assert venue.order_writes() == []
    await rig.close()


async def test_the_upbit_fake_checks_the_jwt_as_upbit_does() -> None:
    """ccxt's upbit signs each private call with an HS256 JWT carrying the query's SHA-512;
    the fake refuses another secret, and a query that is not the one hashed."""
    spec = account_spec(HOLDINGS, mode="DryRun")
    clock = SimulatedClock()
    venue = venue_for("upbit", spec, clock)
    good = venue.install(make_client("upbit", credentials("upbit")))
    assert await good.fetch_balance()
    bad = venue.install(make_client("upbit", {**credentials("upbit"), "secret": "x" * 40}))
    with pytest.raises(ccxt.AuthenticationError):
        await bad.fetch_balance()
    token = good.sign("orders/open", "private", "GET", {"state": "wait"})["headers"]
    # the hash is of state=wait, not state=done (ccxt's upbit maps this name to no subclass)
    with pytest.raises(ccxt.ExchangeError, match="invalid_query_payload"):
        await good.fetch("https://api.upbit.com/v1/orders/open?state=done", "GET", token)
    await good.close()
    await bad.close()
