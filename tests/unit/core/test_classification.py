"""Classification into A (strategy-aligned), B (legacy non-compliant) and C (zombie)."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import Category
from cleanslate.core.classification import Classified, classify
from cleanslate.core.market import ProductStatus

from .builders import NOW, THIN_VOLUME, D, cash, holding, policy, sei, snapshot, spec

A, B, C = Category.STRATEGY_ALIGNED, Category.LEGACY_NON_COMPLIANT, Category.ZOMBIE


def by_symbol(result: tuple[Classified, ...]) -> dict[str, Classified]:
    return {c.symbol: c for c in result}


BANK = cash("USD", "1000")


def test_tracked_position_with_entry_price_within_cap_is_strategy_aligned() -> None:
    result = classify(
        snapshot(BANK, holding("SOL", "1", "150")), spec(tracked={"SOL-USD": "140"}), policy()
    )
    (sol,) = result
    assert sol.category is A and not sol.reasons[0].startswith("untracked")
    assert sol.pnl == D("150") / D("140") - 1


def test_untracked_holding_with_a_price_is_legacy_not_zombie() -> None:
    (sol,) = classify(snapshot(BANK, holding("SOL", "1", "150")), spec(), policy())
    assert sol.category is B
    assert sol.reasons == ("untracked: opened outside the system",)
    assert sol.pnl is None


def test_over_cap_positions_are_legacy_and_they_are_the_ones_that_would_close_first() -> None:
    held = [holding("SOL", "1", "150"), holding("XRP", "100", "2"), holding("ADA", "100", "0.5")]
    tracked = spec(tracked={"SOL-USD": "150", "XRP-USD": "2", "ADA-USD": "0.5"})
    result = by_symbol(classify(snapshot(BANK, *held), tracked, policy(maxPositions=2)))
    assert result["ADA-USD"].category is B and result["ADA-USD"].over_cap  # smallest: $50
    assert "over cap: 3 positions, cap 2" in result["ADA-USD"].reasons
    assert result["SOL-USD"].category is A and result["XRP-USD"].category is A


def test_wrongly_sized_means_below_the_minimum_position_size() -> None:
    (sol,) = classify(
        snapshot(cash("USD", "200"), holding("SOL", "0.04", "150")),
        spec(tracked={"SOL-USD": "140"}),
        policy(),
    )
    assert sol.category is B and sol.undersized
    assert sol.reasons == ("wrongly sized: $6.00 below minimum $7.50",)


def test_unknown_and_delisted_products_are_zombies() -> None:
    unknown = holding("AUT", "10", "1", status=None)
    delisted = holding("LUNA", "10", "1", status=ProductStatus.DELISTED)
    result = by_symbol(classify(snapshot(BANK, unknown, delisted), spec(), policy()))
    assert result["AUT-USD"].category is C and "unknown asset pair" in result["AUT-USD"].reasons[0]
    assert result["LUNA-USD"].category is C and result["LUNA-USD"].reasons[0] == "delisted product"


def test_a_suspended_product_is_not_a_zombie_by_itself() -> None:
    # Tracked, but the universe rejects it: legacy (B), not strategy-aligned, not a zombie.
    paused = holding("SOL", "1", "150", status=ProductStatus.SUSPENDED)
    (sol,) = classify(snapshot(BANK, paused), spec(tracked={"SOL-USD": "150"}), policy())
    assert sol.category is B and not sol.verdict.eligible
    assert sol.reasons == ("not in the universe: product not tradeable: suspended",)


def test_a_tracked_coin_the_universe_rejects_is_not_strategy_aligned() -> None:
    thin = holding("XRP", "100", "2", volume=THIN_VOLUME)  # $200, under tier2's $5M floor
    (xrp,) = classify(snapshot(BANK, thin), spec(tracked={"XRP-USD": "2"}), policy())
    assert xrp.category is B and xrp.rejected and xrp.legacy


def test_a_lost_price_makes_a_zombie_even_when_tracked() -> None:
    blind = holding("AUT", "10", None, price_error="Price not available", price_lost=True)
    (aut,) = classify(snapshot(BANK, blind), spec(tracked={"AUT-USD": "1"}), policy())
    assert aut.category is C and aut.reasons == ("cannot fetch price: Price not available",)
    assert aut.value_usd is None


def test_one_failed_price_fetch_leaves_a_tracked_position_unpriced_not_a_zombie() -> None:
    glitch = holding("SOL", "10", None, price_error="price not available: 503")
    (sol,) = classify(snapshot(BANK, glitch), spec(tracked={"SOL-USD": "150"}), policy())
    assert sol.category is A and sol.unpriced
    assert sol.reasons[-1] == "price unknown (price not available: 503): held, not sold this cycle"


def test_tracked_without_entry_price_is_a_zombie() -> None:
    (sol,) = classify(
        snapshot(BANK, holding("SOL", "1", "150")), spec(tracked={"SOL-USD": None}), policy()
    )
    assert sol.category is C and sol.reasons == ("tracked without an entry price",)


def test_sei_residual_of_three_cents_is_dust_and_a_zombie() -> None:
    residual = holding("SEI", "0.2", "0.1563")  # the guide's $0.03 left after the TWAP
    (left,) = classify(snapshot(BANK, residual), spec(), policy())
    assert left.is_dust and left.category is C
    assert "dust: $0.03 below the dust threshold" in left.reasons


def test_dust_also_means_under_one_percent_of_the_account() -> None:
    # $6 of liquid DOGE in a $1,006 account is over $1 but under 1 % ($10.06).
    doge = holding("DOGE", "30", "0.2")
    (small,) = classify(snapshot(BANK, doge), spec(), policy())
    assert small.is_dust
    (not_dust,) = classify(snapshot(cash("USD", "200"), doge), spec(), policy())
    assert not not_dust.is_dust


def test_the_purge_floor_wins_over_the_percentage_dust_rule() -> None:
    # $10k account: 1 % is $100, yet $56 of ineligible SEI and $81 of WLFI are purgeable.
    sei56 = holding("SEI", "358.3", "0.1563", volume=THIN_VOLUME)
    wlfi81 = holding("WLFI", "566", "0.1431", volume=THIN_VOLUME)
    held = snapshot(cash("USD", "9863"), sei56, wlfi81)
    sei_c, wlfi_c = classify(held, spec(), policy())
    assert not sei_c.is_dust and not wlfi_c.is_dust
    assert sei_c.category is B and wlfi_c.category is B
    # Below the purge floor it is a residual at every account size, not percentage dust
    # (issue 25 item 2: was dust on a $10k account).
    (crumb,) = classify(
        snapshot(cash("USD", "9863"), sei()), spec(), policy(minLiquidationValueUsd=6)
    )
    assert not crumb.is_dust and crumb.is_residual


def test_quote_currencies_are_never_positions() -> None:
    held = [BANK, cash("USDC", "50"), cash("BTC", "0.01", "90000"), cash("ETH", "1", "3000")]
    assert classify(snapshot(*held), spec(), policy()) == ()


def test_a_default_quote_currency_left_out_of_the_list_is_still_never_a_position() -> None:
    held = snapshot(BANK, cash("ETH", "1", "3000"), cash("USDC", "50"))
    assert classify(held, spec(), policy(quoteCurrencies=["USD"])) == ()


def test_a_released_default_quote_currency_becomes_a_position() -> None:
    held = snapshot(BANK, cash("ETH", "1", "3000"))
    (eth,) = classify(held, spec(), policy(releasedQuoteCurrencies=["ETH"]))
    assert eth.symbol == "ETH-USD" and eth.category is B


def test_protected_holdings_are_classified_and_marked() -> None:
    (sol,) = classify(snapshot(BANK, holding("SOL", "1", "150")), spec(protected=["SOL"]), policy())
    assert sol.is_protected and "protected: never sold" in sol.reasons


def test_dust_and_residuals_do_not_count_toward_the_cap() -> None:
    held = [holding("SOL", "1", "150"), holding("ADA", "6", "0.5"), holding("XRP", "1", "2")]
    account = snapshot(cash("USD", "100"), *held)  # NAV $255: dust under $2.55
    result = by_symbol(classify(account, spec(tracked={"SOL-USD": "1"}), policy(maxPositions=1)))
    assert result["XRP-USD"].is_dust  # $2
    assert result["ADA-USD"].is_residual and not result["ADA-USD"].is_dust  # $3 < $5
    assert not result["SOL-USD"].over_cap and result["SOL-USD"].category is A


def test_positions_come_out_in_product_order_with_status_rows() -> None:
    held = [holding("SOL", "1", "150"), holding("ADA", "100", "0.5")]
    result = classify(snapshot(BANK, *held), spec(), policy())
    assert [c.symbol for c in result] == ["ADA-USD", "SOL-USD"]
    row = result[1].position_status()
    assert (row.symbol, row.quantity, row.value_usd, row.category) == ("SOL-USD", D(1), D(150), B)
    assert any(r.startswith("eligibility: ") for r in row.reasons)


def test_older_positions_rank_first_when_value_and_pnl_tie() -> None:
    held = [holding("SOL", "1", "100"), holding("AVAX", "1", "100"), holding("LINK", "1", "100")]
    opened = {"SOL-USD": NOW - timedelta(days=1), "AVAX-USD": NOW - timedelta(days=9)}
    tracked = spec(tracked={s: "100" for s in opened} | {"LINK-USD": "100"}, opened=opened)
    result = by_symbol(classify(snapshot(BANK, *held), tracked, policy(maxPositions=1)))
    # LINK has no opening time (treated as oldest), then AVAX (9 days); SOL stays.
    assert [s for s, c in result.items() if c.over_cap] == ["AVAX-USD", "LINK-USD"]
    assert result["SOL-USD"].category is A
