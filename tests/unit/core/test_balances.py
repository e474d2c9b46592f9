"""Balance fetch retry schedule and the last-known fallback."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import BalanceStatus
from cleanslate.api.policy import BalanceFetch
from cleanslate.core.balances import (
    attempt_delays,
    balance_age,
    fallback,
    is_stale,
    record_fetch,
)

from .builders import NOW, D

POLICY = BalanceFetch()


def test_three_attempts_wait_2s_then_4s() -> None:
    assert attempt_delays(POLICY) == (2.0, 4.0)


def test_delays_double_and_are_capped_at_30s() -> None:
    policy = BalanceFetch(attempts=6)
    assert attempt_delays(policy) == (2.0, 4.0, 8.0, 16.0, 30.0)


def test_a_single_attempt_never_waits() -> None:
    assert attempt_delays(BalanceFetch(attempts=1)) == ()


def test_a_successful_fetch_is_fresh_and_resets_errors() -> None:
    status = BalanceStatus(consecutive_errors=4, stale=True)
    fetched = record_fetch(status, D("500"), NOW)
    assert fetched == BalanceStatus(
        last_known_usd=D("500"), fetched_at=NOW, consecutive_errors=0, stale=False
    )


def test_fallback_keeps_the_last_known_balance_and_counts_the_error() -> None:
    known = record_fetch(BalanceStatus(), D("500"), NOW)
    later = NOW + timedelta(minutes=5, seconds=12)
    fell_back = fallback(known, later, POLICY)
    assert fell_back.last_known_usd == D("500")
    assert fell_back.consecutive_errors == 1 and not fell_back.stale
    assert balance_age(fell_back, later) == timedelta(minutes=5, seconds=12)


def test_the_last_known_balance_turns_stale_after_30_minutes() -> None:
    known = record_fetch(BalanceStatus(), D("500"), NOW)
    assert not fallback(known, NOW + timedelta(minutes=30), POLICY).stale
    assert fallback(known, NOW + timedelta(minutes=31), POLICY).stale


def test_with_no_balance_ever_fetched_the_fallback_is_stale() -> None:
    status = fallback(BalanceStatus(), NOW, POLICY)
    assert status.stale and status.last_known_usd is None and balance_age(status, NOW) is None
    assert is_stale(status, NOW, POLICY)


def test_consecutive_errors_keep_counting() -> None:
    status = BalanceStatus()
    for _ in range(3):
        status = fallback(status, NOW, POLICY)
    assert status.consecutive_errors == 3
