"""The paper venue's dust conversion (``paper.dustTarget``), shaped like Binance's Dust
Transfer: the free balance of each asset asked for is converted at the mid price into the
target, less a fixed charge, at most once per cooldown. An asset the market cannot price
in the target (no product, delisted, another quote currency) is left as it is and not
reported as converted, as Binance leaves out of ``transferResult`` what it refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from cleanslate.core.market import ProductStatus
from cleanslate.exchange.paper.markets import ProductSpec

CHARGE = Decimal("0.02")
"""The paper's conversion charge: 2 % of what the crumbs are worth in the target. A figure
chosen for the simulator (Binance publishes its own rate), so a sweep is never free."""
COOLDOWN = timedelta(hours=6)
"""Binance allows one dust transfer per 6 hours; the paper venue keeps the same rule."""
_UNITS = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class Converted:
    asset: str
    amount: Decimal
    worth: Decimal
    """In the target, before the charge."""


def convert(
    assets: Sequence[str],
    target: str,
    free: Mapping[str, Decimal],
    specs: Mapping[str, ProductSpec],
    mid: Callable[[ProductSpec], Decimal],
) -> list[Converted]:
    """What each asset's free balance is worth in ``target`` at the mid; assets it cannot
    price are left out."""
    done = []
    for asset in dict.fromkeys(assets):
        amount = free.get(asset, Decimal(0))
        if asset == target or amount <= 0:
            continue
        worth = _worth(asset, amount, target, specs, mid)
        if worth is not None:
            done.append(Converted(asset, amount, worth))
    return done


def charged(total: Decimal) -> tuple[Decimal, Decimal]:
    """(received, fee) in the target, rounded down to 8 places as Binance reports them."""
    fee = (total * CHARGE).quantize(_UNITS, ROUND_DOWN)
    return (total - fee).quantize(_UNITS, ROUND_DOWN), fee


def _worth(
    asset: str,
    amount: Decimal,
    target: str,
    specs: Mapping[str, ProductSpec],
    mid: Callable[[ProductSpec], Decimal],
) -> Decimal | None:
    for spec in specs.values():
        if spec.base != asset or spec.status is ProductStatus.DELISTED:
            continue
        value = amount * mid(spec)
        if spec.quote == target:
            return value
        into = specs.get(f"{target}-{spec.quote}")
        if into is not None and into.status is not ProductStatus.DELISTED:
            return value / mid(into)
    return None
