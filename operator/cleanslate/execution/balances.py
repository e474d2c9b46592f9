"""Balance fetch with retry: the broker cleanup document's 3 attempts, 2 s doubling, 30 s cap.

The schedule is data from the pure core (``core.balances.attempt_delays``); waiting goes through
the injected clock so tests and paper runs never sleep. Only temporary errors (429, 5xx,
timeouts) are retried: a permanent one (bad credentials) will not heal in 6 seconds. What to
do when every attempt failed (the last-known fallback) is the caller's decision, recorded with
``core.balances.fallback``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from cleanslate.api.policy import BalanceFetch
from cleanslate.clock import Clock
from cleanslate.core.balances import attempt_delays
from cleanslate.core.market import Balance
from cleanslate.exchange.errors import RateLimited, TemporaryError
from cleanslate.exchange.port import Exchange

logger = logging.getLogger("cleanslate.execution")


async def fetch_balances(
    exchange: Exchange, clock: Clock, policy: BalanceFetch | None = None
) -> Sequence[Balance]:
    """Every non-zero balance; raises the last ``TemporaryError`` when all attempts failed."""
    policy = policy or BalanceFetch()
    delays = attempt_delays(policy)
    attempts = len(delays) + 1
    for attempt in range(1, attempts + 1):
        try:
            balances = await exchange.balances()
        except TemporaryError as exc:
            if attempt == attempts:
                logger.error("Balance fetch failed permanently after %d attempts", attempts)
                raise
            delay = delays[attempt - 1]
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            logger.warning(
                "Balance fetch failed (attempt %d/%d): %s; retrying in %.0fs",
                attempt,
                attempts,
                exc,
                delay,
            )
            await clock.sleep(delay)
        else:
            if attempt > 1:
                logger.info("Balance fetch succeeded on attempt %d", attempt)
            return balances
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
