"""How orders fill: takers walk the book, makers wait for trade flow to reach their price.

A taker order consumes book levels best first until its size or its limit (the slippage cap)
is reached, paying the taker fee on each level; whatever is left is cancelled (IOC/market) or
rests (a plain limit order). A resting order fills only from simulated trades: each five-second
bucket's flow (``books.flow``) passes through the prices it reaches, eats the queue that was
ahead of the order at its price, and only then fills the order. Fills therefore come late,
in parts, or never, like on a real venue; a price the market moves through fills quickly.

Under a realistic model (``models.py``) only flow that arrives while the order is at the touch
reaches it (the model's share of it, informed flow included), the queue ahead counts every
better-priced level too, and the order fills whole when the market's bid reaches its price at
a bucket's end: it is filled when the price rises through it, never at a price the market did
not trade through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from cleanslate.core.market import BookLevel, Fill, OrderStatus, Side
from cleanslate.exchange.paper import books
from cleanslate.exchange.paper.markets import ProductSpec
from cleanslate.exchange.paper.persistence import ZERO, AccountState, OrderRecord

_BPS = Decimal("10000")
_FEE_QUANTUM = Decimal("0.0000000001")
MAX_CATCHUP = timedelta(hours=6)
"""Longest stretch of trade flow simulated in one go: after a longer gap (a process that was
down for a day) resting orders see only its last six hours, which bounds the work a call can
cause. Expiries inside the skipped part still happen."""


def walk(
    levels: Sequence[BookLevel], size: Decimal, limit: Decimal | None, side: Side
) -> list[tuple[Decimal, Decimal]]:
    """(price, size) taken from each level a taker of ``side`` reaches, best first."""
    taken: list[tuple[Decimal, Decimal]] = []
    remaining = size
    for level in levels:
        if remaining <= 0 or not _within(level.price, limit, side):
            break
        take = min(level.size, remaining)
        taken.append((level.price, take))
        remaining -= take
    return taken


def _within(price: Decimal, limit: Decimal | None, side: Side) -> bool:
    if limit is None:
        return True
    return price >= limit if side is Side.SELL else price <= limit


def fee(price: Decimal, size: Decimal, bps: Decimal) -> Decimal:
    return (price * size * bps / _BPS).quantize(_FEE_QUANTUM)


def apply_fill(
    state: AccountState,
    order: OrderRecord,
    spec: ProductSpec,
    price_size: tuple[Decimal, Decimal],
    liquidity: str,
    fee_bps: Decimal,
    at: datetime,
) -> None:
    """Book one fill: the order's progress, the fee, and both balances."""
    price, size = price_size
    cost = fee(price, size, fee_bps)
    state.trade_seq += 1
    fill = Fill(
        order_id=order.order_id,
        product_id=order.product_id,
        side=order.side,
        price=price,
        size=size,
        fee=cost,
        liquidity=liquidity,
        at=at,
        trade_id=f"paper-{state.trade_seq}",
    )
    order.fills.append(fill)
    order.filled_size += size
    order.filled_value += price * size
    order.fees += cost
    sign = Decimal(1) if order.side is Side.BUY else Decimal(-1)
    _credit(state, spec.base, sign * size)
    _credit(state, spec.quote, -sign * price * size - cost)
    if order.remaining <= 0:
        order.status = OrderStatus.FILLED


def _credit(state: AccountState, asset: str, amount: Decimal) -> None:
    total = state.balances.get(asset, ZERO) + amount
    state.balances[asset] = total


def segments(start: datetime, end: datetime) -> Iterator[tuple[int, datetime, datetime]]:
    """The parts of [start, end) that fall in each bucket."""
    cursor = start
    while cursor < end:
        bucket = books.bucket_of(cursor)
        stop = min(end, books.bucket_start(bucket + 1))
        if stop <= cursor:  # float rounding at a bucket edge
            stop = min(end, cursor + timedelta(microseconds=1))
        yield bucket, cursor, stop
        cursor = stop


