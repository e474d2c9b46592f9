"""A fake Binance spot REST API (``api.binance.com/api/v3``) over the paper engine.

Shapes: each answer is built from a template below, with its source named next to it. ccxt's
recorded static fixtures (repository ccxt/ccxt, ``ts/src/test/static/response/binance.json``)
give the order shape; endpoints without a recorded fixture cite Binance's spot API
documentation (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/), and say so.

Venue rules the fake enforces, as Binance documents them:

- signed endpoints need ``X-MBX-APIKEY`` and an HMAC-SHA256 ``signature`` of the query
  (``{"code":-2014}``/``-1022`` otherwise);
- ``newClientOrderId`` matches ``^[.A-Z:/a-z0-9_-]{1,36}$`` (``-1100`` otherwise) and is
  unique among OPEN orders: a duplicate of an open order is ``{"code":-2010,"msg":"Duplicate
  order sent."}``, while reusing the id of a filled or cancelled order places a NEW order
  (Trading endpoints, "newClientOrderId ... Orders with the same newClientOrderID can be
  accepted only when the previous one is filled, otherwise the order will be rejected.");
- ``LIMIT_MAKER`` that would trade is ``{"code":-2010,"msg":"Order would immediately match
  and take."}``; filters fail as ``{"code":-1013,"msg":"Filter failure: LOT_SIZE"}`` (also
  ``PRICE_FILTER``, ``NOTIONAL``); funds as ``-2010 "Account has insufficient balance for
  requested action."``;
- 429 with ``Retry-After`` and ``{"code":-1003,...}`` when rate limited; 503 on outage;
- the wallet's Dust Transfer (``POST /sapi/v1/asset/dust``, the one sapi path served)
  converts on the paper account into its ``dustTarget``, once per 6 hours (``-5006``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cleanslate.clock import Clock
from cleanslate.core.market import (
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    ProductStatus,
    Side,
)
from cleanslate.exchange.errors import ExchangeError, OrderRejected
from cleanslate.exchange.paper import PaperExchange

from .base import (
    FakeVenue,
    Outage,
    Reply,
    Request,
    millis,
    named,
    paper_guard,
    plain,
    signature_matches,
)

API = "/api/v3/"
DUST = "/sapi/v1/asset/dust"
"""Binance's wallet endpoint "Dust Transfer (USER_DATA)", the one sapi path the fake serves."""

# Binance docs, Wallet > Asset > Dust Transfer (USER_DATA), POST /sapi/v1/asset/dust
# (https://developers.binance.com/docs/wallet/asset/dust-transfer; no ccxt static fixture
# records it): the response example, one entry of ``transferResult`` per converted asset.
DUST_TRANSFER: dict[str, Any] = {
    "totalServiceCharge": "0.02102542",
    "totalTransfered": "1.05127099",
    "transferResult": [
        {
            "amount": "0.03000000",
            "fromAsset": "ETH",
            "operateTime": 1563368549307,
            "serviceChargeAmount": "0.00500000",
            "tranId": 2970932918,
            "transferedAmount": "0.25000000",
        }
    ],
}

ALL_ORDERS_PAGE = 500
"""allOrders' default page (Binance docs: "Default 500; max 1000")."""

# Binance docs, General endpoints > Exchange information (no ccxt static fixture records
# the raw exchangeInfo answer): one entry of "symbols".
EXCHANGE_INFO_SYMBOL: dict[str, Any] = {
    "symbol": "ETHBTC",
    "status": "TRADING",
    "baseAsset": "ETH",
    "baseAssetPrecision": 8,
    "quoteAsset": "BTC",
    "quotePrecision": 8,
    "quoteAssetPrecision": 8,
    "baseCommissionPrecision": 8,
    "quoteCommissionPrecision": 8,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
    "icebergAllowed": True,
    "ocoAllowed": True,
    "otoAllowed": True,
    "quoteOrderQtyMarketAllowed": True,
    "allowTrailingStop": False,
    "cancelReplaceAllowed": True,
    "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": False,
    "filters": [],
    "permissions": [],
    "permissionSets": [["SPOT"]],
    "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
    "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
}

