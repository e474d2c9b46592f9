"""The short human summary ``cleanslate once`` prints by default.

Numbers go through cli/formatting.py: money as ``$9.69`` (``n/a`` when unpriced), quantities
at the product's increment, numeric columns right-aligned so the digits line up."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from cleanslate.api.account import AccountState, Category, TradingAccountStatus
from cleanslate.cli.formatting import duration, money, quantity_of, timestamp
from cleanslate.cycle import CycleResult
from cleanslate.events import EventList

LEFT, RIGHT = "<", ">"


def _table(rows: list[list[str]], align: str = "") -> list[str]:
    """Rows as aligned columns; ``align`` has one ``<`` or ``>`` per column (default ``<``)."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    sides = align.ljust(len(widths), LEFT)
    return [
        "  "
        + "  ".join(f"{c:{side}{w}}" for c, w, side in zip(r, widths, sides, strict=True)).rstrip()
        for r in rows
    ]


def summarize(
    resource: dict[str, Any],
    status: TradingAccountStatus,
    results: list[CycleResult],
    events: EventList,
    calls: int,
    state_dir: Path,
    increments: Mapping[str, Decimal] | None = None,
) -> str:
    steps = increments or {}
    meta = resource.get("metadata", {})
    name = f"{meta.get('namespace', 'default')}/{meta.get('name', 'account')}"
    lines = [
        f"TradingAccount {name}: {status.account_state} after {len(results)} cycle(s), "
        f"value {money(status.total_value_usd)}, {calls} exchange requests"
    ]
    positions = [["SYMBOL", "QUANTITY", "VALUE", "CATEGORY", "ELIGIBLE"]] + [
        [
            p.symbol,
            quantity_of(p.symbol, p.quantity, steps),
            money(p.value_usd),
            p.category.value,
            "yes" if p.eligible else "no",
        ]
        for p in status.positions
    ]
    lines += ["", "Positions:", *_table(positions, "<>>")]
    plan = [["SYMBOL", "ACTION", "QUANTITY", "VALUE", "PREVIEW", "REASON"]] + [
        [
            p.symbol,
            p.action.value,
            quantity_of(p.symbol, p.quantity, steps) if p.quantity else "-",
            money(p.value_usd) if p.quantity else "-",
            p.preview or "-",
            p.reason[:70],
        ]
        for p in status.plan
    ]
    lines += ["", "Plan (last cycle):", *_table(plan, "<<>>")]
    if status.blockers:
        lines += ["", "Blocking CLEAN:", *[f"  - {b}" for b in status.blockers]]
    if status.purge_failures:
        # An escalated zombie had its one exit attempt: it is never retried by itself.
        escalated = {
            p.symbol
            for p in status.positions
            if p.category is Category.ZOMBIE and not any(r.startswith("dust:") for r in p.reasons)
        }
        failures = [["SYMBOL", "FAILURES", "NEXT RETRY"]] + [
            [
                s,
                str(f.failure_count),
                "escalated: not retried (needs a person; --retry to try again)"
                if s in escalated
                else timestamp(f.next_retry_at)
                if f.next_retry_at
                else "next cycle",
            ]
            for s, f in status.purge_failures.items()
        ]
        lines += ["", "Purge failures:", *_table(failures, "<>")]
    lines += _purge_costs(status, steps)
    lines += [
        "",
        "Events:",
        *[f"  {e.severity.value:7} {e.reason.value:22} {e.message}" for e in events.events],
    ]
    lines += ["", f"State: {state_dir}"]
    return "\n".join(lines)


def _purge_costs(status: TradingAccountStatus, steps: Mapping[str, Decimal]) -> list[str]:
    """Each symbol's last purge and what it cost against the decision-time mid (fees in,
    the unsold quantity charged at the last bid): the number to compare with a market sell."""
    if not status.last_purges:
        return []
    rows = [["SYMBOL", "RESULT", "COST", "FEES", "FILLED", "UNSOLD", "TOOK", "FINISHED"]] + [
        [
            s,
            p.result,
            _bps(p.shortfall_bps),
            _bps(p.fee_bps),
            "n/a" if p.fill_rate is None else f"{p.fill_rate * 100:.0f}%",
            quantity_of(s, p.unsold_quantity, steps),
            duration(float(p.duration_seconds)),
            timestamp(p.finished_at),
        ]
        for s, p in sorted(status.last_purges.items(), key=lambda kv: kv[1].finished_at)
    ]
    title = "Last purges (cost vs decision-time mid, fees in"
    tier = status.fee_tier
    if tier is not None:
        title += f"; fee tier {tier.maker_bps}/{tier.taker_bps} bps from the {tier.source}"
    return ["", title + "):", *_table(rows, "<<>>>>>")]


def _bps(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.0f} bps"


def not_clean(status: TradingAccountStatus, cycles: int) -> str | None:
    """The last line of ``once --until-clean`` when the account did not get CLEAN: the state
    and what blocks it, as ``kubectl wait`` names the condition it gave up on."""
    if status.account_state is AccountState.CLEAN:
        return None
    state = status.account_state.value if status.account_state else "unknown"
    blockers = "; ".join(status.blockers) or "no blocker recorded"
    return f"not CLEAN after {cycles} cycle(s): {state}: {blockers}"


def nothing_sold(
    result: CycleResult, symbol: str, quote_currencies: Collection[str] = ()
) -> str | None:
    """Why ``liquidate`` sold none of ``symbol`` in ``result``, or None when it sold some: the
    plan's own reason when no sale was planned (backoff, protected, under the minimum), the
    executor's stop reason when the sale ran and filled nothing."""
    outcome = result.outcomes.get(symbol)
    if outcome is not None:
        if outcome.filled_quantity > 0:
            return None
        return f"the sale filled nothing ({outcome.reason.value})"
    if result.error:
        return result.error
    decisions = result.plan.decisions if result.plan else ()
    reason = next((d.reason for d in decisions if d.symbol == symbol), None)
    if reason:
        return reason
    if symbol.split("-")[0] in quote_currencies:
        return "it is a quote or settlement currency the account keeps"
    return "the account holds none of it"


STOPPED_BECAUSE = {
    "MaxSlices": "the TWAP used all its slices (execution.maxSlices)",
    "MaxDuration": "the TWAP ran out of time (execution.maxDurationSeconds)",
    "MaxConsecutiveNoFill": "too many slices in a row filled nothing",
    "Rejected": "the exchange rejected an order",
    "ExchangeUnavailable": "the exchange stopped answering",
}


def partly_sold(result: CycleResult, symbol: str) -> str | None:
    """What ``liquidate`` left of ``symbol`` when the sale filled some but not all, and why
    the executor stopped; None when it sold all of it or nothing."""
    outcome = result.outcomes.get(symbol)
    if outcome is None or not 0 < outcome.filled_quantity < outcome.target_quantity:
        return None
    left = outcome.target_quantity - outcome.filled_quantity
    why = STOPPED_BECAUSE.get(outcome.reason.value, outcome.reason.value)
    return (
        f"sold {outcome.filled_quantity} of {outcome.target_quantity}, {left} left: {why}; "
        "the next cycle (or liquidate again) sells the rest"
    )
