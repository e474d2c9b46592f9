"""The TWAP plan and step function, driven by a scripted market (no exchange, no clock)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanslate.api.policy import Execution
from cleanslate.core.market import Order, OrderStatus, OrderType, Product, Quote, Side
from cleanslate.core.twap import (
    Action,
    Cancel,
    ExchangeLost,
    Finish,
    Leg,
    MarketSeen,
    Observation,
    OrderSeen,
    Place,
    PlaceRejected,
    Poll,
    Refresh,
    StopReason,
    TwapOutcome,
    TwapPlan,
    TwapState,
    Wait,
    client_order_id,
    next_actions,
    plan_twap,
    resume,
    start,
)

D = Decimal
T0 = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)


def product(pid: str = "SEI-USD", base_inc: str = "0.1", tick: str = "0.0001") -> Product:
    base, quote = pid.split("-")
    return Product(pid, base, quote, D(base_inc), D(tick), D(base_inc), D("5"))


def quote(bid: str, ask: str, pid: str = "SEI-USD") -> Quote:
    return Quote(pid, D(bid), D(ask), D("1500000"), D("5000"), T0)


SEI = product()
SEI_QUOTE = quote("0.1560", "0.1566")


def make_plan(
    qty: str = "36.4", prod: Product = SEI, q: Quote = SEI_QUOTE, **knobs: object
) -> TwapPlan:
    return plan_twap(
        account="acct",
        attempt=1,
        product=prod,
        policy=Execution.model_validate(knobs),
        target_quantity=D(qty),
        arrival=q,
        started_at=T0,
    )


FillRule = Callable[[Place, int], Decimal]
"""(placement, poll count) -> fraction of the order filled so far."""


def never(_p: Place, _n: int) -> Decimal:
    return D("0")


@dataclass
class Sim:
    """A scripted market: fills by rule, rejects by (slice, leg), one quote, a balance."""

    plan: TwapPlan
    maker: FillRule = never
    taker: Callable[[Place], Decimal] = lambda _p: D("1")
    rejects: dict[tuple[int, Leg], str] = field(default_factory=dict)
    q: Quote = SEI_QUOTE
    available: Decimal | None = None
    now: datetime = T0
    actions: list[Action] = field(default_factory=list)
    orders: dict[str, tuple[Place, Order, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.available is None:
            self.available = self.plan.target_quantity

    def run(self, state: TwapState | None = None, limit: int = 2000) -> TwapOutcome:
        state = state or start(self.plan)
        obs: Observation = None
        for _ in range(limit):
            state, actions = next_actions(self.plan, state, obs, self.now)
            for action in actions:
                self.actions.append(action)
                if isinstance(action, Finish):
                    return action.outcome
                obs = self.perform(action) or obs
        raise AssertionError("no outcome")

    def perform(self, action: Action) -> Observation:
        assert self.available is not None
        if isinstance(action, Wait):
            assert action.seconds > 0
            self.now += timedelta(seconds=float(action.seconds))
            return None
        if isinstance(action, Refresh):
            return MarketSeen(self.q, self.available)
        if isinstance(action, Place):
            return self.place(action)
        if isinstance(action, Poll):
            return OrderSeen(self.poll(action.order_id))
        assert isinstance(action, Cancel)
        order = self.poll(action.order_id)
        return OrderSeen(self.settle(order, OrderStatus.CANCELLED))

    def place(self, place: Place) -> Observation:
        req = place.request
        assert req.base_size <= self.available  # type: ignore[operator]
        code = self.rejects.get((place.slice_no, place.leg))
        if code:
            return PlaceRejected(code, f"error={code}", req.client_order_id)
        oid = f"o{len(self.orders) + 1}"
        order = Order(
            oid,
            req.client_order_id,
            req.product_id,
            req.side,
            req.order_type,
            req.base_size,
            req.limit_price,
            OrderStatus.OPEN,
            self.now,
            post_only=req.post_only,
        )
        self.orders[oid] = (place, order, 0)
        if req.immediate_or_cancel:
            order = self.fill(order, self.taker(place), D("0.006"))
            status = OrderStatus.FILLED if order.remaining_size == 0 else OrderStatus.CANCELLED
            return OrderSeen(self.settle(order, status))
        return OrderSeen(order)

    def poll(self, oid: str) -> Order:
        place, order, polls = self.orders[oid]
        if order.status.is_final:
            return order
        order = self.fill(order, self.maker(place, polls + 1), D("0.004"))
        self.orders[oid] = (place, order, polls + 1)
        if order.remaining_size == 0:
            return self.settle(order, OrderStatus.FILLED)
        return order

    def fill(self, order: Order, fraction: Decimal, fee_rate: Decimal) -> Order:
        size = (order.base_size * fraction).quantize(self.plan.product.base_increment)
        size = max(size, order.filled_size)
        price = order.limit_price if order.post_only else self.q.bid
        assert price is not None
        new = size - order.filled_size
        self.available -= new  # type: ignore[operator]
        return replace(
            order, filled_size=size, average_filled_price=price, fees=size * price * fee_rate
        )

    def settle(self, order: Order, status: OrderStatus) -> Order:
        order = replace(order, status=status)
        place, _o, polls = self.orders[order.order_id]
        self.orders[order.order_id] = (place, order, polls)
        return order

    @property
    def placed(self) -> list[Place]:
        return [a for a in self.actions if isinstance(a, Place)]


# --- plan ----------------------------------------------------------------------------------


def test_small_position_is_one_slice_because_a_tail_below_min_notional_is_merged() -> None:
    assert make_plan("36.4").slices == (D("36.4"),)  # SEI $5.69 with $5 slices
    bonk = product("BONK-USD", "1", "0.00000001")
    assert make_plan("889587", bonk, quote("0.00001060", "0.00001071", "BONK-USD")).slices == (
        D("889587"),
    )


def test_plan_slices_sum_to_target_on_the_base_increment() -> None:
    plan = make_plan("640.05")  # $100: 20 slices by value, 5 by time (240 s / 45 s)
    assert len(plan.slices) == 5
    assert sum(plan.slices) == D("640.0")  # target rounded down to 0.1: never more than held
    assert all(s % D("0.1") == 0 for s in plan.slices)


def test_plan_respects_max_slices_and_the_time_budget() -> None:
    assert len(make_plan("640", max_slices=3).slices) == 3
    assert len(make_plan("640", max_duration_seconds=D("90")).slices) == 2
    assert len(make_plan("700", slice_usd=D("50")).slices) == 2  # $109


def test_plan_never_slices_below_min_notional() -> None:
    plan = make_plan("170", slice_usd=D("1"))  # $26.5; min notional $5
    assert len(plan.slices) == 5


# --- stories -------------------------------------------------------------------------------


def test_sei_maker_times_out_twice_taker_fills_and_dust_below_min_notional_is_success() -> None:
    sim = Sim(make_plan("36.4"), taker=lambda p: D("36.2") / p.request.base_size)
    out = sim.run()
    assert out.success and out.reason is StopReason.FILLED
    assert out.filled_quantity == D("36.2") and out.residual_quantity == D("0.2")
    assert out.residual_value_usd < D("0.05")
    assert [p.leg for p in sim.placed] == [Leg.MAKER_FIRST, Leg.MAKER_RETRY, Leg.TAKER]
    assert sim.placed[0].request.post_only and sim.placed[0].request.limit_price == D("0.1565")
    assert sim.placed[1].request.limit_price == D("0.1565")  # one tick inside the ask
    assert sim.now - T0 == timedelta(seconds=45)  # 25 s first + 20 s retry, then taker
    assert out.average_price == D("0.1560") and out.fees > 0
    assert len(out.requests) == 3


def test_wlfi_single_slice_maker_fill_leaves_dust_and_succeeds() -> None:
    plan = make_plan("57.5", product("WLFI-USD"), quote("0.1428", "0.1432", "WLFI-USD"))
    sim = Sim(plan, maker=lambda p, n: D("57.3") / D("57.5"), q=plan.arrival)
    out = sim.run()
    assert out.success and out.filled_quantity == D("57.3")
    assert out.residual_quantity == D("0.2") and len(sim.placed) == 1
    assert out.average_price == D("0.1431")


def test_bonk_rejected_on_the_retry_fails_with_the_reject_detail() -> None:
    bonk = product("BONK-USD", "1", "0.00000001")
    q = quote("0.00001060", "0.00001071", "BONK-USD")
    code = "INVALID_ORDER_CONFIGURATION"
    sim = Sim(make_plan("889587", bonk, q), q=q, rejects={(1, Leg.MAKER_RETRY): code})
    out = sim.run()
    assert not out.success and out.reason is StopReason.REJECTED
    assert out.reject is not None and out.reject.code == code
    assert out.residual_value_usd > D("8") and out.filled_quantity == 0


def test_post_only_reject_goes_to_the_taker_at_once() -> None:
    sim = Sim(make_plan("36.4"), rejects={(1, Leg.MAKER_FIRST): "INVALID_LIMIT_PRICE_POST_ONLY"})
    out = sim.run()
    assert out.success and [p.leg for p in sim.placed] == [Leg.MAKER_FIRST, Leg.TAKER]
    assert sim.now == T0


def test_one_tick_spread_joins_the_ask_and_each_leg_is_repriced() -> None:
    sim = Sim(make_plan("36.4", q=quote("0.1560", "0.1561")), q=quote("0.1560", "0.1561"))
    sim.run()
    assert sim.placed[0].request.limit_price == D("0.1561")


def test_crossed_book_skips_the_maker_order() -> None:
    crossed = quote("0.1566", "0.1566")
    sim = Sim(make_plan("36.4", q=crossed), q=crossed)
    assert sim.run().success and [p.leg for p in sim.placed] == [Leg.TAKER]


# --- knobs ---------------------------------------------------------------------------------


def test_positions_above_taker_threshold_skip_the_maker_retry() -> None:
    big = Sim(make_plan("200"))  # $31 > $25
    big.run()
    assert [p.leg for p in big.placed][:2] == [Leg.MAKER_FIRST, Leg.TAKER]
    small = Sim(make_plan("100"))  # $15.6
    small.run()
    assert [p.leg for p in small.placed][:2] == [Leg.MAKER_FIRST, Leg.MAKER_RETRY]


def test_without_taker_fallback_no_taker_order_is_ever_placed() -> None:
    sim = Sim(make_plan("36.4", allow_taker_fallback=False))
    out = sim.run()
    assert all(p.request.post_only for p in sim.placed)
    assert out.reason is StopReason.NO_FILL and not out.success and out.slices == 2


def test_taker_price_is_capped_by_slippage_below_arrival_bid() -> None:
    sim = Sim(make_plan("36.4", taker_max_slippage_bps=D("50")))
    sim.run()
    taker = sim.placed[-1].request
    assert taker.immediate_or_cancel and not taker.post_only
    assert taker.limit_price == D("0.1553")  # ceil(0.1560 * 0.995) on 0.0001


def test_no_taker_when_the_bid_fell_below_the_slippage_cap() -> None:
    sim = Sim(make_plan("36.4"), q=quote("0.1540", "0.1546"))  # 1.3 % below arrival bid
    out = sim.run()
    assert Leg.TAKER not in [p.leg for p in sim.placed] and not out.success


def test_maker_ttls_capped_by_maker_ttl_and_slice_budget() -> None:
    sim = Sim(make_plan("36.4", maker_ttl_sec=D("10"), replace_seconds=D("15")))
    sim.run()
    first, retry = sim.placed[0].request, sim.placed[1].request
    assert first.expires_at == T0 + timedelta(seconds=10)
    assert retry.expires_at == T0 + timedelta(seconds=15)  # 5 s left of the 15 s budget


def test_after_a_maker_fill_later_makers_rest_for_the_whole_slice_budget() -> None:
    """TTL from the observed fill rate: the first slice's maker filled half, so the next
    slices' makers rest 45 s (replaceSeconds), not the configured 25 s."""

    def half_in_slice_one(place: Place, polls: int) -> Decimal:
        return D("0.5") if place.slice_no == 1 else D("0")

    sim = Sim(make_plan("200"), maker=half_in_slice_one)  # $31: no maker retry
    sim.run()
    makers = [p for p in sim.placed if p.leg is Leg.MAKER_FIRST]
    starts = {p.slice_no: p for p in makers}
    assert starts[1].request.expires_at is not None
    first_ttl = starts[1].request.expires_at - _placed_at(sim, starts[1])
    second_ttl = starts[2].request.expires_at - _placed_at(sim, starts[2])  # type: ignore[operator]
    assert first_ttl == timedelta(seconds=25) and second_ttl == timedelta(seconds=45)


