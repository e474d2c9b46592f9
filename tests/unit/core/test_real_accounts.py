"""Decisions on accounts other than the documents' small example: what is sold, what is kept,
and when the account may call itself CLEAN."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import FrozenSymbol, LeaveAlone
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.holdings import Holding
from cleanslate.core.market import ProductStatus
from cleanslate.core.planning import CyclePlan, Memory, plan_cycle
from cleanslate.core.verification import verify

from .builders import NOW, THIN_VOLUME, D, cash, failure, holding, policy, snapshot, spec

BIG_BANK = cash("USD", "9863")  # with SEI and WLFI below, a $10,000 account
SEI_56 = holding("SEI", "358.3", "0.1563", volume=THIN_VOLUME)  # ~$56, ineligible
WLFI_81 = holding("WLFI", "566", "0.1431", volume=THIN_VOLUME)  # ~$81, ineligible
NO_CAP = {"exposure": {"maxTotalAtRiskPct": 100}}


def plan(*held: Holding, account=None, memory=None, **pol) -> CyclePlan:  # type: ignore[no-untyped-def]
    return plan_cycle(snapshot(*held), account or spec(), policy(**pol), memory or Memory(), NOW)


def decided(p: CyclePlan) -> dict[str, Decision]:
    return {d.symbol: d for d in p.decisions}


# --- 1. the purge floor wins over the percentage dust rule ----------------------------------


def test_a_large_account_purges_ineligible_coins_worth_the_floor_under_one_percent() -> None:
    p = plan(BIG_BANK, SEI_56, WLFI_81)
    assert [(d.symbol, d.kind, d.rule) for d in p.purges] == [
        ("WLFI-USD", ExitKind.PURGE, Rule.INELIGIBLE),
        ("SEI-USD", ExitKind.PURGE, Rule.INELIGIBLE),
    ]


def test_a_large_account_holding_ineligible_coins_is_not_clean_until_they_are_sold() -> None:
    before = verify(snapshot(BIG_BANK, SEI_56, WLFI_81), spec(), policy(), Memory(), NOW)
    assert not before.clean
    assert before.ignored == ()
    after = verify(snapshot(cash("USD", "10000")), spec(), policy(), Memory(), NOW)
    assert after.clean


def test_eligible_crumbs_are_dust_but_positions_are_not_whatever_the_percentage() -> None:
    crumb = holding("DOGE", "30", "0.2")  # $6: a crumb, under minPositionUsd and under 1 %
    dust = decided(plan(BIG_BANK, crumb))["DOGE-USD"]
    # closed under the default dust action Close (issue 25 item 2; was Ignore)
    assert (dust.kind, dust.rule) == (ExitKind.CLOSE, Rule.DUST)
    position = holding("DOGE", "300", "0.2")  # $60: 0.6 % of $10k, yet a position
    legacy = decided(plan(BIG_BANK, position))["DOGE-USD"]
    assert legacy.rule is not Rule.DUST


# --- 2. a price glitch never sells a position -----------------------------------------------


def test_one_failed_price_fetch_on_a_tracked_force_eligible_position_sells_nothing() -> None:
    sol = holding("SOL", "10", None, price_error="price not available: 503 Service Unavailable")
    p = plan(BIG_BANK, sol, account=spec(tracked={"SOL-USD": "150"}))
    assert p.purges == ()
    held = decided(p)["SOL-USD"]
    assert (held.kind, held.rule, held.quantity) == (ExitKind.SKIP, Rule.HOLD_OFF, 0)
    assert held.reason.startswith("price unknown (price not available: 503")


def test_an_unpriced_holding_is_reported_and_blocks_clean_rather_than_being_called_clean() -> None:
    sol = holding("SOL", "10", None, price_error="rate limited")
    result = verify(
        snapshot(BIG_BANK, sol), spec(tracked={"SOL-USD": "150"}), policy(), Memory(), NOW
    )
    assert result.blockers == ("SOL-USD: price unknown this cycle: not verified",)


def test_an_unpriced_ineligible_holding_is_not_sold_either() -> None:
    blind = holding("WLFI", "566", None, price_error="timeout")
    assert plan(BIG_BANK, blind).purges == ()


def test_a_product_the_exchange_says_is_gone_is_a_zombie_and_gets_its_one_exit() -> None:
    gone = holding("AUT", "100", None, price_error="product not found", price_lost=True)
    p = plan(BIG_BANK, gone)
    assert [(d.symbol, d.kind, d.rule) for d in p.purges] == [
        ("AUT-USD", ExitKind.CLOSE, Rule.ZOMBIE)
    ]


def test_a_glitch_on_one_holding_does_not_stop_an_unwind_made_at_every_account_value() -> None:
    # Issue 25 item 1 (was: every NAV-dependent sale waited while SOL was unpriced). $60 of
    # untracked DOGE is a legacy position whether the $5k SOL is worth nothing or more: its
    # unwind step is the same at both bounds and is made; SOL itself is held.
    doge = holding("DOGE", "300", "0.2")
    sol = holding("SOL", "33.3", None, price_error="503")
    p = plan(cash("USD", "4940"), doge, sol, account=spec(tracked={"SOL-USD": "150"}), **NO_CAP)
    assert [(d.symbol, d.kind) for d in p.purges] == [("DOGE-USD", ExitKind.UNWIND)]
    assert decided(p)["SOL-USD"].kind is ExitKind.SKIP


def test_an_unpriced_quote_currency_holds_exposure_trims() -> None:
    # $9,000 of USDT unpriced: the account looks 60 % at risk instead of 10 %.
    usdt = holding("USDT", "9000", None, price_error="429")
    sol = holding("SOL", "10", "100")
    p = plan(cash("USD", "667"), usdt, sol, account=spec(tracked={"SOL-USD": "100"}))
    assert p.purges == ()
    assert decided(p)["SOL-USD"].kind is ExitKind.SKIP


def test_a_frozen_quote_currency_still_holds_exposure_trims() -> None:
    # BTC frozen after repeated price failures: its price is lost for the freeze, yet the
    # product is listed, so the account is not worth $1,667 and SOL must not be trimmed.
    btc = holding("BTC", "1", None, price_error="frozen", price_lost=True)
    sol = holding("SOL", "10", "100")
    p = plan(cash("USD", "667"), btc, sol, account=spec(tracked={"SOL-USD": "100"}))
    assert p.purges == ()
    assert decided(p)["SOL-USD"].kind is ExitKind.SKIP


def test_a_delisted_zombie_adds_nothing_and_holds_nothing_up() -> None:
    aut = holding("AUT", "100", None, status=ProductStatus.DELISTED, price_lost=True)
    sol = holding("SOL", "10", "100")
    p = plan(cash("USD", "667"), aut, sol, account=spec(tracked={"SOL-USD": "100"}))
    assert decided(p)["SOL-USD"].rule is Rule.EXPOSURE  # trimmed: AUT is worth nothing


def test_protected_and_left_alone_holdings_are_outside_the_exposure_and_position_caps() -> None:
    link = holding("LINK", "100", "13.8")  # $1,380, protected
    doge = holding("DOGE", "10000", "0.32")  # $3,200, left alone by a person
    sol, xrp = holding("SOL", "1", "140"), holding("XRP", "40", "2.2")
    kept = spec(tracked={"SOL-USD": "140", "XRP-USD": "2.2"}, protected=["LINK"])
    leave = [LeaveAlone(symbol="DOGE-USD", reason="selling it myself")]
    account = kept.model_copy(update={"leave_alone": leave})
    p = plan(cash("USD", "1000"), link, doge, sol, xrp, account=account, maxPositions=2)
    assert [d.symbol for d in p.decisions if d.sells] == []


# --- 3. over the cap, legacy positions go first ---------------------------------------------

TRACKED = {"XRP-USD": "2", "ADA-USD": "0.8", "SOL-USD": "150", "ARB-USD": "0.5"}


def mixed_account() -> tuple[Holding, ...]:
    """Four tracked strategy positions (small) and three untracked legacy ones (larger), on a
    $2,588 account (1 % is $26, so none of them is dust; 23 % at risk, under the cap)."""
    return (
        cash("USD", "2000"),
        holding("XRP", "20", "2"),  # $40
        holding("ADA", "60", "0.8"),  # $48
        holding("SOL", "0.4", "150"),  # $60
        holding("ARB", "140", "0.5"),  # $70
        holding("DOGE", "500", "0.2"),  # $100, untracked
        holding("LINK", "8", "15"),  # $120, untracked
        holding("AVAX", "5", "30"),  # $150, untracked
    )


def test_over_the_cap_untracked_legacy_positions_close_before_strategy_positions() -> None:
    p = plan(
        *mixed_account(), account=spec(tracked=TRACKED), maxPositions=5, maxLiquidationsPerCycle=8
    )
    closes = {d.symbol for d in p.purges if d.rule is Rule.OVER_CAP}
    assert closes == {"DOGE-USD", "LINK-USD"}
    for symbol in TRACKED:
        assert decided(p)[symbol].kind is ExitKind.KEEP


def test_strategy_positions_close_only_once_no_legacy_one_is_left_above_the_cap() -> None:
    p = plan(
        *mixed_account(), account=spec(tracked=TRACKED), maxPositions=2, maxLiquidationsPerCycle=8
    )
    closes = [d.symbol for d in p.purges if d.rule is Rule.OVER_CAP]
    assert set(closes) == {"DOGE-USD", "LINK-USD", "AVAX-USD", "XRP-USD", "ADA-USD"}


def test_the_sale_budget_takes_the_legacy_close_before_a_bigger_strategy_close() -> None:
    held = (cash("USD", "2000"), holding("SOL", "2", "150"), holding("DOGE", "500", "0.2"))
    account = spec(tracked={"SOL-USD": "150"})
    p = plan(*held, account=account, maxPositions=0, maxLiquidationsPerCycle=1)
    assert [d.symbol for d in p.purges] == ["DOGE-USD"]
    assert decided(p)["SOL-USD"].reason.startswith("deferred")


def test_a_legacy_position_in_backoff_blocks_instead_of_pushing_a_strategy_position_out() -> None:
    memory = Memory(
        purge_failures={"DOGE-USD": failure(3, timedelta(minutes=5))},
        frozen_symbols={
            "LINK-USD": FrozenSymbol(
                consecutive_failures=3, frozen_at=NOW, until=NOW + timedelta(hours=1)
            )
        },
    )
    p = plan(
        *mixed_account(),
        account=spec(tracked=TRACKED),
        memory=memory,
        maxPositions=5,
        maxLiquidationsPerCycle=8,
    )
    assert [d for d in p.purges if d.rule is Rule.OVER_CAP] == []
    assert decided(p)["DOGE-USD"].kind is ExitKind.SKIP
    assert decided(p)["LINK-USD"].kind is ExitKind.SKIP
    assert decided(p)["DOGE-USD"].reason.endswith("over cap, cannot be sold now: blocks CLEAN")
    snap = snapshot(*mixed_account())
    result = verify(snap, spec(tracked=TRACKED), policy(maxPositions=5), memory, NOW)
    assert "7 positions exceed the cap of 5" in result.blockers


# --- 4. CLEAN means clean -------------------------------------------------------------------


def test_a_tracked_coin_the_universe_rejects_is_purged_and_blocks_clean() -> None:
    account = spec(tracked={"WLFI-USD": "0.2"})
    p = plan(BIG_BANK, WLFI_81, account=account)
    assert decided(p)["WLFI-USD"].kind is ExitKind.PURGE
    result = verify(snapshot(BIG_BANK, WLFI_81), account, policy(), Memory(), NOW)
    assert not result.clean
    assert result.blockers[0].startswith("WLFI-USD: not strategy-aligned: not in the universe")


def test_a_tracked_rejected_coin_in_backoff_is_not_clean() -> None:
    account = spec(tracked={"WLFI-USD": "0.2"})
    memory = Memory(purge_failures={"WLFI-USD": failure(3, timedelta(minutes=5))})
    result = verify(snapshot(BIG_BANK, WLFI_81), account, policy(), memory, NOW)
    assert not result.clean


def test_a_strategy_position_the_plan_would_trim_is_not_clean() -> None:
    # $3,000 of tracked SOL on a $4,000 account is 75 % at risk, over the 25 % cap.
    sol = holding("SOL", "20", "150")
    snap = snapshot(cash("USD", "1000"), sol)
    result = verify(snap, spec(tracked={"SOL-USD": "150"}), policy(), Memory(), NOW)
    assert result.blockers[0].startswith("SOL-USD: plan says Trim")
    assert D(0) < sum(d.quantity for d in plan(cash("USD", "1000"), sol).purges)


# --- 10. smaller readings -------------------------------------------------------------------


def test_kept_positions_under_ten_dollars_are_listed_as_consolidation_candidates() -> None:
    # The normalization scan: BTC at $9.00 is a candidate; nothing is sold for it.
    small = (cash("USD", "100"), holding("SOL", "0.06", "150"), holding("XRP", "10", "2"))
    p = plan(*small, account=spec(tracked={"SOL-USD": "150", "XRP-USD": "2"}), **NO_CAP)
    sol, xrp = decided(p)["SOL-USD"], decided(p)["XRP-USD"]
    assert sol.kind is ExitKind.KEEP
    assert sol.reason == "strategy-aligned: keep; consolidation candidate ($9.00 under $10)"
    assert xrp.reason == "strategy-aligned: keep"
    assert p.purges == ()


def test_a_consolidation_candidate_does_not_block_clean() -> None:
    snap = snapshot(cash("USD", "100"), holding("SOL", "0.06", "150"))
    assert verify(snap, spec(tracked={"SOL-USD": "150"}), policy(**NO_CAP), Memory(), NOW).clean


def test_an_over_exposed_account_is_not_clean_between_trim_cycles_either() -> None:
    snap = snapshot(cash("USD", "1000"), holding("SOL", "20", "150"))
    pol = policy(exposure={"trimIntervalCycles": 3})
    account = spec(tracked={"SOL-USD": "150"})
    for cycles in range(3):
        assert not verify(snap, account, pol, Memory(cycles=cycles), NOW).clean


def test_blockers_quote_no_live_figures_so_an_unchanged_account_rewrites_nothing() -> None:
    account = spec(tracked={"WLFI-USD": "0.2"})
    thin, thinner = (holding("WLFI", "566", "0.1431", volume=D(v)) for v in ("1200000", "900000"))
    first = verify(snapshot(BIG_BANK, thin), account, policy(), Memory(), NOW).blockers
    second = verify(snapshot(BIG_BANK, thinner), account, policy(), Memory(), NOW).blockers
    assert first == second
    assert first[0].endswith("not in the universe: below the liquidity floors (volume)")
