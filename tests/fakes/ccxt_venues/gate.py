"""A fake Gate spot REST API (``api.gateio.ws/api/v4``) over the paper engine.

Shapes: ccxt's recorded fixtures (repository ccxt/ccxt, ``ts/src/test/static/response/
gate.json``) give the spot order record (``fetchOpenOrders[0]``: one ``{"currency_pair",
"total", "orders": [...]}`` group per pair), the spot trade (``fetchMyTrades[0]``), the spot
ticker (``fetchTicker[0]``) and the currency (``fetchCurrencies[0]``); endpoints without a
recorded spot fixture cite Gate's API v4 documentation
(https://www.gate.com/docs/developers/apiv4/, the section named next to each) and say so.

Venue rules the fake enforces, as Gate documents them (API v4, "Authentication" and
Spot > "Create an order", "Get a single order", "List orders"):

- private calls carry ``KEY``, ``Timestamp`` and ``SIGN`` = hex(HMAC-SHA512(secret,
  METHOD + "\\n" + /api/v4 path + "\\n" + query + "\\n" + hex(SHA512(body)) + "\\n" +
  timestamp)); a bad key is ``INVALID_KEY``, a bad signature ``INVALID_SIGNATURE``;
- ``text`` (the client id) "must start with ``t-``", "no longer than 28 bytes without ``t-``
  prefix", "can only include 0-9, A-Z, a-z, underscore(_), hyphen(-) or dot(.)"; Gate does
  not refuse a repeated text, and finds an order by it only while it is pending ("Operations
  based on custom ID can only be checked in pending orders. Only order ID can be used after
  the order is finished"): a finished order is found by listing, page by page;
- ``time_in_force``: ``gtc``, ``ioc``, ``poc`` (post-only: refused with
  ``POC_FILL_IMMEDIATELY`` when it would take, the label ccxt's gate maps), ``fok``;
  an IOC remainder finishes as ``finish_as: "ioc"``, a cancelled order as ``cancelled``;
- List orders (``status=finished``): ``page`` from 1 and ``limit`` (default 100), newest
  first, ``from``/``to`` in seconds;
- errors are HTTP 4xx with ``{"label": ..., "message": ...}``; rate limited: 429
  ``TOO_MANY_REQUESTS``; outage: 503 ``SERVER_ERROR``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
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
    decimals,
    millis,
    named,
    paper_guard,
    paper_request,
    plain,
    signature_matches,
)

PREFIX = "/api/v4"
FINISHED_PAGE = 100
"""List orders' default page (Gate docs, Spot > List orders: "limit ... default 100")."""

# Gate docs, Spot > "Query all currency pairs supported" (no ccxt spot fixture records
# the raw answer): one entry.
CURRENCY_PAIR: dict[str, Any] = {
    "id": "ETH_USDT",
    "base": "ETH",
    "base_name": "Ethereum",
    "quote": "USDT",
    "quote_name": "Tether",
    "fee": "0.2",
    "min_base_amount": "0.001",
    "min_quote_amount": "1.0",
    "max_base_amount": "10000",
    "max_quote_amount": "10000000",
    "amount_precision": 3,
    "precision": 6,
    "trade_status": "tradable",
    "sell_start": 1516378650,
    "buy_start": 1516378650,
    "type": "normal",
}

# ccxt fixture response/gate.json, methods.fetchCurrencies[0].httpResponse[0] (chains cut).
CURRENCY: dict[str, Any] = {
    "currency": "USDT",
    "name": "Tether",
    "delisted": False,
    "withdraw_disabled": False,
    "withdraw_delayed": False,
    "deposit_disabled": False,
    "trade_disabled": False,
    "fixed_rate": "",
    "chain": "ETH",
    "chains": [],
}

# ccxt fixture response/gate.json, methods.fetchTicker[0].httpResponse[0].
TICKER: dict[str, Any] = {
    "currency_pair": "BTC_USDT",
    "last": "73373.9",
    "lowest_ask": "73364.2",
    "highest_bid": "73364.1",
    "change_percentage": "1.71",
    "base_volume": "3410.0783503636",
    "quote_volume": "243764368.46418",
    "high_24h": "73636.3",
    "low_24h": "68629.9",
}

