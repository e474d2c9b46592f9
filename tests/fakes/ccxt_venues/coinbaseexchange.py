"""A fake Coinbase Exchange REST API (``api.exchange.coinbase.com``, ccxt's
``coinbaseexchange``) over the paper engine.

Shapes: ccxt's recorded fixture ``ts/src/test/static/response/coinbaseexchange.json``
(repository ccxt/ccxt) records the ticker answer (``fetchTicker[0]``); the other answers follow
the samples ccxt's ``coinbaseexchange.py`` quotes from the venue (``fetch_markets``: the
``/products`` entry; ``fetch_currencies``: the ``/currencies`` entry) and the Exchange REST
API reference (https://docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/...: Orders >
Create a new order / Get single order / Get all orders / Cancel an order; Fills > Get all
fills; Accounts > Get all accounts; Products > Get product book; Fees > Get fees), cited at
each template.

Venue rules the fake enforces, as the reference documents them:

- private calls carry ``CB-ACCESS-KEY``, ``CB-ACCESS-PASSPHRASE``, ``CB-ACCESS-TIMESTAMP`` and
  ``CB-ACCESS-SIGN`` = base64(HMAC-SHA256(base64-decoded secret, timestamp + method +
  request path with query + body)) (Authentication); a wrong key, passphrase or signature is
  HTTP 401 ``{"message": "invalid signature"}`` (or ``Invalid API Key`` / ``Invalid
  Passphrase``). The 30-second timestamp window is not checked: ccxt signs with the wall
  clock, the fake runs on the simulated one;
- ``client_oid`` must be a UUID (Create a new order: "client_oid: [optional] Order ID
  selected by you to identify your order ... UUID"); an order is found by it with
  ``GET /orders/client:<client_oid>`` (Get single order: "When using client_oid it must be
  preceded by the client: namespace"), open, filled and cancelled alike, except that "if
  the order is canceled, and if the order had no matches, the response might return the
  status code 404": the fake answers 404 for those when asked by ``client_oid`` (the case
  crash safety depends on: a restart then places again, and nothing of the first order
  sold), and the order when asked by its exchange id (the port reads a cancelled order
  back; a venue that drops it there too is a follow-up, see docs/design.md);
- refusals are HTTP 400 ``{"message": ...}`` with the texts ccxt's ``exceptions`` table
  reads (``Insufficient funds``, ``size is too small``, ``price too precise``); a post-only
  order that would take is accepted and then ``rejected`` with ``reject_reason: post only``
  (Create a new order: "post_only ... the order will be rejected and no part of it will
  execute"); an unknown order is 404 ``{"message": "NotFound"}``;
- ``GET /orders`` lists open orders by default, ``status=done``/``all`` for others, newest
  first, ``limit`` at most 1000 (default 100);
- rate limited: 429 ``{"message": "Private rate limit exceeded"}``; outage: 503.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cleanslate.clock import Clock
from cleanslate.core.market import Order, OrderStatus, OrderType, Product
from cleanslate.core.market import ProductStatus as Status
from cleanslate.exchange.errors import ExchangeError, OrderRejected
from cleanslate.exchange.paper import PaperExchange

from .base import (
    FakeVenue,
    Outage,
    Reply,
    Request,
    paper_guard,
    paper_request,
    plain,
    signature_matches,
)

# ccxt coinbaseexchange.fetch_markets, the venue's sample of one /products entry.
PRODUCT: dict[str, Any] = {
    "id": "BTC-USD",
    "base_currency": "BTC",
    "quote_currency": "USD",
    "base_min_size": "0.000016",
    "base_max_size": "1500",
    "quote_increment": "0.01",
    "base_increment": "0.00000001",
    "display_name": "BTC/USD",
    "min_market_funds": "1",
    "max_market_funds": "20000000",
    "margin_enabled": False,
    "fx_stablecoin": False,
    "max_slippage_percentage": "0.02000000",
    "post_only": False,
    "limit_only": False,
    "cancel_only": False,
    "trading_disabled": False,
    "status": "online",
    "status_message": "",
    "auction_mode": False,
}

# ccxt coinbaseexchange.fetch_currencies, the venue's sample of one /currencies entry
# (networks left out: nothing here withdraws).
CURRENCY: dict[str, Any] = {
    "id": "USDT",
    "name": "Tether",
    "min_size": "0.000001",
    "status": "online",
    "message": "",
    "max_precision": "0.000001",
    "convertible_to": [],
    "details": {"type": "crypto", "symbol": None, "sort_order": 0},
    "supported_networks": [],
    "display_name": "USDT",
}

# ccxt fixture response/coinbaseexchange.json, methods.fetchTicker[0].httpResponse.
TICKER: dict[str, Any] = {
    "ask": "73369.19",
    "bid": "73360.34",
    "volume": "1207.50668151",
    "trade_id": "18502105",
    "price": "73367.8",
    "size": "0.00730812",
    "time": "2024-03-13T11:10:41.270099Z",
    "rfq_volume": "7.669923",
}

# Exchange REST reference, Orders > Get single order (200 example).
ORDER: dict[str, Any] = {
    "id": "a9625b04-fc66-4999-a876-543c3684d702",
    "price": "10.00000000",
    "size": "1.00000000",
    "product_id": "BTC-USD",
    "profile_id": "8058d771-2d88-4f0f-ab6e-299c153d4308",
    "side": "buy",
    "type": "limit",
    "time_in_force": "GTC",
    "post_only": True,
    "created_at": "2020-03-11T20:48:46.622052Z",
    "fill_fees": "0.0000000000000000",
    "filled_size": "0.00000000",
    "executed_value": "0.0000000000000000",
    "status": "open",
    "settled": False,
}

# Exchange REST reference, Accounts > Get all accounts: one entry.
ACCOUNT: dict[str, Any] = {
    "id": "7d0f7d8e-dd34-4d9c-a846-06f431c381ba",
    "currency": "BTC",
    "balance": "0.0000000000000000",
    "hold": "0.0000000000000000",
    "available": "0",
    "profile_id": "8058d771-2d88-4f0f-ab6e-299c153d4308",
    "trading_enabled": True,
}

# Exchange REST reference, Fills > Get all fills: one entry.
FILL: dict[str, Any] = {
    "trade_id": 74,
    "product_id": "BTC-USD",
    "order_id": "d50ec984-77a8-460a-b958-66f114b0de9b",
    "user_id": "5844eceecf7e803e259d0365",
    "profile_id": "8058d771-2d88-4f0f-ab6e-299c153d4308",
    "liquidity": "T",
    "price": "10.00",
    "size": "0.01",
    "fee": "0.00025",
    "created_at": "2014-11-07T22:19:28.578544Z",
    "side": "buy",
    "settled": True,
    "usd_volume": "0.1",
}

# Exchange REST reference, Fees > Get fees.
FEES: dict[str, Any] = {"taker_fee_rate": "0.0060", "maker_fee_rate": "0.0040", "usd_volume": "0"}

_PAPER_REJECTS = {  # paper engine's preview failure -> Exchange 400 message (ccxt's table)
    "PREVIEW_INVALID_SIZE_PRECISION": "size is too accurate. Smallest unit is {base_inc}",
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": "size is too small. Minimum size is {base_min}",
    "PREVIEW_INVALID_PRICE_PRECISION": "price too precise",
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": "size is too small. Minimum funds is {funds}",
    "PREVIEW_INSUFFICIENT_FUND": "Insufficient funds",
    "PREVIEW_TRADING_DISABLED": "Trading pair not available",
    "PREVIEW_INVALID_PRODUCT_ID": "Product not found",
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ORDERS_PAGE = 100
"""Get all orders' default ``limit`` (reference: "Limit on number of results to return",
default 100, at most 1000)."""


def message(status: int, text: str) -> Reply:
    return Reply(status, {"message": text})


@dataclass
class _Placed:
    order_id: str
    client_oid: str | None
    paper_client_id: str


class FakeCoinbaseExchange(FakeVenue):
    exchange_id = "coinbaseexchange"
    order_paths = ("/orders",)

    def __init__(
        self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str, passphrase: str
    ) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret, self.passphrase = api_key, secret, passphrase
        self._orders: dict[str, _Placed] = {}
        self._rejected: dict[str, str] = {}
        """Post-only orders the venue accepted and rejected at once: id -> reject_reason."""
        self._count = 0

    def placed_client_ids(self) -> list[str]:
        return [o.client_oid or o.order_id for o in self._orders.values()]

    async def orders(self) -> list[Order]:
        return [
            await self._order_of(placed)
            for placed in self._orders.values()
            if placed.order_id not in self._rejected
        ]

    def rate_limited(self) -> Reply:
        return message(429, "Private rate limit exceeded")

    def unavailable(self) -> Reply:
        return Reply(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")

    def server_error(self) -> Reply:
        return message(500, "Internal server error")

    def order_writes(self) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.method in ("POST", "DELETE") and r.path.startswith(self.order_paths)
        ]

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        path, method = request.path, request.method
        if method == "GET" and path == "/products":
            return await self._products_list()
        if method == "GET" and path == "/currencies":
            return await self._currencies()
        if method == "GET" and path == "/time":
            now = self.clock.now()
            return Reply(200, {"iso": _iso(now), "epoch": now.timestamp()})
        if method == "GET" and path.startswith("/products/"):
            product_id, _, tail = path[len("/products/") :].partition("/")
            product = await self._product(product_id)
            if tail == "ticker":
                return await self._ticker(product)
            if tail == "book":
                return await self._book(product, request)
            return message(404, "NotFound")
        self._check_signature(request)
        await self._adopt()
        if path == "/accounts" and method == "GET":
            return await self._accounts()
        if path == "/fees" and method == "GET":
            return Reply(200, FEES)
        if path == "/fills" and method == "GET":
            return await self._fills(request)
        if path == "/orders" and method == "POST":
            return await self._create(request)
        if path == "/orders" and method == "GET":
            return await self._list(request)
        if path.startswith("/orders/"):
            key = path[len("/orders/") :]
            if method == "GET":
                return await self._get(key)
            if method == "DELETE":
                return await self._cancel(key)
        return message(404, "NotFound")

    def _check_signature(self, request: Request) -> None:
        headers = request.headers
        if headers.get("CB-ACCESS-KEY") != self.api_key:
            raise Outage(message(401, "Invalid API Key"))
        if headers.get("CB-ACCESS-PASSPHRASE") != self.passphrase:
            raise Outage(message(401, "Invalid Passphrase"))
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        what = headers.get("CB-ACCESS-TIMESTAMP", "") + request.method + path
        what += request.body or ""
        secret = base64.b64decode(self.secret)
        if not signature_matches(headers.get("CB-ACCESS-SIGN", ""), secret, what, b64=True):
            raise Outage(message(401, "invalid signature"))

    async def _adopt(self) -> None:
        """Orders the paper account holds that were not placed through this venue (seeded
        stale orders) become venue orders with ids of their own."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id not in known:
                self._count += 1
                order_id = str(uuid.UUID(int=self._count, version=4))
                self._orders[order_id] = _Placed(order_id, None, order.client_order_id)

    # --- market data ----------------------------------------------------------------------

    async def _products(self) -> dict[str, Product]:
        return {p.product_id: p for p in await self.paper.products()}

    async def _product(self, product_id: str) -> Product:
        product = (await self._products()).get(product_id)
        if product is None:
            raise Outage(message(404, "NotFound"))
        return product

    async def _products_list(self) -> Reply:
        result = []
        for p in (await self._products()).values():
            if p.status is Status.DELISTED:
                continue
            entry = dict(PRODUCT)
            entry.update(
                id=p.product_id,
                base_currency=p.base,
                quote_currency=p.quote,
                base_min_size=plain(p.min_base_size),
                quote_increment=plain(p.price_tick, 10).rstrip("0").rstrip("."),
                base_increment=plain(p.base_increment, 10).rstrip("0").rstrip("."),
                display_name=f"{p.base}/{p.quote}",
                min_market_funds=plain(p.min_notional, 2),
                trading_disabled=p.status is not Status.TRADEABLE,
                cancel_only=p.status is not Status.TRADEABLE,
                status="online" if p.status is Status.TRADEABLE else "offline",
            )
            result.append(entry)
        return Reply(200, result)

    async def _currencies(self) -> Reply:
        names = set()
        for p in await self.paper.products():
            names |= {p.base, p.quote}
        return Reply(200, [dict(CURRENCY, id=n, name=n, display_name=n) for n in sorted(names)])

    async def _ticker(self, product: Product) -> Reply:
        quote = await _paper(self.paper.quote(product.product_id))
        mid = quote.mid
        entry = dict(TICKER)
        entry.update(
            ask=plain(quote.ask),
            bid=plain(quote.bid),
            volume=plain(quote.quote_volume_24h / mid),
            price=plain(mid),
            time=_iso(quote.at),
        )
        return Reply(200, entry)

    async def _book(self, product: Product, request: Request) -> Reply:
        # Exchange REST reference, Products > Get product book, level 2: [price, size,
        # num-orders] per level, and a sequence number.
        book = await _paper(self.paper.book(product.product_id, 50))
        return Reply(
            200,
            {
                "bids": [[plain(lv.price), plain(lv.size), 1] for lv in book.bids],
                "asks": [[plain(lv.price), plain(lv.size), 1] for lv in book.asks],
                "sequence": int(book.at.timestamp() * 1000),
                "auction_mode": False,
                "auction": None,
                "time": _iso(book.at),
            },
        )

    # --- account and orders ---------------------------------------------------------------

    async def _accounts(self) -> Reply:
        result = []
        for i, b in enumerate(await _paper(self.paper.balances())):
            entry = dict(ACCOUNT)
            entry.update(
                id=str(uuid.UUID(int=10**6 + i, version=4)),
                currency=b.asset,
                balance=plain(b.total, 16),
                hold=plain(b.hold, 16),
                available=plain(b.available, 16),
            )
            result.append(entry)
        return Reply(200, result)

    async def _create(self, request: Request) -> Reply:
        body = json.loads(request.body or "{}")
        product = await self._product(str(body.get("product_id", "")))
        client_oid = body.get("client_oid")
        if client_oid is not None and not UUID.match(str(client_oid)):
            return message(400, "Invalid client_oid")
        kind = body.get("type", "limit")
        if kind not in ("limit", "market"):
            return message(400, "Invalid order type")
        if kind == "limit" and ("price" not in body or "size" not in body):
            return message(400, "Missing price or size")
        if "size" not in body:
            return message(400, "size is required")
        tif = body.get("time_in_force", "GTC")
        post = bool(body.get("post_only"))
        if post and (kind != "limit" or tif in ("IOC", "FOK")):
            return message(400, "post_only is only valid with GTC and GTT limit orders")
        self._count += 1
        order_id = str(uuid.UUID(int=self._count, version=4))
        placed = _Placed(order_id, client_oid, f"cbx-{self._count}")
        request_ = paper_request(
            placed.paper_client_id,
            product.product_id,
            body.get("side", ""),
            body["size"],
            body["price"] if kind == "limit" else None,
            post_only=post,
            ioc=tif in ("IOC", "FOK"),
        )
        try:
            await self.paper.place_order(request_)
        except OrderRejected as rejected:
            reason = rejected.detail.preview_failure_reason
            if reason == "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY":
                # accepted, then rejected: the order exists and says why
                self._orders[order_id] = placed
                self._rejected[order_id] = "post only"
                return Reply(200, await self._render(placed))
            text = _PAPER_REJECTS.get(reason, rejected.detail.message)
            return message(
                400,
                text.format(
                    base_inc=plain(product.base_increment),
                    base_min=plain(product.min_base_size),
                    funds=plain(product.min_notional, 2),
                ),
            )
        except ExchangeError:
            return self.unavailable()
        self._orders[order_id] = placed
        return Reply(200, await self._render(placed))

    async def _order_of(self, placed: _Placed) -> Order:
        if placed.order_id in self._rejected:
            raise LookupError(placed.order_id)
        order = await _paper(self.paper.find_order(placed.paper_client_id))
        assert order is not None
        return order

    async def _render(self, placed: _Placed) -> dict[str, Any]:
        entry = dict(ORDER)
        entry.update(id=placed.order_id, profile_id=ORDER["profile_id"])
        if placed.client_oid is not None:
            entry["client_oid"] = placed.client_oid
        if placed.order_id in self._rejected:
            entry.update(status="rejected", reject_reason=self._rejected[placed.order_id])
            return entry
        order = await self._order_of(placed)
        limit = order.limit_price
        entry.update(
            price=plain(limit) if limit is not None else None,
            size=plain(order.base_size),
            product_id=order.product_id,
            side=order.side.value.lower(),
            type="limit" if order.order_type is OrderType.LIMIT else "market",
            time_in_force="GTC" if order.status is OrderStatus.OPEN or order.post_only else "IOC",
            post_only=order.post_only,
            created_at=_iso(order.created_at),
            fill_fees=plain(order.fees, 16),
            filled_size=plain(order.filled_size),
            executed_value=plain(order.filled_value, 16),
            status="open" if order.status is OrderStatus.OPEN else "done",
        )
        if order.status is not OrderStatus.OPEN:
            entry["done_at"] = _iso(self.clock.now())
            entry["done_reason"] = "filled" if order.status is OrderStatus.FILLED else "canceled"
        if entry["price"] is None:
            del entry["price"]
        return entry

    def _placed(self, key: str) -> _Placed:
        if key.startswith("client:"):
            oid = key[len("client:") :]
            same = [o for o in self._orders.values() if o.client_oid == oid]
            if same:
                return same[-1]
        elif key in self._orders:
            return self._orders[key]
        raise Outage(message(404, "NotFound"))

    async def _get(self, key: str) -> Reply:
        placed = self._placed(key)
        if key.startswith("client:") and placed.order_id not in self._rejected:
            order = await self._order_of(placed)
            if order.status is OrderStatus.CANCELLED and order.filled_size == 0:
                # "If the order is canceled, and if the order had no matches, the response
                # might return the status code 404."
                return message(404, "NotFound")
        return Reply(200, await self._render(placed))

    async def _cancel(self, key: str) -> Reply:
        # Exchange REST reference, Orders > Cancel an order: 200 with the order id; an
        # order that is done is 400 "Order already done" (ccxt reads it as OrderNotFound).
        placed = self._placed(key)
        if placed.order_id in self._rejected:
            return message(400, "Order already done")
        order = await self._order_of(placed)
        if order.status is not OrderStatus.OPEN:
            return message(400, "Order already done")
        await _paper(self.paper.cancel_orders([order.order_id]))
        return Reply(200, json.dumps(placed.order_id))

    async def _list(self, request: Request) -> Reply:
        p = request.params
        statuses = set(_multi(request.url, "status")) or {"open", "pending", "active"}
        limit = min(int(p.get("limit") or ORDERS_PAGE), 1000)
        wanted = p.get("product_id")
        found = []
        for placed in reversed(self._orders.values()):  # newest first
            entry = await self._render(placed)
            if wanted is not None and entry["product_id"] != wanted:
                continue
            if "all" in statuses or entry["status"] in statuses:
                found.append(entry)
        return Reply(200, found[:limit])

    async def _fills(self, request: Request) -> Reply:
        order_id = request.params.get("order_id")
        result = []
        for n, placed in enumerate(self._orders.values()):
            if order_id is not None and placed.order_id != order_id:
                continue
            if placed.order_id in self._rejected:
                continue
            order = await self._order_of(placed)
            for i, fill in enumerate(order.fills):
                entry = dict(FILL)
                entry.update(
                    trade_id=n * 100 + i + 1,
                    product_id=order.product_id,
                    order_id=placed.order_id,
                    liquidity="M" if fill.liquidity == "maker" else "T",
                    price=plain(fill.price),
                    size=plain(fill.size),
                    fee=plain(fill.fee, 16),
                    created_at=_iso(fill.at),
                    side=fill.side.value.lower(),
                    usd_volume=plain(fill.price * fill.size, 16),
                )
                result.append(entry)
        return Reply(200, result)


def _multi(url: str, key: str) -> list[str]:
    from urllib.parse import parse_qsl

    return [v for k, v in parse_qsl(urlsplit(url).query) if k == key]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(missing=message(404, "NotFound"), down=message(503, "Service Unavailable"))
