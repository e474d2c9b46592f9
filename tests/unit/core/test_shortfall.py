"""A purge's cost against the decision-time mid: the number a user compares with a market sell,
the same arithmetic as ``benchmarks/twap_vs_market.py``."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from cleanslate.core.shortfall import PurgeCost, describe, purge_cost, shortfall_bps
from cleanslate.exchange.paper.fees import COINBASE_ADVANCED

D = Decimal


def cost(**overrides: Any) -> PurgeCost:
    """A purge of 100 units decided at a mid of 1.00, with ``overrides``."""
    args: dict[str, Any] = {
        "decision_mid": D("1.00"),
        "target_quantity": D(100),
        "filled_quantity": D(100),
        "proceeds": D(99),
        "fees": D("0.60"),
        "last_bid": D("0.98"),
        "duration_seconds": D(252),
    }
    return purge_cost(**{**args, **overrides})


def test_a_whole_sale_costs_the_price_given_up_plus_the_fees() -> None:
    c = cost()
    # $100 at the decision mid; 99 - 0.60 came back: 160 bps, 60 of them fees.
    assert (c.shortfall_bps, c.fee_bps) == (D(160), D(60))
    assert (c.fill_rate, c.unsold_quantity) == (D(1), D(0))


def test_the_unsold_quantity_is_stated_and_charged_at_the_last_bid_less_the_purges_fee_rate() -> (
    None
):
    c = cost(filled_quantity=D(50), proceeds=D(50), fees=D("0.30"), last_bid=D("0.90"))
    # 50 sold (49.70 net, a 60 bps fee rate), 50 left worth 45 at the bid, less 60 bps (0.27)
    assert c.shortfall_bps == (100 - (D("49.70") + 45 - D("0.27"))) / 100 * 10000
    assert c.unsold_quantity == D(50)
    assert c.fill_rate == D("0.5")


def test_a_purge_that_sold_nothing_is_charged_what_the_market_moved_and_no_fee() -> None:
    c = cost(filled_quantity=D(0), proceeds=D(0), fees=D(0), last_bid=D("0.95"))
    assert (c.shortfall_bps, c.fee_bps, c.fill_rate) == (D(500), D(0), D(0))


def test_without_a_decision_mid_there_is_no_number_but_the_unsold_quantity_is_stated() -> None:
    for mid in (None, D(0)):
        c = cost(decision_mid=mid, filled_quantity=D(40), proceeds=D(40))
        assert (c.shortfall_bps, c.fee_bps, c.decision_mid) == (None, None, None)
        assert c.unsold_quantity == D(60)
    assert describe(cost(decision_mid=None)).startswith("cost n/a (no decision-time mid)")


def test_without_a_last_bid_the_unsold_quantity_counts_as_lost_never_as_sold() -> None:
    c = cost(filled_quantity=D(0), proceeds=D(0), fees=D(0), last_bid=None)
    assert c.shortfall_bps == D(10000)


def test_a_market_that_rose_shows_a_negative_cost() -> None:
    assert cost(proceeds=D(102), fees=D(0)).shortfall_bps == D(-200)


def test_the_event_clause_names_cost_fees_fill_rate_duration_and_what_is_unsold() -> None:
    whole = describe(cost())
    assert (
        whole == "cost 160 bps vs decision mid 1.00 (fees in: 60 bps), filled 100% of 100 in 4m12s"
    )
    half = describe(cost(filled_quantity=D(50), proceeds=D(50), duration_seconds=D(9)))
    assert half.endswith("filled 50% of 100 in 9s, 50 unsold (charged at the last bid)")


def test_the_benchmark_charges_what_a_live_purge_records() -> None:
    path = Path(__file__).parents[3] / "benchmarks" / "twap_vs_market.py"
    spec = importlib.util.spec_from_file_location("twap_vs_market", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("twap_vs_market", module)
    spec.loader.exec_module(module)
    tier = COINBASE_ADVANCED[0]
    run = module.Run(
        decision_value=D(100), proceeds=D(50), taker_notional=D(50), unsold_value=D(45)
    )  # the benchmark walks the book for the unsold value; given it, the same arithmetic
    fees = D(50) * tier.taker_bps / 10000
    live = cost(filled_quantity=D(50), proceeds=D(50), fees=fees, last_bid=D("0.90"))
    # A live purge charges the unsold its own fee rate: here all taker, as the benchmark does.
    assert run.cost_bps(tier) == (live.shortfall_bps, live.fee_bps)
    assert shortfall_bps(D(0), D(1), D(0), D(0), D(0)) is None
