"""What an account's own trading does to the market it sees, and where its makers queue.

The generated market (``books``) is the same for every account; an account's own orders move
its view of it, under a realistic model (``models.py``):

* **Permanent impact.** Our takers move the mid by the square-root law, Y * daily sigma *
  sqrt(Q / daily volume) for the net base volume Q they took on the product in the model's
  impact memory (Donier & Bonart 2015 for Bitcoin metaorders). It stays for that memory and
  then the generated market takes over again.
* **Refill over time.** What our takers consumed is missing from the best levels of the side
  they hit and comes back linearly over ``recovery_seconds``, not in the next bucket.
* **Adverse drift.** From the first order on a product the mid drifts against that order's
  side at ``drift_bps_per_hour`` (the skeptic's model only).

Nothing here is saved: it is rebuilt from the account's saved orders (``OwnTrading.replay``),
so a restarted process sees the same market as one that kept running.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from cleanslate.core.market import BookLevel, Side
from cleanslate.exchange.paper.markets import ProductSpec
from cleanslate.exchange.paper.matching import Shift
from cleanslate.exchange.paper.models import MarketModel
from cleanslate.exchange.paper.persistence import OrderRecord

ZERO = Decimal(0)
SEEDED_PREFIX = "seed-"
"""Client order id prefix of the stale orders a paper account starts with."""
_BPS = Decimal(10000)
Levels = tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]


@dataclass(frozen=True, slots=True)
class _Take:
    at: datetime
    side: Side
    """Side of our taker order (a SELL consumed bids)."""
    size: Decimal


class OwnTrading:
    """One account's takers and first orders per product, and the view they produce."""

    def __init__(self, model: MarketModel) -> None:
        self._model = model
        self._takes: dict[str, list[_Take]] = {}
        self._first: dict[str, tuple[datetime, Side]] = {}

    @classmethod
    def replay(cls, model: MarketModel, orders: Iterable[OrderRecord]) -> OwnTrading:
        """Rebuilt from the account's saved orders (their taker fills and placement times),
        so a restarted process sees the market it left. Seeded stale orders are not ours."""
        own = cls(model)
        for order in sorted(orders, key=lambda o: o.created_at):
            if order.client_order_id.startswith(SEEDED_PREFIX):
                continue
            own.first_order(order.product_id, order.side, order.created_at)
            for fill in order.fills:
                if fill.liquidity == "taker":
                    own.took(order.product_id, order.side, fill.size, fill.at)
        return own

    def took(self, product_id: str, side: Side, size: Decimal, at: datetime) -> None:
        self._takes.setdefault(product_id, []).append(_Take(at, side, size))

    def first_order(self, product_id: str, side: Side, at: datetime) -> None:
        self._first.setdefault(product_id, (at, side))

    def shift(self, spec: ProductSpec, at: datetime) -> Decimal:
        """Relative offset of the account's view of the product's prices at ``at``."""
        return self._impact(spec, at) + self._drift(spec.product_id, at)

    def shifter(self, spec: ProductSpec) -> Shift | None:
        """``shift`` bound to a product, for the matching of resting orders (None: no shift)."""
        if not self._model.realistic:
            return None
        return lambda at: self.shift(spec, at)

    def view(
        self,
        spec: ProductSpec,
        bids: tuple[BookLevel, ...],
        asks: tuple[BookLevel, ...],
        at: datetime,
    ) -> Levels:
        """The generated book moved by our impact, minus what our takers consumed and the
        book has not refilled yet."""
        factor = 1 + self.shift(spec, at)
        tick = spec.quote_increment
        bids, asks = _moved(bids, factor, tick), _moved(asks, factor, tick)
        if bids and asks and asks[0].price <= bids[0].price:  # never a crossed or locked view
            asks = tuple(BookLevel(lv.price + tick, lv.size) for lv in asks)
        return (
            _consume(bids, self._missing(spec.product_id, Side.SELL, at)),
            _consume(asks, self._missing(spec.product_id, Side.BUY, at)),
        )

    def _impact(self, spec: ProductSpec, at: datetime) -> Decimal:
        y = self._model.impact_y
        memory = self._model.impact_memory_seconds
        if y == 0 or spec.daily_volume_base <= 0:
            return ZERO
        net = sum(
            (t.size if t.side is Side.BUY else -t.size)
            for t in self._takes.get(spec.product_id, ())
            if 0 <= (at - t.at).total_seconds() < memory
        )
        if net == 0:
            return ZERO
        sigma = spec.volatility_bps / _BPS
        size = y * sigma * Decimal(repr(math.sqrt(float(abs(net) / spec.daily_volume_base))))
        return size if net > 0 else -size

    def _drift(self, product_id: str, at: datetime) -> Decimal:
        rate = self._model.drift_bps_per_hour
        first = self._first.get(product_id)
        if rate == 0 or first is None:
            return ZERO
        hours = Decimal(repr(max(0.0, (at - first[0]).total_seconds()) / 3600))
        drift = rate / _BPS * hours
        return drift if first[1] is Side.SELL else -drift

    def _missing(self, product_id: str, taker: Side, at: datetime) -> Decimal:
        """Base size our ``taker`` orders took that the book has not refilled by ``at``."""
        recovery = self._model.recovery_seconds
        missing = ZERO
        for t in self._takes.get(product_id, ()):
            age = (at - t.at).total_seconds()
            if t.side is taker and 0 <= age < recovery:
                missing += t.size * Decimal(repr(1 - age / recovery))
        return missing


def queue_ahead(
    model: MarketModel, same_side: Iterable[BookLevel], price: Decimal, side: Side
) -> Decimal:
    """Displayed size a new resting order waits behind. The first paper market counts only
    size at its own price; with price priority every better-priced level counts too, and an
    order that improves the touch gets ``improvers`` touch levels ahead of it (others
    undercut it)."""
    levels = tuple(same_side)

    def better_or_equal(level: Decimal) -> bool:
        return level <= price if side is Side.SELL else level >= price

    if not model.priority:
        return sum((lv.size for lv in levels if lv.price == price), ZERO)
    ahead = sum((lv.size for lv in levels if better_or_equal(lv.price)), ZERO)
    improves = bool(levels) and not better_or_equal(levels[0].price)
    if improves and model.improvers > 0:
        ahead += model.improvers * levels[0].size
    return ahead


def _moved(levels: tuple[BookLevel, ...], factor: Decimal, tick: Decimal) -> tuple[BookLevel, ...]:
    """Levels with prices multiplied by ``factor``, rounded to the nearest tick (rounding
    away from the touch would turn a shift of a hundredth of a tick into a whole tick);
    levels that land on the same tick are merged."""
    if factor == 1:
        return levels
    merged: dict[Decimal, Decimal] = {}
    for lv in levels:
        price = (lv.price * factor / tick).to_integral_value(ROUND_HALF_EVEN) * tick
        if price > 0:
            merged[price] = merged.get(price, ZERO) + lv.size
    return tuple(BookLevel(p, s) for p, s in merged.items())


def _consume(levels: tuple[BookLevel, ...], missing: Decimal) -> tuple[BookLevel, ...]:
    """The levels with ``missing`` base size taken from the best ones first."""
    if missing <= 0:
        return levels
    out = []
    for lv in levels:
        take = min(missing, lv.size)
        missing -= take
        if lv.size - take > 0:
            out.append(BookLevel(lv.price, lv.size - take))
    return tuple(out)
