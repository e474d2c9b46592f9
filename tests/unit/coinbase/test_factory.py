"""Building an account's adapter from its Secret, with deliberate client settings."""

from __future__ import annotations

import base64

import httpx
import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.exchange.coinbase import (
    CredentialsError,
    decode_secret_data,
    exchange_from_secret,
    make_client,
)

from . import fixtures as fx
from .fake_venue import FakeCoinbase


def test_client_has_deliberate_timeouts_and_limits() -> None:
    client = make_client("https://api.coinbase.com")

    assert client.timeout == httpx.Timeout(connect=5, read=10, write=10, pool=5)
    assert str(client.base_url) == "https://api.coinbase.com"


async def test_a_dry_run_account_is_built_read_only_from_its_secret_data(
    private_key_pem: str, clock: SimulatedClock, venue: FakeCoinbase
) -> None:
    data = {
        "apiKeyName": base64.b64encode(fx.KEY_NAME.encode()).decode(),
        "apiPrivateKey": base64.b64encode(private_key_pem.encode()).decode(),
    }
    venue.forbid_writes = True

    exchange = exchange_from_secret(
        decode_secret_data(data), clock, read_only=True, transport=venue.transport()
    )

    assert exchange.read_only and await exchange.balances()
    await exchange.aclose()


async def test_the_base_url_decides_the_host_signed_into_the_jwt(
    private_key_pem: str, clock: SimulatedClock, venue: FakeCoinbase
) -> None:
    venue.host = "recorded.example.test"
    secret = {"apiKeyName": fx.KEY_NAME, "apiPrivateKey": private_key_pem}

    exchange = exchange_from_secret(
        secret,
        clock,
        read_only=True,
        base_url="http://recorded.example.test",
        transport=venue.transport(),
        allowed_origins=["http://recorded.example.test"],
    )

    assert await exchange.product("SEI-USD")
    await exchange.aclose()


def test_an_unusable_secret_is_refused_before_any_client_exists(clock: SimulatedClock) -> None:
    with pytest.raises(CredentialsError):
        exchange_from_secret({"apiKeyName": fx.KEY_NAME}, clock, read_only=True)
