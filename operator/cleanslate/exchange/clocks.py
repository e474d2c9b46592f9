"""The venue's clock offset, measured in the shell (issue 27, item 8).

An offset is the venue's time minus this process's, read at the midpoint of the request's
round trip (the venue stamped its answer somewhere between sending and receiving; the
midpoint is the best guess and wrong by at most half the round trip). A venue is asked at
most once per ``every`` per key: accounts on one market share a key (their venue has one
clock), an account whose market is its own (paper) has its own. ``core.clock_sync`` decides
what the offset means for trading.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from cleanslate.clock import Clock
from cleanslate.exchange.errors import ExchangeError
from cleanslate.exchange.port import SharesMarket, TellsTime

logger = logging.getLogger("cleanslate.exchange")
MEASURE_EVERY = timedelta(minutes=5)


async def measure(exchange: object, clock: Clock) -> float | None:
    """One measurement, in seconds (positive: the venue is ahead); None when the venue has
    no clock to ask or does not answer with a time."""
    if not isinstance(exchange, TellsTime):
        return None
    sent = clock.now()
    told = await exchange.server_time()
    received = clock.now()
    if told is None:
        return None
    midpoint = sent + (received - sent) / 2
    return (told - midpoint).total_seconds()


@dataclass(frozen=True, slots=True)
class Measured:
    seconds: float | None
    at: datetime


class ClockOffsets:
    """The last measured offset per key, measured again when older than ``every``. A failed
    request keeps the last measurement (unknown if none) and is tried again next time."""

    def __init__(self, every: timedelta = MEASURE_EVERY) -> None:
        self.every = every
        self._known: dict[str, Measured] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def offset(self, key: str, exchange: object, clock: Clock) -> float | None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # accounts sharing a key wait for one request, not one each
            known = self._known.get(key)
            now = clock.now()
            if known is not None and timedelta(0) <= now - known.at < self.every:
                return known.seconds
            try:
                seconds = await measure(exchange, clock)
            except ExchangeError as exc:
                logger.warning("could not read the venue's time (%s): %s", key, exc)
                return None if known is None else known.seconds
            self._known[key] = Measured(seconds, now)
            return seconds

    def forget(self, key: str) -> None:
        self._known.pop(key, None)
        self._locks.pop(key, None)


def offset_key(exchange: object, account: str) -> str:
    """Accounts on the same market share one measurement; a market of its own is per account."""
    if isinstance(exchange, SharesMarket) and exchange.market_identity is not None:
        return exchange.market_identity
    return f"account:{account}"
