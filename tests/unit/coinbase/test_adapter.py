"""The adapter against the fake venue: reads, placement, cancels, read-only mode, caching."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderStatus, OrderType, ProductStatus, Side
from cleanslate.exchange.coinbase import CoinbaseExchange, Credentials, ReadOnlyRefused
from cleanslate.exchange.errors import (
    InsufficientBalance,
    InvalidProductId,
    NotFound,
    PostOnlyWouldCross,
    ProductNotTradeable,
)
from cleanslate.exchange.port import Exchange

from . import fixtures as fx
from .conftest import build_exchange
from .fake_venue import FakeCoinbase


def maker_sell(
    cid: str = "purge-sei-1-1", size: str = "36.4", price: str = "0.1564"
) -> OrderRequest:
    return OrderRequest(cid, "SEI-USD", Side.SELL, Decimal(size), OrderType.LIMIT,
                        Decimal(price), post_only=True)  # fmt: skip


def market_sell(cid: str = "purge-sei-1-2", size: str = "36.4") -> OrderRequest:
    return OrderRequest(cid, "SEI-USD", Side.SELL, Decimal(size), OrderType.MARKET)


def test_adapter_satisfies_the_port(exchange: CoinbaseExchange) -> None:
    assert isinstance(exchange, Exchange)
    assert exchange.name == "coinbase" and not exchange.read_only


async def test_pagination_collects_every_balance(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    balances = {b.asset: b for b in await exchange.balances()}

    account_pages = [r for r in venue.requests if r[2] == "/accounts"]
    assert len(account_pages) == 3  # five accounts, two per page
    assert set(balances) == {"USD", "SEI", "BONK", "BTC"}  # DOGE is zero
    assert balances["BTC"].available == Decimal("0.0021")
    assert balances["BTC"].hold == Decimal("0.0001")


async def test_products_carry_status_and_are_cached_within_the_ttl(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    products = {p.product_id: p for p in await exchange.products()}
    await exchange.product("SEI-USD")
    await exchange.products()
    assert exchange.requests_made == 1

    clock.advance(61)
    await exchange.product("SEI-USD")

    assert exchange.requests_made == 2
    assert products["OLD-USD"].status is ProductStatus.DELISTED
    assert products["SEI-USD"].base_increment == Decimal("0.1")


async def test_unknown_product_is_invalid_product_id(exchange: CoinbaseExchange) -> None:
    with pytest.raises(InvalidProductId):
        await exchange.product("NOPE-USD")


async def test_quote_uses_quote_volume_and_bid_depth_near_the_touch(
    exchange: CoinbaseExchange,
) -> None:
    btc = await exchange.quote("BTC-USD")
    sei = await exchange.quote("SEI-USD")

    assert btc.quote_volume_24h == Decimal("564677608.15")  # not volume_24h = 5928.12
    assert (btc.bid, btc.ask) == (Decimal("94999.99"), Decimal("95000.01"))
    assert sei.bid_depth_quote == Decimal("0.1562") * 5000 + Decimal("0.1560") * 8000


async def test_book_and_best_bid_ask(exchange: CoinbaseExchange) -> None:
    book = await exchange.book("SEI-USD", depth=1)
    tops = await exchange.best_bid_ask(["SEI-USD", "BTC-USD"])

    assert len(book.bids) == 1 and book.asks[0].price == Decimal("0.1564")
    assert tops["BTC-USD"].bids[0].price == Decimal("94999.99")


async def test_post_only_limit_rests_open_with_its_creation_time(
    exchange: CoinbaseExchange, clock: SimulatedClock
) -> None:
    order = await exchange.place_order(maker_sell())
    open_orders = await exchange.open_orders("SEI-USD")

    assert order.status is OrderStatus.OPEN and order.post_only
    assert order.created_at == clock.now()
    assert [o.order_id for o in open_orders] == [order.order_id]


async def test_market_sell_fills_with_fees(exchange: CoinbaseExchange) -> None:
    order = await exchange.place_order(market_sell())
    fills = await exchange.fills(order.order_id)

    assert order.status is OrderStatus.FILLED and order.filled_size == Decimal("36.4")
    assert fills[0].liquidity == "taker"
    assert fills[0].fee == (Decimal("0.1562") * Decimal("36.4") * Decimal("0.006")).quantize(
        Decimal("0.00000001")
    )


async def test_same_client_order_id_places_nothing_new(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    first = await exchange.place_order(maker_sell())
    again = await exchange.place_order(maker_sell())

    assert again.order_id == first.order_id and len(venue.orders) == 1


async def test_post_only_that_would_cross_is_refused(exchange: CoinbaseExchange) -> None:
    with pytest.raises(PostOnlyWouldCross):
        await exchange.place_order(maker_sell(price="0.1562"))


async def test_selling_more_than_held_is_insufficient_balance(exchange: CoinbaseExchange) -> None:
    with pytest.raises(InsufficientBalance):
        await exchange.place_order(market_sell(size="100"))


async def test_delisted_product_is_not_tradeable(exchange: CoinbaseExchange) -> None:
    request = OrderRequest("c-old", "OLD-USD", Side.SELL, Decimal("1"), OrderType.MARKET)

    with pytest.raises(ProductNotTradeable):
        await exchange.place_order(request)


async def test_cancel_reports_only_orders_it_cancelled(exchange: CoinbaseExchange) -> None:
    resting = await exchange.place_order(maker_sell(size="10"))
    filled = await exchange.place_order(market_sell(cid="m1", size="10"))

    cancelled = await exchange.cancel_orders([resting.order_id, filled.order_id])

    assert cancelled == [resting.order_id]
    assert (await exchange.get_order(resting.order_id)).status is OrderStatus.CANCELLED


async def test_unknown_order_is_not_found(exchange: CoinbaseExchange) -> None:
    with pytest.raises(NotFound):
        await exchange.get_order("nope")


async def test_find_order_pages_through_recent_orders(
    exchange: CoinbaseExchange, venue: FakeCoinbase, credentials: Credentials,
    clock: SimulatedClock,
) -> None:  # fmt: skip
    for n in range(5):
        await exchange.place_order(maker_sell(cid=f"c{n}", size="7", price=f"0.17{n}"))
    restarted = build_exchange(venue, credentials, clock, read_only=False)

    found = await restarted.find_order("c0")
    missing = await restarted.find_order("never-placed")

    assert found is not None and found.client_order_id == "c0"
    assert missing is None
    await restarted.aclose()


async def test_find_order_ignores_orders_older_than_its_window(
    exchange: CoinbaseExchange, venue: FakeCoinbase, credentials: Credentials,
    clock: SimulatedClock,
) -> None:  # fmt: skip
    await exchange.place_order(maker_sell(cid="old"))
    clock.advance(timedelta(days=8).total_seconds())
    restarted = build_exchange(venue, credentials, clock, read_only=False)

    assert await restarted.find_order("old") is None
    await restarted.aclose()


async def test_read_only_mode_never_calls_order_endpoints(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> None:
    venue.forbid_writes = True  # the transport fails the test on any POST
    exchange = build_exchange(venue, credentials, clock, read_only=True)

    assert exchange.read_only
    assert await exchange.balances()
    assert await exchange.open_orders() == []
    with pytest.raises(ReadOnlyRefused):
        await exchange.place_order(market_sell())
    with pytest.raises(ReadOnlyRefused):
        await exchange.cancel_orders(["ord-0001"])
    assert all(method == "GET" for _, method, _ in venue.requests)
    await exchange.aclose()


async def test_requests_are_counted(exchange: CoinbaseExchange) -> None:
    await exchange.balances()
    await exchange.quote("SEI-USD")

    assert exchange.requests_made == 5  # three account pages, product, book
    assert exchange.stats() == {"requests_made": 5, "rate_limited": 0}


async def test_fills_sized_in_quote_units_are_read_in_base_units(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    order = await exchange.place_order(market_sell(size="10"))
    venue.fills[order.order_id] = [
        fx.fill(order.order_id, "SEI-USD", "SELL", Decimal("0.1562"), Decimal("1.562"),
                Decimal("0.01"), "TAKER", clock.now(), "t9", size_in_quote=True)
    ]  # fmt: skip

    (fill,) = await exchange.fills(order.order_id)

    assert fill.size == Decimal("10")
