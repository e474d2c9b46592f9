"""A venue that reports no 24h volume: unknown, never 0. The holding is held, neither judged
ineligible on volume nor sold, and blocks CLEAN with the reason (docs/design.md)."""

from __future__ import annotations

from dataclasses import replace

from cleanslate.api.policy import Tier, Universe
from cleanslate.core.decisions import ExitKind, Rule
from cleanslate.core.eligibility import VOLUME_UNKNOWN, judge_eligibility
from cleanslate.core.holdings import Holding
from cleanslate.core.planning import Memory, plan_cycle
from cleanslate.core.verification import verify

from .builders import NOW, D, cash, holding, policy, product, quote, snapshot, spec, wlfi

TIER = Tier(
    name="t2",
    symbols=["DOGE-USD"],
    min_quote_volume_usd=D("5000000"),
    max_spread_bps=D("50"),
    min_depth_usd=D("10000"),
)


def no_volume(held: Holding) -> Holding:
    assert held.quote is not None
    return replace(held, quote=replace(held.quote, quote_volume_24h=None))


def test_unknown_volume_is_neither_eligible_nor_ineligible() -> None:
    q = replace(quote("SEI-USD", D("0.1563")), quote_volume_24h=None)
    verdict = judge_eligibility("SEI-USD", q, product("SEI"), Universe(), [], NOW)
    assert not verdict.eligible and verdict.unknown
    assert verdict.reasons == (VOLUME_UNKNOWN,)


def test_a_floor_missed_on_something_known_still_decides() -> None:
    wide = replace(quote("DOGE-USD", D("0.2"), spread_bps=D("80")), quote_volume_24h=None)
    verdict = judge_eligibility("DOGE-USD", wide, product("DOGE"), Universe(tiers=[TIER]), [], NOW)
    assert not verdict.eligible and not verdict.unknown
    assert verdict.reasons[0].startswith("spread ") and "above max 50 bps" in verdict.reasons[0]


def test_without_a_volume_floor_an_unknown_volume_does_not_matter() -> None:
    q = replace(quote("SEI-USD", D("0.1563")), quote_volume_24h=None)
    universe = Universe(tiers=[], global_min_quote_volume_usd=D(0))
    assert judge_eligibility("SEI-USD", q, product("SEI"), universe, [], NOW).eligible
    forced = Universe()  # SOL-USD is force-eligible in the default tier1-core
    sol = replace(quote("SOL-USD", D("150")), quote_volume_24h=None)
    assert judge_eligibility("SOL-USD", sol, product("SOL"), forced, [], NOW).eligible


def test_a_holding_with_unknown_volume_is_held_not_purged_and_blocks_clean() -> None:
    bank = cash("USD", "230")
    known = plan_cycle(snapshot(bank, wlfi()), spec(), policy(), Memory(), NOW)
    assert [d.symbol for d in known.purges] == ["WLFI-USD"]  # thin volume: purged

    held = snapshot(bank, no_volume(wlfi()))
    unknown = plan_cycle(held, spec(), policy(), Memory(), NOW)
    assert unknown.purges == ()
    (decision,) = unknown.decisions
    assert (decision.kind, decision.rule) == (ExitKind.SKIP, Rule.HOLD_OFF)
    assert decision.reason == f"{VOLUME_UNKNOWN}: held, not sold"
    (classified,) = unknown.classified
    assert classified.volume_unknown and not classified.rejected
    assert classified.value_usd is not None  # the price is known: it counts in NAV
    assert "24h quote volume unknown: held, not sold" in classified.reasons

    result = verify(held, spec(), policy(), Memory(), NOW)
    assert not result.clean
    assert result.blockers == ("WLFI-USD: 24h quote volume unknown: not verified",)


def test_a_tracked_position_with_unknown_volume_is_held_too() -> None:
    doge = no_volume(holding("DOGE", "100", "0.2"))
    account = spec(tracked={"DOGE-USD": "0.18"})
    p = plan_cycle(snapshot(cash("USD", "1000"), doge), account, policy(), Memory(), NOW)
    (decision,) = p.decisions
    assert decision.kind is ExitKind.SKIP and VOLUME_UNKNOWN in decision.reason
