"""Coinbase answers and httpx failures, translated into the port's error hierarchy.

Every error keeps what Coinbase said in ``ErrorDetail(raw=payload)`` so the ORDER_REJECT line
and the event carry the full reason (purge hardening: "Extract full Coinbase error response
and log comprehensively"). Translation happens here and nowhere else.

Two shapes reach us:

* an HTTP error: status >= 400 with ``{"error", "code", "message", "error_details"}``;
* a refused order: HTTP 200 with ``{"success": false, "failure_reason",
  "error_response": {"error", "message", "error_details", "preview_failure_reason",
  "new_order_failure_reason"}}`` (Create Order reference).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cleanslate.core.redaction import bounded
from cleanslate.exchange.errors import (
    AuthenticationFailed,
    ErrorDetail,
    ExchangeError,
    ExchangeTimeout,
    ExpiryRefused,
    NotFound,
    OrderRejected,
    PermanentError,
    RateLimited,
    Unavailable,
    rejection_for,
)

_UNSPECIFIED = {"", "UNKNOWN_FAILURE_REASON", "UNKNOWN_PREVIEW_FAILURE_REASON"}

# Coinbase's own reason codes for the port's rejection classes (failure reasons seen in the
# Create Order reference's enums, preview reasons without their PREVIEW_ prefix).
_ALIASES = {
    "INSUFFICIENT_FUNDS": "INSUFFICIENT_BALANCE",
    "UNSUPPORTED_ORDER_CONFIGURATION": "INVALID_ORDER_CONFIGURATION",
    "INVALID_SIDE": "INVALID_ORDER_CONFIGURATION",
    "INVALID_SIZE_PRECISION": "INVALID_ORDER_CONFIGURATION",
    "INVALID_PRICE_PRECISION": "INVALID_ORDER_CONFIGURATION",
    "INVALID_BASE_SIZE_TOO_SMALL": "INVALID_ORDER_CONFIGURATION",
    "INVALID_BASE_SIZE_TOO_LARGE": "INVALID_ORDER_CONFIGURATION",
    "INVALID_QUOTE_SIZE_TOO_SMALL": "INVALID_ORDER_CONFIGURATION",
    "INVALID_QUOTE_SIZE_PRECISION": "INVALID_ORDER_CONFIGURATION",
    "INVALID_LIMIT_PRICE": "INVALID_ORDER_CONFIGURATION",
    "ORDER_ENTRY_DISABLED": "PRODUCT_NOT_TRADEABLE",
    "INVALID_NO_LIQUIDITY": "PRODUCT_NOT_TRADEABLE",
    "UNTRADABLE_PRODUCT": "PRODUCT_NOT_TRADEABLE",
}


class ReadOnlyRefused(PermanentError):
    """A read-only (DryRun) adapter was asked to call an endpoint that changes the account."""

    @property
    def reason_code(self) -> str:
        return "ReadOnly"


def payload_of(response: httpx.Response) -> Any:
    """The decoded body, or the text when it is not JSON (a proxy's HTML error page)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:2000]


def error_for_status(response: httpx.Response, now: datetime | None = None) -> ExchangeError:
    """The port error for an HTTP error response (status >= 400); ``now`` dates a
    ``Retry-After`` given as an HTTP date when the answer has no ``Date`` header."""
    payload = payload_of(response)
    detail = _http_detail(payload)
    status = response.status_code
    text = f"HTTP {status} {detail.summary()}".strip()
    if status in (401, 403):
        return AuthenticationFailed(text, detail=detail)
    if status == 404:
        return NotFound(text, detail=detail)
    if status == 429:
        return RateLimited(text, retry_after=retry_after(response, now), detail=detail)
    if status == 408:
        return ExchangeTimeout(text, detail=detail)
    if status >= 500:
        return Unavailable(text, detail=detail)
    code = _canonical(detail.error)
    if code:
        rejected = rejection_for(code, detail)
        if type(rejected) is not OrderRejected:
            return rejected
    return PermanentError(text, detail=detail)


def rejection_for_create(payload: Mapping[str, Any]) -> OrderRejected:
    """The rejection for a ``success: false`` Create Order answer; the first known reason among
    ``error``, ``new_order_failure_reason``, ``preview_failure_reason`` and ``failure_reason``
    decides the class, and ``raw`` keeps the whole answer."""
    response = payload.get("error_response") or {}
    detail = ErrorDetail(
        error=str(response.get("error") or payload.get("failure_reason") or ""),
        message=str(response.get("message") or response.get("error_details") or ""),
        preview_failure_reason=str(response.get("preview_failure_reason") or ""),
        raw=dict(payload),
    )
    candidates = [
        response.get("error"),
        response.get("new_order_failure_reason"),
        response.get("preview_failure_reason"),
        payload.get("failure_reason"),
    ]
    codes = [_canonical(str(c)) for c in candidates if c and str(c) not in _UNSPECIFIED]
    if ExpiryRefused.code in codes:  # the most specific reason: the executor can work around it
        return rejection_for(ExpiryRefused.code, detail)
    for code in codes:
        rejected = rejection_for(code, detail)
        if type(rejected) is not OrderRejected:
            return rejected
    return rejection_for(codes[0] if codes else "UNKNOWN_FAILURE_REASON", detail)


def is_duplicate_client_order_id(error: ExchangeError) -> bool:
    """True when Coinbase refused an order because its client order id is already used."""
    text = f"{error.detail.error} {error.detail.message}".lower().replace("_", " ")
    return "duplicate" in text and "client" in text


def translate_transport_error(exc: httpx.HTTPError) -> ExchangeError:
    """An httpx failure without a response: a timeout leaves the outcome unknown."""
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ExchangeTimeout(f"no answer from Coinbase in time ({name})")
    return Unavailable(f"cannot reach Coinbase ({name})")


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date, RFC 9110 10.2.3),
    if any; an HTTP date counts from the answer's ``Date``, else from ``now``."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        date = response.headers.get("date")
        base = parsedate_to_datetime(date) if date else now
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - base).total_seconds()) if base else None


def _http_detail(payload: Any) -> ErrorDetail:
    if not isinstance(payload, Mapping):
        return ErrorDetail(message=bounded(str(payload)), raw=payload)
    listed = payload.get("errors")
    if isinstance(listed, list) and listed and not payload.get("error"):
        return _listed_detail(listed, payload)
    return ErrorDetail(
        error=str(payload.get("error") or ""),
        message=str(payload.get("message") or payload.get("error_details") or ""),
        preview_failure_reason=str(payload.get("preview_failure_reason") or ""),
        raw=payload,
    )


def _listed_detail(listed: list[Any], payload: Any) -> ErrorDetail:
    """``{"errors": [{"id", "message"}, ...]}``, the shape Coinbase's v2 gateway answers with
    (rate limits and authentication included; ccxt issue 8301 quotes one): the first id is
    the error, the messages are joined."""
    entries = [e for e in listed if isinstance(e, Mapping)]
    ids = [str(e.get("id") or e.get("error") or "") for e in entries]
    messages = [str(e.get("message") or "") for e in entries]
    return ErrorDetail(
        error=next((i for i in ids if i), ""),
        message=bounded("; ".join(m for m in messages if m)),
        raw=payload,
    )


def _canonical(code: str) -> str:
    code = code.strip().upper()
    if code.startswith("PREVIEW_"):
        code = code.removeprefix("PREVIEW_")
    return _ALIASES.get(code, code)
