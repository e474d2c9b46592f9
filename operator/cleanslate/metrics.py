"""Prometheus metrics, built against an injected registry so each test gets a fresh one.

Families follow the source documents (risk rejections by reason, orders rejected by reason
code, cycle duration by phase) plus what an operator adds: purges, fills, fees, frozen
symbols, balance age, accounts by state and what each purge cost (shortfall, fill ratio,
duration). Labels are bounded: namespace and account name, a phase, a reason code, a purge
result, or a symbol from the account's own holdings; never an order id or free text.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from cleanslate.api.account import AccountState, TradingAccountStatus

ACCOUNT = ("namespace", "account")
PHASES = ("classify", "cancel_stale", "controlled_exit", "verify", "total")
CYCLE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 300)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PURGE_COST = ("namespace",)
SHORTFALL_BUCKETS = (0, 10, 25, 50, 75, 100, 150, 200, 300, 500, 1000)
"""From 0: a negative shortfall (the market paid the seller) counts in le="0", and the
histogram keeps its ``_sum`` (prometheus_client drops it when a bucket bound is negative)."""
FILL_BUCKETS = (0, 0.25, 0.5, 0.75, 0.9, 0.99, 1)
PURGE_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 240, 480, 900, 1800, 3600)


class Metrics:
    """Every metric cleanslate exports."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._failing: dict[tuple[str, str], set[str]] = {}
        """Symbols with a ``purge_failure_count`` series, per account, so the series can be
        removed when the record goes (a series left at 3 keeps the seed's alert firing)."""
        r = self.registry
        self.risk_rejections = Counter(
            "cleanslate_risk_rejections",
            "Decisions not to trade, by reason (purge_failed, backoff, frozen, unpriced).",
            [*ACCOUNT, "reason"],
            registry=r,
        )
        self.orders_rejected = Counter(
            "cleanslate_orders_rejected",
            "Orders the exchange rejected, by reason code.",
            [*ACCOUNT, "reason"],
            registry=r,
        )
        self.cycle_duration = Histogram(
            "cleanslate_cycle_duration_seconds",
            "Cycle duration by phase.",
            ["phase"],
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.cycle_lag = Histogram(
            "cleanslate_cycle_lag_seconds",
            "How late a cycle started after its scheduled time (previous end + interval).",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.cycle_over_budget = Counter(
            "cleanslate_cycle_over_budget",
            "Cycles that exceeded the policy's latency budget.",
            ACCOUNT,
            registry=r,
        )
        self.cycles = Counter("cleanslate_cycles", "Cycles run.", ACCOUNT, registry=r)
        self.status_writes = Counter(
            "cleanslate_status_writes",
            "Writes to the account's status (a no-op cycle makes none).",
            ACCOUNT,
            registry=r,
        )
        self.purges = Counter(
            "cleanslate_purges", "Purges finished, by result.", [*ACCOUNT, "result"], registry=r
        )
        self.fills = Counter(
            "cleanslate_fills",
            "Sales (purges and closes) that received at least one fill.",
            ACCOUNT,
            registry=r,
        )
        self.fees_usd = Counter(
            "cleanslate_fees_usd", "Fees paid on purges (USD).", ACCOUNT, registry=r
        )
        # The purge cost histograms are per namespace, not per account: their buckets times
        # 10,000 accounts would be most of the page; status.lastPurges has each account's.
        self.purge_shortfall = Histogram(
            "cleanslate_purge_shortfall_bps",
            "Each purge's implementation shortfall against the decision-time mid, fees in, "
            "unsold quantity at the last bid (bps; negative: the market paid the seller).",
            [*PURGE_COST, "result"],
            buckets=SHORTFALL_BUCKETS,
            registry=r,
        )
        self.purge_fill_ratio = Histogram(
            "cleanslate_purge_fill_ratio",
            "Each purge's filled quantity over its target, 0 to 1.",
            [*PURGE_COST, "result"],
            buckets=FILL_BUCKETS,
            registry=r,
        )
        self.purge_duration = Histogram(
            "cleanslate_purge_duration_seconds",
            "Each purge's duration, from its first start to its end.",
            [*PURGE_COST, "result"],
            buckets=PURGE_DURATION_BUCKETS,
            registry=r,
        )
        self.purge_failures = Gauge(
            "cleanslate_purge_failures",
            "Symbols with a tracked purge failure.",
            ACCOUNT,
            registry=r,
        )
        self.purge_failure_count = Gauge(
            "cleanslate_purge_failure_count",
            "Consecutive purge failures of a symbol.",
            [*ACCOUNT, "symbol"],
            registry=r,
        )
        self.frozen_symbols = Gauge(
            "cleanslate_frozen_symbols",
            "Symbols frozen after price-fetch failures.",
            ACCOUNT,
            registry=r,
        )
        self.balance_age = Gauge(
            "cleanslate_balance_age_seconds", "Age of the last known balance.", ACCOUNT, registry=r
        )
        self.balance_stale = Gauge(
            "cleanslate_balance_stale",
            "1 when the balance is older than allowed.",
            ACCOUNT,
            registry=r,
        )
        self.balance_fetch_errors = Gauge(
            "cleanslate_balance_fetch_errors",
            "Consecutive failed balance fetches.",
            ACCOUNT,
            registry=r,
        )
        self.accounts = Gauge("cleanslate_accounts", "Accounts by state.", ["state"], registry=r)
        self.venue_clock_offset = Gauge(
            "cleanslate_venue_clock_offset_seconds",
            "The venue's clock minus this operator's, at the midpoint of the last request "
            "that read it (positive: the venue is ahead); no series while unknown.",
            ["exchange"],
            registry=r,
        )
        self._states: dict[tuple[str, str], str] = {}
        self._state_counts: collections.Counter[str] = collections.Counter()
        """Accounts per state, kept as states change: counting every account's state on
        every cycle cost O(accounts) per cycle, most of the CPU at 10,000 accounts."""
        for state in AccountState:  # every state has a series, 0 included
            self.accounts.labels(str(state)).set(0)
        self.account_clean = Gauge(
            "cleanslate_account_clean", "1 when the account is CLEAN.", ACCOUNT, registry=r
        )
        self.dirty_since = Gauge(
            "cleanslate_account_dirty_since_seconds",
            "Seconds since the account was last CLEAN (0 when clean).",
            ACCOUNT,
            registry=r,
        )
        self.open_positions = Gauge(
            "cleanslate_open_positions", "Non-quote positions held.", ACCOUNT, registry=r
        )
        self.account_value = Gauge(
            "cleanslate_account_value_usd", "Account value (NAV, USD).", ACCOUNT, registry=r
        )
        self.max_positions = Gauge(
            "cleanslate_max_positions",
            "The policy's position cap, so an alert can compare open positions with it.",
            ACCOUNT,
            registry=r,
        )
        self.exposure = Gauge(
            "cleanslate_exposure_ratio",
            "Value at risk (non-quote positions) over NAV at the last plan, 0 to 1.",
            ACCOUNT,
            registry=r,
        )
        self.exposure_cap = Gauge(
            "cleanslate_exposure_cap_ratio",
            "The policy's exposure cap (maxTotalAtRiskPct / 100).",
            ACCOUNT,
            registry=r,
        )

    def set_account_state(self, namespace: str, account: str, state: str) -> None:
        """Record one account's state; ``cleanslate_accounts`` counts them per state."""
        before = self._states.get((namespace, account))
        if before == state:
            return
        self._states[(namespace, account)] = state
        self._count(state, +1)
        if before is not None:
            self._count(before, -1)

    def _count(self, state: str, change: int) -> None:
        """Every state keeps its series, 0 included: a running operator with no account
        still exports ``cleanslate_accounts``, so the absent() alert means it is gone."""
        self._state_counts[state] += change
        self.accounts.labels(str(state)).set(self._state_counts[state])

    def observe_status(
        self, namespace: str, account: str, status: TradingAccountStatus, now: datetime
    ) -> None:
        """Set the account's gauges from its status after a cycle (the operator calls this;
        the scenario suite too, so both see the same series)."""
        labels = (namespace, account)
        self.account_clean.labels(*labels).set(
            1 if status.account_state is AccountState.CLEAN else 0
        )
        self.open_positions.labels(*labels).set(status.position_count)
        self.account_value.labels(*labels).set(float(status.total_value_usd or 0))
        self.observe_purge_failures(
            namespace, account, {s: f.failure_count for s, f in status.purge_failures.items()}
        )
        self.frozen_symbols.labels(*labels).set(
            sum(1 for f in status.frozen_symbols.values() if f.frozen_at is not None)
        )
        balance = status.balance
        age = (now - balance.fetched_at).total_seconds() if balance.fetched_at else 0.0
        self.balance_age.labels(*labels).set(age)
        self.balance_stale.labels(*labels).set(1 if balance.stale else 0)
        self.balance_fetch_errors.labels(*labels).set(balance.consecutive_errors)
        self.dirty_since.labels(*labels).set(_dirty_since(status, now))

    def observe_purge_failures(
        self, namespace: str, account: str, failure_counts: Mapping[str, int]
    ) -> None:
        """Export each symbol's consecutive failures, and remove the series of every symbol
        whose record was cleared since (a success, a manual retry, a person leaving it alone)."""
        key = (namespace, account)
        for symbol in self._failing.get(key, set()) - set(failure_counts):
            with contextlib.suppress(KeyError):
                self.purge_failure_count.remove(namespace, account, symbol)
        for symbol, count in failure_counts.items():
            self.purge_failure_count.labels(namespace, account, symbol).set(count)
        self.purge_failures.labels(namespace, account).set(len(failure_counts))
        self._failing[key] = set(failure_counts)

    def forget_account(self, namespace: str, account: str) -> None:
        """Drop every series of an account this process no longer handles (deleted, or moved
        to another shard), counters included: a ghost would read as a second owner, and
        series that outlive their accounts grow without bound on a multi-tenant platform.
        Every symbol the account exported goes too."""
        if (state := self._states.pop((namespace, account), None)) is not None:
            self._count(state, -1)
        self._failing.pop((namespace, account), None)
        labels = {"namespace": namespace, "account": account}
        for metric in vars(self).values():
            if isinstance(metric, MetricWrapperBase) and set(ACCOUNT) <= set(
                metric._labelnames  # prometheus_client has no public accessor
            ):
                metric.remove_by_labels(labels)


def _dirty_since(status: TradingAccountStatus, now: datetime) -> float:
    clean = next((c for c in status.conditions if c.type == "Clean"), None)
    if clean is None or clean.status == "True":
        return 0.0
    return max(0.0, (now - clean.last_transition_time).total_seconds())
