"""Finding an order by its client id on a busy account, after a restart.

A restarted adapter knows no order: ``place_order`` must find a filled order by its client
id on the venue, or it sends it again, and Binance and Kraken accept the id of a closed order
as a new one (a second sale). Kraken lists closed orders 50 at a time, newest first, so an
account that closed 50 orders since (a trading bot's, or other purges') hides the order from
an unfiltered listing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from cycle.harness import account_spec

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.errors import TemporaryError
from fakes.ccxt_venues import credentials

from .rig import venue_for

D = Decimal


def _adapter(venue: object, clock: SimulatedClock) -> CcxtExchange:
    client = venue.install(make_client("kraken", credentials("kraken")))  # type: ignore[attr-defined]
    client.enableRateLimit = False
    return CcxtExchange(client, clock, exchange_id="kraken", read_only=False)


async def test_a_filled_order_behind_fifty_closed_ones_is_found_not_sold_again() -> None:
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("kraken", spec, clock)
    first = _adapter(venue, clock)
    quote = await first.quote("WLFI-USD")
    product = await first.product("WLFI-USD")
    taker = OrderRequest(
        client_order_id="cs-taker-1",
        product_id="WLFI-USD",
        side=Side.SELL,
        base_size=D(10),
        order_type=OrderType.LIMIT,
        limit_price=(quote.bid * D("0.9")).quantize(product.price_tick),
        immediate_or_cancel=True,
    )
    sold = await first.place_order(taker)
    assert sold.filled_size == D(10)
    far = (quote.ask * 2).quantize(product.price_tick)
    for n in range(50):  # fifty maker orders placed and cancelled afterwards
        maker = OrderRequest(
            client_order_id=f"cs-maker-{n}",
            product_id="WLFI-USD",
            side=Side.SELL,
            base_size=D(10),
            order_type=OrderType.LIMIT,
            limit_price=far,
            post_only=True,
        )
        placed = await first.place_order(maker)
        assert await first.cancel_orders([placed.order_id]) == [placed.order_id]
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
    client = venue.install(make_client("coinbase", credentials("coinbase")))
    client.enableRateLimit = False
    exchange = CcxtExchange(client, clock, exchange_id="coinbase", read_only=False)
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
        client = venue.install(make_client("coinbase", credentials("coinbase")))
        client.enableRateLimit = False
        return CcxtExchange(client, clock, exchange_id="coinbase", read_only=False)

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
