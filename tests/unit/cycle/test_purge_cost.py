"""Every purge's cost on record: the shortfall against the decision-time mid, its fill rate and
duration, in the success or failure event, in ``status.lastPurges`` and in the histograms."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from cleanslate.api.account import LAST_PURGES, LastPurge
from cleanslate.events import Reason
from cleanslate.metrics import Metrics

from .harness import ProcessDied, Rig, account_spec, policy

D = Decimal
STORY = {"USD": "120", "USDC": "60", "SEI": "36.4", "WLFI": "57.5", "BONK": "889587"}


async def test_a_successful_purge_states_its_cost_in_the_event_and_the_status() -> None:
    rig = Rig(account_spec(STORY), policy())
    result = await rig.cycle()
    (wlfi,) = [e.message for e in rig.events.events if e.reason is Reason.PURGE_SUCCEEDED]
    last = rig.status.last_purges["WLFI-USD"]
    assert last.result == "Succeeded" and last.shortfall_bps is not None
    assert wlfi.startswith("WLFI-USD: sold 57.5")
    assert f"cost {last.shortfall_bps:.0f} bps vs decision mid {last.decision_mid}" in wlfi
    assert wlfi.endswith("filled 100% of 57.5 in 45s")
    assert last.fill_rate == 1 and last.unsold_quantity == 0
    outcome = result.outcomes["WLFI-USD"]
    assert last.duration_seconds == round(outcome.duration_seconds, 3) > 0
    assert last.fee_bps is not None and last.fee_bps > 0, "fees are in"


async def test_every_sale_of_a_cycle_is_measured_from_the_mid_the_plan_saw() -> None:
    rig = Rig(account_spec(STORY), policy())
    result = await rig.cycle()
    # WLFI is sold after BONK's attempt: the market it started in is not the one it was decided in,
    # and the wait is charged, as the benchmark charges it.
    wlfi = rig.status.last_purges["WLFI-USD"]
    assert wlfi.decision_mid is not None
    assert wlfi.decision_mid != result.outcomes["WLFI-USD"].arrival_mid
    recorded = [s.in_flight["WLFI-USD"] for s in rig.persisted if "WLFI-USD" in s.in_flight]
    assert recorded and {r.decision_mid for r in recorded} == {wlfi.decision_mid}


async def test_a_failed_purge_states_its_cost_and_what_it_left_unsold() -> None:
    rig = Rig(account_spec(STORY), policy())
    await rig.cycle()
    (failed,) = [e.message for e in rig.events.events if e.reason is Reason.PURGE_FAILED]
    last = rig.status.last_purges["BONK-USD"]
    assert last.result == "Failed"
    assert last.unsold_quantity == D(889587) and last.fill_rate == 0
    assert failed.endswith("889587 unsold (charged at the last bid)")
    assert "bps vs decision mid" in failed


async def test_purge_costs_are_observed_per_namespace_and_result() -> None:
    rig = Rig(account_spec(STORY), policy())
    metrics = Metrics(CollectorRegistry())
    await rig.cycle(metrics=metrics)
    sample = metrics.registry.get_sample_value
    ok, failed = {"namespace": "ns", "result": "succeeded"}, {"namespace": "ns", "result": "failed"}
    # The first cycle sells WLFI and fails BONK (SEI waits for the latency budget).
    assert sample("cleanslate_purge_shortfall_bps_count", ok) == 1
    assert sample("cleanslate_purge_shortfall_bps_count", failed) == 1
    assert sample("cleanslate_purge_fill_ratio_sum", ok) == 1
    assert sample("cleanslate_purge_fill_ratio_sum", failed) == 0
    assert sample("cleanslate_purge_duration_seconds_sum", ok) == 45
    shortfall = rig.status.last_purges["WLFI-USD"].shortfall_bps
    assert sample("cleanslate_purge_shortfall_bps_sum", ok) == pytest.approx(
        float(shortfall or 0), abs=0.01
    )


async def test_last_purges_keeps_the_most_recent_symbols_only() -> None:
    rig = Rig(account_spec({"USD": "120", "SEI": "36.4"}), policy())
    old = rig.clock.now() - timedelta(days=1)
    entries = {
        f"X{i}-USD": LastPurge(
            finished_at=old + timedelta(minutes=i),
            result="Succeeded",
            target_quantity=D(1),
            filled_quantity=D(1),
            unsold_quantity=D(0),
            duration_seconds=D(1),
        )
        for i in range(LAST_PURGES)
    }
    rig.status = rig.status.model_copy(update={"last_purges": entries})
    await rig.cycle()
    kept = rig.status.last_purges
    assert len(kept) == LAST_PURGES
    assert "SEI-USD" in kept and "X0-USD" not in kept and "X1-USD" in kept


async def test_a_resumed_purge_is_measured_from_the_mid_it_was_decided_on(tmp_path: Path) -> None:
    first = Rig(account_spec({"USD": "150", "WLFI": "200"}, market="calm"), policy())
    first.state_dir = tmp_path
    first.exchange = type(first.exchange)(first.open(), crash_after_place=2)
    with pytest.raises(ProcessDied):
        await first.cycle()
    flight = first.persisted[-1].in_flight["WLFI-USD"]
    assert flight.decision_mid is not None
    restarted = Rig(
        first.spec, first.policy, clock=first.clock, state_dir=tmp_path, status=first.persisted[-1]
    )
    result = await restarted.cycle()
    last = restarted.status.last_purges["WLFI-USD"]
    assert last.decision_mid == flight.decision_mid
    assert last.decision_mid != result.outcomes["WLFI-USD"].arrival_mid


async def test_a_retried_purge_is_measured_from_the_first_decision_of_its_failures() -> None:
    bonk = {"USD": "120", "BONK": "889587"}  # the documents' BONK: every purge fails
    rig = Rig(account_spec(bonk), policy())
    await rig.cycle()
    first = rig.status.purge_failures["BONK-USD"]
    assert first.decision_mid is not None and first.decided_at is not None
    rig.wait_interval()
    await rig.cycle()
    second = rig.status.purge_failures["BONK-USD"]
    assert second.failure_count == 2
    assert (second.decision_mid, second.decided_at) == (first.decision_mid, first.decided_at)
    assert rig.clock.now() > first.decided_at  # the wait between cycles is in the measure
