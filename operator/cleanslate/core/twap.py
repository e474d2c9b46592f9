"""The maker-first TWAP liquidation as a plan plus a step function (no I/O, no clock).

``plan_twap`` decides the schedule up front; ``next_actions(plan, state, observation, now)``
reads what the shell last saw and returns the new state plus the actions to perform next. The
shell performs them in order and feeds back the result of the last one (``Refresh`` ->
``MarketSeen``, ``Place``/``Poll``/``Cancel`` -> ``OrderSeen`` or ``PlaceRejected``).

How each ``purge_execution`` knob is read (``Execution`` in ``cleanslate.api.policy``):

* ``sliceUsd``: planned slice value. The plan uses ``floor(value / sliceUsd)`` slices (at least
  one, each at least the minimum notional), so a remainder too small to sell is merged into
  the last slice: the SEI $5.69 and BONK $9.48 positions are one slice each. The plan never
  uses more slices than ``maxSlices`` or than ``maxDurationSeconds / replaceSeconds`` time
  slots allow; a large position gets bigger slices instead of a plan that cannot finish.
  Before each slice its size is re-derived as remaining / slices left, so an under-filled slice
  is spread over the rest of the schedule; it is always capped by the remaining target and the
  available balance, and never leaves an unsellable tail.
* ``makerFirstTtlSec`` / ``makerRetryTtlSec``: lives of the first post-only order and of the
  re-priced retry. Both sit at the touch (one tick inside the best ask when the spread allows,
  at the ask on a one-tick spread), each priced from a fresh quote. ``makerTtlSec`` caps both,
  and both are cut to what is left of the slice's ``replaceSeconds`` budget. Once a maker leg
  of the purge has filled, later maker legs rest for the rest of the slice budget instead
  (``_maker_ttl``): the TTL follows the observed fill rate.
* ``replaceSeconds``: time budget of one slice; the taker leg (immediate-or-cancel) runs when
  the maker legs end, so the slice ends by the budget plus one round trip.
* ``allowTakerFallback``: without it a slice is maker-first plus maker-retry only.
* ``takerFallbackThresholdUsd``: when the position's arrival value (target x arrival mid) is
  above it, the slice goes to the taker leg right after the first maker timeout and skips the
  re-priced retry; at or below it, the retry comes first. No effect without taker fallback.
* ``takerMaxSlippageBps``: the taker leg is an IOC limit at ``arrival bid x (1 - bps/10000)``
  (rounded up to the quote increment); it is not placed when the bid is already below it.
* ``pollIntervalSeconds``: a resting order is polled this often (shell waits via its clock).
* ``maxDurationSeconds``: from ``started_at``; at the deadline a resting order is cancelled and
  the purge stops. ``maxSlices`` and ``maxConsecutiveNoFill`` stop it likewise.
* ``pace`` and ``queueRest``: the adaptive pace (``core.pace``) may cross a slice or sell the
  rest at once when waiting costs more than resting saves; with ``queueRest``, a slice it would
  cross for a touch rarely reached (not for a fall) instead rests one post-only order for
  everything left, good till the purge's deadline, while the queue the book shows ahead of it
  is expected to trade in time (``_on_queue``); the book is read at once after placing and
  every ``pace.LOOK_SECONDS``.
* ``maxResidualUsd``: when the purge stops with a sellable residual, it still succeeds if that
  residual is worth at most this and something was sold; otherwise it fails. A residual that
  cannot be sold (below the minimum notional or base size) is always a success (SEI, WLFI).

A post-only order that would cross goes to the taker leg at once (to the re-priced retry when
taker fallback is off); INSUFFICIENT_BALANCE moves to the next leg, which re-reads the balance
(three rejects in a slice stop the purge); any other reject stops the purge (BONK).

Restart: ``resume`` counts the fills of every order an interrupted run placed (the shell finds
them by client order id and cancels open ones) and continues after its last slice, so no slice,
and no client order id, is ever used twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import StrEnum

from cleanslate.api.policy import CrashAction, Execution, Pace
from cleanslate.core import pace
from cleanslate.core.market import (
    BPS,
    Book,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    Quote,
    Side,
)
from cleanslate.core.pace import QueueWatch

ZERO = Decimal("0")
MAX_BALANCE_REJECTS = 3
POST_ONLY_CROSS = "INVALID_LIMIT_PRICE_POST_ONLY"
INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
ID_REUSED = "CLIENT_ORDER_ID_REUSED"
"""The exchange answered a placement with an order that is not this purge's (see belongs)."""
CLOCK_SKEW = timedelta(seconds=60)


class Leg(StrEnum):
    """Where a slice is: the order it places next (or ``DONE`` between slices)."""

    MAKER_FIRST = "maker-first"
    MAKER_RETRY = "maker-retry"
    TAKER = "taker"
    DONE = "done"


_LEG_CODES = {Leg.MAKER_FIRST: "m1", Leg.MAKER_RETRY: "m2", Leg.TAKER: "tk"}
ORDER_LEGS = (Leg.MAKER_FIRST, Leg.MAKER_RETRY, Leg.TAKER)


