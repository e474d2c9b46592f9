"""What the plugin prints, from the objects the API server returned; no I/O here.

``status`` fits one screen: a row per account, then for each account that is not CLEAN
what blocks it and what happens next (the next retry of a failing symbol, the next unwind
step, when a freeze ends, the purge in flight). ``plan`` is the last cycle's plan as a
table; ``history`` the account's events oldest first, then its purge counters.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from cleanslate.api.account import AccountState, PlanAction, TradingAccountStatus
from cleanslate.cli.formatting import money, quantity, timestamp

Obj = dict[str, Any]


def table(rows: list[list[str]], align: str = "") -> list[str]:
    """Columns as kubectl prints them: upper-case header, three spaces between columns."""
    if len(rows) < 2:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    sides = align.ljust(len(widths), "<")
    return [
        "   ".join(f"{c:{s}{w}}" for c, w, s in zip(r, widths, sides, strict=True)).rstrip()
        for r in rows
    ]


def status_of(account: Obj) -> TradingAccountStatus:
    """The account's status; an empty one when the operator has not written it yet."""
    try:
        return TradingAccountStatus.model_validate(account.get("status") or {})
    except ValidationError:
        return TradingAccountStatus()


def _name(account: Obj) -> tuple[str, str]:
    meta = account["metadata"]
    return str(meta.get("namespace", "")), str(meta["name"])


def _ready(status: TradingAccountStatus) -> str:
    ready = next((c for c in status.conditions if c.type == "Ready"), None)
    return ready.status if ready else "Unknown"


def accounts_table(accounts: list[Obj], all_namespaces: bool) -> list[str]:
    header = ["NAME", "READY", "STATE", "MODE", "VALUE", "POSITIONS", "FAILURES", "LAST CYCLE"]
    rows = [(["NAMESPACE"] if all_namespaces else []) + header]
    for account in accounts:
        namespace, name = _name(account)
        status = status_of(account)
        spec = account.get("spec") or {}
        rows.append(
            ([namespace] if all_namespaces else [])
            + [
                name,
                _ready(status),
                status.account_state.value if status.account_state else "Pending",
                "Suspended" if spec.get("suspend") else str(spec.get("mode", "DryRun")),
                money(status.total_value_usd),
                str(status.position_count),
                str(status.failure_count),
                timestamp(status.last_cycle.started_at) if status.last_cycle else "never",
            ]
        )
    align = ("<" if all_namespaces else "") + "<<<<>>><"
    return table(rows, align)


def status_screen(
    accounts: list[Obj], all_namespaces: bool, unwind_cycles: dict[str, int], now: datetime
) -> str:
    """``unwind_cycles``: each account's policy's ``unwind.cycles`` by ``namespace/name``."""
    if not accounts:
        return "No TradingAccounts found."
    lines = accounts_table(accounts, all_namespaces)
    for account in accounts:
        status = status_of(account)
        if status.account_state is AccountState.CLEAN:
            continue
        namespace, name = _name(account)
        total = unwind_cycles.get(f"{namespace}/{name}")
        lines += ["", f"{namespace}/{name}: {_headline(account, status)}"]
        lines += [f"  blocked by: {b}" for b in status.blockers]
        lines += [f"  next: {n}" for n in next_steps(status, total, now)]
    return "\n".join(lines)


def _headline(account: Obj, status: TradingAccountStatus) -> str:
    spec = account.get("spec") or {}
    if spec.get("suspend"):
        return "suspended: no trading until `kubectl cleanslate resume`"
    if status.account_state is None:
        return "waiting for the operator's first cycle"
    if status.mode is not None and status.mode.value == "DryRun":
        return f"{status.account_state.value} (DryRun: the plan below is what Live would do)"
    return status.account_state.value


