"""Controlled exits: over-cap ranking, gradual unwind, zombies, trims and normalization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from cleanslate.api.account import UnwindProgress
from cleanslate.api.policy import Unwind
from cleanslate.core.decisions import ExitKind, Rule
from cleanslate.core.exits import (
    advance_unwind,
    ceil_to,
    floor_to,
    normalize,
    over_cap,
    plan_trims,
    rank_for_closing,
    remaining_fraction_after,
    unwind_step,
    zombie_exit,
)

from .builders import NOW, D, holding

UNWIND = Unwind()  # 25 % of what remains, 4 cycles
FIVE = D("5")


@dataclass(frozen=True)
class Pos:
    symbol: str
    value_usd: Decimal | None
    pnl: Decimal | None = None
    opened_at: datetime | None = None


def ranked(*items: Pos) -> list[str]:
    return [p.symbol for p in rank_for_closing(items)]


def test_over_cap_ranking_closes_the_smallest_value_first() -> None:
    assert ranked(Pos("A", D(50)), Pos("B", D(10)), Pos("C", D(30))) == ["B", "C", "A"]


def test_equal_values_close_the_worst_pnl_first() -> None:
    assert ranked(Pos("A", D(10), D("0.1")), Pos("B", D(10), D("-0.2"))) == ["B", "A"]


def test_equal_value_and_pnl_close_the_oldest_first() -> None:
    old, new = NOW - timedelta(days=30), NOW - timedelta(days=1)
    assert ranked(Pos("A", D(10), D(0), new), Pos("B", D(10), D(0), old)) == ["B", "A"]


def test_unknown_pnl_ranks_as_worst_and_unknown_age_as_oldest() -> None:
    assert ranked(Pos("A", D(10), D("-0.9")), Pos("B", D(10), None)) == ["B", "A"]
    assert ranked(Pos("A", D(10), D(0), NOW), Pos("B", D(10), D(0), None)) == ["B", "A"]


def test_no_price_ranks_as_smallest_and_ties_break_by_symbol() -> None:
    assert ranked(Pos("B", D(10)), Pos("C", None), Pos("A", D(10))) == ["C", "A", "B"]


def test_over_cap_takes_exactly_the_excess() -> None:
    items = [Pos(s, D(v)) for s, v in (("A", 1), ("B", 2), ("C", 3))]
    assert [p.symbol for p in over_cap(items, count=5, cap=3)] == ["A", "B"]
    assert over_cap(items, count=3, cap=3) == []


def test_unwind_leaves_0_5625_after_two_of_four_cycles_at_25_percent() -> None:
    assert remaining_fraction_after(2, D("0.25")) == D("0.5625")
    progress: dict[str, UnwindProgress] = {}
    for cycle in range(2):
        progress["ETH-USD"] = advance_unwind(
            progress, "ETH-USD", NOW + timedelta(minutes=cycle), UNWIND
        )
    entry = progress["ETH-USD"]
    assert (entry.cycle, entry.remaining_fraction) == (2, D("0.5625"))
    assert entry.started_at == NOW and entry.last_cycle_at == NOW + timedelta(minutes=1)


def test_the_last_unwind_cycle_leaves_nothing() -> None:
    progress: dict[str, UnwindProgress] = {}
    for _ in range(4):
        progress["ETH-USD"] = advance_unwind(progress, "ETH-USD", NOW, UNWIND)
    assert progress["ETH-USD"].remaining_fraction == 0 and progress["ETH-USD"].cycle == 4


def test_an_unwind_step_sells_a_quarter_of_what_remains() -> None:
    eth = holding("ETH", "1", "3000")
    step = unwind_step(eth, {}, NOW, UNWIND, FIVE)
    assert (step.kind, step.quantity, step.value_usd) == (ExitKind.UNWIND, D("0.25"), D("750"))
    assert step.progress is not None and step.progress.remaining_fraction == D("0.75")
    # Third cycle: 0.5625 of the position is left and a quarter of that is sold.
    third = unwind_step(
        holding("ETH", "0.5625", "3000"), {"ETH-USD": step_at(2)}, NOW, UNWIND, FIVE
    )
    assert third.quantity == D("0.140625") and third.progress is not None
    assert third.progress.remaining_fraction == D("0.421875")


def step_at(cycle: int) -> UnwindProgress:
    return UnwindProgress(
        cycle=cycle,
        remaining_fraction=remaining_fraction_after(cycle, D("0.25")),
        started_at=NOW - timedelta(hours=1),
        last_cycle_at=NOW - timedelta(minutes=1),
    )


def test_the_last_unwind_cycle_closes_the_rest() -> None:
    last = unwind_step(
        holding("ETH", "0.421875", "3000"), {"ETH-USD": step_at(3)}, NOW, UNWIND, FIVE
    )
    assert last.kind is ExitKind.CLOSE and last.quantity == D("0.421875")
    assert last.progress is not None and last.progress.remaining_fraction == 0
    assert "closing the rest" in last.reason


def test_an_unwind_step_too_small_for_an_order_closes_the_rest() -> None:
    small = unwind_step(holding("SOL", "0.1", "150"), {}, NOW, UNWIND, FIVE)  # 25 % = $3.75
    assert small.kind is ExitKind.CLOSE and small.quantity == D("0.1")


def test_an_unwind_of_a_residual_is_left_alone() -> None:
    tiny = unwind_step(holding("SOL", "0.02", "150"), {}, NOW, UNWIND, FIVE)  # $3 in all
    assert tiny.kind is ExitKind.IGNORE and tiny.quantity == 0


def test_unwind_quantities_respect_the_base_increment_and_availability() -> None:
    lots = holding("XRP", "30", "2", base_increment=D("1"))
    assert unwind_step(lots, {}, NOW, UNWIND, FIVE).quantity == D("7")  # 7.5 rounded down
    held = holding("ETH", "1", "3000", available="0.1")
    assert unwind_step(held, {}, NOW, UNWIND, FIVE).quantity == D("0.1")


def test_a_zombie_gets_one_market_exit_then_escalates() -> None:
    zombie = holding("AUT", "10", "1")
    first = zombie_exit(zombie, attempted=False, why="tracked without an entry price")
    assert (first.kind, first.quantity, first.rule) == (ExitKind.CLOSE, D("10"), Rule.ZOMBIE)
    again = zombie_exit(zombie, attempted=True, why="tracked without an entry price")
    assert (again.kind, again.quantity) == (ExitKind.ESCALATE, D(0))
    assert "escalate" in again.reason


def test_trims_take_from_the_largest_position_first_until_under_the_cap() -> None:
    big, mid = holding("SOL", "1", "100"), holding("XRP", "25", "2")
    trims = plan_trims([mid, big], D("30"), FIVE, "trim")
    assert [(t.symbol, t.quantity, t.value_usd) for t in trims] == [("SOL-USD", D("0.3"), D("30"))]
    both = plan_trims([mid, big], D("120"), FIVE, "trim")
    assert [(t.symbol, t.value_usd) for t in both] == [("SOL-USD", D("100")), ("XRP-USD", D("20"))]


def test_a_trim_is_at_least_the_minimum_liquidation_value() -> None:
    (trim,) = plan_trims([holding("SOL", "1", "100")], D("1"), FIVE, "trim")
    assert trim.value_usd == FIVE


def test_trims_round_up_to_the_increment_but_never_past_availability() -> None:
    (trim,) = plan_trims([holding("XRP", "100", "2", base_increment=D("1"))], D("9"), FIVE, "t")
    assert trim.quantity == D("5")  # 4.5 units rounded up reaches the target
    (capped,) = plan_trims([holding("SOL", "1", "100", available="0.1")], D("50"), FIVE, "t")
    assert capped.quantity == D("0.1")


def test_normalization_closes_a_small_position_worth_an_order_and_leaves_a_residual() -> None:
    closed = normalize(holding("SOL", "0.04", "150"), D("7.5"), FIVE, False)  # $6
    assert (closed.kind, closed.quantity, closed.rule) == (
        ExitKind.CLOSE,
        D("0.04"),
        Rule.NORMALIZATION,
    )
    left = normalize(holding("SOL", "0.02", "150"), D("7.5"), FIVE, False)  # $3
    assert left.kind is ExitKind.IGNORE and "residual" in left.reason
    # under the dust action Close (issue 25 item 2) the $3 crumb is closed too
    crumb = normalize(holding("SOL", "0.02", "150"), D("7.5"), FIVE, True)
    assert (crumb.kind, crumb.quantity) == (ExitKind.CLOSE, D("0.02"))


def test_rounding_helpers() -> None:
    assert floor_to(D("2.5"), D("1")) == 2 and ceil_to(D("2.5"), D("1")) == 3
    assert floor_to(D("2.5"), None) == D("2.5") and ceil_to(D("2.5"), D(0)) == D("2.5")
