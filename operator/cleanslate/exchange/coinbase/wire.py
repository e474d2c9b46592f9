"""Coinbase Advanced Trade v3 JSON to market values and back, with nothing else in it.

Field names are those of Coinbase's public API reference (List Accounts, Get Product,
Get Product Book, Create Order, List Orders, List Fills). Money is parsed straight from the
decimal strings Coinbase sends, never through float.

The 24h volume is ``approximate_quote_24h_volume`` (quote currency), never ``volume_24h``,
which is in BASE units: reading the latter once made BTC-USD look like a $6K market
(production fixes, "Volume Data Bug Fix").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from cleanslate.core.market import (
    Balance,
    Book,
    BookLevel,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    ProductStatus,
    Side,
)

Json = Mapping[str, Any]
ZERO = Decimal("0")
DEPTH_BAND = Decimal("0.01")
"""Bid depth counts the levels within 1 % of the best bid ("near the touch")."""

_ORDER_STATUS = {
    "OPEN": OrderStatus.OPEN,
    "PENDING": OrderStatus.OPEN,
    "QUEUED": OrderStatus.OPEN,
    "CANCEL_QUEUED": OrderStatus.OPEN,
    "EDIT_QUEUED": OrderStatus.OPEN,
    "UNKNOWN_ORDER_STATUS": OrderStatus.OPEN,
    "FILLED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.EXPIRED,
    "FAILED": OrderStatus.REJECTED,
}
_NO_REJECT_REASON = {"", "REJECT_REASON_UNSPECIFIED"}


def decimal(value: Any, default: Decimal = ZERO) -> Decimal:
    """A decimal from Coinbase's string numbers; empty strings and nulls are ``default``."""
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def timestamp(value: Any) -> datetime:
    """An RFC 3339 time; fractions beyond microseconds (Coinbase sends up to 9) are cut."""
    text = str(value).strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text(value: Decimal) -> str:
    """A decimal as Coinbase expects it: plain notation, no exponent."""
    return format(value, "f")


# --- accounts -------------------------------------------------------------------------------


def accounts_page(payload: Json) -> tuple[list[Balance], str | None]:
    """One List Accounts page and the cursor of the next one (None on the last page)."""
    balances = [
        Balance(
            asset=str(account["currency"]),
            available=decimal(account.get("available_balance", {}).get("value")),
            hold=decimal((account.get("hold") or {}).get("value")),
        )
        for account in payload.get("accounts", [])
    ]
    has_next = bool(payload.get("has_next")) and bool(payload.get("cursor"))
    return balances, str(payload["cursor"]) if has_next else None


def merge_balances(balances: Iterable[Balance]) -> list[Balance]:
    """One non-zero balance per asset (a currency can have several wallets)."""
    totals: dict[str, Balance] = {}
    for b in balances:
        seen = totals.get(b.asset)
        totals[b.asset] = (
            Balance(b.asset, seen.available + b.available, seen.hold + b.hold) if seen else b
        )
    return [b for b in totals.values() if b.total != 0]


# --- key and clock --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    """Get API Key Permissions (``/key_permissions``): what the key may do, and where."""

    can_view: bool
    can_trade: bool
    can_transfer: bool
    portfolio_uuid: str
    portfolio_type: str


def fee_rates(payload: Json) -> tuple[Decimal, Decimal] | None:
    """Get Transaction Summary (``/transaction_summary``): ``fee_tier.maker_fee_rate`` and
    ``taker_fee_rate`` as fractions in strings ("0.006", "0.012": the live answer quoted in
    ccxt PR 23347, 2024; the SDK's ``GetTransactionSummaryResponse``/``FeeTier``), in bps.
    None when either is missing or not a number: the policy's rates are used instead."""
    tier = payload.get("fee_tier")
    if not isinstance(tier, Mapping):
        return None
    try:
        maker = Decimal(str(tier["maker_fee_rate"])) * 10000
        taker = Decimal(str(tier["taker_fee_rate"])) * 10000
    except (KeyError, ArithmeticError, ValueError):
        return None
    if not (maker.is_finite() and taker.is_finite()) or maker < 0 or taker < 0:
        return None
    return maker.normalize(), taker.normalize()


def key_permissions(payload: Json) -> KeyPermissions:
    """Fields as the SDK reads them (coinbase/rest/types/data_api_types.py
    ``GetAPIKeyPermissionsResponse``); a flag that is missing counts as not granted, except
    ``can_transfer``, which counts as granted: an unknown transfer right is warned about."""
    return KeyPermissions(
        can_view=payload.get("can_view") is True,
        can_trade=payload.get("can_trade") is True,
        can_transfer=payload.get("can_transfer") is not False,
        portfolio_uuid=str(payload.get("portfolio_uuid") or ""),
        portfolio_type=str(payload.get("portfolio_type") or ""),
    )


