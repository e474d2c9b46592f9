"""What the OKX and Bybit fakes hold their clients to, and the Bybit facts the adapter rests
on: a key signed with the wrong secret is refused as the venues refuse it (OKX ``50113``,
Bybit ``10004``: ccxt's AuthenticationError); on Bybit an IOC that sold part of its size and
was cancelled (``PartiallyFilledCanceled``) is found after a restart, which ccxt's bybit
``fetchClosedOrders`` (``orderStatus=Filled``) would not list; and Bybit's open orders are
read past its page of 20."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cycle.harness import account_spec

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderStatus, OrderType, Side
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.errors import AuthenticationFailed
from fakes.ccxt_venues import credentials

from .rig import venue_for

D = Decimal


def _adapter(venue: object, exchange_id: str, clock: SimulatedClock, **key: str) -> CcxtExchange:
    client = make_client(exchange_id, {**credentials(exchange_id), **key})
    client = venue.install(client)  # type: ignore[attr-defined]
    client.enableRateLimit = False
    return CcxtExchange(client, clock, exchange_id=exchange_id, read_only=False)


@pytest.mark.parametrize("exchange_id", ["okx", "bybit"])
async def test_a_request_signed_with_another_secret_is_refused(exchange_id: str) -> None:
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for(exchange_id, spec, clock)
    wrong = _adapter(venue, exchange_id, clock, secret="not-the-secret")
    with pytest.raises(AuthenticationFailed):  # loading markets reads the currencies, signed
        await wrong.balances()
    await wrong.aclose()
    right = _adapter(venue, exchange_id, clock)
    assert {b.asset for b in await right.balances()} == {"USD", "WLFI"}
    await right.aclose()


async def test_a_partly_filled_cancelled_ioc_is_found_on_bybit_after_a_restart() -> None:
    spec = account_spec({"USD": "150", "WLFI": "50000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("bybit", spec, clock)
    first = _adapter(venue, "bybit", clock)
    touch = (await first.book("WLFI-USD", 1)).bids[0]
    size = (touch.size * 2).quantize(D("0.1"))
    ioc = OrderRequest("cs-ioc-part", "WLFI-USD", Side.SELL, size, OrderType.LIMIT,
                       limit_price=touch.price, immediate_or_cancel=True)  # fmt: skip
    sold = await first.place_order(ioc)
    assert sold.status is OrderStatus.CANCELLED and sold.filled_size == touch.size
    await first.aclose()

    restarted = _adapter(venue, "bybit", clock)
    found = await restarted.find_order("cs-ioc-part", "WLFI-USD")
    await restarted.aclose()
    assert found is not None and found.order_id == sold.order_id
    assert found.filled_size == touch.size
    history = [r for r in venue.requests if r.path == "/v5/order/history"]
    assert history and all("orderStatus" not in r.params for r in history)


async def test_every_open_order_is_listed_past_bybits_page_of_twenty() -> None:
    """Get Open & Closed Orders answers 20 orders a page (limit up to 50, nextPageCursor):
    the stale-order rules and the resume need every open order, so bybit's listing pages."""
    spec = account_spec({"USD": "150", "WLFI": "20000"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("bybit", spec, clock)
    adapter = _adapter(venue, "bybit", clock)
    quote = await adapter.quote("WLFI-USD")
    far = (quote.ask * 2).quantize(D("0.0001"))
    for n in range(60):
        rest = OrderRequest(f"cs-rest-{n}", "WLFI-USD", Side.SELL, D(10), OrderType.LIMIT,
                            limit_price=far, post_only=True)  # fmt: skip
        await adapter.place_order(rest)
    since = len(venue.requests)
    listed = await adapter.open_orders()
    await adapter.aclose()
    assert len(listed) == 60
    pages = [r for r in venue.requests[since:] if r.path == "/v5/order/realtime"]
    assert [r.params.get("cursor") for r in pages] == [None, "50"]
