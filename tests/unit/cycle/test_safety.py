"""Safety rules across whole cycles: a sale never exceeds the holding, quote currencies are
never sold, a restart mid-purge never places a second order, and faults do not cause extra
sells."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleanslate.api.account import AccountState, PaperFault, TradingAccountStatus
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.core.market import Side
from cleanslate.events import Reason
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange

from .harness import ACCOUNT, ProcessDied, Rig, account_spec, policy

D = Decimal
QUOTES = ("USD", "USDC", "USDT")
SMALL_CAPS = {  # asset -> (quantity step, most held)
    "SEI": (D("0.1"), 200),
    "WLFI": (D("0.1"), 200),
    "BONK": (D(1), 3_000_000),
    "ANKR": (D(1), 3_000),
    "AMP": (D(1), 10_000),
    "USDC": (D("0.01"), 60),
    "USDT": (D("0.01"), 60),
}


@st.composite
def small_accounts(draw: st.DrawFn) -> dict[str, Decimal]:
    assets = draw(
        st.lists(st.sampled_from(sorted(SMALL_CAPS)), min_size=1, max_size=4, unique=True)
    )
    holdings = {"USD": D(draw(st.integers(50, 300)))}
    for asset in assets:
        step, most = SMALL_CAPS[asset]
        holdings[asset] = step * draw(st.integers(1, int(most / step)))
    return holdings


async def balances_of(rig: Rig) -> dict[str, Decimal]:
    return {b.asset: b.total for b in await rig.exchange.inner.balances()}


def fault_free_ledger(rig: Rig) -> PaperExchange:
    """The account as saved, read through an instance without faults."""
    config = PaperConfig(market="calm")
    return open_paper_exchange(config, rig.clock, state_dir=rig.state_dir, account=ACCOUNT)


def assert_never_oversold(start: dict[str, Decimal], end: dict[str, Decimal], rig: Rig) -> None:
    for asset, held in start.items():
        final = end.get(asset, D(0))
        assert final >= 0, asset
        if asset == "USD":
            assert final >= held, "USD only grows from sales"
        else:
            assert final <= held, f"{asset} grew: nothing here buys"
    assert all(r.side is Side.SELL for r in rig.exchange.requests)
    quote_products = {f"{q}-USD" for q in QUOTES}
    assert not [r for r in rig.exchange.requests if r.product_id in quote_products]


async def sold_by_orders(exchange: PaperExchange, *rigs: Rig) -> dict[str, Decimal]:
    """Base quantity filled per asset, summed over the orders the cycles placed (each client
    order id once): what was sold, counted independently of the balances."""
    sold: dict[str, Decimal] = {}
    for client_id in {r.client_order_id for rig in rigs for r in rig.exchange.requests}:
        order = await exchange.find_order(client_id)
        if order is not None:
            asset = order.product_id.split("-")[0]
            sold[asset] = sold.get(asset, D(0)) + order.filled_size
    return sold


def assert_sold_within_holdings(
    start: dict[str, Decimal], end: dict[str, Decimal], sold: dict[str, Decimal]
) -> None:
    for asset, quantity in sold.items():
        assert quantity <= start.get(asset, D(0)), f"{asset}: sold more than held"
        assert start[asset] - end.get(asset, D(0)) == quantity, f"{asset}: ledger disagrees"


def assert_one_placement_per_client_id(rig: Rig) -> None:
    counts = Counter(r.client_order_id for r in rig.exchange.requests)
    assert [c for c, n in counts.items() if n > 1] == []


def assert_retries_reuse_the_client_id(rig: Rig) -> None:
    """Under faults a placement may be sent again, but only under the same client order id
    (the venue's idempotency key) and never after one was answered with an order."""
    answers: dict[str, list[bool]] = {}
    for request, answered in zip(rig.exchange.requests, rig.exchange.answered, strict=True):
        answers.setdefault(request.client_order_id, []).append(answered)
    for client_id, outcomes in answers.items():
        assert True not in outcomes[:-1], f"{client_id} placed again after an answer"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    holdings=small_accounts(),
    market=st.sampled_from(["documents", "calm"]),
    cycles=st.integers(1, 3),
)
async def test_no_sale_exceeds_the_holding_and_no_quote_is_sold(
    holdings: dict[str, Decimal], market: str, cycles: int
) -> None:
    rig = Rig(account_spec({k: str(v) for k, v in holdings.items()}, market=market), policy())
    start = await balances_of(rig)
    for _ in range(cycles):
        await rig.cycle()
        rig.wait_interval()
    end = await balances_of(rig)
    assert_never_oversold(start, end, rig)
    assert_sold_within_holdings(start, end, await sold_by_orders(rig.exchange.inner, rig))
    assert_one_placement_per_client_id(rig)


