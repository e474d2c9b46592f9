"""The TWAP benchmark's arithmetic: what it charges is what the issue asked it to charge."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

from cleanslate.exchange.paper.fees import COINBASE_ADVANCED

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


def test_unsold_quantity_is_charged_at_the_end_bid_and_the_taker_fee() -> None:
    run = _benchmark().Run(
        decision_value=D(1000), proceeds=D(500), taker_notional=D(500), unsold_at_bid=D(480)
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


def test_plot_draws_one_panel_per_model_with_every_basket_and_strategy(tmp_path: Path) -> None:
    bench = _benchmark()
    run = bench.Run(
        decision_value=D(1000), ideal_gross=D(1002), proceeds=D(990), taker_notional=D(990)
    )
    runs = {(b.name, s): [run, run] for b in bench.BASKETS for s in bench.STRATEGIES}
    path = tmp_path / "cost.png"
    fig = bench.plot({"calibrated": runs, "skeptic": runs}, ENTRY, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title().split(" ")[0] for ax in fig.axes] == ["calibrated", "skeptic"]
    bars = [p for p in fig.axes[0].patches]
    assert len(bars) == len(bench.BASKETS) * len(bench.STRATEGIES)
