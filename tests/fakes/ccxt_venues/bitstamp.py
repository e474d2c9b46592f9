"""A fake Bitstamp REST API (``www.bitstamp.net/api/v2``) over the paper engine.

Shapes: ccxt's recorded fixtures (repository ccxt/ccxt, ``ts/src/test/static/request/
bitstamp.json`` and ``response/bitstamp.json``) give the limit order request (``createOrder``:
``POST /api/v2/sell/btcusdt/`` with the form ``amount=1&price=48000``), the balance request
(``fetchBalance``: ``foo=bar``, ccxt's stand-in for an empty form) and the ticker
(``fetchTicker[0]``). The fixtures record no private answer, so those cite Bitstamp's API v2
documentation (https://www.bitstamp.net/api/, the operation named next to each, as its
OpenAPI schema reads) and the payloads quoted in ccxt's ``bitstamp.py`` beside the method
that parses them.

Venue rules the fake enforces, as Bitstamp documents them:

- private calls are POSTs signed with ``X-Auth`` (``BITSTAMP <key>``), ``X-Auth-Nonce``,
  ``X-Auth-Timestamp``, ``X-Auth-Version: v2`` and ``X-Auth-Signature`` = hex(HMAC-SHA256(
  secret, X-Auth + method + host and path + query + content type + nonce + timestamp +
  version + body)) ("Authentication"); a bad key or signature answers code ``API0005``;
- Sell limit order (``sell/{market}/``): ``amount``, ``price``, ``client_order_id`` and the
  booleans ``moc_order`` (maker-or-cancel: "ensures it is not fully or partially filled when
  placed. In case it would be, the order is cancelled"), ``ioc_order`` and ``fok_order``,
  only one of them ("Only one of optional parameters can be set", 400.024); a used
  client_order_id is refused ("Provided client_order_id already exists", 400.019);
- Order status (``order_status/``): by ``id`` or ``client_order_id``, open, finished or
  cancelled, with the order's transactions; "For closed orders, this call only returns
  information for the last 30 days. 'Order not found' error will be returned for orders
  outside this time range";
- Open orders (``open_orders/all/``): every open order of the account, unpaged;
- errors are ``{"status": "error", "reason": ...}`` (ccxt's ``handle_errors`` reads
  ``reason`` as a text or as ``{"__all__": [...]}``); rate limited: response code 400.002
  "Request rejected due to exceeded rate limit." ("Response codes").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from cleanslate.clock import Clock
from cleanslate.core.market import Order, OrderRequest, OrderStatus, OrderType, Product, Side
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
    plain,
    signature_matches,
)

HOST = "www.bitstamp.net"
PREFIX = "/api/v2/"
CLOSED_ORDER_DAYS = 30
"""Order status answers for a closed order this long after it closed (Orders > Order status)."""

# The spot market of Market info > Markets (GET /api/v2/markets/), as ccxt's bitstamp quotes
# it in fetch_markets: precision in decimals, the minimum as an order value in the quote.
MARKET: dict[str, Any] = {
    "name": "BTC/USD",
    "market_symbol": "btcusd",
    "base_currency": "BTC",
    "base_decimals": 8,
    "counter_currency": "USD",
    "counter_decimals": 0,
    "minimum_order_value": "10",
    "trading": "Enabled",
    "instant_order_counter_decimals": 2,
    "instant_and_market_orders": "Enabled",
    "description": "Bitcoin / U.S. dollar",
    "market_type": "SPOT",
}

# ccxt fixture response/bitstamp.json, methods.fetchTicker[0].httpResponse.
TICKER: dict[str, Any] = {
    "timestamp": "1710328241",
    "open": "71448",
    "high": "73656",
    "low": "68626",
    "last": "73285",
    "volume": "135.29692054",
    "vwap": "70853",
    "bid": "73353",
    "ask": "73367",
    "side": "0",
    "open_24": "72144",
    "percent_change_24": "1.58",
}

# Orders > Sell limit order, 200 answer (ccxt's bitstamp parse_order, "from create order
# response"; ``market`` per the docs' schema).
PLACED: dict[str, Any] = {
    "id": "2814205012",
    "market": "XRP/BTC",
    "datetime": "2019-01-31 21:23:36",
    "type": "1",
    "price": "0.00008012",
    "amount": "15.00000000",
    "client_order_id": "",
}

# Orders > Order status, 200 answer (docs' schema: id, datetime, type, status, market,
# transactions, amount_remaining, client_order_id; ccxt's bitstamp fetch_order quotes one).
STATUS: dict[str, Any] = {
    "id": 1429545880227846,
    "datetime": "2021-11-25 12:59:59",
    "type": "1",
    "status": "Finished",
    "market": "ETH/USDT",
    "amount_remaining": "0.00000000",
    "client_order_id": "",
    "transactions": [],
}

# One transaction of an Order status answer (ccxt's bitstamp fetch_order: fee, price,
# datetime, the two currencies' amounts in lower case, tid, type 2 = market trade).
TRANSACTION: dict[str, Any] = {
    "fee": "0.11128",
    "price": "4451.25000000",
    "datetime": "2021-11-25 12:59:59.322000",
    "usdt": "22.25625000",
    "tid": 209895701,
    "eth": "0.00500000",
    "type": 2,
}

# Orders > Open orders, one entry (ccxt's bitstamp fetch_open_orders; ``market`` per docs).
OPEN: dict[str, Any] = {
    "id": "2814205012",
    "datetime": "2019-01-31 21:23:36",
    "type": "1",
    "price": "0.00008012",
    "amount": "15.00000000",
    "currency_pair": "XRP/BTC",
    "market": "XRP/BTC",
    "client_order_id": "",
}

# Fees > Trading fees, one entry (ccxt's bitstamp fetch_trading_fees): rates in percent.
FEES: dict[str, Any] = {
    "currency_pair": "btcusd",
    "market": "btcusd",
    "fees": {"maker": "0.30000", "taker": "0.40000"},
}

_PAPER_REJECTS = {  # paper engine's preview failure -> Bitstamp's reason
    "PREVIEW_INVALID_SIZE_PRECISION": "Ensure that there are no more than {places} decimal places.",
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": "Minimum order size is {minimum}.",
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": "Minimum order size is {minimum}.",
    "PREVIEW_INVALID_PRICE_PRECISION": (
        "Ensure that there are no more than {places} decimal places."
    ),
    "PREVIEW_INSUFFICIENT_FUND": (
        "You have only {available} available. Check your account balance for details."
    ),
    "PREVIEW_TRADING_DISABLED": "Trading is currently unavailable for this market.",
}


def error(reason: str | list[str], status: int = 400, **extra: Any) -> Reply:
    """Bitstamp's error body: ``reason`` a text, or a list under ``__all__``."""
    body: dict[str, Any] = {"status": "error", "reason": reason}
    if isinstance(reason, list):
        body["reason"] = {"__all__": reason}
    body.update(extra)
    return Reply(status, body)


