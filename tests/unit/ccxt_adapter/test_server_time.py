"""The venue's clock through ccxt (issue 27, item 8): ``fetch_time`` where the venue has it,
read through kraken's real ccxt class at its HTTP seam, and unknown where it has not.

Payload: kraken's Get Server Time as ccxt's kraken.py comments it (``result.unixtime``)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from cleanslate.exchange.ccxt import CcxtExchange
from cleanslate.exchange.clocks import measure
from cleanslate.exchange.errors import TemporaryError
from cleanslate.exchange.port import TellsTime

from .venue import KRAKEN_MARKETS, NOW, Failure, venue_for


def kraken_time(skew_seconds: int) -> dict[str, Any]:
    at = NOW + timedelta(seconds=skew_seconds)
    return {"error": [], "result": {"unixtime": int(at.timestamp()), "rfc1123": ""}}


async def test_a_skewed_kraken_server_time_is_measured_as_its_offset() -> None:
    venue, exchange, clock = venue_for("kraken", copy.deepcopy(KRAKEN_MARKETS))
    venue.on("GET", "/0/public/Time", kraken_time(-300))

    assert isinstance(exchange, TellsTime)
    assert await exchange.server_time() == NOW - timedelta(seconds=300)
    assert await measure(exchange, clock) == -300.0
    assert len(venue.called("GET", "/0/public/Time")) == 2


async def test_a_venue_error_on_the_time_endpoint_is_translated() -> None:
    venue, exchange, _ = venue_for("kraken", copy.deepcopy(KRAKEN_MARKETS))
    venue.on("GET", "/0/public/Time", Failure(503, {"error": ["EService:Unavailable"]}))

    with pytest.raises(TemporaryError):
        await exchange.server_time()


class _NoClock:
    has: dict[str, Any] = {"fetchTime": None}  # bitstamp's ccxt class, for one
    id = "bitstamp"

    async def fetch_time(self) -> int:
        raise AssertionError("asked a venue that has no time endpoint")

    async def close(self) -> None:
        return None


async def test_a_venue_without_a_time_endpoint_leaves_the_offset_unknown() -> None:
    clock: Any = type("C", (), {"now": lambda self: NOW})()
    exchange = CcxtExchange(_NoClock(), clock, exchange_id="bitstamp", read_only=True)

    assert await exchange.server_time() is None
    assert await measure(exchange, clock) is None
