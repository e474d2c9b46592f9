"""What ``once`` and ``liquidate`` do: cycles on the account's paper exchange, simulated time.

The simulated clock starts at ``--now`` (or the wall clock) but never before the paper
exchange's own last instant, so state carried over in ``--state-dir`` never sees time run
backwards. Between ``--until-clean`` cycles the clock moves on by ``intervalSeconds``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from cleanslate.api.account import Mode, TradingAccount, TradingAccountStatus
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.policy import PurgePolicy, PurgePolicySpec
from cleanslate.cli.manifests import ManifestError, Manifests
from cleanslate.cli.progress import Progress
from cleanslate.cli.report import summarize
from cleanslate.cli.state import StateError, StateStore, default_state_dir
from cleanslate.clock import SimulatedClock
from cleanslate.cycle import (
    CycleInputs,
    CycleOptions,
    CycleResult,
    reporting,
    run_cycle,
)
from cleanslate.events import Event, EventList, Reason
from cleanslate.exchange.marketdata import MarketData
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange
from cleanslate.exchange.paper.persistence import state_file as paper_state_file
from cleanslate.exchange.venues import venue_of
from cleanslate.execution.stopping import stop_in_flight

DAMAGED_PAPER_STATE = (ValueError, KeyError, TypeError, AttributeError, IndexError, ArithmeticError)
"""What reading a damaged paper state file raises (JSON, keys, types, numbers)."""


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
                update={"threshold_pct_of_account": args.dust_pct}
            )
        try:
            policy = PurgePolicySpec.model_validate({**policy.model_dump(), **updates})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ManifestError(
                f"flags: {'.'.join(map(str, first['loc']))}: {first['msg']}"
            ) from None
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
        if not venue_of(spec.exchange.name).simulated:
            raise ManifestError(
                "spec.exchange.name: the one-shot run works on the paper exchange "
                "only; run the operator for live exchanges"
            )
        self.request = request
        self.namespace, self.name = _identity(request.account)
        self.store = StateStore(request.state_dir, self.namespace, self.name)
        self.store.lock()
        try:
            self.status = self.store.load()
            self.events = EventList()
            self.market = MarketData()
            start = max(request.now or datetime.now(UTC), _last_instant(self.status))
            self.clock = SimulatedClock(start)
            self.exchange: PaperExchange = self._open_paper(spec.exchange.paper or PaperConfig())
        except BaseException:
            self.store.unlock()
            raise
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

    def _open_paper(self, config: PaperConfig) -> PaperExchange:
        """The account's paper exchange; a damaged saved state is a one-line error."""
        account = f"{self.namespace}/{self.name}"
        path = paper_state_file(self.store.paper_dir, account)
        try:
            return open_paper_exchange(
                config, self.clock, state_dir=self.store.paper_dir, account=account
            )
        except UnicodeDecodeError:
            raise StateError(f"{path}: not UTF-8 text: damaged paper state") from None
        except OSError as exc:
            raise StateError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except DAMAGED_PAPER_STATE as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise StateError(f"{path}: damaged paper state: {detail}"[:300]) from None
        except RecursionError:
            raise StateError(f"{path}: damaged paper state: nested too deeply") from None

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
                market=self.market,
                persist=self.persist,
            )
        )
        self.status = result.status
        self.calls += result.api_calls
        if self.progress is not None:
            self.progress.finish(result.outcomes)
        await self.store.save(self.status)
        return result

    async def suspend(self) -> None:
        """``spec.suspend: true``, as the operator does it: cancel the orders cleanslate
        placed, stop purges left in flight, and record the Suspended state; nothing is sold."""
        orders = await self.exchange.open_orders()
        ours = [o.order_id for o in orders if o.client_order_id.startswith("cs-")]
        cancelled = await self.exchange.cancel_orders(ours) if ours else []
        account = f"{self.namespace}/{self.name}"
        for symbol, flight in sorted(self.status.in_flight.items()):
            await stop_in_flight(self.exchange, account, symbol, flight)
        self.events.emit(
            Event(
                Reason.SUSPENDED,
                f"suspended: trading stopped, {len(cancelled)} open orders placed by "
                "cleanslate cancelled",
            )
        )
        generation = int(str(self.request.account.metadata.get("generation") or 1))
        status = self.status.model_copy(update={"in_flight": {}})
        self.status = reporting.suspended(status, [], self.clock.now(), generation)
        await self.store.save(self.status)

    async def close(self) -> None:
        try:
            await self.exchange.aclose()
        finally:
            self.store.unlock()

    def report(self, results: list[CycleResult]) -> Report:
        resource = self.request.account.model_copy(update={"status": self.status}).to_wire()
        increments = {pid: p.base_increment for pid, p in self.market.cached_products.items()}
        text = summarize(
            resource, self.status, results, self.events, self.calls, self.store.dir, increments
        )
        return Report(resource, text, results, self.events)


