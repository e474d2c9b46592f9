"""Coinbase refusals and HTTP failures map to the port's errors with the raw answer kept."""

from __future__ import annotations

import httpx
import pytest

from cleanslate.exchange.coinbase.errors import (
    error_for_status,
    is_duplicate_client_order_id,
    rejection_for_create,
    translate_transport_error,
)
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
    Unavailable,
)

from . import fixtures as fx


@pytest.mark.parametrize(
    ("error", "preview", "cls"),
    [
        ("INVALID_ORDER_CONFIGURATION", "", InvalidOrderConfiguration),
        ("INVALID_LIMIT_PRICE_POST_ONLY", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
         PostOnlyWouldCross),
        ("INSUFFICIENT_FUND", "PREVIEW_INSUFFICIENT_FUND", InsufficientBalance),
        ("INSUFFICIENT_BALANCE", "", InsufficientBalance),
        ("PRODUCT_NOT_TRADEABLE", "", ProductNotTradeable),
        ("INVALID_PRODUCT_ID", "", InvalidProductId),
        ("UNKNOWN_FAILURE_REASON", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY", PostOnlyWouldCross),
        ("UNKNOWN_FAILURE_REASON", "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
         InvalidOrderConfiguration),
        ("UNSUPPORTED_ORDER_CONFIGURATION", "", InvalidOrderConfiguration),
    ],
)  # fmt: skip
def test_each_reject_code_maps_to_its_class_with_raw_kept(
    error: str, preview: str, cls: type[OrderRejected]
) -> None:
    payload = fx.create_failure(error, "why it failed", preview_failure_reason=preview)

    rejected = rejection_for_create(payload)

    assert type(rejected) is cls
    assert rejected.detail.raw == payload
    assert rejected.detail.error == error
    assert rejected.detail.message == "why it failed"
    assert rejected.detail.preview_failure_reason == preview


def test_unknown_reject_code_stays_order_rejected_and_keeps_the_code() -> None:
    payload = fx.create_failure("SOMETHING_NEW", "new failure", new_order_failure_reason="X")

    rejected = rejection_for_create(payload)

    assert type(rejected) is OrderRejected
    assert "error=SOMETHING_NEW" in str(rejected) and rejected.detail.raw == payload


def test_new_order_failure_reason_decides_when_error_is_unspecified() -> None:
    payload = fx.create_failure(
        "UNKNOWN_FAILURE_REASON", "", new_order_failure_reason="INSUFFICIENT_FUND"
    )

    assert isinstance(rejection_for_create(payload), InsufficientBalance)


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://api.coinbase.com/api/v3/brokerage/accounts")
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (404, NotFound),
        (429, RateLimited),
        (408, ExchangeTimeout),
        (500, Unavailable),
        (502, Unavailable),
        (503, Unavailable),
        (400, PermanentError),
    ],
)
def test_http_status_maps_to_the_port_error(status: int, cls: type[ExchangeError]) -> None:
    body = fx.http_error("SOME_ERROR", "explanation")

    error = error_for_status(response(status, body))

    assert type(error) is cls
    assert error.detail.raw == body and error.detail.error == "SOME_ERROR"
    assert f"HTTP {status}" in str(error)


def test_http_400_with_a_reject_code_is_that_rejection() -> None:
    body = fx.http_error("INVALID_PRODUCT_ID", "no such product")

    assert isinstance(error_for_status(response(400, body)), InvalidProductId)


def test_429_reads_retry_after_seconds() -> None:
    error = error_for_status(response(429, {}, {"Retry-After": "2.5"}))

    assert isinstance(error, RateLimited) and error.retry_after == 2.5


def test_429_reads_retry_after_as_an_http_date() -> None:
    headers = {
        "Retry-After": "Sun, 16 Nov 2025 12:00:03 GMT",
        "Date": "Sun, 16 Nov 2025 12:00:00 GMT",
    }

    error = error_for_status(response(429, {}, headers))

    assert isinstance(error, RateLimited) and error.retry_after == 3.0


def test_429_without_a_hint_has_no_retry_after() -> None:
    error = error_for_status(response(429, fx.http_error("RATE_LIMIT_EXCEEDED", "slow down")))

    assert isinstance(error, RateLimited) and error.retry_after is None


def test_non_json_error_body_is_kept_as_text() -> None:
    request = httpx.Request("GET", "https://api.coinbase.com/x")
    error = error_for_status(httpx.Response(502, text="<html>Bad gateway</html>", request=request))

    assert isinstance(error, Unavailable) and "Bad gateway" in error.detail.raw


def test_timeouts_are_exchange_timeouts_and_connect_errors_unavailable() -> None:
    request = httpx.Request("POST", "https://api.coinbase.com/api/v3/brokerage/orders")

    assert isinstance(translate_transport_error(httpx.ReadTimeout("t", request=request)),
                      ExchangeTimeout)  # fmt: skip
    assert isinstance(translate_transport_error(httpx.ConnectError("c", request=request)),
                      Unavailable)  # fmt: skip


def test_duplicate_client_order_id_is_recognised() -> None:
    payload = fx.create_failure("UNKNOWN_FAILURE_REASON", "duplicate client_order_id")

    assert is_duplicate_client_order_id(rejection_for_create(payload))
    assert not is_duplicate_client_order_id(
        rejection_for_create(fx.create_failure("INSUFFICIENT_FUND", "no money"))
    )
