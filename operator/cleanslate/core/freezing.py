"""Symbol freeze: stop touching a product whose price keeps failing to load (a delisted coin).

Pure transitions over ``status.frozenSymbols`` (keyed by product id). Each returns the new
mapping and the events that happened, so the shell can emit Kubernetes events without
diffing. A freeze lasts ``cooldown`` unless lifted by hand; a successful price fetch resets
the count of a symbol that is not frozen but does not lift a freeze, because the broker
cleanup document asks for manual review of frozen symbols before they trade again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cleanslate.api.account import FrozenSymbol
from cleanslate.api.policy import SymbolFreeze


class FreezeEventKind(StrEnum):
    COUNTED = "Counted"
    """A failure was counted; the threshold is not reached yet."""
    FROZEN = "Frozen"
    RESET = "Reset"
    """A success cleared the count of a symbol that was not frozen."""
    UNFROZEN = "Unfrozen"
    """Lifted by hand."""
    EXPIRED = "Expired"
    """The cooldown ran out."""


@dataclass(frozen=True, slots=True)
class FreezeEvent:
    symbol: str
    kind: FreezeEventKind
    message: str


@dataclass(frozen=True, slots=True)
class FreezeChange:
    """The frozen-symbol records after a transition, and what happened."""

    frozen: dict[str, FrozenSymbol]
    events: tuple[FreezeEvent, ...] = ()


def is_frozen(frozen: Mapping[str, FrozenSymbol], symbol: str, now: datetime) -> bool:
    """Frozen means the threshold was reached and the cooldown has not run out."""
    entry = frozen.get(symbol)
    return entry is not None and _active(entry, now)


def frozen_remaining(frozen: Mapping[str, FrozenSymbol], symbol: str, now: datetime) -> timedelta:
    """Time until the freeze runs out; zero when the symbol is not frozen."""
    entry = frozen.get(symbol)
    if entry is None or not _active(entry, now) or entry.until is None:
        return timedelta(0)
    return entry.until - now


def record_price_failure(
    frozen: Mapping[str, FrozenSymbol],
    symbol: str,
    now: datetime,
    error: str,
    policy: SymbolFreeze,
) -> FreezeChange:
    """Count one more consecutive price-fetch failure; freeze at the threshold."""
    entry = frozen.get(symbol)
    if entry is not None and _active(entry, now):
        updated = entry.model_copy(update={"last_error": error[:1024]})
        return FreezeChange({**frozen, symbol: updated})
    count = 1 if entry is None or entry.frozen_at is not None else entry.consecutive_failures + 1
    if count < policy.failure_threshold:
        counted = FrozenSymbol(consecutive_failures=count, last_error=error[:1024])
        message = f"price fetch failed ({count}/{policy.failure_threshold}): {error}"
        return FreezeChange(
            {**frozen, symbol: counted}, (FreezeEvent(symbol, FreezeEventKind.COUNTED, message),)
        )
    until = now + policy.cooldown
    frozen_entry = FrozenSymbol(
        consecutive_failures=count, frozen_at=now, until=until, last_error=error[:1024]
    )
    message = f"{count} consecutive price fetch failures; frozen until {until.isoformat()}"
    return FreezeChange(
        {**frozen, symbol: frozen_entry}, (FreezeEvent(symbol, FreezeEventKind.FROZEN, message),)
    )


def record_price_success(
    frozen: Mapping[str, FrozenSymbol], symbol: str, now: datetime
) -> FreezeChange:
    """A price loaded: forget the count of an unfrozen symbol; an active freeze stays."""
    entry = frozen.get(symbol)
    if entry is None or _active(entry, now):
        return FreezeChange(dict(frozen))
    rest = {s: f for s, f in frozen.items() if s != symbol}
    return FreezeChange(
        rest, (FreezeEvent(symbol, FreezeEventKind.RESET, "price fetch succeeded"),)
    )


def unfreeze(frozen: Mapping[str, FrozenSymbol], symbol: str, reason: str) -> FreezeChange:
    """Lift a freeze by hand (after review); the count starts again from zero."""
    if symbol not in frozen:
        return FreezeChange(dict(frozen))
    rest = {s: f for s, f in frozen.items() if s != symbol}
    return FreezeChange(rest, (FreezeEvent(symbol, FreezeEventKind.UNFROZEN, reason),))


def expire(frozen: Mapping[str, FrozenSymbol], now: datetime) -> FreezeChange:
    """Drop every freeze whose cooldown has run out."""
    expired = sorted(
        s for s, f in frozen.items() if f.frozen_at is not None and not _active(f, now)
    )
    rest = {s: f for s, f in frozen.items() if s not in expired}
    events = tuple(
        FreezeEvent(s, FreezeEventKind.EXPIRED, "freeze cooldown ran out") for s in expired
    )
    return FreezeChange(rest, events)


def _active(entry: FrozenSymbol, now: datetime) -> bool:
    return entry.frozen_at is not None and (entry.until is None or entry.until > now)
