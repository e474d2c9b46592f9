"""Time as a cost (core.pace): the decision rule with injected values, and the TWAP step
function resting, crossing or shortening by it; a restarted purge decides the same way."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cleanslate.api.policy import CrashAction, Execution, Pace
from cleanslate.core import pace
from cleanslate.core.market import Order, OrderStatus, OrderType, Product, Quote, Side
from cleanslate.core.pace import PaceRecord, Verdict, decide, look, maker_ended
from cleanslate.core.twap import (
    Action,
    Cancel,
    Finish,
    Leg,
    MarketSeen,
    Observation,
    OrderSeen,
    Place,
    Poll,
    Refresh,
    TwapOutcome,
    TwapPlan,
    TwapState,
    Wait,
    next_actions,
    plan_twap,
    resume,
    start,
)

D = Decimal
T0 = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
SEI = Product("SEI-USD", "SEI", "USD", D("0.1"), D("0.0001"), D("0.1"), D("1"))


def record(**changes: object) -> PaceRecord:
    base = PaceRecord(D("100"), T0, D("60"), D("120"))
    return replace(base, **changes)  # type: ignore[arg-type]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def mid_after(bps: float) -> Decimal:
    """The mid ``bps`` from the decision mid of 100 (log scale, as the rule measures)."""
    import math

    return D(repr(100 * math.exp(bps / 10000)))


# --- the rule, with injected values ---------------------------------------------------------


def test_a_calm_market_rests_as_scheduled_where_the_price_comes_to_the_ask() -> None:
    d = decide(
        record(),
        mid=D("100"),
        spread_bps=D("1"),  # a one-tick book: the price reaches a resting ask all the time
        now=at(60),
        rest_seconds=D("25"),
        schedule_seconds=D("200"),
    )
    assert d.verdict is Verdict.REST and d.trend_bps_per_minute == 0
    assert d.saving_bps > 50  # nearly the whole fee gap plus the spread


def test_a_wide_spread_the_price_never_reaches_is_sold_now_even_when_calm() -> None:
    # 45 bps wide, 25 s of rest at 10 bps per square-root minute: a resting ask is reached
    # about once in a hundred; the TWAP would be a delayed taker sale (issue 28)
    assert pace.touch_share(D("45"), D("10"), D("25")) == D("0.01")
    d = decide(
        record(),
        mid=D("100"),
        spread_bps=D("45"),
        now=at(60),
        rest_seconds=D("25"),
        schedule_seconds=D("200"),
    )
    assert d.trend_bps_per_minute == 0 and d.verdict is Verdict.SHORTEN


def test_a_fall_within_the_noise_band_is_not_a_trend() -> None:
    # prior sigma 10 bps per square-root minute: after one minute the band is 2 x 10 = 20 bps
    d = decide(
        record(),
        mid=mid_after(-19),
        spread_bps=D("1"),
        now=at(60),
        rest_seconds=D("25"),
        schedule_seconds=D("200"),
    )
    assert d.verdict is Verdict.REST and d.trend_bps_per_minute == 0


def test_a_steady_fall_beyond_the_noise_shortens_the_schedule() -> None:
    d = decide(
        record(),
        mid=mid_after(-100),
        spread_bps=D("1"),
        now=at(60),
        rest_seconds=D("25"),
        schedule_seconds=D("90"),
    )
    assert abs(d.trend_bps_per_minute - D(-80)) < D("0.01")  # -100 beyond the 20 bps band
    adverse = pace.ADVERSE * 10 * D("1.5").sqrt()
    assert abs(d.schedule_wait_bps - (120 + adverse)) < D("0.01")  # 80 bps/min x 1.5 min
    assert d.verdict is Verdict.SHORTEN


def filling(legs: int, filled: int) -> PaceRecord:
    r = record()
    for i in range(legs):
        r = maker_ended(r, filled=i < filled)
    return r


def test_a_purge_whose_makers_fill_keeps_resting_through_a_mild_fall() -> None:
    d = decide(
        filling(8, 8),
        mid=mid_after(-50),  # 30 bps/min beyond noise
        spread_bps=D("20"),
        now=at(60),
        rest_seconds=D("5"),
        schedule_seconds=D("10"),
    )
    assert d.trend_bps_per_minute < 0
    assert d.verdict is Verdict.REST and d.saving_bps > d.schedule_wait_bps


def test_only_this_slice_crosses_when_its_rest_is_what_costs() -> None:
    d = decide(
        filling(8, 8),
        mid=mid_after(-100),
        spread_bps=D("400"),
        now=at(60),
        rest_seconds=D("300"),
        schedule_seconds=D("10"),
    )
    assert d.schedule_wait_bps <= d.saving_bps < d.slice_wait_bps
    assert d.verdict is Verdict.CROSS


def test_a_rise_is_never_acted_on() -> None:
    d = decide(
        record(),
        mid=mid_after(300),
        spread_bps=D("1"),
        now=at(60),
        rest_seconds=D("25"),
        schedule_seconds=D("1000"),
    )
    assert d.verdict is Verdict.REST and d.trend_bps_per_minute == 0


def test_the_fee_tier_and_the_fill_share_set_what_resting_saves() -> None:
    kw = {
        "mid": mid_after(-40),  # 20 bps/min beyond noise
        "spread_bps": D("30"),
        "now": at(60),
        "rest_seconds": D("5"),
        "schedule_seconds": D("60"),
    }
    half = filling(8, 4)  # half of its maker orders filled
    assert decide(half, **kw).verdict is Verdict.REST  # type: ignore[arg-type]
    cheap_tier = replace(half, maker_fee_bps=D("25"), taker_fee_bps=D("40"))
    assert decide(cheap_tier, **kw).verdict is Verdict.SHORTEN  # type: ignore[arg-type]
    unlucky = filling(8, 0)
    assert unlucky.fill_share(D("0.5")) == D("0.1")  # none of eight: one in ten with the prior
    assert decide(unlucky, **kw).verdict is Verdict.SHORTEN  # type: ignore[arg-type]


def test_a_steady_fall_is_not_counted_as_volatility() -> None:
    r = record()
    for k in range(1, 13):  # -10 bps every 5 s: a trend, no noise around it
        r = look(r, mid_after(-10 * k), at(5 * k))
    assert r.sigma_bps < D("10.01")  # the prior alone, not the fall's returns
    noisy = record()
    for k in range(1, 13):
        noisy = look(noisy, mid_after(30 if k % 2 else -30), at(5 * k))
    assert noisy.sigma_bps > D("50")


# --- the step function ------------------------------------------------------------------------


def make_plan(qty: str = "640", **knobs: object) -> TwapPlan:
    arrival = Quote("SEI-USD", D("0.1560"), D("0.1561"), D("1500000"), D("5000"), T0)
    return plan_twap(
        account="acct",
        attempt=1,
        product=SEI,
        policy=Execution.model_validate(knobs),
        target_quantity=D(qty),
        arrival=arrival,
        started_at=T0,
        pace_record=PaceRecord(arrival.mid, T0, D("60"), D("120")),
    )


@dataclass
class Market:
    """A market whose bid falls ``fall_bps`` a minute from T0; makers never fill, takers
    fill whole at the bid."""

    plan: TwapPlan
    fall_bps: float
    now: datetime = T0
    available: Decimal = Decimal(640)
    actions: list[Action] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)

    def quote(self) -> Quote:
        minutes = (self.now - T0).total_seconds() / 60
        factor = D(repr(1 - self.fall_bps * minutes / 10000))
        bid = (D("0.1560") * factor).quantize(D("0.0001"))
        return Quote("SEI-USD", bid, bid + D("0.0001"), D("1500000"), D("5000"), self.now)

    def run(self, state: TwapState | None = None, stop_after: int = 10_000) -> TwapOutcome | None:
        state = state or start(self.plan)
        obs: Observation = None
        for _ in range(stop_after):
            state, actions = next_actions(self.plan, state, obs, self.now)
            self.state = state
            for action in actions:
                self.actions.append(action)
                if isinstance(action, Finish):
                    return action.outcome
                obs = self.perform(action) or obs
        return None

    def perform(self, action: Action) -> Observation:
        if isinstance(action, Wait):
            self.now += timedelta(seconds=float(action.seconds))
            return None
        if isinstance(action, Refresh):
            return MarketSeen(self.quote(), self.available - self.held())
        if isinstance(action, Place):
            req = action.request
            order = Order(
                f"o{len(self.orders) + 1}",
                req.client_order_id,
                req.product_id,
                Side.SELL,
                OrderType.LIMIT,
                req.base_size,
                req.limit_price,
                OrderStatus.OPEN,
                self.now,
                post_only=req.post_only,
            )
            if req.immediate_or_cancel:
                bid = self.quote().bid
                assert req.limit_price is not None and req.limit_price <= bid
                order = replace(
                    order,
                    status=OrderStatus.FILLED,
                    filled_size=req.base_size,
                    average_filled_price=bid,
                )
                self.available -= req.base_size
            self.orders[order.order_id] = order
            return OrderSeen(order)
        if isinstance(action, Poll):
            return OrderSeen(self.orders[action.order_id])
        assert isinstance(action, Cancel)
        order = replace(self.orders[action.order_id], status=OrderStatus.CANCELLED)
        self.orders[action.order_id] = order
        return OrderSeen(order)

    def held(self) -> Decimal:
        return sum(
            (o.base_size for o in self.orders.values() if o.status is OrderStatus.OPEN), D(0)
        )

    @property
    def placed(self) -> list[Place]:
        return [a for a in self.actions if isinstance(a, Place)]


def test_in_a_crash_the_resting_maker_is_cancelled_and_the_rest_sold_at_once() -> None:
    plan = make_plan()
    market = Market(plan, fall_bps=100)
    out = market.run()
    assert out is not None and out.success and out.filled_quantity == D("640")
    first, second = market.placed[0], market.placed[1]
    assert first.leg is Leg.MAKER_FIRST and first.request.post_only
    assert second.leg is Leg.TAKER and second.request.base_size == D("640")  # shortened
    cancelled_at = next(i for i, a in enumerate(market.actions) if isinstance(a, Cancel))
    waited = sum(float(a.seconds) for a in market.actions[:cancelled_at] if isinstance(a, Wait))
    assert waited < 25  # before the maker order's TTL: a look saw the fall
    assert len(market.placed) == 2 and "shorten" in out.notes[0]


def test_in_a_calm_market_the_schedule_rests_and_only_polls() -> None:
    market = Market(make_plan(), fall_bps=0)
    market.run(stop_after=12)
    assert [p.leg for p in market.placed] == [Leg.MAKER_FIRST]
    assert not any(isinstance(a, Cancel) for a in market.actions)


def test_a_resting_maker_order_is_looked_at_every_five_seconds_on_the_dot() -> None:
    """Looks are not put off to the poll after one is due: with 2 s polls that made them 6 s
    apart, and a fall seen later is sold lower (the benchmark's crash: mid basket +8 -> +4)."""
    market = Market(make_plan(), fall_bps=0)
    seconds, looks = 0.0, []
    for action in market.actions if market.run(stop_after=30) is None else []:
        if isinstance(action, Cancel):
            break  # the first maker order's TTL is up: what follows is the next leg
        if isinstance(action, Wait):
            seconds += float(action.seconds)
        elif isinstance(action, Refresh):
            looks.append(seconds)
    assert looks[0] == 0 and len(looks) == 5, looks  # the slice's first quote, then looks
    assert all(b - a == 5 for a, b in itertools.pairwise(looks[1:])), looks


def test_fixed_pace_never_looks_and_rests_through_a_crash() -> None:
    market = Market(make_plan(pace=Pace.FIXED), fall_bps=100)
    market.run(stop_after=12)
    assert not any(isinstance(a, Refresh) for a in market.actions[1:])
    assert [p.leg for p in market.placed] == [Leg.MAKER_FIRST]


def test_a_restarted_purge_with_the_stored_record_decides_the_same_way() -> None:
    plan = make_plan()
    first = Market(plan, fall_bps=100)
    first.run(stop_after=4)  # the first maker order rests; a look or two has been taken
    stored = first.state.pace
    assert stored is not None
    # the operator restarts: the plan is made again from the stored record (the in-flight
    # status), the interrupted slice's order is found cancelled and counted
    again = replace(plan, pace=stored)
    state = resume(again, last_slice=1, orders=())
    assert state.pace == stored
    first.now = at(20)  # the new process decides 20 s after the sale was decided
    quote = first.quote()
    a = next_actions(again, state, MarketSeen(quote, D("640")), first.now)
    b = next_actions(again, state, MarketSeen(quote, D("640")), first.now)
    assert a == b
    place = a[1][0]
    assert isinstance(place, Place) and place.leg is Leg.TAKER  # it still sees the crash
    fresh = replace(plan, pace=replace(stored, decided_at=first.now, decision_mid=quote.mid))
    rested = next_actions(fresh, resume(fresh, 1, ()), MarketSeen(quote, D("640")), first.now)
    assert isinstance(rested[1][0], Place) and rested[1][0].leg is Leg.MAKER_FIRST


def test_crash_widen_sells_below_the_cap_and_hold_says_what_it_gave_up() -> None:
    fallen = Quote("SEI-USD", D("0.1500"), D("0.1501"), D("1500000"), D("5000"), at(1))
    for crash, placed in ((CrashAction.HOLD, False), (CrashAction.WIDEN, True)):
        plan = make_plan("64", crash=crash, pace=Pace.FIXED, taker_fallback_threshold_usd=1)
        state = replace(start(plan), leg=Leg.TAKER, slice_no=1, slice_quantity=D("64"))
        _, actions = next_actions(plan, state, MarketSeen(fallen, D("64")), at(1))
        assert isinstance(actions[0], Place) is placed
        if placed:
            assert isinstance(actions[0], Place)
            assert actions[0].request.limit_price == plan.floor_for(fallen.bid)
            assert plan.floor_for(fallen.bid) < plan.taker_floor
    plan = make_plan("64", pace=Pace.FIXED)
    state = replace(start(plan), bid=D("0.1500"), stop=None)
    outcome = next_actions(
        plan, replace(state, no_fill_slices=2), MarketSeen(fallen, D("64")), at(1)
    )
    finish = outcome[1][0]
    assert isinstance(finish, Finish) and not finish.outcome.success
    assert "below the slippage cap" in finish.outcome.notes[-1]
    assert pace.LOOK_SECONDS > 0


def test_the_record_survives_the_in_flight_status_unchanged() -> None:
    from cleanslate.api.account import InFlightPurge
    from cleanslate.execution.twap import PlaceIntent, ResumeFrom

    seen = look(maker_ended(record(), filled=True), mid_after(-30), at(12))
    intent = PlaceIntent("SEI-USD", 1, T0, D("640"), 2, Leg.MAKER_FIRST, "cid", D("0"), "", seen)
    stored = InFlightPurge.model_validate_json(intent.to_in_flight("ineligible").model_dump_json())
    assert ResumeFrom.from_in_flight(stored).pace == seen


def test_after_a_hurried_slice_left_something_the_next_waits_its_scheduled_time() -> None:
    plan = make_plan()
    state = replace(
        start(plan),
        slice_no=1,
        leg=Leg.TAKER,
        slice_started_at=T0,
        slice_quantity=D("640"),
        hurry=True,
        available=D("640"),
        bid=D("0.1560"),
    )
    ioc = Order(
        "o1",
        "cid",
        "SEI-USD",
        Side.SELL,
        OrderType.LIMIT,
        D("640"),
        D("0.1545"),
        OrderStatus.CANCELLED,
        at(1),
        filled_size=D("300"),
        average_filled_price=D("0.1550"),
    )
    after, actions = next_actions(plan, replace(state, order=ioc), OrderSeen(ioc), at(1))
    assert actions == (Wait(D("44")), Refresh())  # the book refills; the schedule's 45 s
    assert not after.hurry and after.filled == D("300")
    calm = replace(state, hurry=False)
    _, actions = next_actions(plan, replace(calm, order=ioc), OrderSeen(ioc), at(1))
    assert actions == (Refresh(),)  # a slice that was not hurried ends as before


# --- resting on the queue (execution.queueRest) -------------------------------------------


def test_the_queue_is_expected_to_trade_at_the_prior_rate_until_it_is_seen_to_move() -> None:
    # $1.5M a day at $0.15, half of the buy side at the touch: 28.9 SEI a second
    rate = pace.prior_rate(D("1500000"), D("0.15"))
    assert rate is not None and abs(rate - D("28.935")) < D("0.001")
    assert pace.prior_rate(None, D("0.15")) is None, "no volume: nothing to expect"
    watch = pace.seen(pace.QueueWatch(D("5")), D("300"), D("0"), at(0))
    assert pace.queue_seconds(watch, D("300"), D("50"), D("0"), at(0)) == 70
    # 60 s later the 300 ahead has traded: the prior (5 a second, weighted as 30 s) and the
    # 300 seen in 60 s give 450 in 90 s, and the order's own 50 are 10 s away
    moved = pace.queue_seconds(watch, D("0"), D("50"), D("0"), at(60))
    assert moved == 10
    stuck = pace.queue_seconds(watch, D("300"), D("50"), D("0"), at(600))
    assert stuck is not None and stuck > 1000, "a queue seen not to move is expected to stay"


def test_resting_on_the_queue_needs_time_to_spare_and_no_fall() -> None:
    def verdict(need: str | None, left: str, mid: Decimal = D(100)) -> Verdict:  # noqa: B008
        d = pace.decide_queue(
            record(),
            mid=mid,
            spread_bps=D("45"),
            now=at(60),
            need_seconds=None if need is None else D(need),
            left_seconds=D(left),
        )
        return d.verdict

    assert verdict("70", "180") is Verdict.REST
    assert verdict("177", "180") is Verdict.CROSS, "one look to spare"
    assert verdict(None, "180") is Verdict.CROSS, "a queue that cannot be read"
    assert verdict("70", "180", mid=mid_after(-40)) is Verdict.CROSS, "a fall beyond noise"
    assert verdict("70", "180", mid=mid_after(40)) is Verdict.REST, "a rise is not acted on"
