"""``run_cycle``: classify, cancel stale, controlled exit, verify, for one account.

The order inside a cycle is fixed: manual actions first (they change what the planner
remembers), then any purge a previous process left in flight (it must finish under its own
attempt before anything new is sold), then the four phases. DryRun computes everything and
changes nothing on the exchange. Phase timings, budgets and status times come from the real
clock (``inputs.clock``); only the venue's own work (the TWAP's waits, balance retries, the
snapshot of the venue) runs on ``inputs.venue``, which is simulated for paper accounts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeVar

from cleanslate.api.account import (
    AccountState,
    Condition,
    CycleTiming,
    FeeTierStatus,
    Mode,
    PlanAction,
    PlanItem,
    PurgeFailure,
    TradingAccountStatus,
)
from cleanslate.core import backoff, conditions, freezing, leave_alone
from cleanslate.core import balances as balance_rules
from cleanslate.core.classification import is_protected, protects
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.exits import below_exchange_minimum
from cleanslate.core.holdings import Snapshot
from cleanslate.core.market import Order, Side
from cleanslate.core.planning import CyclePlan, Memory, plan_cycle
from cleanslate.core.policy_warnings import policy_warnings
from cleanslate.core.resuming import resume_refusal
from cleanslate.core.settlement import cash_currencies
from cleanslate.core.verification import verify
from cleanslate.cycle import exiting, previewing, reporting, snapshotting, sweeping
from cleanslate.cycle.context import CountingExchange, CycleInputs, CycleResult
from cleanslate.events import Event, Reason
from cleanslate.exchange.errors import ExchangeError, Unavailable
from cleanslate.exchange.port import ReadsFees

logger = logging.getLogger("cleanslate.cycle")
T = TypeVar("T")


class _Timer:
    def __init__(self, inputs: CycleInputs) -> None:
        self.clock = inputs.clock
        self.started = inputs.clock.now()
        self.phases: dict[str, Decimal] = {}

    async def phase(self, name: str, work: Callable[[], Awaitable[T]]) -> T:
        began = self.clock.now()
        try:
            return await work()
        finally:
            seconds = (self.clock.now() - began).total_seconds()
            self.phases[name] = Decimal(str(round(seconds, 3)))

    def timing(self, budget: Decimal) -> CycleTiming:
        total = Decimal(str(round((self.clock.now() - self.started).total_seconds(), 3)))
        return CycleTiming(
            started_at=self.started,
            duration_seconds=total,
            phase_seconds=dict(self.phases),
            over_budget=total > budget,
        )


async def run_cycle(inputs: CycleInputs) -> CycleResult:
    """One full cycle; never raises for exchange trouble (it becomes status and events)."""
    counting = CountingExchange(inputs.exchange)
    inputs.exchange = counting
    timer = _Timer(inputs)
    books = exiting.Books(_manual_actions(inputs, inputs.status))
    # The account's own DryRun and suspend win over any caller's options: no path trades them.
    stopped = inputs.spec.suspend or inputs.spec.mode is Mode.DRY_RUN
    live = not inputs.options.dry_run and not stopped
    try:
        result = await _phases(inputs, books, timer, live)
    except ExchangeError as exc:
        message = f"exchange error: {type(exc).__name__}: {exc}"[:1000]
        result = _unavailable(inputs, books, message, Reason.EXCHANGE_UNAVAILABLE)
    result.api_calls = counting.calls
    return _finish(inputs, result, timer)


async def _phases(
    inputs: CycleInputs, books: exiting.Books, timer: _Timer, live: bool
) -> CycleResult:
    options, policy = inputs.options, inputs.policy
    stopping = inputs.spec.mode is Mode.DRY_RUN or inputs.spec.suspend
    placing = live and not options.hold_orders
    if books.status.in_flight and (placing or stopping):
        await timer.phase("resume", lambda: _resume_in_flight(inputs, books))
    balances, balance, error = await snapshotting.read_balances(
        inputs.exchange, inputs.venue, policy, books.status.balance
    )
    if balances is None:
        return _balance_failure(inputs, books, balance, error or "")
    gathered = await timer.phase(
        "classify",
        lambda: snapshotting.gather(
            inputs.exchange,
            inputs.venue,
            policy,
            balances,
            books.status.frozen_symbols,
            inputs.market,
            inputs.events,
            inputs.spec.settlement_currencies,
        ),
    )
    now = inputs.clock.now()
    books.status = books.status.model_copy(
        update={
            "frozen_symbols": gathered.frozen,
            "balance": balance_rules.record_fetch(balance, gathered.snapshot.nav_usd, now),
        }
    )
    memory = replace(Memory.from_status(books.status), resumed=frozenset(books.resumed))
    plan = plan_cycle(gathered.snapshot, inputs.spec, policy, memory, now)
    _report_holds(inputs, plan)
    _report_released(inputs, plan)
    if live and 2 in options.phases:
        await timer.phase("cancel_stale", lambda: _cancel_stale(inputs, books, plan))
    if placing and 3 in options.phases:
        await timer.phase(
            "controlled_exit", lambda: _controlled_exit(inputs, books, plan, gathered.snapshot)
        )
    swept: dict[str, str] = {}
    if sweeping.opted_in(inputs) and 3 in options.phases and options.only is None:
        converting = placing and not inputs.exchange.read_only
        swept = await timer.phase(
            "dust_sweep", lambda: sweeping.sweep(inputs, books, plan, converting)
        )
    verdicts: dict[str, str] = {}
    if not live:
        _report_planned(inputs, plan)
    if not live and 3 in options.phases:
        sales = [d for d in plan.decisions if d.sells]
        verdicts = await timer.phase("preview", lambda: previewing.preview_sales(inputs, sales))
    after = gathered.snapshot
    if books.acted:
        after = await timer.phase("verify", lambda: _resnapshot(inputs, books))
    result = _verified(inputs, books, plan, after, verdicts)
    if swept:
        plan_items = sweeping.annotate(result.status.plan, swept)
        result.status = result.status.model_copy(update={"plan": plan_items})
    return result


def _retry_message(inputs: CycleInputs, symbol: str, now: datetime) -> str:
    """What a manual retry will do: a holding the account keeps is never sold, so the event
    must not promise a retry for it."""
    spec = inputs.spec
    if protects(spec, symbol):
        return f"{symbol}: backoff cleared by hand; not retried: a protected symbol is never sold"
    if leave_alone.is_left_alone(spec, symbol, now):
        return f"{symbol}: backoff cleared by hand; not retried: left alone (spec.leaveAlone)"
    return f"{symbol}: backoff cleared by hand, retrying now"


def _manual_actions(inputs: CycleInputs, status: TradingAccountStatus) -> TradingAccountStatus:
    events, now = inputs.events, inputs.clock.now()
    failures = dict(status.purge_failures)
    for symbol in sorted(inputs.options.retry_now):
        failures = backoff.record_success(failures, symbol)
        events.emit(Event(Reason.MANUAL_RETRY, _retry_message(inputs, symbol, now)))
    frozen = dict(status.frozen_symbols)
    for symbol in sorted(inputs.options.unfreeze):
        was_frozen = freezing.is_frozen(frozen, symbol, now)
        counted = symbol in frozen
        frozen = dict(freezing.unfreeze(frozen, symbol, "manual unfreeze").frozen)
        done = (
            "unfrozen by hand"
            if was_frozen
            else "not frozen; its price-failure count was reset"
            if counted
            else "not frozen; nothing to do"
        )  # the event says what happened, not what was asked
        events.emit(Event(Reason.MANUAL_UNFREEZE, f"{symbol}: {done}"))
    expired = freezing.expire(frozen, now)
    snapshotting.report_freezes(expired.events, events)
    failures = _hand_over(inputs, failures)
    return status.model_copy(
        update={"purge_failures": failures, "frozen_symbols": dict(expired.frozen)}
    )


def _hand_over(inputs: CycleInputs, failures: dict[str, PurgeFailure]) -> dict[str, PurgeFailure]:
    """A symbol a person left alone is no longer retried, so its failure record (and the
    alert on it) goes, as the auto-purge guide clears it when a person takes a symbol over."""
    now = inputs.clock.now()
    for symbol in sorted(failures):
        entry = leave_alone.left_alone(inputs.spec, symbol, now)
        if entry is None:
            continue
        count = failures[symbol].failure_count
        failures = backoff.record_success(failures, symbol)
        inputs.events.emit(
            Event(
                Reason.LEFT_ALONE,
                f"{symbol}: {leave_alone.describe(entry)}; no more retries, "
                f"failure tracking cleared (was {count} failures)",
            )
        )
    return failures


async def _resume_in_flight(inputs: CycleInputs, books: exiting.Books) -> None:
    """Each purge left in flight passes the guards a new one would, as of the spec and policy
    now; one that fails them is stopped instead of resumed."""
    now = inputs.clock.now()
    for symbol, flight in sorted(books.status.in_flight.items()):
        if inputs.options.only not in (None, symbol):
            continue  # ``liquidate --symbol``: another symbol's purge waits for a full cycle
        why = resume_refusal(symbol, inputs.spec, inputs.policy, books.status.frozen_symbols, now)
        if why is None:
            await exiting.resume(inputs, books, symbol, flight)
        else:
            await exiting.stop(inputs, books, symbol, flight, why)


def _balance_failure(
    inputs: CycleInputs, books: exiting.Books, balance: object, error: str
) -> CycleResult:
    now = inputs.clock.now()
    books.status = books.status.model_copy(update={"balance": balance})
    fetched = books.status.balance
    age = (
        "never fetched"
        if fetched.fetched_at is None
        else (
            f"last known {exiting.usd(fetched.last_known_usd)}, "
            f"{int((now - fetched.fetched_at).total_seconds() // 60)} min old"
        )
    )
    attempts = inputs.policy.balance_fetch.attempts
    message = f"balance fetch failed after {attempts} attempts ({error}); {age}"
    reason = Reason.BALANCE_STALE if fetched.stale else Reason.EXCHANGE_UNAVAILABLE
    return _unavailable(inputs, books, message, reason)


def _unavailable(
    inputs: CycleInputs, books: exiting.Books, message: str, reason: Reason
) -> CycleResult:
    """The exchange could not be read: say so (event, Ready=False, Stalled) and trade nothing."""
    inputs.events.emit(Event.warning(reason, message))
    status = reporting.failing(
        books.status,
        "ExchangeUnavailable",
        message,
        inputs.extra_conditions,
        inputs.clock.now(),
        inputs.generation,
    )
    return CycleResult(status=status, error=message)


SELLING = frozenset(
    {PlanAction.PURGE, PlanAction.CLOSE, PlanAction.UNWIND, PlanAction.TRIM,
     PlanAction.CANCEL_ORDER}
)  # fmt: skip


def _planned(items: Sequence[PlanItem]) -> list[tuple[str, str]]:
    """What a plan would do on the exchange, without the figures that move with prices."""
    return sorted((i.symbol, i.action.value) for i in items if i.action in SELLING)


def _report_planned(inputs: CycleInputs, plan: CyclePlan) -> None:
    """DryRun: one PurgePlanned event per distinct plan (what Live would sell or cancel),
    not one every cycle; the whole plan is ``status.plan``."""
    now = _planned(plan.plan_items())
    if not now or now == _planned(inputs.status.plan):
        return
    sells = [d for d in plan.decisions if d.sells]
    worth = sum((d.value_usd or Decimal(0) for d in sells), Decimal(0))
    cancels = len(plan.stale_orders)
    names = ", ".join(sorted({d.symbol for d in sells})) or "none"
    inputs.events.emit(
        Event(
            Reason.PURGE_PLANNED,
            f"DryRun, nothing traded: Live would sell {len(sells)} holdings "
            f"(~{exiting.usd(worth)}: {names}) and cancel {cancels} open orders; "
            "see status.plan",
        )
    )


def _report_released(inputs: CycleInputs, plan: CyclePlan) -> None:
    """Every cycle a released default quote currency is held, say that it is sellable."""
    released = set(inputs.policy.released_quote_currencies)
    held = sorted({d.asset for d in plan.decisions if d.asset in released})
    if held:
        inputs.events.emit(
            Event.warning(
                Reason.QUOTE_CURRENCY_RELEASED,
                f"the policy releases default quote currencies {', '.join(held)}: "
                "held as positions and sold like any holding (releasedQuoteCurrencies)",
            )
        )


def _report_holds(inputs: CycleInputs, plan: CyclePlan) -> None:
    if inputs.metrics is None:
        return
    namespace, name = exiting.account_labels(inputs)
    for d in plan.decisions:
        if d.rule is Rule.HOLD_OFF:
            reason = "frozen" if "frozen" in d.reason else "backoff"
            if d.reason.startswith("price unknown"):
                reason = "unpriced"
            inputs.metrics.risk_rejections.labels(namespace, name, reason).inc()


def _held_value(order: Order, bid: Decimal | None) -> Decimal:
    """What a cancelled order gives back: the quote it held (a buy, at its limit), or the base
    it held at what it would sell for now (a sell: its limit may sit far above the bid)."""
    limit = order.limit_price or Decimal(0)
    if order.side is Side.SELL and bid is not None:
        return order.remaining_size * min(limit, bid)
    return order.remaining_size * limit


async def _cancel_stale(inputs: CycleInputs, books: exiting.Books, plan: CyclePlan) -> None:
    if not plan.stale_orders:
        return
    cancelled = await inputs.exchange.cancel_orders([o.order_id for o in plan.stale_orders])
    books.acted = True
    bids = {c.symbol: c.holding.price for c in plan.classified}
    freed = sum(
        (
            _held_value(o, bids.get(o.product_id))
            for o in plan.stale_orders
            if o.order_id in set(cancelled)
        ),
        Decimal(0),
    )
    metrics = books.status.cleanup_metrics
    books.status = books.status.model_copy(
        update={
            "cleanup_metrics": metrics.model_copy(
                update={
                    "stale_orders_cancelled": metrics.stale_orders_cancelled + len(cancelled),
                    "capital_freed_usd": metrics.capital_freed_usd + freed,
                }
            )
        }
    )
    minutes = inputs.policy.stale_order_minutes
    inputs.events.emit(
        Event(
            Reason.STALE_ORDERS_CANCELLED,
            (
                f"cancelled {len(cancelled)} open orders older than {minutes} min, "
                f"~{exiting.usd(freed)} freed"
            ),
        )
    )


async def _controlled_exit(
    inputs: CycleInputs, books: exiting.Books, plan: CyclePlan, snapshot: Snapshot
) -> None:
    for decision in _forced(inputs, snapshot):
        mid = _decision_mid(snapshot, decision.symbol)
        await exiting.sell(inputs, books, decision, forced=True, decision_mid=mid)
    forced, only = inputs.options.liquidate, inputs.options.only
    fees = await _fee_tier(inputs, books) if plan.purges else None
    sales = [d for d in plan.purges if d.symbol not in forced and only in (None, d.symbol)]
    lanes = _lanes(inputs, len(sales))

    async def sale(decision: Decision) -> None:
        mid = _decision_mid(snapshot, decision.symbol)
        at = _decided_at(snapshot, decision.symbol)
        failed = books.status.purge_failures.get(decision.symbol)
        if failed is not None and failed.decision_mid is not None and failed.decided_at:
            # a retry of a purge that failed: measured and paced from the first decision,
            # so what the wait between cycles cost is in its lastPurges entry (issue 28)
            mid, at = failed.decision_mid, failed.decided_at
        await exiting.sell(inputs, books, decision, decision_mid=mid, fees=fees, decided_at=at)

    if lanes <= 1:
        for decision in sales:
            await sale(decision)
        return
    gate = asyncio.Semaphore(lanes)

    async def gated(decision: Decision) -> None:
        async with gate:
            await sale(decision)

    try:
        async with asyncio.TaskGroup() as group:  # a failure cancels the others' resting orders
            for decision in sales:
                group.create_task(gated(decision))
    except BaseExceptionGroup as failures:
        raise _first_leaf(failures) from failures


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first failure inside a task group's error: the shell decides what a cycle's
    failure means by its type (a stale record stands the replica down, an API outage
    waits), and a group around it would read as an unexpected bug."""
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


