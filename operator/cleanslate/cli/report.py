"""The short human summary ``cleanslate once`` prints by default."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from cleanslate.api.account import TradingAccountStatus
from cleanslate.cycle import CycleResult
from cleanslate.events import EventList


def _table(rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def _value(value: Decimal | None) -> str:
    """An unpriced holding shows as such, not as the word None."""
    return "unpriced" if value is None else str(value)


def summarize(
    resource: dict[str, Any],
    status: TradingAccountStatus,
    results: list[CycleResult],
    events: EventList,
    calls: int,
    state_dir: Path,
) -> str:
    meta = resource.get("metadata", {})
    name = f"{meta.get('namespace', 'default')}/{meta.get('name', 'account')}"
    lines = [
        f"TradingAccount {name}: {status.account_state} after {len(results)} cycle(s), "
        f"value ${status.total_value_usd}, {calls} exchange requests"
    ]
    positions = [["SYMBOL", "QUANTITY", "VALUE USD", "CATEGORY", "ELIGIBLE"]] + [
        [p.symbol, str(p.quantity), _value(p.value_usd), p.category.value, str(p.eligible)]
        for p in status.positions
    ]
    lines += ["", "Positions:", *_table(positions)]
    plan = [["SYMBOL", "ACTION", "QUANTITY", "PREVIEW", "REASON"]] + [
        [p.symbol, p.action.value, str(p.quantity), p.preview or "-", p.reason[:70]]
        for p in status.plan
    ]
    lines += ["", "Plan (last cycle):", *_table(plan)]
    if status.blockers:
        lines += ["", "Blocking CLEAN:", *[f"  - {b}" for b in status.blockers]]
    if status.purge_failures:
        lines += [
            "",
            "Purge failures:",
            *[
                f"  {s}: count={f.failure_count} next retry {f.next_retry_at or 'next cycle'}"
                for s, f in status.purge_failures.items()
            ],
        ]
    lines += [
        "",
        "Events:",
        *[f"  {e.severity.value:7} {e.reason.value:22} {e.message}" for e in events.events],
    ]
    lines += ["", f"State: {state_dir}"]
    return "\n".join(lines)
