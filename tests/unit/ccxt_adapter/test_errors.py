"""ccxt's exception tree onto the port's: each mapping, and the raw text kept for ORDER_REJECT."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt_async
import pytest

from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.ccxt.errors import ReadOnlyRefused, Unsupported, translate
from cleanslate.exchange.errors import (
    AuthenticationFailed,
    ExchangeError,
    ExchangeTimeout,
    InsufficientBalance,
    InvalidOrderConfiguration,
    InvalidProductId,
    NotFound,
    OrderRejected,
    PermanentError,
    PostOnlyWouldCross,
    ProductNotTradeable,
    RateLimited,
    TemporaryError,
    Unavailable,
)

from .venue import BINANCE_MARKETS, Failure, venue_for

MAPPINGS: list[tuple[type[BaseException], type[ExchangeError]]] = [
    (ccxt_async.NetworkError, Unavailable),
    (ccxt_async.RequestTimeout, ExchangeTimeout),
    (ccxt_async.DDoSProtection, RateLimited),
    (ccxt_async.RateLimitExceeded, RateLimited),
    (ccxt_async.ExchangeNotAvailable, Unavailable),
    (ccxt_async.OnMaintenance, Unavailable),
    (ccxt_async.InvalidNonce, Unavailable),
    (ccxt_async.BadResponse, Unavailable),
    (ccxt_async.NullResponse, Unavailable),
    (ccxt_async.AuthenticationError, AuthenticationFailed),
    (ccxt_async.PermissionDenied, AuthenticationFailed),
    (ccxt_async.AccountSuspended, AuthenticationFailed),
    (ccxt_async.InsufficientFunds, InsufficientBalance),
    (ccxt_async.InvalidOrder, InvalidOrderConfiguration),
    (ccxt_async.OrderImmediatelyFillable, PostOnlyWouldCross),
    (ccxt_async.OrderNotFillable, InvalidOrderConfiguration),
    (ccxt_async.DuplicateOrderId, InvalidOrderConfiguration),
    (ccxt_async.OrderNotFound, NotFound),
    (ccxt_async.BadSymbol, InvalidProductId),
    (ccxt_async.MarketClosed, ProductNotTradeable),
    (ccxt_async.BadRequest, PermanentError),
    (ccxt_async.NotSupported, Unsupported),
    (ccxt_async.ArgumentsRequired, Unsupported),
]


@pytest.mark.parametrize(("raised", "expected"), MAPPINGS, ids=lambda c: c.__name__)
def test_each_ccxt_error_maps_to_its_port_error(
    raised: type[BaseException], expected: type[ExchangeError]
) -> None:
    error = translate(raised('venue {"code": 1, "msg": "what the venue said"}'))
    assert type(error) is expected
    assert error.detail.raw == 'venue {"code": 1, "msg": "what the venue said"}'
    assert error.detail.message.startswith(f"{raised.__name__}: venue")
    assert "what the venue said" in error.detail.summary()


def test_temporary_errors_are_retryable_and_permanent_ones_are_not() -> None:
    assert isinstance(translate(ccxt_async.OnMaintenance("x")), TemporaryError)
    assert isinstance(translate(ccxt_async.InsufficientFunds("x")), PermanentError)


def test_an_unclassified_venue_error_is_a_rejection_when_placing_and_temporary_otherwise() -> None:
    placing = translate(ccxt_async.ExchangeError("venue said no"), placing=True)
    assert type(placing) is OrderRejected and placing.reason_code == "UNKNOWN_FAILURE_REASON"
    assert type(translate(ccxt_async.ExchangeError("venue said no"))) is Unavailable


def test_a_transport_error_ccxt_did_not_wrap_is_temporary() -> None:
    assert type(translate(ConnectionResetError("reset"))) is Unavailable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('kraken {"error": ["EOrder:Post only order"]}', PostOnlyWouldCross),
        ("coinbase INVALID_LIMIT_PRICE_POST_ONLY", PostOnlyWouldCross),
        ('kraken {"error": ["EOrder:Insufficient funds"]}', InsufficientBalance),
        ('kraken {"error": ["EQuery:Unknown asset pair"]}', InvalidProductId),
        ("coinbase PRODUCT_NOT_TRADEABLE", ProductNotTradeable),
    ],
)
def test_venue_texts_ccxt_leaves_generic_are_recognised(
    text: str, expected: type[ExchangeError]
) -> None:
    assert type(translate(ccxt_async.InvalidOrder(text))) is expected
    assert type(translate(ccxt_async.ExchangeError(text), placing=True)) is expected


def test_the_port_code_reaches_the_core_and_the_ccxt_class_the_reject_line() -> None:
    error = translate(ccxt_async.OrderImmediatelyFillable("binance -2010 would take"))
    assert error.reason_code == "INVALID_LIMIT_PRICE_POST_ONLY"
    assert error.detail.error == "INVALID_LIMIT_PRICE_POST_ONLY"
    assert error.detail.preview_failure_reason == "OrderImmediatelyFillable"


# Binance error bodies ({"code", "msg"}) as ccxt's binance maps them in handle_errors
# (ccxt/async_support/binance.py "exceptions"); HTTP 400 with code -2010 carries the reason.
BINANCE_REJECTS = [
    ({"code": -2010, "msg": "Order would immediately match and take."}, PostOnlyWouldCross),
    (
        {"code": -2010, "msg": "Account has insufficient balance for requested action."},
        InsufficientBalance,
    ),
    ({"code": -1121, "msg": "Invalid symbol."}, InvalidProductId),
    (
        {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
        AuthenticationFailed,
    ),
]


def _request() -> OrderRequest:
    return OrderRequest(
        "cs-0123456789abcdef01234567-a1-s1-m1",
        "BTC-USDT",
        Side.SELL,
        Decimal("0.001"),
        OrderType.LIMIT,
        Decimal("100000.01"),
        post_only=True,
    )


@pytest.mark.parametrize(("body", "expected"), BINANCE_REJECTS, ids=lambda b: str(b)[:30])
async def test_binance_rejects_through_ccxt_map_to_port_errors(
    body: dict[str, object], expected: type[ExchangeError]
) -> None:
    venue, exchange, _ = venue_for("binance", BINANCE_MARKETS)
    venue.on("GET", "/api/v3/order", Failure(400, {"code": -2013, "msg": "Order does not exist."}))
    venue.on("GET", "/api/v3/openOrders", []).on("POST", "/api/v3/order", Failure(400, body))
    with pytest.raises(expected) as caught:
        await exchange.place_order(_request())
    assert str(body["msg"]) in caught.value.detail.message


async def test_a_timeout_placing_an_order_is_an_unknown_outcome() -> None:
    venue, exchange, _ = venue_for("binance", BINANCE_MARKETS)
    venue.on("GET", "/api/v3/order", Failure(400, {"code": -2013, "msg": "Order does not exist."}))
    venue.on("POST", "/api/v3/order", ccxt_async.RequestTimeout("binance POST /api/v3/order"))
    with pytest.raises(ExchangeTimeout):
        await exchange.place_order(_request())


async def test_a_maintenance_answer_is_unavailable() -> None:
    venue, exchange, _ = venue_for("binance", BINANCE_MARKETS)
    venue.on("GET", "/api/v3/account", Failure(503, {"code": -1008, "msg": "Server is busy"}))
    with pytest.raises(Unavailable):
        await exchange.balances()


def test_read_only_refusal_is_permanent_and_says_so() -> None:
    refused = ReadOnlyRefused("refused")
    assert isinstance(refused, PermanentError) and refused.reason_code == "ReadOnly"
