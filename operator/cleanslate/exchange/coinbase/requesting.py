"""One authenticated, rate-limited, translated request to Coinbase, retried only where safe.

Retrying is decided by the error class (freqtrade's lesson) and by whether the call can have
an effect twice:

* reads (GET) retry temporary errors (429, 5xx, timeouts) a bounded number of times, waiting
  through the injected clock: the longer of the server's ``Retry-After`` and the backoff step;
* writes never retry a timeout or a 5xx: the outcome is unknown, and the caller must look
  the order up by its client order id. A 429 means Coinbase refused the request unprocessed,
  so a write may repeat it, byte for byte, with the same client order id;
* a read-only session refuses every write before anything is sent;
* a redirect is never followed (the request carried a signed JWT): it is EndpointRefused,
  a permanent error, never an empty answer.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx

from cleanslate.clock import Clock
from cleanslate.exchange.coinbase.auth import Credentials
from cleanslate.exchange.coinbase.errors import (
    ReadOnlyRefused,
    error_for_status,
    payload_of,
    translate_transport_error,
)
from cleanslate.exchange.coinbase.ratelimit import TokenBucket
from cleanslate.exchange.errors import (
    ErrorDetail,
    ExchangeError,
    RateLimited,
    TemporaryError,
    Unavailable,
)
from cleanslate.exchange.origins import refuse_redirect

log = logging.getLogger(__name__)

API_PREFIX = "/api/v3/brokerage"
PREVIEW_PATH = "/orders/preview"
"""Preview Order: validates an order without placing it, the only POST a read-only session
may send (compared as the exact path, so no other endpoint can be dressed up as it)."""
READ_BACKOFF: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Waits between attempts of a read: five retries, about 15 s in all."""
WRITE_RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER = 60.0
"""A longer Retry-After is surfaced as RateLimited instead of being waited out in-line."""

Params = Mapping[str, str | Sequence[str]]


class Session:
    """Requests for one account: signs, paces, sends, translates and counts them."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        credentials: Credentials,
        clock: Clock,
        *,
        base_url: str,
        read_only: bool,
        bucket: TokenBucket | None = None,
        backoff: Sequence[float] = READ_BACKOFF,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._credentials = credentials
        self._clock = clock
        self._base = base_url.rstrip("/")
        self._host = httpx.URL(self._base).host
        self.read_only = read_only
        self.bucket = bucket or TokenBucket(clock)
        self._backoff = tuple(backoff)
        self._rng = rng or random.Random()
        self.requests_made = 0
        self.rate_limited = 0

    @property
    def algorithm(self) -> str:
        return self._credentials.algorithm

    async def get(self, path: str, params: Params | None = None) -> Any:
        """A read, retried on temporary errors."""
        return await self._with_retries("GET", path, params, None, self._backoff)

    async def post(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> Any:
        """A write. ``idempotent`` writes (cancels) retry like reads; others only on 429.
        A read-only session sends exactly one POST, Preview Order, which places nothing."""
        if self.read_only and path != PREVIEW_PATH:
            raise ReadOnlyRefused(f"read-only: refusing POST {path}")
        if idempotent:
            return await self._with_retries("POST", path, None, body, self._backoff)
        delays = (1.0,) * WRITE_RATE_LIMIT_RETRIES
        return await self._with_retries("POST", path, None, body, delays, only_429=True)

    async def _with_retries(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Mapping[str, Any] | None,
        delays: Iterable[float],
        *,
        only_429: bool = False,
    ) -> Any:
        for delay in (*delays, None):
            try:
                return await self._once(method, path, params, body)
            except TemporaryError as exc:
                retryable = isinstance(exc, RateLimited) or not only_429
                if delay is None or not retryable:
                    raise
                await self._wait_before_retry(exc, delay, method, path)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait_before_retry(
        self, exc: ExchangeError, delay: float, method: str, path: str
    ) -> None:
        hint = exc.retry_after if isinstance(exc, RateLimited) else None
        if hint is not None and hint > MAX_RETRY_AFTER:
            raise exc
        wait = max(hint or 0.0, delay * (1 + 0.2 * self._rng.random()))
        if isinstance(exc, RateLimited):
            self.bucket.pause(wait)
        log.warning("coinbase %s %s: %s, retrying in %.2fs", method, path, exc.reason_code, wait)
        await self._clock.sleep(0 if isinstance(exc, RateLimited) else wait)

    async def _once(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Mapping[str, Any] | None,
    ) -> Any:
        await self.bucket.acquire()
        full_path = API_PREFIX + path
        token = self._credentials.sign(method, self._host, full_path, self._clock.now())
        self.requests_made += 1
        try:
            response = await self._client.request(
                method,
                self._base + full_path,
                params=dict(params) if params else None,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc) from exc
        refuse_redirect(
            response.status_code, str(response.url), response.headers.get("location", "")
        )
        if response.status_code >= 400:
            if response.status_code == 429:
                self.rate_limited += 1
            raise error_for_status(response, self._clock.now())
        payload = payload_of(response)
        if not isinstance(payload, Mapping):  # a proxy's page with a 200: not Coinbase
            detail = ErrorDetail(message="answer is not a JSON object", raw=payload)
            raise Unavailable(f"unexpected answer to {method} {path}", detail=detail)
        return payload

    async def aclose(self) -> None:
        await self._client.aclose()
