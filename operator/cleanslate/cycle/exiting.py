"""Phase 3: carry out the plan's sales and keep the books the documents keep.

Every sale goes through the TWAP executor (maker-first for purges, straight to the taker leg
within the slippage cap for the documents' market closes). Before each order is placed the
in-flight record is persisted, so a crash between placing and recording can never lead to a
second order: the next cycle resumes the purge under the same attempt and finds it.
A success clears the symbol's failure record; a failure is tracked with its backoff.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cleanslate.api.account import CleanupMetrics, InFlightPurge, TradingAccountStatus
from cleanslate.core import backoff
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.exits import advance_unwind
from cleanslate.core.shortfall import PurgeCost, describe
from cleanslate.core.twap import TwapOutcome
from cleanslate.cycle import costing
from cleanslate.cycle.context import CycleInputs
from cleanslate.events import Event, Reason
from cleanslate.exchange.errors import ExchangeError
from cleanslate.execution import PlaceIntent, ResumeFrom, run_twap
from cleanslate.execution.stopping import stop_in_flight

CENT = Decimal("0.01")


@dataclass
class Books:
    """The working status records a cycle updates as sales finish."""

    status: TradingAccountStatus
    outcomes: dict[str, TwapOutcome] = field(default_factory=dict)
    acted: bool = False
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One status write at a time: purges of one account run concurrently, and an older
    write landing after a newer one would lose the newer in-flight record."""
    resumed: set[str] = field(default_factory=set)
    """Symbols whose sale a previous process left in flight and this cycle resumed."""


def _iso(moment: datetime | None) -> str:
    return "-" if moment is None else moment.replace(microsecond=0).isoformat()


def usd(value: Decimal | None) -> str:
    return "?" if value is None else f"${value.quantize(CENT)}"


async def sell(
    inputs: CycleInputs,
    books: Books,
    decision: Decision,
    forced: bool = False,
    decision_mid: Decimal | None = None,
    *,
    fees: tuple[Decimal, Decimal] | None = None,
    decided_at: datetime | None = None,
) -> None:
    """Run one sale to its end and record the outcome; its cost is measured against
    ``decision_mid``, the mid in the snapshot the sale was decided on (at ``decided_at``),
    which is also what the adaptive pace measures a fall from; ``fees`` the account's
    (maker, taker) bps as the venue reported them."""
    status = books.status
    attempt = status.next_attempt
    books.status = status = status.model_copy(update={"next_attempt": attempt + 1})
    _announce(inputs, status, decision, forced)
    decided = (decision_mid, decided_at) if decision_mid and decided_at else None
    outcome = await _execute(
        inputs, books, decision, attempt, None, inputs.new_epoch(), decision_mid, fees, decided
    )
    record(
        inputs,
        books,
        decision.symbol,
        decision.kind,
        decision.rule,
        outcome,
        decision,
        decision_mid=decision_mid,
        decided_at=decided_at,
    )


async def stop(
    inputs: CycleInputs, books: Books, symbol: str, flight: InFlightPurge, why: str
) -> None:
    """A purge left in flight that may no longer sell (``core.resuming``): cancel its resting
    order, close its record, sell nothing more. Exchange errors leave the record for the
    next cycle to stop again."""
    stopped = await stop_in_flight(inputs.exchange, inputs.account, symbol, flight)
    flights = {k: v for k, v in books.status.in_flight.items() if k != symbol}
    books.status = books.status.model_copy(update={"in_flight": flights})
    books.acted = True
    note = f", {len(stopped.cancelled)} resting orders cancelled" if stopped.cancelled else ""
    if stopped.left_open:
        note += f", could not cancel {', '.join(stopped.left_open)} (cancel it by hand)"
    inputs.events.emit(
        Event.warning(
            Reason.PURGE_STOPPED,
            f"{symbol}: in-flight purge (attempt {flight.attempt}) stopped, nothing more is "
            f"sold: {why}; it had sold {stopped.filled}{note}",
        )
    )


