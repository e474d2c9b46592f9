"""Symbol freeze after repeated price-fetch failures (the AUT-USD case)."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import FrozenSymbol
from cleanslate.api.policy import SymbolFreeze
from cleanslate.core.freezing import (
    FreezeChange,
    FreezeEventKind,
    expire,
    frozen_remaining,
    is_frozen,
    record_price_failure,
    record_price_success,
    unfreeze,
)

from .builders import NOW

POLICY = SymbolFreeze()  # 3 failures, 24 h cooldown
AUT = "AUT-USD"


def fail_times(n: int, frozen: dict[str, FrozenSymbol] | None = None) -> list[FreezeChange]:
    changes = []
    current = frozen or {}
    for i in range(n):
        change = record_price_failure(current, AUT, NOW + timedelta(minutes=i), "no price", POLICY)
        changes.append(change)
        current = change.frozen
    return changes


def test_three_consecutive_failures_freeze_the_symbol_for_the_cooldown() -> None:
    changes = fail_times(3)
    kinds = [c.events[0].kind for c in changes]
    assert kinds == [FreezeEventKind.COUNTED, FreezeEventKind.COUNTED, FreezeEventKind.FROZEN]
    entry = changes[-1].frozen[AUT]
    assert entry.consecutive_failures == 3
    assert entry.until == entry.frozen_at + timedelta(hours=24)  # type: ignore[operator]
    assert not is_frozen(changes[1].frozen, AUT, NOW)
    assert is_frozen(changes[-1].frozen, AUT, NOW + timedelta(hours=23))


def test_a_freeze_runs_out_after_the_cooldown_and_expire_reports_it() -> None:
    frozen = fail_times(3)[-1].frozen
    later = NOW + timedelta(hours=25)
    assert not is_frozen(frozen, AUT, later)
    change = expire(frozen, later)
    assert change.frozen == {}
    assert [(e.symbol, e.kind) for e in change.events] == [(AUT, FreezeEventKind.EXPIRED)]
    assert expire(frozen, NOW + timedelta(hours=1)).events == ()


def test_remaining_freeze_time_is_reported() -> None:
    frozen = fail_times(3)[-1].frozen
    frozen_at = frozen[AUT].frozen_at
    assert frozen_at is not None
    assert frozen_remaining(frozen, AUT, frozen_at + timedelta(hours=1)) == timedelta(hours=23)
    assert frozen_remaining({}, AUT, NOW) == timedelta(0)


def test_a_success_before_the_threshold_resets_the_count() -> None:
    counted = fail_times(2)[-1].frozen
    change = record_price_success(counted, AUT, NOW)
    assert change.frozen == {} and change.events[0].kind is FreezeEventKind.RESET
    again = record_price_failure(change.frozen, AUT, NOW, "no price", POLICY)
    assert again.frozen[AUT].consecutive_failures == 1


def test_a_success_does_not_lift_an_active_freeze() -> None:
    frozen = fail_times(3)[-1].frozen
    change = record_price_success(frozen, AUT, NOW + timedelta(hours=1))
    assert change.frozen == frozen and change.events == ()


def test_unfreezing_by_hand_lifts_the_freeze_and_restarts_the_count() -> None:
    frozen = fail_times(3)[-1].frozen
    change = unfreeze(frozen, AUT, "issue resolved")
    assert change.frozen == {}
    assert change.events[0].kind is FreezeEventKind.UNFROZEN
    assert change.events[0].message == "issue resolved"
    assert unfreeze({}, AUT, "nothing").events == ()


def test_failures_while_frozen_keep_the_freeze_and_update_the_error() -> None:
    frozen = fail_times(3)[-1].frozen
    change = record_price_failure(frozen, AUT, NOW + timedelta(hours=2), "still gone", POLICY)
    assert change.events == ()
    assert change.frozen[AUT].last_error == "still gone"
    assert change.frozen[AUT].until == frozen[AUT].until


def test_a_failure_after_the_freeze_ran_out_starts_counting_again() -> None:
    frozen = fail_times(3)[-1].frozen
    change = record_price_failure(frozen, AUT, NOW + timedelta(days=2), "no price", POLICY)
    assert change.frozen[AUT].consecutive_failures == 1
    assert change.frozen[AUT].frozen_at is None


def test_transitions_do_not_change_their_input() -> None:
    frozen = fail_times(2)[-1].frozen
    snapshot = dict(frozen)
    record_price_failure(frozen, AUT, NOW, "x", POLICY)
    record_price_success(frozen, AUT, NOW)
    unfreeze(frozen, AUT, "x")
    assert frozen == snapshot