def attempt_of(client_order_id: str) -> str:
    return next(p for p in client_order_id.split("-") if p.startswith("a") and p[1:].isdigit())


@pytest.mark.parametrize("crash_at", [1, 2, 3])
async def test_restart_mid_purge_resumes_the_same_attempt_without_a_second_order(
    tmp_path: Path, crash_at: int
) -> None:
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")  # ~$28: several slices
    first = Rig(spec, policy(), state_dir=tmp_path)
    first.exchange.crash_after_place = crash_at
    start = await balances_of(first)
    with pytest.raises(ProcessDied):
        await first.cycle()
    persisted = first.persisted[-1]
    flight = persisted.in_flight["WLFI-USD"]
    restarted = Rig(spec, policy(), clock=first.clock, state_dir=tmp_path, status=persisted)
    restarted.clock.advance(30)
    await restarted.cycle()
    assert restarted.events.events[0].reason is Reason.PURGE_STARTED
    assert f"resuming attempt {flight.attempt}" in restarted.events.events[0].message
    resumed = {attempt_of(r.client_order_id) for r in restarted.exchange.requests}
    assert resumed <= {f"a{flight.attempt}"}
    both = first.exchange.requests + restarted.exchange.requests
    counts = Counter(r.client_order_id for r in both)
    assert [c for c, n in counts.items() if n > 1] == []
    assert restarted.status.in_flight == {}
    end = await balances_of(restarted)
    sold = await sold_by_orders(restarted.exchange.inner, first, restarted)
    assert_sold_within_holdings(start, end, sold)
    assert end["USD"] >= start["USD"]


async def test_restart_persists_in_flight_before_the_first_order_exists(tmp_path: Path) -> None:
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    rig = Rig(spec, policy(), state_dir=tmp_path)
    rig.exchange.crash_after_place = 1
    with pytest.raises(ProcessDied):
        await rig.cycle()
    assert len(rig.exchange.requests) == 1
    assert len(rig.persisted) == 1
    flight = rig.persisted[0].in_flight["WLFI-USD"]
    assert f"-a{flight.attempt}-s{flight.slice}-" in rig.exchange.requests[0].client_order_id
    assert flight.target_quantity <= D(200)


FAULTS = [  # per operation: 429, 5xx or a timeout, together ~20 % of calls
    PaperFault.model_validate({"operation": op, "kind": kind, "rate": "0.07"})
    for op in ("place", "getOrder", "quote", "balances")
    for kind in ("rateLimit", "unavailable", "timeout")
]
CLEANABLE = {"USD": "150", "SEI": "36.4", "WLFI": "57.5", "AMP": "3000", "SKL": "500"}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_faults_at_twenty_percent_still_end_clean_without_extra_sells(
    tmp_path: Path, seed: int
) -> None:
    spec = account_spec(CLEANABLE, market="calm", faults=FAULTS, seed=seed)
    rig = Rig(spec, policy(), state_dir=tmp_path)
    start = {asset: D(quantity) for asset, quantity in CLEANABLE.items()}
    for _ in range(12):
        await rig.cycle()
        if rig.status.account_state is AccountState.CLEAN:
            break
        rig.wait_interval()
    assert rig.status.account_state is AccountState.CLEAN, rig.status.blockers
    ledger = fault_free_ledger(rig)
    end = {b.asset: b.total for b in await ledger.balances()}
    assert_never_oversold(start, end, rig)
    assert_sold_within_holdings(start, end, await sold_by_orders(ledger, rig))
    assert_retries_reuse_the_client_id(rig)
    assert rig.status.in_flight == {}


async def test_crash_after_persisting_but_before_placing_places_the_order_once(
    tmp_path: Path,
) -> None:
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    first = Rig(spec, policy(), state_dir=tmp_path)

    async def persist_then_die(status: TradingAccountStatus) -> None:
        first.persisted.append(status)
        raise ProcessDied

    first.persist = persist_then_die  # type: ignore[method-assign]
    with pytest.raises(ProcessDied):
        await first.cycle()
    assert first.exchange.requests == []
    persisted = first.persisted[-1]
    flight = persisted.in_flight["WLFI-USD"]
    restarted = Rig(spec, policy(), clock=first.clock, state_dir=tmp_path, status=persisted)
    await restarted.cycle()
    placed = [r.client_order_id for r in restarted.exchange.requests]
    assert placed and all(attempt_of(c) == f"a{flight.attempt}" for c in placed)
    assert len(placed) == len(set(placed))
    assert restarted.status.next_attempt == persisted.next_attempt
    assert restarted.status.in_flight == {}
