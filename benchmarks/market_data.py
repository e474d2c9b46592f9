"""Exchange requests per account-cycle, before and after sharing public market data.

Usage: ``python benchmarks/market_data.py [--accounts 1 10 100 1000] [--rounds 10]
[--interval 60] [--max-age 30]``

N accounts run their cycles in-process through ``run_cycle``, the function the operator's
workers call, on one simulated clock: every round all N cycles run at once (so accounts that
find the cache cold together exercise the single flight), then the clock moves on by
``--interval``. Ten rounds of 60 s span the product list's ten-minute lifetime, so the
averages include its refresh. Each account holds the same coins and keeps them
(``protectedSymbols``): a steady no-op cycle, which is what nearly every account-cycle is.

* **Coinbase**: one key, each account its own adapter and HTTP client, all sending through a
  ``CountingTransport`` around the fake venue of the unit tests
  (``tests/unit/coinbase/fake_venue.py``), which checks each request's JWT. Requests are
  counted where they leave the process, by route; *public* routes (products, product book,
  best bid/ask, server time) answer the same to every account, *private* ones are the
  account's own. The adapters' token buckets are opened wide so the count, not the pacing,
  is measured.
* **Paper**: each account its own simulated venue; port calls are counted (there is no HTTP),
  market-data methods as public. Paper accounts do not share (each paper market is its own:
  ``exchange/marketdata.py``), so before and after are the same by design, and printed.

"before" runs with sharing off (``--market-data-max-age-seconds 0``: each account fetches its
own quotes and keeps its own product list, as the operator did before), "after" with the
default bound. No timing is asserted anywhere; the figures are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.account import TradingAccountSpec, TradingAccountStatus
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import SimulatedClock
from cleanslate.cycle import CycleInputs, CycleOptions, run_cycle
from cleanslate.cycle.context import CountingExchange
from cleanslate.events import EventList
from cleanslate.exchange.coinbase import CoinbaseExchange, Credentials, make_client
from cleanslate.exchange.coinbase.counting import CountingTransport
from cleanslate.exchange.coinbase.ratelimit import TokenBucket
from cleanslate.exchange.marketdata import DEFAULT_QUOTE_MAX_AGE, SharedMarkets
from cleanslate.exchange.paper import open_paper_exchange
from cleanslate.exchange.port import Exchange

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake Coinbase venue lives with the unit tests

from tests.unit.coinbase import fixtures as fx  # noqa: E402
from tests.unit.coinbase.fake_venue import FakeCoinbase  # noqa: E402

BASE_URL = "https://api.coinbase.com"
LIMITS_URL = "https://docs.cdp.coinbase.com/advanced-trade/docs/rest-api-rate-limits"
"""Coinbase Advanced Trade "REST API Rate Limits" (formerly docs.cloud.coinbase.com/
advanced-trade/docs/rest-api-rate-limits): private endpoints 30 requests/s per user, public
endpoints 10 requests/s per IP. Checked for this benchmark through the API-Commons summary
of that page (https://rate-limits.apis.io/rate-limits/coinbase/coinbase-rate-limits/)."""
PRIVATE_LIMIT_PER_SECOND = 30.0
PUBLIC_LIMIT_PER_SECOND = 10.0
HELD = ("SEI", "BONK", "BTC")
"""Coins every benchmark account holds and keeps (three quotes per cycle)."""
UNLIMITED = 1e9


@dataclass
class Counts:
    """Requests over ``cycles`` account-cycles."""

    public: int = 0
    private: int = 0
    cycles: int = 0
    errors: int = 0

    def per_cycle(self, kind: str) -> float:
        return float(getattr(self, kind)) / self.cycles if self.cycles else 0.0


def _spec(exchange: dict[str, Any]) -> TradingAccountSpec:
    return TradingAccountSpec.model_validate(
        {
            "policyRef": {"name": "bench"},
            "mode": "Live",
            "exchange": exchange,
            "protectedSymbols": [f"{coin}-USD" for coin in HELD],
        }
    )


POLICY = PurgePolicySpec.model_validate({})


async def _rounds(
    exchanges: list[Exchange],
    markets: SharedMarkets,
    spec: TradingAccountSpec,
    clock: SimulatedClock,
    rounds: int,
    interval: float,
) -> int:
    """Run ``rounds`` rounds of one cycle per account; returns the cycles that failed."""
    market = [markets.for_exchange(exchange, clock) for exchange in exchanges]
    statuses = [TradingAccountStatus() for _ in exchanges]
    failed = 0
    for _ in range(rounds):
        results = await asyncio.gather(
            *(
                run_cycle(
                    CycleInputs(
                        account=f"bench/acct-{i}",
                        spec=spec,
                        policy=POLICY,
                        status=statuses[i],
                        exchange=exchange,
                        clock=clock,
                        events=EventList(),
                        options=CycleOptions(dry_run=False),
                        generation=1,
                        market=market[i],
                    )
                )
                for i, exchange in enumerate(exchanges)
            )
        )
        statuses = [r.status for r in results]
        failed += sum(r.error is not None for r in results)
        clock.advance(interval)
    return failed


def seed_venue(venue: FakeCoinbase) -> None:
    """The unit tests' Coinbase market, every account holding the same coins."""
    venue.page_size = 250  # Coinbase's page: one List Accounts request per balance read
    venue.add_account("USD", "120.50")
    venue.add_account("SEI", "36.4")
    venue.add_account("BONK", "889587")
    venue.add_account("BTC", "0.0021")
    venue.add_product(
        fx.product("SEI-USD", "0.1563", base_increment="0.1"),
        bids=[("0.1562", "5000"), ("0.1560", "8000")],
        asks=[("0.1564", "4000")],
    )
    venue.add_product(
        fx.product("BONK-USD", "0.00001066", base_increment="1", base_min_size="1",
                   quote_increment="0.00000001"),
        bids=[("0.00001065", "50000000")],
        asks=[("0.00001067", "40000000")],
    )  # fmt: skip
    venue.add_product(
        fx.product("BTC-USD", "95000.00", base_increment="0.00000001", quote_increment="0.01"),
        bids=[("94999.99", "0.5")],
        asks=[("95000.01", "0.4")],
    )
    for extra in ("ETH", "SOL", "DOGE", "XRP", "ADA"):  # listed, not held
        venue.add_product(
            fx.product(f"{extra}-USD", "10.00"), bids=[("9.99", "100")], asks=[("10.01", "100")]
        )


async def coinbase(accounts: int, rounds: int, interval: float, max_age: float) -> Counts:
    """``accounts`` Coinbase accounts on one key through the fake venue."""
    clock = SimulatedClock()
    pem = fx.new_private_key_pem()
    credentials = Credentials.from_secret_data({"apiKeyName": fx.KEY_NAME, "apiPrivateKey": pem})
    venue = FakeCoinbase(credentials.public_key_pem(), clock)
    seed_venue(venue)
    transport = CountingTransport(venue.transport(), closes_inner=False)
    adapters: list[Exchange] = [
        CoinbaseExchange(
            make_client(BASE_URL, transport=transport),
            credentials,
            clock,
            read_only=False,
            base_url=BASE_URL,
            bucket=TokenBucket(clock, UNLIMITED, UNLIMITED),
            rng=random.Random(i),
        )
        for i in range(accounts)
    ]
    spec = _spec({"name": "coinbase", "credentialsSecretRef": {"name": "k"}})
    markets = SharedMarkets(timedelta(seconds=max_age))
    try:
        failed = await _rounds(adapters, markets, spec, clock, rounds, interval)
    finally:
        for adapter in adapters:
            await adapter.aclose()
    assert transport.public + transport.private == len(venue.requests), "a request went uncounted"
    return Counts(transport.public, transport.private, accounts * rounds, failed)


async def paper(accounts: int, rounds: int, interval: float, max_age: float) -> Counts:
    """``accounts`` paper accounts, each its own simulated venue (in memory)."""
    clock = SimulatedClock()
    holdings = {"USD": "120.50", "SEI": "36.4", "BONK": "889587", "BTC": "0.0021"}
    config = PaperConfig.model_validate({"market": "calm", "holdings": holdings})
    counters = [
        CountingExchange(open_paper_exchange(config, clock, account=f"bench/acct-{i}"))
        for i in range(accounts)
    ]
    spec = _spec({"name": "paper", "paper": config.model_dump(mode="json", by_alias=True)})
    markets = SharedMarkets(timedelta(seconds=max_age))
    exchanges: list[Exchange] = list(counters)  # type: ignore[arg-type]  # a port proxy
    failed = await _rounds(exchanges, markets, spec, clock, rounds, interval)
    public = sum(c.public_calls for c in counters)
    private = sum(c.calls - c.public_calls for c in counters)
    return Counts(public, private, accounts * rounds, failed)


@dataclass
class Row:
    venue: str
    accounts: int
    before: Counts
    after: Counts
    seconds: float


async def measure(
    venues: list[str], accounts: list[int], rounds: int, interval: float, max_age: float
) -> list[Row]:
    """Every (venue, N) pair, each row printed as soon as it is measured."""
    runners = {"paper": paper, "coinbase": coinbase}
    rows = []
    print(HEADER, flush=True)
    for venue in venues:
        for n in accounts:
            started = time.perf_counter()
            before = await runners[venue](n, rounds, interval, 0.0)
            after = await runners[venue](n, rounds, interval, max_age)
            rows.append(Row(venue, n, before, after, time.perf_counter() - started))
            print(line(rows[-1]), flush=True)
    return rows


def line(r: Row) -> str:
    return (
        f"{r.venue:<9}{r.accounts:>9}{r.after.cycles:>8}  "
        f"{r.before.per_cycle('public'):>9.3f} {r.after.per_cycle('public'):>9.3f}  "
        f"{r.before.per_cycle('private'):>9.3f} {r.after.per_cycle('private'):>9.3f}  "
        f"{r.before.errors + r.after.errors:>6}  {r.seconds:>6.1f}"
    )


def _header() -> str:
    head = (
        f"{'venue':<9}{'accounts':>9}{'cycles':>8}  {'public/acct-cycle':>19}  "
        f"{'private/acct-cycle':>19}  {'failed':>6}  {'run s':>6}"
    )
    sub = f"{'':<9}{'':>9}{'':>8}  {'before':>9} {'after':>9}  {'before':>9} {'after':>9}"
    return "\n".join([head, sub, "-" * len(head)])


HEADER = _header()


def table(rows: list[Row]) -> str:
    return "\n".join([HEADER, *(line(r) for r in rows)])


def _share(rate: float, limit: float) -> str:
    return f"{rate:7.2f} req/s = {rate / limit:6.1%} of {limit:g}/s"


def limit_share(rows: list[Row], accounts: int, interval: float) -> str:
    """What ``accounts`` accounts on one Coinbase key use of the documented limits, from the
    largest Coinbase run (per account-cycle figures scale linearly for private requests;
    public ones only fall with more accounts, so a smaller run overstates them)."""
    runs = [r for r in rows if r.venue == "coinbase"]
    if not runs:
        return ""
    run = max(runs, key=lambda r: r.accounts)
    rate = accounts / interval
    lines = [
        f"{accounts} Coinbase accounts on one key at intervalSeconds {interval:g} "
        f"(from the {run.accounts}-account run; limits: {LIMITS_URL}):"
    ]
    if run.accounts != accounts:
        lines.append(
            f"  (scaled from {run.accounts} accounts: the 'after' public rate is overstated, "
            "since shared fetches do not grow with accounts)"
        )
    for label, counts in (("before", run.before), ("after", run.after)):
        public = counts.per_cycle("public") * rate
        private = counts.per_cycle("private") * rate
        lines.append(
            f"  {label:<6}: private {_share(private, PRIVATE_LIMIT_PER_SECOND)} per user;  "
            f"public {_share(public, PUBLIC_LIMIT_PER_SECOND)} per IP;  all signed, as sent "
            f"today: {_share(private + public, PRIVATE_LIMIT_PER_SECOND)} per user"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--accounts", type=int, nargs="+", default=[1, 10, 100, 1000])
    p.add_argument("--rounds", type=int, default=10, help="cycles per account")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between cycles")
    p.add_argument(
        "--max-age",
        type=float,
        default=DEFAULT_QUOTE_MAX_AGE.total_seconds(),
        help="the operator's --market-data-max-age-seconds for the 'after' runs",
    )
    p.add_argument("--venue", choices=("paper", "coinbase"), action="append")
    p.add_argument("--limit-accounts", type=int, default=1000)
    args = p.parse_args(argv)
    venues = args.venue or ["paper", "coinbase"]
    print(
        f"exchange requests per account-cycle, {args.rounds} rounds of {args.interval:g} s, "
        f"holding {', '.join(HELD)} (+USD); before: sharing off, after: max age "
        f"{args.max_age:g} s"
    )
    rows = asyncio.run(measure(venues, args.accounts, args.rounds, args.interval, args.max_age))
    share = limit_share(rows, args.limit_accounts, args.interval)
    if share:
        print()
        print(share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
