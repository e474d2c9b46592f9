"""Once Coinbase said ``success: true``, the order exists: it is tracked, never a rejection.

The Create Order answer is shaped as the Create Order reference documents it
(``fixtures.create_success``); the read-back is Get Order (``/orders/historical/{id}``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cleanslate.api.policy import Execution
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderStatus, OrderType, Side
from cleanslate.exchange.coinbase import CoinbaseExchange
from cleanslate.exchange.errors import ExchangeTimeout, Unavailable
from cleanslate.execution import run_twap

from . import fixtures as fx
from .fake_venue import FakeCoinbase

READ_BACK = "/orders/historical/ord-"
FORBIDDEN = fx.http_error("PERMISSION_DENIED", "Forbidden", 7)


def maker_sell(cid: str = "purge-sei-1-1") -> OrderRequest:
    return OrderRequest(cid, "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.LIMIT,
                        Decimal("0.1564"), post_only=True)  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, FORBIDDEN),
        (400, fx.http_error("INVALID_ARGUMENT", "bad request", 3)),
        (200, {"order": {"order_id": "ord-0001"}}),  # no product, side or created_time
        (200, {"unexpected": True}),
    ],
)
async def test_a_failed_read_back_after_acceptance_returns_the_placed_order(
    exchange: CoinbaseExchange, venue: FakeCoinbase, status: int, body: object
) -> None:
    venue.fail_next(1, status, body=body, path=READ_BACK)

    order = await exchange.place_order(maker_sell())

    assert order.order_id == "ord-0001" and order.status is OrderStatus.OPEN
    assert order.client_order_id == "purge-sei-1-1" and order.base_size == Decimal("36.4")
    assert venue.orders["ord-0001"]["status"] == "OPEN"


async def test_a_malformed_order_answer_is_unavailable_not_a_crash(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    await exchange.place_order(maker_sell())
    venue.fail_next(1, 200, body={"order": {"order_id": "ord-0001"}}, path=READ_BACK)

    with pytest.raises(Unavailable):
        await exchange.get_order("ord-0001")


async def test_acceptance_without_an_order_id_is_found_by_client_order_id(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    venue.fail_next(1, 200, body={"success": True, "success_response": {}}, path="/orders")

    with pytest.raises(ExchangeTimeout):  # nothing placed, nothing found: outcome unknown
        await exchange.place_order(maker_sell())
    assert venue.orders == {}


async def test_the_purge_tracks_and_cancels_an_order_whose_read_back_was_refused(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    venue.fail_next(1, 403, body=FORBIDDEN, path=READ_BACK)

    out = await run_twap(
        exchange,
        clock,
        account="ns/acct",
        symbol="SEI-USD",
        attempt=1,
        target_quantity=Decimal("36.4"),
        policy=Execution(),
    )

    assert [o["status"] for o in venue.orders.values()].count("OPEN") == 0
    assert venue.orders["ord-0001"]["status"] == "CANCELLED"  # the maker leg, cancelled at TTL
    assert out.success and out.filled_quantity == Decimal("36.4")
    assert out.reject is None and out.open_order_id is None
