"""What production does to us: 429 storms, 5xx, timeouts during placement, rejects; and
that none of it leaks the key."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from cleanslate.api.policy import Execution
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.coinbase import CoinbaseExchange
from cleanslate.exchange.errors import (
    ExchangeError,
    ExchangeTimeout,
    RateLimited,
    Unavailable,
)
from cleanslate.execution import run_twap

from . import fixtures as fx
from .fake_venue import FakeCoinbase
from .test_auth import assert_no_key_material

REQUEST = OrderRequest("purge-bonk-3-2", "BONK-USD", Side.SELL, Decimal("889587"),
                       OrderType.LIMIT, Decimal("0.00001067"), post_only=True)  # fmt: skip
RATE_LIMITED = fx.http_error("RATE_LIMIT_EXCEEDED", "Too many requests", 8)


def posts(venue: FakeCoinbase, path: str = "/orders") -> int:
    return sum(1 for _, method, p in venue.requests if method == "POST" and p == path)


async def test_a_429_storm_is_ridden_out_within_the_rate_limit(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    venue.throttle_per_second = 10  # Coinbase tightened the limit below our 15/s budget
    start = clock.now()

    books = [await exchange.book("SEI-USD") for _ in range(120)]

    assert len(books) == 120
    assert exchange.stats()["rate_limited"] > 0
    per_second = venue.requests_per_second()
    assert max(per_second.values()) <= 30  # never above Coinbase's documented limit
    assert (clock.now() - start).total_seconds() < 30


async def test_consecutive_429s_are_waited_out_and_the_budget_holds(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    venue.fail_next(4, 429, body=RATE_LIMITED)
    venue.fail_next(1, 429, body=RATE_LIMITED, headers={"Retry-After": "2"})

    books = [await exchange.book("SEI-USD") for _ in range(120)]

    assert len(books) == 120 and exchange.stats()["rate_limited"] == 5
    per_second = venue.requests_per_second()
    assert max(per_second.values()) <= 30
    steady = [n for second, n in per_second.items() if 0 < second < max(per_second)]
    assert max(steady) <= 16  # about half the documented limit once the burst is spent


async def test_no_request_goes_out_while_retry_after_holds(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    venue.fail_next(1, 429, body=RATE_LIMITED, headers={"Retry-After": "3"})

    await exchange.balances()

    (throttled_at, _, _), (retried_at, _, _) = venue.requests[:2]
    assert (retried_at - throttled_at).total_seconds() >= 3


async def test_an_endless_storm_ends_in_rate_limited_after_bounded_retries(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    venue.fail_next(1000, 429, body=RATE_LIMITED)

    with pytest.raises(RateLimited) as caught:
        await exchange.balances()

    assert len(venue.requests) == 6 and caught.value.detail.raw == RATE_LIMITED


async def test_reads_retry_5xx_with_backoff_through_the_clock(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    venue.fail_next(2, 503, body=fx.http_error("UNAVAILABLE", "maintenance"))
    start = clock.now()

    assert await exchange.balances()

    assert (clock.now() - start).total_seconds() >= 1.5  # 0.5 s, then 1 s
    assert len(venue.requests) == 5  # two failures, then three account pages


async def test_a_timeout_during_create_does_not_produce_a_second_order(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    venue.timeout_next_create(placed=True)

    with pytest.raises(ExchangeTimeout):
        await exchange.place_order(REQUEST)
    assert venue.creates == 1 and len(venue.orders) == 1

    found = await exchange.find_order(REQUEST.client_order_id)
    again = await exchange.place_order(REQUEST)  # an executor re-issuing its last call

    assert found is not None and found.client_order_id == REQUEST.client_order_id
    assert again.order_id == found.order_id and len(venue.orders) == 1


async def test_a_timeout_before_the_venue_placed_anything_finds_nothing(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    venue.timeout_next_create(placed=False)

    with pytest.raises(ExchangeTimeout):
        await exchange.place_order(REQUEST)

    assert await exchange.find_order(REQUEST.client_order_id) is None
    assert venue.creates == 1 and venue.orders == {}


async def test_a_5xx_on_create_is_not_retried(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    venue.fail_next(1, 502, body=fx.http_error("BAD_GATEWAY", "upstream"))

    with pytest.raises(Unavailable):
        await exchange.place_order(REQUEST)

    assert posts(venue) == 1


async def test_a_429_on_create_is_repeated_with_the_same_client_order_id(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    venue.fail_next(1, 429, body=RATE_LIMITED)

    order = await exchange.place_order(REQUEST)

    assert posts(venue) == 2 and len(venue.orders) == 1
    assert order.client_order_id == REQUEST.client_order_id


async def test_a_reject_detail_reaches_the_order_reject_log_and_the_event(
    exchange: CoinbaseExchange,
    venue: FakeCoinbase,
    clock: SimulatedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = fx.create_failure(
        "INVALID_ORDER_CONFIGURATION",
        "Too many decimals in order price",
        preview_failure_reason="PREVIEW_INVALID_PRICE_PRECISION",
        new_order_failure_reason="INVALID_PRICE_PRECISION",
    )
    venue.reject_next_create(payload)

    with caplog.at_level(logging.INFO, logger="cleanslate.execution"):
        out = await run_twap(
            exchange,
            clock,
            account="ns/acct",
            symbol="BONK-USD",
            attempt=3,
            target_quantity=Decimal("889587"),
            policy=Execution(),
        )

    assert out.reject is not None and out.reject.code == "INVALID_ORDER_CONFIGURATION"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ORDER_REJECT")]
    assert len(lines) == 1
    assert lines[0].startswith(f"ORDER_REJECT BONK-USD SELL client_id={out.reject.client_order_id}")
    for part in (
        "error=INVALID_ORDER_CONFIGURATION",
        "message=Too many decimals in order price",
        "preview_failure=PREVIEW_INVALID_PRICE_PRECISION",
        "raw_response={'success': False",
        "'new_order_failure_reason': 'INVALID_PRICE_PRECISION'",
    ):
        assert part in lines[0]
    # The event and status.purgeFailures carry the reject's summary (cycle/exiting.py).
    assert out.reject.summary == (
        "error=INVALID_ORDER_CONFIGURATION | message=Too many decimals in order price"
        " | preview_failure=PREVIEW_INVALID_PRICE_PRECISION"
    )


async def test_no_key_material_in_logs_errors_or_reprs(
    exchange: CoinbaseExchange,
    venue: FakeCoinbase,
    private_key_pem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    venue.fail_next(1, 429, body=RATE_LIMITED)
    venue.fail_next(1, 401, body=fx.http_error("UNAUTHENTICATED", "bad jwt"))
    seen: list[str] = [repr(exchange)]
    with caplog.at_level(logging.DEBUG):
        for call in (exchange.balances, lambda: exchange.place_order(REQUEST)):
            try:
                await call()
            except ExchangeError as exc:
                seen += [str(exc), repr(exc), repr(exc.detail)]
        venue.timeout_next_create()
        try:
            await exchange.place_order(REQUEST)
        except ExchangeError as exc:
            seen += [str(exc), repr(exc)]

    text = "\n".join([*seen, caplog.text])
    assert_no_key_material(text, private_key_pem)
    assert "Bearer" not in text and "eyJ" not in text


async def test_the_twap_shell_liquidates_through_the_adapter_with_a_429_on_the_way(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    venue.fail_next(2, 429, body=RATE_LIMITED, headers={"Retry-After": "1"})

    out = await run_twap(
        exchange,
        clock,
        account="ns/acct",
        symbol="SEI-USD",
        attempt=1,
        target_quantity=Decimal("36.4"),
        policy=Execution(),
    )

    assert out.success and out.filled_quantity == Decimal("36.4")
    assert venue.accounts["SEI"]["available"] == 0 and venue.accounts["SEI"]["hold"] == 0
    assert sum(len(f) for f in venue.fills.values()) == 1  # maker first, then one taker fill
    assert max(venue.requests_per_second().values()) <= 30
