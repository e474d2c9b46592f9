"""The checks a venue makes before it accepts an order, with the rejects Coinbase returns.

Each reject carries the same ``error_response`` a Coinbase ``create_order`` failure has
(``error``, ``message``, ``preview_failure_reason``) as its raw response, so an ORDER_REJECT
log line of a paper run reads like one of a live run.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cleanslate.core.market import OrderRequest, OrderType, ProductStatus, Side
from cleanslate.exchange.errors import ErrorDetail, InvalidProductId, OrderRejected, rejection_for
from cleanslate.exchange.paper.books import Touch
from cleanslate.exchange.paper.markets import ProductSpec

INVALID = "INVALID_ORDER_CONFIGURATION"


def reject(
    code: str, message: str, preview: str = "", request: OrderRequest | None = None
) -> OrderRejected:
    """A rejection whose raw detail is shaped like Coinbase's failed ``create_order``."""
    raw: dict[str, object] = {
        "success": False,
        "failure_reason": "UNKNOWN_FAILURE_REASON",
        "order_id": "",
        "error_response": {
            "error": code,
            "message": message,
            "error_details": message,
            "preview_failure_reason": preview,
        },
    }
    if request is not None:
        raw["client_order_id"] = request.client_order_id
        raw["product_id"] = request.product_id
    return rejection_for(code, ErrorDetail(code, message, preview, raw))


def unknown_product(product_id: str, request: OrderRequest | None = None) -> InvalidProductId:
    error = reject(
        "INVALID_PRODUCT_ID",
        f"product {product_id} not found",
        "PREVIEW_INVALID_PRODUCT_ID",
        request,
    )
    assert isinstance(error, InvalidProductId)
    return error


def check_shape(request: OrderRequest, spec: ProductSpec, now: datetime) -> None:
    """Status, order type, increments and the size minimum: everything but the book."""
    if spec.status is not ProductStatus.TRADEABLE:
        raise reject(
            "PRODUCT_NOT_TRADEABLE",
            f"{spec.product_id} is {spec.status.value}: trading disabled",
            "PREVIEW_TRADING_DISABLED",
            request,
        )
    _check_type(request, now)
    size = request.base_size
    if size <= 0 or size % spec.base_increment != 0:
        raise reject(
            INVALID,
            f"Invalid order size: {size} is not a multiple of {spec.base_increment}",
            "PREVIEW_INVALID_SIZE_PRECISION",
            request,
        )
    if size < spec.min_base_size:
        raise reject(
            INVALID,
            f"Too small order: base size {size} below minimum {spec.min_base_size}",
            "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
            request,
        )
    price = request.limit_price
    if price is not None and (price <= 0 or price % spec.quote_increment != 0):
        raise reject(
            INVALID,
            f"Invalid price: {price} is not a multiple of {spec.quote_increment}",
            "PREVIEW_INVALID_PRICE_PRECISION",
            request,
        )


def _check_type(request: OrderRequest, now: datetime) -> None:
    if request.order_type is OrderType.LIMIT and request.limit_price is None:
        raise reject(
            INVALID, "limit order without a limit price", "PREVIEW_INVALID_LIMIT_PRICE", request
        )
    if request.order_type is OrderType.MARKET and request.post_only:
        raise reject(
            INVALID, "a market order cannot be post-only", "PREVIEW_INVALID_ORDER_CONFIG", request
        )
    if request.post_only and request.immediate_or_cancel:
        raise reject(
            INVALID, "post-only and IOC exclude each other", "PREVIEW_INVALID_ORDER_CONFIG", request
        )
    if request.expires_at is not None and request.expires_at <= now:
        raise reject(
            INVALID,
            f"end time {request.expires_at.isoformat()} is in the past",
            "PREVIEW_INVALID_END_TIME",
            request,
        )


def check_against_book(request: OrderRequest, spec: ProductSpec, top: Touch) -> None:
    """Minimum notional at the price it would trade, and post-only crossing."""
    reference = top.bid if request.side is Side.SELL else top.ask
    price = request.limit_price if request.limit_price is not None else reference
    notional = request.base_size * price
    if notional < spec.min_notional:
        raise reject(
            INVALID,
            f"Too small order: notional {notional:.8f} below minimum {spec.min_notional}",
            "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
            request,
        )
    if request.post_only and request.limit_price is not None and _crosses(request, top):
        raise reject(
            "INVALID_LIMIT_PRICE_POST_ONLY",
            f"post-only {request.side.value} at {request.limit_price} would cross the book "
            f"(bid {top.bid}, ask {top.ask})",
            "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
            request,
        )


def _crosses(request: OrderRequest, top: Touch) -> bool:
    assert request.limit_price is not None
    if request.side is Side.SELL:
        return request.limit_price <= top.bid
    return request.limit_price >= top.ask


def check_funds(request: OrderRequest, asset: str, needed: Decimal, available: Decimal) -> None:
    if needed > available:
        raise reject(
            "INSUFFICIENT_FUND",
            f"Insufficient balance in source account: need {needed} {asset}, available {available}",
            "PREVIEW_INSUFFICIENT_FUND",
            request,
        )
