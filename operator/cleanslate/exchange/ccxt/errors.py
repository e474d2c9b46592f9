"""ccxt's exception tree mapped onto the port's, keeping what the venue said.

ccxt raises one tree for every venue (``ccxt.base.errors``); the adapter translates at its
boundary, most specific class first, so ``OrderImmediatelyFillable`` (a post-only order that
would cross) is not read as the ``InvalidOrder`` it also is. What is temporary stays
temporary: a network failure, a rate limit, maintenance, a bad nonce (a clock or ordering
hiccup) and an unparsable answer are retried later; a timeout is ``ExchangeTimeout``, since
the outcome of a write is then unknown and the executor must look its order up first.

A generic ``ccxt.ExchangeError`` (an error code ccxt did not classify) is a rejection when
placing an order (the venue refused it; retrying the same order will not help) and
``Unavailable`` anywhere else (a read that failed for a reason nobody classified is worth
another look next cycle, never a verdict on the account).

Every translated error keeps ccxt's class and message in ``ErrorDetail`` (``message``), and
its port code in ``error``, so the ORDER_REJECT line shows both and the core's rules (the
4-hour wait after PRODUCT_NOT_TRADEABLE) read the port's code.
"""

from __future__ import annotations

import re
from typing import Any

import ccxt.async_support as ccxt_async

from cleanslate.exchange.errors import (
    AuthenticationFailed,
    ErrorDetail,
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


class ReadOnlyRefused(PermanentError):
    """A read-only (DryRun) adapter was asked to call an endpoint that changes the account."""

    @property
    def reason_code(self) -> str:
        return "ReadOnly"


class Unsupported(PermanentError):
    """The venue (through ccxt) cannot do what was asked: ``NotSupported``, or an argument
    it requires that the port does not carry."""

    @property
    def reason_code(self) -> str:
        return "NotSupported"


def _ccxt(name: str) -> type[BaseException] | None:
    """A ccxt exception class by name, or None in a ccxt too old to have it."""
    found = getattr(ccxt_async, name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


# Most specific first: the first class the exception is an instance of decides.
_REJECTIONS: tuple[tuple[str, type[OrderRejected]], ...] = (
    ("OrderImmediatelyFillable", PostOnlyWouldCross),
    ("InsufficientFunds", InsufficientBalance),
    ("BadSymbol", InvalidProductId),
    ("MarketClosed", ProductNotTradeable),
    ("OrderNotFillable", InvalidOrderConfiguration),
    ("DuplicateOrderId", InvalidOrderConfiguration),
    ("InvalidOrder", InvalidOrderConfiguration),
)
_TEMPORARY: tuple[tuple[str, type[ExchangeError]], ...] = (
    ("RequestTimeout", ExchangeTimeout),
    ("RateLimitExceeded", RateLimited),
    ("DDoSProtection", RateLimited),
    ("OnMaintenance", Unavailable),
    ("ExchangeNotAvailable", Unavailable),
    ("InvalidNonce", Unavailable),
    ("BadResponse", Unavailable),
    ("NetworkError", Unavailable),
)
_PERMANENT: tuple[tuple[str, type[ExchangeError]], ...] = (
    ("AuthenticationError", AuthenticationFailed),
    ("NotSupported", Unsupported),
    ("ArgumentsRequired", Unsupported),
    ("BadRequest", PermanentError),
)


_VENUE_TEXTS: tuple[tuple[re.Pattern[str], type[OrderRejected]], ...] = (
    # Kraken ("EOrder:Post only order"), Coinbase (INVALID_LIMIT_PRICE_POST_ONLY, which ccxt
    # raises as a generic error) and Binance (-2010 "Order would immediately match and take.")
    (
        re.compile(
            r"EOrder:Post only order|INVALID_LIMIT_PRICE_POST_ONLY|would immediately match", re.I
        ),
        PostOnlyWouldCross,
    ),
    (re.compile(r"insufficient (?:funds|balance)|INSUFFICIENT_FUND", re.I), InsufficientBalance),
    (re.compile(r"unknown asset pair|INVALID_PRODUCT_ID|invalid symbol", re.I), InvalidProductId),
    (
        re.compile(r"PRODUCT_NOT_TRADEABLE|market is closed|EGeneral:Temporary lockdown", re.I),
        ProductNotTradeable,
    ),
)
"""What ccxt leaves unclassified (or classifies only as InvalidOrder) on the tested venues,
recognised by the venue's own text so the core's rules see the right code."""


_RATE_LIMIT_TEXT = re.compile(
    r"RATE_LIMIT_EXCEEDED|rate limit exceeded|too many requests|exceeded rate limit", re.I
)
"""A rate limit ccxt raises as a plain ExchangeError: Coinbase's 429 body
``{"error": "RATE_LIMIT_EXCEEDED", ...}`` goes through its ``handle_errors`` (which raises on
the unknown ``error`` code) before the HTTP status is looked at, and so does Bitstamp's
``{"status": "error", "reason": "Request rejected due to exceeded rate limit."}`` (response
code 400.002). Temporary, never a reject."""


def ccxt_class_of(exc: BaseException) -> str:
    return type(exc).__name__


def translate(exc: BaseException, *, placing: bool = False) -> ExchangeError:
    """The port's error for a ccxt (or transport) exception. ``placing`` is True inside
    ``create_order``, where an unclassified venue error is a rejection."""
    if isinstance(exc, ExchangeError):
        return exc
    if _is(exc, "OrderNotFound"):
        return NotFound(detail=_detail(exc, "ORDER_NOT_FOUND"))
    if _is(exc, "ExchangeError") and not _is(exc, "AuthenticationError"):
        text = str(exc)
        if _RATE_LIMIT_TEXT.search(text):
            return _build(RateLimited, exc)
        for pattern, rejection in _VENUE_TEXTS:
            if pattern.search(text):
                return rejection(detail=_detail(exc, rejection.code))
    for name, cls in _REJECTIONS:
        if _is(exc, name):
            return cls(detail=_detail(exc, cls.code))
    for name, temporary in _TEMPORARY:
        if _is(exc, name):
            return _build(temporary, exc)
    for name, permanent in _PERMANENT:
        if _is(exc, name):
            return _build(permanent, exc)
    if _is(exc, "ExchangeError"):
        if placing:
            return OrderRejected(detail=_detail(exc, OrderRejected.code))
        return Unavailable(detail=_detail(exc, "EXCHANGE_ERROR"))
    # ccxt's BaseError outside the tree above, or a transport error ccxt did not wrap.
    return Unavailable(detail=_detail(exc, "UNCLASSIFIED"))


def _is(exc: BaseException, name: str) -> bool:
    cls = _ccxt(name)
    return cls is not None and isinstance(exc, cls)


def _build(cls: type[ExchangeError], exc: BaseException) -> ExchangeError:
    detail = _detail(exc, cls.__name__.upper())
    if cls is RateLimited:
        return RateLimited(detail.summary(), retry_after=None, detail=detail)
    return cls(detail=detail)


def _detail(exc: BaseException, code: str) -> ErrorDetail:
    """``error`` is the port's code; ``message`` is ccxt's class and the venue's raw text
    (ccxt prefixes it with the exchange id and usually quotes the JSON body)."""
    raw: Any = str(exc)
    return ErrorDetail(
        error=code,
        message=f"{ccxt_class_of(exc)}: {raw}",
        preview_failure_reason=ccxt_class_of(exc),
        raw=raw,
    )
