"""What ``once`` and ``liquidate`` do: cycles on the account's paper exchange, simulated time.

The simulated clock starts at ``--now`` (or the wall clock) but never before the paper
exchange's own last instant, so state carried over in ``--state-dir`` never sees time run
backwards. Between ``--until-clean`` cycles the clock moves on by ``intervalSeconds``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from cleanslate.api.account import ExchangeName, Mode, TradingAccount, TradingAccountStatus
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.policy import PurgePolicy, PurgePolicySpec
from cleanslate.cli.manifests import ManifestError, Manifests
from cleanslate.cli.progress import Progress
from cleanslate.cli.report import summarize
from cleanslate.cli.state import StateStore, default_state_dir
from cleanslate.clock import SimulatedClock
from cleanslate.cycle import CycleInputs, CycleOptions, CycleResult, ProductCache, run_cycle
from cleanslate.events import EventList
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange


@dataclass
class OnceRequest:
    account: TradingAccount
    policy: PurgePolicySpec
    state_dir: Path
    now: datetime | None = None
    dry_run: bool = False
    phases: frozenset[int] = frozenset({1, 2, 3, 4})
    until_clean: bool = False
    max_cycles: int = 20
    symbol: str | None = None
    force: bool = False
    retry: frozenset[str] = frozenset()
    unfreeze: frozenset[str] = frozenset()
    progress: TextIO | None = None
    """Where per-slice progress lines go; None (pipes, -o json|yaml) keeps the run quiet."""

    @classmethod
    def from_args(cls, args: argparse.Namespace, manifests: Manifests) -> OnceRequest:
        policy = (manifests.policy or PurgePolicy()).spec
        updates: dict[str, Any] = {}
        if getattr(args, "max_positions", None) is not None:
            updates["max_positions"] = args.max_positions
        if getattr(args, "dust_pct", None) is not None:
            updates["dust"] = policy.dust.model_copy(
                update={"threshold_pct_of_account": args.dust_pct * 100}
            )
        policy = PurgePolicySpec.model_validate({**policy.model_dump(), **updates})
        phases = (
            frozenset({args.phase}) if getattr(args, "phase", None) else frozenset({1, 2, 3, 4})
        )
        verify_only = getattr(args, "verify_only", False)
        return cls(
            account=manifests.account,
            policy=policy,
            state_dir=args.state_dir or default_state_dir(),
            now=args.now,
            dry_run=getattr(args, "dry_run", False) or verify_only,
            phases=frozenset({4}) if verify_only else phases,
            until_clean=getattr(args, "until_clean", False),
            max_cycles=getattr(args, "max_cycles", 20),
            symbol=getattr(args, "symbol", None),
            force=getattr(args, "force", False),
            retry=frozenset(getattr(args, "retry", None) or ()),
            unfreeze=frozenset(getattr(args, "unfreeze", None) or ()),
        )


@dataclass
class Report:
    resource: dict[str, Any]
    summary: str
    results: list[CycleResult] = field(default_factory=list)
    events: EventList = field(default_factory=EventList)


def _identity(account: TradingAccount) -> tuple[str, str]:
    meta = account.metadata
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "account")


def _last_instant(status: TradingAccountStatus) -> datetime:
    """Where the previous run's simulated clock stopped: a replay with the same ``--now``
    must not run time backwards under the orders, fills and backoff records it left."""
    last = status.last_cycle
    if last is None:
        return datetime.min.replace(tzinfo=UTC)
    return last.started_at + timedelta(seconds=float(last.duration_seconds))


class _Session:
    """One invocation: the account, its state, its paper exchange and the simulated clock."""

    def __init__(self, request: OnceRequest) -> None:
        spec = request.account.spec
        if spec.exchange.name is not ExchangeName.PAPER:
            raise ManifestError(
                "spec.exchange.name: the one-shot run works on the paper exchange "
                "only; run the operator for live exchanges"
            )
        self.request = request
        self.namespace, self.name = _identity(request.account)
        self.store = StateStore(request.state_dir, self.namespace, self.name)
        self.status = self.store.load()
        self.events = EventList()
        self.products = ProductCache()
        start = max(request.now or datetime.now(UTC), _last_instant(self.status))
        self.clock = SimulatedClock(start)
        self.exchange: PaperExchange = open_paper_exchange(
            spec.exchange.paper or PaperConfig(),
            self.clock,
            state_dir=self.store.paper_dir,
            account=f"{self.namespace}/{self.name}",
        )
        self.calls = 0
        self.progress = (
            Progress(request.progress, self.clock, request.policy.execution.max_duration_seconds)
            if request.progress is not None
            else None
        )

    async def persist(self, status: TradingAccountStatus) -> None:
        """Before every order placement: save the in-flight record, then show it."""
        await self.store.save(status)
        if self.progress is not None:
            self.progress.update(status)

    def options(self, liquidate: frozenset[str] = frozenset()) -> CycleOptions:
        dry = self.request.dry_run or self.request.account.spec.mode is Mode.DRY_RUN
        return CycleOptions(
            dry_run=dry,
            phases=self.request.phases,
            liquidate=liquidate,
            retry_now=self.request.retry,
            unfreeze=self.request.unfreeze,
        )

    async def cycle(self, options: CycleOptions) -> CycleResult:
        account = self.request.account
        result = await run_cycle(
            CycleInputs(
                account=f"{self.namespace}/{self.name}",
                spec=account.spec,
                policy=self.request.policy,
                status=self.status,
                exchange=self.progress.tap(self.exchange) if self.progress else self.exchange,
                clock=self.clock,
                events=self.events,
                options=options,
                generation=int(str(account.metadata.get("generation") or 1)),
                products=self.products,
                persist=self.persist,
            )
        )
        self.status = result.status
        self.calls += result.api_calls
        if self.progress is not None:
            self.progress.finish(result.outcomes)
        await self.store.save(self.status)
        return result

    async def close(self) -> None:
        await self.exchange.aclose()

    def report(self, results: list[CycleResult]) -> Report:
        resource = self.request.account.model_copy(update={"status": self.status}).to_wire()
        increments = {pid: p.base_increment for pid, p in self.products.products.items()}
        text = summarize(
            resource, self.status, results, self.events, self.calls, self.store.dir, increments
        )
        return Report(resource, text, results, self.events)


async def run_once(request: OnceRequest) -> Report:
    session = _Session(request)
    results: list[CycleResult] = []
    try:
        for number in range(request.max_cycles if request.until_clean else 1):
            if number:
                await session.clock.sleep(request.account.spec.interval_seconds)
            results.append(await session.cycle(session.options()))
            if session.status.account_state and session.status.account_state.value == "Clean":
                break
    finally:
        await session.close()
    return session.report(results)


async def run_liquidate(request: OnceRequest) -> Report:
    """The documents' ``liquidate_holdings.py --symbol X --all [--force]``: one sale through the
    same executor. Without ``--force`` the symbol must be due (no backoff, worth the minimum)."""
    session = _Session(request)
    symbol = request.symbol or ""
    forced = frozenset({symbol}) if request.force else frozenset()
    try:
        # With or without --force every other holding is protected: the command sells the
        # one symbol asked for, never the rest of the account's plan.
        policy = request.policy.model_copy(update={"max_liquidations_per_cycle": 1})
        session.request = _only(request, symbol, policy)
        options = CycleOptions(dry_run=False, phases=frozenset({1, 3, 4}), liquidate=forced)
        result = await session.cycle(options)
    finally:
        await session.close()
    return session.report([result])


def _only(request: OnceRequest, symbol: str, policy: PurgePolicySpec) -> OnceRequest:
    """Liquidate one symbol: treat it as excluded so the planner sells it under every normal
    rule (backoff, minimum value, quote and protected symbols), and protect every other
    holding so nothing else is sold (``--force`` then lifts the rules for this symbol only)."""
    universe = policy.universe.model_copy(
        update={"excluded_symbols": [*policy.universe.excluded_symbols, symbol]}
    )
    spec = request.account.spec
    others = [s for s in _held_symbols(request) if s != symbol]
    protected = [*spec.protected_symbols, *others]
    account = request.account.model_copy(
        update={"spec": spec.model_copy(update={"protected_symbols": protected})}
    )
    policy = policy.model_copy(update={"universe": universe})
    return OnceRequest(**{**request.__dict__, "account": account, "policy": policy})


def _held_symbols(request: OnceRequest) -> list[str]:
    paper = request.account.spec.exchange.paper
    return [f"{asset}-USD" for asset in (paper.holdings if paper else {})]


__all__ = ["OnceRequest", "Report", "run_liquidate", "run_once"]
