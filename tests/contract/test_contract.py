"""Behaviour every exchange adapter must show, whatever venue is behind it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cleanslate.core.market import (
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    ProductStatus,
    Side,
)
from cleanslate.exchange.errors import (
    ExchangeError,
    InsufficientBalance,
    InvalidOrderConfiguration,
    InvalidProductId,
    NotFound,
    OrderRejected,
    PostOnlyWouldCross,
)
from cleanslate.exchange.port import Exchange

from .harnesses import ExchangeHarness

USD = Decimal("500")
BASE = Decimal("100")


def _open(h: ExchangeHarness) -> Exchange:
    return h.open({"USD": USD, h.base: BASE})


def _sell(
    h: ExchangeHarness,
    cid: str,
    size: Decimal,
    price: Decimal | None,
    *,
    post_only: bool = True,
    order_type: OrderType = OrderType.LIMIT,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        product_id=h.product_id,
        side=Side.SELL,
        base_size=size,
        order_type=order_type,
        limit_price=price,
        post_only=post_only,
        immediate_or_cancel=order_type is OrderType.MARKET,
    )


async def _resting_sell(h: ExchangeHarness, ex: Exchange, cid: str, size: Decimal) -> OrderRequest:
    quote = await ex.quote(h.product_id)
    product = await ex.product(h.product_id)
    return _sell(h, cid, size, quote.ask + 20 * product.price_tick)


def _assert_detailed(error: ExchangeError) -> None:
    assert error.detail.error
    assert error.detail.message
    assert error.detail.raw is not None
    assert error.detail.summary().startswith("error=")


async def test_balances_report_holdings_by_asset(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    balances = {b.asset: b for b in await ex.balances()}
    assert balances["USD"].available == USD
    assert balances[exchange_harness.base].total == BASE
    assert all(b.hold == 0 for b in balances.values())


async def test_products_carry_increments_and_minimums(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    products = {p.product_id: p for p in await ex.products()}
    product = products[exchange_harness.product_id]
    assert product == await ex.product(exchange_harness.product_id)
    assert (product.base, product.quote) == (exchange_harness.base, "USD")
    assert product.base_increment > 0 and product.price_tick > 0
    # a venue whose markets state a minimum value only (Bitstamp) has no minimum size
    assert product.min_base_size > 0 or not getattr(exchange_harness, "lists_min_size", True)
    # a venue whose markets state a minimum size only (OKX) has no minimum value to report
    assert product.min_notional > 0 or not getattr(exchange_harness, "lists_min_notional", True)
    assert product.status is ProductStatus.TRADEABLE and product.tradeable


async def test_unknown_product_is_invalid_product_id(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    with pytest.raises(InvalidProductId) as caught:
        await ex.product("NOPE-USD")
    _assert_detailed(caught.value)
    with pytest.raises(InvalidProductId):
        await ex.quote("NOPE-USD")


async def test_quote_has_quote_currency_volume_and_depth(
    exchange_harness: ExchangeHarness,
) -> None:
    ex = _open(exchange_harness)
    quote = await ex.quote(exchange_harness.product_id)
    assert 0 < quote.bid < quote.ask
    assert quote.at == exchange_harness.clock.now()
    assert quote.quote_volume_24h > 0
    assert quote.bid_depth_quote > 0
    assert quote.spread_bps > 0


async def test_book_lists_several_levels_best_first(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    book = await ex.book(exchange_harness.product_id, depth=5)
    assert 1 < len(book.bids) <= 5 and 1 < len(book.asks) <= 5
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
    assert book.bids[0].price < book.asks[0].price


async def test_post_only_sell_rests_and_holds_balance(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    order = await ex.place_order(await _resting_sell(exchange_harness, ex, "rest-1", Decimal(40)))
    assert order.status is OrderStatus.OPEN
    assert order.post_only and order.filled_size == 0
    base = {b.asset: b for b in await ex.balances()}[exchange_harness.base]
    assert base.hold == Decimal(40)
    assert base.available == BASE - 40


async def test_post_only_that_would_cross_is_rejected(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    quote = await ex.quote(exchange_harness.product_id)
    with pytest.raises(PostOnlyWouldCross) as caught:
        await ex.place_order(_sell(exchange_harness, "cross-1", Decimal(40), quote.bid))
    assert caught.value.reason_code == "INVALID_LIMIT_PRICE_POST_ONLY"
    _assert_detailed(caught.value)
    assert await ex.open_orders() == []


async def test_placing_the_same_client_id_returns_the_same_order(
    exchange_harness: ExchangeHarness,
) -> None:
    ex = _open(exchange_harness)
    request = await _resting_sell(exchange_harness, ex, "idem-1", Decimal(40))
    first = await ex.place_order(request)
    again = await ex.place_order(request)
    assert again.order_id == first.order_id
    assert len(await ex.open_orders()) == 1
    assert {b.asset: b for b in await ex.balances()}[exchange_harness.base].hold == 40


async def test_orders_are_found_by_id_and_client_id(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    placed = await ex.place_order(await _resting_sell(exchange_harness, ex, "find-1", Decimal(40)))
    assert (await ex.get_order(placed.order_id)).client_order_id == "find-1"
    found = await ex.find_order("find-1")
    assert found is not None and found.order_id == placed.order_id
    assert await ex.find_order("never-placed", exchange_harness.product_id) is None
    with pytest.raises(NotFound) as caught:
        await ex.get_order("no-such-order")
    assert caught.value.detail.raw is not None


async def test_cancel_frees_the_hold_once(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    placed = await ex.place_order(await _resting_sell(exchange_harness, ex, "cxl-1", Decimal(40)))
    assert list(await ex.cancel_orders([placed.order_id])) == [placed.order_id]
    assert (await ex.get_order(placed.order_id)).status is OrderStatus.CANCELLED
    assert list(await ex.cancel_orders([placed.order_id])) == []
    assert {b.asset: b for b in await ex.balances()}[exchange_harness.base].hold == 0
    assert await ex.open_orders() == []


async def test_open_orders_carry_their_creation_time(exchange_harness: ExchangeHarness) -> None:
    h = exchange_harness
    ex = _open(h)
    placed_at = h.clock.now()
    await ex.place_order(await _resting_sell(h, ex, "age-1", Decimal(10)))
    await h.clock.sleep(2)
    await ex.place_order(await _resting_sell(h, ex, "age-2", Decimal(10)))
    orders = await ex.open_orders(h.product_id)
    assert [o.client_order_id for o in orders] == ["age-1", "age-2"]
    assert orders[0].created_at == placed_at
    assert orders[1].created_at == placed_at + timedelta(seconds=2)
    assert await ex.open_orders("BTC-USD") == []


async def test_taker_sell_fills_and_pays_a_fee(exchange_harness: ExchangeHarness) -> None:
    h = exchange_harness
    ex = _open(h)
    quote = await ex.quote(h.product_id)
    product = await ex.product(h.product_id)
    cap = _round_down(quote.bid * Decimal("0.99"), product)
    order = await ex.place_order(
        _sell(h, "taker-1", Decimal(40), cap, post_only=False, order_type=OrderType.MARKET)
    )
    assert order.filled_size == 40 and order.status is OrderStatus.FILLED
    fills = await ex.fills(order.order_id)
    assert sum(f.size for f in fills) == 40
    assert all(f.liquidity == "taker" and f.fee > 0 and f.price >= cap for f in fills)
    assert order.fees == sum(f.fee for f in fills)
    assert order.average_filled_price is not None and order.average_filled_price <= quote.bid
    usd = {b.asset: b for b in await ex.balances()}["USD"]
    assert usd.available == USD + order.filled_value - order.fees


async def test_order_below_minimum_notional_is_rejected_with_detail(
    exchange_harness: ExchangeHarness,
) -> None:
    ex = _open(exchange_harness)
    product = await ex.product(exchange_harness.product_id)
    request = await _resting_sell(exchange_harness, ex, "tiny-1", product.base_increment)
    with pytest.raises(InvalidOrderConfiguration) as caught:
        await ex.place_order(request)
    assert caught.value.reason_code == "INVALID_ORDER_CONFIGURATION"
    assert caught.value.detail.preview_failure_reason
    _assert_detailed(caught.value)


async def test_size_off_the_increment_is_rejected(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    product = await ex.product(exchange_harness.product_id)
    size = Decimal(40) + product.base_increment / 3
    with pytest.raises(InvalidOrderConfiguration) as caught:
        await ex.place_order(await _resting_sell(exchange_harness, ex, "prec-1", size))
    _assert_detailed(caught.value)


async def test_selling_more_than_available_is_insufficient_balance(
    exchange_harness: ExchangeHarness,
) -> None:
    ex = _open(exchange_harness)
    await ex.place_order(await _resting_sell(exchange_harness, ex, "held-1", Decimal(80)))
    with pytest.raises(InsufficientBalance) as caught:
        await ex.place_order(await _resting_sell(exchange_harness, ex, "held-2", Decimal(40)))
    _assert_detailed(caught.value)


async def test_order_on_unknown_product_is_rejected(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    request = OrderRequest("nope-1", "NOPE-USD", Side.SELL, Decimal(1), OrderType.MARKET)
    with pytest.raises(InvalidProductId) as caught:
        await ex.place_order(request)
    assert isinstance(caught.value, OrderRejected)
    _assert_detailed(caught.value)


async def test_adapter_names_itself_and_trades(exchange_harness: ExchangeHarness) -> None:
    ex = _open(exchange_harness)
    assert isinstance(ex, Exchange)
    assert ex.name and not ex.read_only


def _round_down(price: Decimal, product: Product) -> Decimal:
    return (price / product.price_tick).to_integral_value("ROUND_FLOOR") * (product.price_tick)
