"""Small builders of market values, specs and snapshots, with the documents' numbers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cleanslate.api.account import (
    Ban,
    PolicyRef,
    PurgeFailure,
    TrackedPosition,
    TradingAccountSpec,
)
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.holdings import PAR_VALUED, Holding, Snapshot, product_id_of
from cleanslate.core.market import (
    Order,
    OrderStatus,
    OrderType,
    Product,
    ProductStatus,
    Quote,
    Side,
)

NOW = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
D = Decimal

# The auto-purge guide's holdings: units and the bid that gives its dollar values.
SEI_UNITS, SEI_PRICE = D("36.4"), D("0.1563")  # ~$5.69
WLFI_UNITS, WLFI_PRICE = D("57.5"), D("0.1431")  # ~$8.23
BONK_UNITS, BONK_PRICE = D("889587"), D("0.00001066")  # ~$9.48

LIQUID_VOLUME = D("50000000")
TICK = D("0.000001")
SPREAD_BPS = D("10")
DEPTH = D("1000000")
THIN_VOLUME = D("500000")


def product(
    asset: str,
    status: ProductStatus = ProductStatus.TRADEABLE,
    base_increment: Decimal = TICK,
) -> Product:
    return Product(
        product_id=product_id_of(asset),
        base=asset,
        quote="USD",
        base_increment=base_increment,
        quote_increment=D("0.00000001"),
        min_base_size=base_increment,
        min_notional=D("1"),
        status=status,
    )


def quote(
    product_id: str,
    bid: Decimal,
    *,
    spread_bps: Decimal = SPREAD_BPS,
    volume: Decimal = LIQUID_VOLUME,
    depth: Decimal = DEPTH,
) -> Quote:
    ask = bid * (1 + spread_bps / 10000)
    return Quote(product_id, bid, ask, volume, depth, NOW)


def holding(
    asset: str,
    quantity: Decimal | str | int,
    price: Decimal | str | None = None,
    *,
    available: Decimal | str | None = None,
    status: ProductStatus | None = ProductStatus.TRADEABLE,
    volume: Decimal = LIQUID_VOLUME,
    price_error: str | None = None,
    base_increment: Decimal = TICK,
    price_lost: bool = False,
) -> Holding:
    """A holding; ``status=None`` means the exchange does not know the product.
    ``price_lost`` marks a missing price that will not come back (gone, or frozen)."""
    qty = D(quantity)
    pid = product_id_of(asset)
    prod = None if status is None else product(asset, status, base_increment)
    q = None if price is None else quote(pid, D(price), volume=volume)
    avail = qty if available is None else D(available)
    if price is None and price_error is None:
        price_error = "price not available"
    return Holding(asset, pid, qty, avail, prod, q, price_error, price_lost)


def cash(asset: str, amount: Decimal | str | int, price: Decimal | str | None = None) -> Holding:
    """A quote-currency holding (USD/USDC at par, others by their -USD quote)."""
    pid = product_id_of(asset)
    q = None if price is None else quote(pid, D(price))
    par = D(1) if asset in PAR_VALUED else None
    return Holding(asset, pid, D(amount), D(amount), product(asset), q, None, unit_usd=par)


def sei() -> Holding:
    return holding("SEI", SEI_UNITS, SEI_PRICE, volume=THIN_VOLUME)


def wlfi() -> Holding:
    return holding("WLFI", WLFI_UNITS, WLFI_PRICE, volume=THIN_VOLUME)


def bonk() -> Holding:
    return holding("BONK", BONK_UNITS, BONK_PRICE, volume=THIN_VOLUME)


def snapshot(*holdings: Holding, orders: tuple[Order, ...] = (), now: datetime = NOW) -> Snapshot:
    return Snapshot(now, tuple(holdings), orders)


def spec(
    *,
    tracked: Mapping[str, Decimal | str | None] | None = None,
    opened: Mapping[str, datetime] | None = None,
    protected: list[str] | None = None,
    bans: list[Ban] | None = None,
) -> TradingAccountSpec:
    """An account spec; ``tracked`` maps product id to entry price (None: no entry price)."""
    opened = opened or {}
    positions = [
        TrackedPosition(
            symbol=s,
            entry_price=None if p is None else D(p),
            opened_at=opened.get(s),
        )
        for s, p in (tracked or {}).items()
    ]
    return TradingAccountSpec(
        policy_ref=PolicyRef(name="default"),
        tracked_positions=positions,
        protected_symbols=protected or [],
        bans=bans or [],
    )


def policy(**changes: object) -> PurgePolicySpec:
    return PurgePolicySpec.model_validate(changes)


def failure(count: int, ago: timedelta, *, now: datetime = NOW) -> PurgeFailure:
    return PurgeFailure(
        failure_count=count,
        last_failed_at=now - ago,
        last_error="INVALID_ORDER_CONFIGURATION",
        balance=BONK_UNITS,
        value_usd=D("9.48"),
    )


def order(product_id: str, age: timedelta, *, order_id: str = "o-1") -> Order:
    return Order(
        order_id=order_id,
        client_order_id=f"c-{order_id}",
        product_id=product_id,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        base_size=D("10"),
        limit_price=D("1"),
        status=OrderStatus.OPEN,
        created_at=NOW - age,
    )
