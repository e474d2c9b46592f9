"""The realistic market models: queue position, priority, trade-through, informed flow, impact.

Each mechanism is pinned on the pure functions with a product made for the test (so a number
in an assertion follows from the mechanism, not from a seed's luck), and end to end through
the paper exchange where the mechanism is the account's own (impact, refill).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.account import PaperFees, PaperMarketModel
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import BookLevel, OrderRequest, OrderType, Side
from cleanslate.exchange.paper import PaperExchange, books, fees, impact, matching
from cleanslate.exchange.paper.markets import MARKETS, ProductSpec, with_model
from cleanslate.exchange.paper.models import MODELS
from cleanslate.exchange.paper.persistence import OrderRecord

OpenPaper = Callable[..., PaperExchange]
D = Decimal
CALIBRATED = MODELS[PaperMarketModel.CALIBRATED]
OPTIMISTIC = MODELS[PaperMarketModel.OPTIMISTIC]
SEI = MARKETS["documents"].products["SEI-USD"]
START = datetime(2025, 11, 16, 12, 0, 5, tzinfo=UTC)


def _still(spec: ProductSpec) -> ProductSpec:
    """The product with a price that never moves: no trade-through, no informed flow."""
    return with_model(replace(spec, volatility_bps=D(0)), CALIBRATED)


def _resting_sell(price: Decimal, size: Decimal, ahead: Decimal) -> OrderRecord:
    return OrderRecord(
        order_id="o",
        client_order_id="c",
        product_id=SEI.product_id,
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        base_size=size,
        limit_price=price,
        post_only=True,
        created_at=START,
        queue_ahead=ahead,
    )


def _mean_flow_per_second(spec: ProductSpec) -> Decimal:
    mid = spec.price
    per_bucket = spec.quote_volume_24h * books.BUCKET_SECONDS / 86400 / 2 / mid
    return per_bucket * spec.model.flow_share / books.BUCKET_SECONDS


def _run(order: OrderRecord, spec: ProductSpec, seconds: float) -> Decimal:
    """Let ``seconds`` of simulated flow act on the order; the size it could fill."""
    end = START + timedelta(seconds=seconds)
    for part in matching.segments(START, end):
        order.filled_size += matching.progress(order, spec, 1, part)
    return order.filled_size


def test_an_order_behind_ten_seconds_of_queue_does_not_fill_in_two() -> None:
    spec = _still(SEI)
    bucket = books.bucket_of(START)
    ask = books.touch(spec, 1, bucket).ask
    ahead = _mean_flow_per_second(spec) * 10
    assert _run(_resting_sell(ask, D(50), ahead), spec, 2) == 0
    assert _run(_resting_sell(ask, D(50), ahead), spec, 600) == 50, "the queue does move"


def test_the_queue_ahead_is_what_delays_the_fill() -> None:
    spec = _still(SEI)
    ask = books.touch(spec, 1, books.bucket_of(START)).ask
    first = _run(_resting_sell(ask, D(50), D(0)), spec, 5)
    behind = _run(_resting_sell(ask, D(50), _mean_flow_per_second(spec) * 60), spec, 5)
    assert first > 0 and behind == 0


def test_a_price_that_trades_through_fills_the_order_whole_despite_the_queue() -> None:
    spec = with_model(MARKETS["documents"].products["DOGE-USD"], CALIBRATED)
    bucket = next(
        b
        for b in range(books.bucket_of(START), books.bucket_of(START) + 500)
        if books.touch(spec, 1, b + 1).bid > books.touch(spec, 1, b).ask
    )
    price = books.touch(spec, 1, bucket + 1).bid
    order = _resting_sell(price, D(50), ahead=D(10**9))
    part = (bucket, books.bucket_start(bucket), books.bucket_start(bucket + 1))
    assert matching.progress(order, spec, 1, part) == 50


def test_a_price_that_does_not_reach_the_order_leaves_it_unfilled() -> None:
    spec = with_model(SEI, CALIBRATED)
    bucket = books.bucket_of(START)
    top = books.touch(spec, 1, bucket)
    far = top.ask * 2
    order = _resting_sell(far, D(50), ahead=D(0))
    part = (bucket, books.bucket_start(bucket), books.bucket_start(bucket + 1))
    assert matching.progress(order, spec, 1, part) == 0


def test_priority_counts_every_better_level_and_improvers_undercut() -> None:
    asks = (BookLevel(D("1.00"), D(10)), BookLevel(D("1.01"), D(20)), BookLevel(D("1.02"), D(40)))
    assert impact.queue_ahead(CALIBRATED, asks, D("1.01"), Side.SELL) == 30
    assert impact.queue_ahead(OPTIMISTIC, asks, D("1.01"), Side.SELL) == 20
    improving = D("0.99")
    assert impact.queue_ahead(OPTIMISTIC, asks, improving, Side.SELL) == 0
    assert impact.queue_ahead(CALIBRATED, asks, improving, Side.SELL) == CALIBRATED.improvers * 10
    skeptic = MODELS[PaperMarketModel.SKEPTIC]
    assert impact.queue_ahead(skeptic, asks, improving, Side.SELL) == 10


def test_the_mid_moves_with_signed_flow() -> None:
    """Informed flow buys before a rise and sells before a fall; in the first market flow
    and moves are unrelated."""

    def agreement(spec: ProductSpec) -> float:
        first = books.bucket_of(START)
        same = 0
        for b in range(first, first + 400):
            trades = books.flow(spec, 1, b)
            move = books.mid_price(spec, 1, b + 1) - books.mid_price(spec, 1, b)
            same += (trades.buy_base - trades.sell_base) * move > 0
        return same / 400

    assert agreement(with_model(SEI, CALIBRATED)) > 0.6
    assert 0.35 < agreement(with_model(SEI, OPTIMISTIC)) < 0.65


def test_short_horizon_variance_grows_like_a_walk_not_a_jitter() -> None:
    """Over 12 buckets (a minute) a random walk's variance is many times one bucket's; the
    first market's jitter reverts, so its one-bucket moves are as large as its minute's."""

    def ratio(spec: ProductSpec) -> float:
        first = books.bucket_of(START)
        mids = [float(books.mid_price(spec, 1, b)) for b in range(first, first + 1213)]
        one = [b - a for a, b in itertools.pairwise(mids)]
        twelve = [mids[i + 12] - mids[i] for i in range(0, 1200, 12)]
        return statistics.pvariance(twelve) / statistics.pvariance(one)

    assert ratio(with_model(SEI, CALIBRATED)) > 6
    assert ratio(with_model(SEI, OPTIMISTIC)) < 5


def test_liquid_products_quote_one_tick_wide_under_a_realistic_model() -> None:
    btc = MARKETS["documents"].products["BTC-USD"]
    for b in range(books.bucket_of(START), books.bucket_of(START) + 50):
        top = books.touch(with_model(btc, CALIBRATED), 1, b)
        assert top.ask - top.bid <= 2 * btc.quote_increment
    wide = books.touch(with_model(btc, OPTIMISTIC), 1, books.bucket_of(START))
    assert wide.ask - wide.bid > 100 * btc.quote_increment


async def test_our_taker_moves_the_mid_and_the_book_refills_over_a_minute(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    ex = open_paper(holdings={"SEI": 100000}, market="calm")
    plain = open_paper(holdings={"SEI": 1}, market="calm", account="ns/other")
    before = await ex.book("SEI-USD")
    await ex.place_order(OrderRequest("t1", "SEI-USD", Side.SELL, D(30000), OrderType.MARKET))
    after, untouched = await ex.quote("SEI-USD"), await plain.quote("SEI-USD")
    assert after.mid < untouched.mid, "permanent impact: our sale moved our view of the mid"
    depth = [sum(lv.size for lv in (await ex.book("SEI-USD")).bids)]
    for _ in range(3):
        await clock.sleep(30)
        depth.append(sum(lv.size for lv in (await ex.book("SEI-USD")).bids))
    full = sum(lv.size for lv in before.bids)
    assert depth[0] < depth[1] < full * D("1.2"), "refilling, not refilled at once"
    assert depth[2] > full * D("0.8") and depth[3] > full * D("0.8")


async def test_impact_survives_a_restart(open_paper: OpenPaper, tmp_path: Path) -> None:
    state = tmp_path
    ex = open_paper(holdings={"SEI": 100000}, state_dir=state, account="a")
    await ex.place_order(OrderRequest("t1", "SEI-USD", Side.SELL, D(30000), OrderType.MARKET))
    seen = await ex.quote("SEI-USD")
    again = open_paper(holdings={"SEI": 100000}, state_dir=state, account="a")
    assert await again.quote("SEI-USD") == seen


def test_fee_tiers_come_from_the_30_day_volume() -> None:
    assert fees.rates(PaperFees()) == (D(60), D(120)), "entry tier by default"
    assert fees.rates(PaperFees(thirty_day_volume_usd=D(5000))) == (D(35), D(75))
    assert fees.rates(PaperFees(thirty_day_volume_usd=D(10**9))) == (D(25), D(40))
    assert fees.rates(PaperFees(maker_bps=D(0), taker_bps=D(25))) == (D(0), D(25))


def test_the_default_paper_market_is_calibrated() -> None:
    assert PaperConfig().model is PaperMarketModel.CALIBRATED


def test_a_shift_of_a_fraction_of_a_tick_leaves_the_book_where_it_was() -> None:
    """Rounding a shifted bid down to the tick made a 0.2 bps drift cost a whole 7 bps tick."""
    bids = (BookLevel(D("0.1398"), D(100)), BookLevel(D("0.1396"), D(200)))
    assert impact._moved(bids, D("0.99998"), D("0.0001")) == bids
    moved = impact._moved(bids, D("0.999"), D("0.0001"))
    assert [lv.price for lv in moved] == [D("0.1397"), D("0.1395")]


async def test_skeptic_drift_lowers_the_sellers_view_only_by_the_drift(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    ex = open_paper(holdings={"WLFI": 100}, model="skeptic", seed=1)
    plain = open_paper(holdings={"WLFI": 100}, model="calibrated", seed=1, account="ns/plain")
    quote = await ex.quote("WLFI-USD")
    far = quote.ask * 2
    await ex.place_order(
        OrderRequest("m1", "WLFI-USD", Side.SELL, D(50), OrderType.LIMIT, far, post_only=True)
    )
    await clock.sleep(15)
    assert (await ex.quote("WLFI-USD")).bid == (await plain.quote("WLFI-USD")).bid
    await clock.sleep(3600)
    drifted, calm = await ex.quote("WLFI-USD"), await plain.quote("WLFI-USD")
    assert drifted.mid < calm.mid * D("0.9960"), "an hour of -50 bps/h drift"


def test_a_trend_moves_the_seeded_price_path_from_its_start_and_only_then() -> None:
    import math

    from cleanslate.exchange.paper import books
    from cleanslate.exchange.paper.markets import MARKETS, Trend, with_model
    from cleanslate.exchange.paper.models import MODELS

    chosen = MODELS[PaperMarketModel.CALIBRATED]
    spec = MARKETS["documents"].products["SEI-USD"]
    start = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
    flat = with_model(spec, chosen)
    falling = with_model(spec, chosen, Trend(Decimal(-100), start))
    before = books.bucket_of(start - timedelta(minutes=1))
    assert books.mid_price(falling, 7, before) == books.mid_price(flat, 7, before)
    later = books.bucket_of(start + timedelta(minutes=3))
    ratio = books.mid_price(falling, 7, later) / books.mid_price(flat, 7, later)
    assert abs(float(ratio) - math.exp(-0.03)) < 1e-9  # -1 %/min for 3 minutes, log-linear


async def _inside_ask(ex: PaperExchange, size: Decimal) -> tuple[Decimal, Decimal]:
    """Place a post-only sell one tick inside SEI's ask; (its price, the touch level's size)."""
    book = await ex.book("SEI-USD")
    price = book.asks[0].price - SEI.quote_increment
    assert price > book.bids[0].price, "SEI's spread is wider than a tick"
    await ex.place_order(
        OrderRequest("inside", "SEI-USD", Side.SELL, size, OrderType.LIMIT, price, post_only=True)
    )
    return price, book.asks[0].size


def _displayed_at(book_asks: tuple[BookLevel, ...], price: Decimal) -> Decimal:
    return sum((lv.size for lv in book_asks if lv.price == price), D(0))


async def test_the_book_shows_our_resting_order_and_the_improvers_ahead_of_it(
    open_paper: OpenPaper,
) -> None:
    """A real book shows the undercutters an improving order attracts; the paper book shows
    the model's (a quarter of a touch level calibrated, a full level skeptic), so an
    executor can read the queue ahead of its order instead of guessing it."""
    for name, improvers in (("calibrated", D("0.25")), ("skeptic", D(1)), ("optimistic", D(0))):
        ex = open_paper(holdings={"SEI": 100000}, model=name, seed=3, account=f"ns/{name}")
        price, touch = await _inside_ask(ex, D(50))
        shown = _displayed_at((await ex.book("SEI-USD")).asks, price)
        assert shown == D(50) + improvers * touch, name
        order = await ex.find_order("inside", "SEI-USD")
        assert order is not None
        await ex.cancel_orders([order.order_id])
        assert _displayed_at((await ex.book("SEI-USD")).asks, price) == 0, "gone when cancelled"


async def test_the_queue_shown_ahead_only_shrinks_as_the_flow_trades_it(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    ex = open_paper(holdings={"SEI": 100000}, model="calibrated", seed=3)
    price, _ = await _inside_ask(ex, D(50))
    seen = []
    for _ in range(60):
        order = await ex.find_order("inside", "SEI-USD")
        assert order is not None
        if order.status.is_final or order.filled_size > 0:
            break
        if (await ex.quote("SEI-USD")).ask <= price:
            break  # the market's own ask reached the order: its size there is behind ours
        seen.append(_displayed_at((await ex.book("SEI-USD")).asks, price) - D(50))
        await clock.sleep(5)
    assert len(seen) > 2 and seen[0] > 0
    assert all(a >= b for a, b in itertools.pairwise(seen)), seen
    assert seen[-1] < seen[0], "the flow at the touch trades the size ahead first"


async def test_an_order_joining_the_ask_shows_the_level_it_joined_trading_away(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    """On a one-tick book the order joins the ask: the level shown at its price is its
    queue (the level as it was, less what traded), not a new random level every bucket."""
    ex = open_paper(holdings={"DOGE": 10**6}, model="calibrated", seed=3)
    ask = (await ex.quote("DOGE-USD")).ask
    joined = (await ex.book("DOGE-USD")).asks[0]
    assert joined.price == ask
    await ex.place_order(
        OrderRequest("join", "DOGE-USD", Side.SELL, D(100), OrderType.LIMIT, ask, post_only=True)
    )
    shown = [_displayed_at((await ex.book("DOGE-USD")).asks, ask)]
    assert shown[0] == joined.size + 100
    for _ in range(12):
        await clock.sleep(5)
        order = await ex.find_order("join", "DOGE-USD")
        assert order is not None
        if order.filled_size > 0:
            break
        shown.append(_displayed_at((await ex.book("DOGE-USD")).asks, ask))
    assert len(shown) > 1, "still queued after the first bucket"
    assert all(a > b for a, b in itertools.pairwise(shown)), shown
