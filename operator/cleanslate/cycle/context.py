"""What a cycle takes and gives back."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cleanslate.api.account import TradingAccountSpec, TradingAccountStatus
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.core.conditions import Desired
from cleanslate.core.planning import CyclePlan
from cleanslate.core.twap import TwapOutcome
from cleanslate.core.verification import Verification
from cleanslate.events import EventSink
from cleanslate.exchange.marketdata import MarketData
from cleanslate.exchange.port import Exchange
from cleanslate.metrics import Metrics

PersistStatus = Callable[[TradingAccountStatus], Awaitable[None]]
ALL_PHASES = frozenset({1, 2, 3, 4})


@dataclass(frozen=True, slots=True)
class CycleOptions:
    """How this cycle runs; the operator derives it from spec and annotations, the CLI from
    its flags."""

    dry_run: bool = True
    phases: frozenset[int] = ALL_PHASES
    """Phases to run: 1 classify, 2 cancel stale orders, 3 controlled exit, 4 verify."""
    retry_now: frozenset[str] = frozenset()
    """Symbols whose purge backoff is cleared before planning (manual retry)."""
    unfreeze: frozenset[str] = frozenset()
    """Symbols unfrozen before planning (manual unfreeze)."""
    liquidate: frozenset[str] = frozenset()
    """Symbols sold now whatever their backoff or value (``liquidate --force``); never a
    quote currency or protected symbol."""
    only: str | None = None
    """``liquidate --symbol``: the one product this cycle may sell; every other holding and
    every other in-flight purge is left as it is."""
    hold_orders: bool = False
    """Place no order (the venue's clock is beyond the platform's bound, ``core.clock_sync``):
    stale orders are still cancelled; a purge left in flight waits, its record kept."""


@dataclass
class CycleInputs:
    account: str
    """``namespace/name``: the key client order ids derive from."""
    spec: TradingAccountSpec
    policy: PurgePolicySpec
    status: TradingAccountStatus
    exchange: Exchange
    clock: Clock
    """The real clock (a simulation's own in the CLI): durations, budgets and every
    timestamp the status, events and metrics carry."""
    events: EventSink
    options: CycleOptions = field(default_factory=CycleOptions)
    generation: int | None = None
    market: MarketData = field(default_factory=MarketData)
    """Public market data the cycle classifies with: shared by every account on the same
    market in the operator (``SharedMarkets``), the account's own otherwise."""
    persist: PersistStatus | None = None
    """Awaited with the working status before every order placement, so a crash never
    forgets an order that may exist."""
    metrics: Metrics | None = None
    extra_conditions: tuple[Desired, ...] = ()
    """Conditions the caller owns (PolicyResolved, CredentialsReady)."""
    venue_clock: Clock | None = None
    """The venue's clock, when it is not ``clock``: a paper account's simulated time in the
    operator. The TWAP's waits, balance retries and the snapshot of the venue run on it;
    nothing in status is measured with it except the venue's own times (order ages,
    ``inFlight.startedAt``, a purge's ``durationSeconds`` on the venue)."""
    new_epoch: Callable[[], str] = field(default=lambda: secrets.token_hex(8))
    """A fresh epoch for each new purge's client order ids: random, so a lost or restored
    status (attempts restarting at 1) never derives an id the exchange has seen."""

    @property
    def venue(self) -> Clock:
        return self.venue_clock or self.clock


@dataclass
class CycleResult:
    status: TradingAccountStatus
    plan: CyclePlan | None = None
    verification: Verification | None = None
    outcomes: dict[str, TwapOutcome] = field(default_factory=dict)
    api_calls: int = 0
    over_budget: bool = False
    error: str | None = None


PUBLIC_CALLS = frozenset({"products", "product", "quote", "book"})
"""Port methods whose answer is the same for every account on the venue (market data)."""


UNCOUNTED = frozenset({"aclose", "dust_terms"})
"""Methods passed through as they are: no request (``dust_terms`` is the adapter's data and
not a coroutine)."""


class CountingExchange:
    """The port with a call counter in front: the CLI reports the requests a run made, and
    the market-data benchmark tells public (``PUBLIC_CALLS``) from private ones."""

    def __init__(self, inner: Exchange) -> None:
        self.inner = inner
        self.calls = 0
        self.public_calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute) or name.startswith("_") or name in UNCOUNTED:
            return attribute

        public = name in PUBLIC_CALLS

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.public_calls += public
            return await attribute(*args, **kwargs)

        return counted
