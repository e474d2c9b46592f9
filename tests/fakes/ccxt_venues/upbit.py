"""A fake Upbit REST API (``api.upbit.com/v1``) over the paper engine: READ-ONLY.

ccxt's upbit is DryRun (its ticks are placeholders, and no lookup through ccxt finds every
finished order: see ``capabilities.KNOWN["upbit"]`` and docs/design.md), so this fake answers
what a DryRun cycle reads (markets, tickers, books, balances, open and closed orders, one
order) and refuses every order endpoint with HTTP 501: the DryRun suite checks none is
reached.

Shapes: the samples ccxt's ``upbit.py`` quotes from the venue (``fetch_markets``: a
``market/all`` entry; ``fetch_balance``: an ``accounts`` entry; ``fetch_open_orders`` /
``fetch_order``: an order) and Upbit's REST reference (https://global-docs.upbit.com/
reference/list-tickers, /list-orderbooks), cited at each template. Market ids are
``QUOTE-BASE`` (``KRW-BTC``); the fake lists the paper market's quotes as they are (USD on
``calm``), where Upbit lists KRW, BTC and USDT markets.

Private calls carry ``Authorization: Bearer <JWT>``, HS256 with the secret key, claims
``access_key``, ``nonce`` and, when the request has parameters, ``query_hash`` = SHA-512 hex
of the unencoded query string and ``query_hash_alg: SHA512`` (Upbit reference,
Authentication); the fake verifies all of them: ``401 {"error": {"name":
"jwt_verification"}}`` or ``invalid_query_payload`` otherwise. Rate limited: HTTP 429 (Upbit
reference, Rate Limits: "429 Too Many Requests"; the body is not documented, the fake sends
``Too many API requests.`` as text); outage: 503.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt

from cleanslate.clock import Clock
from cleanslate.core.market import Order, OrderStatus, OrderType, Product
from cleanslate.core.market import ProductStatus as Status
from cleanslate.exchange.paper import PaperExchange

from .base import FakeVenue, Outage, Reply, Request, millis, paper_guard, plain

V1 = "/v1/"

# ccxt upbit.fetch_markets, the venue's sample of one market/all entry.
MARKET: dict[str, Any] = {"market": "KRW-BTC", "korean_name": "비트코인", "english_name": "Bitcoin"}

# Upbit reference, Quotation > List Tickers: one entry (fields ccxt's parse_ticker reads).
TICKER: dict[str, Any] = {
    "market": "KRW-BTC",
    "trade_date": "20240822",
    "trade_time": "071602",
    "trade_timestamp": 1724310962713,
    "opening_price": 82900000,
    "high_price": 83000000,
    "low_price": 81280000,
    "trade_price": 82324000,
    "prev_closing_price": 82900000,
    "change": "FALL",
    "change_price": 576000,
    "change_rate": 0.0069481303,
    "signed_change_price": -576000,
    "signed_change_rate": -0.0069481303,
    "trade_volume": 0.00042335,
    "acc_trade_price": 66058843588.46906,
    "acc_trade_price_24h": 250206655398.15125,
    "acc_trade_volume": 803.00214714,
    "acc_trade_volume_24h": 3047.01289134,
    "timestamp": 1724310962747,
}

# ccxt upbit.fetch_balance, the venue's sample of one accounts entry.
ACCOUNT: dict[str, Any] = {
    "currency": "BTC",
    "balance": "0.005",
    "locked": "0.0",
    "avg_buy_price": "7446000",
    "avg_buy_price_modified": False,
    "unit_currency": "KRW",
}

# ccxt upbit.fetch_open_orders, the venue's sample of one order.
ORDER: dict[str, Any] = {
    "uuid": "637fd66-d019-4d77-bee6-8e0cff28edd9",
    "side": "ask",
    "ord_type": "limit",
    "price": "1.5",
    "state": "wait",
    "market": "SGD-XRP",
    "created_at": "2024-06-05T09:37:10Z",
    "volume": "10",
    "remaining_volume": "10",
    "reserved_fee": "0",
    "remaining_fee": "0",
    "paid_fee": "0",
    "locked": "10",
    "executed_volume": "0",
    "executed_funds": "0",
    "trades_count": 0,
}


def error(status: int, name: str, message: str) -> Reply:
    return Reply(status, {"error": {"name": name, "message": message}})


class FakeUpbit(FakeVenue):
    exchange_id = "upbit"
    order_paths = ("/v1/orders", "/v1/order", "/v1/orders/open", "/v1/orders/cancel_and_new")

    def __init__(self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret = api_key, secret
        self._uuids: dict[str, str] = {}
        """Paper client order id -> the venue's uuid."""

    def placed_client_ids(self) -> list[str]:
        return []  # nothing is ever placed through this fake

    async def orders(self) -> list[Order]:
        return list(await _paper(self.paper.open_orders()))

    def rate_limited(self) -> Reply:
        return Reply(429, "Too many API requests.", {"Remaining-Req": "group=order; sec=0"})

    def unavailable(self) -> Reply:
        return Reply(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")

    def server_error(self) -> Reply:
        return error(500, "server_error", "Internal server error")

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        if not request.path.startswith(V1):
            return error(404, "not_found", request.path)
        endpoint = request.path[len(V1) :]
        public = {
            "market/all": self._markets,
            "ticker": self._ticker,
            "orderbook": self._orderbook,
        }
        if request.method == "GET" and endpoint in public:
            return await public[endpoint](request)
        self._check_jwt(request)
        if request.method != "GET":
            return error(501, "not_implemented", "the fake upbit is read-only (DryRun)")
        private = {
            "accounts": self._accounts,
            "orders/open": self._open,
            "orders/closed": self._closed,
            "order": self._order,
        }
        handler = private.get(endpoint)
        if handler is None:
            return error(404, "not_found", endpoint)
        return await handler(request)

    def _check_jwt(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        try:
            claims = jwt.decode(header.removeprefix("Bearer "), self.secret, algorithms=["HS256"])
        except jwt.PyJWTError as bad:
            raise Outage(error(401, "jwt_verification", str(bad))) from bad
        if claims.get("access_key") != self.api_key or not claims.get("nonce"):
            raise Outage(error(401, "invalid_access_key", "access key or nonce"))
        if request.method in ("GET", "DELETE"):
            query = unquote(urlsplit(request.url).query)
        else:
            body = json.loads(request.body or "{}")
            query = "&".join(f"{k}={v}" for k, v in body.items())
        if query:
            digest = hashlib.sha512(query.encode()).hexdigest()
            if claims.get("query_hash") != digest or claims.get("query_hash_alg") != "SHA512":
                raise Outage(error(401, "invalid_query_payload", "query_hash"))

    # --- market data ----------------------------------------------------------------------

    async def _products(self) -> dict[str, Product]:
        return {
            f"{p.quote}-{p.base}": p
            for p in await self.paper.products()
            if p.status is not Status.DELISTED
        }

    async def _product(self, market_id: str) -> Product:
        product = (await self._products()).get(market_id)
        if product is None:
            raise Outage(error(404, "Code not found", f"{market_id}"))
        return product

    async def _markets(self, request: Request) -> Reply:
        return Reply(
            200,
            [
                dict(MARKET, market=m, english_name=p.base)
                for m, p in (await self._products()).items()
            ],
        )

    async def _ticker(self, request: Request) -> Reply:
        result = []
        for market_id in request.params.get("markets", "").split(","):
            product = await self._product(market_id)
            quote = await _paper(self.paper.quote(product.product_id))
            entry = dict(TICKER)
            entry.update(
                market=market_id,
                trade_timestamp=millis(quote.at),
                timestamp=millis(quote.at),
                trade_price=float(quote.mid),
                opening_price=float(quote.mid),
                high_price=float(quote.ask),
                low_price=float(quote.bid),
                prev_closing_price=float(quote.mid),
                acc_trade_price_24h=float(quote.quote_volume_24h),
                acc_trade_volume_24h=float(quote.quote_volume_24h / quote.mid),
            )
            result.append(entry)
        return Reply(200, result)

    async def _orderbook(self, request: Request) -> Reply:
        # Upbit reference, Quotation > List Orderbooks: orderbook_units pair one ask and one
        # bid level per row.
        result = []
        count = int(request.params.get("count", "15"))
        for market_id in request.params.get("markets", "").split(","):
            product = await self._product(market_id)
            book = await _paper(self.paper.book(product.product_id, count))
            rows = max(len(book.asks), len(book.bids))
            units = []
            for i in range(rows):
                ask = book.asks[i] if i < len(book.asks) else None
                bid = book.bids[i] if i < len(book.bids) else None
                units.append(
                    {
                        "ask_price": float(ask.price) if ask else 0,
                        "bid_price": float(bid.price) if bid else 0,
                        "ask_size": float(ask.size) if ask else 0,
                        "bid_size": float(bid.size) if bid else 0,
                    }
                )
            result.append(
                {
                    "market": market_id,
                    "timestamp": millis(book.at),
                    "total_ask_size": float(sum(lv.size for lv in book.asks)),
                    "total_bid_size": float(sum(lv.size for lv in book.bids)),
                    "orderbook_units": units,
                    "level": 0,
                }
            )
        return Reply(200, result)

    # --- account and orders ---------------------------------------------------------------

    async def _accounts(self, request: Request) -> Reply:
        result = []
        for b in await _paper(self.paper.balances()):
            entry = dict(ACCOUNT)
            entry.update(currency=b.asset, balance=plain(b.available), locked=plain(b.hold))
            result.append(entry)
        return Reply(200, result)

    def _uuid(self, order: Order) -> str:
        if order.client_order_id not in self._uuids:
            n = len(self._uuids) + 1
            self._uuids[order.client_order_id] = str(uuid.UUID(int=n, version=4))
        return self._uuids[order.client_order_id]

    async def _render(self, order: Order) -> dict[str, Any]:
        product = await _paper(self.paper.product(order.product_id))
        entry = dict(ORDER)
        state = {OrderStatus.OPEN: "wait", OrderStatus.FILLED: "done"}.get(order.status, "cancel")
        entry.update(
            uuid=self._uuid(order),
            side="ask" if order.side.value == "SELL" else "bid",
            ord_type="limit" if order.order_type is OrderType.LIMIT else "market",
            price=plain(order.limit_price) if order.limit_price is not None else None,
            state=state,
            market=f"{product.quote}-{product.base}",
            created_at=_iso(order.created_at),
            volume=plain(order.base_size),
            remaining_volume=plain(order.base_size - order.filled_size),
            paid_fee=plain(order.fees),
            locked=plain(order.base_size - order.filled_size if state == "wait" else 0),
            executed_volume=plain(order.filled_size),
            executed_funds=plain(order.filled_value),
            trades_count=len(order.fills),
        )
        return entry

    async def _open(self, request: Request) -> Reply:
        orders = await _paper(self.paper.open_orders())
        return Reply(200, [await self._render(o) for o in orders])

    async def _closed(self, request: Request) -> Reply:
        return Reply(200, [])  # nothing was placed through this read-only fake

    async def _order(self, request: Request) -> Reply:
        wanted = request.params.get("uuid")
        for order in await _paper(self.paper.open_orders()):
            if self._uuid(order) == wanted:
                return Reply(200, await self._render(order))
        return error(404, "order_not_found", "주문을 찾지 못했습니다.")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(
    missing=error(404, "order_not_found", "주문을 찾지 못했습니다."),
    down=error(503, "server_error", "unavailable"),
)
