"""What the exchange tells us, as frozen values shared by the core and every adapter.

Holdings are keyed by asset (``SEI``); everything about trading is keyed by product id
(``SEI-USD``), as in the source documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

BPS = Decimal("10000")


def asset_of(symbol: str) -> str:
    """The asset a product id or asset names (``SEI-USDT`` and ``SEI`` -> ``SEI``)."""
    return symbol.partition("-")[0]


def names_asset(entries: Iterable[str], symbol: str) -> bool:
    """Whether any entry (a product id or an asset) names ``symbol``'s asset. Rules a person
    writes (universe tiers, exclusions, bans, protected, leave alone) are keyed by asset, so
    a policy written as ``SEI-USD`` for Coinbase covers SEI-USDT on Binance unchanged."""
    asset = asset_of(symbol)
    return any(asset_of(e) == asset for e in entries)


class ProductStatus(StrEnum):
    TRADEABLE = "tradeable"
    SUSPENDED = "suspended"
    DELISTED = "delisted"


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class OrderStatus(StrEnum):
    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self is not OrderStatus.OPEN


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset's balance: ``available`` can be sold now, ``hold`` is locked in orders."""

    asset: str
    available: Decimal
    hold: Decimal = Decimal("0")

    @property
    def total(self) -> Decimal:
        return self.available + self.hold


@dataclass(frozen=True, slots=True)
class Product:
    """A trading pair's metadata: the increments and minimums every order must respect."""

    product_id: str
    base: str
    quote: str
    base_increment: Decimal
    quote_increment: Decimal
    """Step of an order size given in the quote currency; the price tick only when the venue
    names no separate one (``price_tick``)."""
    min_base_size: Decimal
    min_notional: Decimal
    """Smallest order value in the quote currency."""
    status: ProductStatus = ProductStatus.TRADEABLE
    price_increment: Decimal | None = None
    """The venue's price tick when it differs from ``quote_increment`` (Coinbase: SHIB-USD
    ticks in 0.00000001 while its quote increment is 0.01)."""

    @property
    def tradeable(self) -> bool:
        return self.status is ProductStatus.TRADEABLE

    @property
    def price_tick(self) -> Decimal:
        """The step every limit price must be a multiple of."""
        return self.price_increment if self.price_increment else self.quote_increment


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book plus the liquidity figures the universe rules judge."""

    product_id: str
    bid: Decimal
    ask: Decimal
    quote_volume_24h: Decimal | None
    """24h volume in the QUOTE currency (Coinbase's approximate_quote_24h_volume); None when
    the venue does not report it: unknown, never 0 (see ``core.eligibility``)."""
    bid_depth_quote: Decimal
    """Quote-currency value resting on the bid side near the touch."""
    at: datetime

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> Decimal:
        mid = self.mid
        return (self.ask - self.bid) / mid * BPS if mid > 0 else BPS


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class Book:
    """A product's order book, best levels first."""

    product_id: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order to place. ``client_order_id`` makes placement idempotent."""

    client_order_id: str
    product_id: str
    side: Side
    base_size: Decimal
    order_type: OrderType
    limit_price: Decimal | None = None
    post_only: bool = False
    expires_at: datetime | None = None
    """Good-till-date for resting limit orders; None is good-till-cancelled."""
    immediate_or_cancel: bool = False


@dataclass(frozen=True, slots=True)
class Fill:
    order_id: str
    product_id: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    """Fee in the quote currency."""
    liquidity: str
    """"maker" or "taker"."""
    at: datetime
    trade_id: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange reports it."""

    order_id: str
    client_order_id: str
    product_id: str
    side: Side
    order_type: OrderType
    base_size: Decimal
    limit_price: Decimal | None
    status: OrderStatus
    created_at: datetime
    filled_size: Decimal = Decimal("0")
    average_filled_price: Decimal | None = None
    fees: Decimal = Decimal("0")
    post_only: bool = False
    reject_reason: str | None = None
    fills: tuple[Fill, ...] = field(default_factory=tuple)

    @property
    def remaining_size(self) -> Decimal:
        return self.base_size - self.filled_size

    @property
    def filled_value(self) -> Decimal:
        if self.average_filled_price is None:
            return Decimal("0")
        return self.filled_size * self.average_filled_price