def next_steps(status: TradingAccountStatus, unwind_total: int | None, now: datetime) -> list[str]:
    """What happens next without a person, soonest first within each kind."""
    steps: list[str] = []
    for symbol, flight in sorted(status.in_flight.items()):
        steps.append(
            f"{symbol}: purge in flight, slice {flight.slice}, sold "
            f"{quantity(flight.filled_quantity)} of {quantity(flight.target_quantity)}"
        )
    escalated = {p.symbol for p in status.plan if p.action is PlanAction.ESCALATE}
    for symbol, failure in sorted(status.purge_failures.items()):
        retry_at = failure.next_retry_at
        when = (
            "escalated, not retried: needs a person"  # a zombie gets one exit attempt only
            if symbol in escalated
            else f"retry at {timestamp(retry_at)} ({_until(retry_at, now)})"
            if retry_at and retry_at > now
            else "retry next cycle"
        )
        steps.append(f"{symbol}: {failure.failure_count} failed purge(s), {when}")
    for symbol, frozen in sorted(status.frozen_symbols.items()):
        if frozen.frozen_at is None:
            continue
        steps.append(
            f"{symbol}: frozen until {timestamp(frozen.until)} ({_until(frozen.until, now)})"
        )
    for symbol, unwind in sorted(status.unwind_progress.items()):
        of = f"/{unwind_total}" if unwind_total else ""
        steps.append(
            f"{symbol}: unwind step {unwind.cycle + 1}{of} next cycle, "
            f"{unwind.remaining_fraction:.0%} of the position left"
        )
    return steps


def _until(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "no end set"
    seconds = int((when - now).total_seconds())
    if seconds <= 0:
        return "due"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return f"in {hours}h{minutes:02d}m" if hours else f"in {max(1, minutes)}m"


def plan_table(account: Obj) -> str:
    namespace, name = _name(account)
    status = status_of(account)
    if status.last_cycle is None:
        return f"{namespace}/{name}: no plan yet (the operator has not run a cycle)"
    mode = status.mode.value if status.mode else "?"
    when = timestamp(status.last_cycle.started_at)
    lines = [f"{namespace}/{name}: plan of the cycle at {when} ({mode})"]
    rows = [["SYMBOL", "ACTION", "QUANTITY", "VALUE", "WHY"]]
    for item in status.plan:
        sells = item.quantity > 0
        rows.append(
            [
                item.symbol,
                item.action.value,
                quantity(item.quantity) if sells else "-",
                money(item.value_usd) if sells else "-",
                item.reason,
            ]
        )
    lines += table(rows, "<<>><") or ["  (nothing to do)"]
    selling = [i for i in status.plan if i.quantity > 0 and i.action.value != "CancelOrder"]
    total = sum((i.value_usd or Decimal(0) for i in selling), Decimal(0))
    verb = "would sell" if mode == "DryRun" else "sells"
    lines += ["", f"{len(selling)} sale(s), {verb} about {money(total)}"]
    return "\n".join(lines)


def history(account: Obj, events: list[Obj]) -> str:
    namespace, name = _name(account)
    rows = [["TIME", "TYPE", "REASON", "MESSAGE"]]
    for event in events:
        when = event.get("firstTimestamp") or event.get("eventTime") or ""
        count = int(event.get("count") or 1)
        message = str(event.get("message", "")) + (f" (x{count})" if count > 1 else "")
        rows.append([str(when), str(event.get("type", "")), str(event.get("reason", "")), message])
    lines = [f"{namespace}/{name}: events, oldest first"]
    lines += table(rows) or ["  (no events: they expire after an hour by default)"]
    m = status_of(account).cleanup_metrics
    lines += [
        "",
        f"purges: {m.purges_succeeded} succeeded, {m.purges_failed} failed; "
        f"{m.total_positions_cleaned} positions cleaned ({m.zombie_positions_closed} zombie, "
        f"{m.legacy_positions_unwound} legacy); {m.stale_orders_cancelled} stale orders "
        f"cancelled; {money(m.capital_freed_usd)} freed, {money(m.fees_paid_usd)} fees",
    ]
    return "\n".join(lines)
