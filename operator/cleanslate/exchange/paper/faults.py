"""Fault injection: the failures a live venue produces, at seeded rates, per product and call.

Each configured ``PaperFault`` matching a call draws once from the account's seeded random
source; a hit raises the fault's error (or only delays, for ``latency``). A timeout on a
placement is the ambiguous case real exchanges have: with even odds the order is placed
anyway before the caller hears ``ExchangeTimeout``, so an executor must look the order up by
its client order id instead of assuming it does not exist.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from cleanslate.api.account import FaultKind, FaultOperation, PaperFault
from cleanslate.clock import Clock
from cleanslate.exchange.errors import (
    ErrorDetail,
    ExchangeTimeout,
    RateLimited,
    Unavailable,
    rejection_for,
)

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0
DEFAULT_REJECT_CODE = "INVALID_ORDER_CONFIGURATION"


@dataclass(frozen=True, slots=True)
class Decision:
    """What a placement must do after it ran: time out although the order exists."""

    timeout_after: float | None = None


class FaultInjector:
    def __init__(self, faults: Sequence[PaperFault], rng: random.Random, clock: Clock) -> None:
        self._faults = tuple(faults)
        self._rng = rng
        self._clock = clock

    async def before(self, operation: FaultOperation, product_id: str | None = None) -> Decision:
        """Apply every matching fault; raise the first failure drawn."""
        decision = Decision()
        for fault in self._faults:
            if not _matches(fault, operation, product_id):
                continue
            if self._rng.random() >= float(fault.rate):
                continue
            if fault.kind is FaultKind.LATENCY:
                await self._clock.sleep(_seconds(fault, 0.0))
            elif fault.kind is FaultKind.TIMEOUT:
                decision = await self._timeout(fault, operation)
            else:
                raise _failure(fault, operation, product_id)
        return decision

    async def after(self, decision: Decision, operation: FaultOperation) -> None:
        """Time out a call whose effect already happened."""
        if decision.timeout_after is not None:
            await self._clock.sleep(decision.timeout_after)
            raise _timeout_error(operation)

    async def _timeout(self, fault: PaperFault, operation: FaultOperation) -> Decision:
        seconds = _seconds(fault, DEFAULT_TIMEOUT_SECONDS)
        if operation is FaultOperation.PLACE and self._rng.random() < 0.5:
            return Decision(timeout_after=seconds)
        await self._clock.sleep(seconds)
        raise _timeout_error(operation)


def _matches(fault: PaperFault, operation: FaultOperation, product_id: str | None) -> bool:
    if fault.operation not in (FaultOperation.ANY, operation):
        return False
    return fault.product_id is None or fault.product_id == product_id


def _seconds(fault: PaperFault, default: float) -> float:
    return fault.latency.total_seconds() if fault.latency is not None else default


def _timeout_error(operation: FaultOperation) -> ExchangeTimeout:
    raw = {"error": "DEADLINE_EXCEEDED", "operation": operation.value, "injected": True}
    detail = ErrorDetail(error="DEADLINE_EXCEEDED", message="request timed out", raw=raw)
    return ExchangeTimeout(detail=detail)


def _failure(fault: PaperFault, operation: FaultOperation, product_id: str | None) -> Exception:
    where: dict[str, object] = {
        "operation": operation.value,
        "product_id": product_id,
        "injected": True,
    }
    if fault.kind is FaultKind.RATE_LIMIT:
        retry_after = _seconds(fault, DEFAULT_RETRY_AFTER_SECONDS)
        raw = {"status": 429, "error": "RATE_LIMIT_EXCEEDED", "retry_after": retry_after, **where}
        detail = ErrorDetail(error="RATE_LIMIT_EXCEEDED", message="Too many requests", raw=raw)
        return RateLimited(retry_after=retry_after, detail=detail)
    if fault.kind is FaultKind.UNAVAILABLE:
        raw = {"status": 503, "error": "UNAVAILABLE", **where}
        return Unavailable(detail=ErrorDetail("UNAVAILABLE", "Service Unavailable", raw=raw))
    code = fault.code or DEFAULT_REJECT_CODE
    message = f"injected reject {code}"
    raw = {
        "success": False,
        "failure_reason": "UNKNOWN_FAILURE_REASON",
        "error_response": {"error": code, "message": message, "preview_failure_reason": ""},
        **where,
    }
    return rejection_for(code, ErrorDetail(error=code, message=message, raw=raw))