async def run_once(request: OnceRequest) -> Report:
    session = _Session(request)
    results: list[CycleResult] = []
    try:
        if request.account.spec.suspend and not session.options().dry_run:
            await session.suspend()
            return session.report(results)
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
    same executor. Without ``--force`` the symbol must be due (no backoff, worth the minimum).
    Like the operator's ``liquidate`` annotation it refuses a DryRun or suspended account."""
    spec = request.account.spec
    if spec.suspend:
        raise ManifestError("spec.suspend: the account is suspended; liquidate places no order")
    if spec.mode is Mode.DRY_RUN:
        raise ManifestError(
            "spec.mode: the account is in DryRun; liquidate places no order (set mode: Live)"
        )
    session = _Session(request)
    symbol = request.symbol or ""
    forced = frozenset({symbol}) if request.force else frozenset()
    try:
        # With or without --force every other holding the account has now is protected: the
        # command sells the one symbol asked for, never the rest of the account's plan.
        held = {b.asset for b in await session.exchange.balances() if b.total > 0}
        policy = request.policy.model_copy(update={"max_liquidations_per_cycle": 1})
        session.request = _only(request, symbol, policy, held)
        options = CycleOptions(
            dry_run=False, phases=frozenset({1, 3}), liquidate=forced, only=symbol
        )
        before, mark = session.status.account_state, len(session.events.events)
        result = await session.cycle(options)
        # The sale ran under a spec that protects everything else, so its verdict says nothing
        # about the account: it is dropped, and the account is judged, and its status recorded,
        # under its own spec and policy, never CLEAN while its real plan would still sell.
        session.events.events[mark:] = [
            _as_asked(e, symbol)
            for e in session.events.events[mark:]
            if e.reason not in _VERDICT_EVENTS
        ]
        session.status = session.status.model_copy(update={"account_state": before})
        session.request = request
        verdict = await session.cycle(CycleOptions(dry_run=False, phases=frozenset({1, 4})))
    finally:
        await session.close()
    return session.report([result, verdict])


_VERDICT_EVENTS = frozenset({Reason.ACCOUNT_CLEAN, Reason.ACCOUNT_DIRTY})
_EXCLUDED = "excluded: listed in universe.excludedSymbols"
"""The planner's reason for the symbol ``_only`` excludes; the person never listed it."""


def _as_asked(event: Event, symbol: str) -> Event:
    """The event as the person asked: the sale is ``liquidate``, not an exclusion the
    account's policy does not have."""
    if _EXCLUDED not in event.message:
        return event
    return replace(event, message=event.message.replace(_EXCLUDED, f"liquidate {symbol} by hand"))


def _only(
    request: OnceRequest, symbol: str, policy: PurgePolicySpec, held: set[str]
) -> OnceRequest:
    """Liquidate one symbol: treat it as excluded so the planner sells it under every normal
    rule (backoff, minimum value, quote and protected symbols), and protect every other
    holding so nothing else is sold (``--force`` then lifts the rules for this symbol only)."""
    universe = policy.universe.model_copy(
        update={"excluded_symbols": [*policy.universe.excluded_symbols, symbol]}
    )
    spec = request.account.spec
    base = symbol.split("-")[0]
    protected = [*spec.protected_symbols, *sorted(a for a in held if a != base)]
    account = request.account.model_copy(
        update={"spec": spec.model_copy(update={"protected_symbols": protected})}
    )
    policy = policy.model_copy(update={"universe": universe})
    return OnceRequest(**{**request.__dict__, "account": account, "policy": policy})


__all__ = ["OnceRequest", "Report", "run_liquidate", "run_once"]
