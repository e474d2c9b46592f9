"""Fills are earned: makers wait for trades to reach them, takers walk the book and pay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Order, OrderRequest, OrderStatus, OrderType, Side
from cleanslate.exchange.errors import InsufficientBalance
from cleanslate.exchange.paper import PaperExchange

OpenPaper = Callable[..., PaperExchange]


def _limit(pid: str, side: Side, size: str, price: Decimal, cid: str = "o1") -> OrderRequest:
    return OrderRequest(cid, pid, side, Decimal(size), OrderType.LIMIT, price, post_only=True)


async def _wait_until_final(
    ex: PaperExchange, clock: SimulatedClock, order_id: str, steps: int
) -> tuple[Order, list[Decimal]]:
    order = await ex.get_order(order_id)
    history = [order.filled_size]
    for _ in range(steps):
        if order.status is not OrderStatus.OPEN:
            break
        await clock.sleep(5)
        order = await ex.get_order(order_id)
        history.append(order.filled_size)
    return order, history


async def test_maker_far_above_the_market_never_fills(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    ex = open_paper(holdings={"DOGE": 500}, market="calm")
    quote = await ex.quote("DOGE-USD")
    far = (quote.ask * Decimal("1.5")).quantize(Decimal("0.00001"))
    order = await ex.place_order(_limit("DOGE-USD", Side.SELL, "500", far))
    await clock.sleep(3600)
    assert (await ex.get_order(order.order_id)).filled_size == 0


async def test_maker_at_the_ask_fills_only_after_trades_reach_it(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    ex = open_paper(holdings={"SEI": "36.4"}, seed=3)
    quote = await ex.quote("SEI-USD")
    order = await ex.place_order(_limit("SEI-USD", Side.SELL, "36.4", quote.ask))
    assert order.filled_size == 0
    final, history = await _wait_until_final(ex, clock, order.order_id, steps=720)
    assert final.status is OrderStatus.FILLED
    assert history[1] == 0, "a maker at the touch does not fill within the first bucket"
    assert all(f.liquidity == "maker" and f.price == quote.ask for f in final.fills)


async def test_large_maker_fills_in_parts(open_paper: OpenPaper, clock: SimulatedClock) -> None:
    """Over a few seeds (the price may run away from a maker, honestly), one fills in parts.
    Pinned to the optimistic model, whose flow-only fills this is about: under a realistic
    model the price rising through the order fills it whole (test_paper_models)."""
    for seed in range(4, 10):
        ex = open_paper(
            holdings={"DOGE": 200000}, seed=seed, account=f"ns/{seed}", model="optimistic"
        )
        quote = await ex.quote("DOGE-USD")
        order = await ex.place_order(_limit("DOGE-USD", Side.SELL, "200000", quote.ask))
        final, history = await _wait_until_final(ex, clock, order.order_id, steps=720)
        if final.status is OrderStatus.FILLED:
            break
    assert final.status is OrderStatus.FILLED
    assert [s for s in history if 0 < s < Decimal(200000)], "fills arrive over several buckets"
    assert len(final.fills) > 1


async def test_taker_walks_several_levels_and_pays_for_size(open_paper: OpenPaper) -> None:
    ex = open_paper(holdings={"SEI": 100000})
    quote = await ex.quote("SEI-USD")
    book = await ex.book("SEI-USD")
    order = await ex.place_order(
        OrderRequest("t1", "SEI-USD", Side.SELL, Decimal(50000), OrderType.MARKET)
    )
    assert len(order.fills) > 2
    assert [f.price for f in order.fills] == [lv.price for lv in book.bids[: len(order.fills)]]
    assert order.average_filled_price is not None and order.average_filled_price < quote.bid


async def test_slippage_cap_leaves_the_rest_cancelled(open_paper: OpenPaper) -> None:
    ex = open_paper(holdings={"SEI": 100000})
    book = await ex.book("SEI-USD")
    cap = book.bids[1].price
    request = OrderRequest(
        "t1", "SEI-USD", Side.SELL, Decimal(50000), OrderType.MARKET, cap, immediate_or_cancel=True
    )
    order = await ex.place_order(request)
    assert order.status is OrderStatus.CANCELLED
    assert order.filled_size == book.bids[0].size + book.bids[1].size
    assert all(f.price >= cap for f in order.fills)
    assert {b.asset: b for b in await ex.balances()}["SEI"].hold == 0


async def test_a_taker_consumes_the_book_it_walked(open_paper: OpenPaper) -> None:
    """Pinned to the optimistic model (same-bucket depletion, no impact); the realistic
    models' refill and impact are pinned in test_paper_models."""
    ex = open_paper(holdings={"SEI": 100000}, model="optimistic")
    before = await ex.book("SEI-USD")
    take = before.bids[0].size
    await ex.place_order(OrderRequest("t1", "SEI-USD", Side.SELL, take, OrderType.MARKET))
    after = await ex.book("SEI-USD")
    assert after.bids[0].price == before.bids[1].price