async def _fee_tier(inputs: CycleInputs, books: exiting.Books) -> tuple[Decimal, Decimal]:
    """The account's (maker, taker) bps: read from the venue where it says (Coinbase's
    transaction summary, the paper account's schedule), else the policy's configured tier;
    kept in ``status.feeTier`` either way. A failed read is not a reason to stop a purge:
    the policy's tier is what the documents assume."""
    execution = inputs.policy.execution
    read: tuple[Decimal, Decimal] | None = None
    if isinstance(inputs.exchange, ReadsFees):
        try:
            read = await inputs.exchange.fee_rates()
        except ExchangeError as exc:
            logger.info("fee tier not read (%s); using the policy's", exc.reason_code)
    source: Literal["venue", "policy"] = "venue" if read is not None else "policy"
    maker, taker = read or (execution.maker_fee_bps, execution.taker_fee_bps)
    tier = FeeTierStatus(
        maker_bps=maker, taker_bps=taker, source=source, read_at=inputs.clock.now()
    )
    books.status = books.status.model_copy(update={"fee_tier": tier})
    return maker, taker


def _decided_at(snapshot: Snapshot, symbol: str) -> datetime | None:
    """When the quote the plan decided on was taken."""
    holding = snapshot.holding(symbol.split("-")[0])
    if holding is None or holding.product_id != symbol or holding.quote is None:
        return None
    return holding.quote.at


