"""What ``kubectl cleanslate`` prints for an account, from the object the API server returns:
one screen with the blockers and what happens next, the plan as a table, the history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cleanslate.plugin import views

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def account(name: str = "documents", **status: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "accountState": "Dirty",
        "mode": "Live",
        "totalValueUsd": "357.961",
        "positionCount": 8,
        "failureCount": 1,
        "lastCycle": {"startedAt": "2026-01-10T11:59:00Z", "durationSeconds": 1.5},
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "WaitingOnBlockers",
                "message": "x",
                "lastTransitionTime": "2026-01-10T11:00:00Z",
            }
        ],
        "blockers": ["BONK-USD: not strategy-aligned: untracked: opened outside the system"],
        "purgeFailures": {
            "BONK-USD": {
                "failureCount": 3,
                "lastFailedAt": "2026-01-10T11:30:00Z",
                "nextRetryAt": "2026-01-10T12:30:00Z",
            },
            "SEI-USD": {"failureCount": 1, "lastFailedAt": "2026-01-10T11:58:00Z"},
        },
        "frozenSymbols": {
            "AUT-USD": {
                "consecutiveFailures": 3,
                "frozenAt": "2026-01-10T10:00:00Z",
                "until": "2026-01-11T10:00:00Z",
            },
            "OP-USD": {"consecutiveFailures": 1},
        },
        "unwindProgress": {
            "LINK-USD": {
                "cycle": 1,
                "remainingFraction": 0.75,
                "startedAt": "2026-01-10T11:00:00Z",
                "lastCycleAt": "2026-01-10T11:59:00Z",
            }
        },
        "plan": [
            {"symbol": "BONK-USD", "action": "Skip", "reason": "backoff: 3 recent failures"},
            {
                "symbol": "LINK-USD",
                "action": "Unwind",
                "quantity": "0.5",
                "valueUsd": "6.9312",
                "reason": "legacy non-compliant: unwind step 2/4",
            },
            {
                "symbol": "SEI-USD",
                "action": "Purge",
                "quantity": "36.4",
                "valueUsd": "5.53",
                "reason": "ineligible: TWAP purge",
            },
        ],
    }
    base.update(status)
    return {
        "metadata": {"name": name, "namespace": "tenant-a"},
        "spec": {"mode": "Live", "policyRef": {"name": "default"}},
        "status": base,
    }


def test_status_shows_the_table_then_blockers_and_what_happens_next() -> None:
    screen = views.status_screen([account()], False, {"tenant-a/documents": 4}, NOW)
    lines = screen.splitlines()
    assert lines[0].split() == [
        "NAME", "READY", "STATE", "MODE", "VALUE", "POSITIONS", "FAILURES", "LAST", "CYCLE",
    ]  # fmt: skip
    assert lines[1].split() == [
        "documents", "False", "Dirty", "Live", "$357.96", "8", "1", "2026-01-10T11:59:00Z",
    ]  # fmt: skip
    assert "tenant-a/documents: Dirty" in screen
    assert "  blocked by: BONK-USD: not strategy-aligned" in screen
    assert "  next: BONK-USD: 3 failed purge(s), retry at 2026-01-10T12:30:00Z (in 30m)" in screen
    assert "  next: SEI-USD: 1 failed purge(s), retry next cycle" in screen
    assert "  next: AUT-USD: frozen until 2026-01-11T10:00:00Z (in 22h00m)" in screen
    assert "OP-USD" not in screen  # counted failures, not frozen: nothing scheduled
    assert "  next: LINK-USD: unwind step 2/4 next cycle, 75% of the position left" in screen
    assert len(lines) < 25  # one screen


def test_status_of_a_clean_account_is_its_row_alone() -> None:
    clean = account(accountState="Clean", blockers=[], purgeFailures={}, frozenSymbols={})
    screen = views.status_screen([clean], True, {}, NOW)
    assert screen.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert len(screen.splitlines()) == 2


def test_status_of_an_account_the_operator_has_not_seen() -> None:
    fresh = {"metadata": {"name": "new", "namespace": "t"}, "spec": {"policyRef": {"name": "p"}}}
    screen = views.status_screen([fresh], False, {}, NOW)
    row = screen.splitlines()[1].split()
    assert row[:4] == ["new", "Unknown", "Pending", "DryRun"] and "n/a" in row and "never" in row
    assert "t/new: waiting for the operator's first cycle" in screen
    assert views.status_screen([], False, {}, NOW) == "No TradingAccounts found."


def test_dry_run_status_says_the_plan_is_what_live_would_do() -> None:
    dry = account(mode="DryRun")
    dry["spec"]["mode"] = "DryRun"
    assert "Dirty (DryRun: the plan below is what Live would do)" in views.status_screen(
        [dry], False, {}, NOW
    )


def test_plan_is_a_table_of_what_would_be_sold_and_why() -> None:
    text = views.plan_table(account())
    lines = text.splitlines()
    assert lines[0] == "tenant-a/documents: plan of the cycle at 2026-01-10T11:59:00Z (Live)"
    assert lines[1].split() == ["SYMBOL", "ACTION", "QUANTITY", "VALUE", "WHY"]
    rows = {line.split()[0]: line for line in lines[2:5]}
    assert rows["BONK-USD"].split()[:4] == ["BONK-USD", "Skip", "-", "-"]
    assert rows["SEI-USD"].split()[:4] == ["SEI-USD", "Purge", "36.4", "$5.53"]
    assert rows["LINK-USD"].endswith("legacy non-compliant: unwind step 2/4")
    assert lines[-1] == "2 sale(s), sells about $12.46"


def test_plan_before_the_first_cycle_says_so() -> None:
    fresh = {"metadata": {"name": "new", "namespace": "t"}, "spec": {}}
    assert "no plan yet" in views.plan_table(fresh)


def test_history_lists_events_oldest_first_then_the_purge_counters() -> None:
    events = [
        {"firstTimestamp": "2026-01-10T11:00:00Z", "type": "Normal", "reason": "PurgeStarted",
         "message": "purge: selling 36.4 SEI", "count": 1},
        {"firstTimestamp": "2026-01-10T11:01:00Z", "type": "Warning", "reason": "PurgeFailed",
         "message": "Purge sell failed for BONK-USD", "count": 3},
    ]  # fmt: skip
    metrics = {"purgesSucceeded": 2, "purgesFailed": 3, "capitalFreedUsd": "13.7"}
    text = views.history(account(cleanupMetrics=metrics), events)
    lines = text.splitlines()
    assert lines[1].split() == ["TIME", "TYPE", "REASON", "MESSAGE"]
    assert "PurgeStarted" in lines[2] and "PurgeFailed" in lines[3]
    assert lines[3].endswith("Purge sell failed for BONK-USD (x3)")
    assert lines[-1].startswith("purges: 2 succeeded, 3 failed;")
    assert "$13.70 freed" in lines[-1]
