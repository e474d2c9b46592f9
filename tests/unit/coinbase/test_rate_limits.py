"""429 answers in every shape Coinbase sends, Retry-After honoured, one budget per API key.

Shapes: ``{"errors": [{"id", "message"}]}`` is Coinbase's v2 gateway error body (ccxt issue
8301 quotes ``{"errors":[{"id":"authentication_error","message":"request timestamp
expired"}]}``); an HTML page on a 429 is coinbase-samples/advanced-trade-sdk-go issue 18;
the usual body is ``{"error", "code", "message", "error_details"}`` (``fixtures.http_error``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.utils import format_datetime

import httpx

from cleanslate.clock import SimulatedClock, SystemClock
from cleanslate.exchange.coinbase import CoinbaseExchange, exchange_from_secret
from cleanslate.exchange.coinbase.errors import error_for_status
from cleanslate.exchange.coinbase.ratelimit import KeyBudgets
from cleanslate.exchange.errors import AuthenticationFailed, RateLimited

from . import fixtures as fx
from .fake_venue import FakeCoinbase

ERRORS_BODY = {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}


def response(status: int, **kwargs: object) -> httpx.Response:
    request = httpx.Request("GET", "https://api.coinbase.com/api/v3/brokerage/accounts")
    return httpx.Response(status, request=request, **kwargs)  # type: ignore[arg-type]


def test_a_429_with_an_errors_list_is_rate_limited_with_its_id_and_message() -> None:
    error = error_for_status(response(429, json=ERRORS_BODY, headers={"Retry-After": "4"}))

    assert isinstance(error, RateLimited) and error.retry_after == 4.0
    assert error.detail.error == "rate_limit_exceeded"
    assert error.detail.message == "Too many requests"


def test_an_errors_list_on_401_keeps_its_reason() -> None:
    body = {"errors": [{"id": "authentication_error", "message": "request timestamp expired"}]}

    error = error_for_status(response(401, json=body))

    assert isinstance(error, AuthenticationFailed)
    assert "request timestamp expired" in str(error)


def test_an_html_429_is_rate_limited_with_a_short_message() -> None:
    page = "<html><head><title>Coinbase</title></head>" + "x" * 5000 + "</html>"

    error = error_for_status(response(429, text=page))

    assert isinstance(error, RateLimited) and len(error.detail.message) <= 200


async def test_retry_after_as_an_http_date_without_a_date_header_is_waited_out(
    exchange: CoinbaseExchange, venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    until = clock.now() + timedelta(seconds=20)
    venue.fail_next(1, 429, body=ERRORS_BODY, headers={"Retry-After": format_datetime(until, True)})

    await exchange.book("SEI-USD")

    (first, _), (second, _) = [(at, p) for at, _, p in venue.requests[:2]]
    assert second >= until and first < until


async def test_accounts_sharing_a_key_share_one_budget(
    private_key_pem: str, clock: SimulatedClock, venue: FakeCoinbase
) -> None:
    budgets = KeyBudgets()
    secret = {"apiKeyName": fx.KEY_NAME, "apiPrivateKey": private_key_pem}
    other = {"apiKeyName": fx.KEY_NAME + "-other", "apiPrivateKey": private_key_pem}
    accounts = [
        exchange_from_secret(secret, clock, read_only=True, transport=venue.transport(),
                             budgets=budgets)
        for _ in range(3)
    ]  # fmt: skip
    alone = exchange_from_secret(other, clock, read_only=True, budgets=budgets)

    async def reads(account: CoinbaseExchange) -> None:
        for _ in range(40):
            await account.book("SEI-USD")

    await asyncio.gather(*(reads(a) for a in accounts))

    per_second = venue.requests_per_second()
    steady = [n for second, n in per_second.items() if 0 < second < max(per_second)]
    assert max(steady) <= 16  # 15/s for the key, not 3 x 15
    assert accounts[0]._session.bucket is accounts[2]._session.bucket
    assert alone._session.bucket is not accounts[0]._session.bucket
    for account in (*accounts, alone):
        await account.aclose()


def test_workers_with_their_own_wall_clocks_still_share_a_keys_budget() -> None:
    budgets = KeyBudgets()

    first = budgets.bucket(fx.KEY_NAME, SystemClock())
    second = budgets.bucket(fx.KEY_NAME, SystemClock())

    assert first is second
    assert budgets.bucket(fx.KEY_NAME, SimulatedClock()) is not first
