"""What every fake ccxt venue shares: the HTTP seam, request log, fault queue and the paper
engine behind it.

ccxt's async exchanges send every HTTP request through ``Exchange.fetch(url, method, headers,
body)``; ``install`` replaces that one method on a real ccxt exchange object. The fake then
does what ccxt's own ``fetch`` does with an answer (``ccxt/async_support/base/exchange.py``,
``fetch``): ``on_rest_response``, ``parse_json``, the ``last_http_response`` bookkeeping some
classes read back (kraken's ``cancel_order``), the exchange class's ``handle_errors`` and
``handle_http_status_code``. So a venue error body becomes exactly the ccxt exception it
becomes on the real venue, through ccxt's own tables; nothing of ccxt's parsing is patched.

Behind every dialect sits ONE ``PaperExchange`` (the product's simulator): balances, books,
fills and the increments/minimum checks are the paper engine's, and each dialect translates
requests into paper calls and paper answers (and paper rejects) into the venue's shapes and
error codes. Venue-side identifiers (order ids, client id rules) are the dialect's.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt

from cleanslate.clock import Clock
from cleanslate.core.market import Order, OrderRequest, OrderStatus, OrderType, Product, Side
from cleanslate.exchange.errors import ExchangeError, NotFound
from cleanslate.exchange.paper import PaperExchange

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    418: "I'm a teapot",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Request:
    """One HTTP request as the venue received it."""

    method: str
    url: str
    path: str
    params: dict[str, str]
    """Query string and form body together (JSON bodies: top-level keys as given)."""
    headers: dict[str, str]
    body: str | None


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    """A JSON-able value, or a str sent as is."""
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return self.body if isinstance(self.body, str) else json.dumps(self.body)


class Outage(Exception):
    """Raised by a fault to answer a request with ``reply`` instead of handling it."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


Handler = Callable[[Request], Awaitable[Reply]]
Routes = Mapping[tuple[str, str], Handler]
"""(method, path) -> the handler of that endpoint."""


@dataclass
class Fault:
    """``when`` selects requests; ``kind`` is what happens to the next ``times`` of them:

    - ``rate_limit`` / ``unavailable``: the dialect's answer, nothing handled;
    - ``timeout_before``: no answer and nothing done (ccxt raises RequestTimeout);
    - ``timeout_after``: the venue handles the request (an order IS placed) but the answer is
      lost: ccxt raises RequestTimeout, exactly the ambiguous outcome of a real timeout.
    - ``server_error_after``: the venue handles the request (an order IS placed) and then
      answers its dialect's HTTP 500 body (a gateway or back-end failure after acceptance).
    """

    when: Callable[[Request], bool]
    kind: str
    times: int = 1


