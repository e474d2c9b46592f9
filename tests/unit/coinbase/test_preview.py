"""DryRun plans checked by Coinbase's Preview Order, the one POST a read-only adapter sends.

Shapes: the request is Create Order's body without ``client_order_id`` (SDK
coinbase/rest/orders.py ``preview_order``); the answer lists failure reasons in ``errs``
(``fixtures.preview_answer``, after the SDK's ``PreviewOrderResponse``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from cleanslate.api.account import PlanAction, TradingAccountSpec, TradingAccountStatus
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.cycle import CycleInputs, CycleOptions, run_cycle
from cleanslate.events import EventList
from cleanslate.exchange.coinbase import CoinbaseExchange, Credentials, ReadOnlyRefused
from cleanslate.exchange.coinbase.requesting import Session
from cleanslate.exchange.marketdata import MarketData

from .conftest import build_exchange
from .fake_venue import FakeCoinbase


def sell(size: str, price: str, product: str = "SEI-USD") -> OrderRequest:
    return OrderRequest("purge-x-1-1", product, Side.SELL, Decimal(size), OrderType.LIMIT,
                        Decimal(price), post_only=True)  # fmt: skip


@pytest.fixture
async def read_only(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> CoinbaseExchange:
    venue.forbid_writes = True  # any POST but Preview Order fails the test in the transport
    return build_exchange(venue, credentials, clock, read_only=True)


async def test_a_valid_order_previews_ok_and_nothing_is_placed(
    read_only: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    verdict = await read_only.preview_order(sell("36.4", "0.1564"))

    assert verdict == "ok" and venue.orders == {} and venue.creates == 0
    assert venue.previews[0]["order_configuration"]["limit_limit_gtc"]["post_only"] is True


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (sell("36.4", "0.1562"), "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY"),  # crosses the bid
        (sell("500", "0.1564"), "PREVIEW_INSUFFICIENT_FUND"),
        (sell("36.45", "0.1564"), "PREVIEW_INVALID_SIZE_PRECISION"),
    ],
)
async def test_a_refusal_previews_as_its_reason(
    read_only: CoinbaseExchange, request_: OrderRequest, reason: str
) -> None:
    assert await read_only.preview_order(request_) == reason


@pytest.mark.parametrize(
    "path",
    [
        "/orders",
        "/orders/batch_cancel",
        "/orders/edit",
        "/orders/close_position",
        "/orders/preview/",
        "/orders/preview/../../orders",
        "/orders/previewx",
        "/orders/edit_preview",
        "/convert/quote",
        "/portfolios/move_funds",
        "",
    ],
)
async def test_no_post_but_preview_leaves_a_read_only_session(
    read_only: CoinbaseExchange, venue: FakeCoinbase, path: str
) -> None:
    session: Session = read_only._session

    with pytest.raises(ReadOnlyRefused):
        await session.post(path, {"product_id": "SEI-USD"}, idempotent=True)
    with pytest.raises(ReadOnlyRefused):
        await session.post(path, {"product_id": "SEI-USD"}, idempotent=False)
    assert venue.requests == []


async def test_a_read_only_adapter_still_refuses_orders_and_cancels(
    read_only: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    with pytest.raises(ReadOnlyRefused):
        await read_only.place_order(sell("36.4", "0.1564"))
    with pytest.raises(ReadOnlyRefused):
        await read_only.cancel_orders(["ord-0001"])
    assert venue.requests == []


async def test_a_dry_run_cycle_previews_each_sale_and_posts_nothing_else(
    read_only: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    spec = TradingAccountSpec.model_validate(
        {"policyRef": {"name": "p"}, "mode": "DryRun",
         "exchange": {"name": "coinbase", "credentialsSecretRef": {"name": "k"}}}
    )  # fmt: skip
    policy = PurgePolicySpec.model_validate(
        {"universe": {"excludedSymbols": ["SEI-USD", "BONK-USD"]}}
    )

    result = await run_cycle(
        CycleInputs(
            account="trading/main", spec=spec, policy=policy, status=TradingAccountStatus(),
            exchange=read_only, clock=clock, events=EventList(),
            options=CycleOptions(dry_run=True), generation=1, market=MarketData(),
        )
    )  # fmt: skip

    sales = {p.symbol: p for p in result.status.plan if p.action is PlanAction.PURGE}
    assert set(sales) == {"SEI-USD", "BONK-USD"}
    assert all(p.preview == "ok" for p in sales.values()), sales
    posts = [path for _, method, path in venue.requests if method != "GET"]
    assert posts == ["/orders/preview", "/orders/preview"] and venue.orders == {}
