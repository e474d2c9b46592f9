"""Purge-failure backoff: stop hammering a product whose liquidation keeps failing.

The schedule is data (``policy.backoff.schedule``), as in kopf's throttlers. The documented
table is 1-2 failures: no wait, 3: 1 h, 4: 2 h, 5 or more: 4 h. The hardening document's code
(``min(2 ** (count - 2), 4)``) would wait 2 h at 3 failures, disagreeing with its own table;
the table wins. The last step applies to every higher count, and a success forgets the symbol.

The guide's error table is the exception: ``PRODUCT_NOT_TRADEABLE`` (product suspended) means
"wait for reactivation ... retry after 4h", whatever the failure count, so that code always
waits four hours; every other code keeps the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from cleanslate.api.account import PurgeFailure
from cleanslate.api.policy import BackoffStep

NO_WAIT = timedelta(0)
SUSPENDED_CODE = "PRODUCT_NOT_TRADEABLE"
SUSPENDED_WAIT = timedelta(hours=4)
"""The auto-purge guide: PRODUCT_NOT_TRADEABLE -> "Track failure, backoff, retry after 4h"."""


def backoff_delay(failure_count: int, schedule: Sequence[BackoffStep]) -> timedelta:
    """How long to skip a product after its ``failure_count``-th consecutive failure.

    The step with the highest ``failures`` not above the count applies; below the first step
    there is no wait (retry every cycle).
    """
    applicable = [s for s in schedule if s.failures <= failure_count]
    if not applicable:
        return NO_WAIT
    return max(applicable, key=lambda s: s.failures).delay


def failure_delay(failure: PurgeFailure, schedule: Sequence[BackoffStep]) -> timedelta:
    """The wait after this failure record: four hours for a suspended product, else the
    table's step for its count."""
    if failure.last_error_code == SUSPENDED_CODE:
        return SUSPENDED_WAIT
    return backoff_delay(failure.failure_count, schedule)


def backoff_remaining(
    failure: PurgeFailure, schedule: Sequence[BackoffStep], now: datetime
) -> timedelta:
    """Time left before the product may be retried; zero when a retry is allowed now.

    Computed from the schedule rather than the stored ``nextRetryAt``, so an edited policy
    takes effect on the next cycle instead of after the old wait.
    """
    retry_at = failure.last_failed_at + failure_delay(failure, schedule)
    return max(retry_at - now, NO_WAIT)


def record_failure(
    failures: Mapping[str, PurgeFailure],
    symbol: str,
    now: datetime,
    error: str,
    balance: Decimal,
    value_usd: Decimal | None,
    schedule: Sequence[BackoffStep],
    code: str = "",
    decided: tuple[Decimal, datetime] | None = None,
) -> dict[str, PurgeFailure]:
    """The failure records after one more consecutive failure of ``symbol`` at ``now``.
    ``decided`` (mid, time) of the failed purge is kept only when the record has none yet:
    the first decision of a run of failures is what its retries are measured from."""
    previous = failures.get(symbol)
    count = (previous.failure_count if previous else 0) + 1
    if previous is not None and previous.decision_mid is not None:
        decided = (previous.decision_mid, previous.decided_at or now)
    entry = PurgeFailure(
        failure_count=count,
        last_failed_at=now,
        last_error=error[:1024],
        last_error_code=code[:64],
        balance=balance,
        value_usd=value_usd,
        decision_mid=decided[0] if decided else None,
        decided_at=decided[1] if decided else None,
    )
    delay = failure_delay(entry, schedule)
    if delay > NO_WAIT:
        entry = entry.model_copy(update={"next_retry_at": now + delay})
    return {**failures, symbol: entry}


def record_success(failures: Mapping[str, PurgeFailure], symbol: str) -> dict[str, PurgeFailure]:
    """A success clears the symbol's record: the next failure starts counting from one."""
    return {s: f for s, f in failures.items() if s != symbol}


def describe_wait(remaining: timedelta) -> str:
    """``1h`` / ``42min`` / ``1h 5min`` as the documents' log lines print a remaining wait."""
    minutes = -(-int(remaining.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours}h {minutes}min"
    return f"{hours}h" if hours else f"{minutes}min"
