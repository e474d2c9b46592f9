"""Building a ccxt client: which options a tenant may influence, and which origins it uses.

The client is ccxt's own async exchange class (``ccxt.async_support``), configured here and
nowhere else:

* ``enableRateLimit`` on: ccxt paces requests by each venue's documented weights.
* ``options.defaultType = 'spot'``: the market type is fixed; cleanslate sells spot holdings
  and never touches margin, futures or options.
* credentials ``apiKey``, ``secret`` and ``password`` (the passphrase some venues want).
* sandbox through ``set_sandbox_mode(True)``, which swaps ``urls['api']`` for the venue's test
  URLs (ccxt raises NotSupported when a venue has none: a clear error, not production).
* ``verbose`` off, and ccxt's logger held at INFO: ccxt logs every request's headers at DEBUG
  (``fetch``: "%s %s, Request: %s %s"), and the headers carry the API key.
* nonces strictly increasing per key within the process (``nonces.py``): Kraken refuses a
  nonce not greater than the last, and ccxt's is the clock in milliseconds.
* no ccxt retries (``maxRetriesOnFailure`` 0, ccxt's default, kept): a retried placement is a
  decision for the executor, which looks its order up first.
* an HTTP 5xx answer is never a venue's verdict (``server_errors_are_unavailable``): some
  classes (coinbase) raise a plain ``ExchangeError`` for a 500's error body before ccxt looks
  at the status, and the adapter reads a plain ExchangeError on placement as a rejection. The
  venue may have taken the order; a temporary error makes the executor retry with the same
  client order id, which looks the order up first.

Tenants choose the exchange id and the sandbox flag, nothing else: no ``urls``, ``hostname``,
proxies or options reach ccxt from a TradingAccount. The platform decides endpoints:
``api_origins`` lists every origin the configured client may call, for the operator's
allow-list to check before it reads a Secret.

The adapter never creates its own HTTP session: every request goes through ccxt's
``fetch(url, method, headers, body)``, which is the one seam tests replace.

**No redirects, no other origins** (``guard_requests``). ccxt's aiohttp session follows
redirects by default and keeps the venue's signing headers (``API-Key``, ``API-Sign``) on
every hop. Each session ccxt opens gets a middleware that sees every hop: a request to an
origin outside the client's own ``urls['api']`` is refused before it is sent, and a 3xx
answer is refused (``EndpointRefused``) instead of followed, so a redirect fails the read in
status and is never read as an empty account.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async

from cleanslate.exchange.ccxt.nonces import PROCESS_NONCES
from cleanslate.exchange.origins import check_origin, origins_of, refuse_redirect

CREDENTIAL_KEYS = ("apiKey", "secret", "password")
"""The Secret keys ccxt reads (``password`` only where the venue has a passphrase)."""

FIXED_OPTIONS: Mapping[str, Any] = {
    "defaultType": "spot",
    # Binance refuses (in ccxt) a symbol-less fetchOpenOrders unless told it is deliberate;
    # the stale-order rules need every open order, and one weighted call is cheap enough.
    "warnOnFetchOpenOrdersWithoutSymbol": False,
}


VENUE_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    # Spot markets only: by default ccxt's binance also loads USD-M and COIN-M futures
    # (fapi, dapi) and the margin pairs (sapi) with every load_markets, and its currencies
    # through a private sapi call; cleanslate needs none of them.
    "binance": {
        "fetchMarkets": {"types": ["spot"]},
        "fetchMargins": False,
        "fetchCurrencies": False,
    },
    # Spot markets only: ccxt's gate loads spot, swap, future and option markets by default
    # (four listings per load_markets).
    "gate": {"fetchMarkets": {"types": ["spot"]}},
    # Spot markets only: ccxt's bitget loads spot and six swap/future listings by default.
    "bitget": {"fetchMarkets": {"types": ["spot"]}},
    # ccxt's coinbase reads balances from the v2 accounts API by default, which has no
    # hold; the Advanced Trade v3 accounts have available_balance and hold.
    "coinbase": {"fetchBalance": "v3PrivateGetBrokerageAccounts"},
    # Spot markets only (ccxt's bybit loads linear, inverse and option markets by default).
    # A Unified Trading Account (UTA 2.0): ccxt's bybit otherwise asks the server which
    # account type the key has (v5/user/query-api, v5/account/info) before every order and
    # balance read; the values are the ones ccxt itself assumes for demo trading
    # (is_unified_enabled). Bybit has moved every account to UTA (docs/design.md).
    # fetchOrder: ccxt's bybit refuses it on a unified account unless told that the venue
    # answers for an account's 500 most recent orders only; the lookup by client id after a
    # restart does not rely on it (capabilities.TESTED["bybit"]).
    "bybit": {
        "fetchMarkets": {"types": ["spot"]},
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
        "unifiedMarginStatus": 6,
        "fetchOrder": {"acknowledged": True},
    },
}
"""Per-venue options the platform fixes (never tenant input), on top of FIXED_OPTIONS."""


class UnknownExchange(ValueError):
    """An exchange id ccxt does not have (the message lists how to find valid ones)."""


class NoSandbox(ValueError):
    """Sandbox mode asked of a venue without test URLs: never silently production."""


def exchange_ids() -> list[str]:
    """Every exchange id this ccxt knows (``ccxt.exchanges``)."""
    return list(ccxt_async.exchanges)


def make_client(exchange_id: str, credentials: Mapping[str, str], *, sandbox: bool = False) -> Any:
    """A ccxt async client for one venue and one key (see the module docstring).

    ``credentials`` holds ``apiKey``, ``secret`` and optionally ``password``; other keys are
    ignored. Raises UnknownExchange for an id ccxt does not have, and NoSandbox when
    ``sandbox`` is asked of a venue without test URLs.
    """
    if exchange_id not in ccxt_async.exchanges:
        raise UnknownExchange(
            f"unknown ccxt exchange id {exchange_id[:64]!r} (ccxt {ccxt_async.__version__}); "
            "valid ids are listed in ccxt.exchanges"
        )
    logging.getLogger("ccxt").setLevel(max(logging.INFO, logging.getLogger("ccxt").level))
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "verbose": False,
        "options": {**FIXED_OPTIONS, **VENUE_OPTIONS.get(exchange_id, {})},
    }
    for key in CREDENTIAL_KEYS:
        value = credentials.get(key)
        if value:
            config[key] = value
    client = getattr(ccxt_async, exchange_id)(config)
    server_errors_are_unavailable(client)
    PROCESS_NONCES.install(client, exchange_id, credentials.get("apiKey", ""))
    guard_requests(client)
    if sandbox:
        if not client.urls.get("test"):
            raise NoSandbox(f"ccxt {exchange_id} has no sandbox (test) URLs")
        client.set_sandbox_mode(True)
    return client


def server_errors_are_unavailable(client: Any) -> None:
    """Wrap the client's ``handle_errors`` (ccxt calls it with the HTTP status before its own
    status mapping) so that an unclassified ``ExchangeError`` raised for a 5xx answer becomes
    ``ExchangeNotAvailable``. Errors ccxt classified (insufficient funds, ...) pass unchanged."""
    handle_errors = client.handle_errors

    def handle(code: Any, *args: Any) -> Any:
        try:
            return handle_errors(code, *args)
        except ccxt_async.ExchangeError as exc:
            if type(exc) is ccxt_async.ExchangeError and isinstance(code, int) and code >= 500:
                raise ccxt_async.ExchangeNotAvailable(f"HTTP {code}: {exc}") from exc
            raise

    client.handle_errors = handle


def guard_requests(client: Any) -> None:
    """Check every hop of every request the client sends (see the module docstring).

    ccxt opens its aiohttp session lazily (``open``, on the first request); the wrapped
    ``open`` gives each session the guard as its only middleware. aiohttp runs middlewares
    inside its redirect loop, so the guard sees the first request and would see every hop;
    it refuses the first 3xx, so there is no second. The allow-list is read at each request
    from ``urls['api']``, so the platform's ``--ccxt-api-url`` rewrite (checked against the
    operator's policy before the Secret is read) is what the guard allows.
    """
    open_session = client.open

    async def guard(request: Any, handler: Any) -> Any:
        url = str(request.url)
        check_origin(url, origins_of(api_origins(client)))
        response = await handler(request)
        if 300 <= response.status < 400:
            location = response.headers.get("Location", "")
            response.release()
            refuse_redirect(response.status, url, location)
        return response

    def open_guarded(*args: Any, **kwargs: Any) -> None:  # ccxt versions differ: (lazy=False)
        open_session(*args, **kwargs)
        session = client.session
        if session is not None and tuple(session._middlewares) != (guard,):
            session._middlewares = (guard,)

    client.open = open_guarded


def api_urls(client: Any) -> Iterator[str]:
    """Every URL in the client's ``urls['api']`` (a string or nested dicts of strings)."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, str):
            yield node
        elif isinstance(node, Mapping):
            for value in node.values():
                yield from walk(value)

    yield from walk(client.urls.get("api"))


def api_origins(client: Any) -> list[str]:
    """The distinct origins (``https://host[:port]``) of every API URL the client may call,
    sorted, for the operator's endpoint allow-list. Placeholders such as ``{hostname}`` are
    filled in the way ccxt fills them (``client.hostname``)."""
    origins: set[str] = set()
    hostname = getattr(client, "hostname", None)
    for url in api_urls(client):
        if hostname:
            url = url.replace("{hostname}", str(hostname))
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return sorted(origins)