# ccxt fixture response/binance.json, methods.createOrder[0].httpResponse (a spot LIMIT order
# answer, FULL response type); GET /api/v3/order adds the fields of the docs' "Query order".
ORDER: dict[str, Any] = {
    "symbol": "SOLUSDT",
    "orderId": "9780331417",
    "orderListId": "-1",
    "clientOrderId": "x-R4BD3S824d31be3228a348eaa0a303",
    "transactTime": "1737635557417",
    "price": "241.00000000",
    "origQty": "0.05000000",
    "executedQty": "0.00000000",
    "origQuoteOrderQty": "0.00000000",
    "cummulativeQuoteQty": "0.00000000",
    "status": "NEW",
    "timeInForce": "GTC",
    "type": "LIMIT",
    "side": "BUY",
    "workingTime": "1737635557417",
    "fills": [],
    "selfTradePreventionMode": "EXPIRE_MAKER",
}

# Binance docs, Account endpoints > Account trade list (GET /api/v3/myTrades): one trade.
MY_TRADE: dict[str, Any] = {
    "symbol": "BNBBTC",
    "id": 28457,
    "orderId": 100234,
    "orderListId": -1,
    "price": "4.00000100",
    "qty": "12.00000000",
    "quoteQty": "48.000012",
    "commission": "10.10000000",
    "commissionAsset": "BNB",
    "time": 1499865549590,
    "isBuyer": True,
    "isMaker": False,
    "isBestMatch": True,
}

# Binance docs, Market data endpoints > 24hr ticker price change statistics (FULL).
TICKER_24HR: dict[str, Any] = {
    "symbol": "BNBBTC",
    "priceChange": "0",
    "priceChangePercent": "0",
    "weightedAvgPrice": "0",
    "prevClosePrice": "0",
    "lastPrice": "0",
    "lastQty": "0",
    "bidPrice": "0",
    "bidQty": "0",
    "askPrice": "0",
    "askQty": "0",
    "openPrice": "0",
    "highPrice": "0",
    "lowPrice": "0",
    "volume": "0",
    "quoteVolume": "0",
    "openTime": 0,
    "closeTime": 0,
    "firstId": 0,
    "lastId": 0,
    "count": 0,
}

# Binance docs, Account endpoints > Account information (GET /api/v3/account).
ACCOUNT: dict[str, Any] = {
    "makerCommission": 10,
    "takerCommission": 10,
    "buyerCommission": 0,
    "sellerCommission": 0,
    "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0", "seller": "0"},
    "canTrade": True,
    "canWithdraw": True,
    "canDeposit": True,
    "brokered": False,
    "requireSelfTradePrevention": False,
    "preventSor": False,
    "updateTime": 0,
    "accountType": "SPOT",
    "balances": [],
    "permissions": ["SPOT"],
    "uid": 354937868,
}

# Binance docs, Error codes; the texts ccxt's binance.py "exceptions" table matches.
ERRORS: dict[str, tuple[int, int, str]] = {
    "rate_limit": (
        429,
        -1003,
        "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. "
        "Please use the websocket for live updates to avoid polling the API.",
    ),
    "bad_signature": (400, -1022, "Signature for this request is not valid."),
    "bad_key": (401, -2014, "API-key format invalid."),
    "illegal_client_id": (
        400,
        -1100,
        "Illegal characters found in parameter 'newClientOrderId'; legal range is "
        "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
    ),
    "bad_symbol": (400, -1121, "Invalid symbol."),
    # ccxt's binance error table (exceptions.exact): Binance's dust transfer refusals
    "dust_once": (400, -5006, "Only transfer once in 24 hours."),
    "dust_low": (400, -5005, "The residual balances of %s is too low, Please re-choose."),
    "duplicate": (400, -2010, "Duplicate order sent."),
    "would_take": (400, -2010, "Order would immediately match and take."),
    "insufficient": (400, -2010, "Account has insufficient balance for requested action."),
    "lot_size": (400, -1013, "Filter failure: LOT_SIZE"),
    "price_filter": (400, -1013, "Filter failure: PRICE_FILTER"),
    "notional": (400, -1013, "Filter failure: NOTIONAL"),
    "market_closed": (400, -1013, "Market is closed."),
    "no_order": (400, -2013, "Order does not exist."),
    "unknown_cancel": (400, -2011, "Unknown order sent."),
}

