"""Finding an order by its client id on a busy account, after a restart.

A restarted adapter knows no order: ``place_order`` must find a filled order by its client
id on the venue, or it sends it again, and Binance and Kraken accept the id of a closed order
as a new one (a second sale). Kraken lists closed orders 50 at a time, newest first, so an
account that closed 50 orders since (a trading bot's, or other purges') hides the order from
an unfiltered listing.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from cycle.harness import account_spec

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Product, Quote, Side
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.ccxt.adapter import derived_client_id
from cleanslate.exchange.ccxt.capabilities import Lookup, LookupKind, semantics
from cleanslate.exchange.errors import TemporaryError, Unavailable
from fakes.ccxt_venues import LIVE_DIALECTS, FakeVenue, Request, credentials
from fakes.ccxt_venues.kraken import CLOSED_PAGE

from .rig import venue_for

D = Decimal


def _venue_adapter(venue: object, exchange_id: str, clock: SimulatedClock) -> CcxtExchange:
    client = venue.install(make_client(exchange_id, credentials(exchange_id)))  # type: ignore[attr-defined]
    client.enableRateLimit = False
    return CcxtExchange(client, clock, exchange_id=exchange_id, read_only=False)


def _adapter(venue: object, clock: SimulatedClock) -> CcxtExchange:
    return _venue_adapter(venue, "kraken", clock)


def _taker(client_id: str, quote: Quote, product: Product) -> OrderRequest:
    """A taker sale of 10 WLFI: an IOC limit 10% under the bid."""
    return OrderRequest(
        client_order_id=client_id,
        product_id="WLFI-USD",
        side=Side.SELL,
        base_size=D(10),
        order_type=OrderType.LIMIT,
        limit_price=(quote.bid * D("0.9")).quantize(product.price_tick),
        immediate_or_cancel=True,
    )


def _far_above(quote: Quote, product: Product) -> Decimal:
    """A sell price far above the market (twice the ask): a maker order rests there."""
    return (quote.ask * 2).quantize(product.price_tick)


async def _far(adapter: CcxtExchange) -> Decimal:
    quote = await adapter.quote("WLFI-USD")
    return _far_above(quote, await adapter.product("WLFI-USD"))


def _maker(client_id: str, far: Decimal) -> OrderRequest:
    return OrderRequest(client_id, "WLFI-USD", Side.SELL, D(10), OrderType.LIMIT,
                        limit_price=far, post_only=True)  # fmt: skip


async def _placed_and_cancelled(
    adapter: CcxtExchange,
    count: int,
    far: Decimal,
    clock: SimulatedClock | None = None,
    prefix: str = "cs-m-",
) -> None:
    """``count`` maker orders at ``far``, each placed and cancelled; with ``clock``, a second
    passes before each (later orders list first where the venue lists newest first)."""
    for n in range(count):
        if clock is not None:
            clock.advance(1)
        placed = await adapter.place_order(_maker(f"{prefix}{n}", far))
        assert await adapter.cancel_orders([placed.order_id]) == [placed.order_id]


async def test_a_filled_order_behind_fifty_closed_ones_is_found_not_sold_again() -> None:
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("kraken", spec, clock)
    first = _adapter(venue, clock)
    quote = await first.quote("WLFI-USD")
    product = await first.product("WLFI-USD")
    taker = _taker("cs-taker-1", quote, product)
    sold = await first.place_order(taker)
    assert sold.filled_size == D(10)
    # fifty maker orders placed and cancelled afterwards
    await _placed_and_cancelled(first, 50, _far_above(quote, product), prefix="cs-maker-")
    await first.aclose()

    restarted = _adapter(venue, clock)
    again = await restarted.place_order(taker)
    await restarted.aclose()
    assert again.order_id == sold.order_id
    assert venue.placed_client_ids().count("cs-taker-1") == 1


async def test_a_server_error_after_the_venue_took_an_order_is_not_a_rejection() -> None:
    """Coinbase answers a back-end failure with HTTP 500 and an ``error`` body, which ccxt's
    coinbase raises as a plain ExchangeError before it looks at the status. Read as a
    rejection, the executor would give the slice up without looking the order up, and the
    order the venue took would live on untracked (a second order of the purge resting next
    to it). A 5xx is temporary: the retry finds the order by its client id."""
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("coinbase", spec, clock)
    exchange = _venue_adapter(venue, "coinbase", clock)
    quote = await exchange.quote("WLFI-USD")
    product = await exchange.product("WLFI-USD")
    request = OrderRequest(
        client_order_id="cs-after-500",
        product_id="WLFI-USD",
        side=Side.SELL,
        base_size=D(10),
        order_type=OrderType.LIMIT,
        limit_price=(quote.ask * 2).quantize(product.price_tick),
        post_only=True,
    )
    venue.inject(
        "server_error_after",
        lambda r: r.method == "POST" and r.path.endswith("/api/v3/brokerage/orders"),
    )
    with pytest.raises(TemporaryError):
        await exchange.place_order(request)
    again = await exchange.place_order(request)
    await exchange.aclose()
    assert again.client_order_id == "cs-after-500"
    assert venue.placed_client_ids().count("cs-after-500") == 1


async def test_a_cancelled_order_with_fills_is_found_on_coinbase_after_a_restart() -> None:
    """ccxt's coinbase ``fetchClosedOrders`` lists FILLED orders only; a maker order that
    filled in part and was cancelled at its TTL is CANCELLED. A resume that cannot find it
    counts none of its fills, and the purge then sells that much again beyond its plan."""
    spec = account_spec({"USD": "150", "WLFI": "100000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("coinbase", spec, clock)

    def adapter() -> CcxtExchange:
        return _venue_adapter(venue, "coinbase", clock)

    first = adapter()
    quote = await first.quote("WLFI-USD")
    request = OrderRequest(
        client_order_id="cs-partly-filled",
        product_id="WLFI-USD",
        side=Side.SELL,
        base_size=D(50000),
        order_type=OrderType.LIMIT,
        limit_price=quote.ask,
        post_only=True,
    )
    placed = await first.place_order(request)
    order = placed
    for _ in range(40):
        clock.advance(30)
        order = await first.get_order(placed.order_id)
        if order.filled_size:
            break
    assert 0 < order.filled_size < request.base_size, "the maker order filled in part"
    assert await first.cancel_orders([placed.order_id]) == [placed.order_id]
    await first.aclose()

    restarted = adapter()
    found = await restarted.find_order("cs-partly-filled", "WLFI-USD")
    await restarted.aclose()
    assert found is not None and found.order_id == placed.order_id
    assert found.filled_size == order.filled_size


PAGE = {
    "binance": 500,
    "kraken": 50,
    "coinbase": 100,
    "okx": 100,
    "bybit": 50,
    "coinbaseexchange": 100,
    "gate": 100,
    "bitstamp": 1000,
    "bitget": 100,
}
"""The venue's page of closed orders: Binance allOrders (default 500), Kraken ClosedOrders
(50, newest first), Coinbase List Orders as ccxt asks it (limit 100), OKX order history
(100, newest first), Bybit order history (at most 50, newest first), Coinbase Exchange Get
all orders (default 100, newest first), gate's List orders of finished orders (limit 100,
newest first), Bitget's Get History Orders (at most 100, newest first), and the most user
transactions Bitstamp lists at once (1000; it has no closed order listing at all, the lookup
is by client_order_id)."""


def _lookups(venue: FakeVenue, exchange_id: str, since: int) -> list[Request]:
    """The requests a lookup made after request number ``since``."""
    paths = {
        "binance": ("/api/v3/order", "/api/v3/allOrders", "/api/v3/openOrders"),
        "kraken": ("/0/private/OpenOrders", "/0/private/ClosedOrders"),
        "coinbase": ("/api/v3/brokerage/orders/historical/batch",),
        "okx": (
            "/api/v5/trade/order",
            "/api/v5/trade/orders-pending",
            "/api/v5/trade/orders-history",
        ),
        "bybit": ("/v5/order/realtime", "/v5/order/history"),
        "coinbaseexchange": ("/orders",),
        "gate": ("/api/v4/spot/orders", "/api/v4/spot/orders/t-cs-taker-paged"),
        "bitstamp": (
            "/api/v2/order_status/",
            "/api/v2/open_orders/all/",
            "/api/v2/user_transactions/",
        ),
        "bitget": (
            "/api/v2/spot/trade/orderInfo",
            "/api/v2/spot/trade/unfilled-orders",
            "/api/v2/spot/trade/history-orders",
        ),
    }[exchange_id]
    if exchange_id == "bitstamp":  # every private call is a POST
        return [r for r in venue.requests[since:] if r.path.endswith(paths)]
    if exchange_id == "coinbaseexchange":  # Get single order by client:<client_oid>, or lists
        return [r for r in venue.requests[since:] if r.method == "GET"
                if r.path.endswith(paths) or r.path.startswith("/orders/client:")]  # fmt: skip
    return [r for r in venue.requests[since:] if r.method != "POST" or exchange_id == "kraken"
            if r.path.endswith(paths)]  # fmt: skip


LOOKUP_VENUES = LIVE_DIALECTS


@pytest.mark.parametrize("exchange_id", LOOKUP_VENUES)
async def test_a_filled_order_behind_more_than_a_page_of_orders_is_found_after_a_restart(
    exchange_id: str,
) -> None:
    """A taker sale that filled, then a page and one more of orders placed and cancelled: a
    restarted adapter must find the sale by its client id (by id, by a filtered listing, or
    by reading every page), never conclude from the first page that it was never placed."""
    spec = account_spec({"USD": "150", "WLFI": "20000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for(exchange_id, spec, clock)
    first = _venue_adapter(venue, exchange_id, clock)
    quote = await first.quote("WLFI-USD")
    product = await first.product("WLFI-USD")
    taker = _taker("cs-taker-paged", quote, product)
    sold = await first.place_order(taker)
    assert sold.filled_size == D(10)
    await _placed_and_cancelled(first, PAGE[exchange_id] + 1, _far_above(quote, product), clock)
    await first.aclose()

    restarted = _venue_adapter(venue, exchange_id, clock)
    since = len(venue.requests)
    again = await restarted.place_order(taker)
    await restarted.aclose()

    assert again.order_id == sold.order_id
    venue_id = derived_client_id("cs-taker-paged", semantics(exchange_id))
    assert venue.placed_client_ids().count(venue_id) == 1
    lookups = _lookups(venue, exchange_id, since)
    if exchange_id == "binance":
        assert [r.params.get("origClientOrderId") for r in lookups] == ["cs-taker-paged"]
    elif exchange_id == "kraken":
        assert lookups and all(r.params.get("cl_ord_id") == "cs-taker-paged" for r in lookups)
    elif exchange_id == "okx":
        assert [r.params.get("clOrdId") for r in lookups] == [venue_id], "one Get order details"
    elif exchange_id == "bybit":
        assert lookups and all(r.params.get("orderLinkId") == "cs-taker-paged" for r in lookups)
    elif exchange_id == "coinbaseexchange":
        assert [r.path for r in lookups] == [f"/orders/client:{venue_id}"], "by id, no listing"
    elif exchange_id == "gate":
        # the pending-order lookup by text misses (the sale is finished), then List orders
        # of finished orders: the sale is on its second page
        assert [r.path.rsplit("/", 1)[-1] for r in lookups] == ["t-cs-taker-paged", "orders",
                                                                "orders"]  # fmt: skip
        assert [r.params.get("page") for r in lookups[1:]] == ["1", "2"]
    elif exchange_id == "bitstamp":
        # Order status by client_order_id: one request, no listing
        assert [(r.path, r.params.get("client_order_id")) for r in lookups] == [
            ("/api/v2/order_status/", venue_id)
        ]
    elif exchange_id == "bitget":
        # no Get Order Info by clientOid (it finds unfilled orders only): every open order
        # (none: one empty page), then History Orders below the smallest id of each page;
        # the sale is on the second page
        assert [r.path.rsplit("/", 1)[-1] for r in lookups] == ["unfilled-orders",
                                                                "history-orders",
                                                                "history-orders"]  # fmt: skip
        first_page, second_page = lookups[1:]
        assert "idLessThan" not in first_page.params
        assert int(second_page.params["idLessThan"]) > int(sold.order_id)
    else:
        assert len(lookups) == 2, "the sale is on the second page of List Orders"


async def test_an_untested_venue_cannot_conclude_absence_from_one_full_page() -> None:
    """A venue with neither an id lookup nor a filter reads one page; an id missing from a
    FULL page may be on the next one, so the lookup fails instead of answering None (which
    would place the order again)."""
    spec = account_spec({"USD": "150", "WLFI": "20000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("kraken", spec, clock)
    adapter = _venue_adapter(venue, "kraken", clock)
    one_page = Lookup(LookupKind.ONE_PAGE, page_size=CLOSED_PAGE)
    adapter._semantics = replace(adapter._semantics, lookup=one_page)
    far = await _far(adapter)
    assert await adapter.find_order("cs-never", "WLFI-USD") is None, "an empty history proves it"
    await _placed_and_cancelled(adapter, CLOSED_PAGE, far)
    with pytest.raises(Unavailable, match="cannot prove"):
        await adapter.find_order("cs-never", "WLFI-USD")
    await adapter.aclose()


async def test_binance_without_a_product_does_not_answer_never_placed() -> None:
    """Binance finds a client id within one market only: asked without one, a restarted
    adapter cannot know, and says so rather than "no such order"."""
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    clock = SimulatedClock()
    adapter = _venue_adapter(venue_for("binance", spec, clock), "binance", clock)
    with pytest.raises(Unavailable, match="within one market"):
        await adapter.find_order("cs-anything")
    assert await adapter.find_order("cs-anything", "WLFI-USD") is None
    await adapter.aclose()


def _bitget(venue: FakeVenue, clock: SimulatedClock) -> CcxtExchange:
    return _venue_adapter(venue, "bitget", clock)


async def test_a_cancelled_partly_filled_ioc_behind_a_page_is_found_on_bitget() -> None:
    """Bitget's IOC that took part of its size ends cancelled, with its fills: Get Order Info
    no longer finds it by clientOid (unfilled orders only) and ccxt's fetchClosedOrders drops
    it (status closed only). After more than a page of later orders, the restarted adapter
    must still find it in Get History Orders, or it would sell that part again."""
    spec = account_spec({"USD": "150", "WLFI": "50000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("bitget", spec, clock)
    first = _bitget(venue, clock)
    book = await first.book("WLFI-USD", 5)
    touch = book.bids[0]
    ioc = OrderRequest(
        client_order_id="cs-ioc-partly",
        product_id="WLFI-USD",
        side=Side.SELL,
        base_size=(touch.size * 2).quantize(D("0.1")),
        order_type=OrderType.LIMIT,
        limit_price=touch.price,
        immediate_or_cancel=True,
    )
    sold = await first.place_order(ioc)
    assert 0 < sold.filled_size < ioc.base_size and sold.status.is_final
    await _placed_and_cancelled(first, PAGE["bitget"] + 1, await _far(first), clock)
    client = first.client
    from ccxt.base.errors import OrderNotFound

    with pytest.raises(OrderNotFound):  # the venue's own lookup by clientOid misses it
        await client.fetch_order(None, "WLFI/USD", {"clientOrderId": "cs-ioc-partly"})
    below = {"idLessThan": str(int(sold.order_id) + 1)}
    closed = await client.fetch_closed_orders("WLFI/USD", None, 100, below)
    assert [o["id"] for o in closed if o["id"] == sold.order_id] == [], "ccxt drops it"
    listed = await client.fetch_canceled_and_closed_orders("WLFI/USD", None, 100, below)
    assert [o["id"] for o in listed][:1] == [sold.order_id]
    await first.aclose()

    restarted = _bitget(venue, clock)
    again = await restarted.place_order(ioc)
    assert again.order_id == sold.order_id
    assert again.filled_size == sold.filled_size
    assert sum(f.size for f in await restarted.fills(again.order_id)) == sold.filled_size
    await restarted.aclose()
    assert venue.placed_client_ids().count("cs-ioc-partly") == 1


async def test_every_open_order_is_read_past_a_page_on_bitget() -> None:
    """Get Unfilled Orders answers at most 100: the stale-order rules and the resume read
    every page below the smallest id of the last, to an empty one."""
    spec = account_spec({"USD": "150", "WLFI": "20000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("bitget", spec, clock)
    adapter = _bitget(venue, clock)
    far = await _far(adapter)
    for n in range(PAGE["bitget"] + 5):
        clock.advance(1)
        await adapter.place_order(_maker(f"cs-rest-{n}", far))
    since = len(venue.requests)
    listed = await adapter.open_orders()
    assert len(listed) == PAGE["bitget"] + 5
    assert {o.client_order_id for o in listed} == {f"cs-rest-{n}" for n in range(105)}
    pages = [r for r in venue.requests[since:] if r.path.endswith("/unfilled-orders")]
    assert len(pages) == 3, "a full page, the rest, then an empty page"
    assert [r.params.get("limit") for r in pages] == ["100"] * 3
    assert "idLessThan" not in pages[0].params and all("idLessThan" in r.params
                                                       for r in pages[1:])  # fmt: skip
    assert await adapter.find_order("cs-rest-0", "WLFI-USD") is not None, "the oldest open"
    await adapter.aclose()


async def test_a_bitget_listing_that_does_not_end_is_unavailable_not_absent() -> None:
    """Out of pages before an empty one, the lookup cannot prove the id was never placed."""
    spec = account_spec({"USD": "150", "WLFI": "20000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("bitget", spec, clock)
    adapter = _bitget(venue, clock)
    far = await _far(adapter)
    assert await adapter.find_order("cs-never", "WLFI-USD") is None, "empty listings prove it"
    await _placed_and_cancelled(adapter, 5, far, clock)
    lookup = adapter._semantics.lookup
    assert lookup.older_than is not None
    short = replace(lookup.older_than, page_size=2, max_pages=2)
    adapter._semantics = replace(adapter._semantics, lookup=replace(lookup, older_than=short))
    with pytest.raises(Unavailable, match="did not end"):
        await adapter.find_order("cs-never", "WLFI-USD")
    await adapter.aclose()


async def test_the_bitget_fake_keeps_90_days_of_history_as_bitget_does() -> None:
    """Get History Orders "only supports to get the data within 90days": an older order is
    not listed, and a startTime before the window is refused (40704, an ExchangeError in
    ccxt's bitget)."""
    from datetime import timedelta

    import ccxt

    spec = account_spec({"USD": "150", "WLFI": "20000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("bitget", spec, clock)
    adapter = _bitget(venue, clock)
    old = await adapter.place_order(_maker("cs-old", await _far(adapter)))
    await adapter.cancel_orders([old.order_id])
    client = adapter.client
    listed = await client.fetch_canceled_and_closed_orders("WLFI/USD")
    assert [o["id"] for o in listed] == [old.order_id]
    clock.advance(timedelta(days=91).total_seconds())
    assert await client.fetch_canceled_and_closed_orders("WLFI/USD") == []
    too_early = int((clock.now() - timedelta(days=100)).timestamp() * 1000)
    with pytest.raises(ccxt.ExchangeError, match="40704"):
        await client.fetch_canceled_and_closed_orders("WLFI/USD", too_early)
    await adapter.aclose()