def test_makers_keep_the_configured_ttl_while_nothing_fills() -> None:
    sim = Sim(make_plan("200"))
    sim.run()
    makers = [p for p in sim.placed if p.leg is Leg.MAKER_FIRST]
    assert len(makers) > 1
    for place in makers:
        assert place.request.expires_at - _placed_at(sim, place) == timedelta(seconds=25)  # type: ignore[operator]


def _placed_at(sim: Sim, place: Place) -> datetime:
    return next(o.created_at for p, o, _n in sim.orders.values() if p is place)


def test_resting_order_is_polled_at_the_poll_interval() -> None:
    sim = Sim(make_plan("36.4", poll_interval_seconds=D("5")))
    sim.run()
    waits = {a.seconds for a in sim.actions if isinstance(a, Wait)}
    assert waits == {D("5")}


def test_max_slices_stops_the_purge() -> None:
    sim = Sim(
        make_plan(
            "36.4",
            allow_taker_fallback=False,
            max_slices=3,
            max_consecutive_no_fill=10,
            max_duration_seconds=D("1000"),
        )
    )
    out = sim.run()
    assert out.reason is StopReason.MAX_SLICES and out.slices == 3


def test_max_consecutive_no_fill_counts_only_slices_in_a_row() -> None:
    def every_other_slice(p: Place, _n: int) -> Decimal:
        return D("0.3") if p.slice_no % 2 == 0 else D("0")

    knobs: dict[str, Any] = {
        "allow_taker_fallback": False,
        "max_duration_seconds": D("1000"),
        "max_slices": 10,
    }
    alternating = Sim(make_plan("2000", **knobs), maker=every_other_slice).run()
    assert alternating.reason is StopReason.MAX_SLICES and alternating.slices == 10
    never_fills = Sim(make_plan("2000", **knobs)).run()
    assert never_fills.reason is StopReason.NO_FILL and never_fills.slices == 2


