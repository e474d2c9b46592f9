"""Settlement currencies in the core: which market a holding sells through, how a currency is
priced in USD, and that rules a person writes are keyed by asset."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cleanslate.api.account import Ban, Category, TradingAccountSpec
from cleanslate.core.classification import classify, protects
from cleanslate.core.eligibility import judge_eligibility
from cleanslate.core.exits import below_exchange_minimum
from cleanslate.core.holdings import Holding
from cleanslate.core.market import Product, ProductStatus
from cleanslate.core.resuming import resume_refusal
from cleanslate.core.settlement import (
    Route,
    cash_currencies,
    par_currencies,
    routes,
    sale_market,
)

from .builders import NOW, holding, policy, quote, snapshot, spec

D = Decimal


def _product(product_id: str, status: ProductStatus = ProductStatus.TRADEABLE) -> Product:
    base, _, quote_currency = product_id.partition("-")
    return Product(product_id, base, quote_currency, D("0.1"), D("0.0001"), D("0.1"), D(5), status)


def _products(*ids: str, suspended: tuple[str, ...] = ()) -> dict[str, Product]:
    found = {p: _product(p) for p in ids}
    found.update({p: _product(p, ProductStatus.SUSPENDED) for p in suspended})
    return found


def _usdt(h: Holding, rate: str) -> Holding:
    """``h`` as if sold through its -USDT market, USDT worth ``rate`` dollars."""
    product = h.product and replace(h.product, product_id=f"{h.asset}-USDT", quote="USDT")
    return replace(h, product_id=f"{h.asset}-USDT", product=product, usd_rate=D(rate))


def _usdt_spec(**extra: object) -> TradingAccountSpec:
    return TradingAccountSpec.model_validate(
        {"policyRef": {"name": "default"}, "settlementCurrencies": ["USDT"], **extra}
    )


def test_a_holding_sells_through_the_first_tradeable_market_of_the_list() -> None:
    products = _products("SEI-USDC", suspended=("SEI-USDT",))
    assert sale_market("SEI", ["USDT", "USDC"], products) == "SEI-USDC"
    assert sale_market("SEI", ["USDT", "USDC"], _products("SEI-USDT", "SEI-USDC")) == "SEI-USDT"


def test_with_nothing_tradeable_the_first_listed_market_names_the_holding() -> None:
    assert sale_market("SEI", ["USDT", "USDC"], _products(suspended=("SEI-USDC",))) == "SEI-USDC"
    assert sale_market("SEI", ["USDT", "USDC"], {}) == "SEI-USDT"
    assert sale_market("SEI", ["USD"], {}) == "SEI-USD", "a [USD] account is as before"
    assert sale_market("USDT", ["USDT"], {}) == "USDT-USDT"


def test_routes_try_usd_then_par_then_through_other_settlement_currencies() -> None:
    found = [r.product_id for r in routes("EUR", {"USD", "USDC"}, ["USDT", "EUR"])]
    assert found == ["EUR-USD", "EUR-USDC", "USD-EUR", "USDC-EUR", "EUR-USDT", "USDT-EUR"]


def test_a_route_prices_at_what_a_sale_realises() -> None:
    usdc_usdt = quote("USDC-USDT", D("1.0000"), spread_bps=D(4))  # ask 1.0004
    assert Route("USDT", "USDC", True).rate(usdc_usdt) == 1 / usdc_usdt.ask
    assert Route("EUR", "USD", False).rate(quote("EUR-USD", D("1.08"))) == D("1.08")
    assert Route("EUR", "USD", False).rate(quote("EUR-USD", D(0))) is None


def test_par_currencies_are_usd_and_the_policy_list_only() -> None:
    assert par_currencies(policy()) == {"USD", "USDC"}
    assert par_currencies(policy(usdParCurrencies=[])) == {"USD"}


def test_settlement_currencies_must_not_repeat_and_default_to_usd() -> None:
    assert spec().settlement_currencies == ["USD"]
    with pytest.raises(ValidationError, match="repeats USDT"):
        _usdt_spec(settlementCurrencies=["USDT", "USDT"])
    with pytest.raises(ValidationError):
        _usdt_spec(settlementCurrencies=[])


def test_a_settlement_currency_is_cash_even_when_the_policy_releases_it() -> None:
    released = policy(releasedQuoteCurrencies=["USDT"])
    assert "USDT" in cash_currencies(_usdt_spec(), released)
    assert "USDT" not in cash_currencies(spec(), released)
    usdt = replace(holding("USDT", "500", "1"), unit_usd=D("0.999"))
    classified = classify(snapshot(usdt), _usdt_spec(), released)
    assert classified == (), "USDT is what the account sells into: never a position"
    refusal = resume_refusal("USDT-USDC", _usdt_spec(mode="Live"), released, {}, NOW)
    assert refusal is not None and "settlement" in refusal


def test_a_holding_is_valued_in_usd_through_its_quote_currency() -> None:
    sei = _usdt(holding("SEI", "100", "0.20"), "0.998")
    assert sei.price == D("0.20") * D("0.998")
    assert sei.quote_price == D("0.20")
    assert sei.value_usd == D(100) * D("0.20") * D("0.998")
    unpriced = replace(sei, usd_rate=None)
    assert unpriced.price is None and unpriced.value_usd is None


def test_liquidity_floors_are_judged_in_usd() -> None:
    """A KRW market's volume is millions of KRW: judged raw it would pass a USD floor."""
    sei = holding("SEI", "100", "200", volume=D(3_000_000))
    krw = replace(sei, product_id="SEI-KRW", usd_rate=D("0.0007"))
    universe = policy().universe
    raw = judge_eligibility(krw.product_id, krw.quote, krw.product, universe, (), NOW)
    usd = judge_eligibility(krw.product_id, krw.usd_quote, krw.product, universe, (), NOW)
    assert raw.eligible and not usd.eligible
    assert any("below floor" in r for r in usd.reasons)


