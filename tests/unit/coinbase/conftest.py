"""A fake Coinbase, a key pair and an adapter wired to both, on simulated time."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.exchange.coinbase import CoinbaseExchange, Credentials, make_client

from . import fixtures as fx
from .fake_venue import FakeCoinbase


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    return fx.new_private_key_pem()


@pytest.fixture
def credentials(private_key_pem: str) -> Credentials:
    return Credentials.from_secret_data(
        {"apiKeyName": fx.KEY_NAME, "apiPrivateKey": private_key_pem}
    )


def seed(venue: FakeCoinbase) -> None:
    """The documents' market: SEI and BONK to purge, BTC to keep, dollars to receive."""
    venue.add_account("USD", "120.50")
    venue.add_account("SEI", "36.4")
    venue.add_account("BONK", "889587")
    venue.add_account("BTC", "0.0021", hold="0.0001")
    venue.add_account("DOGE", "0")
    venue.add_product(
        fx.product("SEI-USD", "0.1563", base_increment="0.1", quote_min_size="1"),
        bids=[("0.1562", "5000"), ("0.1560", "8000"), ("0.1500", "90000")],
        asks=[("0.1564", "4000"), ("0.1566", "9000")],
    )
    venue.add_product(
        fx.product("BONK-USD", "0.00001066", base_increment="1", base_min_size="1",
                   quote_increment="0.00000001"),
        bids=[("0.00001065", "50000000")],
        asks=[("0.00001067", "40000000")],
    )  # fmt: skip
    venue.add_product(
        fx.product(
            "BTC-USD",
            "95000.00",
            base_increment="0.00000001",
            base_min_size="0.00000001",
            quote_increment="0.01",
            volume_24h="5928.12",
            approximate_quote_24h_volume="564677608.15",
        ),
        bids=[("94999.99", "0.5"), ("94990.00", "1.2")],
        asks=[("95000.01", "0.4")],
    )
    venue.add_product(
        fx.product("OLD-USD", "1.00", status="delisted", trading_disabled=True),
        bids=[("0.99", "10")],
        asks=[("1.01", "10")],
    )


@pytest.fixture
def venue(private_key_pem: str, clock: SimulatedClock) -> FakeCoinbase:
    public = Credentials(fx.KEY_NAME, private_key_pem).public_key_pem()
    fake = FakeCoinbase(public, clock)
    seed(fake)
    return fake


def build_exchange(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock, *, read_only: bool
) -> CoinbaseExchange:
    client = make_client("https://api.coinbase.com", transport=venue.transport())
    return CoinbaseExchange(
        client,
        credentials,
        clock,
        read_only=read_only,
        base_url="https://api.coinbase.com",
        rng=random.Random(7),
    )


@pytest.fixture
async def exchange(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> AsyncIterator[CoinbaseExchange]:
    adapter = build_exchange(venue, credentials, clock, read_only=False)
    yield adapter
    await adapter.aclose()
