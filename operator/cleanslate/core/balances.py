"""Balance fetch retry schedule and the last-known fallback, as pure arithmetic.

The shell fetches, sleeps through the injected clock, and records the outcome here. The
broker cleanup document retries 3 times with a 2 s delay that doubles (capped at 30 s): the
waits before attempts 2 and 3 are 2 s and 4 s. When every attempt fails, the account keeps
its last known balance, marked stale once older than ``staleAfterMinutes``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from cleanslate.api.account import BalanceStatus
from cleanslate.api.policy import BalanceFetch


def attempt_delays(policy: BalanceFetch) -> tuple[float, ...]:
    """Seconds to wait before each retry: one entry per attempt after the first."""
    base, cap = policy.base_delay_seconds, policy.max_delay_seconds
    return tuple(float(min(base * 2**n, cap)) for n in range(policy.attempts - 1))


def balance_age(status: BalanceStatus, now: datetime) -> timedelta | None:
    """How old the last known balance is; None when there never was one."""
    return None if status.fetched_at is None else now - status.fetched_at


def is_stale(status: BalanceStatus, now: datetime, policy: BalanceFetch) -> bool:
    """A balance never fetched, or older than the policy allows, is stale."""
    age = balance_age(status, now)
    return age is None or age > timedelta(minutes=float(policy.stale_after_minutes))


def record_fetch(status: BalanceStatus, balance_usd: Decimal, now: datetime) -> BalanceStatus:
    """A successful fetch: the new last-known balance, fresh, errors reset."""
    return status.model_copy(
        update={
            "last_known_usd": balance_usd,
            "fetched_at": now,
            "consecutive_errors": 0,
            "stale": False,
        }
    )


def fallback(status: BalanceStatus, now: datetime, policy: BalanceFetch) -> BalanceStatus:
    """Every attempt failed: keep the last-known balance, count the error, judge staleness."""
    return status.model_copy(
        update={
            "consecutive_errors": status.consecutive_errors + 1,
            "stale": is_stale(status, now, policy),
        }
    )