def test_the_exchange_minimum_is_compared_in_the_market_quote_currency() -> None:
    """5 USDT minimum: 30 units at 0.2 USDT is 6 USDT, sellable, whatever USDT is worth."""
    sei = _usdt(holding("SEI", "30", "0.2"), "0.8")  # $4.80, but 6 USDT
    assert sei.product is not None
    sei = replace(sei, product=replace(sei.product, min_notional=D(5)))
    assert below_exchange_minimum(sei, D(30)) is None
    why = below_exchange_minimum(sei, D(20))
    assert why is not None and "5 USDT" in why


def test_universe_rules_written_for_usd_cover_the_asset_on_any_market() -> None:
    """A policy written for Coinbase (-USD ids) applies unchanged on a USDT account."""
    p = policy(universe={"excludedSymbols": ["WLFI-USD"]})
    wlfi = _usdt(holding("WLFI", "100", "0.14"), "1")
    verdict = judge_eligibility(wlfi.product_id, wlfi.quote, wlfi.product, p.universe, (), NOW)
    assert not verdict.eligible and "excluded" in verdict.reasons[0]
    tiers = policy().universe
    btc = _usdt(holding("BTC", "0.01", "95000", volume=D(20_000_000_000)), "1")
    forced = judge_eligibility(btc.product_id, btc.quote, btc.product, tiers, (), NOW)
    assert forced.tier == "tier1-core" and forced.eligible
    ban = Ban(symbol="SEI-USD", reason="red flag")
    sei = _usdt(holding("SEI", "100", "0.2"), "1")
    banned = judge_eligibility(sei.product_id, sei.quote, sei.product, tiers, [ban], NOW)
    assert "banned" in banned.reasons[0]
    assert protects(_usdt_spec(protectedSymbols=["SEI-USD"]), "SEI-USDT")


def test_a_tracker_entry_for_another_market_still_tracks_the_asset() -> None:
    """Being untracked would make it a sale: ETH-USD in the tracker keeps ETH-USDT."""
    account = _usdt_spec(trackedPositions=[{"symbol": "ETH-USD", "entryPrice": "3000"}])
    eth = _usdt(holding("ETH", "1", "3100"), "1")
    (only,) = classify(
        snapshot(eth), account, policy(quoteCurrencies=["USD"], releasedQuoteCurrencies=["ETH"])
    )
    assert only.tracked is not None and only.category is Category.STRATEGY_ALIGNED