@dataclass
class _Placed:
    order_id: int
    client_order_id: str
    paper_client_id: str
    market: str
    """``BASE/QUOTE``, as Bitstamp names markets in its answers."""
    side: Side
    amount: Decimal
    price: Decimal
    created_ms: int
    refused: bool = False
    """A maker-or-cancel order that would have taken: accepted, then cancelled unfilled."""


class FakeBitstamp(FakeVenue):
    exchange_id = "bitstamp"
    order_paths = ("/buy/", "/sell/", "/cancel_order/", "/cancel_all_orders/", "/replace_order/")

    def __init__(self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret = api_key, secret
        self._orders: dict[int, _Placed] = {}
        self._next_id = 1_429_545_880_227_846

    def placed_client_ids(self) -> list[str]:
        return [o.client_order_id for o in self._orders.values() if not o.refused]

    async def orders(self) -> list[Order]:
        return [o for p, o in await self._mine() if not p.refused]

    def order_writes(self) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.method == "POST" and any(part in r.path for part in self.order_paths)
        ]

    def rate_limited(self) -> Reply:
        return error(
            "Request rejected due to exceeded rate limit.",
            response_code="400.002",
        )

    def unavailable(self) -> Reply:
        # Bitstamp's maintenance answer, as ccxt's bitstamp lists it (OnMaintenance)
        return Reply(
            503, {"error": "Bitstamp.net is under scheduled maintenance. We'll be back soon."}
        )

    def server_error(self) -> Reply:
        return Reply(500, "<html><body>Internal Server Error</body></html>")

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        host = urlsplit(request.url).hostname or ""
        if host != HOST or not request.path.startswith(PREFIX):
            return Reply(404, f"fake bitstamp: no {request.url}")
        path = request.path[len(PREFIX) :]
        if request.method == "GET":
            if path == "markets/":
                return await self._markets()
            if path.startswith("ticker/"):
                return await self._ticker(path[len("ticker/") :].strip("/"))
            if path.startswith("order_book/"):
                return await self._order_book(path[len("order_book/") :].strip("/"))
            return Reply(404, f"fake bitstamp: no GET {path}")
        self._check_signature(request)
        await self._adopt()
        if path == "account_balances/":
            return await self._balances()
        if path == "fees/trading/":
            return await self._fees()
        if path == "order_status/":
            return await self._status(request)
        if path == "open_orders/all/":
            return await self._open_orders()
        if path == "cancel_order/":
            return await self._cancel(request)
        for side in ("sell", "buy"):
            if path.startswith(f"{side}/") and path.count("/") == 2:
                return await self._place(request, Side(side.upper()), path.split("/")[1])
        return Reply(404, f"fake bitstamp: no POST {path}")

    def _check_signature(self, request: Request) -> None:
        h = request.headers
        if h.get("X-Auth") != f"BITSTAMP {self.api_key}":
            raise Outage(error("API key not found", 403, code="API0001"))
        content_type = h.get("Content-Type", "")
        auth = (
            h["X-Auth"]
            + request.method
            + request.url.replace("https://", "")
            + content_type
            + h.get("X-Auth-Nonce", "")
            + h.get("X-Auth-Timestamp", "")
            + h.get("X-Auth-Version", "")
            + (request.body or "")
        )
        if not signature_matches(h.get("X-Auth-Signature", "").lower(), self.secret, auth):
            raise Outage(error("Invalid signature", 403, code="API0005"))

    async def _adopt(self) -> None:
        """Orders the paper account holds that were not placed through this venue (seeded
        stale orders) become venue orders, as if placed on Bitstamp's web site (no id)."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id in known:
                continue
            self._next_id += 1
            product = await _paper(self.paper.product(order.product_id))
            self._orders[self._next_id] = _Placed(
                self._next_id,
                "",
                order.client_order_id,
                f"{product.base}/{product.quote}",
                order.side,
                order.base_size,
                order.limit_price or Decimal(0),
                millis(order.created_at),
            )

    # --- market data ----------------------------------------------------------------------

    async def _by_symbol(self) -> dict[str, Product]:
        return {f"{p.base}{p.quote}".lower(): p for p in await self.paper.products()}

    async def _product(self, market_symbol: str) -> Product:
        missing = Reply(404, {"status": "error", "reason": "Invalid market."})
        return named(await self._by_symbol(), market_symbol, missing)

    async def _markets(self) -> Reply:
        rows = []
        for symbol, p in (await self._by_symbol()).items():
            if p.status is Status.DELISTED:
                continue
            entry = dict(MARKET)
            entry.update(
                name=f"{p.base}/{p.quote}",
                market_symbol=symbol,
                base_currency=p.base,
                base_decimals=decimals(p.base_increment),
                counter_currency=p.quote,
                counter_decimals=decimals(p.price_tick),
                minimum_order_value=plain(p.min_notional, 2),
                trading="Enabled" if p.status is Status.TRADEABLE else "Disabled",
                description=f"{p.base} / {p.quote}",
            )
            rows.append(entry)
        return Reply(200, rows)

    async def _ticker(self, market_symbol: str) -> Reply:
        product = await self._product(market_symbol)
        quote = await _paper(self.paper.quote(product.product_id))
        mid = quote.mid
        entry = dict(TICKER)
        entry.update(
            timestamp=str(int(self.clock.now().timestamp())),
            open=plain(mid),
            high=plain(quote.ask),
            low=plain(quote.bid),
            last=plain(mid),
            volume=plain(quote.quote_volume_24h / mid),
            vwap=plain(mid),
            bid=plain(quote.bid),
            ask=plain(quote.ask),
            open_24=plain(mid),
            percent_change_24="0.00",
        )
        return Reply(200, entry)

    async def _order_book(self, market_symbol: str) -> Reply:
        # Order book > Order book: timestamp, microtimestamp, bids, asks (ccxt quotes it)
        product = await self._product(market_symbol)
        book = await _paper(self.paper.book(product.product_id, 100))
        micros = millis(book.at) * 1000
        return Reply(
            200,
            {
                "timestamp": str(micros // 1_000_000),
                "microtimestamp": str(micros),
                "bids": [[plain(lv.price), plain(lv.size)] for lv in book.bids],
                "asks": [[plain(lv.price), plain(lv.size)] for lv in book.asks],
            },
        )

    # --- account and orders ---------------------------------------------------------------

    async def _balances(self) -> Reply:
        # Account balances > Account balances: currency (lower case), total, available,
        # reserved (ccxt's bitstamp fetch_balance quotes it)
        balances = await _paper(self.paper.balances())
        return Reply(
            200,
            [
                {
                    "currency": b.asset.lower(),
                    "total": plain(b.available + b.hold),
                    "available": plain(b.available),
                    "reserved": plain(b.hold),
                }
                for b in balances
            ],
        )

    async def _fees(self) -> Reply:
        rows = []
        for symbol in await self._by_symbol():
            rows.append(dict(FEES, currency_pair=symbol, market=symbol))
        return Reply(200, rows)

    async def _place(self, request: Request, side: Side, market_symbol: str) -> Reply:
        p = request.params
        product = await self._product(market_symbol)
        if "amount" not in p or "price" not in p:
            return error(["Missing amount and/or price POST parameters"])
        flags = [name for name in ("moc_order", "ioc_order", "fok_order", "daily_order",
                                   "gtd_order") if p.get(name, "").lower() == "true"]  # fmt: skip
        if len(flags) > 1:
            return error("Only one of optional parameters can be set.", response_code="400.024")
        client_id = p.get("client_order_id", "")
        if client_id and any(o.client_order_id == client_id for o in self._orders.values()):
            return error("Provided client_order_id already exists.", response_code="400.019")
        self._next_id += 1
        placed = _Placed(
            self._next_id,
            client_id,
            f"bitstamp-{self._next_id}",
            f"{product.base}/{product.quote}",
            side,
            Decimal(p["amount"]),
            Decimal(p["price"]),
            millis(self.clock.now()),
        )
        tif = flags[0] if flags else ""
        paper_order = OrderRequest(
            client_order_id=placed.paper_client_id,
            product_id=product.product_id,
            side=side,
            base_size=placed.amount,
            order_type=OrderType.LIMIT,
            limit_price=placed.price,
            post_only=tif == "moc_order",
            immediate_or_cancel=tif in ("ioc_order", "fok_order"),
        )
        try:
            await self.paper.place_order(paper_order)
        except OrderRejected as rejected:
            reason = rejected.detail.preview_failure_reason
            if reason == "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY":
                # maker-or-cancel: accepted, and cancelled at once instead of taking
                placed.refused = True
            else:
                return error([self._reason(reason, product)])
        except ExchangeError:
            return error("Order could not be placed.")
        self._orders[placed.order_id] = placed
        body = dict(PLACED)
        body.update(
            id=str(placed.order_id),
            market=placed.market,
            datetime=_datetime(placed.created_ms),
            type="1" if side is Side.SELL else "0",
            price=plain(placed.price),
            amount=plain(placed.amount),
            client_order_id=client_id,
        )
        if not client_id:
            del body["client_order_id"]  # "Only returned if parameter was used in request"
        return Reply(200, body)

    def _reason(self, failure: str, product: Product) -> str:
        template = _PAPER_REJECTS.get(failure, "Order could not be placed.")
        return template.format(
            places=decimals(product.base_increment),
            minimum=f"{plain(product.min_notional, 1)} {product.quote}",
            available=product.base,
        )

    async def _order_of(self, placed: _Placed) -> Order | None:
        if placed.refused:
            return None
        order = await _paper(self.paper.find_order(placed.paper_client_id))
        assert order is not None
        return order

    async def _mine(self) -> list[tuple[_Placed, Order | None]]:
        return [(placed, await self._order_of(placed)) for placed in self._orders.values()]

    def _find(self, request: Request) -> _Placed:
        p = request.params
        if "client_order_id" in p:
            for placed in reversed(self._orders.values()):
                if placed.client_order_id and placed.client_order_id == p["client_order_id"]:
                    return placed
            raise Outage(error("Order not found."))
        key = p.get("id", "")
        if not key:
            raise Outage(error("Missing id POST param"))
        if not key.isdigit():
            raise Outage(error("Invalid order id"))
        found = self._orders.get(int(key))
        if found is None:
            raise Outage(error("Order not found."))
        return found

    async def _status(self, request: Request) -> Reply:
        placed = self._find(request)
        order = await self._order_of(placed)
        if order is not None and order.status is not OrderStatus.OPEN:
            closed = self.clock.now() - timedelta(days=CLOSED_ORDER_DAYS)
            if order.created_at < closed:
                return error("Order not found.")
        body = dict(STATUS)
        body.update(
            id=placed.order_id,
            datetime=_datetime(placed.created_ms),
            type="1" if placed.side is Side.SELL else "0",
            status=_status(order),
            market=placed.market,
            amount_remaining=plain(
                placed.amount if order is None else placed.amount - order.filled_size
            ),
            client_order_id=placed.client_order_id,
            transactions=[] if order is None else await self._transactions(placed, order),
        )
        if not placed.client_order_id:
            del body["client_order_id"]
        return Reply(200, body)

    async def _transactions(self, placed: _Placed, order: Order) -> list[dict[str, Any]]:
        base, quote = (part.lower() for part in placed.market.split("/"))
        rows = []
        for i, fill in enumerate(await _paper(self.paper.fills(order.order_id))):
            row = {k: v for k, v in TRANSACTION.items() if k not in ("usdt", "eth")}
            row.update(
                {
                    "fee": plain(fill.fee),
                    "price": plain(fill.price),
                    "datetime": _datetime(millis(fill.at), micros=True),
                    quote: plain(fill.price * fill.size),
                    "tid": placed.order_id * 100 + i,
                    base: plain(fill.size),
                    "type": 2,
                }
            )
            rows.append(row)
        return rows

    async def _open_orders(self) -> Reply:
        rows = []
        for placed, order in await self._mine():
            if order is None or order.status is not OrderStatus.OPEN:
                continue
            entry = dict(OPEN)
            entry.update(
                id=str(placed.order_id),
                datetime=_datetime(placed.created_ms),
                type="1" if placed.side is Side.SELL else "0",
                price=plain(placed.price),
                amount=plain(placed.amount - order.filled_size),
                currency_pair=placed.market,
                market=placed.market,
                client_order_id=placed.client_order_id,
            )
            rows.append(entry)
        return Reply(200, rows)

    async def _cancel(self, request: Request) -> Reply:
        # Orders > Cancel order: "Order not found" (no full stop) when it is not in the
        # order book, "Order might already be filled or canceled"
        key = request.params.get("id", "")
        placed = self._orders.get(int(key)) if key.isdigit() else None
        order = await self._order_of(placed) if placed is not None else None
        if placed is None or order is None or order.status is not OrderStatus.OPEN:
            return error("Order not found")
        await _paper(self.paper.cancel_orders([order.order_id]))
        return Reply(
            200,
            {
                "id": placed.order_id,
                "amount": plain(placed.amount - order.filled_size),
                "price": plain(placed.price),
                "type": 1 if placed.side is Side.SELL else 0,
                "market": placed.market,
            },
        )


def _status(order: Order | None) -> str:
    # Order status "status": Open, Finished, Canceled (ccxt's parse_order_status)
    if order is None:
        return "Canceled"
    if order.status is OrderStatus.OPEN:
        return "Open"
    if order.status is OrderStatus.FILLED:
        return "Finished"
    return "Canceled"


def _datetime(ms: int, micros: bool = False) -> str:
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(ms / 1000, UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S.%f" if micros else "%Y-%m-%d %H:%M:%S")


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(missing=error("Order not found."), down=error("Order could not be placed."))
