"""Injected faults: seeded rates, per product and operation, the errors live venues raise."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.errors import (
    ExchangeError,
    ExchangeTimeout,
    InsufficientBalance,
    RateLimited,
    Unavailable,
)
from cleanslate.exchange.paper import PaperExchange

OpenPaper = Callable[..., PaperExchange]


def _sell(cid: str, pid: str = "DOGE-USD") -> OrderRequest:
    return OrderRequest(cid, pid, Side.SELL, Decimal(10), OrderType.MARKET)


async def _failures(ex: PaperExchange, calls: int) -> int:
    failed = 0
    for _ in range(calls):
        try:
            await ex.quote("DOGE-USD")
        except Unavailable:
            failed += 1
    return failed


async def test_faults_hit_at_their_seeded_rate(open_paper: OpenPaper) -> None:
    faults = [{"operation": "quote", "kind": "unavailable", "rate": 0.3}]
    failed = await _failures(open_paper(seed=9, faults=faults), 400)
    assert 90 < failed < 150
    assert failed == await _failures(open_paper(seed=9, faults=faults), 400), "deterministic"


async def test_rate_limit_carries_retry_after_and_raw_detail(open_paper: OpenPaper) -> None:
    ex = open_paper(faults=[{"kind": "rateLimit", "latency": "3s"}])
    with pytest.raises(RateLimited) as caught:
        await ex.balances()
    assert caught.value.retry_after == 3.0
    assert caught.value.retryable
    assert caught.value.detail.raw["status"] == 429


async def test_reject_fault_uses_the_configured_code(open_paper: OpenPaper) -> None:
    fault = {"operation": "place", "kind": "reject", "code": "INSUFFICIENT_FUND"}
    ex = open_paper(holdings={"DOGE": 100}, faults=[fault])
    with pytest.raises(InsufficientBalance) as caught:
        await ex.place_order(_sell("r1"))
    assert caught.value.detail.error == "INSUFFICIENT_FUND"
    assert await ex.quote("DOGE-USD"), "other operations are unaffected"


async def test_faults_can_target_one_product(open_paper: OpenPaper) -> None:
    fault = {"kind": "unavailable", "productId": "SEI-USD"}
    ex = open_paper(faults=[fault])
    await ex.quote("DOGE-USD")
    with pytest.raises(Unavailable):
        await ex.quote("SEI-USD")


async def test_latency_advances_the_clock(open_paper: OpenPaper, clock: SimulatedClock) -> None:
    ex = open_paper(faults=[{"operation": "balances", "kind": "latency", "latency": "1500ms"}])
    before = clock.now()
    await ex.balances()
    assert (clock.now() - before).total_seconds() == 1.5


async def test_a_timed_out_placement_sometimes_exists(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    ex = open_paper(holdings={"DOGE": 1000}, faults=[{"operation": "place", "kind": "timeout"}])
    outcomes = []
    for i in range(12):
        before = clock.now()
        with pytest.raises(ExchangeTimeout):
            await ex.place_order(_sell(f"t{i}"))
        assert (clock.now() - before).total_seconds() == 10.0
        outcomes.append(await ex.find_order(f"t{i}") is not None)
    assert any(outcomes) and not all(outcomes)


@pytest.mark.parametrize("kind", ["unavailable", "timeout", "rateLimit"])
async def test_temporary_faults_are_retryable(open_paper: OpenPaper, kind: str) -> None:
    ex = open_paper(faults=[{"operation": "openOrders", "kind": kind}])
    with pytest.raises(ExchangeError) as caught:
        await ex.open_orders()
    assert caught.value.retryable
    assert caught.value.detail.raw is not None