def reached(order: OrderRecord, spec: ProductSpec, seed: int, bucket: int) -> Decimal:
    """Base volume of the bucket's trades that reached the order's price (first paper market:
    flow reaches a linearly falling share of prices beyond the touch, whatever the price does
    next)."""
    assert order.limit_price is not None
    top = books.touch(spec, seed, bucket)
    trades = books.flow(spec, seed, bucket)
    price = order.limit_price
    if order.side is Side.SELL:
        volume, touch_price, extreme = trades.buy_base, top.ask, trades.high
        share = _share(price - touch_price, extreme - touch_price)
    else:
        volume, touch_price, extreme = trades.sell_base, top.bid, trades.low
        share = _share(touch_price - price, touch_price - extreme)
    return volume * share * spec.maker_reach


def _share(distance: Decimal, reach: Decimal) -> Decimal:
    """All the flow at or through the touch, a linearly falling part out to the extreme."""
    if distance <= 0:
        return Decimal(1)
    if reach <= 0 or distance >= reach:
        return ZERO
    return 1 - distance / reach


def at_touch(
    order: OrderRecord, spec: ProductSpec, seed: int, bucket: int, shift: Decimal
) -> Decimal:
    """Realistic models: base volume that meets the order's price level in the bucket. Only
    flow arriving while the order is at (or better than) the touch reaches it, and only the
    model's share of it; the queue ahead takes it first (``progress``)."""
    price = _unshifted(order, shift)
    top = books.touch(spec, seed, bucket)
    trades = books.flow(spec, seed, bucket)
    share = spec.model.flow_share * spec.maker_reach
    if order.side is Side.SELL:
        return trades.buy_base * share if price <= top.ask else ZERO
    return trades.sell_base * share if price >= top.bid else ZERO


def traded_through(
    order: OrderRecord, spec: ProductSpec, seed: int, bucket: int, shift: Decimal
) -> bool:
    """Realistic models: at the end of the bucket the market's bid has reached the resting
    sell's price (the ask has come down to a resting buy's): the price traded through it,
    so it and everything ahead of it at its price was filled."""
    if spec.maker_reach <= 0:
        return False
    price = _unshifted(order, shift)
    after = books.touch(spec, seed, bucket + 1)
    return after.bid >= price if order.side is Side.SELL else after.ask <= price


def _unshifted(order: OrderRecord, shift: Decimal) -> Decimal:
    """The order's price in the generated market, which our own impact has moved by
    ``shift`` (relative) in this account's view."""
    assert order.limit_price is not None
    return order.limit_price / (1 + shift)


Shift = Callable[[datetime], Decimal]
"""Relative offset of the account's view of a product's prices at a time (own impact)."""


def progress(
    order: OrderRecord,
    spec: ProductSpec,
    seed: int,
    part: tuple[int, datetime, datetime],
    shift: Shift | None = None,
) -> Decimal:
    """Advance a resting order through one bucket segment; the base size newly fillable."""
    bucket, start, end = part
    fraction = Decimal((end - start).total_seconds()) / books.BUCKET_SECONDS
    if spec.model.trade_through:
        offset = shift(start) if shift is not None else ZERO
        order.traded_through += at_touch(order, spec, seed, bucket, offset) * fraction
        at_bucket_end = end >= books.bucket_start(bucket + 1)
        if at_bucket_end and traded_through(order, spec, seed, bucket, offset):
            order.traded_through = max(order.traded_through, order.queue_ahead + order.base_size)
    else:
        order.traded_through += reached(order, spec, seed, bucket) * fraction
    fillable = min(order.base_size, max(ZERO, order.traded_through - order.queue_ahead))
    fillable = books.floor_to(fillable, spec.base_increment)
    return max(ZERO, fillable - order.filled_size)


def run_resting(
    state: AccountState,
    order: OrderRecord,
    spec: ProductSpec,
    seed: int,
    until: datetime,
    maker_bps: Decimal,
    shift: Shift | None = None,
) -> None:
    """Let simulated time from ``processed_until`` to ``until`` act on one open order."""
    start = max(state.processed_until, order.created_at, until - MAX_CATCHUP)
    stop = until if order.expires_at is None else min(until, order.expires_at)
    for part in segments(start, stop):
        size = progress(order, spec, seed, part, shift)
        if size > 0:
            assert order.limit_price is not None
            apply_fill(state, order, spec, (order.limit_price, size), "maker", maker_bps, part[2])
        if order.status is not OrderStatus.OPEN:
            return
    if order.expires_at is not None and order.expires_at <= until:
        order.status = OrderStatus.EXPIRED
