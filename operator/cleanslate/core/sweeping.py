"""The dust sweep (``policy.dust.sweep: VenueConversion``): which crumbs a venue's own
conversion may take this cycle. Pure: the venue's target and cooldown, the last sweep and
the time are passed in; the shell converts.

A crumb is swept only when every one of these holds, so the sweep never decides what the
plan did not:

- the plan wanted to sell it and no order can: its whole balance is under the exchange's
  minimum (``Decision.unsellable``), so a holding the plan keeps, a residual the policy
  leaves as not worth the fees and dust under the dust action Ignore are never swept;
- it is priced this cycle (nothing is converted on a missing price);
- it is not cash (a settlement or quote currency), not protected, not left alone by a
  person, and not the conversion's target itself;
- nothing of it sits in an open order (the venue converts what is free);
- the venue's cooldown since the last sweep (``status.dustSweep.lastSweptAt``, which a
  restart reads back) has passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from cleanslate.core.classification import Classified
from cleanslate.core.decisions import Decision


@dataclass(frozen=True, slots=True)
class Crumb:
    symbol: str
    asset: str
    quantity: Decimal
    value_usd: Decimal


@dataclass(frozen=True, slots=True)
class SweepPlan:
    crumbs: tuple[Crumb, ...]
    """What to convert now (empty: nothing, and ``reason`` says why)."""
    reason: str
    waits_until: datetime | None = None
    """While the venue's cooldown runs: when it ends."""

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(c.asset for c in self.crumbs)

    @property
    def value_usd(self) -> Decimal:
        return sum((c.value_usd for c in self.crumbs), Decimal(0))


def sweepable(c: Classified, decision: Decision, target: str, cash: frozenset[str]) -> bool:
    """One holding passes every rule of the module's list but the cooldown."""
    h = c.holding
    return (
        decision.unsellable
        and not c.is_protected
        and c.left_alone is None
        and h.value_usd is not None
        and h.asset not in cash
        and h.asset != target
        and h.available == h.quantity
        and h.quantity > 0
    )


def plan_sweep(
    classified: Iterable[Classified],
    decisions: Iterable[Decision],
    *,
    target: str,
    cooldown: timedelta,
    cash: frozenset[str],
    last_swept_at: datetime | None,
    now: datetime,
) -> SweepPlan:
    """The crumbs to convert this cycle, or none and why."""
    by_symbol = {d.symbol: d for d in decisions}
    crumbs = tuple(
        Crumb(c.symbol, c.holding.asset, c.holding.quantity, c.holding.value_usd or Decimal(0))
        for c in sorted(classified, key=lambda c: c.symbol)
        if c.symbol in by_symbol and sweepable(c, by_symbol[c.symbol], target, cash)
    )
    if not crumbs:
        return SweepPlan((), "no crumb under the exchange minimum to sweep")
    if last_swept_at is not None and now < last_swept_at + cooldown:
        ends = last_swept_at + cooldown
        names = ", ".join(c.asset for c in crumbs)
        why = f"{names} wait for the venue's cooldown until {ends.isoformat()}"
        return SweepPlan((), why, waits_until=ends)
    names = ", ".join(c.asset for c in crumbs)
    total = sum((c.value_usd for c in crumbs), Decimal(0))
    return SweepPlan(crumbs, f"converts {names} (~${total:.2f}) into {target}")


__all__ = ["Crumb", "SweepPlan", "plan_sweep", "sweepable"]
