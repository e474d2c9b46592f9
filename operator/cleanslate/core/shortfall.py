"""What a purge cost against the market: implementation shortfall in bps.

The number a user compares with a market sell, defined once, here, for the live purge and for
``benchmarks/twap_vs_market.py`` alike, so the two agree:

    decision value = target quantity x the mid when the sale was decided
    realised       = proceeds - fees + unsold quantity x last bid x (1 - unsold fee)
    shortfall bps  = (decision value - realised) / decision value x 10,000

Fees are in; what was not sold is charged at the last bid less a fee (what finishing it costs
at least), and stated beside the number, since a cheap purge that sold half is no bargain.
Positive is a cost; negative means the market moved for the seller. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cleanslate.core.market import BPS

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PurgeCost:
    """One purge's cost on record: for the event, the status and the histogram."""

    decision_mid: Decimal | None
    """None when no mid was known at the decision: then there is no shortfall, never a guess."""
    target_quantity: Decimal
    filled_quantity: Decimal
    unsold_quantity: Decimal
    shortfall_bps: Decimal | None
    fee_bps: Decimal | None
    """The fee part of the shortfall (fees paid plus the unsold quantity's fee)."""
    fill_rate: Decimal | None
    """Filled over target, 0 to 1; None for a zero target."""
    duration_seconds: Decimal


def shortfall_bps(
    decision_value: Decimal,
    proceeds: Decimal,
    fees: Decimal,
    unsold_at_bid: Decimal,
    unsold_fee_bps: Decimal,
) -> tuple[Decimal, Decimal] | None:
    """(shortfall, its fee part) in bps of ``decision_value``; None when that is not positive
    (nothing to measure against)."""
    if decision_value <= 0:
        return None
    unsold_fee = unsold_at_bid * unsold_fee_bps / BPS
    realised = proceeds - fees + unsold_at_bid - unsold_fee
    cost = (decision_value - realised) / decision_value * BPS
    return cost, (fees + unsold_fee) / decision_value * BPS


def purge_cost(
    *,
    decision_mid: Decimal | None,
    target_quantity: Decimal,
    filled_quantity: Decimal,
    proceeds: Decimal,
    fees: Decimal,
    last_bid: Decimal | None,
    duration_seconds: Decimal,
) -> PurgeCost:
    """The cost of one finished purge. A live venue does not say what finishing the unsold
    quantity would cost, so it is charged the purge's own fee rate (fees over proceeds); a
    purge that sold nothing observed no rate and charges none. Without a last bid the unsold
    quantity is valued at nothing: a purge that cannot be priced looks costly, never cheap."""
    unsold = max(ZERO, target_quantity - filled_quantity)
    fill_rate = filled_quantity / target_quantity if target_quantity > 0 else None
    measured = None
    if decision_mid is not None and decision_mid > 0:
        fee_rate = fees / proceeds * BPS if proceeds > 0 else ZERO
        measured = shortfall_bps(
            target_quantity * decision_mid,
            proceeds,
            fees,
            unsold * (last_bid or ZERO),
            fee_rate,
        )
    return PurgeCost(
        decision_mid=decision_mid if measured is not None else None,
        target_quantity=target_quantity,
        filled_quantity=filled_quantity,
        unsold_quantity=unsold,
        shortfall_bps=measured[0] if measured else None,
        fee_bps=measured[1] if measured else None,
        fill_rate=fill_rate,
        duration_seconds=duration_seconds,
    )


def describe(cost: PurgeCost) -> str:
    """One clause for an event: ``cost 42 bps vs decision mid 0.153 (fees 60 bps), filled
    100% of 36.4 in 4m12s``; the unsold quantity is named when there is one."""
    if cost.shortfall_bps is None:
        head = "cost n/a (no decision-time mid)"
    else:
        head = (
            f"cost {cost.shortfall_bps:.0f} bps vs decision mid {cost.decision_mid} "
            f"(fees in: {cost.fee_bps:.0f} bps)"
        )
    rate = "n/a" if cost.fill_rate is None else f"{cost.fill_rate * 100:.0f}%"
    text = f"{head}, filled {rate} of {cost.target_quantity} in {_duration(cost)}"
    if cost.unsold_quantity > 0:
        text += f", {cost.unsold_quantity} unsold (charged at the last bid)"
    return text


def _duration(cost: PurgeCost) -> str:
    seconds = int(cost.duration_seconds)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
