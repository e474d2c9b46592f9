"""The events cleanslate reports, as values; the operator posts them to Kubernetes and the
CLI prints them. Reasons are a closed vocabulary (CamelCase, as ``kubectl get events`` shows
them) so that alerts and people can rely on them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Reason(StrEnum):
    PURGE_STARTED = "PurgeStarted"
    PURGE_SUCCEEDED = "PurgeSucceeded"
    PURGE_FAILED = "PurgeFailed"
    PURGE_PLANNED = "PurgePlanned"
    PURGE_STOPPED = "PurgeStopped"
    PURGE_PACED = "PurgePaced"
    GOOD_TILL_DATE_REFUSED = "GoodTillDateRefused"
    BACKOFF_STARTED = "BackoffStarted"
    BACKOFF_EXPIRED = "BackoffExpired"
    STALE_ORDERS_CANCELLED = "StaleOrdersCancelled"
    ORDERS_CANCELLED = "OrdersCancelled"
    SYMBOL_FROZEN = "SymbolFrozen"
    SYMBOL_UNFROZEN = "SymbolUnfrozen"
    EXPOSURE_TRIMMED = "ExposureTrimmed"
    UNWIND_STEP = "UnwindStep"
    POSITION_CLOSED = "PositionClosed"
    ZOMBIE_ESCALATED = "ZombieEscalated"
    UNSELLABLE_REMAINDER = "UnsellableRemainder"
    DUST_SWEPT = "DustSwept"
    DUST_SWEEP_FAILED = "DustSweepFailed"
    DUST_SWEEP_UNAVAILABLE = "DustSweepUnavailable"
    ACCOUNT_CLEAN = "AccountClean"
    ACCOUNT_DIRTY = "AccountDirty"
    CYCLE_OVER_BUDGET = "CycleOverBudget"
    CYCLE_FAILED = "CycleFailed"
    BALANCE_STALE = "BalanceStale"
    POLICY_MISSING = "PolicyMissing"
    POLICY_INVALID = "PolicyInvalid"
    SPEC_INVALID = "SpecInvalid"
    STATUS_INVALID = "StatusInvalid"
    QUOTE_CURRENCY_RELEASED = "QuoteCurrencyReleased"
    CREDENTIALS_MISSING = "CredentialsMissing"
    CREDENTIALS_WARNING = "CredentialsWarning"
    EXCHANGE_UNAVAILABLE = "ExchangeUnavailable"
    MANUAL_RETRY = "ManualRetry"
    MANUAL_UNFREEZE = "ManualUnfreeze"
    MANUAL_LIQUIDATE = "ManualLiquidate"
    LEFT_ALONE = "LeftAlone"
    SUSPENDED = "Suspended"
    RISKY_POLICY = "RiskyPolicy"
    CLOCK_OFFSET = "ClockOffset"


class Severity(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class Event:
    reason: Reason
    message: str
    severity: Severity = Severity.NORMAL

    @classmethod
    def warning(cls, reason: Reason, message: str) -> Event:
        return cls(reason, message, Severity.WARNING)


class EventSink(Protocol):
    """Where a cycle's events go: Kubernetes events in the operator, stdout in the CLI."""

    def emit(self, event: Event) -> None: ...


class EventList:
    """Collects events in order (the CLI, and tests)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def reasons(self) -> list[str]:
        return [e.reason.value for e in self.events]
