"""A fake Bitget v2 spot REST API (``api.bitget.com/api/v2``) over the paper engine.

Shapes: the example answers ccxt's bitget quotes in its own source
(``ccxt/async_support/bitget.py``, the comment after each request, named next to each payload
below) and Bitget's API documentation (https://www.bitget.com/api-doc/spot/..., the page
named next to each); ccxt's recorded fixture (repository ccxt/ccxt, ``ts/src/test/static/
response/bitget.json``, ``fetchCurrencies[0]``) gives the coin record.

Venue rules the fake enforces, as Bitget documents them:

- private calls carry ``ACCESS-KEY``, ``ACCESS-PASSPHRASE``, ``ACCESS-TIMESTAMP`` and
  ``ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + "?" +
  queryString + body)) (API doc, "Signature"); a bad key is ``40006``, a bad passphrase
  ``40012``, a bad signature ``40009`` (codes as ccxt's bitget maps them);
- Place Order (spot/trade/Place-Order): ``force`` is ``gtc``, ``post_only``, ``fok`` or
  ``ioc`` (any case; ccxt sends ``IOC`` and ``post_only``); a post-only order that would
  take is cancelled by the venue at once, nothing filled; an IOC's unfilled rest is
  cancelled, so a partly filled IOC ends ``cancelled`` with ``baseVolume`` above 0;
- Get Order Info (spot/trade/Get-Order-Info): "If you query the order details through
  clientOid, the following requirements need to be met: clientOid is customized by user ...;
  the order is in unfilled status" (https://bitget.cc/api-doc/spot/trade/Get-Order-Info):
  by ``clientOid`` the fake finds an order only while it is open with nothing filled, by
  ``orderId`` any order;
- Get Unfilled Orders (https://www.bitget.com/api-doc/spot/trade/Get-Unfilled-Orders) and
  Get History Orders (https://www.bitget.com/api-doc/spot/trade/Get-History-Orders):
  ``limit`` "default 100 max 100", ``idLessThan`` "Requests the content on the page before
  this ID (older data), the value input should be the orderId of the corresponding
  interface" (the Chinese page: the orderId of the last record of the previous query),
  newest first; History Orders "only supports to get the data within 90days"
  (https://bitget.cc/api-doc/spot/trade/Get-History-Orders) and lists filled and cancelled
  orders only; ``startTime`` earlier than 90 days is refused (``40704``, "Can only check the
  data of the last three months", as ccxt's bitget maps it);
- errors are HTTP 400 with ``{"code", "msg", "requestTime", "data": null}``; rate limited:
  HTTP 429, code ``429``; busy: HTTP 503, code ``40604`` ("Server is busy, please try again
  later"); a gateway failure after the venue took the request: HTTP 500 without a Bitget
  body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from cleanslate.clock import Clock
from cleanslate.core.market import Order, OrderStatus, OrderType, Product
from cleanslate.core.market import ProductStatus as Status
from cleanslate.exchange.errors import ExchangeError, OrderRejected
from cleanslate.exchange.paper import PaperExchange

from .base import (
    CancelsTakingPostOnly,
    Outage,
    Reply,
    Request,
    cancelled_at_once,
    decimals,
    millis,
    named,
    paper_guard,
    paper_request,
    plain,
    signature_matches,
)

PAGE = 100
"""Get Unfilled Orders and Get History Orders: "Limit number default 100 max 100"."""
HISTORY_DAYS = 90
"""Get History Orders: "It only supports to get the data within 90days"."""
FIRST_ORDER_ID = 1111461743123927040
"""An order id of the shape ccxt's fetch_order comment shows (ids grow with time)."""

# ccxt bitget.py fetch_default_markets, the "spot" comment (Spot > Market > Get Symbols).
SYMBOL: dict[str, Any] = {
    "symbol": "TRXUSDT",
    "baseCoin": "TRX",
    "quoteCoin": "USDT",
    "minTradeAmount": "0",
    "maxTradeAmount": "10000000000",
    "takerFeeRate": "0.002",
    "makerFeeRate": "0.002",
    "pricePrecision": "6",
    "quantityPrecision": "4",
    "quotePrecision": "6",
    "status": "online",
    "minTradeUSDT": "5",
    "buyLimitPriceRatio": "0.05",
    "sellLimitPriceRatio": "0.05",
}

# ccxt fixture response/bitget.json, methods.fetchCurrencies[0].httpResponse.data[0] (chains
# cut).
COIN: dict[str, Any] = {"coinId": "2", "coin": "USDT", "transfer": "true", "chains": []}