def test_no_taker_leg_once_the_purge_is_out_of_time() -> None:
    sim = Sim(make_plan("36.4", max_duration_seconds=D("45")))  # m1 25 s + m2 20 s = 45 s
    out = sim.run()
    assert out.reason is StopReason.MAX_DURATION and not out.success
    assert [p.leg for p in sim.placed] == [Leg.MAKER_FIRST, Leg.MAKER_RETRY]
    assert all(o.status.is_final for _p, o, _n in sim.orders.values())


def test_max_duration_cancels_the_resting_order_and_stops() -> None:
    sim = Sim(
        make_plan(
            "36.4",
            allow_taker_fallback=False,
            max_duration_seconds=D("30"),
            max_consecutive_no_fill=10,
        )
    )
    out = sim.run()
    assert out.reason is StopReason.MAX_DURATION
    assert sim.now - T0 <= timedelta(seconds=30)
    assert all(o.status.is_final for _p, o, _n in sim.orders.values())


def test_residual_within_max_residual_after_some_fill_is_success() -> None:
    def half(p: Place, _n: int) -> Decimal:
        return D("0.75") if p.slice_no == 1 and p.leg is Leg.MAKER_FIRST else D("0")

    kw: dict[str, Any] = {"allow_taker_fallback": False, "max_consecutive_no_fill": 1}
    ok = Sim(make_plan("80", **kw), maker=half).run()  # $12.5: $7.8 left <= $8
    assert ok.success and ok.residual_value_usd <= 8 and ok.reason is StopReason.NO_FILL
    bad = Sim(make_plan("80", max_residual_usd=D("5"), **kw), maker=half).run()
    assert not bad.success


