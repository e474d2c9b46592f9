"""Building a Coinbase adapter for one account: its own client, its own key, its own URL.

The factory has its own allow-list (``allowed_origins``, Coinbase production unless the
caller names others): used on its own it signs for no URL it was not given, and the client
checks every request it sends against the same list and follows no redirect
(``exchange.origins``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import httpx

from cleanslate.clock import Clock
from cleanslate.exchange.coinbase.adapter import DEFAULT_BASE_URL, CoinbaseExchange
from cleanslate.exchange.coinbase.auth import Credentials
from cleanslate.exchange.coinbase.ratelimit import KEY_BUDGETS, KeyBudgets
from cleanslate.exchange.origins import check_origin, origins_of

TIMEOUT = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=5.0)
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)


def make_client(
    base_url: str = DEFAULT_BASE_URL,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    allowed_origins: Collection[str] | None = None,
) -> httpx.AsyncClient:
    """One ``httpx.AsyncClient`` per account, with deliberate limits.

    * connect 5 s: a TCP+TLS handshake to Coinbase takes well under a second; five means
      the network is broken, and the cycle should fail fast and retry next time.
    * read 10 s: Coinbase answers in tens of milliseconds; a read that takes ten seconds is an
      outage. For an order placement the timeout is the ambiguous case (ExchangeTimeout), so it
      must be short enough to look the order up in the same cycle.
    * write 10 s: request bodies are a few hundred bytes.
    * pool 5 s: waiting longer for a free connection means this account is already
      saturating its share of the 30 req/s limit.
    * 10 connections, 5 kept alive: an account issues a handful of concurrent requests at most
      (the token bucket allows 15/s), and keep-alive saves the TLS handshake between cycles.
    * no redirects, and every request's origin checked against ``allowed_origins`` (the
      base URL's own origin when None) before it is sent.
    """
    allowed = origins_of(allowed_origins if allowed_origins is not None else [base_url])

    async def only_allowed(request: httpx.Request) -> None:
        check_origin(str(request.url), allowed)

    return httpx.AsyncClient(
        base_url=base_url,
        timeout=TIMEOUT,
        limits=LIMITS,
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": "cleanslate"},
        follow_redirects=False,
        event_hooks={"request": [only_allowed]},
    )


def exchange_from_secret(
    secret_data: Mapping[str, bytes | str],
    clock: Clock,
    *,
    read_only: bool,
    base_url: str = DEFAULT_BASE_URL,
    transport: httpx.AsyncBaseTransport | None = None,
    budgets: KeyBudgets = KEY_BUDGETS,
    allowed_origins: Collection[str] = (DEFAULT_BASE_URL,),
) -> CoinbaseExchange:
    """The adapter for an account whose Secret holds ``apiKeyName`` and ``apiPrivateKey``
    (decoded values: pass a Secret's ``data`` through ``decode_secret_data`` first).

    ``read_only`` is True for DryRun accounts: the adapter then never calls an order endpoint.
    Raises CredentialsError (naming the field, never its value) when the Secret is unusable.
    Accounts whose Secrets hold the same key share that key's request budget (``budgets``).
    Raises EndpointRefused, before the key is parsed, for a ``base_url`` whose origin is not
    in ``allowed_origins`` (Coinbase production unless the caller allows more).
    """
    allowed = origins_of(allowed_origins)
    check_origin(base_url, allowed)
    credentials = Credentials.from_secret_data(secret_data)
    client = make_client(base_url, transport=transport, allowed_origins=allowed)
    bucket = budgets.bucket(credentials.key_name, clock)
    return CoinbaseExchange(
        client, credentials, clock, read_only=read_only, base_url=base_url, bucket=bucket
    )