def _lanes(inputs: CycleInputs, sales: int) -> int:
    """How many symbols are purged at once: ``execution.maxConcurrentSymbols``, so the last
    symbol does not wait for the others (issue 28). Every order still goes through the key's
    request budget (half the venue's limit, seed 000), which queues them. Only on a clock
    whose waits run side by side (the wall clock): a simulated clock moves for every waiter,
    so concurrent purges on it would each see time pass several times over."""
    if not getattr(inputs.venue, "concurrent_waits", False):
        return 1
    return min(sales, inputs.policy.execution.max_concurrent_symbols)


def _decision_mid(snapshot: Snapshot, symbol: str) -> Decimal | None:
    """The mid the plan was made on: every sale of the cycle is measured from the same
    snapshot, so waiting behind an earlier sale is charged, as the benchmark charges it."""
    holding = snapshot.holding(symbol.split("-")[0])
    if holding is None or holding.product_id != symbol or holding.quote is None:
        return None
    return holding.quote.mid


def _forced(inputs: CycleInputs, snapshot: Snapshot) -> list[Decision]:
    """``liquidate --force``: ignores backoff and the minimum value, never quote or protected."""
    quote = cash_currencies(inputs.spec, inputs.policy)
    forced = []
    for symbol in sorted(inputs.options.liquidate):
        holding = snapshot.holding(symbol.split("-")[0])
        elsewhere = ""
        if holding is not None and holding.product_id != symbol:
            # sold through its own market only (the first of the settlement currencies)
            elsewhere = f"; {holding.asset} sells through {holding.product_id}"
            holding = None
        if holding is None or holding.asset in quote or is_protected(holding, inputs.spec):
            inputs.events.emit(
                Event.warning(
                    Reason.MANUAL_LIQUIDATE,
                    f"{symbol}: not liquidated (not held, quote or protected{elsewhere})",
                )
            )
            continue
        if leave_alone.is_left_alone(inputs.spec, symbol, inputs.clock.now()):
            inputs.events.emit(
                Event.warning(
                    Reason.MANUAL_LIQUIDATE,
                    f"{symbol}: not liquidated (a person left it alone: spec.leaveAlone)",
                )
            )
            continue
        unsellable = below_exchange_minimum(holding, holding.available)
        if unsellable is not None:
            inputs.events.emit(
                Event.warning(Reason.MANUAL_LIQUIDATE, f"{symbol}: not liquidated ({unsellable})")
            )
            continue
        inputs.events.emit(Event(Reason.MANUAL_LIQUIDATE, f"{symbol}: liquidating by hand"))
        forced.append(
            Decision(
                symbol,
                holding.asset,
                ExitKind.PURGE,
                Rule.INELIGIBLE,
                holding.available,
                holding.value_usd,
                "manual liquidation (--force)",
            )
        )
    return forced