def test_nothing_sold_is_a_failure_even_below_max_residual() -> None:
    out = Sim(make_plan("40", allow_taker_fallback=False)).run()  # $6.24 < $8, no fill
    assert not out.success and out.filled_quantity == 0


def test_insufficient_balance_rereads_and_never_sells_more_than_available() -> None:
    sim = Sim(make_plan("36.4"), rejects={(1, Leg.MAKER_FIRST): "INSUFFICIENT_BALANCE"})
    sim.available = D("36.4")
    out = sim.run()
    assert out.filled_quantity <= D("36.4") and out.success


def test_slice_is_capped_by_available_balance() -> None:
    sim = Sim(make_plan("64"), available=D("40"))
    out = sim.run()
    assert out.filled_quantity == D("40") and all(
        p.request.base_size <= D("40") for p in sim.placed
    )


def test_exchange_lost_cancels_the_open_order_then_finishes() -> None:
    plan = make_plan("36.4")
    state, _ = next_actions(plan, start(plan), None, T0)
    state, acts = next_actions(plan, state, MarketSeen(SEI_QUOTE, D("36.4")), T0)
    req = acts[0].request  # type: ignore[union-attr]
    order = Order(
        "o1",
        req.client_order_id,
        "SEI-USD",
        req.side,
        req.order_type,
        req.base_size,
        req.limit_price,
        OrderStatus.OPEN,
        T0,
        post_only=True,
    )
    state, acts = next_actions(plan, state, OrderSeen(order), T0)
    state, acts = next_actions(plan, state, ExchangeLost("503"), T0)
    assert acts == (Cancel("o1"),)
    state, acts = next_actions(plan, state, ExchangeLost("503"), T0)
    out = acts[0].outcome  # type: ignore[union-attr]
    assert out.reason is StopReason.EXCHANGE_UNAVAILABLE and out.open_order_id == "o1"