@pytest.mark.parametrize(("maker", "taker"), [("40", "60"), ("0", "25")])
async def test_fees_follow_the_configured_schedule(
    open_paper: OpenPaper, maker: str, taker: str
) -> None:
    ex = open_paper(holdings={"SEI": 100}, fees={"makerBps": maker, "takerBps": taker})
    order = await ex.place_order(
        OrderRequest("t1", "SEI-USD", Side.SELL, Decimal(40), OrderType.MARKET)
    )
    expected = sum(f.price * f.size * Decimal(taker) / 10000 for f in order.fills)
    assert order.fees == expected
    usd = {b.asset: b for b in await ex.balances()}["USD"].available
    assert usd == order.filled_value - order.fees


async def test_good_till_date_order_expires(open_paper: OpenPaper, clock: SimulatedClock) -> None:
    ex = open_paper(holdings={"BTC": 1}, market="calm")
    quote = await ex.quote("BTC-USD")
    far = (quote.ask * 2).quantize(Decimal("0.01"))
    request = OrderRequest(
        "g1",
        "BTC-USD",
        Side.SELL,
        Decimal("0.5"),
        OrderType.LIMIT,
        far,
        post_only=True,
        expires_at=clock.now() + timedelta(seconds=25),
    )
    order = await ex.place_order(request)
    await clock.sleep(24)
    assert (await ex.get_order(order.order_id)).status is OrderStatus.OPEN
    await clock.sleep(2)
    assert (await ex.get_order(order.order_id)).status is OrderStatus.EXPIRED
    assert {b.asset: b for b in await ex.balances()}["BTC"].hold == 0


async def test_buy_reserves_quote_and_is_refused_without_it(open_paper: OpenPaper) -> None:
    ex = open_paper(holdings={"USD": 100})
    quote = await ex.quote("SOL-USD")
    bid = quote.bid
    await ex.place_order(_limit("SOL-USD", Side.BUY, "0.5", bid))
    usd = {b.asset: b for b in await ex.balances()}["USD"]
    assert usd.hold == Decimal("0.5") * bid * Decimal("1.006")  # entry tier: 0.60 % maker
    with pytest.raises(InsufficientBalance):
        await ex.place_order(_limit("SOL-USD", Side.BUY, "0.5", bid, cid="o2"))


async def test_market_buy_fills_and_debits_quote_with_fee(open_paper: OpenPaper) -> None:
    ex = open_paper(holdings={"USD": 1000})
    order = await ex.place_order(
        OrderRequest("b1", "ETH-USD", Side.BUY, Decimal("0.1"), OrderType.MARKET)
    )
    assert order.status is OrderStatus.FILLED
    balances = {b.asset: b for b in await ex.balances()}
    assert balances["ETH"].available == Decimal("0.1")
    assert balances["USD"].available == 1000 - order.filled_value - order.fees
