"""Cycle planning: one decision per position, first matching rule wins, sales budgeted."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import (
    FrozenSymbol,
    PlanAction,
    TradingAccountStatus,
    UnwindProgress,
)
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.planning import CyclePlan, Memory, plan_cycle

from .builders import (
    BONK_PRICE,
    BONK_UNITS,
    NOW,
    SEI_UNITS,
    WLFI_UNITS,
    D,
    bonk,
    cash,
    failure,
    holding,
    order,
    policy,
    sei,
    snapshot,
    spec,
    wlfi,
)

DOCUMENTS = snapshot(cash("USD", "230"), sei(), wlfi(), bonk())  # a ~$250 account


def plan(snap=DOCUMENTS, account=None, pol=None, memory=None) -> CyclePlan:  # type: ignore[no-untyped-def]
    return plan_cycle(snap, account or spec(), pol or policy(), memory or Memory(), NOW)


def decisions(p: CyclePlan) -> dict[str, Decision]:
    return {d.symbol: d for d in p.decisions}


def test_documents_ineligible_tokens_purge_two_per_cycle_most_valuable_first() -> None:
    p = plan()
    assert [(d.symbol, d.kind, d.quantity) for d in p.purges] == [
        ("BONK-USD", ExitKind.PURGE, BONK_UNITS),
        ("WLFI-USD", ExitKind.PURGE, WLFI_UNITS),
    ]
    assert p.purges[0].value_usd == BONK_UNITS * BONK_PRICE  # ~$9.48
    assert [round(d.value_usd or 0, 2) for d in p.purges] == [D("9.48"), D("8.23")]
    deferred = decisions(p)["SEI-USD"]
    assert deferred.kind is ExitKind.SKIP and deferred.reason.startswith(
        "deferred, maxLiquidationsPerCycle (2) reached: ineligible"
    )


def test_sei_purge_sells_all_36_4_units_worth_about_5_69_by_twap() -> None:
    p = plan(snapshot(cash("USD", "230"), sei()))
    (purge,) = p.purges
    assert (purge.symbol, purge.action, purge.quantity) == ("SEI-USD", PlanAction.PURGE, SEI_UNITS)
    assert round(purge.value_usd or 0, 2) == D("5.69")
    assert "ineligible" in purge.reason and "below floor $2,000,000" in purge.reason


def test_quote_currencies_get_no_decision_and_protected_symbols_are_kept() -> None:
    held = snapshot(
        cash("USD", "230"), cash("USDC", "10"), cash("BTC", "0.001", "90000"), sei(), wlfi()
    )
    p = plan(held, spec(protected=["SEI", "WLFI-USD"]))
    assert set(decisions(p)) == {"SEI-USD", "WLFI-USD"}
    assert all(d.kind is ExitKind.KEEP and d.quantity == 0 for d in p.decisions)
    assert p.purges == ()


def test_bonk_in_backoff_is_skipped_with_the_time_remaining() -> None:
    memory = Memory(purge_failures={"BONK-USD": failure(3, timedelta(minutes=18))})
    skip = decisions(plan(memory=memory))["BONK-USD"]
    assert (skip.kind, skip.rule, skip.quantity) == (ExitKind.SKIP, Rule.HOLD_OFF, D(0))
    assert skip.reason == "backoff: 3 recent failures, backoff 1h, 42min remaining"


def test_bonk_is_retried_when_the_backoff_has_expired_or_failures_are_few() -> None:
    expired = Memory(purge_failures={"BONK-USD": failure(3, timedelta(hours=2))})
    assert decisions(plan(memory=expired))["BONK-USD"].kind is ExitKind.PURGE
    twice = Memory(purge_failures={"BONK-USD": failure(2, timedelta(seconds=5))})
    assert decisions(plan(memory=twice))["BONK-USD"].kind is ExitKind.PURGE


def test_frozen_symbols_are_skipped_with_the_time_remaining() -> None:
    frozen = FrozenSymbol(
        consecutive_failures=3,
        frozen_at=NOW - timedelta(hours=1),
        until=NOW + timedelta(hours=23),
        last_error="Price not available",
    )
    skip = decisions(plan(memory=Memory(frozen_symbols={"WLFI-USD": frozen})))["WLFI-USD"]
    assert skip.kind is ExitKind.SKIP
    assert skip.reason == "frozen (Price not available), 23h remaining"


def test_dust_is_ignored_or_closed_as_the_dust_action_says() -> None:
    residual = snapshot(cash("USD", "230"), holding("SEI", "0.2", "0.1563"))  # $0.03
    ignored = decisions(plan(residual))["SEI-USD"]
    assert (ignored.kind, ignored.rule) == (ExitKind.IGNORE, Rule.DUST)
    crumbs = snapshot(cash("USD", "230"), holding("SEI", "12.8", "0.1563"))  # $2.00
    closed = decisions(plan(crumbs, pol=policy(dust={"action": "Close"})))["SEI-USD"]
    assert (closed.kind, closed.quantity) == (ExitKind.CLOSE, D("12.8"))


def test_a_dust_close_below_the_exchange_minimum_is_an_unsellable_remainder_not_a_sale() -> None:
    residual = snapshot(cash("USD", "230"), holding("SEI", "0.2", "0.1563"))  # $0.03 < $1
    p = plan(residual, pol=policy(dust={"action": "Close"}))
    left = decisions(p)["SEI-USD"]
    assert (left.kind, left.rule, left.quantity) == (ExitKind.IGNORE, Rule.DUST, 0)
    assert left.reason.startswith("unsellable remainder: 0.2 SEI ($0.03) below the exchange min")
    assert p.purges == ()


def test_dust_takes_the_dust_action_not_the_zombie_exit() -> None:
    tracked_no_entry = spec(tracked={"SEI-USD": None})
    residual = snapshot(cash("USD", "230"), holding("SEI", "0.2", "0.1563"))
    assert decisions(plan(residual, tracked_no_entry))["SEI-USD"].rule is Rule.DUST


def test_a_zombie_gets_one_exit_then_escalates_without_halting_the_others() -> None:
    zombie = holding("AUT", "100", None, price_lost=True)  # the exchange says it is gone
    held = snapshot(cash("USD", "230"), zombie, bonk())
    first = plan(held)
    assert decisions(first)["AUT-USD"].kind is ExitKind.CLOSE
    attempted = Memory(purge_failures={"AUT-USD": failure(1, timedelta(minutes=1))})
    after = plan(held, memory=attempted)
    assert decisions(after)["AUT-USD"].kind is ExitKind.ESCALATE
    assert [d.symbol for d in after.purges] == ["BONK-USD"]


def test_an_ineligible_holding_under_the_minimum_liquidation_value_is_left_as_residual() -> None:
    held = snapshot(cash("USD", "100"), holding("SEI", "25", "0.16", volume=D("1000")))  # $4
    left = decisions(plan(held))["SEI-USD"]
    assert (left.kind, left.rule) == (ExitKind.IGNORE, Rule.INELIGIBLE)
    assert "residual $4.00 under $5 left alone" in left.reason


def test_excluded_symbols_are_purged_even_when_liquid() -> None:
    held = snapshot(cash("USD", "500"), holding("DOGE", "100", "0.2"))
    excluded = policy(universe={"excludedSymbols": ["DOGE-USD"]})
    assert decisions(plan(held, pol=excluded))["DOGE-USD"].kind is ExitKind.PURGE


def test_without_auto_liquidation_an_untracked_ineligible_holding_unwinds_instead() -> None:
    off = policy(autoLiquidateIneligible=False)
    unwind = decisions(plan(snapshot(cash("USD", "100"), bonk()), pol=off))
    # $9.48: a quarter would be under the $5 minimum, so the unwind closes the rest at once.
    assert (unwind["BONK-USD"].rule, unwind["BONK-USD"].kind) == (Rule.LEGACY, ExitKind.CLOSE)


def test_over_cap_closes_the_smallest_positions_first() -> None:
    prices = {"SOL": ("1", "150"), "XRP": ("50", "2"), "ADA": ("100", "0.2"), "LINK": ("5", "15")}
    held = snapshot(cash("USD", "500"), *(holding(a, q, p) for a, (q, p) in prices.items()))
    tracked = spec(tracked={f"{a}-USD": p for a, (_, p) in prices.items()})
    p = plan(held, tracked, policy(maxPositions=2, exposure={"maxTotalAtRiskPct": 100}))
    closes = {s for s, d in decisions(p).items() if d.rule is Rule.OVER_CAP}
    assert closes == {"ADA-USD", "LINK-USD"}  # $20 and $75; XRP $100 and SOL $150 stay
    assert all(decisions(p)[s].quantity == held.holding(s[:-4]).quantity for s in closes)  # type: ignore[union-attr]


def test_purges_this_cycle_count_against_the_excess_over_the_cap() -> None:
    held = snapshot(cash("USD", "230"), holding("SOL", "1", "150"), bonk(), wlfi())
    tracked = spec(tracked={"SOL-USD": "150"})
    p = plan(held, tracked, policy(maxPositions=1, exposure={"maxTotalAtRiskPct": 100}))
    assert not any(d.rule is Rule.OVER_CAP for d in p.decisions)
    assert decisions(p)["SOL-USD"].kind is ExitKind.KEEP


def test_a_tracked_position_that_fits_once_purges_are_done_is_kept_not_unwound() -> None:
    # DOGE ($200, excluded) is purged; SOL ($150) ranked over the cap of 1 before that.
    held = snapshot(cash("USD", "1000"), holding("SOL", "1", "150"), holding("DOGE", "1000", "0.2"))
    pol = policy(
        maxPositions=1,
        exposure={"maxTotalAtRiskPct": 100},
        universe={"excludedSymbols": ["DOGE-USD"]},
    )
    p = plan(held, spec(tracked={"SOL-USD": "150"}), pol)
    assert decisions(p)["DOGE-USD"].kind is ExitKind.PURGE
    assert decisions(p)["SOL-USD"].kind is ExitKind.KEEP
    # Legacy first: the excluded DOGE, not the tracked SOL, is the one ranked over the cap.
    over = {c.symbol for c in p.classified if c.over_cap}
    assert over == {"DOGE-USD"}


def test_legacy_positions_unwind_a_quarter_per_cycle_and_close_on_the_last() -> None:
    held = snapshot(cash("USD", "1000"), holding("ETH", "0.5625", "3000"))
    no_trims = policy(
        exposure={"maxTotalAtRiskPct": 100}, releasedQuoteCurrencies=["USDC", "USDT", "BTC", "ETH"]
    )
    progress = UnwindProgress(
        cycle=2,
        remaining_fraction=D("0.5625"),
        started_at=NOW - timedelta(minutes=2),
        last_cycle_at=NOW - timedelta(minutes=1),
    )
    step = decisions(plan(held, pol=no_trims, memory=Memory(unwind_progress={"ETH-USD": progress})))
    eth = step["ETH-USD"]
    assert (eth.kind, eth.quantity) == (ExitKind.UNWIND, D("0.140625"))
    assert eth.progress is not None and eth.progress.cycle == 3
    last = progress.model_copy(update={"cycle": 3})
    final = decisions(plan(held, pol=no_trims, memory=Memory(unwind_progress={"ETH-USD": last})))
    assert (final["ETH-USD"].kind, final["ETH-USD"].quantity) == (ExitKind.CLOSE, D("0.5625"))


def test_exposure_over_25_percent_is_trimmed_on_trim_cycles() -> None:
    # The production fixes: $130 of holdings next to $130 of USDC is 50 % at risk; the
    # 25 % cap of $260 is $65, so $65 must be trimmed.
    held = snapshot(cash("USDC", "130"), holding("SOL", "0.5", "160"), holding("XRP", "25", "2"))
    tracked = spec(tracked={"SOL-USD": "150", "XRP-USD": "2"})
    p = plan(held, tracked)
    trims = [d for d in p.decisions if d.kind is ExitKind.TRIM]
    assert [(d.symbol, d.value_usd) for d in trims] == [("SOL-USD", D("65"))]
    assert p.at_risk_usd == D("130") and p.nav_usd == D("260")
    assert trims[0].reason.startswith("exposure $130.00 above 25% of NAV ($65.00)")


def test_trims_wait_for_the_trim_interval() -> None:
    held = snapshot(cash("USDC", "130"), holding("SOL", "0.5", "160"), holding("XRP", "25", "2"))
    tracked = spec(tracked={"SOL-USD": "150", "XRP-USD": "2"})
    every_third = policy(exposure={"trimIntervalCycles": 3})
    assert not any(
        d.kind is ExitKind.TRIM
        for d in plan(held, tracked, every_third, Memory(cycles=4)).decisions
    )
    assert any(
        d.kind is ExitKind.TRIM
        for d in plan(held, tracked, every_third, Memory(cycles=6)).decisions
    )


def test_exposure_under_the_cap_plans_no_trim() -> None:
    held = snapshot(cash("USD", "1000"), holding("SOL", "1", "150"))
    p = plan(held, spec(tracked={"SOL-USD": "150"}))
    assert decisions(p)["SOL-USD"].kind is ExitKind.KEEP


def test_undersized_positions_are_normalized_instead_of_unwound() -> None:
    held = snapshot(cash("USD", "100"), holding("SOL", "0.04", "150"), holding("XRP", "1.5", "2"))
    p = decisions(plan(held, spec(tracked={"SOL-USD": "150", "XRP-USD": "2"})))
    assert (p["SOL-USD"].kind, p["SOL-USD"].rule) == (ExitKind.CLOSE, Rule.NORMALIZATION)  # $6
    # $3: closed under the default dust action Close (issue 25 item 2; was Ignore)
    assert (p["XRP-USD"].kind, p["XRP-USD"].rule) == (ExitKind.CLOSE, Rule.NORMALIZATION)
    ignore = policy(dust={"action": "Ignore"})
    kept = decisions(plan(held, spec(tracked={"SOL-USD": "150", "XRP-USD": "2"}), pol=ignore))
    assert (kept["XRP-USD"].kind, kept["XRP-USD"].rule) == (ExitKind.IGNORE, Rule.NORMALIZATION)


def test_stale_orders_are_listed_for_cancellation_in_the_plan() -> None:
    orders = (
        order("SOL-USD", timedelta(minutes=45), order_id="old"),
        order("SOL-USD", timedelta(minutes=5), order_id="new"),
    )
    p = plan(snapshot(cash("USD", "100"), orders=orders))
    assert [o.order_id for o in p.stale_orders] == ["old"]
    (item,) = p.plan_items()
    assert (item.action, item.symbol, item.quantity) == (
        PlanAction.CANCEL_ORDER,
        "SOL-USD",
        D("10"),
    )
    assert item.reason == "stale open order old: 45 min old"


def test_a_sale_never_exceeds_what_is_available() -> None:
    partly_held = holding("BONK", BONK_UNITS, BONK_PRICE, available="400000", volume=D("1"))
    (purge,) = plan(snapshot(cash("USD", "230"), partly_held)).purges
    assert purge.quantity == D("400000")


def test_nothing_available_means_skip_until_the_orders_are_cancelled() -> None:
    all_held = holding("BONK", BONK_UNITS, BONK_PRICE, available="0", volume=D("1"))
    p = plan(snapshot(cash("USD", "230"), all_held))
    assert p.purges == () and decisions(p)["BONK-USD"].kind is ExitKind.SKIP
    assert "held by open orders" in decisions(p)["BONK-USD"].reason


def test_a_zero_liquidation_budget_sells_nothing() -> None:
    p = plan(pol=policy(maxLiquidationsPerCycle=0))
    assert p.purges == () and all(d.kind is ExitKind.SKIP for d in p.decisions)


def test_the_plan_does_not_depend_on_the_order_of_holdings() -> None:
    reversed_snapshot = snapshot(*reversed(DOCUMENTS.holdings))
    assert plan() == plan() and plan(reversed_snapshot) == plan()


def test_plan_items_and_positions_feed_the_status() -> None:
    p = plan()
    items = p.plan_items()
    assert [(i.symbol, i.action) for i in items] == [
        ("BONK-USD", PlanAction.PURGE),
        ("SEI-USD", PlanAction.SKIP),
        ("WLFI-USD", PlanAction.PURGE),
    ]
    assert [s.symbol for s in p.positions] == ["BONK-USD", "SEI-USD", "WLFI-USD"]
    assert not any(s.eligible for s in p.positions)


def test_memory_is_read_from_the_status() -> None:
    status = TradingAccountStatus(
        purge_failures={"BONK-USD": failure(3, timedelta(minutes=1))}, cycles=7
    )
    memory = Memory.from_status(status)
    assert memory.cycles == 7 and set(memory.purge_failures) == {"BONK-USD"}
    assert Memory.from_status(None) == Memory()


def test_protected_beats_backoff_and_frozen_beats_dust() -> None:
    memory = Memory(
        purge_failures={"BONK-USD": failure(5, timedelta(minutes=1))},
        frozen_symbols={
            "SEI-USD": FrozenSymbol(
                consecutive_failures=3, frozen_at=NOW, until=NOW + timedelta(hours=1)
            )
        },
    )
    held = snapshot(cash("USD", "230"), bonk(), holding("SEI", "0.2", "0.1563"))
    p = decisions(plan(held, spec(protected=["BONK"]), memory=memory))
    assert p["BONK-USD"].kind is ExitKind.KEEP and p["SEI-USD"].rule is Rule.HOLD_OFF


def test_a_zombie_wins_over_ineligibility() -> None:
    unknown = holding("AUT", "10", "1", status=None)  # unknown product is also ineligible
    assert decisions(plan(snapshot(cash("USD", "230"), unknown)))["AUT-USD"].rule is Rule.ZOMBIE
