"""The ``documents`` market reproduces the source documents: SEI, WLFI, BONK, AUT, stale orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderStatus, OrderType, ProductStatus, Side
from cleanslate.exchange.errors import (
    InvalidOrderConfiguration,
    NotFound,
    ProductNotTradeable,
)
from cleanslate.exchange.paper import MARKETS, PaperExchange

OpenPaper = Callable[..., PaperExchange]
T3_VOLUME_FLOOR = Decimal(2_000_000)
SYMBOLS = ["BTC", "ETH", "SOL", "SEI", "WLFI", "BONK", "DOGE", "XRP", "ADA", "AVAX", "LINK"]


async def test_documents_market_lists_the_documents_symbols(open_paper: OpenPaper) -> None:
    ids = {p.product_id for p in await open_paper().products()}
    assert {f"{s}-USD" for s in [*SYMBOLS, "USDC", "USDT", "AUT"]} <= ids


@pytest.mark.parametrize("pid", ["SEI-USD", "WLFI-USD"])
async def test_sei_and_wlfi_fall_below_the_tier3_volume_floor(
    open_paper: OpenPaper, clock: SimulatedClock, pid: str
) -> None:
    ex = open_paper()
    for _ in range(48):
        assert (await ex.quote(pid)).quote_volume_24h < T3_VOLUME_FLOOR
        await clock.sleep(1800)


async def test_prices_are_those_of_the_stories(open_paper: OpenPaper) -> None:
    ex = open_paper()
    assert abs((await ex.quote("SEI-USD")).mid - Decimal("0.1563")) < Decimal("0.01")
    assert abs((await ex.quote("BTC-USD")).mid - 95000) < 6000
    assert (await ex.quote("BTC-USD")).quote_volume_24h > 100_000_000


async def test_sei_residual_of_the_story_is_below_minimum_notional(open_paper: OpenPaper) -> None:
    ex = open_paper(holdings={"SEI": "36.4"})
    request = OrderRequest("dust", "SEI-USD", Side.SELL, Decimal("0.2"), OrderType.MARKET)
    with pytest.raises(InvalidOrderConfiguration) as caught:
        await ex.place_order(request)
    assert caught.value.detail.preview_failure_reason == "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL"


async def test_bonk_purge_fails_every_time(open_paper: OpenPaper, clock: SimulatedClock) -> None:
    """Slice 1 rests and never fills; slice 2 is rejected; the next purge likewise."""
    ex = open_paper(holdings={"BONK": 889587})
    for purge in range(3):
        quote = await ex.quote("BONK-USD")
        ttl = clock.now() + timedelta(seconds=25)
        first = await ex.place_order(
            OrderRequest(
                f"p{purge}-1",
                "BONK-USD",
                Side.SELL,
                Decimal(469000),
                OrderType.LIMIT,
                quote.ask,
                post_only=True,
                expires_at=ttl,
            )
        )
        await clock.sleep(30)
        first = await ex.get_order(first.order_id)
        assert (first.status, first.filled_size) == (OrderStatus.EXPIRED, Decimal(0))
        with pytest.raises(InvalidOrderConfiguration) as caught:
            await ex.place_order(
                OrderRequest(
                    f"p{purge}-2",
                    "BONK-USD",
                    Side.SELL,
                    Decimal(469000),
                    OrderType.MARKET,
                    immediate_or_cancel=True,
                )
            )
        detail = caught.value.detail
        assert detail.message and detail.raw["error_response"]["error"] == detail.error
        await clock.sleep(60)
    assert {b.asset: b.total for b in await ex.balances()}["BONK"] == 889587


async def test_bonk_is_wider_than_the_tier3_spread_limit(open_paper: OpenPaper) -> None:
    assert (await open_paper().quote("BONK-USD")).spread_bps > 100


async def test_delisted_aut_has_no_price(open_paper: OpenPaper) -> None:
    ex = open_paper(holdings={"AUT": 100})
    assert (await ex.product("AUT-USD")).status is ProductStatus.DELISTED
    with pytest.raises(NotFound) as caught:
        await ex.quote("AUT-USD")
    assert caught.value.detail.message == "Price not available"
    with pytest.raises(ProductNotTradeable):
        await ex.place_order(
            OrderRequest("a", "AUT-USD", Side.SELL, Decimal(100), OrderType.MARKET)
        )


async def test_suspended_product_quotes_but_does_not_trade(open_paper: OpenPaper) -> None:
    ex = open_paper(holdings={"ZETA": 100})
    assert (await ex.quote("ZETA-USD")).bid > 0
    with pytest.raises(ProductNotTradeable):
        await ex.place_order(
            OrderRequest("z", "ZETA-USD", Side.SELL, Decimal(100), OrderType.MARKET)
        )


async def test_seeded_stale_orders_have_their_age_and_hold(
    open_paper: OpenPaper, clock: SimulatedClock
) -> None:
    seed = {"productId": "DOGE-USD", "side": "BUY", "size": 50, "limitPrice": 0.1, "ageMinutes": 90}
    ex = open_paper(holdings={"USD": 20}, openOrders=[seed])
    (order,) = await ex.open_orders()
    assert order.created_at == clock.now() - timedelta(minutes=90)
    assert order.client_order_id == "seed-0"
    usd = {b.asset: b for b in await ex.balances()}["USD"]
    assert usd.hold == Decimal("5.03")  # 50 x 0.1 plus the entry tier's 0.60 % maker fee


def test_seeded_orders_need_the_holdings_they_lock(open_paper: OpenPaper) -> None:
    seed = {"productId": "SEI-USD", "side": "SELL", "size": 50, "limitPrice": 0.5}
    with pytest.raises(ValueError, match="holdings"):
        open_paper(holdings={"SEI": 10}, openOrders=[seed])


def test_unknown_market_names_the_known_ones(open_paper: OpenPaper) -> None:
    # the schema refuses it now (an enum), naming every built-in market
    with pytest.raises(ValueError, match="'documents', 'calm', 'usdt' or 'eur'"):
        open_paper(market="nope")


def test_calm_market_has_no_quirks_or_untradeable_products() -> None:
    calm = MARKETS["calm"].products.values()
    assert all(s.quirk is None and s.status is ProductStatus.TRADEABLE for s in calm)


def test_package_exports_are_the_public_api() -> None:
    import cleanslate.exchange.paper as paper

    assert sorted(paper.__all__) == ["MARKETS", "PaperExchange", "Trend", "open_paper_exchange"]