class StopReason(StrEnum):
    """Why a purge stopped; a bounded label for events and metrics."""

    FILLED = "Filled"
    MAX_SLICES = "MaxSlices"
    MAX_DURATION = "MaxDuration"
    NO_FILL = "MaxConsecutiveNoFill"
    REJECTED = "Rejected"
    EXCHANGE_UNAVAILABLE = "ExchangeUnavailable"


def client_order_id(
    account: str, symbol: str, attempt: int, slice_no: int, leg: Leg, epoch: str = ""
) -> str:
    """Deterministic, short (< 64 chars) id: a restarted executor derives the same one and
    finds its order instead of placing another. The hash keeps accounts apart; the readable
    tail helps a person reading exchange history. ``epoch`` is chosen when the in-flight
    record is created and kept with it: attempt numbers restart at 1 when the status is lost
    or restored from an old copy, and without it the exchange would answer a new placement
    with the old order of the same id (records written before epochs existed have none)."""
    code = _LEG_CODES[leg]
    salt = f"|{epoch}" if epoch else ""
    key = f"{account}|{symbol}|{attempt}|{slice_no}|{code}{salt}".encode()
    return f"cs-{hashlib.sha256(key).hexdigest()[:24]}-a{attempt}-s{slice_no}-{code}"


# --- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwapPlan:
    """Everything decided up front; the step function only reads it."""

    account: str
    attempt: int
    product: Product
    policy: Execution
    target_quantity: Decimal
    arrival: Quote
    started_at: datetime
    slices: tuple[Decimal, ...]
    """Planned base quantities; they sum to ``target_quantity``."""
    urgent: bool = False
    """A market close (dust, zombie, over cap, unwind step, trim): one slice, straight to
    the taker leg, still within the slippage cap. The documents close these at market."""
    epoch: str = ""
    """Kept with the in-flight record; part of every client order id (see client_order_id)."""
    pace: pace.PaceRecord | None = None
    """The time-cost inputs at the start (``core.pace``); None: the schedule rests as fixed."""

    @property
    def adaptive(self) -> bool:
        return self.pace is not None and self.policy.pace is Pace.ADAPTIVE and not self.urgent

    @property
    def deadline(self) -> datetime:
        return self.started_at + _seconds(self.policy.max_duration_seconds)

    @property
    def arrival_value(self) -> Decimal:
        return self.target_quantity * self.arrival.mid

    @property
    def skip_maker_retry(self) -> bool:
        """Large positions (above takerFallbackThresholdUsd) go to the taker after one maker."""
        p = self.policy
        return p.allow_taker_fallback and self.arrival_value > p.taker_fallback_threshold_usd

    @property
    def taker_floor(self) -> Decimal:
        """Worst taker price: takerMaxSlippageBps below the arrival bid."""
        return self._floor(self.policy.taker_max_slippage_bps)

    def floor_for(self, bid: Decimal) -> Decimal:
        """The taker floor for a market whose bid is ``bid``: the slippage cap, or, when the
        bid has fallen through it and the policy says ``crash: widen``, the crash cap."""
        floor = self.taker_floor
        if bid < floor and self.policy.crash is CrashAction.WIDEN:
            return max(floor.min(self._floor(self.policy.crash_max_slippage_bps)), ZERO)
        return floor

    def _floor(self, bps: Decimal) -> Decimal:
        floor = self.arrival.bid * (1 - bps / BPS)
        return _round(floor, self.product.price_tick, ROUND_UP)

    def time_slots(self, now: datetime) -> int:
        """Whole slice budgets left before the deadline (at least one)."""
        left = Decimal(str((self.deadline - now).total_seconds()))
        return max(1, int(left // self.policy.replace_seconds))


def plan_twap(
    *,
    account: str,
    attempt: int,
    product: Product,
    policy: Execution,
    target_quantity: Decimal,
    arrival: Quote,
    started_at: datetime,
    urgent: bool = False,
    epoch: str = "",
    pace_record: pace.PaceRecord | None = None,
) -> TwapPlan:
    """Plan the slices. The target is rounded down to the base increment: never more than held.
    ``pace_record``: the time-cost inputs (``core.pace``), kept with the purge; None: fixed."""
    target = max(ZERO, _round(target_quantity, product.base_increment, ROUND_DOWN))
    plan = TwapPlan(
        account,
        attempt,
        product,
        policy,
        target,
        arrival,
        started_at,
        (),
        urgent,
        epoch,
        pace_record,
    )
    count = 1 if urgent else _slice_count(plan, target, arrival.bid, started_at, 1)
    return replace(plan, slices=_split(target, count, product.base_increment))


def _slice_count(plan: TwapPlan, qty: Decimal, price: Decimal, now: datetime, first: int) -> int:
    """Slices for ``qty`` from slice number ``first`` on, within every limit of the policy."""
    p, product = plan.policy, plan.product
    smallest = max(p.slice_usd, product.min_notional, product.min_base_size * price)
    by_value = int(qty * price // smallest) if smallest > 0 else 1
    return max(1, min(by_value, p.max_slices - first + 1, plan.time_slots(now)))


def _split(qty: Decimal, count: int, increment: Decimal) -> tuple[Decimal, ...]:
    each = _round(qty / count, increment, ROUND_DOWN)
    return (*([each] * (count - 1)), qty - each * (count - 1))


# --- state, observations, actions ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reject:
    code: str
    summary: str
    client_order_id: str


@dataclass(frozen=True, slots=True)
class TwapOutcome:
    """What a purge achieved; ``api_calls`` is filled in by the shell."""

    success: bool
    reason: StopReason
    target_quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None
    proceeds: Decimal
    fees: Decimal
    residual_quantity: Decimal
    residual_value_usd: Decimal
    slices: int
    requests: tuple[OrderRequest, ...]
    reject: Reject | None = None
    open_order_id: str | None = None
    """An order that may still be open because the exchange stopped answering."""
    api_calls: int = 0
    arrival_mid: Decimal | None = None
    """The mid when the executor started (or resumed) the purge."""
    last_bid: Decimal | None = None
    """The last bid the purge saw: what its unsold quantity is charged at (core.shortfall)."""
    duration_seconds: Decimal = ZERO
    """From the purge's start (the first run's, when resumed) to its end; set by the shell."""
    notes: tuple[str, ...] = ()
    """What the purge decided against its schedule (core.pace verdicts) and, when it held
    below the slippage cap, what that gave up against the decision mid."""


@dataclass(frozen=True, slots=True)
class TwapState:
    """Progress of one purge. ``order`` is the order of this purge that may still be open."""

    started_at: datetime
    slice_no: int = 0
    leg: Leg = Leg.DONE
    slice_started_at: datetime | None = None
    slice_quantity: Decimal = ZERO
    slice_filled: Decimal = ZERO
    order: Order | None = None
    order_deadline: datetime | None = None
    cancelling: bool = False
    filled: Decimal = ZERO
    proceeds: Decimal = ZERO
    fees: Decimal = ZERO
    no_fill_slices: int = 0
    maker_filled: bool = False
    """The purge's last finished maker leg filled something: the queue is seen to move."""
    balance_rejects: int = 0
    bid: Decimal | None = None
    available: Decimal | None = None
    requests: tuple[OrderRequest, ...] = field(default_factory=tuple)
    stop: StopReason | None = None
    reject: Reject | None = None
    outcome: TwapOutcome | None = None
    pace: pace.PaceRecord | None = None
    """The time-cost inputs as they stand (fill share, volatility seen): persisted."""
    hurry: bool = False
    """This slice's maker legs are given up: waiting was judged to cost more (core.pace).
    After a hurried slice the next one starts one ``replaceSeconds`` after it began, as
    scheduled: a crossed slice keeps the schedule's time, and what a shortened one could not
    sell within the cap waits for the book to refill instead of spending the empty-slice
    budget at once."""
    verdicts: tuple[str, ...] = ()
    """Each non-rest verdict of the purge, for its event: "slice 3: shorten (...)"."""
    queue: QueueWatch | None = None
    """This slice rests one order for what is left on the queue the book shows ahead of it
    (``execution.queueRest``); None: the schedule's legs."""


@dataclass(frozen=True, slots=True)
class MarketSeen:
    quote: Quote
    available: Decimal
    """Available (sellable) balance of the base asset."""
    book: Book | None = None
    """The order book, when ``Refresh(book=True)`` asked for it (resting on the queue)."""


@dataclass(frozen=True, slots=True)
class OrderSeen:
    order: Order


@dataclass(frozen=True, slots=True)
class PlaceRejected:
    code: str
    summary: str
    client_order_id: str


@dataclass(frozen=True, slots=True)
class ExchangeLost:
    """Temporary errors outlasted the shell's retry budget."""

    detail: str


Observation = MarketSeen | OrderSeen | PlaceRejected | ExchangeLost | None


@dataclass(frozen=True, slots=True)
class Refresh:
    """Fetch a fresh quote and the available balance; answer ``MarketSeen``."""

    book: bool = False
    """Also the order book: the queue ahead of a resting order is read there."""


@dataclass(frozen=True, slots=True)
class Place:
    request: OrderRequest
    slice_no: int
    leg: Leg


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: Decimal


@dataclass(frozen=True, slots=True)
class Poll:
    order_id: str


@dataclass(frozen=True, slots=True)
class Cancel:
    order_id: str


@dataclass(frozen=True, slots=True)
class Finish:
    outcome: TwapOutcome


Action = Refresh | Place | Wait | Poll | Cancel | Finish
Step = tuple[TwapState, tuple[Action, ...]]


def start(plan: TwapPlan) -> TwapState:
    return TwapState(started_at=plan.started_at, pace=plan.pace)


def placed_by_this_purge(epoch: str, started_at: datetime, created_at: datetime) -> bool:
    """Whether an order found under one of a purge's client ids was placed by that purge.

    Decided from what one clock wrote, never from the venue's clock against ours: a purge
    with an epoch (every record written since epochs exist) put a random epoch into each of
    its client ids and into its record, so an order under such an id is its own, whatever
    time the venue stamps on it. A replica whose clock runs minutes away from the exchange's
    used to reject its own just-placed order here. Only a record without an epoch, whose
    ids a lost status can reuse, falls back to comparing times (``CLOCK_SKEW``)."""
    return bool(epoch) or created_at >= started_at - CLOCK_SKEW


def belongs(plan: TwapPlan, order: Order) -> bool:
    """Whether an order the exchange returned for one of this purge's client ids is this
    purge's: a sale of this product, no larger than the purge, placed by this purge
    (``placed_by_this_purge``). Anything else is an older order under a reused id, and its
    fills are not this purge's to count."""
    return (
        order.product_id == plan.product.product_id
        and order.side is Side.SELL
        and order.base_size <= plan.target_quantity
        and placed_by_this_purge(plan.epoch, plan.started_at, order.created_at)
    )


def resume(plan: TwapPlan, last_slice: int, orders: tuple[Order, ...]) -> TwapState:
    """State of a restarted purge: slices up to ``last_slice`` are over (their client ids are
    spent) and the fills of their orders, which must all be final, are counted; an order that
    does not belong to the purge counts for nothing."""
    state = replace(start(plan), slice_no=last_slice)
    for order in orders:
        if belongs(plan, order):
            state = _count_fills(state, order)
    return replace(state, slice_filled=ZERO)


# --- the step function ---------------------------------------------------------------------


def next_actions(plan: TwapPlan, state: TwapState, observation: Observation, now: datetime) -> Step:
    """Decide what to do after ``observation`` (None to begin)."""
    if state.outcome is not None:
        return state, (Finish(state.outcome),)
    if isinstance(observation, MarketSeen):
        if _resting(state):  # a look while a maker order rests: its hold is not available
            return _on_look(plan, replace(state, bid=observation.quote.bid), observation, now)
        state = replace(state, bid=observation.quote.bid, available=observation.available)
        return _on_market(plan, state, observation.quote, now)
    if isinstance(observation, OrderSeen):
        return _on_order(plan, state, observation.order, now)
    if isinstance(observation, PlaceRejected):
        reject = Reject(observation.code, observation.summary, observation.client_order_id)
        return _on_reject(plan, replace(state, order=None), reject, now)
    if isinstance(observation, ExchangeLost):
        return _stop(plan, state, StopReason.EXCHANGE_UNAVAILABLE, now)
    return state, (Refresh(),)


def _on_market(plan: TwapPlan, state: TwapState, quote: Quote, now: datetime) -> Step:
    if state.stop is not None:
        return _finish(plan, state)
    if now >= plan.deadline:  # also mid-slice: no taker leg after the purge's time is up
        return _finish(plan, replace(state, stop=StopReason.MAX_DURATION))
    if state.leg is Leg.DONE:
        reason = _stop_before_slice(plan, state, now)
        if reason is not None:
            return _finish(plan, replace(state, stop=reason))
        state = _begin_slice(plan, state, quote.bid, now)
        state = _pace_slice(plan, state, quote, now)
    while state.leg is not Leg.DONE:
        place = _leg_order(plan, state, quote, now)
        if place is not None:
            request, deadline = place
            requests = (*state.requests, request)
            state = replace(state, requests=requests, order_deadline=deadline)
            return state, (Place(request, state.slice_no, state.leg),)
        crossed = state.leg is not Leg.TAKER and _maker_price(plan, quote) is None
        state = _after_leg(plan, state, now, crossed=crossed)
    return _end_slice(plan, state, now)


def _stop_before_slice(plan: TwapPlan, state: TwapState, now: datetime) -> StopReason | None:
    if not _sellable(plan, _residual(plan, state), state.bid or plan.arrival.bid):
        return StopReason.FILLED
    if now >= plan.deadline:
        return StopReason.MAX_DURATION
    if state.no_fill_slices >= plan.policy.max_consecutive_no_fill:
        # Slices that went unfilled because the venue refused their orders (a taker-only
        # pace has one leg a slice) end as the refusal, with its code, not as "no fill".
        return StopReason.NO_FILL if state.reject is None else StopReason.REJECTED
    if state.slice_no >= plan.policy.max_slices:
        return StopReason.MAX_SLICES
    return None


def _begin_slice(plan: TwapPlan, state: TwapState, bid: Decimal, now: datetime) -> TwapState:
    """Size the next slice: what is left spread over the slices left, no unsellable tail."""
    slice_no, remaining = state.slice_no + 1, _residual(plan, state)
    count = 1 if plan.urgent else _slice_count(plan, remaining, bid, now, slice_no)
    count = max(1, min(count, len(plan.slices) - slice_no + 1))
    qty = _round(remaining / count, plan.product.base_increment, ROUND_DOWN)
    if not _sellable(plan, qty, bid) or not _sellable(plan, remaining - qty, bid):
        qty = remaining
    return replace(
        state,
        slice_no=slice_no,
        leg=Leg.TAKER if plan.urgent else Leg.MAKER_FIRST,
        slice_started_at=now,
        slice_quantity=qty,
        slice_filled=ZERO,
        balance_rejects=0,
        queue=None,
    )


def _leg_order(
    plan: TwapPlan, state: TwapState, quote: Quote, now: datetime
) -> tuple[OrderRequest, datetime | None] | None:
    """The order of the current leg, or None when the leg cannot or need not be placed."""
    qty = min(state.slice_quantity - state.slice_filled, _residual(plan, state))
    qty = _round(qty, plan.product.base_increment, ROUND_DOWN)
    cid = client_order_id(
        plan.account, plan.product.product_id, plan.attempt, state.slice_no, state.leg, plan.epoch
    )
    if state.leg is Leg.TAKER:
        price = max(plan.floor_for(quote.bid), _min_notional_price(plan, qty))
        if qty <= 0 or price > quote.bid or not _sellable(plan, qty, price):
            return None
        request = _request(plan, cid, qty, price, post_only=False)
        return replace(request, immediate_or_cancel=True), None
    maker_price = _maker_price(plan, quote)
    ttl = _maker_ttl(plan, state, now)
    if maker_price is None or ttl <= 0 or not _sellable(plan, qty, maker_price):
        return None
    price = maker_price
    deadline = now + _seconds(ttl)
    return replace(_request(plan, cid, qty, price, post_only=True), expires_at=deadline), deadline


def _maker_price(plan: TwapPlan, quote: Quote) -> Decimal | None:
    """At the touch: one tick inside the best ask when the spread allows, so the order is first
    in the queue instead of behind everything resting at the ask; at the ask on a one-tick
    spread. Each leg prices from its own fresh quote. None: the book is crossed or locked."""
    tick = plan.product.price_tick
    price = _round(quote.ask, tick, ROUND_UP)
    if price - tick > quote.bid:
        price -= tick
    return price if price > quote.bid else None


def _maker_ttl(plan: TwapPlan, state: TwapState, now: datetime) -> Decimal:
    """The configured TTL until the purge has seen a maker fill; after one, the rest of the
    slice budget. A queue that moved will move again, and a resting order re-placed later
    starts at the back of the queue: on the paper market's calibrated and skeptic models
    this earned 3-5 bps on the large basket (docs/design.md) and changed nothing where
    makers never fill. Never past ``replaceSeconds`` nor the purge's deadline."""
    p = plan.policy
    if state.queue is not None:  # resting on the queue: until the purge's time is up
        return Decimal(str((plan.deadline - now).total_seconds()))
    ttl = p.maker_first_ttl_sec if state.leg is Leg.MAKER_FIRST else p.maker_retry_ttl_sec
    slice_end = (state.slice_started_at or now) + _seconds(p.replace_seconds)
    left = Decimal(str((min(slice_end, plan.deadline) - now).total_seconds()))
    if state.maker_filled:
        return left
    return min(ttl, p.maker_ttl_sec, left)


def _request(
    plan: TwapPlan, cid: str, qty: Decimal, price: Decimal, *, post_only: bool
) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        product_id=plan.product.product_id,
        side=Side.SELL,
        base_size=qty,
        order_type=OrderType.LIMIT,
        limit_price=price,
        post_only=post_only,
    )


def _after_leg(plan: TwapPlan, state: TwapState, now: datetime, *, crossed: bool) -> TwapState:
    """The next leg of the slice, or ``DONE`` when the slice is over."""
    p, leg = plan.policy, state.leg
    remaining = min(state.slice_quantity - state.slice_filled, _residual(plan, state))
    if not _sellable(plan, remaining, state.bid or plan.arrival.bid) or leg is Leg.TAKER:
        return replace(state, leg=Leg.DONE)
    hurry = state.hurry
    if p.allow_taker_fallback and (
        crossed or hurry or leg is Leg.MAKER_RETRY or plan.skip_maker_retry
    ):
        return replace(state, leg=Leg.TAKER)
    if leg is Leg.MAKER_FIRST and _maker_ttl(plan, replace(state, leg=Leg.MAKER_RETRY), now) > 0:
        return replace(state, leg=Leg.MAKER_RETRY)
    return replace(state, leg=Leg.TAKER if p.allow_taker_fallback else Leg.DONE)


def _end_slice(plan: TwapPlan, state: TwapState, now: datetime) -> Step:
    no_fill = 0 if state.slice_filled > 0 else state.no_fill_slices + 1
    done = replace(state, leg=Leg.DONE, no_fill_slices=no_fill, hurry=False, queue=None)
    if state.hurry and state.slice_started_at is not None:
        due = min(state.slice_started_at + _seconds(plan.policy.replace_seconds), plan.deadline)
        left = Decimal(str((due - now).total_seconds()))
        if left > 0 and _sellable(plan, _residual(plan, state), state.bid or plan.arrival.bid):
            return done, (Wait(left), Refresh())
    return done, (Refresh(),)


def _next_leg(plan: TwapPlan, state: TwapState, now: datetime, *, crossed: bool = False) -> Step:
    state = _after_leg(plan, state, now, crossed=crossed)
    if state.leg is Leg.DONE:
        return _end_slice(plan, state, now)
    return state, (Refresh(),)


def _on_order(plan: TwapPlan, state: TwapState, order: Order, now: datetime) -> Step:
    if not belongs(plan, order):
        reject = Reject(ID_REUSED, f"order {order.order_id} is not this purge's", "")
        return _finish(plan, replace(state, order=None, stop=StopReason.REJECTED, reject=reject))
    if order.status is OrderStatus.REJECTED:
        reject = Reject(
            order.reject_reason or "UNKNOWN_FAILURE_REASON",
            order.reject_reason or "",
            order.client_order_id,
        )
        return _on_reject(plan, replace(state, order=None), reject, now)
    if order.status.is_final:
        state = replace(_count_fills(state, order), order=None, cancelling=False)
        if state.leg in (Leg.MAKER_FIRST, Leg.MAKER_RETRY):
            state = replace(state, maker_filled=order.filled_size > 0)
            if state.pace is not None:
                state = replace(state, pace=pace.maker_ended(state.pace, order.filled_size > 0))
        if state.stop is not None:
            return _finish(plan, state)
        return _next_leg(plan, state, now)
    state = replace(state, order=order)
    wait = Wait(plan.policy.poll_interval_seconds)
    if state.cancelling:
        return state, (wait, Cancel(order.order_id))
    if now >= plan.deadline:
        return replace(state, stop=StopReason.MAX_DURATION, cancelling=True), (
            Cancel(order.order_id),
        )
    if state.order_deadline is None or now >= state.order_deadline:
        return replace(state, cancelling=True), (Cancel(order.order_id),)
    left = Decimal(str((state.order_deadline - now).total_seconds()))
    wait = Wait(min(plan.policy.poll_interval_seconds, left))
    if state.queue is not None and state.queue.first_ahead is None:
        return state, (Refresh(book=True),)  # where the order stands in the queue: at once
    look_in = _look_in(plan, state, now)
    if look_in is not None and look_in <= 0:
        return state, (Refresh(book=state.queue is not None),)
    if look_in is not None:
        wait = Wait(min(wait.seconds, look_in))
    return state, (wait, Poll(order.order_id))


def _on_reject(plan: TwapPlan, state: TwapState, reject: Reject, now: datetime) -> Step:
    if reject.code == POST_ONLY_CROSS and state.leg in (Leg.MAKER_FIRST, Leg.MAKER_RETRY):
        return _next_leg(plan, state, now, crossed=True)
    if reject.code == INSUFFICIENT_BALANCE and state.balance_rejects + 1 < MAX_BALANCE_REJECTS:
        # The next leg re-reads the balance and sells at most what is available; a new leg
        # means a new client order id, so a rejected id is never sent twice.
        # The reject is kept: if the purge then ends without fills, it ended because of it.
        state = replace(state, balance_rejects=state.balance_rejects + 1, reject=reject)
        return _next_leg(plan, state, now)
    return _finish(plan, replace(state, stop=StopReason.REJECTED, reject=reject))


def _stop(plan: TwapPlan, state: TwapState, reason: StopReason, now: datetime) -> Step:
    """Stop; an order that may still be open is cancelled first (never left behind), unless
    the exchange was already lost once: then the outcome names the order instead."""
    lost_again = state.stop is StopReason.EXCHANGE_UNAVAILABLE
    state = replace(state, stop=reason)
    if state.order is not None and not state.order.status.is_final and not lost_again:
        return replace(state, cancelling=True), (Cancel(state.order.order_id),)
    return _finish(plan, state)


def _finish(plan: TwapPlan, state: TwapState) -> Step:
    reason = state.stop or StopReason.FILLED
    bid = state.bid or plan.arrival.bid
    residual = _residual(plan, state)
    value = residual * bid
    if _sellable(plan, residual, bid):
        success = state.filled > 0 and value <= plan.policy.max_residual_usd
    else:
        success = True
    outcome = TwapOutcome(
        success=success,
        reason=reason,
        target_quantity=plan.target_quantity,
        filled_quantity=state.filled,
        average_price=state.proceeds / state.filled if state.filled > 0 else None,
        proceeds=state.proceeds,
        fees=state.fees,
        residual_quantity=residual,
        residual_value_usd=value,
        slices=state.slice_no,
        requests=state.requests,
        reject=state.reject,
        open_order_id=state.order.order_id if state.order is not None else None,
        arrival_mid=plan.arrival.mid,
        last_bid=bid,
        notes=(*state.verdicts, *_held_note(plan, state, residual, bid)),
    )
    state = replace(state, leg=Leg.DONE, stop=reason, outcome=outcome)
    return state, (Finish(outcome),)


def _held_note(
    plan: TwapPlan, state: TwapState, residual: Decimal, bid: Decimal
) -> tuple[str, ...]:
    """When a sellable residual is left because the bid fell through the cap (crash: hold),
    say what holding gave up so far against the decision mid."""
    if not _sellable(plan, residual, bid) or bid >= plan.floor_for(bid):
        return ()
    mid = state.pace.decision_mid if state.pace is not None else plan.arrival.mid
    below = (mid - bid) / mid * BPS if mid > 0 else ZERO
    return (
        f"held {residual} unsold: the bid {bid} is below the slippage cap "
        f"{plan.floor_for(bid)} ({below:.0f} bps below the decision mid {mid}); "
        "retried after the backoff (crash: hold)",
    )


# --- time as a cost (core.pace) ------------------------------------------------------------


def _resting(state: TwapState) -> bool:
    order = state.order
    return order is not None and not order.status.is_final and not state.cancelling


def _look_in(plan: TwapPlan, state: TwapState, now: datetime) -> Decimal | None:
    """Seconds until a resting maker order's market is looked at (adaptive pace only, every
    ``pace.LOOK_SECONDS`` on the dot: one quote and balance read, on top of the polls; a
    look is not put off to the next poll, since a fall seen two seconds late is sold two
    seconds lower). None: no looks."""
    record = state.pace
    if not plan.adaptive or record is None or state.leg is Leg.TAKER:
        return None
    if not plan.policy.allow_taker_fallback:
        return None
    last = record.last_at or record.decided_at
    return pace.LOOK_SECONDS - Decimal(str((now - last).total_seconds()))


def _schedule_seconds(plan: TwapPlan, state: TwapState, now: datetime) -> Decimal:
    """How long what is left waits on average if the schedule is kept: the slices left end
    one budget apart, so the average slice ends (slices + 1) / 2 budgets from now, within the
    deadline."""
    left = max(ZERO, Decimal(str((plan.deadline - now).total_seconds())))
    slices = max(1, len(plan.slices) - state.slice_no + (0 if state.leg is Leg.DONE else 1))
    return min(left, plan.policy.replace_seconds * (slices + 1) / 2)


def _judge(
    plan: TwapPlan, state: TwapState, quote: Quote, now: datetime, rest: Decimal
) -> tuple[TwapState, pace.Verdict]:
    state, decision = _decide(plan, state, quote, now, rest)
    if decision is None:
        return state, pace.Verdict.REST
    if decision.verdict is not pace.Verdict.REST:
        state = _noted(state, decision)
    return state, decision.verdict


def _noted(state: TwapState, decision: pace.Decision) -> TwapState:
    note = (
        f"slice {state.slice_no}: {decision.verdict.value} (fall "
        f"{-decision.trend_bps_per_minute:.1f} bps/min beyond noise; waiting "
        f"{max(decision.slice_wait_bps, decision.schedule_wait_bps):.1f} bps > resting "
        f"saves {decision.saving_bps:.1f} bps)"
    )
    return replace(state, verdicts=(*state.verdicts, note))


def _decide(
    plan: TwapPlan, state: TwapState, quote: Quote, now: datetime, rest: Decimal
) -> tuple[TwapState, pace.Decision | None]:
    record = state.pace
    if not plan.adaptive or record is None or not plan.policy.allow_taker_fallback:
        return state, None
    record = pace.look(record, quote.mid, now)
    spread = (quote.ask - quote.bid) / quote.mid * BPS if quote.mid > 0 else ZERO
    decision = pace.decide(
        record,
        mid=quote.mid,
        spread_bps=spread,
        now=now,
        rest_seconds=rest,
        schedule_seconds=_schedule_seconds(plan, state, now),
    )
    return replace(state, pace=record), decision


def _hurry(plan: TwapPlan, state: TwapState, verdict: pace.Verdict) -> TwapState:
    """Give up the slice's maker legs; on SHORTEN the slice takes everything left."""
    state = replace(state, hurry=True)
    if verdict is pace.Verdict.SHORTEN:
        left = state.slice_filled + _residual(plan, state)
        state = replace(state, slice_quantity=left)
    return state


def _pace_slice(plan: TwapPlan, state: TwapState, quote: Quote, now: datetime) -> TwapState:
    """Before a slice rests: rest as scheduled, or go to the taker leg at once."""
    if state.leg is not Leg.MAKER_FIRST:
        return state
    rest = min(plan.policy.maker_first_ttl_sec, plan.policy.maker_ttl_sec)
    state, decision = _decide(plan, state, quote, now, rest)
    if decision is None or decision.verdict is pace.Verdict.REST:
        return state
    watch = _queue_watch(plan, decision, quote)
    if watch is not None:  # the touch is rarely reached, but the queue may trade: rest on it
        left = state.slice_filled + _residual(plan, state)
        return replace(state, queue=watch, slice_quantity=left)
    return replace(_hurry(plan, _noted(state, decision), decision.verdict), leg=Leg.TAKER)


def _queue_watch(plan: TwapPlan, decision: pace.Decision, quote: Quote) -> QueueWatch | None:
    """Rest on the queue (``execution.queueRest``) instead of crossing, when the cross was for
    a touch rarely reached, not for a fall, and the venue says what trades (24h volume)."""
    if not plan.policy.queue_rest or decision.trend_bps_per_minute < 0:
        return None
    rate = pace.prior_rate(quote.quote_volume_24h, quote.mid)
    return QueueWatch(rate) if rate is not None else None


def _on_look(plan: TwapPlan, state: TwapState, observation: MarketSeen, now: datetime) -> Step:
    """A look at the market while a maker order rests: keep resting, or cancel it and go to
    the taker leg (the order's fills are counted when its cancel is seen)."""
    order, quote = state.order, observation.quote
    assert order is not None
    if now >= plan.deadline:
        return replace(state, stop=StopReason.MAX_DURATION, cancelling=True), (
            Cancel(order.order_id),
        )
    if state.queue is not None:
        return _on_queue(plan, state, order, observation, now)
    deadline = state.order_deadline or now
    rest = max(ZERO, Decimal(str((deadline - now).total_seconds())))
    state, verdict = _judge(plan, state, quote, now, rest)
    if verdict is pace.Verdict.REST:
        return state, (Poll(order.order_id),)
    return replace(_hurry(plan, state, verdict), cancelling=True), (Cancel(order.order_id),)


def _on_queue(
    plan: TwapPlan, state: TwapState, order: Order, observation: MarketSeen, now: datetime
) -> Step:
    """A look at the book while the order rests on its queue: keep resting while the size
    ahead and the order's own are expected to trade in time and no fall is seen; otherwise
    cancel it and sell what is left as a taker. A book that could not be read is a cross:
    nothing rests on a queue it cannot see."""
    assert state.queue is not None and state.pace is not None
    quote = observation.quote
    record = pace.look(state.pace, quote.mid, now)
    ahead = _ahead(observation.book, order) if observation.book is not None else None
    watch, need = state.queue, None
    if ahead is not None:
        watch = pace.seen(watch, ahead, order.filled_size, now)
        need = pace.queue_seconds(watch, ahead, order.remaining_size, order.filled_size, now)
    left = Decimal(str((plan.deadline - now).total_seconds()))
    decision = pace.decide_queue(
        record, mid=quote.mid, spread_bps=quote.spread_bps, now=now,
        need_seconds=need, left_seconds=left,
    )  # fmt: skip
    first = state.queue.first_ahead is None
    state = replace(state, pace=record, queue=watch)
    expected = f"{need:.0f} s" if need is not None else "never"
    if decision.verdict is pace.Verdict.REST:
        if first:  # said once, where the order started: why it rests past its TTL
            note = (
                f"slice {state.slice_no}: rests on the queue (ahead {ahead:.6g}, expected to "
                f"trade in {expected} with {left:.0f} s left)"
            )
            state = replace(state, verdicts=(*state.verdicts, note))
        return state, (Poll(order.order_id),)
    ahead_text = f"{ahead:.6g}" if ahead is not None else "unreadable"
    note = (
        f"slice {state.slice_no}: cross off the queue (ahead {ahead_text}, expected to trade "
        f"in {expected} with {left:.0f} s left; fall {-decision.trend_bps_per_minute:.1f} "
        "bps/min beyond noise)"
    )
    state = replace(state, verdicts=(*state.verdicts, note))
    return replace(_hurry(plan, state, decision.verdict), cancelling=True), (
        Cancel(order.order_id),
    )


def _ahead(book: Book, order: Order) -> Decimal | None:
    """Size the book shows ahead of a resting sell: every better ask, and everything else at
    its own price (time priority within a price cannot be seen: counted ahead)."""
    price = order.limit_price
    if price is None:
        return None
    better = sum((lv.size for lv in book.asks if lv.price < price), ZERO)
    same = sum((lv.size for lv in book.asks if lv.price == price), ZERO)
    return better + max(ZERO, same - order.remaining_size)


# --- arithmetic ----------------------------------------------------------------------------


def _count_fills(state: TwapState, order: Order) -> TwapState:
    filled = order.filled_size
    available = None if state.available is None else max(ZERO, state.available - filled)
    return replace(
        state,
        filled=state.filled + filled,
        slice_filled=state.slice_filled + filled,
        proceeds=state.proceeds + order.filled_value,
        fees=state.fees + order.fees,
        available=available,
    )


def _residual(plan: TwapPlan, state: TwapState) -> Decimal:
    """What is left to sell: the rest of the target, never more than is available."""
    left = max(ZERO, plan.target_quantity - state.filled)
    return left if state.available is None else min(left, state.available)


def _sellable(plan: TwapPlan, qty: Decimal, price: Decimal) -> bool:
    product = plan.product
    qty = _round(qty, product.base_increment, ROUND_DOWN)
    return qty > 0 and qty >= product.min_base_size and qty * price >= product.min_notional


def _min_notional_price(plan: TwapPlan, qty: Decimal) -> Decimal:
    if qty <= 0:
        return ZERO
    return _round(plan.product.min_notional / qty, plan.product.price_tick, ROUND_UP)


def _round(value: Decimal, increment: Decimal, rounding: str) -> Decimal:
    if increment <= 0:
        return value
    return (value / increment).to_integral_value(rounding=rounding) * increment


def _seconds(value: Decimal) -> timedelta:
    return timedelta(seconds=float(value))