def test_resume_counts_fills_and_continues_after_the_last_slice() -> None:
    plan = make_plan("200")
    cid = client_order_id("acct", "SEI-USD", 1, 1, Leg.MAKER_FIRST)
    done = Order(
        "o1",
        cid,
        "SEI-USD",
        Side.SELL,
        OrderType.LIMIT,
        D("100"),
        D("0.1566"),
        OrderStatus.CANCELLED,
        T0,
        D("60"),
        D("0.1566"),
        D("0.03"),
    )
    state = resume(plan, 1, (done,))
    sim = Sim(plan, available=D("140"))
    out = sim.run(state)
    assert out.filled_quantity == D("200") and sim.placed[0].slice_no == 2


# --- client order ids ----------------------------------------------------------------------


def test_client_order_ids_are_deterministic_short_and_distinct() -> None:
    ids = {
        client_order_id(a, s, att, sl, leg)
        for a in ("acct", "other")
        for s in ("SEI-USD", "BONK-USD")
        for att in (1, 2)
        for sl in (1, 2, 12)
        for leg in (Leg.MAKER_FIRST, Leg.MAKER_RETRY, Leg.TAKER)
    }
    assert len(ids) == 2 * 2 * 2 * 3 * 3
    assert all(len(i) < 64 for i in ids)
    assert client_order_id("a", "S-USD", 3, 4, Leg.TAKER) == client_order_id(
        "a", "S-USD", 3, 4, Leg.TAKER
    )


