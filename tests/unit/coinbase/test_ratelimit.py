"""The token bucket paces requests on the injected clock."""

from __future__ import annotations

import pytest

from cleanslate.clock import SimulatedClock
from cleanslate.exchange.coinbase.ratelimit import (
    DEFAULT_RATE_PER_SECOND,
    DOCUMENTED_PRIVATE_LIMIT_PER_SECOND,
    TokenBucket,
)


def test_default_budget_is_half_the_documented_limit() -> None:
    assert DEFAULT_RATE_PER_SECOND == DOCUMENTED_PRIVATE_LIMIT_PER_SECOND / 2 == 15


async def test_burst_then_steady_rate(clock: SimulatedClock) -> None:
    bucket = TokenBucket(clock, rate=15, burst=15)
    start = clock.now()

    for _ in range(15):
        await bucket.acquire()
    assert clock.now() == start
    for _ in range(150):
        await bucket.acquire()

    assert (clock.now() - start).total_seconds() == pytest.approx(10, abs=0.01)


async def test_pause_holds_every_request_and_drops_the_burst(clock: SimulatedClock) -> None:
    bucket = TokenBucket(clock, rate=10, burst=10)
    start = clock.now()

    bucket.pause(3)
    await bucket.acquire()

    assert (clock.now() - start).total_seconds() == pytest.approx(3.1, abs=0.01)


def test_nonsense_rates_are_refused(clock: SimulatedClock) -> None:
    with pytest.raises(ValueError):
        TokenBucket(clock, rate=0)
