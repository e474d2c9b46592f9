"""Per-symbol series follow the status: they go when the record is cleared and when the
account is deleted (a series left at 3 keeps the seed's alert firing)."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from cleanslate.api.account import PurgeFailure, TradingAccountStatus
from cleanslate.metrics import Metrics

NOW = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
ACCOUNT = {"namespace": "ns", "account": "acct"}


def status(**counts: int) -> TradingAccountStatus:
    failures = {
        f"{asset}-USD": PurgeFailure(failure_count=n, last_failed_at=NOW)
        for asset, n in counts.items()
    }
    return TradingAccountStatus(purge_failures=failures)


def count(metrics: Metrics, symbol: str, account: dict[str, str] = ACCOUNT) -> float | None:
    labels = {**account, "symbol": symbol}
    return metrics.registry.get_sample_value("cleanslate_purge_failure_count", labels)


def test_a_cleared_record_removes_its_series_and_keeps_the_others() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.observe_status("ns", "acct", status(BONK=3, SEI=1), NOW)
    assert (count(metrics, "BONK-USD"), count(metrics, "SEI-USD")) == (3, 1)
    metrics.observe_status("ns", "acct", status(SEI=2), NOW)
    assert count(metrics, "BONK-USD") is None
    assert count(metrics, "SEI-USD") == 2
    assert metrics.registry.get_sample_value("cleanslate_purge_failures", ACCOUNT) == 1


def test_deleting_an_account_removes_its_symbols_without_being_told_them() -> None:
    metrics = Metrics(CollectorRegistry())
    other = {"namespace": "ns", "account": "other"}
    metrics.observe_status("ns", "acct", status(BONK=3), NOW)
    metrics.observe_status("ns", "other", status(BONK=5), NOW)
    metrics.forget_account("ns", "acct")
    assert count(metrics, "BONK-USD") is None
    assert metrics.registry.get_sample_value("cleanslate_account_clean", ACCOUNT) is None
    assert count(metrics, "BONK-USD", other) == 5
