"""Coinbase accounts on one origin share public market data: counted where requests leave
the process (``CountingTransport``), through the cycle the operator runs."""

from __future__ import annotations

import importlib.util
import random
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from cleanslate.api.account import Category, Mode, TradingAccountSpec, TradingAccountStatus
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import SimulatedClock
from cleanslate.cycle import CycleInputs, CycleOptions, CycleResult, run_cycle
from cleanslate.events import EventList
from cleanslate.exchange.coinbase import CoinbaseExchange, Credentials, make_client
from cleanslate.exchange.coinbase.counting import CountingTransport, route
from cleanslate.exchange.marketdata import MarketData, SharedMarkets
from cleanslate.metrics import Metrics
from cleanslate.operating import workers
from cleanslate.operating.workers import AccountWorker, WorkerConfig

from . import fixtures as fx
from .fake_venue import FakeCoinbase

BASE = "https://api.coinbase.com"
KEEP_ALL = TradingAccountSpec.model_validate(
    {"policyRef": {"name": "p"}, "mode": "Live",
     "exchange": {"name": "coinbase", "credentialsSecretRef": {"name": "k"}},
     "protectedSymbols": ["SEI-USD", "BONK-USD", "BTC-USD"]}
)  # fmt: skip


def _adapter(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> tuple[CoinbaseExchange, CountingTransport]:
    transport = CountingTransport(venue.transport())
    adapter = CoinbaseExchange(
        make_client(BASE, transport=transport), credentials, clock, read_only=False,
        base_url=BASE, rng=random.Random(1),
    )  # fmt: skip
    return adapter, transport


async def _cycle(
    exchange: CoinbaseExchange,
    market: MarketData,
    clock: SimulatedClock,
    spec: TradingAccountSpec = KEEP_ALL,
    policy: PurgePolicySpec | None = None,
) -> CycleResult:
    return await run_cycle(
        CycleInputs(
            account="trading/main", spec=spec, policy=policy or PurgePolicySpec(),
            status=TradingAccountStatus(), exchange=exchange, clock=clock, events=EventList(),
            options=CycleOptions(dry_run=False), generation=1, market=market,
        )
    )  # fmt: skip


def test_routes_collapse_ids_and_tell_public_from_private() -> None:
    prefix = "/api/v3/brokerage"
    assert route(f"{prefix}/products/SEI-USD") == "/products/{id}"
    assert route(f"{prefix}/market/products/SEI-USD") == "/products/{id}"
    assert route(f"{prefix}/orders/historical/ord-1") == "/orders/historical/{id}"
    assert route(f"{prefix}/orders/historical/batch") == "/orders/historical/batch"
    assert route(f"{prefix}/product_book") == "/product_book"


async def test_a_second_account_on_a_warm_market_makes_no_public_request(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> None:
    market = SharedMarkets(timedelta(seconds=30)).for_exchange(
        _adapter(venue, credentials, clock)[0], clock
    )
    first, first_counts = _adapter(venue, credentials, clock)
    second, second_counts = _adapter(venue, credentials, clock)

    await _cycle(first, market, clock)
    clock.advance(10)
    result = await _cycle(second, market, clock)

    assert result.error is None
    assert first_counts.public > 0, "the first account pays for the market"
    assert second_counts.public == 0, second_counts.by_route
    assert second_counts.private == first_counts.private > 0, "its own data, always asked"
    await first.aclose()
    await second.aclose()


async def test_without_sharing_every_account_pays_for_its_own_market_data(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> None:
    shared = SharedMarkets(timedelta(0))
    first, first_counts = _adapter(venue, credentials, clock)
    second, second_counts = _adapter(venue, credentials, clock)

    await _cycle(first, shared.for_exchange(first, clock), clock)
    await _cycle(second, shared.for_exchange(second, clock), clock)

    assert second_counts.public == first_counts.public > 0
    await first.aclose()
    await second.aclose()


async def test_the_twap_prices_from_its_own_fresh_quote_not_the_shared_one(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> None:
    """The cache holds SEI at 0.1562/0.1564; the book then moves to 0.1600/0.1602. A purge
    priced from the cached quote would post a sell at 0.1564, through the new bid; the
    executor's own quote prices it from the book as it is."""
    market = MarketData("coinbase@" + BASE, quote_max_age=timedelta(seconds=30))
    warm, _ = _adapter(venue, credentials, clock)
    await _cycle(warm, market, clock)
    venue.books["SEI-USD"] = ([fx.level("0.1600", "5000")], [fx.level("0.1602", "4000")])
    clock.advance(5)
    seller, counts = _adapter(venue, credentials, clock)
    spec = KEEP_ALL.model_copy(update={"protected_symbols": ["BONK-USD", "BTC-USD"]})
    policy = PurgePolicySpec.model_validate({"universe": {"excludedSymbols": ["SEI-USD"]}})

    result = await _cycle(seller, market, clock, spec, policy)

    sells = [o for o in venue.orders.values() if o["product_id"] == "SEI-USD"]
    assert sells, result.error
    (first,) = sells[0]["order_configuration"].values()
    assert first["post_only"] is True
    assert Decimal("0.1600") < Decimal(first["limit_price"]) <= Decimal("0.1602"), (
        "priced inside the book as it is now, not from the cached 0.1562/0.1564"
    )
    assert counts.by_route[("GET", "/product_book")] >= 1, "the executor read the book itself"
    await warm.aclose()
    await seller.aclose()


class Regional:
    """Another account's adapter whose region does not list SEI-USD."""

    def __init__(self, inner: CoinbaseExchange) -> None:
        self.inner = inner

    async def products(self) -> list[Any]:
        return [p for p in await self.inner.products() if p.product_id != "SEI-USD"]


async def test_a_product_missing_from_the_shared_list_is_asked_of_the_accounts_own_venue(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> None:
    """Another account's list is no proof that SEI is gone for this one: an unknown product
    is a zombie, market-closed, so only the account's own venue may say so."""
    market = MarketData("coinbase@" + BASE, quote_max_age=timedelta(seconds=30))
    other, _ = _adapter(venue, credentials, clock)
    await market.products(Regional(other), clock.now())  # type: ignore[arg-type]
    mine, counts = _adapter(venue, credentials, clock)
    spec = KEEP_ALL.model_copy(update={"protected_symbols": [], "mode": Mode.DRY_RUN})

    result = await _cycle(mine, market, clock, spec)

    sei = next(p for p in result.status.positions if p.symbol == "SEI-USD")
    assert sei.value_usd is not None and sei.category is not Category.ZOMBIE, sei
    assert counts.by_route[("GET", "/products/{id}")] >= 1
    assert "SEI-USD" not in market.cached_products, "its own answer is not shared"
    await other.aclose()
    await mine.aclose()


async def test_a_product_its_own_venue_does_not_know_is_unknown_as_before(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> None:
    market = MarketData("coinbase@" + BASE, quote_max_age=timedelta(seconds=30))
    mine, _ = _adapter(venue, credentials, clock)
    venue.add_account("GONE", "50")
    spec = KEEP_ALL.model_copy(update={"mode": Mode.DRY_RUN})

    result = await _cycle(mine, market, clock, spec)

    gone = next(p for p in result.status.positions if p.symbol == "GONE-USD")
    assert gone.value_usd is None and gone.category is Category.ZOMBIE, gone
    await mine.aclose()


async def test_the_operator_hands_accounts_on_one_origin_one_market(
    tmp_path: Path,
    venue: FakeCoinbase,
    credentials: Credentials,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fake_build(*_: Any, **__: Any) -> CoinbaseExchange:
        return _adapter(venue, credentials, clock)[0]

    monkeypatch.setattr(workers, "build_exchange", fake_build)
    config = WorkerConfig(tmp_path, Metrics(CollectorRegistry()), None)
    accounts = [AccountWorker("trading", f"a{i}", config, EventList()) for i in range(3)]
    for worker in accounts:
        await worker._ensure_exchange(KEEP_ALL)

    assert accounts[0].market is accounts[1].market is accounts[2].market
    assert accounts[0].market.identity == "coinbase@https://api.coinbase.com"
    assert accounts[0].market.quote_max_age == timedelta(seconds=30)
    for worker in accounts:
        await worker.close()


def _benchmark() -> ModuleType:
    path = Path(__file__).parents[3] / "benchmarks" / "market_data.py"
    spec = importlib.util.spec_from_file_location("market_data_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("market_data_benchmark", module)
    spec.loader.exec_module(module)
    return module


async def test_the_benchmark_counts_fewer_public_requests_with_sharing_and_the_same_private() -> (
    None
):
    bench = _benchmark()

    before = await bench.coinbase(4, 3, 60.0, 0.0)
    after = await bench.coinbase(4, 3, 60.0, 30.0)
    paper_before = await bench.paper(4, 3, 60.0, 0.0)
    paper_after = await bench.paper(4, 3, 60.0, 30.0)

    assert before.cycles == after.cycles == 12 and before.errors == after.errors == 0
    assert 0 < after.public < before.public
    assert after.private == before.private > 0
    assert (paper_after.public, paper_after.private) == (paper_before.public, paper_before.private)
    assert paper_before.public > 0 and paper_before.private > 0
    rows = [bench.Row("coinbase", 4, before, after, 0.0)]
    assert "coinbase" in bench.table(rows) and "req/s" in bench.limit_share(rows, 1000, 60.0)
