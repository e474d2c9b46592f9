"""Issue 25: for any account and any single unpriced holding, a sale is made only when it is
made at both bounds of that holding's value (worth nothing: left out; worth its last known
value, held since it cannot be judged), and the sales that do not depend on the account's
value are the same as with the price known."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanslate.core.decisions import Decision, Rule
from cleanslate.core.holdings import Holding, Snapshot
from cleanslate.core.market import Quote
from cleanslate.core.planning import CyclePlan, Memory, plan_cycle

from .builders import NOW, holding, policy, snapshot, spec

ASSETS = ["SEI", "WLFI", "BONK", "SOL", "XRP", "DOGE", "ADA", "LINK", "USDT"]
NAV_FREE = frozenset({Rule.ZOMBIE, Rule.INELIGIBLE, Rule.LEGACY})
"""Rules whose sales do not depend on the account's value (a legacy unwind step included:
a position unwound is at least minPositionUsd, above the percentage dust limit's cap)."""

values = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(3000), places=2)
volumes = st.sampled_from([Decimal(500_000), Decimal(50_000_000)])


@st.composite
def accounts(draw: st.DrawFn) -> tuple[Snapshot, Holding, Decimal, object, object]:
    assets = draw(st.lists(st.sampled_from(ASSETS), unique=True, min_size=2, max_size=6))
    unknown_asset, others = assets[0], assets[1:]
    held = [
        holding(a, draw(values) * 10, "0.1", volume=draw(volumes), price_lost=False) for a in others
    ]
    unknown = holding(unknown_asset, draw(values) * 10, None, price_error="503")
    cash = holding("USD", draw(values), "1")
    tracked = {h.product_id: "0.1" for h in held if draw(st.booleans())}
    pol = policy(
        maxPositions=draw(st.integers(1, 6)),
        maxLiquidationsPerCycle=50,
        exposure={"maxTotalAtRiskPct": draw(st.sampled_from([10, 25, 50, 100]))},
        dust={"action": draw(st.sampled_from(["Close", "Ignore"]))},
    )
    last = draw(values)
    return snapshot(cash, unknown, *held), unknown, last, spec(tracked=tracked), pol


def sales(p: CyclePlan) -> dict[str, Decision]:
    return {d.symbol: d for d in p.decisions if d.sells}


def worth(snap: Snapshot, unknown: Holding, value: Decimal | None) -> Snapshot:
    """The account with the unknown holding left out (None) or worth ``value`` but held."""
    if value is None:
        return dataclasses.replace(snap, holdings=tuple(h for h in snap.holdings if h != unknown))
    bid = value / unknown.quantity
    priced = dataclasses.replace(
        unknown, quote=Quote(unknown.product_id, bid, bid, None, Decimal(0), NOW), price_error=None
    )
    return dataclasses.replace(
        snap, holdings=tuple(priced if h == unknown else h for h in snap.holdings)
    )


@settings(max_examples=150, deadline=None)
@given(accounts())
def test_a_sale_is_made_only_when_it_is_made_at_both_bounds(account) -> None:  # type: ignore[no-untyped-def]
    snap, unknown, last, account_spec, pol = account
    memory = Memory(last_values={unknown.product_id: last})
    made = sales(plan_cycle(snap, account_spec, pol, memory, NOW))
    assert unknown.product_id not in made
    for bound in (None, last):
        at_bound = sales(plan_cycle(worth(snap, unknown, bound), account_spec, pol, memory, NOW))
        for symbol, decision in made.items():
            assert symbol in at_bound, (symbol, bound, decision.reason)
            assert decision.quantity <= at_bound[symbol].quantity


@settings(max_examples=150, deadline=None)
@given(accounts(), st.sampled_from(["0.0001", "0.1", "5"]))
def test_sales_that_do_not_depend_on_the_account_value_are_made_as_with_the_price_known(
    account, price: str
) -> None:  # type: ignore[no-untyped-def]
    snap, unknown, last, account_spec, pol = account
    memory = Memory(last_values={unknown.product_id: last})
    made = sales(plan_cycle(snap, account_spec, pol, memory, NOW))
    known = dataclasses.replace(
        snap,
        holdings=tuple(
            holding(h.asset, h.quantity, price) if h == unknown else h for h in snap.holdings
        ),
    )
    priced = sales(plan_cycle(known, account_spec, pol, memory, NOW))
    independent = {
        s: d for s, d in priced.items() if d.rule in NAV_FREE and s != unknown.product_id
    }
    for symbol, decision in independent.items():
        assert symbol in made, (symbol, decision.reason)
        assert made[symbol].quantity == decision.quantity
