"""A small in-test venue at ccxt's HTTP seam, and market data from ccxt's static fixtures.

ccxt routes every request through ``client.fetch(url, method, headers, body)``; ``Venue``
replaces it, answers by (method, path) with payloads shaped as the venue answers (each one
cites the ccxt fixture or source comment it follows), and records every request. Errors go
through the client's own ``handle_errors`` and ``handle_http_status_code`` with the venue's
error body, so ccxt's per-venue exception mapping is exercised exactly as in production.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cleanslate.clock import SimulatedClock
from cleanslate.exchange.ccxt import CcxtExchange, make_client

NOW = datetime(2025, 1, 23, 12, 32, 37, tzinfo=UTC)


@dataclass
class Failure:
    """An HTTP error answer: ``status`` and the venue's JSON error body."""

    status: int
    body: Any


Answer = Any | Failure | BaseException | Callable[["Request"], Any]


@dataclass
class Request:
    method: str
    url: str
    body: str | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def params(self) -> dict[str, str]:
        query = urlsplit(self.url).query or (self.body or "")
        return {k: v[-1] for k, v in parse_qs(query).items()}


@dataclass
class Venue:
    client: Any
    routes: list[tuple[str, str, Answer]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def on(self, method: str, path: str, answer: Answer) -> Venue:
        """Answer ``method`` requests whose path ends with ``path`` (latest route wins)."""
        self.routes.insert(0, (method, path, answer))
        return self

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        request = Request(method, url, body)
        self.requests.append(request)
        for wanted_method, path, answer in self.routes:
            if wanted_method == method and request.path.endswith(path):
                return self._answer(request, answer)
        raise AssertionError(f"the test venue has no route for {method} {request.path}")

    def _answer(self, request: Request, answer: Answer) -> Any:
        if callable(answer) and not isinstance(answer, type):
            answer = answer(request)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, Failure):
            text = json.dumps(answer.body)
            self.client.handle_errors(
                answer.status, "", request.url, request.method, {}, text, answer.body, {}, None
            )
            self.client.handle_http_status_code(
                answer.status, "", request.url, request.method, text
            )
            raise AssertionError("ccxt raised nothing for an error answer")
        return copy.deepcopy(answer)

    def called(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.endswith(path)]


def venue_for(
    exchange_id: str, markets: dict[str, Any], *, read_only: bool = False
) -> tuple[Venue, CcxtExchange, SimulatedClock]:
    """A client of ``exchange_id`` with ``markets`` loaded, the venue at its seam, and the
    adapter over it on a simulated clock at NOW."""
    credentials = {"apiKey": "test-key", "secret": "dGVzdC1zZWNyZXQ="}
    client = make_client(exchange_id, credentials)
    client.enableRateLimit = False  # ccxt's throttle sleeps in real time
    client.set_markets(copy.deepcopy(markets))
    if exchange_id == "kraken":  # kraken's fetch_markets also indexes them by altname
        client.options["marketsByAltname"] = {
            m["altname"]: m for m in client.markets.values() if "altname" in m
        }
    venue = Venue(client)
    client.fetch = venue.fetch
    clock = SimulatedClock(NOW)
    exchange = CcxtExchange(client, clock, exchange_id=exchange_id, read_only=read_only)
    exchange._markets_at = NOW  # markets were loaded just now (set_markets)
    return venue, exchange, clock


# --- markets ----------------------------------------------------------------------------------

# ccxt ts/src/test/static/markets/binance.json, "BTC/USDT" (recorded in DECIMAL_PLACES mode:
# amount 5 and price 2 digits, matching its LOT_SIZE stepSize 0.00001 and tickSize 0.01);
# info trimmed to the fields ccxt's binance reads when it places an order.
BINANCE_BTC_USDT_DECIMAL_PLACES: dict[str, Any] = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "baseId": "BTC",
    "quoteId": "USDT",
    "active": True,
    "type": "spot",
    "spot": True,
    "swap": False,
    "future": False,
    "option": False,
    "margin": True,
    "contract": False,
    "linear": None,  # unified market fields the fixture predates (ccxt reads them)
    "inverse": None,
    "settle": None,
    "subType": None,
    "precision": {"amount": 5, "price": 2, "base": 8, "quote": 8},
    "limits": {
        "amount": {"min": 0.00001, "max": 9000},
        "price": {"min": 0.01, "max": 1000000},
        "cost": {"min": 5, "max": 9000000},
        "leverage": {},
        "market": {"min": 0, "max": 128.52621715},
    },
    "info": {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "isSpotTradingAllowed": True,
    },
    "tierBased": False,
    "percentage": True,
    "taker": 0.001,
    "maker": 0.001,
    "feeSide": "get",
    "lowercaseId": "btcusdt",
}


def binance_tick_size(market: dict[str, Any]) -> dict[str, Any]:
    """The same market as ccxt's binance reports it today (precisionMode TICK_SIZE): the
    steps themselves, from the LOT_SIZE and PRICE_FILTER filters."""
    converted = copy.deepcopy(market)
    converted["precision"] = {"amount": 0.00001, "price": 0.01, "base": 1e-8, "quote": 1e-8}
    return converted


BINANCE_BTC_USDT = binance_tick_size(BINANCE_BTC_USDT_DECIMAL_PLACES)
BINANCE_MARKETS = {"BTC/USDT": BINANCE_BTC_USDT}

# ccxt ts/src/test/static/markets/kraken.json, "BTC/USD" (TICK_SIZE mode; its cost limit is
# empty: Kraken's costmin 0.5 is only in info), info and fee tiers trimmed.
KRAKEN_BTC_USD: dict[str, Any] = {
    "id": "XXBTZUSD",
    "symbol": "BTC/USD",
    "base": "BTC",
    "quote": "USD",
    "baseId": "XXBT",
    "quoteId": "ZUSD",
    "active": True,
    "type": "spot",
    "spot": True,
    "swap": False,
    "future": False,
    "option": False,
    "margin": True,
    "contract": False,
    "linear": None,  # unified market fields the fixture predates (ccxt reads them)
    "inverse": None,
    "settle": None,
    "subType": None,
    "precision": {"amount": 1e-8, "price": 0.1},
    "limits": {
        "amount": {"min": 0.0001},
        "price": {"min": 0.1},
        "cost": {},
        "leverage": {"min": 1, "max": 5},
    },
    "info": {
        "altname": "XBTUSD",
        "wsname": "XBT/USD",
        "base": "XXBT",
        "quote": "ZUSD",
        "ordermin": "0.0001",
        "costmin": "0.5",
        "tick_size": "0.1",
        "status": "online",
    },
    "altname": "XBTUSD",
    "wsId": "XBT/USD",
    "darkpool": False,
    "taker": 0.0026,
    "maker": 0.0016,
}
KRAKEN_MARKETS = {"BTC/USD": KRAKEN_BTC_USD}
