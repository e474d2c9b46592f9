"""What the OKX and Bybit fakes hold their clients to, and the two venue facts the lookup
rests on: a key signed with the wrong secret is refused as the venues refuse it (OKX
``50113``, Bybit ``10004``: ccxt's AuthenticationError); and on Bybit an IOC that sold part
of its size and was cancelled (``PartiallyFilledCanceled``) is found after a restart, which
ccxt's bybit ``fetchClosedOrders`` (``orderStatus=Filled``) would not list."""

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
