"""The TWAP shell against the paper exchange's ``documents`` market, on simulated time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

import pytest

from cleanslate.api.account import FaultKind, PaperFault
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.policy import BalanceFetch, Execution, Pace
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Order, OrderRequest
from cleanslate.core.twap import Leg, StopReason, client_order_id
from cleanslate.exchange.errors import Unavailable
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange
from cleanslate.exchange.port import Exchange
from cleanslate.execution import PlaceIntent, ResumeFrom, fetch_balances, run_twap

D = Decimal
MAKER_FIRST = Execution(pace=Pace.FIXED)
"""These tests are about the shell's handling of resting orders on the documents' SEI, whose
45 bps spread the adaptive pace (core.pace) would sell at once: the schedule is pinned."""
ACCOUNT = "ns/acct"


def paper(holdings: dict[str, str], clock: SimulatedClock, **config: Any) -> PaperExchange:
    cfg = PaperConfig(holdings={k: D(v) for k, v in holdings.items()}, **config)
    return open_paper_exchange(cfg, clock, account=ACCOUNT)


class Recording:
    """The paper exchange, recording every placement request (instrumentation, not a fake)."""

    def __init__(self, inner: PaperExchange, crash_after_place: bool = False) -> None:
        self.inner = inner
        self.requests: list[OrderRequest] = []
        self.crash_after_place = crash_after_place

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place_order(self, request: OrderRequest) -> Order:
        self.requests.append(request)
        order = await self.inner.place_order(request)
        if self.crash_after_place:
            raise ProcessDied
        return order


class ProcessDied(BaseException):
    """The operator's process is killed: no cleanup code runs (a BaseException, so nothing
    that handles errors catches it)."""


async def holding(exchange: Any, asset: str) -> Decimal:
    balances = await exchange.inner.balances() if isinstance(exchange, Recording) else None
    balances = balances or await exchange.balances()
    return sum((b.total for b in balances if b.asset == asset), D(0))


async def orders_of(exchange: PaperExchange, symbol: str, attempt: int, slices: int) -> list[Order]:
    found = []
    for s in range(1, slices + 1):
        for leg in (Leg.MAKER_FIRST, Leg.MAKER_RETRY, Leg.TAKER):
            order = await exchange.find_order(client_order_id(ACCOUNT, symbol, attempt, s, leg))
            if order is not None:
                found.append(order)
    return found


@pytest.mark.parametrize(
    ("symbol", "held", "sellable"), [("SEI-USD", "36.46", "36.4"), ("WLFI-USD", "57.54", "57.5")]
)
async def test_sei_and_wlfi_complete_with_dust_left(symbol: str, held: str, sellable: str) -> None:
    clock = SimulatedClock()
    base = symbol.split("-")[0]
    ex = paper({base: held, "USD": "100"}, clock)
    out = await run_twap(
        ex,
        clock,
        account=ACCOUNT,
        symbol=symbol,
        attempt=1,
        target_quantity=D(held),
        policy=MAKER_FIRST,
    )
    assert out.success and out.reason is StopReason.FILLED
    assert out.filled_quantity == D(sellable) and out.fees > 0
    dust = await holding(ex, base)
    assert 0 < dust < D("0.1") and dust * out.average_price < D("1")  # type: ignore[operator]
    assert out.api_calls >= 4 and len(out.requests) >= 1
    assert not await ex.open_orders()


async def test_bonk_fails_with_invalid_order_configuration_and_logs_order_reject(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = SimulatedClock()
    ex = paper({"BONK": "889587", "USD": "100"}, clock)
    with caplog.at_level(logging.INFO, logger="cleanslate.execution"):
        out = await run_twap(
            ex,
            clock,
            account=ACCOUNT,
            symbol="BONK-USD",
            attempt=1,
            target_quantity=D("889587"),
            policy=MAKER_FIRST,
        )
    assert not out.success and out.reason is StopReason.REJECTED
    assert out.reject is not None and out.reject.code == "INVALID_ORDER_CONFIGURATION"
    assert out.filled_quantity == 0 and out.residual_value_usd > D("8")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ORDER_REJECT")]
    assert len(lines) == 1
    assert lines[0].startswith(
        f"ORDER_REJECT BONK-USD SELL client_id={out.reject.client_order_id} |"
    )
    assert "error=INVALID_ORDER_CONFIGURATION" in lines[0] and "raw_response={" in lines[0]
    assert not await ex.open_orders()  # the first slice's resting order was cancelled


async def test_restart_mid_slice_places_no_second_order_for_that_slice() -> None:
    clock = SimulatedClock()
    inner = paper({"SEI": "400", "USD": "0"}, clock)  # $62: above the taker threshold
    persisted: list[PlaceIntent] = []

    async def persist(intent: PlaceIntent) -> None:
        persisted.append(intent)

    crashing = Recording(inner, crash_after_place=True)
    started = clock.now()
    with pytest.raises(ProcessDied):
        await run_twap(
            cast(Exchange, crashing),
            clock,
            account=ACCOUNT,
            symbol="SEI-USD",
            attempt=1,
            target_quantity=D("400"),
            policy=MAKER_FIRST,
            on_before_place=persist,
        )
    assert [p.slice_no for p in persisted] == [1] and len(crashing.requests) == 1
    first = crashing.requests[0].client_order_id
    assert (await inner.find_order(first)) is not None  # it was placed, then the process died

    clock.advance(3)
    again = Recording(inner)
    resume = ResumeFrom.from_in_flight(persisted[-1].to_in_flight("ineligible"))
    assert resume == ResumeFrom(
        started_at=started, target_quantity=D("400"), last_slice=1, pace=persisted[-1].pace
    )
    assert resume.pace is not None and resume.pace.decided_at == started  # kept for the restart
    out = await run_twap(
        cast(Exchange, again),
        clock,
        account=ACCOUNT,
        symbol="SEI-USD",
        attempt=1,
        target_quantity=D("400"),
        policy=MAKER_FIRST,
        resume=resume,
    )
    assert first not in {r.client_order_id for r in again.requests}
    assert all("-s1-" not in r.client_order_id for r in again.requests)
    assert out.success and out.filled_quantity == D("400")
    assert await holding(inner, "SEI") == 0 and not await inner.open_orders()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_faults_at_twenty_percent_never_oversell_or_duplicate(seed: int) -> None:
    clock = SimulatedClock()
    faults = [
        PaperFault(kind=FaultKind.RATE_LIMIT, rate=D("0.07")),
        PaperFault(kind=FaultKind.UNAVAILABLE, rate=D("0.07")),
        PaperFault(kind=FaultKind.TIMEOUT, rate=D("0.06")),
    ]
    inner = paper({"SEI": "2000", "WLFI": "300", "USD": "0"}, clock, seed=seed, faults=faults)
    ex = Recording(inner)
    sold: dict[str, Decimal] = {}
    for symbol, qty in (("SEI-USD", "2000"), ("WLFI-USD", "300")):
        out = await run_twap(
            cast(Exchange, ex),
            clock,
            account=ACCOUNT,
            symbol=symbol,
            attempt=1,
            target_quantity=D(qty),
            policy=MAKER_FIRST,
        )
        assert out.filled_quantity <= D(qty)
        # Read the paper account's books directly: the verification must not draw faults.
        placed = [o for o in inner._state.orders.values() if o.product_id == symbol]
        assert sum((o.filled_size for o in placed), D(0)) == out.filled_quantity
        assert {o.client_order_id for o in placed} <= {r.client_order_id for r in out.requests}
        assert all(o.status.is_final for o in placed)
        sold[symbol.split("-")[0]] = out.filled_quantity
    assert inner._state.balances["SEI"] == D("2000") - sold["SEI"] >= 0
    assert inner._state.balances["WLFI"] == D("300") - sold["WLFI"] >= 0
    overlapping = _overlaps([o for o in inner._state.orders.values()])
    assert not overlapping, "two orders of one purge were open at the same time"


def _overlaps(records: Sequence[Any]) -> list[tuple[str, str]]:
    """Pairs of same-product orders whose lives overlapped (from placement to final fill)."""
    spans = []
    for r in records:
        end = max((f.at for f in r.fills), default=r.created_at)
        spans.append((r.product_id, r.created_at, end, r.client_order_id))
    return [
        (a[3], b[3])
        for i, a in enumerate(spans)
        for b in spans[i + 1 :]
        if a[0] == b[0] and a[1] < b[1] < a[2]
    ]


async def test_placement_timeouts_find_the_order_instead_of_placing_again() -> None:
    clock = SimulatedClock()
    faults = [PaperFault(operation="place", kind="timeout")]  # every placement times out
    inner = paper({"SEI": "36.4", "USD": "0"}, clock, faults=faults)
    ex = Recording(inner)
    out = await run_twap(
        cast(Exchange, ex),
        clock,
        account=ACCOUNT,
        symbol="SEI-USD",
        attempt=1,
        target_quantity=D("36.4"),
        policy=MAKER_FIRST,
    )
    assert out.success and out.filled_quantity == D("36.4")
    assert len(ex.requests) > len({r.client_order_id for r in ex.requests})  # re-sent ids
    assert len(inner._state.orders) == len({r.client_order_id for r in ex.requests})


async def test_rate_limits_wait_retry_after_and_an_unreachable_exchange_sells_nothing() -> None:
    clock = SimulatedClock()
    faults = [PaperFault(operation="place", kind="rateLimit", latency="7s")]
    ex = paper({"SEI": "36.4", "USD": "0"}, clock, faults=faults)
    start = clock.now()
    out = await run_twap(
        ex,
        clock,
        account=ACCOUNT,
        symbol="SEI-USD",
        attempt=1,
        target_quantity=D("36.4"),
        policy=MAKER_FIRST,
    )
    assert not out.success and out.reason is StopReason.EXCHANGE_UNAVAILABLE
    assert (clock.now() - start).total_seconds() >= 7 * 6
    assert await holding(ex, "SEI") == D("36.4") and not await ex.open_orders()


async def test_cancelling_the_task_cancels_its_resting_order() -> None:
    clock = SimulatedClock()
    ex = paper({"BONK": "889587", "USD": "0"}, clock)  # BONK's first maker order never fills
    rested = asyncio.Event()

    def on_event(action: object, observation: object) -> None:
        if type(action).__name__ == "Place":
            rested.set()

    task = asyncio.create_task(
        run_twap(
            ex,
            clock,
            account=ACCOUNT,
            symbol="BONK-USD",
            attempt=1,
            target_quantity=D("889587"),
            policy=MAKER_FIRST,
            on_event=on_event,
        )
    )
    await rested.wait()
    assert len(await ex.open_orders()) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await ex.open_orders()


async def test_balance_fetch_retries_three_times_on_the_clock_then_raises() -> None:
    clock = SimulatedClock()
    ex = paper({"USD": "1"}, clock, faults=[PaperFault(operation="balances", kind="unavailable")])
    start = clock.now()
    with pytest.raises(Unavailable):
        await fetch_balances(ex, clock, BalanceFetch())
    assert (clock.now() - start).total_seconds() == 6  # 2 s, then 4 s


async def test_balance_fetch_returns_balances() -> None:
    clock = SimulatedClock()
    ex = paper({"USD": "1", "SEI": "3"}, clock)
    assert {b.asset for b in await fetch_balances(ex, clock)} == {"USD", "SEI"}


async def test_an_urgent_close_crosses_the_spread_at_once_within_the_slippage_cap() -> None:
    clock = SimulatedClock()
    ex = Recording(paper({"DOGE": "500", "USD": "10"}, clock))
    started = clock.now()
    out = await run_twap(
        ex,  # type: ignore[arg-type]
        clock,
        account=ACCOUNT,
        symbol="DOGE-USD",
        attempt=1,
        target_quantity=D("500"),
        policy=MAKER_FIRST,
        urgent=True,
    )
    assert out.success and out.filled_quantity == D("500")
    first = ex.requests[0]
    assert first.immediate_or_cancel and not first.post_only
    assert first.client_order_id.endswith("-s1-tk")
    assert (clock.now() - started).total_seconds() < 5  # no maker TTL was waited out


async def test_an_order_is_decided_after_a_slow_in_flight_write_so_it_never_arrives_expired() -> (
    None
):
    """The API server paused for 20 s while the in-flight record was being stored: the maker
    order decided before the write would reach the exchange with its good-till time (makerTtl
    2 s) already past, be rejected, and count as a purge failure."""
    clock = SimulatedClock()
    inner = paper({"SEI": "36.4", "USD": "0"}, clock)
    ex = Recording(inner)
    sent_at: list[object] = []
    original = ex.place_order

    async def place_order(request: OrderRequest) -> Order:
        sent_at.append(clock.now())
        return await original(request)

    ex.place_order = place_order  # type: ignore[method-assign]
    writes: list[PlaceIntent] = []

    async def slow_persist(intent: PlaceIntent) -> None:
        writes.append(intent)
        clock.advance(20)

    out = await run_twap(
        cast(Exchange, ex),
        clock,
        account=ACCOUNT,
        symbol="SEI-USD",
        attempt=1,
        target_quantity=D("36.4"),
        policy=MAKER_FIRST.model_copy(
            update={"maker_first_ttl_sec": D(2), "maker_retry_ttl_sec": D(2), "maker_ttl_sec": D(2)}
        ),
        on_before_place=slow_persist,
    )
    assert out.success and out.reject is None, out
    makers = [(r, t) for r, t in zip(ex.requests, sent_at, strict=True) if r.expires_at]
    assert makers and all(r.expires_at > t for r, t in makers), makers  # type: ignore[operator]
    # one record per order and fill level: the order decided again goes out without a
    # rewrite, and every order placed had its own (fenced) record stored first
    assert len({(w.client_order_id, w.filled_quantity) for w in writes}) == len(writes)
    assert {r.client_order_id for r in ex.requests} <= {w.client_order_id for w in writes}
