"""What each fake venue answers when it is overloaded, down or silent, and what that becomes
once ccxt's own error handling and the adapter have read it: a rate limit is RateLimited, an
outage Unavailable, no answer ExchangeTimeout; all temporary, so the caller retries later.
The venue's side (status, body) is checked too, so a fake cannot drift from its venue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cycle.harness import account_spec, policy

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderStatus, OrderType, Side
from cleanslate.exchange.errors import ExchangeTimeout, RateLimited, TemporaryError, Unavailable
from fakes.ccxt_venues import LIVE_DIALECTS, Request

from .rig import CcxtRig, venue_for

VENUES = LIVE_DIALECTS
RATE_LIMIT_ANSWER = {  # (HTTP status, a piece of the body) as each venue documents it
    "binance": (429, '"code": -1003'),
    "kraken": (200, "EAPI:Rate limit exceeded"),
    "coinbase": (429, "RATE_LIMIT_EXCEEDED"),
    "okx": (429, '"code": "50011"'),
    "bybit": (200, '"retCode": 10006'),
    "coinbaseexchange": (429, "Private rate limit exceeded"),
    "gate": (429, "TOO_MANY_REQUESTS"),
    "bitstamp": (400, '"response_code": "400.002"'),
    "bitget": (429, '"code": "429"'),
}


def _any(request: Request) -> bool:
    return True


def _rig(exchange_id: str, holdings: dict[str, str] | None = None) -> CcxtRig:
    spec = account_spec(holdings or {"USD": "150", "SEI": "100"}, market="calm")
    clock = SimulatedClock()
    return CcxtRig(spec, policy(), clock=clock, venue=venue_for(exchange_id, spec, clock),
                   exchange_id=exchange_id)  # fmt: skip


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_a_rate_limit_answer_is_rate_limited(exchange_id: str) -> None:
    rig = _rig(exchange_id)
    adapter = rig.exchange.inner
    await adapter.products()  # markets loaded: the next request is the balance read
    status, text = RATE_LIMIT_ANSWER[exchange_id]
    reply = rig.venue.rate_limited()
    assert reply.status == status and text in reply.text()

    rig.venue.inject("rate_limit", _any)
    with pytest.raises(RateLimited) as caught:
        await adapter.balances()
    assert isinstance(caught.value, TemporaryError)
    assert await adapter.balances(), "the next call goes through"
    await rig.close()


@pytest.mark.parametrize("exchange_id", VENUES)
@pytest.mark.parametrize(("kind", "error"), [("unavailable", Unavailable),
                                             ("timeout_before", ExchangeTimeout)])  # fmt: skip
async def test_an_outage_or_silence_is_temporary(
    exchange_id: str, kind: str, error: type[TemporaryError]
) -> None:
    rig = _rig(exchange_id)
    adapter = rig.exchange.inner
    await adapter.products()
    assert rig.venue.unavailable().status >= 500
    rig.venue.inject(kind, _any)
    with pytest.raises(error):
        await adapter.quote("SEI-USD")
    assert (await adapter.quote("SEI-USD")).bid > 0
    await rig.close()


@pytest.mark.parametrize("exchange_id", VENUES)
async def test_an_immediate_sell_larger_than_the_touch_fills_partly(exchange_id: str) -> None:
    """A limit IOC sell at the bid for more than the bid holds fills what the bid level has
    and the rest is cancelled by the venue: each dialect reports that partial fill in its own
    terms (Binance EXPIRED with executedQty, Kraken canceled with vol_exec, Coinbase
    CANCELLED with filled_size), read back through ccxt and the adapter."""
    rig = _rig(exchange_id, {"USD": "150", "SEI": "50000"})
    adapter = rig.exchange.inner
    book = await adapter.book("SEI-USD", 5)
    touch = book.bids[0]
    size = (touch.size * 2).quantize(Decimal("0.1"))
    order = await adapter.place_order(
        OrderRequest(
            "ioc-partly",
            "SEI-USD",
            Side.SELL,
            size,
            OrderType.LIMIT,
            limit_price=touch.price,
            immediate_or_cancel=True,
        )
    )
    again = await adapter.get_order(order.order_id)
    assert 0 < again.filled_size < size
    assert again.filled_size == touch.size
    assert again.status is not OrderStatus.OPEN and again.status is not OrderStatus.FILLED
    fills = await adapter.fills(order.order_id)
    assert sum(f.size for f in fills) == again.filled_size
    assert all(f.price == touch.price for f in fills)
    held = {b.asset: b for b in await adapter.balances()}["SEI"]
    assert held.total == Decimal(50000) - again.filled_size and held.hold == 0
    await rig.close()
