"""The conformance scenarios' format: one YAML file per story (see ``README.md``).

A scenario is an account on the paper exchange, a policy (overrides on top of
``examples/policy.yaml``, the documents' defaults), and steps: cycles to run, time to pass,
spec edits, the exchange recovering or breaking, the account's deletion, and what must hold
after each. Unknown keys are errors, so a typo never turns a check into nothing.
"""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from cleanslate.api.account import AccountState, PlanAction, TradingAccountSpec
from cleanslate.api.fields import ApiModel, Duration
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.events import Severity

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE, NAME = "scenarios", "account"
"""The TradingAccount every scenario runs as (its metric labels, its client order ids)."""


class Held(ApiModel):
    """Bounds on what is still held of an asset (units, or USD at the market's reference
    price)."""

    min: Decimal | None = None
    max: Decimal | None = None
    min_usd: Decimal | None = None
    max_usd: Decimal | None = None


class EventCheck(ApiModel):
    reason: str | None = None
    """Any reason when unset (then ``contains`` or ``severity`` says which events)."""
    contains: str = ""
    """A substring of the event's message (e.g. the symbol)."""
    severity: Severity | None = None
    at_most: int | None = None
    """In ``eventCounts``: how many such events may have been emitted."""


class MetricCheck(ApiModel):
    name: str
    """Sample name as exported, e.g. cleanslate_purge_failure_count."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Labels besides namespace and account (added by the runner)."""
    value: float | None
    """Expected value; null means the series must not exist."""


class Expect(ApiModel):
    """What must hold after the steps so far. Every key is optional; what is not named is
    not checked, so a scenario asserts only what its story is about."""

    state: AccountState | None = None
    """status.accountState: Clean, Dirty, Cleaning, ..."""
    sold: list[str] = Field(default_factory=list)
    """Products of which less is held now than at the start."""
    not_sold: list[str] = Field(default_factory=list)
    """Products on which no sell order was ever placed (and nothing was sold)."""
    held: dict[str, Held] = Field(default_factory=dict)
    sell_orders_at_most: dict[str, int] = Field(default_factory=dict)
    """Sell orders placed on a product since the start, at most (0: never tried)."""
    plan: dict[str, PlanAction] = Field(default_factory=dict)
    """status.plan action per product, from the last cycle."""
    plan_reasons: dict[str, str] = Field(default_factory=dict)
    """A substring of the plan item's reason, per product."""
    events: list[EventCheck | str] = Field(default_factory=list)
    """Events (a reason, or a reason and a substring) emitted since the previous check."""
    no_events: list[EventCheck | str] = Field(default_factory=list)
    event_counts: list[EventCheck] = Field(default_factory=list)
    """Events with ``atMost`` set: at most that many since the previous check."""
    failures: dict[str, int | None] = Field(default_factory=dict)
    """status.purgeFailures[symbol].failureCount; null: no record."""
    blockers: list[str] = Field(default_factory=list)
    """Substrings each found in some status.blockers entry."""
    no_blockers: list[str] = Field(default_factory=list)
    """Substrings found in no status.blockers entry."""
    cleanup: dict[str, Decimal] = Field(default_factory=dict)
    """status.cleanupMetrics fields (camelCase), exact values."""
    cleanup_at_least: dict[str, Decimal] = Field(default_factory=dict)
    metrics: list[MetricCheck] = Field(default_factory=list)


class Options(ApiModel):
    """Manual actions for a cycle (the operator's annotations, the CLI's flags)."""

    dry_run: bool | None = None
    """Default: the account's mode decides."""
    liquidate: list[str] = Field(default_factory=list)
    retry: list[str] = Field(default_factory=list)
    unfreeze: list[str] = Field(default_factory=list)


class Step(ApiModel):
    note: str = ""
    cycles: int | None = Field(default=None, ge=1)
    """Run this many cycles, intervalSeconds apart (the first of a scenario at its start)."""
    options: Options | None = None
    advance: Duration | None = None
    """Let this much (simulated) time pass."""
    edit: dict[str, Any] | None = None
    """Merged into the account's spec (the paper exchange's holdings do not change)."""
    faults: list[dict[str, Any]] | None = None
    """The exchange's faults from now on (it recovers, or starts failing): the paper account
    is reopened from its saved state with these faults; cleanslate's status carries on."""
    crash: bool = False
    """Before this step's cycles: one cycle in which the process dies after writing the
    in-flight record of its first sale and before the order goes out; the next cycles are
    the restarted process, reading the status it wrote."""
    delete: bool = False
    """The account is deleted: the operator forgets its metrics."""
    expect: Expect | None = None


class Market(ApiModel):
    name: str = "documents"
    seed: int = 7
    faults: list[dict[str, Any]] = Field(default_factory=list)
    """PaperFault entries: reject, rateLimit, unavailable, timeout, latency."""


class Scenario(ApiModel):
    title: str
    story: str
    """What happens, in a sentence or two a trader would write."""
    sources: list[str] = Field(min_length=1)
    """The seed sentences (or issue items) the scenario follows."""
    start: datetime = datetime.fromisoformat("2025-11-16T12:00:00+00:00")
    market: Market = Field(default_factory=Market)
    account: dict[str, Any]
    """The TradingAccount spec, plus ``holdings`` and ``openOrders`` of the paper account;
    ``mode`` must be given."""
    policy: dict[str, Any] = Field(default_factory=dict)
    """Overrides on top of examples/policy.yaml (nested keys merge; lists replace)."""
    steps: list[Step] = Field(default_factory=list)
    policy_rejected: list[str] = Field(default_factory=list)
    """Instead of steps: the policy must be refused with a message naming each of these."""


def load(path: Path) -> Scenario:
    scenario = Scenario.model_validate(yaml.safe_load(path.read_text()))
    if "mode" not in scenario.account:
        raise ValueError(f"{path.name}: account.mode must be given (DryRun or Live)")
    if bool(scenario.steps) == bool(scenario.policy_rejected):
        raise ValueError(f"{path.name}: give either steps or policyRejected")
    account_spec(scenario)
    if not scenario.policy_rejected:
        policy_spec(scenario)
    return scenario


def merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def policy_spec(scenario: Scenario) -> PurgePolicySpec:
    documents = yaml.safe_load((ROOT / "examples" / "policy.yaml").read_text())["spec"]
    return PurgePolicySpec.model_validate(merged(documents, scenario.policy))


def account_spec(scenario: Scenario, edits: dict[str, Any] | None = None) -> TradingAccountSpec:
    spec = {k: v for k, v in scenario.account.items() if k not in ("holdings", "openOrders")}
    paper = {
        "market": scenario.market.name,
        "seed": scenario.market.seed,
        "faults": scenario.market.faults,
        "holdings": scenario.account.get("holdings", {}),
        "openOrders": scenario.account.get("openOrders", []),
    }
    wire = {"policyRef": {"name": "default"}, "exchange": {"name": "paper", "paper": paper}}
    return TradingAccountSpec.model_validate(merged(merged(wire, spec), edits or {}))
