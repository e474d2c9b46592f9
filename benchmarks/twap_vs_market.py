"""TWAP executor versus an immediate market sell and taker-only slices, on the paper market.

Usage: ``python benchmarks/twap_vs_market.py [--seeds 1 2 3] [--market documents]``

Each (basket, strategy) starts from the same seeded paper account at the same simulated
instant, sells every holding of the basket one symbol after the other, and is measured against
the arrival mid of each symbol (the mid when that symbol's liquidation began):

* filled %  : filled notional / sellable notional (holding rounded to the base increment)
* cost bps  : (arrival-mid value of what was sold - proceeds + fees) / that value
* fees      : USD paid
* requests  : exchange API calls
* sim time  : simulated seconds from the first call to the last

Strategies: (a) ``run_twap`` with the basket's policy, (b) one market order per symbol at
once, (c) the TWAP's slice schedule sold with market orders only, one slice per
``replaceSeconds``. BONK-USD is left out: its paper quirk rejects every taker order, so neither
(b) nor (c) could sell it at all and the comparison would say nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.account import PaperFees
from cleanslate.api.policy import Execution
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.core.twap import plan_twap
from cleanslate.exchange.paper import MARKETS, open_paper_exchange
from cleanslate.exchange.paper.books import BUCKET_SECONDS
from cleanslate.execution import run_twap

D = Decimal
BPS = D(10000)
ZERO = D(0)


@dataclass(frozen=True)
class Basket:
    name: str
    usd: dict[str, Decimal]
    """USD value to hold per product at the reference price."""
    policy: Execution


BASKETS = (
    Basket(
        "small ~$25 (docs)",
        {"SEI-USD": D("5.69"), "WLFI-USD": D("8.23"), "PYTH-USD": D("11")},
        Execution(slice_usd=D("5")),
    ),
    Basket(
        "mid ~$2k",
        {"SEI-USD": D(600), "WLFI-USD": D(400), "DOGE-USD": D(500), "LINK-USD": D(500)},
        Execution(slice_usd=D("10"), max_residual_usd=D("12")),
    ),
    Basket(
        "large ~$20k",
        {
            "BTC-USD": D(6000),
            "ETH-USD": D(5000),
            "SOL-USD": D(4000),
            "SEI-USD": D(3000),
            "DOGE-USD": D(2000),
        },
        Execution(slice_usd=D("15"), max_residual_usd=D("15")),
    ),
)


@dataclass
class Tally:
    sellable_usd: Decimal = ZERO
    filled_usd: Decimal = ZERO
    """Filled quantity valued at the arrival mid."""
    proceeds: Decimal = ZERO
    fees: Decimal = ZERO
    requests: int = 0
    seconds: float = 0.0

    @property
    def filled_pct(self) -> Decimal:
        return self.filled_usd / self.sellable_usd * 100 if self.sellable_usd else D(0)

    @property
    def cost_bps(self) -> Decimal:
        if not self.filled_usd:
            return D(0)
        return (self.filled_usd - self.proceeds + self.fees) / self.filled_usd * BPS


class Counting:
    """Counts every call made to the exchange (the port's requests)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await attr(*args, **kwargs)

        return counted


Seller = Callable[[Any, SimulatedClock, str, Decimal, Execution], Awaitable[tuple[Decimal, ...]]]
"""(exchange, clock, symbol, quantity, policy) -> (filled, proceeds, fees)."""


async def sell_twap(
    ex: Any, clock: SimulatedClock, symbol: str, qty: Decimal, policy: Execution
) -> tuple[Decimal, ...]:
    out = await run_twap(
        ex, clock, account="bench", symbol=symbol, attempt=1, target_quantity=qty, policy=policy
    )
    return out.filled_quantity, out.proceeds, out.fees


async def sell_market(
    ex: Any, clock: SimulatedClock, symbol: str, qty: Decimal, policy: Execution
) -> tuple[Decimal, ...]:
    return await _market_order(ex, symbol, qty, "mkt")


async def sell_taker_slices(
    ex: Any, clock: SimulatedClock, symbol: str, qty: Decimal, policy: Execution
) -> tuple[Decimal, ...]:
    """The TWAP's own slice plan, every slice a market order, one per slice budget."""
    product, quote = await ex.product(symbol), await ex.quote(symbol)
    plan = plan_twap(
        account="bench",
        attempt=1,
        product=product,
        policy=policy,
        target_quantity=qty,
        arrival=quote,
        started_at=clock.now(),
    )
    totals = [D(0), D(0), D(0)]
    for i, size in enumerate(plan.slices):
        if i:
            await clock.sleep(float(policy.replace_seconds))
        filled, proceeds, fees = await _market_order(ex, symbol, size, f"tk{i}")
        totals = [totals[0] + filled, totals[1] + proceeds, totals[2] + fees]
    return tuple(totals)


async def _market_order(ex: Any, symbol: str, qty: Decimal, tag: str) -> tuple[Decimal, ...]:
    request = OrderRequest(f"bench-{symbol}-{tag}", symbol, Side.SELL, qty, OrderType.MARKET)
    order = await ex.place_order(request)
    return order.filled_size, order.filled_value, order.fees


STRATEGIES: dict[str, Seller] = {
    "twap": sell_twap,
    "market": sell_market,
    "taker-slices": sell_taker_slices,
}


async def run_basket(basket: Basket, seller: Seller, seed: int, market: str) -> Tally:
    clock = SimulatedClock()
    specs = MARKETS[market].products
    holdings = {pid.split("-")[0]: usd / specs[pid].price for pid, usd in basket.usd.items()}
    config = PaperConfig(seed=seed, market=market, holdings=holdings)
    ex = Counting(open_paper_exchange(config, clock, account=f"bench-{seed}"))
    tally, start = Tally(), clock.now()
    for pid in basket.usd:
        product, quote = await ex.product(pid), await ex.quote(pid)
        qty = (holdings[product.base] / product.base_increment).to_integral_value(ROUND_DOWN)
        qty *= product.base_increment
        filled, proceeds, fees = await seller(ex, clock, pid, qty, basket.policy)
        tally.sellable_usd += qty * quote.mid
        tally.filled_usd += filled * quote.mid
        tally.proceeds += proceeds
        tally.fees += fees
    tally.requests = ex.calls
    tally.seconds = (clock.now() - start).total_seconds()
    return tally


def print_assumptions(market: str) -> None:
    fees = PaperFees()
    print(f"Paper market '{market}': fees maker {fees.maker_bps} bps, taker {fees.taker_bps} bps;")
    print(
        f"books regenerate every {BUCKET_SECONDS} s (10 levels a side, level size grows 20 %"
        " per level); resting orders fill only from simulated trade flow\n"
    )
    head = f"{'product':<10} {'price':>12} {'spread bps':>10} {'level $':>9} {'book $/side':>11}"
    print(head + f" {'flow $/5s':>10} {'vol bps':>8}")
    symbols = sorted({pid for b in BASKETS for pid in b.usd})
    for pid in symbols:
        s = MARKETS[market].products[pid]
        book = s.level_quote * sum(1 + D(i) / 5 for i in range(10))
        flow = s.quote_volume_24h * BUCKET_SECONDS / 86400 / 2
        print(
            f"{pid:<10} {s.price:>12} {s.spread_bps:>10} {s.level_quote:>9} {book:>11.0f}"
            f" {flow:>10.0f} {s.volatility_bps:>8}"
        )
    print()


async def main(seeds: list[int], market: str) -> int:
    print_assumptions(market)
    head = f"{'seed':>4} {'basket':<18} {'strategy':<13} {'filled %':>8} {'cost bps':>8}"
    print(head + f" {'fees $':>9} {'requests':>8} {'sim s':>7}")
    failures = []
    for seed in seeds:
        for basket in BASKETS:
            results = {n: await run_basket(basket, s, seed, market) for n, s in STRATEGIES.items()}
            for name, t in results.items():
                print(
                    f"{seed:>4} {basket.name:<18} {name:<13} {t.filled_pct:>8.2f} "
                    f"{t.cost_bps:>8.1f} {t.fees:>9.2f} {t.requests:>8} {t.seconds:>7.0f}"
                )
            twap, mkt = results["twap"], results["market"]
            if twap.filled_pct < D("99.5") or twap.cost_bps >= mkt.cost_bps:
                failures.append(f"seed {seed} {basket.name}")
    print(
        "\ntargets (TWAP filled >= 99.5 % and cheaper than the market sell):",
        "met" if not failures else "MISSED: " + ", ".join(failures),
    )
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--market", default="documents")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.seeds, args.market)))
