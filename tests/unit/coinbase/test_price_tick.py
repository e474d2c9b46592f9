"""The price tick is ``price_increment``: sub-cent coins must be priced below a cent.

Product payloads are shaped as Get Product answers (``fixtures.product``). The SHIB-USD
figures follow ccxt issue 20026: ``quote_increment`` 0.01 on a coin quoted at 0.0000089.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from cleanslate.api.policy import Execution
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Quote
from cleanslate.core.twap import plan_twap
from cleanslate.exchange.coinbase import CoinbaseExchange, wire
from cleanslate.execution import run_twap

from . import fixtures as fx
from .fake_venue import FakeCoinbase

D = Decimal
AT = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
BID, ASK = "0.00000893", "0.00000895"


def shib_entry() -> dict[str, object]:
    return fx.product(
        "SHIB-USD",
        "0.00000894",
        base_increment="1",
        base_min_size="1",
        quote_increment="0.01",
        price_increment="0.00000001",
        quote_min_size="1",
    )


def test_price_increment_is_the_tick_and_quote_increment_is_kept_apart() -> None:
    product = wire.product(shib_entry())

    assert product.price_tick == D("0.00000001")
    assert product.quote_increment == D("0.01")
    assert product.min_notional == D("1")  # quote_min_size


def test_quote_increment_is_the_tick_only_when_price_increment_is_absent() -> None:
    entry = fx.product("SEI-USD", "0.1563", quote_increment="0.0001")
    del entry["price_increment"]

    assert wire.product(entry).price_tick == D("0.0001")


def test_a_sub_cent_coin_is_priced_inside_the_spread_not_at_a_cent() -> None:
    product = wire.product(shib_entry())
    arrival = Quote("SHIB-USD", D(BID), D(ASK), D("50000000"), D("100000"), AT)

    plan = plan_twap(
        account="acct",
        attempt=1,
        product=product,
        policy=Execution(),
        target_quantity=D("2000000"),
        arrival=arrival,
        started_at=AT,
    )

    assert D("0.000008") < plan.taker_floor <= D(BID)  # was 0.01: above the bid, never sold


async def test_the_twap_sells_a_sub_cent_coin_through_the_adapter(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    venue.add_account("SHIB", "2000000")
    venue.add_product(shib_entry(), bids=[(BID, "900000000")], asks=[(ASK, "900000000")])

    out = await run_twap(
        exchange,
        clock,
        account="ns/acct",
        symbol="SHIB-USD",
        attempt=1,
        target_quantity=D("2000000"),
        policy=Execution(),
    )

    assert out.success and out.filled_quantity == D("2000000")
    assert venue.accounts["SHIB"]["available"] == 0
    prices = [D(next(iter(o["order_configuration"].values()))["limit_price"])
              for o in venue.orders.values()]  # fmt: skip
    assert prices and all(p < D("0.00001") for p in prices)
