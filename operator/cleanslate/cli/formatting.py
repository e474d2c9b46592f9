"""How the CLI writes money, quantities and times, so one column never mixes ``0.44000``,
``1.1169715754``, ``9.68760243`` and ``None``.

Money is dollars and cents with thousands separators (``$1,234.56``); a value that could not
be priced is ``n/a``, never ``$0.00``. A quantity is shown at its product's base increment,
rounded down (the display never claims more than is held), or as the exact number when the
product is unknown (a delisted one). Times are UTC to the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
UNKNOWN = "n/a"


def money(value: Decimal | None) -> str:
    if value is None:
        return UNKNOWN
    cents = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def quantity(value: Decimal, increment: Decimal | None = None) -> str:
    if increment is not None and increment > 0:
        steps = (value / increment).to_integral_value(rounding=ROUND_DOWN)
        return _plain(steps * increment, _places(increment))
    return _plain(value, _places(value))


def _places(value: Decimal) -> int:
    """Digits after the point once trailing zeros go (``0.0100`` has 2, ``1E+2`` none)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _plain(value: Decimal, places: int) -> str:
    """Fixed-point with thousands separators, never scientific."""
    return f"{value:,.{places}f}"


def quantity_of(symbol: str, value: Decimal, increments: Mapping[str, Decimal]) -> str:
    return quantity(value, increments.get(symbol))


def timestamp(value: datetime | None) -> str:
    if value is None:
        return UNKNOWN
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float) -> str:
    """``1h05m``, ``4m10s``, ``42s``: short enough for a progress line."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
