"""A PurgePolicy reports whether the operator accepts it (as cert-manager's Issuer reports
Ready), for the generation judged, written only when the answer changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from cleanslate.operating.policy_status import judged

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BAD = {"backoff": {"schedule": [{"failures": 3, "delay": "1h"}, {"failures": 2, "delay": "2h"}]}}


def ready(status: dict[str, Any]) -> dict[str, Any]:
    (condition,) = status["conditions"]
    return cast(dict[str, Any], condition)


def test_a_valid_policy_is_ready_and_an_unchanged_answer_is_not_written_again() -> None:
    status = judged({}, 1, None, NOW)
    assert status is not None and status["observedGeneration"] == 1
    assert ready(status)["status"] == "True" and ready(status)["reason"] == "Valid"
    assert judged({}, 1, status, NOW + timedelta(minutes=5)) is None
    newer = judged({}, 2, status, NOW + timedelta(minutes=5))
    assert newer is not None and newer["observedGeneration"] == 2
    assert ready(newer)["lastTransitionTime"] == ready(status)["lastTransitionTime"]


def test_a_policy_the_operator_refuses_says_which_field_in_one_line() -> None:
    status = judged(BAD, 3, None, NOW)
    assert status is not None
    condition = ready(status)
    assert condition["status"] == "False" and condition["reason"] == "Invalid"
    message = str(condition["message"])
    assert message.startswith("spec.backoff") and "increasing" in message
    assert "\n" not in message and len(message) <= 200
    fixed = judged({}, 4, status, NOW)
    assert fixed is not None and ready(fixed)["status"] == "True"
