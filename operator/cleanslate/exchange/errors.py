"""One error hierarchy for every exchange adapter; the class decides whether to retry.

::

    ExchangeError                      every failure, with the exchange's raw detail
    ├── TemporaryError                 worth retrying later
    │   ├── RateLimited                429; carries retry_after
    │   ├── Unavailable                5xx, maintenance
    │   └── ExchangeTimeout            no answer: the outcome of a write is UNKNOWN
    └── PermanentError                 retrying the same call will not help
        ├── AuthenticationFailed       bad or missing credentials
        ├── EndpointRefused            a redirect, or an origin off the adapter's allow-list
        ├── NotFound                   no such order
        └── OrderRejected              the exchange refused an order (has ``code``)
            ├── InvalidOrderConfiguration   INVALID_ORDER_CONFIGURATION
            ├── PostOnlyWouldCross          INVALID_LIMIT_PRICE_POST_ONLY
            ├── InsufficientBalance         INSUFFICIENT_BALANCE (INSUFFICIENT_FUND)
            ├── ProductNotTradeable         PRODUCT_NOT_TRADEABLE
            ├── InvalidProductId            INVALID_PRODUCT_ID
            └── ExpiryRefused               INVALID_END_TIME (a good-till-date end time)

An error's message and ``detail.summary()`` are redacted, flattened to one line and bounded,
since they quote what a remote server said and end up in status and events; ``detail.raw``
keeps the whole answer for the (redacting) log.

Adapters translate library and HTTP errors into these at their boundary (``raise ... from``),
and nothing above an adapter catches anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cleanslate.core.redaction import bounded

MESSAGE_LIMIT = 600
"""Most characters of an error's message: it reaches status and events (``str(exc)``)."""


@dataclass(frozen=True)
class ErrorDetail:
    """Everything the exchange said, kept so a reject can be logged in full (ORDER_REJECT)."""

    error: str = ""
    message: str = ""
    preview_failure_reason: str = ""
    raw: Any = field(default=None)

    def summary(self) -> str:
        """``error=X | message=Y | preview_failure=Z`` as the hardening document logs it; each
        part is the exchange's text (or an impostor's) made safe to show (``bounded``)."""
        parts = [
            f"error={bounded(self.error)}" if self.error else "",
            f"message={bounded(self.message)}" if self.message else "",
            f"preview_failure={bounded(self.preview_failure_reason)}"
            if self.preview_failure_reason
            else "",
        ]
        return " | ".join(p for p in parts if p)


class ExchangeError(Exception):
    """Base of every adapter error."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str = "", *, detail: ErrorDetail | None = None) -> None:
        text = message or (detail.summary() if detail else type(self).__name__)
        super().__init__(bounded(text, MESSAGE_LIMIT))
        self.detail = detail or ErrorDetail(message=message)

    @property
    def reason_code(self) -> str:
        """A bounded label for metrics and events (never an id or free text)."""
        return type(self).__name__


class TemporaryError(ExchangeError):
    retryable = True


class RateLimited(TemporaryError):
    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        detail: ErrorDetail | None = None,
    ) -> None:
        super().__init__(message or "rate limited", detail=detail)
        self.retry_after = retry_after


class Unavailable(TemporaryError):
    pass


class ExchangeTimeout(TemporaryError):
    """No answer in time. For an order placement the order may or may not exist: look it up
    by its client order id before doing anything else."""


class PermanentError(ExchangeError):
    pass


class AuthenticationFailed(PermanentError):
    pass


class EndpointRefused(PermanentError):
    """The adapter refused to send (or to follow) a request: a redirect answer, or an origin
    off its allow-list (``exchange.origins``). Signed requests go nowhere else."""


class NotFound(PermanentError):
    pass


class OrderRejected(PermanentError):
    code: ClassVar[str] = "UNKNOWN_FAILURE_REASON"

    @property
    def reason_code(self) -> str:
        return self.code


class InvalidOrderConfiguration(OrderRejected):
    code = "INVALID_ORDER_CONFIGURATION"


class PostOnlyWouldCross(OrderRejected):
    code = "INVALID_LIMIT_PRICE_POST_ONLY"


class InsufficientBalance(OrderRejected):
    code = "INSUFFICIENT_BALANCE"


class ProductNotTradeable(OrderRejected):
    code = "PRODUCT_NOT_TRADEABLE"


class InvalidProductId(OrderRejected):
    code = "INVALID_PRODUCT_ID"


class ExpiryRefused(OrderRejected):
    """The venue refused a good-till-date order for its end time (too soon, by a minimum
    lead time it does not document); the same order good-till-cancelled may be accepted."""

    code = "INVALID_END_TIME"


_REJECTS: dict[str, type[OrderRejected]] = {
    cls.code: cls
    for cls in (
        InvalidOrderConfiguration,
        PostOnlyWouldCross,
        InsufficientBalance,
        ProductNotTradeable,
        InvalidProductId,
        ExpiryRefused,
    )
}
_REJECTS["INSUFFICIENT_FUND"] = InsufficientBalance


def rejection_for(code: str, detail: ErrorDetail | None = None) -> OrderRejected:
    """The rejection class for an exchange's reason code; unknown codes stay OrderRejected
    but keep their code in the detail."""
    cls = _REJECTS.get(code.upper(), OrderRejected)
    detail = detail or ErrorDetail(error=code)
    return cls(detail.summary() or code, detail=detail)