# ccxt bitget.py fetch_ticker, the "spot" comment (Spot > Market > Get Ticker Information).
TICKER: dict[str, Any] = {
    "open": "37202.46",
    "symbol": "BTCUSDT",
    "high24h": "37744.75",
    "low24h": "36666",
    "lastPr": "37583.69",
    "quoteVolume": "519127705.303",
    "baseVolume": "13907.0386",
    "usdtVolume": "519127705.302908",
    "ts": "1700532903261",
    "bidPr": "37583.68",
    "askPr": "37583.69",
    "bidSz": "0.0007",
    "askSz": "0.0829",
    "openUtc": "37449.4",
    "changeUtc24h": "0.00359",
    "change24h": "0.00321",
}

# ccxt bitget.py parse_balance, the "spot" comment (Spot > Account > Get Account Assets).
ASSET: dict[str, Any] = {
    "coin": "USDT",
    "available": "0.00000000",
    "limitAvailable": "0",
    "frozen": "0.00000000",
    "locked": "0.00000000",
    "uTime": "1699937566000",
}

# ccxt bitget.py fetch_order, the "spot" comment (Spot > Trade > Get Order Info); History
# Orders answers the same record (Get-History-Orders' example; ccxt's
# fetch_canceled_and_closed_orders comment).
ORDER: dict[str, Any] = {
    "userId": "7264631750",
    "symbol": "BTCUSDT",
    "orderId": "1111461743123927040",
    "clientOid": "63f95110-93b5-4309-8f77-46339f1bcf3c",
    "price": "25000.0000000000000000",
    "size": "0.0002000000000000",
    "orderType": "limit",
    "side": "buy",
    "status": "live",
    "priceAvg": "0",
    "baseVolume": "0.0000000000000000",
    "quoteVolume": "0.0000000000000000",
    "enterPointSource": "API",
    "feeDetail": "",
    "orderSource": "normal",
    "cTime": "1700719050198",
    "uTime": "1700719050198",
}

# ccxt bitget.py fetch_open_orders, the "spot" comment (Spot > Trade > Get Unfilled Orders):
# "priceAvg" is the order's price there and "basePrice" the filled price.
UNFILLED: dict[str, Any] = {
    "userId": "7264631750",
    "symbol": "BTCUSDT",
    "orderId": "1111499608327360513",
    "clientOid": "d0d4dad5-18d0-4869-a074-ec40bb47cba6",
    "priceAvg": "25000.0000000000000000",
    "size": "0.0002000000000000",
    "orderType": "limit",
    "side": "buy",
    "status": "live",
    "basePrice": "0",
    "baseVolume": "0.0000000000000000",
    "quoteVolume": "0.0000000000000000",
    "enterPointSource": "WEB",
    "orderSource": "normal",
    "cTime": "1700728077966",
    "uTime": "1700728077966",
}

# ccxt bitget.py fetch_my_trades, the "spot" comment (Spot > Trade > Get Fills).
FILL: dict[str, Any] = {
    "userId": "7264631751",
    "symbol": "BTCUSDT",
    "orderId": "1098394344925597696",
    "tradeId": "1098394344974925824",
    "orderType": "market",
    "side": "sell",
    "priceAvg": "28467.68",
    "size": "0.0002",
    "amount": "5.693536",
    "feeDetail": {
        "deduction": "no",
        "feeCoin": "USDT",
        "totalDeductionFee": "",
        "totalFee": "-0.005693536",
    },
    "tradeScope": "taker",
    "cTime": "1697603539699",
    "uTime": "1697603539754",
}

_PAPER_REJECTS = {  # paper engine's preview failure -> (Bitget code, message)
    "PREVIEW_INVALID_SIZE_PRECISION": (
        "40808",
        "Parameter verification exception size checkBDScale error",
    ),
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": ("40108", "Wrong order quantity"),
    "PREVIEW_INVALID_PRICE_PRECISION": ("41103", "param price scale error error"),
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": ("45110", "less than the minimum amount"),
    "PREVIEW_INSUFFICIENT_FUND": ("43012", "Insufficient balance"),
    "PREVIEW_TRADING_DISABLED": (
        "41114",
        "The current trading pair is under maintenance, please refer to the official "
        "announcement for the opening time",
    ),
    "PREVIEW_INVALID_PRODUCT_ID": ("40034", "Parameter symbol does not exist"),
}
FORCES = ("gtc", "post_only", "fok", "ioc")