async def resume(inputs: CycleInputs, books: Books, symbol: str, flight: InFlightPurge) -> None:
    """Finish a purge a previous process left in flight, under its own attempt number."""
    kind = (
        ExitKind(flight.reason) if flight.reason in {k.value for k in ExitKind} else ExitKind.PURGE
    )
    inputs.events.emit(
        Event(
            Reason.PURGE_STARTED,
            f"{symbol}: resuming attempt {flight.attempt} "
            f"after slice {flight.slice} (restarted mid-purge)",
        )
    )
    unwinding = kind is ExitKind.UNWIND
    decision = Decision(
        symbol,
        symbol.split("-")[0],
        kind,
        Rule.LEGACY if unwinding else Rule.INELIGIBLE,
        flight.target_quantity,
        None,
        "resumed after restart",
        # An unwind step is booked only once it is done, so the step in flight is the one
        # after the stored progress: the resumed step is the step it was.
        advance_unwind(
            books.status.unwind_progress, symbol, inputs.clock.now(), inputs.policy.unwind
        )
        if unwinding
        else None,
    )
    books.resumed.add(symbol)
    resume_from = ResumeFrom.from_in_flight(flight)
    mid = flight.decision_mid
    outcome = await _execute(
        inputs, books, decision, flight.attempt, resume_from, flight.epoch, mid
    )
    if unwinding:
        record(inputs, books, symbol, kind, Rule.LEGACY, outcome, decision, decision_mid=mid)
    else:
        record(inputs, books, symbol, kind, None, outcome, None, decision_mid=mid)


async def _execute(
    inputs: CycleInputs,
    books: Books,
    decision: Decision,
    attempt: int,
    resume: ResumeFrom | None,
    epoch: str,
    decision_mid: Decimal | None = None,
    fees: tuple[Decimal, Decimal] | None = None,
    decided: tuple[Decimal, datetime] | None = None,
) -> TwapOutcome | ExchangeError:
    async def before_place(intent: PlaceIntent) -> None:
        flight = intent.to_in_flight(decision.kind.value)
        flight = flight.model_copy(update={"decision_mid": decision_mid})
        books.status = books.status.model_copy(
            update={"in_flight": {**books.status.in_flight, decision.symbol: flight}}
        )
        books.acted = True
        if inputs.persist is not None:
            async with books.writing:  # the latest status, which has every record so far
                await inputs.persist(books.status)

    try:
        return await run_twap(
            inputs.exchange,
            inputs.venue,
            account=inputs.account,
            symbol=decision.symbol,
            attempt=attempt,
            target_quantity=decision.quantity,
            policy=inputs.policy.execution,
            resume=resume,
            on_before_place=before_place,
            urgent=decision.kind is not ExitKind.PURGE,
            epoch=epoch,
            fees=fees,
            decided=decided,
            on_notice=lambda message: inputs.events.emit(
                Event.warning(Reason.GOOD_TILL_DATE_REFUSED, message)
            ),
        )
    except ExchangeError as exc:
        return exc


def _announce(inputs: CycleInputs, status: TradingAccountStatus, d: Decision, forced: bool) -> None:
    failure = status.purge_failures.get(d.symbol)
    schedule = inputs.policy.backoff.schedule
    now = inputs.clock.now()
    left = backoff.backoff_remaining(failure, schedule, now) if failure else None
    if failure and left and left.total_seconds() > 0:
        # a forced sale inside the backoff: the backoff did not expire, a person overrode it
        inputs.events.emit(
            Event(
                Reason.MANUAL_LIQUIDATE,
                f"{d.symbol}: backoff overridden by liquidate --force "
                f"({failure.failure_count} failures, {backoff.describe_wait(left)} left)",
            )
        )
    elif failure and backoff.failure_delay(failure, schedule).total_seconds() > 0:
        ago = now - failure.last_failed_at
        inputs.events.emit(
            Event(
                Reason.BACKOFF_EXPIRED,
                f"Retrying purge for {d.symbol}: backoff "
                f"expired ({failure.failure_count} failures, last "
                f"{backoff.describe_wait(ago)} ago)",
            )
        )
    verb = "liquidate --force" if forced else d.kind.value
    inputs.events.emit(
        Event(
            Reason.PURGE_STARTED,
            f"{verb}: selling {d.quantity} {d.asset} of "
            f"{d.symbol} ({d.reason}), ~{usd(d.value_usd)}",
        )
    )


def record(
    inputs: CycleInputs,
    books: Books,
    symbol: str,
    kind: ExitKind,
    rule: Rule | None,
    outcome: TwapOutcome | ExchangeError,
    decision: Decision | None,
    *,
    decision_mid: Decimal | None = None,
    decided_at: datetime | None = None,
) -> None:
    """Book one finished sale: failures, unwind progress, counters, events and metrics.
    Without a decision-time mid (a purge resumed from a record written before it was kept)
    the cost is measured against the mid the executor started from."""
    flights = {k: v for k, v in books.status.in_flight.items() if k != symbol}
    books.status = books.status.model_copy(update={"in_flight": flights})
    cost = None
    if isinstance(outcome, TwapOutcome):
        books.outcomes[symbol] = outcome
        cost = costing.cost_of(outcome, decision_mid)
    if isinstance(outcome, TwapOutcome) and outcome.success and outcome.filled_quantity == 0:
        _unsellable(inputs, symbol, outcome)
    elif isinstance(outcome, TwapOutcome) and outcome.success and cost is not None:
        _succeeded(inputs, books, symbol, kind, rule, outcome, decision, cost)
    else:
        decided = (decision_mid, decided_at) if decision_mid and decided_at else None
        _failed(inputs, books, symbol, outcome, decision, cost, decided)
    if isinstance(outcome, TwapOutcome) and outcome.notes:
        _paced(inputs, symbol, outcome)


