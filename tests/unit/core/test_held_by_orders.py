"""Issue 25 item 5: a holding is judged by its total (available plus held by orders); what an
open order holds is never an "unsellable remainder", and the account is not CLEAN while a
real position sits in an order."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from cleanslate.core.decisions import ExitKind
from cleanslate.core.market import Side
from cleanslate.core.planning import Memory, plan_cycle
from cleanslate.core.verification import verify

from .builders import NOW, D, cash, holding, order, policy, snapshot, spec

EXCLUDED = policy(universe={"excludedSymbols": ["DOGE-USD"]})


def held_doge():  # type: ignore[no-untyped-def]
    doge = holding("DOGE", "2000", "0.16", available="0.5")  # ~$320, 1,999.5 in an order
    sell = dataclasses.replace(
        order("DOGE-USD", timedelta(minutes=5)), side=Side.SELL, base_size=D("1999.5")
    )
    return snapshot(cash("USD", "500"), doge, orders=(sell,))


def test_a_position_held_by_a_fresh_order_is_not_an_unsellable_remainder() -> None:
    p = plan_cycle(held_doge(), spec(), EXCLUDED, Memory(), NOW)
    doge = {d.symbol: d for d in p.decisions}["DOGE-USD"]
    assert doge.kind is ExitKind.SKIP
    assert "unsellable remainder" not in doge.reason
    assert "held by open orders" in doge.reason


def test_the_account_is_not_clean_while_a_real_position_sits_in_an_order() -> None:
    result = verify(held_doge(), spec(), EXCLUDED, Memory(), NOW)
    assert not result.clean
    assert "DOGE-USD: held by open orders: the sale waits for them" in result.blockers
    assert result.ignored == ()


def test_a_crumb_under_the_minimum_in_total_is_still_left_alone() -> None:
    crumb = holding("DOGE", "3", "0.16", available="3")  # $0.48 in all: under the $1 notional
    p = plan_cycle(snapshot(cash("USD", "500"), crumb), spec(), EXCLUDED, Memory(), NOW)
    assert {d.symbol: d for d in p.decisions}["DOGE-USD"].kind is ExitKind.IGNORE
