"""The TWAP shell: performs what ``core.twap`` decides against the exchange port.

It is the only code that places, polls and cancels purge orders. Its rules, each of which keeps
a purge from selling twice:

* Before every placement ``on_before_place`` is awaited, so the operator can persist the slice
  number (``status.inFlight[symbol].slice``) first; a restart then derives the same client
  order ids and looks them up instead of placing again. When that write is slow (an API
  server paused, etcd down), the order decided before it is not sent: its price and its
  good-till time would be stale, and an order that reaches the exchange already expired is a
  failure the exchange did not cause. The shell reads the market again and decides anew.
* ``ExchangeTimeout`` on a placement means the order may exist: it is looked up by client
  order id before anything else. Other temporary errors are retried with the same client order
  id, which the port makes idempotent. 429s wait their ``retry_after`` on the clock.
* Only one order of a purge is ever open: the core places nothing while one may be.
* A task cancelled mid-purge (shutdown) cancels the order it left resting, then re-raises.
* Rejects are logged as the hardening document's ORDER_REJECT line.
* A good-till-date maker order refused for its end time (``ExpiryRefused``: the venue's
  minimum lead time is undocumented) is sent again, same client order id, good-till-
  cancelled, and so is every later maker order of the purge. Nothing else changes: the core
  cancels each maker order at its TTL itself, the restart path finds it by client order id,
  and ``on_notice`` says so once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from cleanslate.api.account import InFlightPurge, PaceInputs
from cleanslate.api.policy import Execution
from cleanslate.clock import Clock
from cleanslate.core import twap
from cleanslate.core.market import Order, OrderRequest
from cleanslate.core.pace import PaceRecord
from cleanslate.core.twap import Leg, TwapOutcome, TwapPlan
from cleanslate.exchange.errors import (
    ExchangeError,
    ExchangeTimeout,
    ExpiryRefused,
    OrderRejected,
    PermanentError,
    RateLimited,
    TemporaryError,
)
from cleanslate.exchange.port import Exchange

logger = logging.getLogger("cleanslate.execution")
T = TypeVar("T")

RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 8.0)
"""Waits between attempts of one call on temporary errors: seven attempts in ~24 s."""
REDECIDE_AFTER_SECONDS = 1.0
"""A record that took longer than this to store sends the shell back to the market for a
fresh quote: the order is decided again, after the write, and only then placed."""


@dataclass(frozen=True, slots=True)
class ResumeFrom:
    """What ``status.inFlight[symbol]`` recorded about a purge that was interrupted."""

    started_at: datetime
    target_quantity: Decimal
    last_slice: int
    """Last slice whose order was (or may have been) placed; 0 when none was."""
    epoch: str = ""
    pace: PaceRecord | None = None
    """The time-cost inputs as of the last placement: the resumed purge decides with them."""

    @classmethod
    def from_in_flight(cls, in_flight: InFlightPurge) -> ResumeFrom:
        """Resume the purge ``status.inFlight[symbol]`` describes (same ``attempt``)."""
        return cls(
            in_flight.started_at,
            in_flight.target_quantity,
            in_flight.slice,
            in_flight.epoch,
            pace_from_inputs(in_flight.pace) if in_flight.pace is not None else None,
        )


def pace_from_inputs(inputs: PaceInputs) -> PaceRecord:
    return PaceRecord(
        decision_mid=inputs.decision_mid,
        decided_at=inputs.decided_at,
        maker_fee_bps=inputs.maker_fee_bps,
        taker_fee_bps=inputs.taker_fee_bps,
        maker_legs=inputs.maker_legs,
        maker_filled_legs=inputs.maker_filled_legs,
        var_sum=inputs.var_sum,
        var_minutes=inputs.var_minutes,
        ret_sum=inputs.ret_sum,
        last_mid=inputs.last_mid,
        last_at=inputs.last_at,
    )


def pace_to_inputs(record: PaceRecord) -> PaceInputs:
    return PaceInputs(
        decided_at=record.decided_at,
        decision_mid=record.decision_mid,
        maker_fee_bps=record.maker_fee_bps,
        taker_fee_bps=record.taker_fee_bps,
        maker_legs=record.maker_legs,
        maker_filled_legs=record.maker_filled_legs,
        var_sum=record.var_sum,
        var_minutes=record.var_minutes,
        ret_sum=record.ret_sum,
        last_mid=record.last_mid,
        last_at=record.last_at,
    )


@dataclass(frozen=True, slots=True)
class PlaceIntent:
    """Passed to ``on_before_place``: persist it before the order goes out, so a restart
    derives the same client order ids (``to_in_flight`` gives the status entry)."""

    symbol: str
    attempt: int
    started_at: datetime
    target_quantity: Decimal
    slice_no: int
    leg: Leg
    client_order_id: str
    filled_quantity: Decimal
    """Filled by this purge before this placement."""
    epoch: str = ""
    pace: PaceRecord | None = None
    """The time-cost inputs as they stand (``core.pace``), stored with the record."""

    def to_in_flight(self, reason: str = "") -> InFlightPurge:
        return InFlightPurge(
            attempt=self.attempt,
            started_at=self.started_at,
            target_quantity=self.target_quantity,
            filled_quantity=self.filled_quantity,
            slice=self.slice_no,
            reason=reason,
            epoch=self.epoch,
            pace=pace_to_inputs(self.pace) if self.pace is not None else None,
        )


BeforePlace = Callable[[PlaceIntent], Awaitable[None]]
OnEvent = Callable[[twap.Action, twap.Observation], None]
OnNotice = Callable[[str], None]
"""Told, in a sentence for an event, when the executor changes how it places orders."""


async def run_twap(
    exchange: Exchange,
    clock: Clock,
    *,
    account: str,
    symbol: str,
    attempt: int,
    target_quantity: Decimal,
    policy: Execution,
    resume: ResumeFrom | None = None,
    on_before_place: BeforePlace | None = None,
    on_event: OnEvent | None = None,
    retry_delays: tuple[float, ...] = RETRY_DELAYS,
    urgent: bool = False,
    epoch: str = "",
    on_notice: OnNotice | None = None,
    fees: tuple[Decimal, Decimal] | None = None,
    decided: tuple[Decimal, datetime] | None = None,
) -> TwapOutcome:
    """Liquidate ``target_quantity`` of ``symbol``'s base asset; returns what was achieved.

    ``attempt`` must be new for each purge (``status.nextAttempt``) and the same when resuming
    (``resume`` from ``status.inFlight[symbol]``): client order ids derive from it and from
    ``epoch`` (new per purge, the resumed record's own when resuming).
    ``on_before_place`` is awaited before every placement; if it raises, nothing is placed and
    the exception propagates. ``urgent`` closes at market (one taker slice within the slippage
    cap) instead of working the order maker-first. ``on_event`` sees each performed action
    with its result. ``fees`` is the account's (maker, taker) bps as the venue reports them
    (None: the policy's ``makerFeeBps``/``takerFeeBps``); ``decided`` the mid and time the
    sale was decided at (None: the arrival mid, now): what the adaptive pace measures the
    fall from (``core.pace``).

    Raises ``ExchangeError`` only when the purge cannot start (unknown product, no quote, the
    exchange unreachable before any order); once orders flow, every failure is an outcome.
    """
    runner = _Runner(exchange, clock, symbol, retry_delays, on_before_place, on_event, on_notice)
    runner.fees, runner.decided = fees, decided
    epoch = resume.epoch if resume else epoch
    return await runner.run(account, attempt, target_quantity, policy, resume, urgent, epoch)


class _Runner:
    def __init__(
        self,
        exchange: Exchange,
        clock: Clock,
        symbol: str,
        retry_delays: tuple[float, ...],
        on_before_place: BeforePlace | None,
        on_event: OnEvent | None,
        on_notice: OnNotice | None = None,
    ) -> None:
        self.exchange, self.clock, self.symbol = exchange, clock, symbol
        self.delays = retry_delays
        self.before_place, self.on_event = on_before_place, on_event
        self.calls = 0
        self.plan: TwapPlan
        self.base = ""
        self.open_order: str | None = None
        """Exchange id of an order of this purge that may still be open."""
        self.placing: str | None = None
        """Client order id of a placement whose outcome is not known yet."""
        self.good_till_cancelled = False
        """The venue refused a good-till-date end time: maker orders go out without one."""
        self.on_notice = on_notice
        self.fees: tuple[Decimal, Decimal] | None = None
        self.decided: tuple[Decimal, datetime] | None = None
        self.recorded: tuple[str, Decimal] | None = None
        """(client order id, filled) of the last in-flight record stored by
        ``on_before_place``: every new order gets its own fenced write first."""

    async def run(
        self,
        account: str,
        attempt: int,
        target: Decimal,
        policy: Execution,
        resume: ResumeFrom | None,
        urgent: bool = False,
        epoch: str = "",
    ) -> TwapOutcome:
        product = await self.call(lambda: self.exchange.product(self.symbol))
        arrival = await self.call(lambda: self.exchange.quote(self.symbol))
        self.base = product.base
        started_at = resume.started_at if resume else self.clock.now()
        record = resume.pace if resume else None
        if record is None:
            maker, taker = self.fees or (policy.maker_fee_bps, policy.taker_fee_bps)
            mid, at = self.decided or (arrival.mid, started_at)
            record = PaceRecord(mid, at, maker, taker)
        self.plan = plan = twap.plan_twap(
            account=account,
            attempt=attempt,
            product=product,
            policy=policy,
            target_quantity=resume.target_quantity if resume else target,
            arrival=arrival,
            started_at=started_at,
            urgent=urgent,
            epoch=epoch,
            pace_record=record,
        )
        logger.info(
            "TWAP purge start %s qty=%s ~$%.2f slices=%d slice=$%s attempt=%d",
            self.symbol,
            plan.target_quantity,
            plan.arrival_value,
            len(plan.slices),
            policy.slice_usd,
            attempt,
        )
        try:
            state = await self.resumed(plan, resume) if resume else twap.start(plan)
            outcome = await self.drive(plan, state)
        except asyncio.CancelledError:
            await self.abandon()
            raise
        _log_outcome(self.symbol, plan, outcome)
        took = Decimal(str((self.clock.now() - plan.started_at).total_seconds()))
        return replace(outcome, api_calls=self.calls, duration_seconds=max(Decimal(0), took))

    async def drive(self, plan: TwapPlan, state: twap.TwapState) -> TwapOutcome:
        observation: twap.Observation = None
        while True:
            decided_at = self.clock.now()
            after, actions = twap.next_actions(plan, state, observation, decided_at)
            first = actions[0] if actions else None
            if isinstance(first, twap.Place) and await self.record(first, state, decided_at):
                observation = await self.market()  # decide again, from the state before
                continue
            state = after
            for action in actions:
                if isinstance(action, twap.Finish):
                    return action.outcome
                observation = await self.perform(plan, state, action) or observation
                if self.on_event is not None:
                    self.on_event(action, observation)

    async def perform(
        self, plan: TwapPlan, state: twap.TwapState, action: twap.Action
    ) -> twap.Observation:
        try:
            if isinstance(action, twap.Wait):
                await self.clock.sleep(float(action.seconds))
                return None
            if isinstance(action, twap.Refresh):
                return await self.market(book=action.book)
            if isinstance(action, twap.Place):
                return await self.place(action)
            if isinstance(action, twap.Poll):
                return self.seen(await self.call(lambda: self.exchange.get_order(action.order_id)))
            if isinstance(action, twap.Cancel):
                return await self.cancel(action.order_id)
        except ExchangeError as exc:
            return twap.ExchangeLost(f"{exc.reason_code}: {exc}")
        raise AssertionError(f"unknown action {action!r}")

    async def market(self, *, book: bool = False) -> twap.MarketSeen:
        quote = await self.call(lambda: self.exchange.quote(self.symbol))
        balances = await self.call(self.exchange.balances)
        available = next((b.available for b in balances if b.asset == self.base), Decimal(0))
        seen = await self.call(lambda: self.exchange.book(self.symbol)) if book else None
        return twap.MarketSeen(quote, available, seen)

    async def record(self, action: twap.Place, state: twap.TwapState, decided: datetime) -> bool:
        """Store the in-flight record before the order exists (once per order and fill level:
        each leg is a new order, and its fenced write is what stops a stale replica before
        it places). True when storing it took so long that the order must be decided again."""
        key = (action.request.client_order_id, state.filled)
        if self.before_place is None or self.recorded == key:
            return False
        plan = self.plan
        intent = PlaceIntent(
            symbol=self.symbol,
            attempt=plan.attempt,
            started_at=plan.started_at,
            target_quantity=plan.target_quantity,
            slice_no=action.slice_no,
            leg=action.leg,
            client_order_id=action.request.client_order_id,
            filled_quantity=state.filled,
            epoch=plan.epoch,
            pace=state.pace,
        )
        await self.before_place(intent)
        self.recorded = key
        took = (self.clock.now() - decided).total_seconds()
        if took <= REDECIDE_AFTER_SECONDS:
            return False
        logger.info(
            "TWAP %s: the in-flight record took %.1fs to store; deciding slice %d again",
            self.symbol,
            took,
            action.slice_no,
        )
        return True

    async def place(self, action: twap.Place) -> twap.Observation:
        request = action.request
        self.placing = request.client_order_id
        try:
            order = await self.place_with_expiry_fallback(request)
        except OrderRejected as exc:
            _log_reject(request, exc)
            self.placing = None
            return twap.PlaceRejected(
                exc.detail.error or exc.reason_code, str(exc), request.client_order_id
            )
        except PermanentError as exc:
            self.placing = None
            return twap.PlaceRejected(exc.reason_code, str(exc), request.client_order_id)
        self.placing = None
        return self.seen(order)

    async def place_with_expiry_fallback(self, request: OrderRequest) -> Order:
        """Place; a refused end time turns this and every later maker order of the purge
        good-till-cancelled (same client order id: the refused order does not exist)."""
        if self.good_till_cancelled and request.expires_at is not None:
            return await self.place_once_or_find(replace(request, expires_at=None))
        try:
            return await self.place_once_or_find(request)
        except ExpiryRefused as exc:
            if request.expires_at is None:
                raise
            self.good_till_cancelled = True
            self.notice(
                f"{self.symbol}: good-till-date refused for its end time "
                f"({exc.detail.preview_failure_reason or exc.reason_code}); maker orders of "
                "this purge are good-till-cancelled and cancelled by cleanslate at their TTL"
            )
            return await self.place_once_or_find(replace(request, expires_at=None))

    def notice(self, message: str) -> None:
        logger.warning("TWAP %s", message)
        if self.on_notice is not None:
            self.on_notice(message)

    async def place_once_or_find(self, request: OrderRequest) -> Order:
        """Place; after a timeout look the order up first, since it may exist. When the
        retries run out, one last look-up decides whether an order is out there."""
        for delay in (*self.delays, None):
            try:
                self.calls += 1
                return await self.exchange.place_order(request)
            except TemporaryError as exc:
                if isinstance(exc, ExchangeTimeout) or delay is None:
                    found = await self.find(request.client_order_id)
                    if found is not None:
                        return found
                if delay is None:
                    raise
                await self.clock.sleep(_wait(exc, delay))
        raise AssertionError("unreachable")  # pragma: no cover

    async def find(self, client_order_id: str) -> Order | None:
        return await self.call(
            lambda: self.exchange.find_order(client_order_id, product_id=self.symbol)
        )

    async def cancel(self, order_id: str) -> twap.OrderSeen:
        await self.call(lambda: self.exchange.cancel_orders([order_id]))
        return self.seen(await self.call(lambda: self.exchange.get_order(order_id)))

    def seen(self, order: Order) -> twap.OrderSeen:
        self.open_order = None if order.status.is_final else order.order_id
        return twap.OrderSeen(order)

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """One exchange call, retried on temporary errors; the last one is raised."""
        for delay in (*self.delays, None):
            try:
                self.calls += 1
                return await fn()
            except TemporaryError as exc:
                if delay is None:
                    raise
                await self.clock.sleep(_wait(exc, delay))
        raise AssertionError("unreachable")  # pragma: no cover

    async def resumed(self, plan: TwapPlan, resume: ResumeFrom) -> twap.TwapState:
        """Find every order the interrupted run may have placed; cancel open ones; count fills.
        Slices up to ``last_slice`` are never placed again: their ids are spent."""
        orders: list[Order] = []
        for slice_no in range(1, resume.last_slice + 1):
            for leg in twap.ORDER_LEGS:
                cid = twap.client_order_id(
                    plan.account, self.symbol, plan.attempt, slice_no, leg, plan.epoch
                )
                order = await self.find(cid)
                while order is not None and not order.status.is_final:
                    logger.info("TWAP resume: cancelling adopted order %s", order.order_id)
                    order = (await self.cancel(order.order_id)).order
                if order is not None:
                    orders.append(order)
        return twap.resume(plan, resume.last_slice, tuple(orders))

    async def abandon(self) -> None:
        """Shutdown mid-purge: cancel what this purge left resting (best effort)."""
        try:
            if self.placing is not None and self.open_order is None:
                found = await self.exchange.find_order(self.placing, product_id=self.symbol)
                if found is not None and not found.status.is_final:
                    self.open_order = found.order_id
            if self.open_order is not None:
                await self.call(lambda: self.exchange.cancel_orders([self.open_order or ""]))
                logger.warning("TWAP %s abandoned: cancelled %s", self.symbol, self.open_order)
        except ExchangeError as exc:
            logger.error("TWAP %s abandoned: could not cancel its order: %s", self.symbol, exc)


def _wait(exc: TemporaryError, delay: float) -> float:
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        return max(delay, exc.retry_after)
    return delay


def _log_reject(request: OrderRequest, exc: OrderRejected) -> None:
    error_msg = " | ".join(
        p for p in (f"Order placement failed: {exc.reason_code}", exc.detail.summary()) if p
    )
    logger.error(
        "ORDER_REJECT %s %s client_id=%s | %s | raw_response=%s",
        request.product_id,
        request.side.value.upper(),
        request.client_order_id,
        error_msg,
        exc.detail.raw,
    )


def _log_outcome(symbol: str, plan: TwapPlan, outcome: TwapOutcome) -> None:
    if outcome.success:
        if outcome.reason is twap.StopReason.FILLED and outcome.residual_quantity > 0:
            logger.info(
                "TWAP: residual $%.2f below minimum notional $%s, stopping",
                outcome.residual_value_usd,
                plan.product.min_notional,
            )
        logger.info(
            "TWAP liquidation complete %s filled=%s avg_price=%s fees=%s",
            symbol,
            outcome.filled_quantity,
            outcome.average_price,
            outcome.fees,
        )
        return
    logger.warning(
        "Purge sell failed for %s: %s residual ~$%.2f > threshold $%s",
        symbol,
        outcome.reason.value,
        outcome.residual_value_usd,
        plan.policy.max_residual_usd,
    )