def _paced(inputs: CycleInputs, symbol: str, outcome: TwapOutcome) -> None:
    """What the purge decided against its schedule (``core.pace``: crossed, sold the rest at
    once) and, when it held below the slippage cap, what that gave up against the decision
    mid (issue 28). The last notes are kept when there are many: the event stays short."""
    notes = list(outcome.notes)
    text = f"{symbol}: " + "; ".join(notes[-3:])
    if len(notes) > 3:
        text = f"{symbol}: ({len(notes) - 3} earlier) " + "; ".join(notes[-3:])
    held = any(n.startswith("held ") for n in notes)
    event = Event.warning if held else Event
    inputs.events.emit(event(Reason.PURGE_PACED, text[:1000]))


def _succeeded(
    inputs: CycleInputs,
    books: Books,
    symbol: str,
    kind: ExitKind,
    rule: Rule | None,
    outcome: TwapOutcome,
    decision: Decision | None,
    cost: PurgeCost,
) -> None:
    status = books.status
    cleared = symbol in status.purge_failures
    failures = backoff.record_success(status.purge_failures, symbol)
    unwind = dict(status.unwind_progress)
    if kind is ExitKind.UNWIND and decision is not None and decision.progress is not None:
        unwind[symbol] = decision.progress
    metrics = _count(status.cleanup_metrics, outcome, rule, succeeded=True, whole=_whole(kind))
    books.status = status.model_copy(
        update={"purge_failures": failures, "unwind_progress": unwind, "cleanup_metrics": metrics}
    )
    note = ", cleared failure tracking" if cleared else ""
    inputs.events.emit(
        Event(
            _success_reason(kind),
            (
                f"{symbol}: sold {outcome.filled_quantity} at avg {outcome.average_price}, fees "
                f"{usd(outcome.fees)}, residual {usd(outcome.residual_value_usd)} left; "
                f"{describe(cost)}{note}"
            ),
        )
    )
    books.status = costing.book(inputs, books.status, symbol, "Succeeded", cost)
    _observe(inputs, "succeeded", outcome)


def _unsellable(inputs: CycleInputs, symbol: str, outcome: TwapOutcome) -> None:
    """A sale that filled nothing is no success: nothing is counted, no failure is cleared."""
    inputs.events.emit(
        Event.warning(
            Reason.UNSELLABLE_REMAINDER,
            f"{symbol}: nothing sold; {outcome.residual_quantity} "
            f"({usd(outcome.residual_value_usd)}) is below the exchange minimum: "
            "an unsellable remainder, left alone",
        )
    )


def _success_reason(kind: ExitKind) -> Reason:
    return {
        ExitKind.UNWIND: Reason.UNWIND_STEP,
        ExitKind.TRIM: Reason.EXPOSURE_TRIMMED,
        ExitKind.CLOSE: Reason.POSITION_CLOSED,
    }.get(kind, Reason.PURGE_SUCCEEDED)


def _failed(
    inputs: CycleInputs,
    books: Books,
    symbol: str,
    outcome: TwapOutcome | ExchangeError,
    decision: Decision | None,
    cost: PurgeCost | None = None,
    decided: tuple[Decimal, datetime] | None = None,
) -> None:
    status, now = books.status, inputs.clock.now()
    error, code, balance, value = _failure_facts(outcome, decision)
    schedule = inputs.policy.backoff.schedule
    failures = backoff.record_failure(
        status.purge_failures, symbol, now, error, balance, value, schedule, code, decided
    )
    count = failures[symbol].failure_count
    metrics = _count(status.cleanup_metrics, outcome, None, succeeded=False, whole=False)
    books.status = status.model_copy(
        update={"purge_failures": failures, "cleanup_metrics": metrics}
    )
    inputs.events.emit(
        Event.warning(
            Reason.PURGE_FAILED,
            (
                f"Purge sell failed for {symbol} ({code}): {error}; "
                f"tracked purge failure count={count}, "
                f"balance={balance}, value={usd(value)}"
                + (f"; {describe(cost)}" if cost is not None else "")
            ),
        )
    )
    if cost is not None:
        books.status = costing.book(inputs, books.status, symbol, "Failed", cost)
    if decision is not None and decision.rule is Rule.ZOMBIE:
        _escalate(inputs, symbol, decision)
    wait = backoff.failure_delay(failures[symbol], schedule)
    if wait.total_seconds() > 0:
        inputs.events.emit(
            Event.warning(
                Reason.BACKOFF_STARTED,
                (
                    f"{symbol}: {count} failures, skipping purges for "
                    f"{backoff.describe_wait(wait)} "
                    f"(until {_iso(failures[symbol].next_retry_at)})"
                ),
            )
        )
    if inputs.metrics is not None:
        namespace, name = account_labels(inputs)
        inputs.metrics.risk_rejections.labels(namespace, name, "purge_failed").inc()
        if code not in ("", "Filled"):
            inputs.metrics.orders_rejected.labels(namespace, name, code).inc()
    if isinstance(outcome, TwapOutcome):
        _observe(inputs, "failed", outcome)
    elif inputs.metrics is not None:
        inputs.metrics.purges.labels(*account_labels(inputs), "failed").inc()