async def _resnapshot(inputs: CycleInputs, books: exiting.Books) -> Snapshot:
    balances, _, error = await snapshotting.read_balances(
        inputs.exchange, inputs.venue, inputs.policy, books.status.balance
    )
    if balances is None:
        # Verifying an empty account would call it CLEAN; report the outage instead (the
        # sales already booked in ``books.status`` are kept by ``run_cycle``'s handler).
        raise Unavailable(f"balances unavailable after acting: {error}")
    gathered = await snapshotting.gather(
        inputs.exchange,
        inputs.venue,
        inputs.policy,
        balances,
        books.status.frozen_symbols,
        inputs.market,
        inputs.events,
        inputs.spec.settlement_currencies,
    )
    books.status = books.status.model_copy(update={"frozen_symbols": gathered.frozen})
    return gathered.snapshot


def _verified(
    inputs: CycleInputs,
    books: exiting.Books,
    plan: CyclePlan,
    after: Snapshot,
    verdicts: Mapping[str, str] | None = None,
) -> CycleResult:
    now = inputs.clock.now()
    memory = Memory.from_status(books.status)
    verification = verify(after, inputs.spec, inputs.policy, memory, now)
    settled = plan_cycle(after, inputs.spec, inputs.policy, memory, now)
    held = {c.symbol for c in settled.classified}
    unwind = {s: p for s, p in books.status.unwind_progress.items() if s in held}
    dry = inputs.options.dry_run or inputs.spec.mode is Mode.DRY_RUN
    mode = Mode.DRY_RUN if dry else Mode.LIVE
    state = reporting.account_state(mode, verification, plan, books.acted)
    status = books.status.model_copy(
        update={
            "account_state": state,
            "mode": mode,
            "positions": list(settled.positions),
            "plan": previewing.with_verdicts(plan.plan_items(), verdicts or {}),
            "unwind_progress": unwind,
            "total_value_usd": reporting.money(after.nav_usd),
            "position_count": sum(1 for c in settled.classified if c.counts_toward_cap),
            "failure_count": len(books.status.purge_failures),
            "blockers": list(verification.blockers),
        }
    )
    status = reporting.conditions(
        status, state, mode, verification, inputs.extra_conditions, now, inputs.generation
    )
    return CycleResult(status=status, plan=plan, verification=verification, outcomes=books.outcomes)