# ccxt fixture response/gate.json, methods.fetchOpenOrders[0].httpResponse[0].orders[0]: the
# spot order record of every order endpoint; ``avg_deal_price`` is added from the docs'
# Spot > "Get a single order" (ccxt's gate reads it as the average of a spot order).
ORDER: dict[str, Any] = {
    "id": "700604309511",
    "text": "web",
    "amend_text": "-",
    "create_time": "1729180336",
    "update_time": "1729180336",
    "create_time_ms": "1729180336718",
    "update_time_ms": "1729180336718",
    "status": "open",
    "currency_pair": "BTC_USDT",
    "type": "limit",
    "account": "spot",
    "side": "sell",
    "amount": "0.00009",
    "price": "69662.3",
    "time_in_force": "gtc",
    "iceberg": "0",
    "left": "0.00009",
    "filled_amount": "0",
    "fill_price": "0",
    "filled_total": "0",
    "avg_deal_price": "0",
    "fee": "0",
    "fee_currency": "USDT",
    "point_fee": "0",
    "gt_fee": "0",
    "gt_maker_fee": "0",
    "gt_taker_fee": "0",
    "gt_discount": False,
    "rebated_fee": "0",
    "rebated_fee_currency": "BTC",
    "finish_as": "open",
}

# ccxt fixture response/gate.json, methods.fetchMyTrades[0].httpResponse[0].
MY_TRADE: dict[str, Any] = {
    "id": "7342180137",
    "create_time": "1706382263",
    "create_time_ms": "1706382263841.325000",
    "currency_pair": "LTC_USDT",
    "side": "buy",
    "role": "taker",
    "amount": "0.025",
    "price": "68.02",
    "order_id": "497245022561",
    "fee": "0.000050",
    "fee_currency": "LTC",
    "point_fee": "0.0",
    "gt_fee": "0.0",
    "amend_text": "-",
    "sequence_id": "1388786",
    "text": "apiv4",
}

# Gate docs, Wallet > "Retrieve personal trading fee" (GET /wallet/fee).
FEE: dict[str, Any] = {
    "user_id": 10001,
    "taker_fee": "0.002",
    "maker_fee": "0.002",
    "gt_discount": False,
    "gt_taker_fee": "0",
    "gt_maker_fee": "0",
    "loan_fee": "0.18",
    "point_type": "1",
    "futures_taker_fee": "0.0005",
    "futures_maker_fee": "0",
}

# Gate docs, Account > "Get account detail" (GET /account/detail), as ccxt's gate
# load_unified_status quotes it: key mode 1 is a classic (not unified) account.
ACCOUNT_DETAIL: dict[str, Any] = {
    "user_id": 10001,
    "ip_whitelist": [],
    "currency_pairs": [],
    "key": {"mode": 1},
    "tier": 0,
    "tier_expire_time": "0001-01-01T00:00:00Z",
    "copy_trading_role": 0,
}

ERRORS: dict[str, tuple[int, str]] = {  # label -> HTTP status (Gate docs, "Error handling")
    "INVALID_KEY": (401, "Invalid key provided"),
    "INVALID_SIGNATURE": (401, "Signature mismatch"),
    "REQUEST_EXPIRED": (401, "Request timestamp expired"),
    "INVALID_CURRENCY_PAIR": (400, "Invalid currency pair"),
    "INVALID_PARAM_VALUE": (400, "Invalid parameter value"),
    "INVALID_PRECISION": (400, "Invalid precision"),
    "INVALID_TEXT": (400, "Invalid text"),
    "BALANCE_NOT_ENOUGH": (400, "Not enough balance"),
    "POC_FILL_IMMEDIATELY": (400, "Order would match and take immediately so its cancelled"),
    "TRADE_RESTRICTED": (403, "Trading is restricted"),
    "ORDER_NOT_FOUND": (404, "Order not found"),
    "TOO_MANY_REQUESTS": (429, "Too many requests"),
    "SERVER_ERROR": (500, "Internal server error"),
}

