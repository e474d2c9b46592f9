"""A token bucket on the injected clock, so one account never outruns its API key's limit.

Coinbase Advanced Trade REST rate limits ("REST API Rate Limits",
https://docs.cloud.coinbase.com/advanced-trade-api/docs/rest-api-rate-limits, now under
docs.cdp.coinbase.com): private endpoints are throttled per user/key at **30 requests per
second**, public ones per IP at 10 per second, and a throttled request gets HTTP 429. Limits
can tighten during volatile periods, and the operational guide asks for "<50% utilization",
so the default budget is 15 requests per second with a burst of 15: half the documented
ceiling.

A 429 also pauses the whole bucket (``pause``), so every concurrent caller of the account
backs off together instead of each discovering the limit on its own.

The budget belongs to the API key, not to the account: Coinbase counts requests per key, and
several TradingAccounts may name Secrets holding the same key. ``KeyBudgets`` hands every
adapter of one key the same bucket, so N accounts on one key share 15 requests per second
instead of spending N x 15; an account alone on its key may use all of it. A 429 answered to
one of them pauses all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cleanslate.clock import Clock, SystemClock

DOCUMENTED_PRIVATE_LIMIT_PER_SECOND = 30.0
DEFAULT_RATE_PER_SECOND = DOCUMENTED_PRIVATE_LIMIT_PER_SECOND / 2
DEFAULT_BURST = 15.0
_EPSILON = 1e-6
"""Tokens lost to float rounding; without it a wait shorter than a clock tick never ends."""
MIN_WAIT = 0.001


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per request."""

    def __init__(
        self,
        clock: Clock,
        rate: float = DEFAULT_RATE_PER_SECOND,
        burst: float = DEFAULT_BURST,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._updated = clock.now()
        self._paused_until: datetime | None = None

    async def acquire(self) -> None:
        """Take one token, waiting (through the clock) until one is there."""
        while True:
            wait = self._wait_seconds()
            if wait <= 0:
                self._tokens -= 1
                return
            await self._clock.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (after a 429) and drop the saved-up burst."""
        until = self._clock.now() + timedelta(seconds=max(0.0, seconds))
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until
        self._tokens = min(self._tokens, 0.0)

    def _wait_seconds(self) -> float:
        now = self._clock.now()
        if self._paused_until is not None:
            held = (self._paused_until - now).total_seconds()
            if held > 0:
                return max(MIN_WAIT, held)
            self._paused_until = None
            self._updated = max(self._updated, now)
        elapsed = max(0.0, (now - self._updated).total_seconds())
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now
        if self._tokens >= 1 - _EPSILON:
            return 0.0
        return max(MIN_WAIT, (1 - self._tokens) / self.rate)


class KeyBudgets:
    """One token bucket per (API key name, clock): the request budget of a key, shared by
    every account that uses it. The key name is not secret; the private key never gets here."""

    def __init__(self, rate: float = DEFAULT_RATE_PER_SECOND, burst: float = DEFAULT_BURST):
        self.rate, self.burst = rate, burst
        self._buckets: dict[tuple[str, object], TokenBucket] = {}

    def bucket(self, key_name: str, clock: Clock) -> TokenBucket:
        """The key's bucket on ``clock``'s timeline. Wall clocks are one timeline (every
        operator worker builds its own SystemClock, and they must still share); a simulated
        clock is a timeline of its own."""
        timeline: object = SystemClock if isinstance(clock, SystemClock) else clock
        found = self._buckets.get((key_name, timeline))
        if found is None:
            found = TokenBucket(clock, self.rate, self.burst)
            self._buckets[(key_name, timeline)] = found
        return found


KEY_BUDGETS = KeyBudgets()
"""The process's budgets: every adapter the operator or the CLI builds draws from these."""
