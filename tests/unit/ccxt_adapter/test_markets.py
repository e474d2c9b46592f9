"""Markets as Products in both of ccxt's precision modes; symbols; quotes and 24h volume."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE

from cleanslate.core.market import ProductStatus
from cleanslate.exchange.ccxt import markets
from cleanslate.exchange.ccxt.adapter import quote_volume
from cleanslate.exchange.errors import InvalidProductId, RateLimited

from .venue import (
    BINANCE_BTC_USDT,
    BINANCE_BTC_USDT_DECIMAL_PLACES,
    BINANCE_MARKETS,
    KRAKEN_BTC_USD,
    KRAKEN_MARKETS,
    NOW,
    Failure,
    venue_for,
)


def test_tick_size_precision_is_the_step_itself() -> None:
    product = markets.product(KRAKEN_BTC_USD, TICK_SIZE)
    assert product.product_id == "BTC-USD"
    assert (product.base, product.quote) == ("BTC", "USD")
    assert product.base_increment == Decimal("1e-8")
    assert product.price_tick == Decimal("0.1") == product.quote_increment
    assert product.min_base_size == Decimal("0.0001")
    assert product.min_notional == 0  # ccxt's kraken market has an empty cost limit
    assert product.tradeable


def test_decimal_places_precision_is_a_digit_count() -> None:
    product = markets.product(BINANCE_BTC_USDT_DECIMAL_PLACES, DECIMAL_PLACES)
    assert product.base_increment == Decimal("0.00001")  # LOT_SIZE stepSize
    assert product.price_tick == Decimal("0.01")  # PRICE_FILTER tickSize
    assert product.min_base_size == Decimal("0.00001")
    assert product.min_notional == Decimal(5)


def test_both_modes_give_the_same_product_for_the_same_market() -> None:
    assert markets.product(BINANCE_BTC_USDT_DECIMAL_PLACES, DECIMAL_PLACES) == markets.product(
        BINANCE_BTC_USDT, TICK_SIZE
    )


def test_float_steps_cross_as_their_shortest_decimal() -> None:
    market = copy.deepcopy(KRAKEN_BTC_USD)
    market["precision"] = {"amount": 0.1, "price": 0.0001}
    product = markets.product(market, TICK_SIZE)
    assert product.base_increment == Decimal("0.1")  # never 0.1000000000000000055...
    assert product.price_tick == Decimal("0.0001")


def test_significant_digits_mode_has_no_fixed_step_so_the_market_is_suspended() -> None:
    product = markets.product(KRAKEN_BTC_USD, SIGNIFICANT_DIGITS)
    assert product.status is ProductStatus.SUSPENDED and not product.tradeable


@pytest.mark.parametrize("missing", ["amount", "price"])
def test_a_market_without_a_precision_is_suspended(missing: str) -> None:
    market = copy.deepcopy(KRAKEN_BTC_USD)
    market["precision"][missing] = None
    assert markets.product(market, TICK_SIZE).status is ProductStatus.SUSPENDED


def test_an_inactive_market_is_suspended_and_an_unknown_one_trades() -> None:
    market = copy.deepcopy(KRAKEN_BTC_USD)
    market["active"] = False
    assert markets.product(market, TICK_SIZE).status is ProductStatus.SUSPENDED
    market["active"] = None  # ccxt: the venue does not say
    assert markets.product(market, TICK_SIZE).tradeable


def test_symbols_and_product_ids_map_both_ways() -> None:
    assert markets.symbol_of("SEI-USD") == "SEI/USD"
    assert markets.product_id_of("SEI/USD") == "SEI-USD"
    assert markets.product_id_of(markets.symbol_of("BTC-USDT")) == "BTC-USDT"


async def test_products_list_spot_markets_only() -> None:
    swap = copy.deepcopy(BINANCE_BTC_USDT)
    swap.update(symbol="BTC/USDT:USDT", type="swap", spot=False, swap=True, settle="USDT")
    _, exchange, _ = venue_for("binance", {**BINANCE_MARKETS, "BTC/USDT:USDT": swap})
    assert [p.product_id for p in await exchange.products()] == ["BTC-USDT"]
    with pytest.raises(InvalidProductId) as caught:
        await exchange.product("ETH-USDT")
    assert caught.value.detail.raw == {"symbol": "ETH/USDT", "listed": False}


# --- quotes -----------------------------------------------------------------------------------

# Binance GET /api/v3/ticker/24hr, as in the spot example in the comment above ccxt's
# binance parse_ticker (ccxt/async_support/binance.py; values ours).
BINANCE_TICKER = {
    "symbol": "BTCUSDT",
    "priceChange": "-150.00000000",
    "priceChangePercent": "-0.150",
    "weightedAvgPrice": "100010.00000000",
    "prevClosePrice": "100150.00000000",
    "lastPrice": "100000.00000000",
    "lastQty": "0.00100000",
    "bidPrice": "99999.99000000",
    "bidQty": "1.00000000",
    "askPrice": "100000.00000000",
    "askQty": "2.00000000",
    "openPrice": "100150.00000000",
    "highPrice": "101000.00000000",
    "lowPrice": "99000.00000000",
    "volume": "12000.00000000",
    "quoteVolume": "1200120000.00000000",
    "openTime": 1737549157417,
    "closeTime": 1737635557417,
    "firstId": 1,
    "lastId": 2,
    "count": 2,
}
# Binance GET /api/v3/depth (lastUpdateId, bids/asks as [price, qty] strings), as in the
# comment in ccxt's binance fetch_order_book.
BINANCE_DEPTH = {
    "lastUpdateId": 1027024,
    "bids": [["99999.99", "1.0"], ["99500.00", "2.0"], ["98000.00", "50.0"]],
    "asks": [["100000.00", "2.0"], ["100001.00", "1.0"]],
}


async def test_quote_takes_the_book_top_the_ticker_volume_and_the_depth_within_one_percent() -> (
    None
):
    venue, exchange, _ = venue_for("binance", BINANCE_MARKETS)
    venue.on("GET", "/api/v3/ticker/24hr", BINANCE_TICKER).on("GET", "/api/v3/depth", BINANCE_DEPTH)
    quote = await exchange.quote("BTC-USDT")
    assert (quote.bid, quote.ask) == (Decimal("99999.99"), Decimal("100000.00"))
    assert quote.quote_volume_24h == Decimal("1200120000")
    # 98000 is more than 1 % below the best bid: not counted
    assert quote.bid_depth_quote == Decimal("99999.99") + Decimal("99500.00") * 2
    assert quote.at == NOW


def test_volume_falls_back_to_base_volume_at_the_vwap_then_the_last_price() -> None:
    assert quote_volume({"quoteVolume": 10.5, "baseVolume": 1, "vwap": 2}) == Decimal("10.5")
    assert quote_volume({"baseVolume": 100, "vwap": 2.5, "last": 3}) == Decimal("250.0")
    assert quote_volume({"baseVolume": 100, "last": 3}) == Decimal(300)


def test_a_missing_volume_is_unknown_never_zero() -> None:
    assert quote_volume({}) is None
    assert quote_volume({"baseVolume": 100}) is None
    assert quote_volume({"quoteVolume": None, "baseVolume": None, "last": 3}) is None
    assert quote_volume({"quoteVolume": 0}) == 0  # a venue that says 0 means 0


# Kraken GET /0/public/Ticker, as in the comment above ccxt's kraken parse_ticker: ``v`` is
# the base volume (today, last 24h) and ``p`` the VWAP; Kraken gives no quote volume.
KRAKEN_TICKER = {
    "error": [],
    "result": {
        "XXBTZUSD": {
            "a": ["100000.10000", "1", "1.000"],
            "b": ["100000.00000", "2", "2.000"],
            "c": ["100000.00000", "0.01000000"],
            "v": ["100.00000000", "200.00000000"],
            "p": ["99000.00000", "99500.00000"],
            "t": [1000, 2000],
            "l": ["98000.00000", "98000.00000"],
            "h": ["101000.00000", "101000.00000"],
            "o": "99800.00000",
        }
    },
}
KRAKEN_DEPTH = {
    "error": [],
    "result": {
        "XXBTZUSD": {
            "asks": [["100000.10000", "1.000", 1737635557]],
            "bids": [["100000.00000", "2.000", 1737635557]],
        }
    },
}


async def test_kraken_volume_is_derived_from_base_volume_and_vwap() -> None:
    venue, exchange, _ = venue_for("kraken", KRAKEN_MARKETS)
    venue.on("GET", "/0/public/Ticker", KRAKEN_TICKER).on("GET", "/0/public/Depth", KRAKEN_DEPTH)
    quote = await exchange.quote("BTC-USD")
    assert quote.quote_volume_24h == Decimal("200") * Decimal("99500")
    assert quote.bid == Decimal("100000") and quote.ask == Decimal("100000.1")


async def test_a_rate_limited_quote_is_temporary() -> None:
    venue, exchange, _ = venue_for("binance", BINANCE_MARKETS)
    venue.on(
        "GET", "/api/v3/ticker/24hr", Failure(429, {"code": -1003, "msg": "Too many requests"})
    )
    with pytest.raises(RateLimited):
        await exchange.quote("BTC-USDT")


def test_a_minimum_ccxt_leaves_empty_is_read_from_the_venues_own_field() -> None:
    """ccxt's coinbaseexchange leaves ``limits.amount.min`` empty; the product's
    ``base_min_size`` (``ClientIdSemantics.min_amount_info``) is the minimum."""
    market = {
        "symbol": "SEI/USD", "base": "SEI", "quote": "USD", "spot": True, "active": True,
        "precision": {"amount": 0.1, "price": 0.0001},
        "limits": {"amount": {"min": None}, "cost": {"min": 1}},
        "info": {"base_min_size": "0.5"},
    }  # fmt: skip
    assert markets.product(market, TICK_SIZE).min_base_size == 0
    assert markets.product(market, TICK_SIZE, "base_min_size").min_base_size == Decimal("0.5")
