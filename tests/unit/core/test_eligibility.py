"""Universe eligibility: tier floors in quote currency, overrides, exclusions and bans."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import Ban
from cleanslate.api.policy import Tier, Universe
from cleanslate.core.eligibility import judge_eligibility
from cleanslate.core.market import ProductStatus

from .builders import NOW, D, product, quote

TIERS = [
    Tier(
        name="t1",
        symbols=["BTC-USD", "SOL-USD"],
        min_quote_volume_usd=D("10000000"),
        max_spread_bps=D("25"),
        min_depth_usd=D("50000"),
        force_eligible=["BTC-USD"],
    ),
    Tier(
        name="t2",
        symbols=["DOGE-USD"],
        min_quote_volume_usd=D("5000000"),
        max_spread_bps=D("50"),
        min_depth_usd=D("10000"),
    ),
    Tier(name="t3", symbols=["SEI-USD"], min_quote_volume_usd=D("2000000")),
]
UNIVERSE = Universe(tiers=TIERS, global_min_quote_volume_usd=D("3000000"))


def judge(pid: str, volume: str = "50000000", **kw: object) -> tuple[bool, str | None, str]:
    asset = pid.split("-")[0]
    spread = D(str(kw.pop("spread", "10")))
    depth = D(str(kw.pop("depth", "1000000")))
    q = quote(pid, D("1"), volume=D(volume), spread_bps=spread, depth=depth)
    universe = kw.pop("universe", UNIVERSE)
    assert isinstance(universe, Universe)
    bans = kw.pop("bans", [])
    assert isinstance(bans, list)
    v = judge_eligibility(pid, q, product(asset), universe, bans, NOW)
    assert v.reasons, "every verdict carries its reasons"
    return v.eligible, v.tier, " | ".join(v.reasons)


def test_volume_is_judged_in_quote_currency_dollars() -> None:
    # The production fix: BTC's $565M quote volume passes; 5,928 (base units read as dollars)
    # would not. The quote carries quote-currency volume only, so the floor compares dollars.
    assert judge("SOL-USD", "564677608")[0]
    eligible, _, why = judge("SOL-USD", "5928")
    assert not eligible and "$5,928 below floor $10,000,000" in why


def test_each_tier_has_its_own_volume_floor() -> None:
    assert judge("DOGE-USD", "5000000")[:2] == (True, "t2")
    assert judge("DOGE-USD", "4999999")[:2] == (False, "t2")
    assert judge("SEI-USD", "2000000")[:2] == (True, "t3")
    assert not judge("SEI-USD", "1999999")[0]


def test_product_in_no_tier_faces_the_global_fallback_floor() -> None:
    assert judge("PEPE-USD", "3000000") == (True, None, "liquidity floors of global floor met")
    eligible, tier, why = judge("PEPE-USD", "2999999")
    assert (eligible, tier) == (False, None) and "floor $3,000,000" in why


def test_spread_and_depth_floors_apply_and_every_failure_is_a_reason() -> None:
    eligible, _, why = judge("DOGE-USD", "1000", spread="80", depth="500")
    assert not eligible
    assert "volume" in why and "spread" in why and "depth" in why


def test_force_eligible_bypasses_liquidity_checks_even_without_a_quote() -> None:
    assert judge("BTC-USD", "0", spread="500", depth="0")[0]
    v = judge_eligibility("BTC-USD", None, product("BTC"), UNIVERSE, [], NOW)
    assert v.eligible and "force-eligible" in v.reasons[0]


def test_force_eligible_does_not_override_an_exclusion_or_a_ban() -> None:
    excluded = UNIVERSE.model_copy(update={"excluded_symbols": ["BTC-USD"]})
    assert not judge("BTC-USD", universe=excluded)[0]
    assert not judge("BTC-USD", bans=[Ban(symbol="BTC-USD", reason="red flag")])[0]


def test_excluded_symbols_are_ineligible_whatever_their_liquidity() -> None:
    excluded = UNIVERSE.model_copy(update={"excluded_symbols": ["DOGE-USD"]})
    eligible, _, why = judge("DOGE-USD", universe=excluded)
    assert not eligible and why.startswith("excluded")


def test_a_ban_holds_until_it_expires() -> None:
    week = NOW + timedelta(days=7)
    ban = Ban(symbol="SOL-USD", reason="persistent_purge_failure", expires_at=week)
    eligible, _, why = judge("SOL-USD", bans=[ban])
    assert not eligible and "persistent_purge_failure" in why
    expired = ban.model_copy(update={"expires_at": NOW})
    assert judge("SOL-USD", bans=[expired])[0]


def test_a_ban_without_expiry_never_expires() -> None:
    eligible, _, why = judge("SOL-USD", bans=[Ban(symbol="SOL-USD")])
    assert not eligible and "never expires" in why


def test_a_ban_on_another_symbol_does_not_matter() -> None:
    assert judge("SOL-USD", bans=[Ban(symbol="DOGE-USD")])[0]


def test_unknown_suspended_and_delisted_products_are_ineligible() -> None:
    q = quote("SOL-USD", D("1"))
    unknown = judge_eligibility("SOL-USD", q, None, UNIVERSE, [], NOW)
    assert not unknown.eligible and "unknown product" in unknown.reasons[0]
    for status in (ProductStatus.SUSPENDED, ProductStatus.DELISTED):
        v = judge_eligibility("SOL-USD", q, product("SOL", status), UNIVERSE, [], NOW)
        assert not v.eligible and status.value in v.reasons[0]


def test_a_missing_quote_makes_an_ordinary_product_ineligible() -> None:
    v = judge_eligibility("DOGE-USD", None, product("DOGE"), UNIVERSE, [], NOW)
    assert not v.eligible and "no quote" in v.reasons[0]


def test_default_universe_judges_the_documents_tier3_tokens_by_the_2m_floor() -> None:
    for pid in ("SEI-USD", "WLFI-USD", "BONK-USD"):
        v = judge_eligibility(
            pid, quote(pid, D("0.1"), volume=D("2000000")), product(pid[:-4]), Universe(), [], NOW
        )
        assert v.eligible and v.tier == "tier3-event"
