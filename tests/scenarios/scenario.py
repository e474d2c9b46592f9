"""The conformance scenarios' format and runner.

A scenario is one YAML file (see ``README.md``): an account on the paper exchange, a policy
(overrides on top of ``examples/policy.yaml``, the documents' defaults), and steps: cycles
to run, time to pass, spec edits, the account's deletion, and what must hold after each.
Every cycle goes through ``run_cycle``, the function the CLI and the operator call, and the
operator's own metric bookkeeping (``Metrics.observe_status``, ``Metrics.forget_account``),
so a scenario that passes here describes what a user sees in ``cleanslate once`` and in the
resource's status and events.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry
from pydantic import Field, ValidationError

from cleanslate.api.account import (
    AccountState,
    Mode,
    PlanAction,
    TradingAccountSpec,
    TradingAccountStatus,
)
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.fields import ApiModel, Duration
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Order, OrderRequest, Side
from cleanslate.cycle import CycleInputs, CycleOptions, ProductCache, run_cycle
from cleanslate.events import Event, EventList, Severity
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange
from cleanslate.exchange.paper.markets import market
from cleanslate.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE, NAME = "scenarios", "account"


# --- the format --------------------------------------------------------------------------


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


# --- the runner --------------------------------------------------------------------------


class Recording:
    """The paper exchange, remembering every order placed (instrumentation, not a fake)."""

    def __init__(self, inner: PaperExchange) -> None:
        self.inner = inner
        self.requests: list[OrderRequest] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place_order(self, request: OrderRequest) -> Order:
        self.requests.append(request)
        return await self.inner.place_order(request)


@dataclass
class Run:
    scenario: Scenario
    clock: SimulatedClock
    spec: TradingAccountSpec
    policy: PurgePolicySpec
    exchange: Recording
    start_holdings: dict[str, Decimal]
    state_dir: Path
    status: TradingAccountStatus = field(default_factory=TradingAccountStatus)
    metrics: Metrics = field(default_factory=lambda: Metrics(CollectorRegistry()))
    products: ProductCache = field(default_factory=ProductCache)
    edits: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    """Events since the last check."""
    log: list[str] = field(default_factory=list)
    """Every event so far, for failure messages."""
    cycles: int = 0

    @classmethod
    def start(cls, scenario: Scenario, state_dir: Path) -> Run:
        clock = SimulatedClock(scenario.start)
        spec = account_spec(scenario)
        paper = _open(spec, clock, state_dir)
        held = {a: Decimal(str(q)) for a, q in scenario.account.get("holdings", {}).items()}
        return cls(scenario, clock, spec, policy_spec(scenario), Recording(paper), held, state_dir)

    async def reopen(self, faults: list[dict[str, Any]]) -> None:
        await self.exchange.inner.aclose()
        config = self.spec.exchange.paper or PaperConfig()
        changed = config.model_copy(
            update={"faults": PaperConfig.model_validate({"faults": faults}).faults}
        )
        spec = self.spec.model_copy(
            update={"exchange": self.spec.exchange.model_copy(update={"paper": changed})}
        )
        self.exchange.inner = _open(spec, self.clock, self.state_dir)

    async def step(self, step: Step) -> None:
        if step.edit is not None:
            self.edits = merged(self.edits, step.edit)
            self.spec = account_spec(self.scenario, self.edits)
        if step.faults is not None:
            await self.reopen(step.faults)
        if step.advance is not None:
            self.clock.advance(step.advance.total_seconds())
        for _ in range(step.cycles or 0):
            await self.cycle(step.options or Options())
        if step.delete:
            self.metrics.forget_account(NAMESPACE, NAME)
        if step.expect is not None:
            await check(self, step.expect)
            self.events = []

    async def cycle(self, options: Options) -> None:
        if self.cycles:
            self.clock.advance(self.spec.interval_seconds)
        self.cycles += 1
        dry = options.dry_run if options.dry_run is not None else self.spec.mode is Mode.DRY_RUN
        events = EventList()
        result = await run_cycle(
            CycleInputs(
                account=f"{NAMESPACE}/{NAME}",
                spec=self.spec,
                policy=self.policy,
                status=self.status,
                exchange=self.exchange,
                clock=self.clock,
                events=events,
                options=CycleOptions(
                    dry_run=dry,
                    liquidate=frozenset(options.liquidate),
                    retry_now=frozenset(options.retry),
                    unfreeze=frozenset(options.unfreeze),
                ),
                generation=1,
                products=self.products,
                metrics=self.metrics,
            )
        )
        self.status = result.status
        self.metrics.observe_status(NAMESPACE, NAME, self.status, self.clock.now())
        self.events += events.events
        self.log += [f"cycle {self.cycles}: {e.reason.value}: {e.message}" for e in events.events]

    async def held(self, asset: str) -> Decimal:
        balances = await self.exchange.inner.balances()
        return sum((b.total for b in balances if b.asset == asset), Decimal(0))

    def placed_sells(self, product_id: str) -> int:
        return sum(
            1 for r in self.exchange.requests if r.product_id == product_id and r.side is Side.SELL
        )

    def describe(self) -> str:
        """What a person would look at: state, plan, blockers, failures, events."""
        s = self.status
        plan = "\n".join(f"  {p.symbol}: {p.action.value}: {p.reason}" for p in s.plan)
        failures = {k: v.failure_count for k, v in s.purge_failures.items()}
        return (
            f"after {self.cycles} cycles: state {s.account_state}\nplan:\n{plan}\n"
            f"blockers: {s.blockers}\nfailures: {failures}\nevents:\n  " + "\n  ".join(self.log)
        )


def _open(spec: TradingAccountSpec, clock: SimulatedClock, state_dir: Path) -> PaperExchange:
    config = spec.exchange.paper or PaperConfig()
    return open_paper_exchange(config, clock, state_dir=state_dir, account=f"{NAMESPACE}/{NAME}")


def refused(scenario: Scenario) -> None:
    """The policy must not validate, and the message must name every field it lists."""
    try:
        policy_spec(scenario)
    except ValidationError as exc:
        missing = [f for f in scenario.policy_rejected if f not in str(exc)]
        if missing:
            raise Unmet(f"{scenario.title}: refused, but not naming {missing}: {exc}") from exc
        return
    raise Unmet(f"{scenario.title}: the policy was accepted")


async def run(scenario: Scenario, state_dir: Path) -> Run | None:
    """Run every step; the paper account is saved under ``state_dir``."""
    if scenario.policy_rejected:
        refused(scenario)
        return None
    state = Run.start(scenario, state_dir)
    try:
        for step in scenario.steps:
            await state.step(step)
    finally:
        await state.exchange.inner.aclose()
    return state


# --- the checks --------------------------------------------------------------------------


class Unmet(AssertionError):
    pass


async def check(run: Run, expect: Expect) -> None:
    problems = [*_status_problems(run, expect), *_event_problems(run, expect)]
    problems += await _holding_problems(run, expect)
    problems += _metric_problems(run, expect)
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        raise Unmet(f"{run.scenario.title}:\n{listed}\n{run.describe()}")


def _status_problems(run: Run, expect: Expect) -> list[str]:
    status, problems = run.status, []
    if expect.state is not None and status.account_state is not expect.state:
        problems.append(f"state is {status.account_state}, expected {expect.state}")
    plan = {p.symbol: p for p in status.plan if p.action is not PlanAction.CANCEL_ORDER}
    for symbol, action in expect.plan.items():
        got = plan[symbol].action if symbol in plan else None
        if got is not action:
            problems.append(f"plan for {symbol} is {got}, expected {action}")
    for symbol, text in expect.plan_reasons.items():
        if symbol not in plan or text not in plan[symbol].reason:
            problems.append(f"plan reason for {symbol} does not mention {text!r}")
    for symbol, count in expect.failures.items():
        record = status.purge_failures.get(symbol)
        got_count = record.failure_count if record else None
        if got_count != count:
            problems.append(f"failure count of {symbol} is {got_count}, expected {count}")
    for text in expect.blockers:
        if not any(text in b for b in status.blockers):
            problems.append(f"no blocker mentions {text!r}")
    for text in expect.no_blockers:
        if any(text in b for b in status.blockers):
            problems.append(f"a blocker mentions {text!r}")
    counters = status.cleanup_metrics.model_dump(by_alias=True)
    for key, value in expect.cleanup.items():
        if Decimal(str(counters[key])) != value:
            problems.append(f"cleanupMetrics.{key} is {counters[key]}, expected {value}")
    for key, value in expect.cleanup_at_least.items():
        if Decimal(str(counters[key])) < value:
            problems.append(f"cleanupMetrics.{key} is {counters[key]}, expected >= {value}")
    return problems


def _matches(event: Event, wanted: EventCheck | str) -> bool:
    if isinstance(wanted, str):
        return event.reason.value == wanted
    return (
        wanted.reason in (None, event.reason.value)
        and wanted.severity in (None, event.severity)
        and wanted.contains in event.message
    )


def _event_problems(run: Run, expect: Expect) -> list[str]:
    problems = []
    for wanted in expect.events:
        if not any(_matches(e, wanted) for e in run.events):
            problems.append(f"no event {wanted} since the last check")
    for unwanted in expect.no_events:
        if any(_matches(e, unwanted) for e in run.events):
            problems.append(f"unexpected event {unwanted} since the last check")
    for counted in expect.event_counts:
        seen = sum(1 for e in run.events if _matches(e, counted))
        if counted.at_most is None or seen > counted.at_most:
            problems.append(f"{seen} events {counted} since the last check")
    return problems


async def _holding_problems(run: Run, expect: Expect) -> list[str]:
    problems = []
    for product in expect.sold:
        asset = product.split("-")[0]
        if await run.held(asset) >= run.start_holdings.get(asset, Decimal(0)):
            problems.append(f"{product} was not sold (still {await run.held(asset)})")
    for product in expect.not_sold:
        asset = product.split("-")[0]
        placed = run.placed_sells(product)
        if placed or await run.held(asset) < run.start_holdings.get(asset, Decimal(0)):
            problems.append(f"{product} was sold ({placed} sell orders placed)")
    for product, most in expect.sell_orders_at_most.items():
        if run.placed_sells(product) > most:
            problems.append(f"{run.placed_sells(product)} sell orders on {product}, max {most}")
    prices = market(run.scenario.market.name).products
    for asset, bounds in expect.held.items():
        quantity = await run.held(asset)
        value = quantity * prices[f"{asset}-USD"].price
        checks = [
            (bounds.min, quantity >= (bounds.min or 0)),
            (bounds.max, quantity <= (bounds.max or 0)),
            (bounds.min_usd, value >= (bounds.min_usd or 0)),
            (bounds.max_usd, value <= (bounds.max_usd or 0)),
        ]
        if any(bound is not None and not ok for bound, ok in checks):
            problems.append(f"{asset}: {quantity} held (~${value:.2f}), expected {bounds}")
    return problems


def _metric_problems(run: Run, expect: Expect) -> list[str]:
    problems = []
    for wanted in expect.metrics:
        labels = {"namespace": NAMESPACE, "account": NAME, **wanted.labels}
        got = run.metrics.registry.get_sample_value(wanted.name, labels)
        if got != wanted.value:
            problems.append(f"{wanted.name}{wanted.labels} is {got}, expected {wanted.value}")
    return problems
