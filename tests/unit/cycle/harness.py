"""Shared pieces for cycle tests: a small account on the paper exchange, on simulated time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.account import PaperFault, TradingAccountSpec, TradingAccountStatus
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Order, OrderRequest
from cleanslate.cycle import CycleInputs, CycleOptions, CycleResult, run_cycle
from cleanslate.events import EventList
from cleanslate.exchange.marketdata import MarketData
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange

D = Decimal
ACCOUNT = "ns/acct"


def account_spec(
    holdings: dict[str, str],
    *,
    market: str = "documents",
    faults: Sequence[PaperFault] = (),
    mode: str = "Live",
    seed: int = 7,
    open_orders: Sequence[dict[str, Any]] = (),
    model: str | None = None,
    **extra: Any,
) -> TradingAccountSpec:
    """A Live account on the paper exchange holding ``holdings`` (asset -> quantity), on the
    paper market's default model unless a test about one market behaviour pins ``model``."""
    return TradingAccountSpec.model_validate(
        {
            "policyRef": {"name": "default"},
            "mode": mode,
            "exchange": {
                "name": "paper",
                "paper": {
                    "seed": seed,
                    "market": market,
                    "holdings": holdings,
                    "faults": [f.model_dump(mode="json", by_alias=True) for f in faults],
                    "openOrders": list(open_orders),
                    **({"model": model} if model else {}),
                },
            },
            **extra,
        }
    )


def policy(**overrides: Any) -> PurgePolicySpec:
    """The documents' defaults (as in examples/policy.yaml) with ``overrides`` on top, the
    TWAP's pace pinned to ``fixed``: these tests are about the documents' maker-first
    purges (resting orders, restarts mid-slice, backoff) on SEI and WLFI, whose 45 bps
    spreads the adaptive pace would sell at once (``core.pace``; its own tests are in
    tests/unit/core/test_twap_pace.py and test_concurrent_purges.py)."""
    execution = {"pace": "fixed", **overrides.pop("execution", {})}
    base: dict[str, Any] = {
        "execution": execution,
        "universe": {
            "globalMinQuoteVolumeUsd": 3000000,
            "tiers": [
                {
                    "name": "tier3-event",
                    "symbols": ["SEI-USD", "WLFI-USD", "BONK-USD"],
                    "minQuoteVolumeUsd": 2000000,
                    "maxSpreadBps": 100,
                    "minDepthUsd": 5000,
                }
            ],
        },
    }
    return PurgePolicySpec.model_validate({**base, **overrides})


class Recording:
    """The paper exchange, recording every placement (instrumentation, not a fake)."""

    def __init__(self, inner: PaperExchange, crash_after_place: int | None = None) -> None:
        self.inner = inner
        self.requests: list[OrderRequest] = []
        self.answered: list[bool] = []
        """Per request: whether the placement returned an order (False: it raised)."""
        self.crash_after_place = crash_after_place

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place_order(self, request: OrderRequest) -> Order:
        self.requests.append(request)
        self.answered.append(False)
        order = await self.inner.place_order(request)
        if self.crash_after_place is not None and len(self.requests) >= self.crash_after_place:
            raise ProcessDied
        self.answered[-1] = True
        return order


class ProcessDied(BaseException):
    """The process is killed: no cleanup code runs (a BaseException, so nothing that handles
    errors catches it)."""


@dataclass
class Rig:
    """One account: its spec, policy, paper exchange and the status carried between cycles."""

    spec: TradingAccountSpec
    policy: PurgePolicySpec
    clock: SimulatedClock = field(default_factory=SimulatedClock)
    state_dir: Path | None = None
    status: TradingAccountStatus = field(default_factory=TradingAccountStatus)
    events: EventList = field(default_factory=EventList)
    market: MarketData = field(default_factory=MarketData)
    persisted: list[TradingAccountStatus] = field(default_factory=list)
    exchange: Recording = field(init=False)

    def __post_init__(self) -> None:
        self.exchange = Recording(self.open())

    def open(self) -> PaperExchange:
        config = self.spec.exchange.paper or PaperConfig()
        return open_paper_exchange(config, self.clock, state_dir=self.state_dir, account=ACCOUNT)

    async def persist(self, status: TradingAccountStatus) -> None:
        self.persisted.append(status)

    async def cycle(self, options: CycleOptions | None = None, **kw: Any) -> CycleResult:
        """Run one cycle with fresh events; the status carries over."""
        self.events = EventList()
        result = await run_cycle(
            CycleInputs(
                account=ACCOUNT,
                spec=self.spec,
                policy=self.policy,
                status=self.status,
                exchange=self.exchange,
                clock=self.clock,
                events=self.events,
                options=options or CycleOptions(dry_run=False),
                generation=1,
                market=self.market,
                persist=self.persist,
                **kw,
            )
        )
        self.status = result.status
        return result

    def wait_interval(self) -> None:
        self.clock.advance(self.spec.interval_seconds)

    async def held(self, asset: str) -> Decimal:
        balances = await self.exchange.inner.balances()
        return sum((b.total for b in balances if b.asset == asset), D(0))

    def sold(self, product_id: str) -> list[OrderRequest]:
        return [r for r in self.exchange.requests if r.product_id == product_id]