class FakeVenue:
    """Base of the dialects; subclasses implement ``handle`` and the fault answers."""

    exchange_id = ""
    order_paths: tuple[str, ...] = ()
    """Paths of order-writing endpoints (placement and cancellation) for DryRun checks."""

    def __init__(self, paper: PaperExchange, clock: Clock) -> None:
        self.paper = paper
        self.clock = clock
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.client: Any = None

    # --- wiring ---------------------------------------------------------------------------

    def install(self, client: Any) -> Any:
        """Route ``client``'s HTTP through this venue; returns the client."""
        self.client = client
        client.fetch = self.fetch
        return client

    def inject(self, kind: str, when: Callable[[Request], bool], times: int = 1) -> None:
        self.faults.append(Fault(when, kind, times))

    def placed_client_ids(self) -> list[str]:
        """The venue-side client order id of every order the venue accepted, in order."""
        raise NotImplementedError

    async def orders(self) -> list[Order]:
        """The paper engine's record of every order the venue accepted."""
        raise NotImplementedError

    def order_writes(self) -> list[Request]:
        """Every request that reached an order-writing endpoint."""
        return [r for r in self.requests if r.method != "GET" and r.path.endswith(self.order_paths)]

    # --- the HTTP seam --------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> Any:
        request = self._parse(url, method, headers or {}, body)
        self.requests.append(request)
        fault = self._take_fault(request)
        if fault == "timeout_before":
            raise ccxt.RequestTimeout(f"{self.exchange_id} {method} {url}")
        if fault in ("rate_limit", "unavailable"):
            reply = self.rate_limited() if fault == "rate_limit" else self.unavailable()
        else:
            try:
                reply = await self.handle(request)
            except Outage as outage:
                reply = outage.reply
        if fault == "timeout_after":
            raise ccxt.RequestTimeout(f"{self.exchange_id} {method} {url}")
        if fault == "server_error_after":
            reply = self.server_error()
        return self._deliver(request, reply)

    def _deliver(self, request: Request, reply: Reply) -> Any:
        """ccxt's ``fetch`` from the moment the response arrived (see the module doc)."""
        client = self.client
        reason = REASONS.get(reply.status, "")
        text = client.on_rest_response(
            reply.status,
            reason,
            request.url,
            request.method,
            reply.headers,
            reply.text(),
            request.headers,
            request.body,
        )
        parsed = client.parse_json(text)
        if client.enableLastHttpResponse:
            client.last_http_response = text
        if client.enableLastResponseHeaders:
            client.last_response_headers = reply.headers
        if client.enableLastJsonResponse:
            client.last_json_response = parsed
        client.handle_errors(
            reply.status,
            reason,
            request.url,
            request.method,
            reply.headers,
            text,
            parsed,
            request.headers,
            request.body,
        )
        client.handle_http_status_code(reply.status, reason, request.url, request.method, text)
        return parsed if parsed is not None else text

    def _parse(self, url: str, method: str, headers: dict[str, str], body: str | None) -> Request:
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if body:
            if body.lstrip().startswith(("{", "[")):
                loaded = json.loads(body)
                if isinstance(loaded, dict):
                    params.update({k: v for k, v in loaded.items()})
            else:
                params.update(dict(parse_qsl(body, keep_blank_values=True)))
        return Request(method, url, parts.path, params, dict(headers), body)

    def _take_fault(self, request: Request) -> str | None:
        for fault in self.faults:
            if fault.times > 0 and fault.when(request):
                fault.times -= 1
                return fault.kind
        return None

    async def route(
        self, request: Request, public: Routes, private: Routes, unknown: Reply
    ) -> Reply:
        """The common tail of ``handle`` for venues keyed by (method, path): a public
        endpoint answers as is; a private one after ``_check_signature`` and ``_adopt``;
        any other request gets ``unknown`` (the venue's own not-found answer)."""
        key = (request.method, request.path)
        if key in public:
            return await public[key](request)
        if key in private:
            self._check_signature(request)
            await self._adopt()
            return await private[key](request)
        return unknown

    # --- per dialect ----------------------------------------------------------------------

    def _check_signature(self, request: Request) -> None:
        """Raise an ``Outage`` with the venue's answer unless ``request`` is signed with the
        venue's key (used by ``route``)."""
        raise NotImplementedError

    async def _adopt(self) -> None:
        """Make the paper account's orders not placed through this venue (seeded stale
        orders) venue orders (used by ``route``)."""
        raise NotImplementedError

    async def handle(self, request: Request) -> Reply:
        """The venue's answer to ``request``. An ``Outage`` raised anywhere below is answered
        with its reply (``fetch`` and ``server`` catch it), so dialects do not catch it."""
        raise NotImplementedError

    def rate_limited(self) -> Reply:
        raise NotImplementedError

    def unavailable(self) -> Reply:
        raise NotImplementedError

    def server_error(self) -> Reply:
        raise NotImplementedError