def answer(data: Any, now: int = 0) -> Reply:
    return Reply(200, {"code": "00000", "msg": "success", "requestTime": now, "data": data})


def failure(code: str, msg: str, status: int = 400) -> Reply:
    return Reply(status, {"code": code, "msg": msg, "requestTime": 0, "data": None})


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(
    missing=failure("40109", "The data of the order cannot be found, please confirm the order"),
    down=failure("40604", "Server is busy, please try again later", 503),
)


@dataclass
class _Placed:
    order_id: int
    client_oid: str
    paper_client_id: str
    symbol: str
    force: str
    refused: Order | None = None
    """A post-only order that would have taken: Bitget cancels it at once (never in the
    paper)."""


class FakeBitget(CancelsTakingPostOnly):
    exchange_id = "bitget"
    _guard = staticmethod(_paper)
    order_paths = (
        "/api/v2/spot/trade/place-order",
        "/api/v2/spot/trade/batch-orders",
        "/api/v2/spot/trade/cancel-order",
        "/api/v2/spot/trade/batch-cancel-order",
        "/api/v2/spot/trade/cancel-symbol-order",
        "/api/v2/spot/trade/cancel-replace-order",
        "/api/v2/spot/trade/place-plan-order",
    )

    def __init__(
        self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str, passphrase: str
    ) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret, self.passphrase = api_key, secret, passphrase
        self._orders: dict[int, _Placed] = {}
        self._next_id = FIRST_ORDER_ID

    def placed_client_ids(self) -> list[str]:
        return [o.client_oid for o in self._orders.values() if o.refused is None]

    def rate_limited(self) -> Reply:
        return failure("429", "Too Many Requests", 429)

    def unavailable(self) -> Reply:
        return failure("40604", "Server is busy, please try again later", 503)

    def server_error(self) -> Reply:
        return Reply(500, "<html><body><h1>500 Internal Server Error</h1></body></html>")

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        host = urlsplit(request.url).hostname or ""
        if host != "api.bitget.com":
            return failure("404", f"fake bitget: no {request.url}", 404)
        public = {
            ("GET", "/api/v2/public/time"): self._time,
            ("GET", "/api/v2/spot/public/coins"): self._coins,
            ("GET", "/api/v2/spot/public/symbols"): self._symbols,
            ("GET", "/api/v2/margin/currencies"): self._margin_currencies,
            ("GET", "/api/v2/spot/market/tickers"): self._tickers,
            ("GET", "/api/v2/spot/market/orderbook"): self._orderbook,
        }
        private = {
            ("GET", "/api/v2/spot/account/assets"): self._assets,
            ("POST", "/api/v2/spot/trade/place-order"): self._place,
            ("POST", "/api/v2/spot/trade/cancel-order"): self._cancel,
            ("GET", "/api/v2/spot/trade/orderInfo"): self._order_info,
            ("GET", "/api/v2/spot/trade/unfilled-orders"): self._unfilled,
            ("GET", "/api/v2/spot/trade/history-orders"): self._history,
            ("GET", "/api/v2/spot/trade/fills"): self._fills,
        }
        unknown = failure("404", f"fake bitget: no {request.method} {request.path}", 404)
        return await self.route(request, public, private, unknown)

    def _check_signature(self, request: Request) -> None:
        """API doc, "Signature": base64(HMAC-SHA256(secret, timestamp + method + requestPath
        + ("?" + queryString) + body)), the query string as sent, not percent-decoded twice."""
        h = {k.upper(): v for k, v in request.headers.items()}
        if h.get("ACCESS-KEY") != self.api_key:
            raise Outage(failure("40006", "Invalid ACCESS_KEY", 401))
        if h.get("ACCESS-PASSPHRASE") != self.passphrase:
            raise Outage(failure("40012", "apikey/password is incorrect", 401))
        query = urlsplit(request.url).query
        prehash = (
            h.get("ACCESS-TIMESTAMP", "")
            + request.method.upper()
            + request.path
            + (f"?{unquote(query)}" if query else "")
            + (request.body or "")
        )
        if not signature_matches(h.get("ACCESS-SIGN", ""), self.secret, prehash, b64=True):
            raise Outage(failure("40009", "sign signature error", 401))

    async def _adopt(self) -> None:
        """Orders the paper account holds that were not placed through this venue (seeded
        stale orders) become venue orders, as if placed on Bitget's web site (no clientOid
        of ours)."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id in known:
                continue
            product = await _paper(self.paper.product(order.product_id))
            force = "post_only" if order.post_only else "gtc"
            order_id = self._new_id()
            self._orders[order_id] = _Placed(
                order_id, str(order_id), order.client_order_id, _symbol(product), force
            )

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _now(self) -> int:
        return millis(self.clock.now())

    # --- market data ----------------------------------------------------------------------

    async def _products(self) -> dict[str, Product]:
        return {_symbol(p): p for p in await _paper(self.paper.products())}

    async def _product(self, symbol: str | None) -> Product:
        missing = failure("40034", "Parameter symbol does not exist")
        return named(await self._products(), symbol, missing)

    async def _time(self, request: Request) -> Reply:
        # ccxt bitget.py fetch_time comment: data.serverTime (Public > Get Server Time).
        return answer({"serverTime": str(self._now())}, self._now())

    async def _coins(self, request: Request) -> Reply:
        names: set[str] = set()
        for p in (await self._products()).values():
            names |= {p.base, p.quote}
        return answer([dict(COIN, coin=n, coinId=str(i)) for i, n in enumerate(sorted(names))])

    async def _symbols(self, request: Request) -> Reply:
        rows = []
        for name, p in (await self._products()).items():
            if p.status is Status.DELISTED:
                continue
            entry = dict(SYMBOL)
            entry.update(
                symbol=name,
                baseCoin=p.base,
                quoteCoin=p.quote,
                minTradeAmount=plain(p.min_base_size, decimals(p.base_increment)),
                pricePrecision=str(decimals(p.price_tick)),
                quantityPrecision=str(decimals(p.base_increment)),
                quotePrecision=str(decimals(p.price_tick)),
                # Get Symbols, status: "offline", "gray", "online", "halt"
                status="online" if p.status is Status.TRADEABLE else "halt",
                # "minTradeUSDT": the minimum order value, which ccxt's bitget reads for
                # USDT markets only
                minTradeUSDT=plain(p.min_notional, 2),
            )
            rows.append(entry)
        return answer(rows, self._now())

    async def _margin_currencies(self, request: Request) -> Reply:
        # Margin > Common > Get Support Currencies: the paper account trades no margin pair.
        return answer([], self._now())

    async def _tickers(self, request: Request) -> Reply:
        symbol = request.params.get("symbol")
        product = await self._product(symbol)
        quote = await _paper(self.paper.quote(product.product_id))
        mid = quote.mid
        entry = dict(TICKER)
        entry.update(
            symbol=symbol,
            open=plain(mid),
            lastPr=plain(mid),
            bidPr=plain(quote.bid),
            askPr=plain(quote.ask),
            high24h=plain(quote.ask),
            low24h=plain(quote.bid),
            baseVolume=plain(quote.quote_volume_24h / mid),
            quoteVolume=plain(quote.quote_volume_24h),
            usdtVolume=plain(quote.quote_volume_24h),
            ts=str(self._now()),
            change24h="0",
            changeUtc24h="0",
            openUtc=plain(mid),
        )
        return answer([entry], self._now())

    async def _orderbook(self, request: Request) -> Reply:
        # ccxt bitget.py fetch_order_book comment: data.asks, data.bids, data.ts (Spot >
        # Market > Get OrderBook Depth, limit default 150).
        product = await self._product(request.params.get("symbol"))
        limit = int(request.params.get("limit", "150"))
        book = await _paper(self.paper.book(product.product_id, limit))
        return answer(
            {
                "asks": [[plain(lv.price), plain(lv.size)] for lv in book.asks],
                "bids": [[plain(lv.price), plain(lv.size)] for lv in book.bids],
                "ts": str(millis(book.at)),
            },
            self._now(),
        )

    # --- account and orders ---------------------------------------------------------------

    async def _assets(self, request: Request) -> Reply:
        rows = []
        for b in await _paper(self.paper.balances()):
            entry = dict(ASSET)
            entry.update(
                coin=b.asset,
                available=plain(b.available),
                frozen=plain(b.hold),
                locked=plain(Decimal(0)),
                uTime=str(self._now()),
            )
            rows.append(entry)
        return answer(rows, self._now())

    async def _place(self, request: Request) -> Reply:
        # Spot > Trade > Place Order; the answer is data {orderId, clientOid}.
        p = json.loads(request.body or "{}")
        product = await self._product(p.get("symbol"))
        kind = p.get("orderType")
        force = str(p.get("force") or "gtc").lower()
        if kind not in ("limit", "market") or force not in FORCES:
            return failure("40017", "Parameter verification failed")
        if kind == "limit" and not p.get("price"):
            return failure("40017", "Parameter verification failed: price")
        client_oid = str(p.get("clientOid") or "")
        order_id = self._new_id()
        placed = _Placed(order_id, client_oid or str(order_id), f"bitget-{order_id}",
                         str(p["symbol"]), force)  # fmt: skip
        paper_order = paper_request(
            placed.paper_client_id,
            product.product_id,
            p["side"],
            p["size"],
            p["price"] if kind == "limit" else None,
            post_only=force == "post_only",
            ioc=force in ("ioc", "fok"),
        )
        try:
            await self.paper.place_order(paper_order)
        except OrderRejected as rejected:
            reason = rejected.detail.preview_failure_reason
            if reason != "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY":
                code, msg = _PAPER_REJECTS.get(reason, ("40017", rejected.detail.message))
                return failure(code, msg)
            placed.refused = cancelled_at_once(paper_order, self.clock.now())
        except ExchangeError:
            return self.unavailable()
        self._orders[order_id] = placed
        return answer({"orderId": str(order_id), "clientOid": placed.client_oid}, self._now())

    def _by_order_id(self, order_id: str | None) -> _Placed | None:
        return self._orders.get(int(order_id)) if order_id and order_id.isdigit() else None

    async def _cancel(self, request: Request) -> Reply:
        # Spot > Trade > Cancel Order: symbol and orderId (or clientOid); a finished order
        # cannot be cancelled ("43001", which ccxt's bitget reads as OrderNotFound).
        p = json.loads(request.body or "{}")
        placed = self._by_order_id(p.get("orderId"))
        if placed is None and p.get("clientOid"):
            placed = next((o for o in self._orders.values() if o.client_oid == p["clientOid"]),
                          None)  # fmt: skip
        if placed is None or placed.symbol != p.get("symbol"):
            return failure("43001", "The order does not exist")
        order = await self._order_of(placed)
        if order.status is not OrderStatus.OPEN:
            return failure("43001", "The order does not exist")
        await _paper(self.paper.cancel_orders([order.order_id]))
        return answer({"orderId": str(placed.order_id), "clientOid": placed.client_oid})

    async def _order_info(self, request: Request) -> Reply:
        p = request.params
        placed = self._by_order_id(p.get("orderId"))
        if placed is None and p.get("clientOid") and not p.get("orderId"):
            for candidate in reversed(self._orders.values()):
                if candidate.client_oid != p["clientOid"]:
                    continue
                order = await self._order_of(candidate)
                # "the order is in unfilled status" (Get Order Info by clientOid)
                if order.status is OrderStatus.OPEN and order.filled_size == 0:
                    placed = candidate
                break
        if placed is None or not self._within_history(await self._order_of(placed)):
            return failure(
                "40109",
                "The data of the order cannot be found, please confirm the order number",
            )
        return answer([await self._record(placed)], self._now())

    def _within_history(self, order: Order) -> bool:
        return order.created_at >= self.clock.now() - timedelta(days=HISTORY_DAYS)

    async def _page(self, p: dict[str, str], want_open: bool) -> list[_Placed]:
        """Newest first, at most ``limit`` (100), below ``idLessThan``, of ``symbol`` and
        created at or after ``startTime`` (History Orders: within 90 days)."""
        limit = min(int(p.get("limit") or PAGE), PAGE)
        below = int(p["idLessThan"]) if p.get("idLessThan", "").isdigit() else None
        since = int(p["startTime"]) if p.get("startTime", "").isdigit() else None
        rows = []
        for placed in sorted(self._orders.values(), key=lambda o: o.order_id, reverse=True):
            if below is not None and placed.order_id >= below:
                continue
            if "symbol" in p and placed.symbol != p["symbol"]:
                continue
            order = await self._order_of(placed)
            if (order.status is OrderStatus.OPEN) != want_open:
                continue
            if since is not None and millis(order.created_at) < since:
                continue
            if not want_open and not self._within_history(order):
                continue
            rows.append(placed)
            if len(rows) == limit:
                break
        return rows

    async def _unfilled(self, request: Request) -> Reply:
        p = request.params
        if "symbol" in p:
            await self._product(p["symbol"])
        return answer([await self._unfilled_record(o) for o in await self._page(p, True)],
                      self._now())  # fmt: skip

    async def _history(self, request: Request) -> Reply:
        p = request.params
        if "symbol" in p:
            await self._product(p["symbol"])
        oldest = millis(self.clock.now() - timedelta(days=HISTORY_DAYS))
        if p.get("startTime", "").isdigit() and int(p["startTime"]) < oldest:
            return failure("40704", "Can only check the data of the last three months")
        return answer([await self._record(o) for o in await self._page(p, False)], self._now())

    async def _fills(self, request: Request) -> Reply:
        # Spot > Trade > Get Fills: symbol (required), orderId, limit (default 100), newest
        # first.
        p = request.params
        product = await self._product(p.get("symbol"))
        limit = min(int(p.get("limit") or PAGE), PAGE)
        rows = []
        for placed in sorted(self._orders.values(), key=lambda o: o.order_id, reverse=True):
            if placed.symbol != p["symbol"]:
                continue
            if p.get("orderId") and str(placed.order_id) != p["orderId"]:
                continue
            order = await self._order_of(placed)
            for i, fill in reversed(list(enumerate(order.fills))):
                entry = dict(FILL)
                entry.update(
                    symbol=placed.symbol,
                    orderId=str(placed.order_id),
                    tradeId=str(placed.order_id * 100 + i),
                    orderType="market" if order.order_type is OrderType.MARKET else "limit",
                    side=fill.side.value.lower(),
                    priceAvg=plain(fill.price),
                    size=plain(fill.size),
                    amount=plain(fill.price * fill.size),
                    feeDetail={
                        "deduction": "no",
                        "feeCoin": product.quote,
                        "totalDeductionFee": "",
                        "totalFee": plain(-fill.fee),
                    },
                    tradeScope="maker" if fill.liquidity == "maker" else "taker",
                    cTime=str(millis(fill.at)),
                    uTime=str(millis(fill.at)),
                )
                rows.append(entry)
        return answer(rows[:limit], self._now())

    async def _record(self, placed: _Placed) -> dict[str, Any]:
        """Get Order Info and Get History Orders: ``price`` the order's, ``priceAvg`` the
        filled average, ``baseVolume`` the filled size, ``feeDetail`` a JSON text (History
        Orders' example: one entry per fee coin with ``feeCoinCode`` and a negative
        ``totalFee``), empty while nothing filled."""
        order = await self._order_of(placed)
        product = await self._product(placed.symbol)
        record = dict(ORDER)
        record.update(self._common(placed, order))
        record.update(
            price=plain(order.limit_price or Decimal(0)),
            priceAvg=plain(order.average_filled_price or Decimal(0)),
            feeDetail=_fee_detail(order, product.quote),
        )
        return record

    async def _unfilled_record(self, placed: _Placed) -> dict[str, Any]:
        order = await self._order_of(placed)
        record = dict(UNFILLED)
        record.update(self._common(placed, order))
        record.update(
            priceAvg=plain(order.limit_price or Decimal(0)),
            basePrice=plain(order.average_filled_price or Decimal(0)),
        )
        return record

    def _common(self, placed: _Placed, order: Order) -> dict[str, Any]:
        created = millis(order.created_at)
        updated = self._now() if order.status is not OrderStatus.OPEN else created
        return {
            "symbol": placed.symbol,
            "orderId": str(placed.order_id),
            "clientOid": placed.client_oid,
            "size": plain(order.base_size),
            "orderType": "market" if order.order_type is OrderType.MARKET else "limit",
            "side": order.side.value.lower(),
            "status": _status(order),
            "baseVolume": plain(order.filled_size),
            "quoteVolume": plain(order.filled_value),
            "cTime": str(created),
            "uTime": str(updated),
        }


def _symbol(product: Product) -> str:
    return f"{product.base}{product.quote}"


def _status(order: Order) -> str:
    # Get Order Info, status: live, partially_filled, filled, cancelled
    if order.status is OrderStatus.OPEN:
        return "partially_filled" if order.filled_size else "live"
    if order.status is OrderStatus.FILLED:
        return "filled"
    return "cancelled"


def _fee_detail(order: Order, quote: str) -> str:
    if not order.filled_size:
        return ""
    fee = float(-order.fees)
    new_fees = {"c": 0, "d": 0, "deduction": False, "r": fee, "t": fee, "totalDeductionFee": 0}
    coin = {
        "deduction": False,
        "feeCoinCode": quote,
        "totalDeductionFee": 0,
        "totalFee": plain(-order.fees),
    }
    return json.dumps({"newFees": new_fees, quote: coin})
