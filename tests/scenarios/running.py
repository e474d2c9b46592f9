"""Runs a scenario: every cycle through ``run_cycle``, the function the CLI and the operator
call, on the seeded paper exchange and a simulated clock, with the operator's metric
bookkeeping (``Metrics.observe_status`` after each cycle, ``Metrics.forget_account`` on
deletion). So a scenario that passes describes what a user sees in ``cleanslate once`` and
in the resource's status, events and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from cleanslate.api.account import Mode, TradingAccountSpec, TradingAccountStatus
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Order, OrderRequest, Side
from cleanslate.cycle import CycleInputs, CycleOptions, run_cycle
from cleanslate.events import Event, EventList
from cleanslate.exchange.marketdata import MarketData
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange
from cleanslate.metrics import Metrics

from .checks import Unmet, check
from .schema import NAME, NAMESPACE, Options, Scenario, Step, account_spec, merged, policy_spec


class Recording:
    """The paper exchange, remembering every order placed (instrumentation, not a fake)."""

    def __init__(self, inner: PaperExchange) -> None:
        self.inner = inner
        self.requests: list[OrderRequest] = []
        self.die_before_place = False
        """The process dies at the next placement, before the order goes out."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place_order(self, request: OrderRequest) -> Order:
        if self.die_before_place:
            self.die_before_place = False
            raise ProcessDied
        self.requests.append(request)
        return await self.inner.place_order(request)


class ProcessDied(BaseException):
    """The process is killed: no cleanup runs (a BaseException, so no error handler sees it)."""


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
    market: MarketData = field(default_factory=MarketData)
    edits: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    """Events since the last check."""
    log: list[str] = field(default_factory=list)
    """Every event so far, for failure messages."""
    cycles: int = 0
    persisted: TradingAccountStatus | None = None
    """The status as last written before an order was placed (the in-flight record)."""

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
        if step.crash:
            await self.crash()
        for _ in range(step.cycles or 0):
            await self.cycle(step.options or Options())
        if step.delete:
            self.metrics.forget_account(NAMESPACE, NAME)
        if step.expect is not None:
            await check(self, step.expect)
            self.events = []

    async def crash(self) -> None:
        """One cycle in which the process dies just before its first order goes out, after
        writing the in-flight record; the restarted process reads the status it wrote."""
        self.exchange.die_before_place = True
        try:
            await self.cycle(Options())
        except ProcessDied:
            self.log.append(f"cycle {self.cycles}: the process died before placing an order")
        else:
            raise AssertionError("crash: the cycle placed no order to die before")
        self.status = self.persisted or self.status
        await self.reopen(list(self.scenario.market.faults))

    async def persist(self, status: TradingAccountStatus) -> None:
        self.persisted = status

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
                market=self.market,
                metrics=self.metrics,
                persist=self.persist,
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
