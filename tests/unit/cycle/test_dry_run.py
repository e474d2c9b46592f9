"""DryRun plans everything and changes nothing on the exchange."""

from __future__ import annotations

from cleanslate.api.account import PlanAction
from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason

from .harness import Rig, account_spec, policy

STALE_BUY = {
    "productId": "ADA-USD",
    "side": "BUY",
    "size": 20,
    "limitPrice": 0.30,
    "ageMinutes": 180,
}
HOLDINGS = {"USD": "120", "SEI": "36.4", "WLFI": "57.5", "BONK": "889587"}


def dirty_rig() -> Rig:
    return Rig(account_spec(HOLDINGS, open_orders=[STALE_BUY]), policy())


async def exchange_state(rig: Rig) -> tuple[object, object]:
    orders = sorted((o.order_id, o.status, o.filled_size) for o in await rig.exchange.open_orders())
    balances = sorted((b.asset, b.total, b.available) for b in await rig.exchange.balances())
    return orders, balances


async def test_dry_run_fills_the_plan_and_places_no_order() -> None:
    rig = dirty_rig()
    before = await exchange_state(rig)
    result = await rig.cycle(CycleOptions(dry_run=True))
    assert rig.exchange.requests == []
    assert await exchange_state(rig) == before
    planned = {p.symbol: p.action for p in rig.status.plan}
    assert planned["WLFI-USD"] is PlanAction.PURGE
    assert planned["BONK-USD"] is PlanAction.PURGE
    assert result.outcomes == {}
    assert rig.persisted == []
    ready = next(c for c in rig.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("True", "DryRun")


async def test_dry_run_does_not_cancel_stale_orders() -> None:
    rig = dirty_rig()
    stale = [o.order_id for o in await rig.exchange.open_orders()]
    assert len(stale) == 1
    await rig.cycle(CycleOptions(dry_run=True))
    assert [o.order_id for o in await rig.exchange.open_orders()] == stale
    assert Reason.STALE_ORDERS_CANCELLED not in rig.events.reasons()
    assert rig.status.cleanup_metrics.stale_orders_cancelled == 0


async def test_live_cycle_cancels_the_stale_order_dry_run_left() -> None:
    rig = dirty_rig()
    await rig.cycle(CycleOptions(dry_run=True))
    await rig.cycle(CycleOptions(dry_run=False, phases=frozenset({1, 2, 4})))
    assert await rig.exchange.open_orders() == []
    assert rig.status.cleanup_metrics.stale_orders_cancelled == 1
    assert rig.exchange.requests == []


async def test_dry_run_never_tracks_failures_or_in_flight_purges() -> None:
    rig = dirty_rig()
    for _ in range(3):
        await rig.cycle(CycleOptions(dry_run=True))
        rig.wait_interval()
    assert rig.status.purge_failures == {}
    assert rig.status.in_flight == {}
    assert rig.status.account_state is not None
    assert rig.status.account_state.value == "Dirty"
