"""Seeded order books, prices and trade flow: pure functions of (seed, product, time bucket).

Nothing here keeps state. A book is regenerated from a hash of the seed, the product and the
five-second bucket it is asked about, so every paper account with the same seed sees the same
market, a restarted process sees the market it left, and an instance holds no book in memory
(a small shared cache spares recomputation when many accounts ask about the same bucket).

The mid price wanders like a random walk without needing its history: it is a sum of value
noise at several time scales (6 h, 1 h, 10 min, 1 min) plus a per-bucket jitter, so the price
at any time is computed in constant time. Under a model with ``walk`` the two fast octaves and
the jitter give way to a Brownian bridge per hour, whose variance over seconds and minutes is
that of the product's daily volatility; under one with ``informed_share`` part of the trade
flow is drawn from the next move (see ``flow``).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache

from cleanslate.core.market import BookLevel
from cleanslate.exchange.paper.markets import ProductSpec

BUCKET_SECONDS = 5
LEVELS = 10
DEPTH_BAND = Decimal("0.01")
"""Bid depth counts levels within 1 % of the mid ("near the touch")."""
_OCTAVES = ((21600, 0.45), (3600, 0.3), (600, 0.17), (60, 0.08))
_SLOW_OCTAVES = _OCTAVES[:2]
"""With a short-horizon walk the 10-minute and 1-minute octaves go: smooth, they moved the
price by more over a minute than a diffusion with the daily volatility does."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BPS = Decimal("10000")
ZERO_D = Decimal(0)
_BOOK, _FLOW, _WALK = 2, 3, 4
"""Tags of the per-bucket random sources (1 is the jitter)."""


def stable_seed(*parts: object) -> int:
    """A seed that is the same in every process (``hash()`` of a str is not)."""
    text = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def seeded(seed: int, product_id: str, tag: int, bucket: int) -> random.Random:
    """The random source of one product's ``tag`` draws in one bucket."""
    return random.Random(_mix(_root(seed, product_id), tag, bucket))


def bucket_of(at: datetime) -> int:
    return math.floor(at.timestamp() / BUCKET_SECONDS)


def bucket_start(bucket: int) -> datetime:
    return _EPOCH + timedelta(seconds=bucket * BUCKET_SECONDS)


def floor_to(value: Decimal, increment: Decimal) -> Decimal:
    return (value / increment).to_integral_value(ROUND_FLOOR) * increment


def ceil_to(value: Decimal, increment: Decimal) -> Decimal:
    return (value / increment).to_integral_value(ROUND_CEILING) * increment


_MASK = (1 << 64) - 1


def _mix(*parts: int) -> int:
    """splitmix64 over the parts: a cheap, well-spread integer hash for noise nodes."""
    x = 0
    for part in parts:
        x = (x + (part & _MASK) + 0x9E3779B97F4A7C15) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        x ^= x >> 31
    return x


@lru_cache(maxsize=512)
def _root(seed: int, product_id: str) -> int:
    return stable_seed(seed, product_id)


def _signed_unit(*parts: int) -> float:
    """A deterministic value in [-1, 1)."""
    return _mix(*parts) / 2**63 - 1


@lru_cache(maxsize=8192)
def _node(root: int, period: int, k: int) -> float:
    return _signed_unit(root, period, k)


def _noise(seed: int, product_id: str, period: int, seconds: float) -> float:
    """Smoothly interpolated value noise in [-1, 1] with the given period."""
    k, frac = divmod(seconds / period, 1.0)
    root = _root(seed, product_id)
    a, b = _node(root, period, int(k)), _node(root, period, int(k) + 1)
    smooth = frac * frac * (3 - 2 * frac)
    return a + (b - a) * smooth


@lru_cache(maxsize=4096)
def mid_price(spec: ProductSpec, seed: int, bucket: int) -> Decimal:
    """The mid at a bucket: the reference price moved by at most about ``volatility_bps``,
    plus short-horizon noise: a random walk (models with ``walk``) or the first paper
    market's independent per-bucket jitter."""
    if spec.volatility_bps == 0:
        return spec.price * _trend_factor(spec, bucket)
    seconds = float(bucket * BUCKET_SECONDS)
    octaves = _SLOW_OCTAVES if spec.model.walk else _OCTAVES
    wave = sum(w * _noise(seed, spec.product_id, p, seconds) for p, w in octaves)
    sigma = float(spec.volatility_bps / _BPS)
    if spec.model.walk:
        offset = sigma * wave + sigma * math.sqrt(BUCKET_SECONDS / 86400) * _walk(
            _root(seed, spec.product_id), bucket
        )
    else:
        offset = sigma * (wave + 0.05 * _signed_unit(_root(seed, spec.product_id), 1, bucket))
    return spec.price * Decimal(repr(math.exp(offset))) * _trend_factor(spec, bucket)


def _trend_factor(spec: ProductSpec, bucket: int) -> Decimal:
    """exp(rate x minutes since the trend's start), 1 before it or without one."""
    trend = spec.trend
    if trend is None:
        return Decimal(1)
    minutes = (bucket_start(bucket) - trend.start).total_seconds() / 60
    if minutes <= 0:
        return Decimal(1)
    return Decimal(repr(math.exp(float(trend.bps_per_minute / _BPS) * minutes)))


WALK_BLOCK = 720
"""Buckets (an hour) per Brownian bridge of the short-horizon walk."""


