"""Listings are read to their end, and a listing that never ends is an error.

Page shapes: List Accounts carries ``accounts``, ``has_next``, ``cursor``, ``size`` (SDK
coinbase/rest/types/accounts_types.py ``ListAccountsResponse``); List Products carries
``products`` and ``num_products`` and takes ``limit``/``offset`` (SDK coinbase/rest/products.py
``get_products``, coinbase/rest/types/product_types.py ``ListProductsResponse``).
"""

from __future__ import annotations

import pytest

from cleanslate.exchange.coinbase import CoinbaseExchange
from cleanslate.exchange.errors import Unavailable

from . import fixtures as fx
from .fake_venue import FakeCoinbase


@pytest.mark.parametrize("paging", ["cursor", "offset"])
async def test_list_products_is_followed_to_the_last_page(
    exchange: CoinbaseExchange, venue: FakeCoinbase, paging: str
) -> None:
    venue.products_paging = paging  # four products, two per page

    listed = {p.product_id for p in await exchange.products()}

    assert listed == {"SEI-USD", "BONK-USD", "BTC-USD", "OLD-USD"}
    assert [r[2] for r in venue.requests].count("/products") == 2


async def test_a_repeated_accounts_cursor_stops_with_an_error(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    stuck = fx.accounts_page([fx.account("SEI", "1")], cursor="c-1")
    venue.fail_next(3, 200, body=stuck, path="/accounts")

    with pytest.raises(Unavailable, match="repeated the cursor"):
        await exchange.balances()
    assert [r[2] for r in venue.requests].count("/accounts") == 2


async def test_a_repeated_products_cursor_stops_with_an_error(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    stuck = {"products": [fx.product("SEI-USD", "0.15")], "has_next": True, "cursor": "p-1"}
    venue.fail_next(3, 200, body=stuck, path="/products")

    with pytest.raises(Unavailable, match="repeated the cursor"):
        await exchange.products()