def server_time(payload: Json) -> datetime:
    """Get Server Time (``/time``: ``iso``, ``epochSeconds``, ``epochMillis``; SDK
    coinbase/rest/types/public_types.py ``GetServerTimeResponse``)."""
    millis = payload.get("epochMillis")
    if isinstance(millis, int | str) and str(millis).isdigit():
        return datetime.fromtimestamp(int(millis) / 1000, UTC)
    return timestamp(payload["iso"])


# --- products -------------------------------------------------------------------------------


def product(payload: Json) -> Product:
    """Get Product / List Products entry to a Product.

    The price tick is ``price_increment``; ``quote_increment`` steps quote-denominated sizes
    and is the tick only when ``price_increment`` is absent (as ccxt reads it:
    ``safeNumber2(market, 'price_increment', 'quote_increment')`` in ts/src/coinbase.ts).
    Reading the quote increment as the tick priced SHIB-USD sells at 0.01 on a coin worth
    0.00001 (ccxt issue 20026). The minimum order value is ``quote_min_size``.
    """
    product_id = str(payload["product_id"])
    base, _, quote = product_id.partition("-")
    quote_min = decimal(payload.get("quote_min_size"))
    market_min = decimal(payload.get("min_market_funds"))
    tick = decimal(payload.get("price_increment"))
    return Product(
        product_id=product_id,
        base=str(payload.get("base_currency_id") or base),
        quote=str(payload.get("quote_currency_id") or quote),
        base_increment=decimal(payload.get("base_increment")),
        quote_increment=decimal(payload.get("quote_increment")),
        min_base_size=decimal(payload.get("base_min_size")),
        min_notional=max(quote_min, market_min),
        status=product_status(payload),
        price_increment=tick if tick > 0 else None,
    )


def product_status(payload: Json) -> ProductStatus:
    """``delisted`` is final; anything that refuses new orders now is suspended.
    ``limit_only`` and ``post_only`` products still accept the maker sells a purge starts with."""
    status = str(payload.get("status", "")).lower()
    if status == "delisted":
        return ProductStatus.DELISTED
    blocked = any(
        bool(payload.get(flag))
        for flag in ("trading_disabled", "is_disabled", "cancel_only", "view_only")
    )
    if blocked or status not in ("online", ""):
        return ProductStatus.SUSPENDED
    return ProductStatus.TRADEABLE


def quote_volume_24h(payload: Json) -> Decimal:
    """24h volume in the QUOTE currency; base-unit ``volume_24h`` is deliberately ignored."""
    return decimal(payload.get("approximate_quote_24h_volume"))


# --- books ----------------------------------------------------------------------------------


def levels(rows: Iterable[Json], depth: int) -> tuple[BookLevel, ...]:
    parsed = (BookLevel(decimal(r.get("price")), decimal(r.get("size"))) for r in rows)
    return tuple(level for level in parsed if level.size > 0)[:depth]


def book(pricebook: Json, depth: int) -> Book:
    """A ``pricebook`` (Get Product Book / Get Best Bid/Ask) to a Book, best levels first."""
    bids = sorted(levels(pricebook.get("bids", []), 10_000), key=lambda lv: -lv.price)
    asks = sorted(levels(pricebook.get("asks", []), 10_000), key=lambda lv: lv.price)
    return Book(
        product_id=str(pricebook["product_id"]),
        bids=tuple(bids[:depth]),
        asks=tuple(asks[:depth]),
        at=timestamp(pricebook["time"]),
    )


def bid_depth_quote(bids: Sequence[BookLevel], band: Decimal = DEPTH_BAND) -> Decimal:
    """Quote value resting on the bid within ``band`` of the best bid."""
    if not bids:
        return ZERO
    floor = bids[0].price * (1 - band)
    return sum((lv.price * lv.size for lv in bids if lv.price >= floor), ZERO)


# --- orders ---------------------------------------------------------------------------------


def order_configuration(request: OrderRequest) -> dict[str, dict[str, Any]]:
    """The Create Order ``order_configuration`` for a request.

    limit + expiry: ``limit_limit_gtd``; limit + IOC, or market with a worst price (the taker
    fallback's slippage cap): ``sor_limit_ioc``; limit: ``limit_limit_gtc``; market without a
    price: ``market_market_ioc``. Sizes are always base units.
    """
    size = text(request.base_size)
    if request.limit_price is None:
        if request.order_type is OrderType.MARKET:
            return {"market_market_ioc": {"base_size": size}}
        raise ValueError("a limit order needs a limit price")
    price = text(request.limit_price)
    if request.immediate_or_cancel or request.order_type is OrderType.MARKET:
        return {"sor_limit_ioc": {"base_size": size, "limit_price": price}}
    config: dict[str, Any] = {
        "base_size": size,
        "limit_price": price,
        "post_only": request.post_only,
    }
    if request.expires_at is not None:
        config["end_time"] = rfc3339(request.expires_at)
        return {"limit_limit_gtd": config}
    return {"limit_limit_gtc": config}