def _escalate(inputs: CycleInputs, symbol: str, decision: Decision) -> None:
    """A zombie gets one exit attempt; its failure escalates right away, once, so no freeze
    or backoff in a later cycle can hold the zombie before anyone has heard of it."""
    inputs.events.emit(
        Event.warning(
            Reason.ZOMBIE_ESCALATED,
            f"{symbol}: zombie exit failed; escalated, not retried: needs a person "
            f"({decision.reason})",
        )
    )


def _failure_facts(
    outcome: TwapOutcome | ExchangeError, decision: Decision | None
) -> tuple[str, str, Decimal, Decimal | None]:
    """Error text, code, the quantity left and its value (None when its price is unknown: an
    event says so rather than $0.00)."""
    if isinstance(outcome, ExchangeError):
        held = decision.quantity if decision else Decimal(0)
        value = decision.value_usd if decision else None
        return str(outcome)[:500], outcome.reason_code, held, value
    code = outcome.reject.code if outcome.reject else outcome.reason.value
    detail = outcome.reject.summary if outcome.reject else ""
    error = (
        f"{outcome.reason.value}: residual {usd(outcome.residual_value_usd)} after "
        f"{outcome.slices} slices" + (f" | {detail}" if detail else "")
    )
    return error[:500], code, outcome.residual_quantity, outcome.residual_value_usd


def _whole(kind: ExitKind) -> bool:
    """Whether a sale of this kind takes the whole position away (a purge or close, the last
    unwind step included), as opposed to one unwind step or a trim, which leave it held."""
    return kind in (ExitKind.PURGE, ExitKind.CLOSE)


def _count(
    metrics: CleanupMetrics,
    outcome: TwapOutcome | ExchangeError,
    rule: Rule | None,
    *,
    succeeded: bool,
    whole: bool,
) -> CleanupMetrics:
    """The legacy protocol's counters count positions, not sale steps: a position unwound in
    four steps is one position cleaned and one legacy position unwound, counted when its last
    step closes it; a trim cleans no position."""
    update: dict[str, object] = {}
    if isinstance(outcome, TwapOutcome):
        update["fees_paid_usd"] = metrics.fees_paid_usd + outcome.fees
        update["capital_freed_usd"] = metrics.capital_freed_usd + max(
            Decimal(0), outcome.proceeds - outcome.fees
        )
    if succeeded:
        update["purges_succeeded"] = metrics.purges_succeeded + 1
    if succeeded and whole:
        update["total_positions_cleaned"] = metrics.total_positions_cleaned + 1
        if rule is Rule.ZOMBIE:
            update["zombie_positions_closed"] = metrics.zombie_positions_closed + 1
        if rule is Rule.LEGACY:
            update["legacy_positions_unwound"] = metrics.legacy_positions_unwound + 1
    if not succeeded:
        update["purges_failed"] = metrics.purges_failed + 1
    return metrics.model_copy(update=update)


def account_labels(inputs: CycleInputs) -> tuple[str, str]:
    namespace, _, name = inputs.account.partition("/")
    return namespace, name or namespace


def _observe(inputs: CycleInputs, result: str, outcome: TwapOutcome) -> None:
    if inputs.metrics is None:
        return
    labels = account_labels(inputs)
    inputs.metrics.purges.labels(*labels, result).inc()
    if outcome.filled_quantity > 0:
        inputs.metrics.fills.labels(*labels).inc()
    inputs.metrics.fees_usd.labels(*labels).inc(float(outcome.fees))
