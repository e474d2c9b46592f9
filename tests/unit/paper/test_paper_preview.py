"""The paper exchange previews an order with its placement rules and places nothing."""

from __future__ import annotations

from decimal import Decimal

from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.port import OrderPreviewer

from .conftest import OpenPaper


async def test_preview_judges_like_a_placement_and_places_nothing(open_paper: OpenPaper) -> None:
    paper = open_paper(holdings={"SEI": "36.4"}, seed=3, market="calm")
    quote = await paper.quote("SEI-USD")
    fits = OrderRequest("c1", "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.MARKET)
    too_big = OrderRequest("c2", "SEI-USD", Side.SELL, Decimal("3640"), OrderType.MARKET)
    crossing = OrderRequest("c3", "SEI-USD", Side.SELL, Decimal("36.4"), OrderType.LIMIT,
                            quote.bid, post_only=True)  # fmt: skip

    assert isinstance(paper, OrderPreviewer)
    assert await paper.preview_order(fits) == "ok"
    assert await paper.preview_order(too_big) == "PREVIEW_INSUFFICIENT_FUND"
    assert await paper.preview_order(crossing) == "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY"
    assert await paper.open_orders() == [] and await paper.find_order("c1") is None
    assert {b.asset: b.available for b in await paper.balances()}["SEI"] == Decimal("36.4")