def preview_order_body(request: OrderRequest) -> dict[str, Any]:
    """Preview Order takes the Create Order body without a client order id (SDK
    coinbase/rest/orders.py ``preview_order``: product_id, side, order_configuration)."""
    return {
        "product_id": request.product_id,
        "side": request.side.value,
        "order_configuration": order_configuration(request),
    }


def preview_verdict(payload: Json) -> str:
    """``ok`` when ``errs`` is empty, else its failure reasons (SDK
    coinbase/rest/types/orders_types.py ``PreviewOrderResponse``: ``errs``, ``warning``)."""
    errs = payload.get("errs")
    if not isinstance(errs, list):
        raise ValueError("a preview answer without errs")
    reasons = [str(e.get("error") if isinstance(e, Mapping) else e) for e in errs]
    return ", ".join(r for r in reasons if r) or "ok"


def create_order_body(request: OrderRequest) -> dict[str, Any]:
    return {
        "client_order_id": request.client_order_id,
        "product_id": request.product_id,
        "side": request.side.value,
        "order_configuration": order_configuration(request),
    }


def created_order_id(payload: Json) -> str:
    """The order id of a ``success: true`` Create Order answer (``success_response.order_id``,
    or the top-level ``order_id`` older answers carry); empty when it names none."""
    response = payload.get("success_response")
    nested = response.get("order_id") if isinstance(response, Mapping) else None
    return str(nested or payload.get("order_id") or "")


def order(payload: Json) -> Order:
    """A List Orders / Get Order entry to an Order."""
    kind, config = _configuration(payload.get("order_configuration") or {})
    filled = decimal(payload.get("filled_size"))
    average = decimal(payload.get("average_filled_price"))
    reject = str(payload.get("reject_reason") or "")
    return Order(
        order_id=str(payload["order_id"]),
        client_order_id=str(payload.get("client_order_id") or ""),
        product_id=str(payload["product_id"]),
        side=Side(str(payload["side"]).upper()),
        order_type=OrderType.MARKET if kind.startswith("market") else OrderType.LIMIT,
        base_size=decimal(config.get("base_size")),
        limit_price=decimal(config["limit_price"]) if config.get("limit_price") else None,
        status=_ORDER_STATUS.get(str(payload.get("status", "")).upper(), OrderStatus.OPEN),
        created_at=timestamp(payload["created_time"]),
        filled_size=filled,
        average_filled_price=average if filled > 0 and average > 0 else None,
        fees=decimal(payload.get("total_fees")),
        post_only=bool(config.get("post_only", False)),
        reject_reason=None if reject in _NO_REJECT_REASON else reject,
    )


def _configuration(config: Json) -> tuple[str, Json]:
    for kind, body in config.items():
        if isinstance(body, Mapping):
            return str(kind), body
    return "", {}


def cancelled_ids(payload: Json) -> list[str]:
    """Ids Batch Cancel reports as cancelled (``results[].success``)."""
    return [str(r["order_id"]) for r in payload.get("results", []) if r.get("success")]


def fill(payload: Json) -> Fill:
    """A List Fills entry; ``commission`` is the fee in the quote currency.

    ``size`` is in base units unless ``size_in_quote`` is true: then it is the fill's value in
    the quote currency and the base size is ``size / price`` (ccxt reads it so: ``parseTrade``
    in ts/src/coinbase.ts takes ``size`` as cost when ``size_in_quote``). A quote-sized fill
    without a price cannot be converted and is refused (ValueError), never guessed.
    """
    price = decimal(payload.get("price"))
    size = decimal(payload.get("size"))
    if payload.get("size_in_quote") is True:
        if price <= 0:
            raise ValueError("a fill sized in quote units has no price")
        size = size / price
    return Fill(
        order_id=str(payload["order_id"]),
        product_id=str(payload["product_id"]),
        side=Side(str(payload["side"]).upper()),
        price=price,
        size=size,
        fee=decimal(payload.get("commission")),
        liquidity=str(payload.get("liquidity_indicator", "")).lower(),
        at=timestamp(payload.get("trade_time") or payload["sequence_timestamp"]),
        trade_id=str(payload.get("trade_id") or ""),
    )


def next_offset(payload: Json, rows: str, fetched: int) -> int | None:
    """List Products pages by ``limit``/``offset`` and counts ``num_products`` (SDK
    coinbase/rest/products.py ``get_products``); the next offset while rows are missing,
    None when the count is absent, reached, or a page came back empty."""
    total = payload.get("num_products")
    if not isinstance(total, int) or isinstance(total, bool) or not payload.get(rows):
        return None
    return fetched if fetched < total else None


def next_cursor(payload: Json) -> str | None:
    """The cursor of the next page; List Fills omits ``has_next`` and ends on an empty one."""
    cursor = payload.get("cursor")
    if not cursor or payload.get("has_next") is False:
        return None
    return str(cursor)
