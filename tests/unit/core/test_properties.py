"""Properties of the planner that must hold for every account, not just the documents' ones."""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanslate.api.account import (
    FrozenSymbol,
    PurgeFailure,
    TradingAccountSpec,
    UnwindProgress,
)
from cleanslate.api.policy import Backoff, BackoffStep, PurgePolicySpec
from cleanslate.core.backoff import backoff_delay
from cleanslate.core.decisions import ExitKind, Rule
from cleanslate.core.holdings import Holding, Snapshot
from cleanslate.core.market import ProductStatus
from cleanslate.core.planning import Memory, plan_cycle
from cleanslate.core.verification import verify

from .builders import NOW, holding, order, policy, spec

ASSETS = ["SEI", "WLFI", "BONK", "SOL", "XRP", "AUT", "DOGE", "USD", "USDC", "USDT", "BTC", "ETH"]
PRODUCTS = [f"{a}-USD" for a in ASSETS]

quantities = st.decimals(min_value=Decimal("0.000001"), max_value=10**7, places=6)
prices = st.none() | st.decimals(min_value=Decimal("0.00000001"), max_value=10**5, places=8)
statuses = st.sampled_from([ProductStatus.TRADEABLE, ProductStatus.TRADEABLE, None, *ProductStatus])
volumes = st.sampled_from([Decimal(0), Decimal(2_500_000), Decimal(50_000_000)])


@st.composite
def holdings(draw: st.DrawFn, asset: str) -> Holding:
    quantity = draw(quantities)
    share = draw(st.sampled_from([Decimal(1), Decimal(1), Decimal("0.5"), Decimal(0)]))
    price = draw(prices)
    return holding(
        asset,
        quantity,
        price,
        available=quantity * share,
        status=draw(statuses),
        volume=draw(volumes),
        price_lost=price is None and draw(st.booleans()),
    )


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    assets = draw(st.lists(st.sampled_from(ASSETS), unique=True, max_size=8))
    held = tuple(draw(holdings(a)) for a in assets)
    ages = draw(st.lists(st.integers(0, 120), max_size=3))
    orders = tuple(
        order(draw(st.sampled_from(PRODUCTS)), timedelta(minutes=m), order_id=f"o{i}")
        for i, m in enumerate(ages)
    )
    return Snapshot(NOW, held, orders)


@st.composite
def accounts(draw: st.DrawFn) -> TradingAccountSpec:
    tracked_products = draw(st.lists(st.sampled_from(PRODUCTS), unique=True, max_size=6))
    entries = {
        p: draw(st.none() | st.sampled_from(["0.0001", "1", "150"])) for p in tracked_products
    }
    protected = draw(st.lists(st.sampled_from(ASSETS + PRODUCTS), unique=True, max_size=3))
    return spec(tracked=entries, protected=protected)


@st.composite
def policies(draw: st.DrawFn) -> PurgePolicySpec:
    return policy(
        maxPositions=draw(st.integers(0, 6)),
        maxLiquidationsPerCycle=draw(st.integers(0, 4)),
        minLiquidationValueUsd=draw(st.sampled_from([0, 1, 5, 20])),
        minPositionUsd=draw(st.sampled_from([0, 7.5, 50])),
        autoLiquidateIneligible=draw(st.booleans()),
        dust={"action": draw(st.sampled_from(["Ignore", "Close"]))},
        exposure={
            "maxTotalAtRiskPct": draw(st.sampled_from([0, 25, 100])),
            "trimIntervalCycles": draw(st.integers(1, 3)),
        },
        **draw(
            st.sampled_from(
                [
                    {"quoteCurrencies": ["USD", "USDC", "USDT", "BTC", "ETH"]},
                    {"quoteCurrencies": ["USD"], "releasedQuoteCurrencies": ["BTC", "ETH"]},
                ]
            )
        ),
    )


@st.composite
def memories(draw: st.DrawFn) -> Memory:
    failing = draw(st.lists(st.sampled_from(PRODUCTS), unique=True, max_size=3))
    failures = {
        p: PurgeFailure(
            failure_count=draw(st.integers(1, 7)),
            last_failed_at=NOW - timedelta(minutes=draw(st.integers(0, 600))),
        )
        for p in failing
    }
    frozen = {
        p: FrozenSymbol(consecutive_failures=3, frozen_at=NOW, until=NOW + timedelta(hours=1))
        for p in draw(st.lists(st.sampled_from(PRODUCTS), unique=True, max_size=2))
    }
    unwinding = {
        p: UnwindProgress(
            cycle=c, remaining_fraction=Decimal("0.75") ** c, started_at=NOW, last_cycle_at=NOW
        )
        for p in draw(st.lists(st.sampled_from(PRODUCTS), unique=True, max_size=2))
        if (c := draw(st.integers(0, 5))) >= 0
    }
    return Memory(failures, unwinding, frozen, draw(st.integers(0, 10)))


