"""Issue 25 items 3, 4 and 7: what the exposure cap counts, and in which order it trims.

3. residuals and crumbs do not count (seed 000 §6: a residual is "ignored in exposure
   calculations");
4. over the exposure cap legacy goes first, as over the position cap, and a strategy
   position is trimmed only by what remains above the cap once the legacy exits are counted;
7. cash is never exposure."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cleanslate.api.crds import structural_schema
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.holdings import Holding
from cleanslate.core.planning import CyclePlan, Memory, plan_cycle

from .builders import NOW, THIN_VOLUME, D, cash, holding, policy, snapshot, spec

CAP_25 = {"exposure": {"maxTotalAtRiskPct": 25}}


def plan(*held: Holding, account=None, **pol) -> CyclePlan:  # type: ignore[no-untyped-def]
    return plan_cycle(snapshot(*held), account or spec(), policy(**pol), Memory(), NOW)


def decided(p: CyclePlan) -> dict[str, Decision]:
    return {d.symbol: d for d in p.decisions}


def test_residuals_and_crumbs_do_not_push_a_strategy_position_over_the_exposure_cap() -> None:
    sol = holding("SOL", "0.4", "150")  # $60 tracked: 24 % of a ~$249 account
    sei = holding("SEI", "25", "0.16", volume=THIN_VOLUME)  # $4 ineligible residual
    wlfi = holding("WLFI", "30", "0.15", volume=THIN_VOLUME)  # $4.50 ineligible residual
    crumb = holding("DOGE", "3", "0.16")  # $0.48: under the exchange's $1 minimum
    account = spec(tracked={"SOL-USD": "150"})
    p = plan(cash("USD", "180"), sol, sei, wlfi, crumb, account=account, **CAP_25)
    assert decided(p)["SOL-USD"].kind is ExitKind.KEEP
    assert p.at_risk_usd == D("60.0")


def test_over_the_exposure_cap_a_legacy_unwind_counts_whole_before_a_strategy_trim() -> None:
    sol = holding("SOL", "1.4667", "150")  # ~$220 tracked: 22 % of ~$1,000
    doge = holding("DOGE", "1625", "0.16")  # $260 untracked: unwound anyway
    account = spec(tracked={"SOL-USD": "150"})
    p = plan(cash("USD", "520"), sol, doge, account=account, **CAP_25)
    assert decided(p)["DOGE-USD"].kind is ExitKind.UNWIND
    assert decided(p)["SOL-USD"].kind is ExitKind.KEEP


def test_a_strategy_position_is_trimmed_only_by_what_remains_above_the_cap() -> None:
    sol = holding("SOL", "2", "150")  # $300 tracked: 30 % of ~$1,000
    doge = holding("DOGE", "1000", "0.16")  # $160 untracked: unwound anyway
    account = spec(tracked={"SOL-USD": "150"})
    p = plan(cash("USD", "540"), sol, doge, account=account, **CAP_25)
    trim = decided(p)["SOL-USD"]
    assert (trim.kind, trim.rule) == (ExitKind.TRIM, Rule.EXPOSURE)
    # $300 - $250 (rounded up to the increment): DOGE's whole $160 is leaving already
    assert D("50") <= (trim.value_usd or 0) < D("50.01")


def test_legacy_holdings_are_trimmed_before_strategy_positions() -> None:
    sol = holding("SOL", "4", "150")  # $600 tracked, strategy-aligned
    ada = holding("ADA", "400", "0.5")  # $200 tracked but excluded, kept (no auto-purge): B
    account = spec(tracked={"SOL-USD": "150", "ADA-USD": "0.5"})
    p = plan(
        cash("USD", "200"),
        sol,
        ada,
        account=account,
        autoLiquidateIneligible=False,
        universe={"excludedSymbols": ["ADA-USD"]},
        **CAP_25,
    )
    trims = {d.symbol: round(d.value_usd or 0) for d in p.decisions if d.rule is Rule.EXPOSURE}
    assert trims == {"ADA-USD": 200, "SOL-USD": 350}


def test_the_currency_the_account_sells_into_cannot_be_released() -> None:
    with pytest.raises(ValidationError, match="releasedQuoteCurrencies: USD is the currency"):
        policy(releasedQuoteCurrencies=["USD"])
    schema = structural_schema(PurgePolicySpec)
    rules = [r["rule"] for r in schema.get("x-kubernetes-validations", [])]
    assert any("releasedQuoteCurrencies" in r and "'USD'" in r for r in rules)


def test_cash_is_never_a_position_whatever_the_policy_says() -> None:
    forced = PurgePolicySpec().model_copy(
        update={"quote_currencies": [], "released_quote_currencies": ["USD"]}
    )
    sol = holding("SOL", "1", "150")
    p = plan_cycle(
        snapshot(cash("USD", "1140"), sol), spec(tracked={"SOL-USD": "150"}), forced, Memory(), NOW
    )
    assert [c.symbol for c in p.classified] == ["SOL-USD"]
    assert p.at_risk_usd == D("150")
    assert decided(p)["SOL-USD"].kind is ExitKind.KEEP


def test_a_trim_that_would_leave_a_stub_under_the_minimum_position_closes_whole() -> None:
    # $12 of SOL on $100 with a 10 % cap: the $5 minimum trim would leave $7, which
    # normalization closes next cycle. One decision: the position is closed whole now.
    sol = holding("SOL", "0.08", "150")
    account = spec(tracked={"SOL-USD": "150"})
    p = plan(cash("USD", "88"), sol, account=account, exposure={"maxTotalAtRiskPct": 10})
    trim = decided(p)["SOL-USD"]
    assert (trim.rule, trim.quantity) == (Rule.EXPOSURE, D("0.08"))
    assert "closed whole" in trim.reason


def test_a_released_usdc_is_sold_because_it_is_released_not_for_a_missing_quote() -> None:
    usdc = cash("USDC", "60")  # par-valued: no quote is fetched for it
    released = {
        "quoteCurrencies": ["USD", "USDT", "BTC", "ETH"],
        "releasedQuoteCurrencies": ["USDC"],
    }
    p = plan(cash("USD", "500"), usdc, **released)
    sale = decided(p)["USDC-USD"]
    assert sale.kind is ExitKind.PURGE
    assert "no quote" not in sale.reason
    assert sale.reason.startswith("ineligible (released quote currency: not a strategy asset)")
