"""A cycle told to hold its orders (the venue's clock is beyond the platform's bound, issue 27
item 8) places nothing, still cancels stale orders, and leaves a purge in flight to resume
when the clocks agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleanslate.cycle import CycleOptions

from .harness import ProcessDied, Rig, account_spec, policy

HOLD = CycleOptions(dry_run=False, hold_orders=True)
STALE_BUY = {"productId": "ADA-USD", "side": "BUY", "size": 20, "limitPrice": 0.30,
             "ageMinutes": 180}  # fmt: skip


async def test_a_held_cycle_places_no_order_but_cancels_the_stale_one() -> None:
    rig = Rig(account_spec({"USD": "120", "SEI": "36.4"}, open_orders=[STALE_BUY]), policy())

    await rig.cycle(HOLD)

    assert rig.exchange.requests == [] and rig.persisted == []
    assert await rig.exchange.open_orders() == []
    assert rig.status.cleanup_metrics.stale_orders_cancelled == 1
    assert rig.status.in_flight == {}


async def test_a_purge_in_flight_waits_under_a_hold_and_resumes_after_it(tmp_path: Path) -> None:
    holdings = {"USD": "150", "WLFI": "200"}
    first = Rig(account_spec(holdings, market="calm"), policy(), state_dir=tmp_path)
    first.exchange.crash_after_place = 1
    with pytest.raises(ProcessDied):
        await first.cycle()
    persisted = first.persisted[-1]
    restarted = Rig(
        account_spec(holdings, market="calm"),
        policy(),
        clock=first.clock,
        state_dir=tmp_path,
        status=persisted,
    )

    await restarted.cycle(HOLD)

    assert restarted.exchange.requests == []
    assert set(restarted.status.in_flight) == {"WLFI-USD"}  # kept, not stopped or failed
    assert restarted.status.purge_failures == {}

    await restarted.cycle(CycleOptions(dry_run=False))

    assert restarted.exchange.requests, "the purge did not resume once the hold was lifted"
    assert restarted.status.purge_failures == {}
