"""A good-till-date maker order refused for its end time falls back to good-till-cancelled.

The refusal is a Create Order failure (``fixtures.create_failure``) whose
``preview_failure_reason`` is ``PREVIEW_INVALID_END_TIME``, a value of the Create Order
reference's preview failure enum; the minimum lead time behind it is not documented.
"""

from __future__ import annotations

from decimal import Decimal

from cleanslate.api.policy import Execution, Pace
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.coinbase import CoinbaseExchange
from cleanslate.exchange.coinbase.errors import rejection_for_create
from cleanslate.exchange.errors import ExpiryRefused
from cleanslate.execution import run_twap

from . import fixtures as fx
from .fake_venue import FakeCoinbase


def test_an_end_time_refusal_is_expiry_refused_whatever_the_generic_error() -> None:
    payload = fx.create_failure(
        "INVALID_ORDER_CONFIGURATION",
        "end_time is too close to the current time",
        preview_failure_reason="PREVIEW_INVALID_END_TIME",
    )

    rejected = rejection_for_create(payload)

    assert isinstance(rejected, ExpiryRefused) and rejected.reason_code == "INVALID_END_TIME"


async def test_a_refused_end_time_sends_maker_orders_good_till_cancelled_and_cancels_them(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    venue.refuse_end_times = True
    notices: list[str] = []

    out = await run_twap(
        exchange,
        clock,
        account="ns/acct",
        symbol="SEI-USD",
        attempt=1,
        target_quantity=Decimal("36.4"),
        policy=Execution(pace=Pace.FIXED),  # resting orders are the subject
        on_notice=notices.append,
    )

    kinds = [next(iter(o["order_configuration"])) for o in venue.orders.values()]
    makers = [o for o in venue.orders.values() if "limit_limit_gtc" in o["order_configuration"]]
    assert out.success and out.filled_quantity == Decimal("36.4")
    assert "limit_limit_gtd" not in kinds and len(makers) == 2  # maker-first and maker-retry
    assert all(o["order_configuration"]["limit_limit_gtc"]["post_only"] for o in makers)
    assert all(o["status"] == "CANCELLED" for o in makers)  # cancelled by us at their TTL
    assert makers[0]["client_order_id"] == out.requests[0].client_order_id
    assert len(notices) == 1 and "good-till-cancelled" in notices[0]
    assert venue.creates == 4  # refused GTD once, then two GTC makers and the taker


async def test_without_a_refusal_maker_orders_stay_good_till_date(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    notices: list[str] = []

    await run_twap(exchange, clock, account="ns/acct", symbol="SEI-USD", attempt=1,
                   target_quantity=Decimal("36.4"), policy=Execution(pace=Pace.FIXED),
                   on_notice=notices.append)  # fmt: skip

    kinds = {next(iter(o["order_configuration"])) for o in venue.orders.values()}
    assert "limit_limit_gtd" in kinds and "limit_limit_gtc" not in kinds and notices == []