class CancelsTakingPostOnly(FakeVenue):
    """Base of the venues that accept a post-only order which would take and cancel it at
    once instead of refusing it (OKX, Bybit, Bitget): that order never reaches the paper. The
    venue's records (``_orders``' values) carry ``paper_client_id`` and ``refused`` (the
    order so cancelled, else None); ``_guard`` is the venue's ``paper_guard``."""

    _orders: Mapping[Any, Any]
    _guard: Callable[[Awaitable[Any]], Awaitable[Any]]

    async def orders(self) -> list[Order]:
        return [await self._order_of(p) for p in self._orders.values() if p.refused is None]

    async def _order_of(self, placed: Any) -> Order:
        """The order of a venue record: the paper's, or the post-only cancelled at once."""
        if placed.refused is not None:
            return placed.refused
        order = await self._guard(self.paper.find_order(placed.paper_client_id))
        assert order is not None
        return order

    async def _is_open(self, placed: Any) -> bool:
        return (await self._order_of(placed)).status is OrderStatus.OPEN


def named(products: Mapping[str, Product], name: str | None, missing: Reply) -> Product:
    """The product the venue calls ``name`` (``products``: the venue's names), else an
    ``Outage`` with the venue's ``missing`` answer."""
    product = products.get(name or "")
    if product is None:
        raise Outage(missing)
    return product


def signature_matches(
    given: str,
    secret: str | bytes,
    payload: str | bytes,
    digest: str = "sha256",
    *,
    b64: bool = False,
) -> bool:
    """Whether ``given`` is HMAC-``digest``(secret, payload) as the venue writes it: hex, or
    base64 (``b64``). What is signed (the venue's prehash) is each venue's own."""
    key = secret.encode() if isinstance(secret, str) else secret
    data = payload.encode() if isinstance(payload, str) else payload
    mac = hmac.new(key, data, digest)
    expected = base64.b64encode(mac.digest()).decode() if b64 else mac.hexdigest()
    return hmac.compare_digest(given, expected)


def plain(value: Decimal, places: int = 8) -> str:
    """A decimal as venues print them: fixed point, never an exponent."""
    return f"{value.quantize(Decimal(1).scaleb(-places)):f}"


def paper_request(
    client_id: str,
    product_id: str,
    side: str,
    size: Any,
    price: Any | None,
    *,
    post_only: bool = False,
    ioc: bool = False,
) -> OrderRequest:
    """The paper order of a venue's placement, from the venue's own fields: a limit order at
    ``price``, a market order (always immediate-or-cancel) where ``price`` is None."""
    return OrderRequest(
        client_order_id=client_id,
        product_id=product_id,
        side=Side(str(side).upper()),
        base_size=Decimal(str(size)),
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        limit_price=None if price is None else Decimal(str(price)),
        post_only=post_only,
        immediate_or_cancel=price is None or ioc,
    )


def is_open(order: Order) -> bool:
    return order.status is OrderStatus.OPEN


def millis(order_or_time: Any) -> int:
    return int(order_or_time.timestamp() * 1000)


def decimals(step: Decimal) -> int:
    """The decimal places of an increment (``0.001`` -> 3), as venues state precisions."""
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


def cancelled_at_once(request: OrderRequest, now: datetime) -> Order:
    """A post-only order that would have taken, as venues that accept it and cancel it at
    once (instead of refusing it) record it: never in the paper book, nothing filled."""
    return Order(
        order_id="",
        client_order_id=request.client_order_id,
        product_id=request.product_id,
        side=request.side,
        order_type=request.order_type,
        base_size=request.base_size,
        limit_price=request.limit_price,
        status=OrderStatus.CANCELLED,
        created_at=now,
        post_only=True,
    )


def paper_guard(
    missing: Reply, down: Reply | None = None
) -> Callable[[Awaitable[Any]], Awaitable[Any]]:
    """A wrapper for paper calls: the paper's NotFound becomes an ``Outage`` with the venue's
    ``missing`` answer, any other paper failure one with its ``down`` answer (without
    ``down``, it propagates)."""

    async def call(awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except NotFound as gone:
            raise Outage(missing) from gone
        except ExchangeError as failed:
            if down is None:
                raise
            raise Outage(down) from failed

    return call