# --- property ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    qty=st.decimals("1", "5000", places=1),
    maker=st.lists(st.decimals("0", "1", places=2), min_size=1, max_size=8),
    taker=st.decimals("0", "1", places=2),
    available_cut=st.decimals("0", "1", places=2),
    reject_leg=st.sampled_from([None, Leg.MAKER_FIRST, Leg.MAKER_RETRY, Leg.TAKER]),
    reject_code=st.sampled_from(
        ["INVALID_LIMIT_PRICE_POST_ONLY", "INSUFFICIENT_BALANCE", "INVALID_ORDER_CONFIGURATION"]
    ),
)
def test_filled_never_exceeds_target_nor_available(
    qty: Decimal,
    maker: list[Decimal],
    taker: Decimal,
    available_cut: Decimal,
    reject_leg: Leg | None,
    reject_code: str,
) -> None:
    plan = make_plan(str(qty), slice_usd=D("20"))
    available = (plan.target_quantity * (1 - available_cut / 2)).quantize(D("0.1"))
    rejects = {(2, reject_leg): reject_code} if reject_leg else {}
    sim = Sim(
        plan,
        maker=lambda p, n: maker[min(n, len(maker)) - 1],
        taker=lambda p: taker,
        rejects=rejects,
        available=available,
    )
    out = sim.run()
    assert out.filled_quantity <= plan.target_quantity
    assert out.filled_quantity <= available
    assert out.residual_quantity >= 0
    assert all(o.status.is_final for _p, o, _n in sim.orders.values())
    assert len({p.request.client_order_id for p in sim.placed}) == len(sim.placed)


def test_an_old_order_under_a_reused_client_id_counts_for_nothing_on_resume() -> None:
    plan = make_plan()
    cid = client_order_id("acct", "SEI-USD", 1, 1, Leg.MAKER_FIRST)
    old = Order(
        "old", cid, "SEI-USD", Side.SELL, OrderType.LIMIT, D("10"), D("0.1566"),
        OrderStatus.FILLED, T0 - timedelta(hours=3), filled_size=D("10"),
    )  # fmt: skip
    assert resume(plan, 1, (old,)).filled == 0
    assert resume(plan, 1, (replace(old, created_at=T0 + timedelta(seconds=5)),)).filled == 10


def test_a_placement_answered_with_an_old_order_is_a_failure_not_a_sale() -> None:
    plan = make_plan()
    cid = client_order_id("acct", "SEI-USD", 1, 1, Leg.MAKER_FIRST)
    old = Order(
        "old", cid, "SEI-USD", Side.SELL, OrderType.LIMIT, D("10"), D("0.1566"),
        OrderStatus.FILLED, T0 - timedelta(days=2), filled_size=D("10"),
    )  # fmt: skip
    _, actions = next_actions(plan, start(plan), OrderSeen(old), T0)
    finish = actions[0]
    assert isinstance(finish, Finish)
    assert not finish.outcome.success and finish.outcome.filled_quantity == 0


def test_the_epoch_changes_every_client_order_id() -> None:
    same = client_order_id("a", "S-USD", 1, 1, Leg.TAKER)
    assert client_order_id("a", "S-USD", 1, 1, Leg.TAKER, "") == same
    assert client_order_id("a", "S-USD", 1, 1, Leg.TAKER, "0f3a") != same


def test_an_order_under_this_purge_s_epoch_is_its_own_whatever_the_venue_s_clock() -> None:
    """Issue 27 item 8: ownership comes from what one clock wrote (the epoch in the client id
    and the record), not from the venue's time against the clock that wrote ``startedAt``. A
    venue 300 s behind the replica that started the purge stamps its order before
    ``startedAt``; with the epoch it is still this purge's order, and its fill counts."""
    plan = replace(make_plan(), epoch="0123456789abcdef")
    cid = client_order_id("acct", "SEI-USD", 1, 1, Leg.MAKER_FIRST, plan.epoch)
    skewed = Order(
        "o-1", cid, "SEI-USD", Side.SELL, OrderType.LIMIT, D("10"), D("0.1566"),
        OrderStatus.FILLED, T0 - timedelta(seconds=300), filled_size=D("10"),
    )  # fmt: skip
    state, actions = next_actions(plan, start(plan), OrderSeen(skewed), T0)
    assert not any(isinstance(a, Finish) and not a.outcome.success for a in actions)
    assert state.filled == 10
    assert resume(plan, 1, (skewed,)).filled == 10
    # a record without an epoch (written before epochs existed) keeps the time window
    legacy = make_plan()
    assert resume(legacy, 1, (skewed,)).filled == 0
    # and a sale of another product or beyond the purge is never its own
    assert resume(plan, 1, (replace(skewed, product_id="WLFI-USD"),)).filled == 0
    assert resume(plan, 1, (replace(skewed, base_size=D("99")),)).filled == 0
