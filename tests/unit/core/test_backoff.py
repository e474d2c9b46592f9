"""Purge-failure backoff follows the documented table, not the hardening document's formula."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cleanslate.api.account import PurgeFailure
from cleanslate.api.policy import Backoff, BackoffStep
from cleanslate.core.backoff import (
    backoff_delay,
    backoff_remaining,
    describe_wait,
    record_failure,
    record_success,
)

from .builders import BONK_UNITS, NOW, D, failure

SCHEDULE = Backoff().schedule
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("count", "delay"),
    [(1, 0 * H), (2, 0 * H), (3, 1 * H), (4, 2 * H), (5, 4 * H), (6, 4 * H), (50, 4 * H)],
)
def test_backoff_follows_the_documented_table(count: int, delay: timedelta) -> None:
    assert backoff_delay(count, SCHEDULE) == delay


def test_table_wins_over_the_hardening_formula_at_three_failures() -> None:
    formula_hours = min(2 ** (3 - 2), 4)  # what the document's code would wait: 2 h
    assert formula_hours == 2
    assert backoff_delay(3, SCHEDULE) == timedelta(hours=1)


def test_the_last_step_applies_to_every_higher_count() -> None:
    schedule = [BackoffStep(failures=2, delay=timedelta(minutes=5))]
    assert backoff_delay(1, schedule) == timedelta(0)
    assert backoff_delay(2, schedule) == backoff_delay(99, schedule) == timedelta(minutes=5)


def test_bonk_is_skipped_with_42_minutes_remaining_after_3_failures() -> None:
    remaining = backoff_remaining(failure(3, timedelta(minutes=18)), SCHEDULE, NOW)
    assert remaining == timedelta(minutes=42)
    assert describe_wait(remaining) == "42min"


def test_retry_is_allowed_once_the_backoff_has_expired() -> None:
    assert backoff_remaining(failure(3, timedelta(hours=2)), SCHEDULE, NOW) == timedelta(0)
    assert backoff_remaining(failure(5, timedelta(hours=3)), SCHEDULE, NOW) == timedelta(hours=1)


def test_one_or_two_failures_retry_every_cycle() -> None:
    assert backoff_remaining(failure(2, timedelta(seconds=1)), SCHEDULE, NOW) == timedelta(0)


def test_a_failure_of_an_unpriced_holding_records_no_value_rather_than_zero() -> None:
    """$0 would tell a reader nothing is at stake; the status leaves the value out instead."""
    entry = record_failure({}, "AUT-USD", NOW, "x", D("12"), None, SCHEDULE)["AUT-USD"]
    assert entry.value_usd is None
    assert "valueUsd" not in entry.to_wire()


def test_record_failure_counts_up_and_keeps_the_bonk_details() -> None:
    failures = record_failure({}, "BONK-USD", NOW, "rejected", BONK_UNITS, D("9.48"), SCHEDULE)
    entry = failures["BONK-USD"]
    assert (entry.failure_count, entry.balance, entry.value_usd) == (1, BONK_UNITS, D("9.48"))
    assert entry.last_failed_at == NOW and entry.next_retry_at is None
    for _ in range(2):
        failures = record_failure(failures, "BONK-USD", NOW, "x", BONK_UNITS, D("9.48"), SCHEDULE)
    assert failures["BONK-USD"].failure_count == 3
    assert failures["BONK-USD"].next_retry_at == NOW + timedelta(hours=1)


def test_record_failure_does_not_change_its_input() -> None:
    before: dict[str, PurgeFailure] = {}
    record_failure(before, "BONK-USD", NOW, "x", D(1), D(1), SCHEDULE)
    assert before == {}


def test_a_success_clears_the_record_and_only_that_one() -> None:
    failures = {"BONK-USD": failure(4, H), "SEI-USD": failure(1, H)}
    assert record_success(failures, "BONK-USD") == {"SEI-USD": failures["SEI-USD"]}
    assert record_success(failures, "XRP-USD") == failures


def test_after_a_success_the_next_failure_counts_from_one() -> None:
    cleared = record_success({"BONK-USD": failure(5, H)}, "BONK-USD")
    again = record_failure(cleared, "BONK-USD", NOW, "x", D(1), D(1), SCHEDULE)
    assert again["BONK-USD"].failure_count == 1


def test_waits_are_described_like_the_documents_log_lines() -> None:
    assert describe_wait(timedelta(hours=1)) == "1h"
    assert describe_wait(timedelta(hours=1, minutes=5)) == "1h 5min"
    assert describe_wait(timedelta(seconds=30)) == "1min"


def test_product_not_tradeable_waits_four_hours_whatever_the_failure_count() -> None:
    failures = record_failure(
        {}, "ZETA-USD", NOW, "suspended", D(1), D(1), SCHEDULE, "PRODUCT_NOT_TRADEABLE"
    )
    entry = failures["ZETA-USD"]
    assert entry.failure_count == 1 and entry.next_retry_at == NOW + timedelta(hours=4)
    assert backoff_remaining(entry, SCHEDULE, NOW + timedelta(hours=3)) == timedelta(hours=1)
    assert backoff_remaining(entry, SCHEDULE, NOW + timedelta(hours=4)) == timedelta(0)


def test_other_codes_keep_the_table() -> None:
    failures = record_failure(
        {}, "BONK-USD", NOW, "x", D(1), D(1), SCHEDULE, "INVALID_ORDER_CONFIGURATION"
    )
    assert failures["BONK-USD"].next_retry_at is None
    assert backoff_remaining(failures["BONK-USD"], SCHEDULE, NOW) == timedelta(0)
