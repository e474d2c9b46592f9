"""Issue 25 item 1: one unpriced holding does not stop every other exit. A sale is made when
it is made at both bounds of the unknown value (worth nothing, worth its last known value or
more than any account), and only a sale that differs between them waits."""

from __future__ import annotations

from cleanslate.core import uncertainty
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.holdings import Holding
from cleanslate.core.planning import CyclePlan, Memory, plan_cycle

from .builders import NOW, D, cash, holding, policy, snapshot, spec

PYTH = holding("PYTH", "200", None, price_error="price not available: 503")
NO_CAP = {"exposure": {"maxTotalAtRiskPct": 100}}


def plan(*held: Holding, account=None, memory=None, **pol) -> CyclePlan:  # type: ignore[no-untyped-def]
    return plan_cycle(snapshot(*held), account or spec(), policy(**pol), memory or Memory(), NOW)


def decided(p: CyclePlan) -> dict[str, Decision]:
    return {d.symbol: d for d in p.decisions}


def sold(p: CyclePlan) -> dict[str, tuple[ExitKind, Rule]]:
    return {d.symbol: (d.kind, d.rule) for d in p.purges}


def test_an_unpriced_coin_does_not_stop_a_legacy_unwind_of_another() -> None:
    doge = holding("DOGE", "1000", "0.32")  # $320, untracked: unwound in steps
    p = plan(cash("USD", "1500"), doge, PYTH, **NO_CAP)
    assert sold(p) == {"DOGE-USD": (ExitKind.UNWIND, Rule.LEGACY)}
    assert decided(p)["PYTH-USD"].kind is ExitKind.SKIP


def test_an_unpriced_coin_does_not_stop_an_over_cap_close_made_at_both_bounds() -> None:
    sol, xrp = holding("SOL", "2", "140"), holding("XRP", "40", "2.2")
    ada = holding("ADA", "100", "0.5")  # $50, untracked: the legacy position over the cap
    account = spec(tracked={"SOL-USD": "140", "XRP-USD": "2.2"})
    p = plan(cash("USD", "1500"), sol, xrp, ada, PYTH, account=account, maxPositions=2, **NO_CAP)
    assert sold(p) == {"ADA-USD": (ExitKind.CLOSE, Rule.OVER_CAP)}


def test_a_trim_justified_at_both_bounds_of_a_last_known_value_is_made() -> None:
    sol = holding("SOL", "10", "100")  # $1,000 tracked on a ~$2,000 account, cap 25 %
    memory = Memory(last_values={"PYTH-USD": D("20")})
    account = spec(tracked={"SOL-USD": "100"})
    p = plan(
        cash("USD", "1000"),
        sol,
        PYTH,
        account=account,
        memory=memory,
        exposure={"maxTotalAtRiskPct": 25},
    )
    trim = decided(p)["SOL-USD"]
    assert (trim.kind, trim.rule) == (ExitKind.TRIM, Rule.EXPOSURE)
    # $500 at the low bound (PYTH worth $0), $515 at the high one ($20): the smaller is sold
    assert trim.value_usd == D("500")


def test_a_trim_that_depends_on_an_unbounded_value_waits_alone_saying_why() -> None:
    # $9,000 of USDT unpriced, never priced before: the account may be 10 % at risk, not 60 %
    usdt = holding("USDT", "9000", None, price_error="429")
    sol = holding("SOL", "10", "100")
    doge = holding("DOGE", "1000", "0.32")
    account = spec(tracked={"SOL-USD": "100"})
    p = plan(cash("USD", "667"), usdt, sol, doge, account=account)
    waiting = decided(p)["SOL-USD"]
    assert (waiting.kind, waiting.quantity) == (ExitKind.SKIP, 0)
    assert "waits: not the same decision for every value" in waiting.reason
    assert "USDT-USD worth $0 to unbounded" in waiting.reason
    assert sold(p) == {"DOGE-USD": (ExitKind.UNWIND, Rule.LEGACY)}


def test_an_unpriced_position_does_not_shield_another_from_a_trim_the_low_bound_needs() -> None:
    # At $0 PYTH leaves SOL over the cap; worth more, PYTH adds to the excess and cannot be
    # sold itself: the trim of SOL is made at both bounds.
    sol = holding("SOL", "10", "100")
    account = spec(tracked={"SOL-USD": "100"})
    p = plan(cash("USD", "1000"), sol, PYTH, account=account, exposure={"maxTotalAtRiskPct": 25})
    assert sold(p) == {"SOL-USD": (ExitKind.TRIM, Rule.EXPOSURE)}


def test_with_every_price_known_nothing_waits() -> None:
    priced = holding("PYTH", "200", "0.1")
    doge = holding("DOGE", "1000", "0.32")
    p = plan(cash("USD", "1500"), doge, priced, **NO_CAP)
    assert "DOGE-USD" in sold(p)
    assert all("waits:" not in d.reason for d in p.decisions)


def test_two_unpriced_holdings_are_each_at_either_bound_not_both_at_once() -> None:
    # Found by the price-glitch property: at all-low SOL is half the account (trim); at
    # all-high PYTH's unbounded value is at risk and cannot be sold (trim again); but with
    # PYTH worth nothing and the USDT worth much, SOL is a sliver of the account and no trim
    # is due. The two corners agreeing is not enough: the sale waits.
    usdt = holding("USDT", "9000", None, price_error="429")
    sol = holding("SOL", "10", "100")
    account = spec(tracked={"SOL-USD": "100"})
    held = (cash("USD", "1000"), sol, PYTH, usdt)
    p = plan(*held, account=account, exposure={"maxTotalAtRiskPct": 25})
    waiting = decided(p)["SOL-USD"]
    assert (waiting.kind, waiting.quantity) == (ExitKind.SKIP, 0), waiting
    assert "waits: not the same decision for every value" in waiting.reason
    # the two corners alone agree on the trim: that is what the mixes are for
    bounds = uncertainty.bounds(snapshot(*held), {})
    assert bounds is not None and len(bounds.views) == 4


def test_beyond_the_exhaustive_count_each_unpriced_holding_flips_alone() -> None:
    many = [holding(a, "1", None, price_error="503") for a in ("AAA", "BBB", "CCC", "DDD",
                                                                 "EEE", "FFF")]  # fmt: skip
    bounds = uncertainty.bounds(snapshot(cash("USD", "10"), *many), {})
    assert bounds is not None
    assert len(bounds.views) == 2 + 2 * len(many)