_PAPER_REJECTS = {  # paper engine's preview failure -> Binance error
    "PREVIEW_INVALID_SIZE_PRECISION": "lot_size",
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": "lot_size",
    "PREVIEW_INVALID_PRICE_PRECISION": "price_filter",
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": "notional",
    "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY": "would_take",
    "PREVIEW_INSUFFICIENT_FUND": "insufficient",
    "PREVIEW_TRADING_DISABLED": "market_closed",
    "PREVIEW_INVALID_PRODUCT_ID": "bad_symbol",
}
CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_STATUS = {ProductStatus.TRADEABLE: "TRADING"}  # anything else: BREAK


def error(kind: str, headers: dict[str, str] | None = None) -> Reply:
    status, code, msg = ERRORS[kind]
    return Reply(status, {"code": code, "msg": msg}, headers or {})


@dataclass
class _Placed:
    order_id: int
    client_order_id: str
    paper_client_id: str
    symbol: str
    quote: str


class FakeBinance(FakeVenue):
    exchange_id = "binance"
    order_paths = (
        "/api/v3/order",
        "/api/v3/openOrders",
        "/api/v3/order/cancelReplace",
        DUST,  # converts balances: a write DryRun must never send
    )

    def __init__(self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret = api_key, secret
        self._orders: dict[int, _Placed] = {}
        self._next_id = 28_000_000_000

    def placed_client_ids(self) -> list[str]:
        return [o.client_order_id for o in self._orders.values()]

    async def orders(self) -> list[Order]:
        return [o for _, o in await self._mine(None)]

    def rate_limited(self) -> Reply:
        return error("rate_limit", {"Retry-After": "3"})

    def unavailable(self) -> Reply:
        return Reply(503, {"code": -1008, "msg": "Service Unavailable."})

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        host = urlsplit(request.url).hostname or ""
        if host.startswith("api.") and request.path == DUST and request.method == "POST":
            self._check_signature(request)
            return await _call(self._dust, request)
        if not host.startswith("api.") or not request.path.startswith(API):
            # futures/margin hosts are not this spot account's: Binance would answer, the
            # fake refuses loudly so an adapter never silently depends on them
            return Reply(404, {"code": -1, "msg": f"fake binance: no {request.path}"})
        endpoint = request.path[len(API) :]
        public = {
            "exchangeInfo": self._exchange_info,
            "ticker/24hr": self._ticker,
            "depth": self._depth,
            "time": lambda r: self._ok({"serverTime": millis(self.clock.now())}),
            "ping": lambda r: self._ok({}),
        }
        if endpoint in public:
            return await _call(public[endpoint], request)
        self._check_signature(request)
        await self._adopt()
        private = {
            ("GET", "account"): self._account,
            ("POST", "order"): self._place,
            ("DELETE", "order"): self._cancel,
            ("GET", "order"): self._query,
            ("GET", "openOrders"): self._open_orders,
            ("GET", "allOrders"): self._all_orders,
            ("GET", "myTrades"): self._my_trades,
        }
        handler = private.get((request.method, endpoint))
        if handler is None:
            return Reply(404, {"code": -1, "msg": f"fake binance: no {request.method} {endpoint}"})
        return await _call(handler, request)

    def _check_signature(self, request: Request) -> None:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            raise Outage(error("bad_key"))
        signed = request.body if request.method in ("POST", "PUT") else urlsplit(request.url).query
        payload, _, signature = (signed or "").rpartition("&signature=")
        if not signature_matches(signature, self.secret, payload):
            raise Outage(error("bad_signature"))

    async def _adopt(self) -> None:
        """Orders the paper account holds that were not placed through this venue (seeded
        stale orders) become venue orders with ids of their own."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id in known:
                continue
            self._next_id += 1
            product = await _paper(self.paper.product(order.product_id))
            client_id = order.client_order_id
            if not CLIENT_ID.match(client_id):
                client_id = f"web_{self._next_id}"
            self._orders[self._next_id] = _Placed(
                self._next_id,
                client_id,
                order.client_order_id,
                product.base + product.quote,
                product.quote,
            )

    @staticmethod
    def _ok(body: Any) -> Reply:
        return Reply(200, body)

    # --- market data ----------------------------------------------------------------------

    async def _products(self) -> dict[str, Product]:
        return {p.base + p.quote: p for p in await self.paper.products()}

    async def _product(self, symbol: str | None) -> Product:
        return named(await self._products(), symbol, error("bad_symbol"))

    async def _exchange_info(self, request: Request) -> Reply:
        symbols = []
        for symbol, p in (await self._products()).items():
            entry = dict(EXCHANGE_INFO_SYMBOL)
            entry.update(
                symbol=symbol,
                status=_STATUS.get(p.status, "BREAK"),
                baseAsset=p.base,
                quoteAsset=p.quote,
                filters=[
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": plain(p.price_tick),
                        "maxPrice": "1000000.00000000",
                        "tickSize": plain(p.price_tick),
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": plain(p.min_base_size),
                        "maxQty": "90000000000.00000000",
                        "stepSize": plain(p.base_increment),
                    },
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": plain(p.min_notional),
                        "applyMinToMarket": True,
                        "maxNotional": "9000000.00000000",
                        "applyMaxToMarket": False,
                        "avgPriceMins": 5,
                    },
                ],
            )
            symbols.append(entry)
        return self._ok(
            {
                "timezone": "UTC",
                "serverTime": millis(self.clock.now()),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": symbols,
            }
        )

    async def _ticker(self, request: Request) -> Reply:
        symbol = request.params.get("symbol")
        product = await self._product(symbol)
        quote = await _paper(self.paper.quote(product.product_id))
        book = await _paper(self.paper.book(product.product_id, 1))
        mid = quote.mid
        now = millis(quote.at)
        body = dict(TICKER_24HR)
        body.update(
            symbol=symbol,
            weightedAvgPrice=plain(mid),
            prevClosePrice=plain(mid),
            lastPrice=plain(mid),
            lastQty="1.00000000",
            bidPrice=plain(quote.bid),
            bidQty=plain(book.bids[0].size if book.bids else Decimal(0)),
            askPrice=plain(quote.ask),
            askQty=plain(book.asks[0].size if book.asks else Decimal(0)),
            openPrice=plain(mid),
            highPrice=plain(quote.ask),
            lowPrice=plain(quote.bid),
            volume=plain(quote.quote_volume_24h / mid),
            quoteVolume=plain(quote.quote_volume_24h),
            openTime=now - 86_400_000,
            closeTime=now,
            count=1000,
        )
        return self._ok(body)

    async def _depth(self, request: Request) -> Reply:
        # Binance docs, Market data endpoints > Order book: lastUpdateId, bids, asks.
        product = await self._product(request.params.get("symbol"))
        limit = int(request.params.get("limit", "100"))
        book = await _paper(self.paper.book(product.product_id, limit))
        return self._ok(
            {
                "lastUpdateId": millis(book.at),
                "bids": [[plain(lv.price), plain(lv.size)] for lv in book.bids],
                "asks": [[plain(lv.price), plain(lv.size)] for lv in book.asks],
            }
        )

    # --- account and orders ---------------------------------------------------------------

    async def _account(self, request: Request) -> Reply:
        balances = await _paper(self.paper.balances())
        body = dict(ACCOUNT)
        body["updateTime"] = millis(self.clock.now())
        body["balances"] = [
            {"asset": b.asset, "free": plain(b.available), "locked": plain(b.hold)}
            for b in balances
        ]
        return self._ok(body)

    async def _dust(self, request: Request) -> Reply:
        """The paper account's conversion, answered in Binance's shape: ``asset`` repeated
        in the form body (``asset=SEI&asset=AMP``), the target the paper's ``dustTarget``."""
        assets = parse_qs(request.body or "").get("asset", [])
        before = {b.asset: b.available for b in await self.paper.balances()}
        try:
            done = await self.paper.convert_dust(assets)
        except OrderRejected as refused:
            return error("dust_once" if "6 hours" in str(refused) else "dust_low")
        products = await self._products()
        worth = {}
        for asset in done.assets:
            product = next(p for p in products.values() if p.base == asset)
            worth[asset] = before[asset] * (await self.paper.quote(product.product_id)).mid
        total = sum(worth.values(), Decimal(0))
        entry = DUST_TRANSFER["transferResult"][0]
        results = [
            {
                **entry,
                "amount": plain(before[asset]),
                "fromAsset": asset,
                "operateTime": millis(self.clock.now()),
                "serviceChargeAmount": plain(done.fee * worth[asset] / total),
                "tranId": entry["tranId"] + i,
                "transferedAmount": plain(done.received * worth[asset] / total),
            }
            for i, asset in enumerate(done.assets)
        ]
        return self._ok(
            {
                **DUST_TRANSFER,
                "totalServiceCharge": plain(done.fee),
                "totalTransfered": plain(done.received),
                "transferResult": results,
            }
        )

    async def _place(self, request: Request) -> Reply:
        p = request.params
        product = await self._product(p.get("symbol"))
        client_id = p.get("newClientOrderId") or f"web_{self._next_id}"
        if not CLIENT_ID.match(client_id):
            return error("illegal_client_id")
        for placed in self._orders.values():
            if placed.client_order_id == client_id:
                existing = await _paper(self.paper.find_order(placed.paper_client_id))
                if existing is not None and existing.status is OrderStatus.OPEN:
                    return error("duplicate")
        kind = p.get("type", "")
        tif = p.get("timeInForce", "GTC")
        if kind not in ("LIMIT", "LIMIT_MAKER", "MARKET"):
            return Reply(400, {"code": -1116, "msg": "Invalid orderType."})
        price = Decimal(p["price"]) if "price" in p else None
        if kind != "MARKET" and price is None:
            return Reply(400, {"code": -1102, "msg": "Mandatory parameter 'price' was not sent."})
        self._next_id += 1
        placed = _Placed(
            self._next_id, client_id, f"binance-{self._next_id}", p["symbol"], product.quote
        )
        paper_order = OrderRequest(
            client_order_id=placed.paper_client_id,
            product_id=product.product_id,
            side=Side(p["side"].upper()),
            base_size=Decimal(p["quantity"]),
            order_type=OrderType.MARKET if kind == "MARKET" else OrderType.LIMIT,
            limit_price=price,
            post_only=kind == "LIMIT_MAKER",
            immediate_or_cancel=kind == "MARKET" or tif in ("IOC", "FOK"),
        )
        try:
            order = await self.paper.place_order(paper_order)
        except OrderRejected as rejected:
            kind_of = _PAPER_REJECTS.get(rejected.detail.preview_failure_reason, "")
            if not kind_of:
                return Reply(400, {"code": -2010, "msg": rejected.detail.message})
            return error(kind_of)
        except ExchangeError:
            return self.unavailable()
        self._orders[placed.order_id] = placed
        body = self._order(placed, order, transact=True)
        return self._ok(body)

    async def _find(self, request: Request) -> tuple[_Placed, Order]:
        p = request.params
        placed: _Placed | None = None
        if "orderId" in p:
            placed = self._orders.get(int(p["orderId"]))
        elif "origClientOrderId" in p:
            same = [o for o in self._orders.values() if o.client_order_id == p["origClientOrderId"]]
            placed = same[-1] if same else None  # the latest order with that id
        if placed is None or placed.symbol != p.get("symbol"):
            if p.get("symbol") not in await self._products():
                raise Outage(error("bad_symbol"))
            raise Outage(error("no_order"))
        order = await _paper(self.paper.find_order(placed.paper_client_id))
        assert order is not None
        return placed, order

    async def _query(self, request: Request) -> Reply:
        placed, order = await self._find(request)
        return self._ok(self._order(placed, order))

    async def _cancel(self, request: Request) -> Reply:
        try:
            placed, order = await self._find(request)
        except Outage as outage:
            if outage.reply.body.get("code") == -2013:
                return error("unknown_cancel")
            raise
        if order.status is not OrderStatus.OPEN:
            return error("unknown_cancel")
        await _paper(self.paper.cancel_orders([order.order_id]))
        order = await _paper(self.paper.get_order(order.order_id))
        body = self._order(placed, order)
        body["origClientOrderId"] = placed.client_order_id
        body["clientOrderId"] = f"cancel_{placed.order_id}"
        body["transactTime"] = millis(self.clock.now())
        for key in ("time", "updateTime", "isWorking", "workingTime", "fills"):
            body.pop(key, None)
        return self._ok(body)

    async def _mine(self, symbol: str | None) -> list[tuple[_Placed, Order]]:
        found = []
        for placed in self._orders.values():
            if symbol is None or placed.symbol == symbol:
                order = await _paper(self.paper.find_order(placed.paper_client_id))
                assert order is not None
                found.append((placed, order))
        return found

    async def _open_orders(self, request: Request) -> Reply:
        symbol = request.params.get("symbol")
        if symbol is not None:
            await self._product(symbol)
        orders = [
            self._order(pl, o) for pl, o in await self._mine(symbol) if o.status.value == "open"
        ]
        return self._ok(orders)

    async def _all_orders(self, request: Request) -> Reply:
        # Binance docs, All orders: "limit: Default 500; max 1000"; without orderId or a time
        # range "most recent orders are returned", oldest first within the page.
        symbol = request.params.get("symbol")
        await self._product(symbol)
        limit = min(int(request.params.get("limit") or ALL_ORDERS_PAGE), 1000)
        mine = await self._mine(symbol)
        return self._ok([self._order(pl, o) for pl, o in mine[-limit:]])

    async def _my_trades(self, request: Request) -> Reply:
        symbol = request.params.get("symbol")
        product = await self._product(symbol)
        wanted = request.params.get("orderId")
        trades = []
        for placed, order in await self._mine(symbol):
            if wanted is not None and int(wanted) != placed.order_id:
                continue
            for i, fill in enumerate(await _paper(self.paper.fills(order.order_id))):
                trade = dict(MY_TRADE)
                trade.update(
                    symbol=symbol,
                    id=placed.order_id * 100 + i,
                    orderId=placed.order_id,
                    price=plain(fill.price),
                    qty=plain(fill.size),
                    quoteQty=plain(fill.price * fill.size),
                    commission=plain(fill.fee),
                    commissionAsset=product.quote,
                    time=millis(fill.at),
                    isBuyer=fill.side is Side.BUY,
                    isMaker=fill.liquidity == "maker",
                )
                trades.append(trade)
        return self._ok(trades)

    def _order(self, placed: _Placed, order: Order, *, transact: bool = False) -> dict[str, Any]:
        body = dict(ORDER)
        kind = "MARKET" if order.order_type is OrderType.MARKET else "LIMIT"
        if order.post_only:
            kind = "LIMIT_MAKER"
        created = millis(order.created_at)
        body.update(
            symbol=placed.symbol,
            orderId=placed.order_id,
            orderListId=-1,
            clientOrderId=placed.client_order_id,
            price=plain(order.limit_price or Decimal(0)),
            origQty=plain(order.base_size),
            executedQty=plain(order.filled_size),
            cummulativeQuoteQty=plain(order.filled_value),
            status=_order_status(order),
            timeInForce="GTC",
            type=kind,
            side=order.side.value,
            workingTime=created,
        )
        if transact:
            body["transactTime"] = created
            body["fills"] = [
                {
                    "price": plain(f.price),
                    "qty": plain(f.size),
                    "commission": plain(f.fee),
                    "commissionAsset": placed.quote,
                    "tradeId": placed.order_id * 100 + i,
                }
                for i, f in enumerate(order.fills)
            ]
        else:
            # Binance docs, Trading endpoints > Query order: time/updateTime/isWorking, no
            # transactTime and no fills.
            del body["transactTime"], body["fills"]
            body.update(
                stopPrice="0.00000000",
                icebergQty="0.00000000",
                time=created,
                updateTime=millis(self.clock.now()),
                isWorking=True,
                origQuoteOrderQty="0.00000000",
            )
        return body


def _order_status(order: Order) -> str:
    if order.status is OrderStatus.OPEN:
        return "PARTIALLY_FILLED" if order.filled_size > 0 else "NEW"
    if order.status is OrderStatus.FILLED:
        return "FILLED"
    if order.status is OrderStatus.CANCELLED:
        # an IOC/market remainder the book could not take expires on Binance
        immediate = order.order_type is OrderType.MARKET
        return "EXPIRED" if immediate else "CANCELED"
    return "EXPIRED" if order.status is OrderStatus.EXPIRED else "REJECTED"


async def _call(handler: Any, request: Request) -> Reply:
    try:
        result = handler(request)
        if hasattr(result, "__await__"):
            result = await result
        return result  # type: ignore[no-any-return]
    except Outage as outage:
        return outage.reply


# A paper call: NotFound is the venue's answer, the paper's other faults are its own business.
_paper = paper_guard(missing=error("no_order"))
