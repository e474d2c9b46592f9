"""Every purge's cost on record: the shortfall ``core.shortfall`` computes, booked in
``status.lastPurges`` (the last purge of each symbol, a bounded map) and in the purge cost
histograms. The event text is the caller's (``cycle.exiting``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from cleanslate.api.account import LAST_PURGES, LastPurge, TradingAccountStatus
from cleanslate.core.shortfall import PurgeCost, purge_cost
from cleanslate.core.twap import TwapOutcome
from cleanslate.cycle.context import CycleInputs

Result = Literal["Succeeded", "Failed"]


def cost_of(outcome: TwapOutcome, decision_mid: Decimal | None) -> PurgeCost:
    """The purge's cost against the mid it was decided on; the executor's starting mid stands
    in only when the decision's is unknown (a record from before it was kept)."""
    return purge_cost(
        decision_mid=decision_mid if decision_mid is not None else outcome.arrival_mid,
        target_quantity=outcome.target_quantity,
        filled_quantity=outcome.filled_quantity,
        proceeds=outcome.proceeds,
        fees=outcome.fees,
        last_bid=outcome.last_bid,
        duration_seconds=outcome.duration_seconds,
    )


def book(
    inputs: CycleInputs, status: TradingAccountStatus, symbol: str, result: Result, cost: PurgeCost
) -> TradingAccountStatus:
    """Record ``cost`` as ``symbol``'s last purge and observe it; the map keeps the
    ``LAST_PURGES`` most recently finished symbols, so it never grows with the account."""
    entry = LastPurge(
        finished_at=inputs.clock.now(),
        result=result,
        shortfall_bps=_bps(cost.shortfall_bps),
        fee_bps=_bps(cost.fee_bps),
        decision_mid=cost.decision_mid,
        target_quantity=cost.target_quantity,
        filled_quantity=cost.filled_quantity,
        unsold_quantity=cost.unsold_quantity,
        fill_rate=None if cost.fill_rate is None else min(Decimal(1), cost.fill_rate),
        duration_seconds=round(cost.duration_seconds, 3),
    )
    kept = {k: v for k, v in status.last_purges.items() if k != symbol}
    newest = sorted(kept.items(), key=lambda kv: kv[1].finished_at)[-(LAST_PURGES - 1) :]
    _observe(inputs, result, cost)
    return status.model_copy(update={"last_purges": {**dict(newest), symbol: entry}})


def _bps(value: Decimal | None) -> Decimal | None:
    return None if value is None else round(value, 2)


def _observe(inputs: CycleInputs, result: Result, cost: PurgeCost) -> None:
    if inputs.metrics is None:
        return
    namespace = inputs.account.partition("/")[0]
    labels = (namespace, result.lower())
    if cost.shortfall_bps is not None:
        inputs.metrics.purge_shortfall.labels(*labels).observe(float(cost.shortfall_bps))
    if cost.fill_rate is not None:
        inputs.metrics.purge_fill_ratio.labels(*labels).observe(float(cost.fill_rate))
    inputs.metrics.purge_duration.labels(*labels).observe(float(cost.duration_seconds))