def _walk(root: int, bucket: int) -> float:
    """A standard random walk in bucket steps, pinned to 0 every ``WALK_BLOCK`` buckets (a
    Brownian bridge), so it is computed without history and never wanders off the slower
    octaves. Over a few buckets its variance grows like a diffusion's (one unit per bucket),
    which is what the first market's independent jitter lacked."""
    block, k = divmod(bucket, WALK_BLOCK)
    path = _bridge_path(root, block)
    return path[k] - k / WALK_BLOCK * path[WALK_BLOCK]


@lru_cache(maxsize=2048)
def _bridge_path(root: int, block: int) -> tuple[float, ...]:
    rng = random.Random(_mix(root, _WALK, block))
    total, path = 0.0, [0.0]
    for _ in range(WALK_BLOCK):
        total += rng.gauss(0.0, 1.0)
        path.append(total)
    return tuple(path)


@dataclass(frozen=True, slots=True)
class Touch:
    bid: Decimal
    ask: Decimal
    step: Decimal
    """Price distance between book levels."""


@lru_cache(maxsize=4096)
def touch(spec: ProductSpec, seed: int, bucket: int) -> Touch:
    """Best bid and ask on the tick grid, at least one tick apart."""
    mid = mid_price(spec, seed, bucket)
    tick = spec.quote_increment
    half = mid * spec.spread_bps / _BPS / 2
    bid = max(floor_to(mid - half, tick), tick)
    ask = max(ceil_to(mid + half, tick), bid + tick)
    step_bps = max(spec.spread_bps / 2, Decimal("2"))
    step = max(tick, floor_to(mid * step_bps / _BPS, tick))
    return Touch(bid, ask, step)


@lru_cache(maxsize=1024)
def levels(
    spec: ProductSpec, seed: int, bucket: int
) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
    """``LEVELS`` bids and asks, best first, sizes growing away from the touch."""
    top = touch(spec, seed, bucket)
    rng = seeded(seed, spec.product_id, _BOOK, bucket)
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    for i in range(LEVELS):
        for side, price in ((bids, top.bid - i * top.step), (asks, top.ask + i * top.step)):
            if price <= 0:
                continue
            quote = spec.level_quote * Decimal(repr(0.5 + rng.random())) * (1 + Decimal(i) / 5)
            size = max(floor_to(quote / price, spec.base_increment), spec.base_increment)
            side.append(BookLevel(price, size))
    return tuple(bids), tuple(asks)


@dataclass(frozen=True, slots=True)
class Flow:
    """Aggressive trading in one bucket: what resting orders can be filled by."""

    buy_base: Decimal
    """Base volume bought by takers (fills resting sells)."""
    sell_base: Decimal
    high: Decimal
    """Highest price a buy reached; sells resting above it got nothing."""
    low: Decimal


@lru_cache(maxsize=4096)
def flow(spec: ProductSpec, seed: int, bucket: int) -> Flow:
    """Bursty two-sided flow sized from the 24h quote volume, reaching about a spread out.

    In the first paper market the flow is independent of the price. With ``informed_share``
    a part of it is informed: it trades in the direction of the bucket's move, sized by the
    square-root law read backwards (the volume Q that moves the mid by m is
    V * (m / (Y * sigma))^2, Y = 1), so a typical one-bucket move comes with about one
    bucket's volume, and a resting sell meets the most buyers just before the price rises."""
    top = touch(spec, seed, bucket)
    rng = seeded(seed, spec.product_id, _FLOW, bucket)
    mid = (top.bid + top.ask) / 2
    per_side = spec.quote_volume_24h * BUCKET_SECONDS / 86400 / 2 / mid
    buy = per_side * Decimal(repr(rng.expovariate(1.0)))
    sell = per_side * Decimal(repr(rng.expovariate(1.0)))
    reach = max(spec.spread_bps, Decimal("2")) / _BPS
    high = top.ask * (1 + reach * Decimal(repr(rng.expovariate(1.0))))
    low = top.bid * (1 - reach * Decimal(repr(rng.expovariate(1.0))))
    informed = spec.model.informed_share
    if informed > 0:
        signed = _informed_base(spec, seed, bucket)
        buy = buy * (1 - informed) + informed * max(signed, ZERO_D)
        sell = sell * (1 - informed) + informed * max(-signed, ZERO_D)
    return Flow(buy, sell, high, low)


def _informed_base(spec: ProductSpec, seed: int, bucket: int) -> Decimal:
    """Signed base volume (buys positive) that moves the mid from this bucket to the next."""
    before, after = mid_price(spec, seed, bucket), mid_price(spec, seed, bucket + 1)
    sigma = spec.volatility_bps / _BPS
    if sigma == 0 or before == after:
        return ZERO_D
    move = abs(after - before) / before
    volume = spec.daily_volume_base * (move / sigma) ** 2
    return volume if after > before else -volume


def quote_volume(spec: ProductSpec, seed: int, at: datetime) -> Decimal:
    """The 24h quote volume, drifting ±10 % over hours around the reference."""
    drift = _noise(seed, spec.product_id, 14400, at.timestamp())
    return (spec.quote_volume_24h * Decimal(repr(1 + 0.1 * drift))).quantize(Decimal("0.01"))


def bid_depth(bids: tuple[BookLevel, ...], mid: Decimal) -> Decimal:
    """Quote value of the bids within ``DEPTH_BAND`` of the mid."""
    floor = mid * (1 - DEPTH_BAND)
    return sum((lv.price * lv.size for lv in bids if lv.price >= floor), Decimal("0"))
