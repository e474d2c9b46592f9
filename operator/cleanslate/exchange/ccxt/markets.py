"""ccxt's market structure as the port's ``Product``; ``BASE-QUOTE`` ids as ccxt symbols.

Precision: ccxt reports ``precision.amount`` and ``precision.price`` in the client's
``precisionMode``. In TICK_SIZE mode they are the steps themselves (0.001); in
DECIMAL_PLACES mode they are digit counts (3 means 0.001). SIGNIFICANT_DIGITS mode has no
fixed step at all (the step depends on the price), so a market in it, or one without a
precision, is reported SUSPENDED: its increments are unknown, and cleanslate sells nothing
it cannot size exactly (it is held and reported, like any product that does not trade).

Numbers cross as ``Decimal(str(x))``: ccxt parses to floats, and ``str`` of a float is its
shortest round-tripping decimal (0.1 stays 0.1, never 0.1000000000000000055...).

Only spot markets are products: the same base and quote can also exist as a swap or a
future (``BTC/USDT:USDT``), which cleanslate never trades.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE

from cleanslate.core.market import Product, ProductStatus

ZERO = Decimal(0)
UNKNOWN_STEP = Decimal("1e-8")
"""Placeholder increment of a SUSPENDED market whose precision is unknown: never used to size
an order (nothing is placed on a market that does not trade), only to keep arithmetic safe."""

PRECISION_MODES = {TICK_SIZE: "TICK_SIZE", DECIMAL_PLACES: "DECIMAL_PLACES"}
"""The precision modes the adapter can convert; SIGNIFICANT_DIGITS is refused."""


def product_id_of(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTC-USDT`` (a spot symbol has no ``:settle`` part)."""
    return symbol.replace("/", "-", 1)


def symbol_of(product_id: str) -> str:
    """``BTC-USDT`` -> ``BTC/USDT``: the base never holds a dash in cleanslate's ids."""
    base, sep, quote = product_id.partition("-")
    return f"{base}/{quote}" if sep else product_id


def is_spot(market: Mapping[str, Any]) -> bool:
    return bool(market.get("spot")) or market.get("type") == "spot"


def number(value: Any) -> Decimal | None:
    """A ccxt number (float, int or numeric string) as a Decimal; None when absent or not a
    finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def step(value: Any, precision_mode: int) -> Decimal | None:
    """The increment a ccxt precision value stands for in ``precision_mode``; None when
    unknown (absent, not positive, or a mode without a fixed step)."""
    raw = number(value)
    if raw is None:
        return None
    if precision_mode == TICK_SIZE:
        return raw if raw > 0 else None
    if precision_mode == DECIMAL_PLACES:
        if raw != raw.to_integral_value() or raw < 0:
            return None
        return Decimal(1).scaleb(-int(raw))
    return None  # SIGNIFICANT_DIGITS, or a mode ccxt adds later


def product(
    market: Mapping[str, Any], precision_mode: int, min_amount_info: str | None = None
) -> Product:
    """The port's Product for one spot market; ``min_amount_info`` names the venue's own
    market field with the minimum base size where ccxt leaves ``limits.amount.min`` empty
    (``ClientIdSemantics.min_amount_info``)."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    amount_step = step(precision.get("amount"), precision_mode)
    price_step = step(precision.get("price"), precision_mode)
    min_amount = number((limits.get("amount") or {}).get("min"))
    if min_amount is None and min_amount_info:
        min_amount = number((market.get("info") or {}).get(min_amount_info))
    min_cost = number((limits.get("cost") or {}).get("min"))
    known = amount_step is not None and price_step is not None
    active = market.get("active")
    status = (
        ProductStatus.TRADEABLE
        if known and active is not False and precision_mode != SIGNIFICANT_DIGITS
        else ProductStatus.SUSPENDED
    )
    return Product(
        product_id=product_id_of(str(market["symbol"])),
        base=str(market["base"]),
        quote=str(market["quote"]),
        base_increment=amount_step or UNKNOWN_STEP,
        quote_increment=price_step or UNKNOWN_STEP,
        min_base_size=max(min_amount or ZERO, ZERO),
        min_notional=max(min_cost or ZERO, ZERO),
        status=status,
        price_increment=price_step,
    )
