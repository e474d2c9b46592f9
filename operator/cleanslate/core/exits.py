"""The controlled-exit rules of the legacy exit protocol, plus exposure trims and normalization.

Each rule turns one holding (or the over-cap and over-exposure sets) into decisions:

* dust and zombies close at market, in full; a zombie gets one attempt, then escalates;
* over the position cap, positions close in the documented ranking: smallest value, then
  worst P&L, then oldest. An unknown P&L (an untracked position) ranks as the worst and an
  unknown opening time as the oldest, because what we cannot measure is what the protocol
  wants gone first; the product id breaks exact ties so the ranking is total;
* legacy non-compliant positions unwind by a fraction of what remains each cycle, so after
  ``k`` cycles ``(1 - f) ** k`` remains (2 of 4 cycles at 25 %: 0.5625); the last cycle, or a
  step too small to be worth an order, closes the rest;
* exposure trims sell from the largest position first (fewest orders to get under the cap),
  each trim at least the minimum liquidation value so it is a real order;
* normalization closes positions under the minimum position size that are still worth an
  order, and leaves smaller ones as residuals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Protocol, TypeVar

from cleanslate.api.account import UnwindProgress
from cleanslate.api.policy import Unwind
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.holdings import Holding

_EPOCH_PLACEHOLDER = datetime.min


class Rankable(Protocol):
    @property
    def symbol(self) -> str: ...
    @property
    def value_usd(self) -> Decimal | None: ...
    @property
    def pnl(self) -> Decimal | None: ...
    @property
    def opened_at(self) -> datetime | None: ...


R = TypeVar("R", bound=Rankable)


def closing_rank_key(item: Rankable) -> tuple[Decimal, int, Decimal, int, datetime, str]:
    """Sort key of the over-cap ranking: the first item in this order closes first."""
    value = item.value_usd if item.value_usd is not None else Decimal(0)
    pnl_known = 0 if item.pnl is None else 1
    opened_known = 0 if item.opened_at is None else 1
    opened = _naive_utc(item.opened_at) if item.opened_at else _EPOCH_PLACEHOLDER
    return (value, pnl_known, item.pnl or Decimal(0), opened_known, opened, item.symbol)


def _naive_utc(moment: datetime) -> datetime:
    """Comparable form of a timestamp whether or not it carries a timezone (naive means UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def rank_for_closing(items: Iterable[R]) -> list[R]:
    return sorted(items, key=closing_rank_key)


def over_cap(
    candidates: Iterable[R], count: int, cap: int, first: Callable[[R], bool] = lambda _: False
) -> list[R]:
    """The candidates that close so ``count`` positions fit under ``cap``, in closing order.

    Candidates for which ``first`` holds go before all others, each group in the ranking:
    the legacy protocol closes "the worst legacy position first", so a strategy-aligned
    position closes only when no legacy one is left above the cap.
    """
    excess = max(count - cap, 0)
    ordered = sorted(candidates, key=lambda c: (not first(c), closing_rank_key(c)))
    return ordered[:excess]


# --- quantities -----------------------------------------------------------------------------


def floor_to(quantity: Decimal, increment: Decimal | None) -> Decimal:
    """Round down to the product's base increment (never sell more than computed)."""
    if not increment or increment <= 0:
        return quantity
    return (quantity / increment).to_integral_value(ROUND_FLOOR) * increment


def ceil_to(quantity: Decimal, increment: Decimal | None) -> Decimal:
    """Round up to the base increment (a trim that must reach its target)."""
    if not increment or increment <= 0:
        return quantity
    return (quantity / increment).to_integral_value(ROUND_CEILING) * increment


def _increment(holding: Holding) -> Decimal | None:
    return holding.product.base_increment if holding.product else None


def sell(holding: Holding, quantity: Decimal, kind: ExitKind, rule: Rule, reason: str) -> Decision:
    """A selling decision, clamped to what is available so no plan oversells."""
    quantity = max(min(quantity, holding.available), Decimal(0))
    return Decision(
        holding.product_id, holding.asset, kind, rule, quantity, holding.value_of(quantity), reason
    )


def hold(holding: Holding, kind: ExitKind, rule: Rule, reason: str) -> Decision:
    """A decision that sells nothing (keep, skip, ignore, escalate)."""
    return Decision(
        holding.product_id, holding.asset, kind, rule, Decimal(0), holding.value_usd, reason
    )


def below_exchange_minimum(holding: Holding, quantity: Decimal) -> str | None:
    """Why the exchange would refuse to sell ``quantity`` (under its minimum size or
    notional), or None when it would take the order or the minimums are unknown."""
    product, price = holding.product, holding.price
    if product is None or price is None:
        return None
    if quantity >= product.min_base_size and quantity * price >= product.min_notional:
        return None
    return (
        f"unsellable remainder: {quantity} {holding.asset} (${quantity * price:.2f}) below the "
        f"exchange minimum ({product.min_base_size} {holding.asset}, ${product.min_notional})"
    )


def close(holding: Holding, rule: Rule, reason: str) -> Decision:
    """Market close of everything available (what open orders hold is freed by cancelling)."""
    return sell(holding, holding.available, ExitKind.CLOSE, rule, reason)


# --- zombies --------------------------------------------------------------------------------


def zombie_exit(holding: Holding, attempted: bool, why: str) -> Decision:
    """One market exit attempt; once it has failed, escalate instead of retrying forever.

    Escalation sells nothing and blocks no other decision: the protocol's "do not halt the
    trading thread".
    """
    if attempted:
        return hold(
            holding, ExitKind.ESCALATE, Rule.ZOMBIE, f"zombie ({why}): exit failed, escalate"
        )
    return close(holding, Rule.ZOMBIE, f"zombie ({why}): one market exit attempt")


# --- gradual unwind -------------------------------------------------------------------------


def remaining_fraction_after(cycles_done: int, fraction: Decimal) -> Decimal:
    """Share of the original position left after ``cycles_done`` unwind steps."""
    return (1 - fraction) ** cycles_done


def advance_unwind(
    progress: Mapping[str, UnwindProgress], symbol: str, now: datetime, unwind: Unwind
) -> UnwindProgress:
    """The symbol's progress once one more unwind step has been carried out at ``now``."""
    entry = progress.get(symbol)
    cycle = (entry.cycle if entry else 0) + 1
    last = cycle >= unwind.cycles
    remaining = Decimal(0) if last else remaining_fraction_after(cycle, unwind.fraction)
    return UnwindProgress(
        cycle=cycle,
        remaining_fraction=remaining,
        started_at=entry.started_at if entry else now,
        last_cycle_at=now,
    )


def unwind_step(
    holding: Holding,
    progress: Mapping[str, UnwindProgress],
    now: datetime,
    unwind: Unwind,
    min_liquidation_usd: Decimal,
) -> Decision:
    """This cycle's unwind sale: a fraction of what remains, or the rest on the last cycle."""
    entry = progress.get(holding.product_id)
    step = (entry.cycle if entry else 0) + 1
    after = advance_unwind(progress, holding.product_id, now, unwind)
    label = f"legacy non-compliant: unwind step {step}/{unwind.cycles}"
    if step >= unwind.cycles:
        return _with_progress(close(holding, Rule.LEGACY, f"{label}, closing the rest"), after)
    quantity = floor_to(holding.quantity * unwind.fraction, _increment(holding))
    value = holding.value_of(min(quantity, holding.available)) or Decimal(0)
    if value < min_liquidation_usd:
        if (holding.value_usd or Decimal(0)) < min_liquidation_usd:
            return hold(holding, ExitKind.IGNORE, Rule.LEGACY, f"{label}: residual below minimum")
        final = after.model_copy(update={"cycle": unwind.cycles, "remaining_fraction": Decimal(0)})
        reason = f"{label}: step below ${min_liquidation_usd}, closing the rest"
        return _with_progress(close(holding, Rule.LEGACY, reason), final)
    reason = f"{label}, selling {percent(unwind.fraction)} of what remains"
    decision = sell(holding, quantity, ExitKind.UNWIND, Rule.LEGACY, reason)
    return _with_progress(decision, after)


def percent(fraction: Decimal) -> str:
    """0.25 -> '25%' (no trailing zeros), for reasons a person reads."""
    return f"{(fraction * 100).normalize():f}%"


def _with_progress(decision: Decision, progress: UnwindProgress) -> Decision:
    return replace(decision, progress=progress)


# --- exposure and normalization -------------------------------------------------------------


def plan_trims(
    candidates: Sequence[Holding],
    excess_usd: Decimal,
    min_liquidation_usd: Decimal,
    reason: str,
    first: Callable[[Holding], bool] = lambda _: False,
    min_position_usd: Decimal = Decimal(0),
) -> list[Decision]:
    """Trims that sell at least ``excess_usd`` (when the candidates hold that much), those for
    which ``first`` holds (legacy ones) before the others, each group largest position first.
    Each trim is at least the minimum liquidation value, and one that would leave a stub under
    ``min_position_usd`` (which normalization would close next cycle) closes the position
    whole: trim to the cap or close whole, one decision."""
    trims: list[Decision] = []
    ordered = sorted(
        candidates, key=lambda h: (not first(h), -(h.value_usd or Decimal(0)), h.product_id)
    )
    for holding in ordered:
        value, price = holding.value_usd, holding.price
        if excess_usd <= 0:
            break
        if value is None or price is None or price <= 0 or value < min_liquidation_usd:
            continue
        amount = min(max(excess_usd, min_liquidation_usd), value)
        why = reason
        if value - amount < min_position_usd:
            amount = value
            why = f"{reason}; the rest would be under ${min_position_usd}: closed whole"
        quantity = (
            holding.quantity if amount == value else ceil_to(amount / price, _increment(holding))
        )
        trim = sell(holding, quantity, ExitKind.TRIM, Rule.EXPOSURE, why)
        if trim.quantity > 0:
            trims.append(trim)
            excess_usd -= trim.value_usd or Decimal(0)
    return trims


def normalize(
    holding: Holding, min_position_usd: Decimal, min_liquidation_usd: Decimal, close_dust: bool
) -> Decision:
    """A position under the minimum size: close it if it is worth an order, else leave it.
    Under the dust action Close a smaller one is closed too (the exchange's minimum permitting):
    on a larger account the same holding is dust and closed, and one holding gets one answer
    whatever the account's size."""
    value = holding.value_usd or Decimal(0)
    flagged = f"below minimum position ${min_position_usd} (${value:.2f})"
    if value >= min_liquidation_usd:
        return close(holding, Rule.NORMALIZATION, f"normalization: {flagged}, close")
    if close_dust:
        reason = f"normalization: {flagged}, under ${min_liquidation_usd}: dust action Close"
        return close(holding, Rule.NORMALIZATION, reason)
    reason = f"normalization: {flagged}, residual under ${min_liquidation_usd} left alone"
    return hold(holding, ExitKind.IGNORE, Rule.NORMALIZATION, reason)
