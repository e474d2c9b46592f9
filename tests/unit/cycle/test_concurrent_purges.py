"""Symbols of one account purged side by side (issue 28), within maxConcurrentSymbols, on a
clock whose waits overlap; every in-flight record is still written before its order, one
write at a time."""

from __future__ import annotations

import pytest

from cleanslate.api.account import TradingAccountStatus
from cleanslate.clock import SimulatedClock
from cleanslate.operating.kube import StaleRecord

from .harness import Rig, account_spec, policy

STORY = {"USD": "120", "SEI": "36.4", "WLFI": "57.5"}
TIER = {
    "universe": {
        "globalMinQuoteVolumeUsd": 3000000,
        "tiers": [
            {
                "name": "t",
                "symbols": ["SEI-USD", "WLFI-USD"],
                "minQuoteVolumeUsd": 2000000,
                "maxSpreadBps": 100,
                "minDepthUsd": 5000,
            }
        ],
    }
}


class OverlappingClock(SimulatedClock):
    """Simulated time that claims overlapping waits (as the wall clock has)."""

    concurrent_waits = True


def started(rig: Rig) -> list[str]:
    """Symbols in the order of their first order."""
    seen: list[str] = []
    for request in rig.exchange.requests:
        if request.product_id not in seen:
            seen.append(request.product_id)
    return seen


def interleaved(rig: Rig) -> bool:
    """Whether another symbol's order came between two orders of one symbol."""
    products = [r.product_id for r in rig.exchange.requests]
    for i, p in enumerate(products):
        later = products[i + 1 :]
        if p in later and any(q != p for q in later[: later.index(p)]):
            return True
    return False


class SerialRig(Rig):
    """Fails when two status writes overlap."""

    writing = False

    async def persist(self, status: TradingAccountStatus) -> None:
        assert not self.writing, "two status writes at once"
        self.writing = True
        await self.clock.sleep(0.01)
        self.persisted.append(status)
        self.writing = False


async def test_symbols_are_purged_side_by_side_on_a_clock_whose_waits_overlap() -> None:
    rig = SerialRig(account_spec(STORY), policy(**TIER), clock=OverlappingClock())
    await rig.cycle()
    assert len(started(rig)) == 2 and interleaved(rig)
    assert rig.status.cleanup_metrics.purges_succeeded == 2
    for request in rig.exchange.requests:  # each order's record was stored before it
        assert any(
            request.product_id in s.in_flight and s.in_flight[request.product_id].slice >= 1
            for s in rig.persisted
        )


async def test_the_bound_and_a_simulated_clock_keep_one_symbol_at_a_time() -> None:
    one = SerialRig(
        account_spec(STORY),
        policy(**TIER, execution={"maxConcurrentSymbols": 1}),
        clock=OverlappingClock(),
    )
    await one.cycle()
    assert not interleaved(one) and one.status.cleanup_metrics.purges_succeeded == 2
    plain = SerialRig(account_spec(STORY), policy(**TIER))
    await plain.cycle()
    assert not interleaved(plain) and plain.status.cleanup_metrics.purges_succeeded == 2


class StaleRig(Rig):
    """Another replica took the account over: every write of this one is refused."""

    async def persist(self, status: TradingAccountStatus) -> None:
        raise StaleRecord("testing value /status failed")


async def test_a_stale_record_during_side_by_side_purges_is_a_stale_record() -> None:
    """The shell stands a replica down on StaleRecord; wrapped in the task group's error it
    would read as an unexpected bug, and the replica would write a CycleFailed status."""
    rig = StaleRig(account_spec(STORY), policy(**TIER), clock=OverlappingClock())
    with pytest.raises(StaleRecord):
        await rig.cycle()
    assert rig.exchange.requests == []