PLAN_SETTINGS = settings(max_examples=100, deadline=None)


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories())
def test_no_plan_sells_more_than_is_available(
    snap: Snapshot, account: TradingAccountSpec, pol: PurgePolicySpec, memory: Memory
) -> None:
    plan = plan_cycle(snap, account, pol, memory, NOW)
    available = {h.product_id: h.available for h in snap.holdings}
    for decision in plan.decisions:
        assert Decimal(0) <= decision.quantity <= available[decision.symbol]
    assert len(plan.purges) <= pol.max_liquidations_per_cycle
    assert all(p.sells and p in plan.decisions for p in plan.purges)


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories())
def test_no_plan_sells_a_quote_currency_or_a_protected_symbol(
    snap: Snapshot, account: TradingAccountSpec, pol: PurgePolicySpec, memory: Memory
) -> None:
    plan = plan_cycle(snap, account, pol, memory, NOW)
    protected = set(account.protected_symbols)
    for decision in plan.decisions:
        assert decision.asset not in pol.quote_currencies
        if decision.asset in protected or decision.symbol in protected:
            assert decision.quantity == 0 and not decision.sells
    positions = {h.asset for h in snap.holdings if h.asset not in pol.quote_currencies}
    assert {d.asset for d in plan.decisions} == positions


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories())
def test_equal_input_gives_an_equal_plan(
    snap: Snapshot, account: TradingAccountSpec, pol: PurgePolicySpec, memory: Memory
) -> None:
    first = plan_cycle(snap, account, pol, memory, NOW)
    copies = copy.deepcopy((snap, account, pol, memory))
    assert plan_cycle(*copies, NOW) == first
    assert plan_cycle(snap, account, pol, memory, NOW).plan_items() == first.plan_items()


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories())
def test_clean_exactly_when_nothing_blocks(
    snap: Snapshot, account: TradingAccountSpec, pol: PurgePolicySpec, memory: Memory
) -> None:
    result = verify(snap, account, pol, memory, NOW)
    assert result.clean == (result.blockers == ())


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories())
def test_no_plan_sells_a_strategy_position_over_the_cap_while_a_legacy_one_stays(
    snap: Snapshot, account: TradingAccountSpec, pol: PurgePolicySpec, memory: Memory
) -> None:
    plan = plan_cycle(snap, account, pol, memory, NOW)
    by_symbol = {c.symbol: c for c in plan.classified}
    aligned_closed = [
        d
        for d in plan.purges
        if d.rule is Rule.OVER_CAP
        and not by_symbol[d.symbol].legacy
        and by_symbol[d.symbol].verdict.eligible
    ]
    if not aligned_closed:
        return
    leaving = {d.symbol for d in plan.purges if d.kind in (ExitKind.PURGE, ExitKind.CLOSE)}
    held = {
        d.symbol
        for d in plan.decisions
        if d.kind in (ExitKind.SKIP, ExitKind.ESCALATE, ExitKind.IGNORE)
        and not d.reason.startswith("deferred")  # a deferred sale is not a held position
    }
    for c in plan.classified:
        if c.legacy and c.counts_toward_cap and not c.is_protected:
            assert c.symbol in leaving | held, (c.symbol, [d.symbol for d in aligned_closed])


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories())
def test_no_plan_sells_a_position_whose_price_is_unknown(
    snap: Snapshot, account: TradingAccountSpec, pol: PurgePolicySpec, memory: Memory
) -> None:
    plan = plan_cycle(snap, account, pol, memory, NOW)
    unpriced = {
        h.product_id
        for h in snap.holdings
        if h.price is None
        and not h.price_lost
        and h.product is not None
        and h.product.status is not ProductStatus.DELISTED
    }
    for decision in plan.decisions:
        if decision.symbol in unpriced:
            assert not decision.sells, decision


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories(), st.integers(0, 11))
def test_a_price_glitch_on_one_holding_never_causes_another_sale(
    snap: Snapshot,
    account: TradingAccountSpec,
    pol: PurgePolicySpec,
    memory: Memory,
    pick: int,
) -> None:
    priced = [
        h
        for h in snap.holdings
        if h.price is not None
        and h.asset not in ("USD", "USDC")
        and h.product is not None  # a glitch on a product the exchange lists
        and h.product.status is not ProductStatus.DELISTED
    ]
    if not priced:
        return
    victim = priced[pick % len(priced)]
    glitched = dataclasses.replace(victim, quote=None, price_error="503", price_lost=False)
    held = tuple(glitched if h is victim else h for h in snap.holdings)
    before = plan_cycle(snap, account, pol, memory, NOW)
    after = plan_cycle(Snapshot(snap.now, held, snap.open_orders), account, pol, memory, NOW)
    allowed = {d.symbol for d in before.purges} | {
        d.symbol for d in before.decisions if d.reason.startswith("deferred")
    }
    assert {d.symbol for d in after.purges} <= allowed - {victim.product_id}


steps = st.lists(
    st.tuples(st.integers(1, 50), st.integers(0, 86400)),
    min_size=0,
    max_size=6,
    unique_by=lambda s: s[0],
)


@given(steps, st.integers(0, 60), st.integers(0, 60))
def test_backoff_waits_never_decrease_with_more_failures(
    raw: list[tuple[int, int]], fewer: int, more_by: int
) -> None:
    ordered = sorted(raw)
    delays = sorted(d for _, d in ordered)  # a valid schedule: delays never decrease
    schedule = Backoff(
        schedule=[
            BackoffStep(failures=f, delay=timedelta(seconds=d))
            for (f, _), d in zip(ordered, delays, strict=True)
        ]
    ).schedule
    assert backoff_delay(fewer, schedule) <= backoff_delay(fewer + more_by, schedule)


@given(st.integers(1, 100))
def test_default_backoff_never_decreases(count: int) -> None:
    schedule = Backoff().schedule
    assert backoff_delay(count, schedule) <= backoff_delay(count + 1, schedule)
