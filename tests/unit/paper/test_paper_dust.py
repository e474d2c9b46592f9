"""The paper venue's dust conversion (``paper.dustTarget``): the free balance of each asset
at the mid, into the target, less 2 %; once per 6 hours; an asset it cannot price stays."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.errors import OrderRejected
from cleanslate.exchange.port import DustConverter, DustTerms

from .conftest import OpenPaper

D = Decimal


async def _held(paper, asset: str) -> Decimal:  # type: ignore[no-untyped-def]
    return sum((b.total for b in await paper.balances() if b.asset == asset), D(0))


def test_no_target_no_conversion(open_paper: OpenPaper) -> None:
    paper = open_paper(holdings={"SEI": "0.2"})
    assert isinstance(paper, DustConverter)
    assert paper.dust_terms() is None


async def test_crumbs_become_the_target_at_the_mid_less_two_percent(
    open_paper: OpenPaper,
) -> None:
    paper = open_paper(holdings={"USD": "10", "SEI": "0.2", "AMP": "100"}, dustTarget="USD")
    assert paper.dust_terms() == DustTerms("USD", timedelta(hours=6))
    sei, amp = await paper.quote("SEI-USD"), await paper.quote("AMP-USD")
    worth = D("0.2") * sei.mid + D("100") * amp.mid

    done = await paper.convert_dust(["SEI", "AMP"])

    assert done.assets == ("SEI", "AMP") and done.target == "USD"
    assert done.fee == (worth * D("0.02")).quantize(D("0.00000001"), rounding=ROUND_DOWN)
    assert abs(done.received + done.fee - worth) < D("0.00000002")
    assert await _held(paper, "SEI") == 0 and await _held(paper, "AMP") == 0
    assert await _held(paper, "USD") == D("10") + done.received


async def test_into_another_asset_through_its_own_market(open_paper: OpenPaper) -> None:
    paper = open_paper(holdings={"AMP": "100"}, dustTarget="BTC")
    amp, btc = await paper.quote("AMP-USD"), await paper.quote("BTC-USD")
    done = await paper.convert_dust(["AMP"])
    expected = D("100") * amp.mid / btc.mid
    assert abs(done.received + done.fee - expected) < D("0.00000002")
    assert await _held(paper, "BTC") == done.received


async def test_once_per_six_hours(open_paper: OpenPaper, clock: SimulatedClock) -> None:
    paper = open_paper(holdings={"SEI": "0.2", "AMP": "100"}, dustTarget="USD")
    await paper.convert_dust(["SEI"])
    clock.advance(5 * 3600)
    with pytest.raises(OrderRejected, match="one dust conversion per 6 hours"):
        await paper.convert_dust(["AMP"])
    clock.advance(3600)
    assert (await paper.convert_dust(["AMP"])).assets == ("AMP",)


async def test_an_unpriced_asset_and_what_orders_hold_stay(open_paper: OpenPaper) -> None:
    paper = open_paper(holdings={"USD": "10", "AUT": "5", "SEI": "30"}, dustTarget="USD")
    sell = OrderRequest(
        client_order_id="c-1",
        product_id="SEI-USD",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        base_size=D("20"),
        limit_price=D("5"),
    )
    await paper.place_order(sell)
    done = await paper.convert_dust(["AUT", "SEI"])
    assert done.assets == ("SEI",), "AUT is delisted: no price, not converted"
    assert await _held(paper, "AUT") == D("5")
    assert await _held(paper, "SEI") == D("20"), "the order's 20 SEI stay in the order"


async def test_nothing_convertible_is_refused(open_paper: OpenPaper) -> None:
    paper = open_paper(holdings={"AUT": "5"}, dustTarget="USD")
    with pytest.raises(OrderRejected, match="no asset could be converted"):
        await paper.convert_dust(["AUT"])
