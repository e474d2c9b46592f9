"""The TWAP benchmark's arithmetic: what it charges is what the issue asked it to charge."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

from cleanslate.api.account import PaperMarketModel
from cleanslate.core.market import BookLevel
from cleanslate.exchange.paper.fees import COINBASE_ADVANCED, FeeTier

D = Decimal
ENTRY = COINBASE_ADVANCED[0]


def _benchmark() -> ModuleType:
    path = Path(__file__).parents[3] / "benchmarks" / "twap_vs_market.py"
    spec = importlib.util.spec_from_file_location("twap_vs_market", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("twap_vs_market", module)
    spec.loader.exec_module(module)
    return module


def test_unsold_quantity_is_charged_by_walking_the_bids_and_the_taker_fee() -> None:
    bench = _benchmark()
    bids = [BookLevel(D(100), D(3)), BookLevel(D(99), D(2))]
    # 3 at 100 and 2 at 99; the 1 beyond the book's depth at half the last level's price
    assert bench._walk_bids(bids, D(6)) == 300 + 198 + D("49.5")
    assert bench._walk_bids(bids, D(2)) == 200  # not the top bid times everything
    run = bench.Run(
        decision_value=D(1000), proceeds=D(500), taker_notional=D(500), unsold_value=D(480)
    )
    cost, fees = run.cost_bps(ENTRY)
    # 500 sold at 120 bps (6.00) and 480 left, charged 480 less 120 bps (5.76): 988.24 back
    assert cost == (1000 - (500 - 6 + 480 - D("5.76"))) / 1000 * 10000
    assert fees == (6 + D("5.76")) / 1000 * 10000


def test_maker_fills_pay_the_maker_fee_and_the_ideal_bound_sells_at_the_ask() -> None:
    run = _benchmark().Run(
        decision_value=D(1000), ideal_gross=D(1002), proceeds=D(1001), maker_notional=D(1001)
    )
    cost, fees = run.cost_bps(ENTRY)
    assert fees == D(1001) * ENTRY.maker_bps / 10000 / 1000 * 10000
    assert run.ideal_bps(ENTRY) == (1000 - D(1002) * (1 - ENTRY.maker_bps / 10000)) / 1000 * 10000
    assert cost > run.ideal_bps(ENTRY), "nothing does better than the ideal bound here"


def test_concurrent_sellers_share_one_simulated_time_in_a_fixed_order() -> None:
    bench = _benchmark()
    clock = bench.EventClock(bench.START)
    seen: list[tuple[str, float]] = []

    async def seller(name: str, waits: list[float]) -> None:
        for w in waits:
            await clock.sleep(w)
            seen.append((name, (clock.now() - bench.START).total_seconds()))

    asyncio.run(clock.run([seller("a", [10, 10]), seller("b", [5, 20]), seller("c", [10])]))
    assert seen == [("b", 5), ("a", 10), ("c", 10), ("a", 20), ("b", 25)]


def test_a_symbol_takes_the_first_free_slot_as_the_operators_semaphore_gives_it() -> None:
    # five symbols, two slots: BTC is long, SEI and SOL are sold at once; DOGE must not wait
    # behind BTC (a fixed stride of the symbols would put it there)
    bench = _benchmark()
    clock = bench.EventClock(bench.START)
    started: dict[str, float] = {}
    takes = {"BTC": 240.0, "SEI": 0.0, "ETH": 100.0, "SOL": 0.0, "DOGE": 10.0}

    async def sale(pid: str) -> None:
        started[pid] = (clock.now() - bench.START).total_seconds()
        await clock.sleep(takes[pid])

    queue = list(takes)
    asyncio.run(clock.run([bench._lane(queue, sale) for _ in range(2)]))
    assert started == {"BTC": 0, "SEI": 0, "ETH": 0, "SOL": 100, "DOGE": 100}


def test_targets_print_their_margin_and_a_miss_fails_the_run() -> None:
    verdict = _benchmark().Verdict()
    verdict.check("crash large twap-mkt", 47.0, 50)
    verdict.check("-10 small twap-mkt", 7.5, 5)
    assert verdict.lines[0].endswith("(margin +3.0)") and verdict.lines[0].startswith("ok")
    assert verdict.lines[1].startswith("MISS") and verdict.misses == ["-10 small twap-mkt"]


def test_break_even_is_interpolated_between_the_scenarios() -> None:
    bench = _benchmark()
    basket = bench.BASKETS[1]
    results = bench.Results(PaperMarketModel.CALIBRATED)

    def runs(cost: int) -> list[object]:
        # a fee-free run whose cost is ``cost`` bps at any tier: proceeds priced at no fee
        return [bench.Run(decision_value=D(10000), proceeds=D(10000 - cost))]

    for scenario, twap in (("flat", -20), ("-2", -10), ("-10", 20), ("crash", 100)):
        results.runs[(scenario, basket.name, "market", "")] = runs(0)
        results.runs[(scenario, basket.name, "twap-fixed", "")] = runs(twap)
    free = FeeTier("free", D(0), D(0), D(0))
    # -10 at a fall of 2 bps/min, +20 at 10: zero at 2 + 8 x 10 / 30
    assert bench.break_even(results, basket, "twap-fixed", free) == f"{2 + 8 * 10 / 30:.1f}"


def test_plot_draws_one_panel_per_model(tmp_path: Path) -> None:
    bench = _benchmark()
    run = bench.Run(decision_value=D(1000), proceeds=D(990), taker_notional=D(990))
    everything = []
    for model in (PaperMarketModel.CALIBRATED, PaperMarketModel.SKEPTIC):
        results = bench.Results(model)
        for b in bench.BASKETS:
            for name, strategy in bench.STRATEGIES.items():
                tier = ENTRY.name if strategy.reads_fees else ""
                results.runs[("flat", b.name, name, tier)] = [run, run]
        everything.append(results)
    path = tmp_path / "cost.png"
    fig = bench.plot(everything, ENTRY, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title().split(" ")[0] for ax in fig.axes] == ["calibrated", "skeptic"]
    bars = [p for p in fig.axes[0].patches]
    assert len(bars) == len(bench.BASKETS) * (len(bench.STRATEGIES) - 1)
