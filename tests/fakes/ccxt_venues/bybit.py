"""A fake Bybit v5 REST API (``api.bybit.com/v5``) for a Unified Trading Account, over the
paper engine.

Shapes: Bybit's v5 API reference (https://bybit-exchange.github.io/docs/v5/..., the page named
where each payload is built), as ccxt's own bybit.py copies them in its comments at the
pinned ccxt 4.5.64 (``fetch_spot_markets``: the instruments answer; ``parse_order``: the v5
order record, whose contract-only fields a spot order does not carry; ``parse_trade``).

Venue rules the fake enforces, as Bybit documents them:

- every answer is ``{"retCode": 0, "retMsg": "OK", "result": {...}, "retExtInfo": {},
  "time": ms}``; an error is a non-zero ``retCode`` (ccxt's bybit ``exceptions`` table);
- private calls carry ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` and
  ``X-BAPI-SIGN`` = hex(HMAC-SHA256(secret, timestamp + api key + recv window + (the query
  string of a GET | the JSON body of a POST))) (Integration Guidance > Authentication);
- ``orderLinkId``: "A max of 36 characters. Combinations of numbers, letters (upper and
  lower cases), dashes, and underscores are supported" (Trade > Place Order); a duplicate
  among open orders is ``170141 Duplicate clientOrderId`` (the spot code in ccxt's table).
  Reusing a finished order's id places a new one here, the stricter reading for the adapter
  (it looks an id up before it places it);
- Get Open & Closed Orders (``/v5/order/realtime``) lists open orders only (``openOnly`` 0,
  the default), newest first, 20 a page (``limit`` up to 50, ``nextPageCursor``); asked for
  one ``orderId`` or ``orderLinkId`` it answers that order whatever its status while it is
  among the account's 500 most recent ("UTA2.0 can query filled, cancelled, and rejected
  orders to the most recent 500 orders");
- Get Order History (``/v5/order/history``) lists finished orders newest first, 20 a page
  (``limit`` up to 50), within ``startTime``..``endTime`` (at most 7 days; ``endTime``
  defaults to ``startTime`` + 7 days), filtered by ``orderLinkId`` or ``orderStatus``;
- a ``PostOnly`` order that would take is cancelled at once with ``rejectReason``
  ``EC_PostOnlyWillTakeLiquidity``; an IOC that filled in part ends
  ``PartiallyFilledCanceled`` ("Only spot has this order status");
- rate limited: ``10006 Too many visits!``; outage: HTTP 503 with ``10016``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

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
    paper_guard,
    paper_request,
    plain,
    signature_matches,
)

# Bybit docs, Market > Get Instruments Info (category=spot), as ccxt's
# bybit.fetch_spot_markets comment copies it: one entry of "result.list".
INSTRUMENT: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "baseCoin": "BTC",
    "quoteCoin": "USDT",
    "innovation": "0",
    "status": "Trading",
    "marginTrading": "both",
    "lotSizeFilter": {
        "basePrecision": "0.000001",
        "quotePrecision": "0.00000001",
        "minOrderQty": "0.00004",
        "maxOrderQty": "63.01197227",
        "minOrderAmt": "1",
        "maxOrderAmt": "100000",
    },
    "priceFilter": {"tickSize": "0.01"},
}

# Bybit docs, Asset > Get Coin Info: one entry of "result.rows".
COIN: dict[str, Any] = {
    "name": "BTC",
    "coin": "BTC",
    "remainAmount": "150",
    "chains": [
        {
            "chainType": "BTC",
            "confirmation": "1",
            "withdrawFee": "0.0005",
            "depositMin": "0.0005",
            "withdrawMin": "0.001",
            "chain": "BTC",
            "chainDeposit": "1",
            "chainWithdraw": "1",
            "minAccuracy": "8",
            "withdrawPercentageFee": "0",
        }
    ],
}

# Bybit docs, Account > Get Wallet Balance (accountType=UNIFIED): one entry of "coin"
# (UTA 2.0: "free" is for classic spot accounts only, "locked" is held by spot orders).
WALLET_COIN: dict[str, Any] = {
    "coin": "BTC",
    "equity": "0",
    "usdValue": "0",
    "walletBalance": "0",
    "locked": "0",
    "borrowAmount": "0",
    "accruedInterest": "0",
    "totalOrderIM": "0",
    "totalPositionIM": "0",
    "totalPositionMM": "0",
    "unrealisedPnl": "0",
    "cumRealisedPnl": "0",
    "bonus": "0",
    "marginCollateral": True,
    "collateralSwitch": True,
    "spotHedgingQty": "0",
}

# Bybit docs, Market > Get Tickers (category=spot): one entry of "result.list".
TICKER: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "bid1Price": "20517.96",
    "bid1Size": "2",
    "ask1Price": "20527.77",
    "ask1Size": "1.862172",
    "lastPrice": "20533.13",
    "prevPrice24h": "20393.48",
    "price24hPcnt": "0.0068",
    "highPrice24h": "21128.12",
    "lowPrice24h": "20318.89",
    "turnover24h": "243765620.65899866",
    "volume24h": "11801.27771",
    "usdIndexPrice": "20784.12009279",
}

# Bybit docs, Trade > Get Open & Closed Orders: one entry of "result.list", the v5 record of
# ccxt's bybit.parse_order comment without the fields of contract orders (tpslMode,
# positionIdx: ccxt reads a record carrying tpslMode as a contract order's).
ORDER: dict[str, Any] = {
    "orderId": "fd4300ae-7847-404e-b947-b46980a4d140",
    "orderLinkId": "test-000005",
    "blockTradeId": "",
    "symbol": "ETHUSDT",
    "price": "1600.00",
    "qty": "0.10",
    "side": "Buy",
    "isLeverage": "0",
    "orderStatus": "New",
    "cancelType": "UNKNOWN",
    "rejectReason": "EC_NoError",
    "avgPrice": "0",
    "leavesQty": "0.10",
    "leavesValue": "160",
    "cumExecQty": "0.00",
    "cumExecValue": "0",
    "cumExecFee": "0",
    "cumFeeDetail": {},
    "timeInForce": "GTC",
    "orderType": "Limit",
    "stopOrderType": "",
    "orderIv": "",
    "triggerPrice": "0.00",
    "takeProfit": "0.00",
    "stopLoss": "0.00",
    "triggerDirection": 0,
    "triggerBy": "",
    "reduceOnly": False,
    "closeOnTrigger": False,
    "smpType": "None",
    "smpGroup": 0,
    "smpOrderId": "",
    "placeType": "",
    "createdTime": "1684738540559",
    "updatedTime": "1684738540561",
}

# Bybit docs, Trade > Get Trade History (/v5/execution/list): one entry of "result.list".
EXECUTION: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "orderType": "Limit",
    "underlyingPrice": "",
    "orderLinkId": "",
    "side": "Sell",
    "indexPrice": "",
    "orderId": "4c3fc4d0-ec5b-4ab6-82b6-1b5d6d1c0b6f",
    "stopOrderType": "UNKNOWN",
    "leavesQty": "0",
    "execTime": "1672221263862",
    "feeCurrency": "USDT",
    "isMaker": False,
    "execFee": "0.07995",
    "feeRate": "0.0006",
    "execId": "7e2ae69c-4edf-5800-a352-893d52b446aa",
    "tradeIv": "",
    "blockTradeId": "",
    "markPrice": "",
    "execPrice": "1332.5",
    "markIv": "",
    "orderQty": "0.1",
    "orderPrice": "1332.5",
    "execValue": "133.25",
    "execType": "Trade",
    "execQty": "0.1",
    "closedSize": "",
    "seq": 4688002127,
}

_PAPER_REJECTS = {  # paper engine's preview failure -> Bybit spot retCode, retMsg
    "PREVIEW_INVALID_SIZE_PRECISION": (170137, "Order quantity has too many decimals."),
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": (170136, "Order quantity lower than the minimum."),
    "PREVIEW_INVALID_PRICE_PRECISION": (170134, "Order price has too many decimals."),
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": (170140, "Order value exceeded lower limit."),
    "PREVIEW_INSUFFICIENT_FUND": (170131, "Insufficient balance."),
    "PREVIEW_TRADING_DISABLED": (170121, "Invalid symbol."),
    "PREVIEW_INVALID_PRODUCT_ID": (170121, "Invalid symbol."),
}
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
PAGE = 20
"""Orders per listing answer without ``limit`` (docs: "[1, 50]. Default: 20")."""
MAX_PAGE = 50
RECENT = 500
"""Finished orders Get Open & Closed Orders still answers by id (the account's most recent)."""
WEEK = timedelta(days=7)
TOOK_LIQUIDITY = "EC_PostOnlyWillTakeLiquidity"


def answer(result: Any, code: int = 0, msg: str = "OK", status: int = 200) -> Reply:
    return Reply(
        status, {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": 0}
    )


def failure(code: int, msg: str, status: int = 200) -> Reply:
    return answer({}, code, msg, status)


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(
    missing=failure(170213, "Order does not exist."),
    down=failure(10016, "Service unavailable, please try again later.", 503),
)


@dataclass
class _Placed:
    order_id: str
    link_id: str
    paper_client_id: str
    symbol: str
    product_id: str
    time_in_force: str
    refused: Order | None = None
    """A post-only order that would have taken: Bybit cancels it at once (never in the paper)."""


class FakeBybit(CancelsTakingPostOnly):
    exchange_id = "bybit"
    _guard = staticmethod(_paper)
    order_paths = (
        "/v5/order/create",
        "/v5/order/cancel",
        "/v5/order/amend",
        "/v5/order/cancel-all",
        "/v5/order/create-batch",
        "/v5/order/cancel-batch",
    )

    def __init__(self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret = api_key, secret
        self._orders: dict[str, _Placed] = {}
        self._count = 0

    def placed_client_ids(self) -> list[str]:
        return [o.link_id for o in self._orders.values() if o.refused is None]

    def rate_limited(self) -> Reply:
        return failure(10006, "Too many visits!")

    def unavailable(self) -> Reply:
        return failure(10016, "Service unavailable, please try again later.", 503)

    def server_error(self) -> Reply:
        return failure(10016, "Internal server error.", 500)

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        public = {
            ("GET", "/v5/market/instruments-info"): self._instruments,
            ("GET", "/v5/market/tickers"): self._tickers,
            ("GET", "/v5/market/orderbook"): self._orderbook,
            ("GET", "/v5/market/time"): self._time,
        }
        private = {
            ("GET", "/v5/asset/coin/query-info"): self._coins,
            ("GET", "/v5/account/wallet-balance"): self._wallet,
            ("GET", "/v5/account/fee-rate"): self._fee_rate,
            ("POST", "/v5/order/create"): self._create,
            ("POST", "/v5/order/cancel"): self._cancel,
            ("GET", "/v5/order/realtime"): self._realtime,
            ("GET", "/v5/order/history"): self._history,
            ("GET", "/v5/execution/list"): self._executions,
        }
        unknown = Reply(404, {"retCode": 10001, "retMsg": "route not found"})
        return await self.route(request, public, private, unknown)

    def _check_signature(self, request: Request) -> None:
        """Integration Guidance > Authentication: hex(HMAC-SHA256(secret, timestamp + key +
        recv window + queryString | jsonBodyString))."""
        h = {k.upper(): v for k, v in request.headers.items()}
        if h.get("X-BAPI-API-KEY") != self.api_key:
            raise Outage(failure(10003, "API key is invalid."))
        query = request.url.split("?", 1)[1] if "?" in request.url else ""
        signed = (request.body or "") if request.method == "POST" else query
        prehash = h.get("X-BAPI-TIMESTAMP", "") + self.api_key + h.get("X-BAPI-RECV-WINDOW", "")
        if not signature_matches(h.get("X-BAPI-SIGN", ""), self.secret, prehash + signed):
            raise Outage(failure(10004, "Error sign, please check your signature generation."))

    async def _adopt(self) -> None:
        """Seeded paper orders not placed through this venue become venue orders."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id not in known:
                product = await self._product(order.product_id.replace("-", ""))
                tif = "PostOnly" if order.post_only else "GTC"
                order_id = self._next_id()
                self._orders[order_id] = _Placed(
                    order_id, "", order.client_order_id, _symbol(product), product.product_id, tif
                )

    def _next_id(self) -> str:
        self._count += 1
        return f"1{self._count:018d}"

    # --- market data ----------------------------------------------------------------------

    async def _product(self, symbol: str | None) -> Product:
        for product in await _paper(self.paper.products()):
            if _symbol(product) == symbol:
                return product
        raise Outage(failure(170121, "Invalid symbol."))

    async def _instruments(self, request: Request) -> Reply:
        if request.params.get("category") != "spot":
            return answer({"category": request.params.get("category"), "list": []})
        listed = []
        for p in await _paper(self.paper.products()):
            if p.status is Status.DELISTED:
                continue
            entry = dict(INSTRUMENT)
            entry.update(
                symbol=_symbol(p),
                baseCoin=p.base,
                quoteCoin=p.quote,
                status="Trading" if p.status is Status.TRADEABLE else "PreLaunch",
                lotSizeFilter={
                    **INSTRUMENT["lotSizeFilter"],
                    "basePrecision": plain(p.base_increment, decimals(p.base_increment)),
                    "minOrderQty": plain(p.min_base_size, decimals(p.base_increment)),
                    "minOrderAmt": plain(p.min_notional, 2),
                },
                priceFilter={"tickSize": plain(p.price_tick, decimals(p.price_tick))},
            )
            listed.append(entry)
        return answer({"category": "spot", "list": listed, "nextPageCursor": ""})

    async def _coins(self, request: Request) -> Reply:
        names: set[str] = set()
        for p in await _paper(self.paper.products()):
            names |= {p.base, p.quote}
        rows = [{**COIN, "name": n, "coin": n,
                 "chains": [{**COIN["chains"][0], "chainType": n, "chain": n}]}
                for n in sorted(names)]  # fmt: skip
        return answer({"rows": rows})

    async def _time(self, request: Request) -> Reply:
        ms = millis(self.clock.now())
        return answer({"timeSecond": str(ms // 1000), "timeNano": str(ms * 1_000_000)})

    async def _tickers(self, request: Request) -> Reply:
        product = await self._product(request.params.get("symbol"))
        quote = await _paper(self.paper.quote(product.product_id))
        book = await _paper(self.paper.book(product.product_id, 1))
        entry = dict(TICKER)
        entry.update(
            symbol=_symbol(product),
            bid1Price=plain(quote.bid),
            bid1Size=plain(book.bids[0].size if book.bids else Decimal(0)),
            ask1Price=plain(quote.ask),
            ask1Size=plain(book.asks[0].size if book.asks else Decimal(0)),
            lastPrice=plain(quote.mid),
            prevPrice24h=plain(quote.mid),
            price24hPcnt="0",
            highPrice24h=plain(quote.ask),
            lowPrice24h=plain(quote.bid),
            turnover24h=plain(quote.quote_volume_24h),
            volume24h=plain(quote.quote_volume_24h / quote.mid),
        )
        return answer({"category": "spot", "list": [entry]})

    async def _orderbook(self, request: Request) -> Reply:
        # Bybit docs, Market > Get Orderbook: {"s", "b": [[price, size]], "a", "ts", "u"}.
        product = await self._product(request.params.get("symbol"))
        depth = min(int(request.params.get("limit", "1")), 200)
        book = await _paper(self.paper.book(product.product_id, depth))
        return answer(
            {
                "s": _symbol(product),
                "b": [[plain(lv.price), plain(lv.size)] for lv in book.bids],
                "a": [[plain(lv.price), plain(lv.size)] for lv in book.asks],
                "ts": millis(book.at),
                "u": 1,
                "seq": 1,
                "cts": millis(book.at),
            }
        )

    # --- account and orders ---------------------------------------------------------------

    async def _wallet(self, request: Request) -> Reply:
        if request.params.get("accountType") != "UNIFIED":
            return failure(10001, "accountType only support UNIFIED.")
        coins = []
        for b in await _paper(self.paper.balances()):
            entry = dict(WALLET_COIN)
            entry.update(
                coin=b.asset,
                equity=plain(b.total),
                walletBalance=plain(b.total),
                locked=plain(b.hold),
            )
            coins.append(entry)
        account = {"accountType": "UNIFIED", "totalEquity": "0", "coin": coins}
        return answer({"list": [account]})

    async def _fee_rate(self, request: Request) -> Reply:
        # Account > Get Fee Rate: symbol, takerFeeRate, makerFeeRate (spot: 0.1% both).
        rows = [{"symbol": _symbol(p), "baseCoin": p.base, "takerFeeRate": "0.001",
                 "makerFeeRate": "0.001"} for p in await _paper(self.paper.products())]  # fmt: skip
        return answer({"list": rows})

    async def _create(self, request: Request) -> Reply:
        # Trade > Place Order; answer {"orderId", "orderLinkId"}.
        p = json.loads(request.body or "{}")
        if p.get("category") != "spot":
            return failure(10001, "params error: category")
        product = await self._product(p.get("symbol"))
        link_id = str(p.get("orderLinkId") or "")
        if link_id and not CLIENT_ID.match(link_id):
            return failure(10001, "params error: orderLinkId")
        for placed in self._orders.values():
            if link_id and placed.link_id == link_id and await self._is_open(placed):
                return failure(170141, "Duplicate clientOrderId.")
        kind = p.get("orderType")
        if kind not in ("Limit", "Market"):
            return failure(10001, "params error: orderType")
        tif = p.get("timeInForce") or ("GTC" if kind == "Limit" else "IOC")
        if tif not in ("GTC", "IOC", "FOK", "PostOnly"):
            return failure(10001, "params error: timeInForce")
        if kind == "Limit" and not p.get("price"):
            return failure(10001, "params error: price")
        if kind == "Market" and p.get("marketUnit", "baseCoin") != "baseCoin":
            return failure(10001, "the fake takes market orders sized in the base coin")
        order_id = self._next_id()
        link_id = link_id or f"fake-{self._count}"
        placed = _Placed(order_id, link_id, f"bybit-{self._count}", _symbol(product),
                         product.product_id, tif)  # fmt: skip
        request_ = paper_request(
            placed.paper_client_id,
            product.product_id,
            p["side"],
            p["qty"],
            p["price"] if kind == "Limit" else None,
            post_only=tif == "PostOnly",
            ioc=tif == "IOC",
        )
        try:
            await self.paper.place_order(request_)
        except OrderRejected as rejected:
            reason = rejected.detail.preview_failure_reason
            if reason == "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY":
                placed.refused = cancelled_at_once(request_, self.clock.now())
            else:
                code, msg = _PAPER_REJECTS.get(reason, (170210, rejected.detail.message))
                return failure(code, msg)
        except ExchangeError:
            return failure(10016, "Service unavailable, please try again later.", 503)
        self._orders[order_id] = placed
        return answer({"orderId": order_id, "orderLinkId": link_id})

    async def _cancel(self, request: Request) -> Reply:
        # Trade > Cancel Order: category, symbol, orderId or orderLinkId.
        p = json.loads(request.body or "{}")
        placed = self._by_id(p)
        if placed is None or placed.symbol != p.get("symbol"):
            return failure(170213, "Order does not exist.")
        order = await self._order_of(placed)
        if order.status is not OrderStatus.OPEN:
            return failure(170213, "Order does not exist.")
        await _paper(self.paper.cancel_orders([order.order_id]))
        return answer({"orderId": placed.order_id, "orderLinkId": placed.link_id})

    def _by_id(self, p: dict[str, Any]) -> _Placed | None:
        if p.get("orderId"):
            return self._orders.get(str(p["orderId"]))
        link = p.get("orderLinkId")
        return next((o for o in self._orders.values() if link and o.link_id == link), None)

    async def _render(self, placed: _Placed) -> dict[str, Any]:
        order = await self._order_of(placed)
        product = await self._product(placed.symbol)
        record = dict(ORDER)
        filled = order.filled_size
        value = order.filled_value
        record.update(
            orderId=placed.order_id,
            orderLinkId=placed.link_id,
            symbol=placed.symbol,
            price=plain(order.limit_price) if order.limit_price is not None else "0",
            qty=plain(order.base_size),
            side=order.side.value.capitalize(),
            orderStatus=_status(order),
            rejectReason=_reject_reason(placed, order),
            avgPrice=plain(order.average_filled_price) if order.average_filled_price else "0",
            leavesQty=plain(order.remaining_size) if order.status is OrderStatus.OPEN else "0",
            leavesValue="0",
            cumExecQty=plain(filled),
            cumExecValue=plain(value),
            cumExecFee=plain(order.fees),
            cumFeeDetail={product.quote: plain(order.fees)} if filled else {},
            timeInForce=placed.time_in_force,
            orderType="Limit" if order.order_type is OrderType.LIMIT else "Market",
            createdTime=str(millis(order.created_at)),
            updatedTime=str(millis(self.clock.now())),
        )
        if order.status is OrderStatus.CANCELLED and placed.refused is None:
            record["cancelType"] = "CancelByUser"
        return record

    def _in_market(self, placed: _Placed, p: dict[str, str]) -> bool:
        return not ("symbol" in p and placed.symbol != p["symbol"])

    async def _page(self, found: list[_Placed], p: dict[str, str]) -> Reply:
        """Newest first; ``cursor`` is the count already listed (opaque to the client)."""
        limit = min(int(p.get("limit", PAGE)), MAX_PAGE)
        start = int(p.get("cursor") or 0)
        page = found[start : start + limit]
        more = start + limit < len(found)
        return answer(
            {
                "category": "spot",
                "list": [await self._render(o) for o in page],
                "nextPageCursor": str(start + limit) if more else "",
            }
        )

    async def _realtime(self, request: Request) -> Reply:
        p = request.params
        if p.get("category") != "spot":
            return failure(10001, "params error: category")
        if p.get("orderId") or p.get("orderLinkId"):
            recent = list(self._orders.values())[-RECENT:]
            placed = self._by_id(p)
            found = [placed] if placed in recent and self._in_market(placed, p) else []
            return await self._page(found, p)  # type: ignore[arg-type]
        newest = reversed(self._orders.values())
        found = [o for o in newest if self._in_market(o, p) and await self._is_open(o)]
        return await self._page(found, p)

    async def _history(self, request: Request) -> Reply:
        p = request.params
        if p.get("category") != "spot":
            return failure(10001, "params error: category")
        start = int(p["startTime"]) if "startTime" in p else None
        end = int(p["endTime"]) if "endTime" in p else None
        if start is not None and end is None:
            end = start + int(WEEK.total_seconds() * 1000)
        if start is not None and end is not None and end - start > WEEK.total_seconds() * 1000:
            return failure(10001, "The time range cannot exceed 7 days.")
        found = []
        for placed in reversed(self._orders.values()):
            if not self._in_market(placed, p) or await self._is_open(placed):
                continue
            if p.get("orderLinkId") and placed.link_id != p["orderLinkId"]:
                continue
            if p.get("orderId") and placed.order_id != p["orderId"]:
                continue
            order = await self._order_of(placed)
            if p.get("orderStatus") and _status(order) != p["orderStatus"]:
                continue
            at = millis(order.created_at)
            if (start is not None and at < start) or (end is not None and at > end):
                continue
            found.append(placed)
        return await self._page(found, p)

    async def _executions(self, request: Request) -> Reply:
        p = request.params
        rows = []
        for placed in reversed(self._orders.values()):
            if p.get("orderId") and placed.order_id != p["orderId"]:
                continue
            if p.get("orderLinkId") and placed.link_id != p["orderLinkId"]:
                continue
            if not self._in_market(placed, p):
                continue
            order = await self._order_of(placed)
            product = await self._product(placed.symbol)
            for i, fill in enumerate(order.fills):
                entry = dict(EXECUTION)
                entry.update(
                    symbol=placed.symbol,
                    orderType="Limit" if order.order_type is OrderType.LIMIT else "Market",
                    orderLinkId=placed.link_id,
                    side=fill.side.value.capitalize(),
                    orderId=placed.order_id,
                    execTime=str(millis(fill.at)),
                    feeCurrency=product.quote,
                    isMaker=fill.liquidity == "maker",
                    execFee=plain(fill.fee),
                    execId=f"{placed.order_id}-{i}",
                    execPrice=plain(fill.price),
                    orderQty=plain(order.base_size),
                    orderPrice=plain(order.limit_price or Decimal(0)),
                    execValue=plain(fill.price * fill.size),
                    execQty=plain(fill.size),
                    seq=int(placed.order_id) * 100 + i,
                )
                rows.append(entry)
        return answer({"category": "spot", "list": rows, "nextPageCursor": ""})


def _reject_reason(placed: _Placed, order: Order) -> str:
    """Why Bybit ended an order: a post-only that would take, an IOC's unfilled rest
    (``EC_CancelForNoFullFill``, as in Bybit's spot order stream example), or no reason."""
    if placed.refused is not None:
        return TOOK_LIQUIDITY
    if placed.time_in_force == "IOC" and order.status is OrderStatus.CANCELLED:
        return "EC_CancelForNoFullFill"
    return "EC_NoError"


def _symbol(product: Product) -> str:
    return product.base + product.quote


def _status(order: Order) -> str:
    if order.status is OrderStatus.OPEN:
        return "PartiallyFilled" if order.filled_size else "New"
    if order.status is OrderStatus.FILLED:
        return "Filled"
    if order.status is OrderStatus.REJECTED:
        return "Rejected"
    return "PartiallyFilledCanceled" if order.filled_size else "Cancelled"