_PAPER_REJECTS = {  # paper engine's preview failure -> Gate label
    "PREVIEW_INVALID_SIZE_PRECISION": "INVALID_PRECISION",
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": "INVALID_PARAM_VALUE",
    "PREVIEW_INVALID_PRICE_PRECISION": "INVALID_PRECISION",
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": "INVALID_PARAM_VALUE",
    "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY": "POC_FILL_IMMEDIATELY",
    "PREVIEW_INSUFFICIENT_FUND": "BALANCE_NOT_ENOUGH",
    "PREVIEW_TRADING_DISABLED": "TRADE_RESTRICTED",
    "PREVIEW_INVALID_PRODUCT_ID": "INVALID_CURRENCY_PAIR",
}
TEXT = re.compile(r"^t-[0-9A-Za-z_.-]{1,28}$")


def error(label: str, message: str | None = None) -> Reply:
    status, default = ERRORS[label]
    return Reply(status, {"label": label, "message": message or default})


@dataclass
class _Placed:
    order_id: int
    text: str
    paper_client_id: str
    pair: str
    tif: str


class FakeGate(FakeVenue):
    exchange_id = "gate"
    order_paths = (
        "/api/v4/spot/orders",
        "/api/v4/spot/batch_orders",
        "/api/v4/spot/cancel_batch_orders",
    )

    def __init__(self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret = api_key, secret
        self._orders: dict[int, _Placed] = {}
        self._next_id = 700_000_000_000

    def placed_client_ids(self) -> list[str]:
        """Each accepted order's text without Gate's ``t-`` marker (the id as chosen)."""
        return [o.text.removeprefix("t-") for o in self._orders.values()]

    async def orders(self) -> list[Order]:
        return [o for _, o in await self._mine(None)]

    def order_writes(self) -> list[Request]:
        # a GET of /spot/orders/{id} reads; every other method on the order paths writes
        return [
            r for r in self.requests if r.method != "GET" and r.path.startswith(self.order_paths)
        ]

    def rate_limited(self) -> Reply:
        return error("TOO_MANY_REQUESTS")

    def unavailable(self) -> Reply:
        return Reply(503, {"label": "SERVER_ERROR", "message": "Service unavailable"})

    def server_error(self) -> Reply:
        return error("SERVER_ERROR")

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        host = urlsplit(request.url).hostname or ""
        if host != "api.gateio.ws" or not request.path.startswith(PREFIX):
            return Reply(404, {"label": "NOT_FOUND", "message": f"fake gate: no {request.url}"})
        path = request.path[len(PREFIX) :]
        method = request.method
        public = {
            "/spot/currency_pairs": self._currency_pairs,
            "/margin/currency_pairs": self._margin_pairs,
            "/spot/currencies": self._currencies,
            "/spot/tickers": self._tickers,
            "/spot/order_book": self._order_book,
        }
        if method == "GET" and path in public:
            return await public[path](request)
        self._check_signature(request)
        await self._adopt()
        if (method, path) == ("GET", "/account/detail"):
            return Reply(200, ACCOUNT_DETAIL)
        if (method, path) == ("GET", "/wallet/fee"):
            return Reply(200, FEE)
        if (method, path) == ("GET", "/spot/accounts"):
            return await self._accounts(request)
        if (method, path) == ("POST", "/spot/orders"):
            return await self._place(request)
        if (method, path) == ("GET", "/spot/orders"):
            return await self._list(request)
        if (method, path) == ("GET", "/spot/open_orders"):
            return await self._open_orders(request)
        if (method, path) == ("GET", "/spot/my_trades"):
            return await self._my_trades(request)
        if path.startswith("/spot/orders/") and method in ("GET", "DELETE"):
            key = path[len("/spot/orders/") :]
            if method == "GET":
                return await self._query(request, key)
            return await self._cancel(request, key)
        return Reply(404, {"label": "NOT_FOUND", "message": f"fake gate: no {method} {path}"})

    def _check_signature(self, request: Request) -> None:
        if request.headers.get("KEY") != self.api_key:
            raise Outage(error("INVALID_KEY"))
        timestamp = request.headers.get("Timestamp", "")
        body_hash = hashlib.sha512((request.body or "").encode()).hexdigest()
        query = urlsplit(request.url).query
        payload = "\n".join([request.method.upper(), request.path, query, body_hash, timestamp])
        if not signature_matches(request.headers.get("SIGN", ""), self.secret, payload, "sha512"):
            raise Outage(error("INVALID_SIGNATURE"))

    async def _adopt(self) -> None:
        """Orders the paper account holds that were not placed through this venue (seeded
        stale orders) become venue orders, as if placed from Gate's web site (text ``web``)."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id in known:
                continue
            self._next_id += 1
            product = await _paper(self.paper.product(order.product_id))
            tif = "poc" if order.post_only else "gtc"
            pair = f"{product.base}_{product.quote}"
            self._orders[self._next_id] = _Placed(
                self._next_id, "web", order.client_order_id, pair, tif
            )

    # --- market data ----------------------------------------------------------------------

    async def _pairs(self) -> dict[str, Product]:
        return {f"{p.base}_{p.quote}": p for p in await self.paper.products()}

    async def _pair(self, name: str | None) -> Product:
        return named(await self._pairs(), name, error("INVALID_CURRENCY_PAIR"))

    async def _currency_pairs(self, request: Request) -> Reply:
        pairs = []
        for name, p in (await self._pairs()).items():
            if p.status is Status.DELISTED:
                continue
            entry = dict(CURRENCY_PAIR)
            entry.update(
                id=name,
                base=p.base,
                base_name=p.base,
                quote=p.quote,
                quote_name=p.quote,
                min_base_amount=plain(p.min_base_size, decimals(p.base_increment)),
                min_quote_amount=plain(p.min_notional, 2),
                amount_precision=decimals(p.base_increment),
                precision=decimals(p.price_tick),
                trade_status="tradable" if p.status is Status.TRADEABLE else "untradable",
            )
            pairs.append(entry)
        return Reply(200, pairs)

    async def _margin_pairs(self, request: Request) -> Reply:
        # Gate docs, Margin > "List all supported currency pairs supported in margin
        # trading": the paper account trades no margin pair.
        return Reply(200, [])

    async def _currencies(self, request: Request) -> Reply:
        names: set[str] = set()
        for p in await self.paper.products():
            names |= {p.base, p.quote}
        return Reply(200, [dict(CURRENCY, currency=n, name=n) for n in sorted(names)])

    async def _tickers(self, request: Request) -> Reply:
        name = request.params.get("currency_pair")
        product = await self._pair(name)
        quote = await _paper(self.paper.quote(product.product_id))
        mid = quote.mid
        entry = dict(TICKER)
        entry.update(
            currency_pair=name,
            last=plain(mid),
            lowest_ask=plain(quote.ask),
            highest_bid=plain(quote.bid),
            change_percentage="0",
            base_volume=plain(quote.quote_volume_24h / mid),
            quote_volume=plain(quote.quote_volume_24h),
            high_24h=plain(quote.ask),
            low_24h=plain(quote.bid),
        )
        return Reply(200, [entry])

    async def _order_book(self, request: Request) -> Reply:
        # Gate docs, Spot > "Retrieve order book": id (with_id), current, update, asks, bids.
        product = await self._pair(request.params.get("currency_pair"))
        limit = int(request.params.get("limit", "10"))
        book = await _paper(self.paper.book(product.product_id, limit))
        now = millis(book.at)
        return Reply(
            200,
            {
                "id": now,
                "current": now,
                "update": now,
                "asks": [[plain(lv.price), plain(lv.size)] for lv in book.asks],
                "bids": [[plain(lv.price), plain(lv.size)] for lv in book.bids],
            },
        )

    # --- account and orders ---------------------------------------------------------------

    async def _accounts(self, request: Request) -> Reply:
        # Gate docs, Spot > "List spot accounts": currency, available, locked, update_id.
        balances = await _paper(self.paper.balances())
        return Reply(
            200,
            [
                {
                    "currency": b.asset,
                    "available": plain(b.available),
                    "locked": plain(b.hold),
                    "update_id": 1,
                }
                for b in balances
            ],
        )

    async def _place(self, request: Request) -> Reply:
        p = request.params
        product = await self._pair(p.get("currency_pair"))
        if p.get("account", "spot") != "spot":
            return error("INVALID_PARAM_VALUE", "invalid argument: account")
        text = p.get("text") or "apiv4"
        if text != "apiv4" and not TEXT.match(text):
            return error("INVALID_TEXT", "text must start with t- and be at most 28 bytes")
        kind = p.get("type", "limit")
        tif = p.get("time_in_force", "gtc")
        if kind not in ("limit", "market") or tif not in ("gtc", "ioc", "poc", "fok"):
            return error("INVALID_PARAM_VALUE")
        if kind == "limit" and "price" not in p:
            return error("INVALID_PARAM_VALUE", "invalid argument: price")
        self._next_id += 1
        placed = _Placed(self._next_id, text, f"gate-{self._next_id}", p["currency_pair"], tif)
        paper_order = paper_request(
            placed.paper_client_id,
            product.product_id,
            p["side"],
            p["amount"],
            p["price"] if kind == "limit" else None,
            post_only=tif == "poc",
            ioc=tif in ("ioc", "fok"),
        )
        try:
            order = await self.paper.place_order(paper_order)
        except OrderRejected as rejected:
            label = _PAPER_REJECTS.get(rejected.detail.preview_failure_reason, "")
            return error(label or "INVALID_PARAM_VALUE", rejected.detail.message)
        except ExchangeError:
            return self.unavailable()
        self._orders[placed.order_id] = placed
        return Reply(201, self._order(placed, order, product))

    async def _placed_order(self, placed: _Placed) -> Order:
        order = await _paper(self.paper.find_order(placed.paper_client_id))
        assert order is not None
        return order

    async def _lookup(self, request: Request, key: str) -> tuple[_Placed, Order, Product]:
        """Gate docs, Spot > "Get a single order": ``order_id`` is the order id, or the text
        of a PENDING order; ``currency_pair`` is required."""
        product = await self._pair(request.params.get("currency_pair"))
        pair = request.params["currency_pair"]
        if key.startswith("t-"):
            for placed in reversed(self._orders.values()):
                if placed.text == key and placed.pair == pair:
                    order = await self._placed_order(placed)
                    if order.status is OrderStatus.OPEN:
                        return placed, order, product
            raise Outage(error("ORDER_NOT_FOUND"))
        found = self._orders.get(int(key)) if key.isdigit() else None
        if found is None or found.pair != pair:
            raise Outage(error("ORDER_NOT_FOUND"))
        return found, await self._placed_order(found), product

    async def _query(self, request: Request, key: str) -> Reply:
        placed, order, product = await self._lookup(request, key)
        return Reply(200, self._order(placed, order, product))

    async def _cancel(self, request: Request, key: str) -> Reply:
        # Gate docs, Spot > "Cancel a single order": the order as it ends; a finished one is
        # not found among the cancellable.
        placed, order, product = await self._lookup(request, key)
        if order.status is not OrderStatus.OPEN:
            return error("ORDER_NOT_FOUND")
        await _paper(self.paper.cancel_orders([order.order_id]))
        order = await self._placed_order(placed)
        return Reply(200, self._order(placed, order, product))

    async def _mine(self, pair: str | None) -> list[tuple[_Placed, Order]]:
        found = []
        for placed in self._orders.values():
            if pair is None or placed.pair == pair:
                found.append((placed, await self._placed_order(placed)))
        return found

    async def _open_orders(self, request: Request) -> Reply:
        # ccxt fixture fetchOpenOrders[0]: one group per currency pair with open orders.
        groups: dict[str, list[dict[str, Any]]] = {}
        products = await self._pairs()
        for placed, order in await self._mine(request.params.get("currency_pair")):
            if order.status is OrderStatus.OPEN:
                body = self._order(placed, order, products[placed.pair])
                groups.setdefault(placed.pair, []).append(body)
        return Reply(
            200,
            [
                {"currency_pair": pair, "total": len(orders), "orders": orders}
                for pair, orders in groups.items()
            ],
        )

    async def _list(self, request: Request) -> Reply:
        # Gate docs, Spot > "List orders": status open|finished, page (from 1), limit
        # (default 100), from/to (seconds); newest first.
        p = request.params
        if p.get("status") not in ("open", "finished"):
            return error("INVALID_PARAM_VALUE", "invalid argument: status")
        pair = p.get("currency_pair")
        if pair is not None:
            await self._pair(pair)
        elif p["status"] == "open":
            return error("INVALID_PARAM_VALUE", "currency_pair is required for open orders")
        limit = min(int(p.get("limit") or FINISHED_PAGE), 1000)
        page = max(int(p.get("page") or 1), 1)
        since = int(p["from"]) if "from" in p else None
        products = await self._pairs()
        rows = []
        for placed, order in reversed(await self._mine(pair)):
            finished = order.status is not OrderStatus.OPEN
            if finished != (p["status"] == "finished"):
                continue
            if since is not None and order.created_at.timestamp() < since:
                continue
            rows.append(self._order(placed, order, products[placed.pair]))
        return Reply(200, rows[(page - 1) * limit : page * limit])

    async def _my_trades(self, request: Request) -> Reply:
        p = request.params
        pair = p.get("currency_pair")
        product = await self._pair(pair) if pair else None
        wanted = p.get("order_id")
        trades = []
        for placed, order in await self._mine(pair):
            if wanted is not None and wanted != str(placed.order_id):
                continue
            for i, fill in enumerate(await _paper(self.paper.fills(order.order_id))):
                trade = dict(MY_TRADE)
                quote = product.quote if product else placed.pair.split("_")[1]
                trade.update(
                    id=str(placed.order_id * 100 + i),
                    create_time=str(int(fill.at.timestamp())),
                    create_time_ms=f"{millis(fill.at)}.000000",
                    currency_pair=placed.pair,
                    side=fill.side.value.lower(),
                    role="maker" if fill.liquidity == "maker" else "taker",
                    amount=plain(fill.size),
                    price=plain(fill.price),
                    order_id=str(placed.order_id),
                    fee=plain(fill.fee),
                    fee_currency=quote,
                    text=placed.text,
                )
                trades.append(trade)
        return Reply(200, trades)

    def _order(self, placed: _Placed, order: Order, product: Product) -> dict[str, Any]:
        body = dict(ORDER)
        created = millis(order.created_at)
        updated = millis(self.clock.now()) if order.status is not OrderStatus.OPEN else created
        average = order.average_filled_price or Decimal(0)
        body.update(
            id=str(placed.order_id),
            text=placed.text,
            create_time=str(created // 1000),
            update_time=str(updated // 1000),
            create_time_ms=str(created),
            update_time_ms=str(updated),
            status="open" if order.status is OrderStatus.OPEN else _finished(order),
            currency_pair=placed.pair,
            type="market" if order.order_type is OrderType.MARKET else "limit",
            side=order.side.value.lower(),
            amount=plain(order.base_size),
            price=plain(order.limit_price or Decimal(0)),
            time_in_force=placed.tif,
            left=plain(order.base_size - order.filled_size),
            filled_amount=plain(order.filled_size),
            fill_price=plain(order.filled_value),
            filled_total=plain(order.filled_value),
            avg_deal_price=plain(average),
            fee=plain(order.fees),
            fee_currency=product.quote,
            rebated_fee_currency=product.base,
            finish_as=_finish_as(order, placed.tif),
        )
        return body


def _finished(order: Order) -> str:
    # Gate docs, spot order "status": open, closed (all filled), cancelled
    return "closed" if order.status is OrderStatus.FILLED else "cancelled"


def _finish_as(order: Order, tif: str) -> str:
    """Gate docs, spot order ``finish_as``: open, filled, cancelled, ioc (an IOC's unfilled
    rest), ... (ccxt's gate reads it before ``status``)."""
    if order.status is OrderStatus.OPEN:
        return "open"
    if order.status is OrderStatus.FILLED:
        return "filled"
    if tif in ("ioc", "fok") or order.order_type is OrderType.MARKET:
        return "ioc"
    return "cancelled"


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(missing=error("ORDER_NOT_FOUND"), down=error("SERVER_ERROR"))
