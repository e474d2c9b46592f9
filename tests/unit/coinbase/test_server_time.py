"""Coinbase's clock offset (issue 27, item 8): Get Server Time read through the adapter on an
``httpx.MockTransport``, measured at the midpoint of the request's round trip."""

from __future__ import annotations

import random
from datetime import timedelta

import httpx

from cleanslate.clock import SimulatedClock
from cleanslate.exchange.clocks import measure
from cleanslate.exchange.coinbase import CoinbaseExchange, Credentials, make_client
from cleanslate.exchange.port import TellsTime

from . import fixtures as fx
from .conftest import build_exchange
from .fake_venue import FakeCoinbase


async def test_a_coinbase_clock_300_s_behind_is_measured_so(
    venue: FakeCoinbase, credentials: Credentials, clock: SimulatedClock
) -> None:
    venue.skew = -300.0
    exchange = build_exchange(venue, credentials, clock, read_only=True)

    assert isinstance(exchange, TellsTime)
    assert await measure(exchange, clock) == -300.0
    await exchange.aclose()


async def test_the_offset_is_read_at_the_midpoint_of_the_round_trip(
    credentials: Credentials, clock: SimulatedClock
) -> None:
    """The request takes 4 s (2 s each way); Coinbase, 45 s ahead, stamps its answer when it
    arrives: the offset is 45 s, not 43 (the send time) or 47 (the receive time)."""

    def serve(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v3/brokerage/time"
        clock.advance(2)
        answer = fx.server_time(clock.now() + timedelta(seconds=45))
        clock.advance(2)
        return httpx.Response(200, json=answer)

    client = make_client("https://api.coinbase.com", transport=httpx.MockTransport(serve))
    exchange = CoinbaseExchange(
        client,
        credentials,
        clock,
        read_only=True,
        base_url="https://api.coinbase.com",
        rng=random.Random(7),
    )

    assert await measure(exchange, clock) == 45.0
    await exchange.aclose()
