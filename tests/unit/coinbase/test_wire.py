"""Translation of documented Coinbase JSON into market values, and of requests into JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cleanslate.core.market import (
    OrderRequest,
    OrderStatus,
    OrderType,
    ProductStatus,
    Side,
)
from cleanslate.exchange.coinbase import wire

from . import fixtures as fx

AT = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)


def test_quote_volume_is_approximate_quote_24h_volume_never_base_volume() -> None:
    entry = fx.product(
        "BTC-USD", "95000", volume_24h="5928.12", approximate_quote_24h_volume="564677608.15"
    )

    assert wire.quote_volume_24h(entry) == Decimal("564677608.15")


def test_quote_volume_is_zero_not_base_volume_when_the_quote_figure_is_missing() -> None:
    entry = fx.product("BTC-USD", "95000", volume_24h="5928.12")
    del entry["approximate_quote_24h_volume"]

    assert wire.quote_volume_24h(entry) == 0


def test_product_increments_minimums_and_status() -> None:
    entry = fx.product(
        "SEI-USD", "0.1563", base_increment="0.1", base_min_size="1", quote_min_size="1"
    )

    product = wire.product(entry)

    assert (product.base, product.quote) == ("SEI", "USD")
    assert product.base_increment == Decimal("0.1")
    assert product.quote_increment == Decimal("0.0001")
    assert product.min_base_size == Decimal("1")
    assert product.min_notional == Decimal("1")
    assert product.status is ProductStatus.TRADEABLE


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"status": "delisted"}, ProductStatus.DELISTED),
        ({"trading_disabled": True}, ProductStatus.SUSPENDED),
        ({"is_disabled": True}, ProductStatus.SUSPENDED),
        ({"cancel_only": True}, ProductStatus.SUSPENDED),
        ({"status": "offline"}, ProductStatus.SUSPENDED),
        ({"limit_only": True}, ProductStatus.TRADEABLE),
    ],
)
def test_product_status(changes: dict[str, object], status: ProductStatus) -> None:
    entry = {**fx.product("X-USD", "1"), **changes}

    assert wire.product_status(entry) is status


def test_accounts_page_reads_available_and_hold_and_the_cursor() -> None:
    payload = fx.accounts_page([fx.account("BTC", "1.5", hold="0.25")], cursor="next-1")

    balances, cursor = wire.accounts_page(payload)

    assert cursor == "next-1"
    assert balances[0].available == Decimal("1.5") and balances[0].hold == Decimal("0.25")


def test_last_accounts_page_has_no_cursor() -> None:
    assert wire.accounts_page(fx.accounts_page([], cursor=""))[1] is None


def test_book_sorts_levels_and_measures_bid_depth_near_the_touch() -> None:
    pricebook = fx.pricebook(
        "SEI-USD",
        bids=[fx.level("0.1560", "100"), fx.level("0.1562", "100"), fx.level("0.1000", "999")],
        asks=[fx.level("0.1566", "10"), fx.level("0.1564", "10")],
        at=AT,
    )

    book = wire.book(pricebook, depth=10)

    assert [lv.price for lv in book.bids] == [Decimal(p) for p in ("0.1562", "0.1560", "0.1000")]
    assert book.asks[0].price == Decimal("0.1564")
    assert wire.bid_depth_quote(book.bids) == Decimal("31.22")


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            OrderRequest("c1", "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.LIMIT,
                         Decimal("0.1564"), post_only=True),
            {"limit_limit_gtc": {"base_size": "36.4", "limit_price": "0.1564", "post_only": True}},
        ),
        (
            OrderRequest("c2", "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.LIMIT,
                         Decimal("0.1564"), post_only=True, expires_at=AT),
            {"limit_limit_gtd": {"base_size": "36.4", "limit_price": "0.1564",
                                 "post_only": True, "end_time": "2025-11-16T12:00:00.000000Z"}},
        ),
        (
            OrderRequest("c3", "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.MARKET),
            {"market_market_ioc": {"base_size": "36.4"}},
        ),
        (
            OrderRequest("c5", "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.MARKET,
                         Decimal("0.1500"), immediate_or_cancel=True),
            {"sor_limit_ioc": {"base_size": "36.4", "limit_price": "0.1500"}},
        ),
        (
            OrderRequest("c4", "SEI-USD", Side.SELL, Decimal("1E+1"), OrderType.LIMIT,
                         Decimal("0.15"), immediate_or_cancel=True),
            {"sor_limit_ioc": {"base_size": "10", "limit_price": "0.15"}},
        ),
    ],
)  # fmt: skip
def test_order_configuration(request_: OrderRequest, expected: dict[str, object]) -> None:
    body = wire.create_order_body(request_)

    assert body["order_configuration"] == expected
    assert body["client_order_id"] == request_.client_order_id and body["side"] == "SELL"


def test_order_from_list_orders_entry_keeps_creation_time_fill_and_fees() -> None:
    sent = wire.create_order_body(
        OrderRequest("c1", "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.LIMIT,
                     Decimal("0.1564"), post_only=True)
    )  # fmt: skip
    entry = fx.order(
        "o1", sent, status="FILLED", created=AT, filled_size=Decimal("36.2"),
        average_filled_price=Decimal("0.1564"), total_fees=Decimal("0.0226"),
    )  # fmt: skip

    order = wire.order(entry)

    assert order.status is OrderStatus.FILLED and order.created_at == AT
    assert order.order_type is OrderType.LIMIT and order.post_only
    assert order.limit_price == Decimal("0.1564") and order.base_size == Decimal("36.4")
    assert order.filled_size == Decimal("36.2") and order.fees == Decimal("0.0226")
    assert order.reject_reason is None


def test_fill_uses_commission_as_fee_and_lowercases_liquidity() -> None:
    entry = fx.fill("o1", "SEI-USD", "SELL", Decimal("0.1564"), Decimal("36.2"),
                    Decimal("0.0226"), "MAKER", AT, "t1")  # fmt: skip

    fill = wire.fill(entry)

    assert (fill.fee, fill.liquidity, fill.at, fill.trade_id) == (
        Decimal("0.0226"), "maker", AT, "t1",
    )  # fmt: skip


def test_timestamps_with_nanoseconds_parse() -> None:
    parsed = wire.timestamp("2024-01-15T10:30:00.123456789Z")

    assert parsed == datetime(2024, 1, 15, 10, 30, 0, 123456, tzinfo=UTC)


def test_cancel_results_report_only_successes() -> None:
    payload = {
        "results": [
            {"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": "a"},
            {"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": "b"},
        ]
    }

    assert wire.cancelled_ids(payload) == ["a"]


def test_a_fill_sized_in_quote_units_is_converted_to_base_units() -> None:
    # 1.5 USD worth of SEI at 0.15: 10 SEI (List Fills, size_in_quote: true).
    entry = fx.fill("o1", "SEI-USD", "SELL", Decimal("0.15"), Decimal("1.5"), Decimal("0.009"),
                    "TAKER", AT, "t1", size_in_quote=True)  # fmt: skip

    parsed = wire.fill(entry)

    assert parsed.size == Decimal("10") and parsed.price == Decimal("0.15")
    assert parsed.fee == Decimal("0.009")


def test_a_fill_sized_in_base_units_is_taken_as_is() -> None:
    entry = fx.fill("o1", "SEI-USD", "SELL", Decimal("0.15"), Decimal("1.5"), Decimal("0.009"),
                    "TAKER", AT, "t1")  # fmt: skip

    assert wire.fill(entry).size == Decimal("1.5")


def test_a_quote_sized_fill_without_a_price_is_refused_not_guessed() -> None:
    entry = fx.fill("o1", "SEI-USD", "SELL", Decimal("0"), Decimal("1.5"), Decimal("0"),
                    "TAKER", AT, "t1", size_in_quote=True)  # fmt: skip

    with pytest.raises(ValueError, match="no price"):
        wire.fill(entry)