def _finish(inputs: CycleInputs, result: CycleResult, timer: _Timer) -> CycleResult:
    timing = timer.timing(inputs.policy.cycle_budget_seconds)
    before = inputs.status.account_state
    after = result.status.account_state
    if before != after and after is AccountState.CLEAN:
        inputs.events.emit(Event(Reason.ACCOUNT_CLEAN, "the account is CLEAN"))
    elif before is AccountState.CLEAN and after is not AccountState.CLEAN:
        inputs.events.emit(Event.warning(Reason.ACCOUNT_DIRTY, f"the account left CLEAN: {after}"))
    if timing.over_budget:
        result.over_budget = True
        inputs.events.emit(
            Event.warning(
                Reason.CYCLE_OVER_BUDGET,
                (
                    f"Latency budget exceeded: total {timing.duration_seconds}s>"
                    f"{inputs.policy.cycle_budget_seconds}s "
                    + " ".join(f"{k}={v}s" for k, v in timing.phase_seconds.items())
                ),
            )
        )
    budget = inputs.policy.cycle_budget_seconds
    within = conditions.Desired("WithinBudget", conditions.TRUE, "WithinBudget")
    over = conditions.Desired(
        "WithinBudget",
        conditions.FALSE,
        "OverBudget",
        f"the last cycle took {timing.duration_seconds}s, over {budget}s",
    )
    current = list(result.status.conditions)
    previous = conditions.find(inputs.status.conditions, "WithinBudget")
    if previous is not None and conditions.find(current, "WithinBudget") is None:
        current.append(previous)  # the phases rebuild the list; keep its transition time
    want = over if timing.over_budget else within
    merged = conditions.upsert(current, want, inputs.clock.now(), inputs.generation)
    merged = _policy_warning(inputs, merged)
    result.status = result.status.model_copy(update={"conditions": merged})
    result.status = result.status.model_copy(
        update={"last_cycle": timing, "cycles": inputs.status.cycles + 1}
    )
    return result


def _policy_warning(inputs: CycleInputs, current: list[Condition]) -> list[Condition]:
    """A risky but valid policy (an exposure cap above 50 %) shows as the PolicyWarning
    condition, and as a RiskyPolicy event when it appears or changes: on the first cycle,
    after a policy edit, never again every cycle."""
    warnings = policy_warnings(inputs.policy)
    previous = conditions.find(inputs.status.conditions, "PolicyWarning")
    if previous is not None and conditions.find(current, "PolicyWarning") is None:
        current = [*current, previous]  # the phases rebuild the list; keep its transition time
    if not warnings:
        if previous is None:
            return current
        want = conditions.Desired("PolicyWarning", conditions.FALSE, "NoRiskySettings")
    else:
        message = "; ".join(warnings)
        want = conditions.Desired("PolicyWarning", conditions.TRUE, "RiskySettings", message)
        if previous is None or previous.status != conditions.TRUE or previous.message != message:
            inputs.events.emit(Event.warning(Reason.RISKY_POLICY, message))
    return conditions.upsert(current, want, inputs.clock.now(), inputs.generation)


__all__ = ["run_cycle"]
