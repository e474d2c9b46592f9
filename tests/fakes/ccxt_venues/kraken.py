"""A fake Kraken spot REST API (``api.kraken.com/0``) over the paper engine.

Shapes: ccxt's recorded fixtures (repository ccxt/ccxt,
``ts/src/test/static/response/kraken.json``) give the AddOrder answer (``createOrder[0]``) and
the order record of QueryOrders/OpenOrders (``fetchOrder[0]``, ``fetchOpenOrders[0]``);
endpoints without a recorded fixture cite Kraken's REST documentation
(https://docs.kraken.com/api/docs/rest-api/...) and say so.

Venue rules the fake enforces, as Kraken documents them:

- every answer is HTTP 200 with ``{"error": [...], "result": ...}``; errors are strings such
  as ``EOrder:Insufficient funds`` (ccxt's kraken ``exceptions`` table maps them);
- private calls carry ``API-Key`` and ``API-Sign`` = base64(HMAC-SHA512(base64-decoded
  secret, path + SHA256(nonce + POST data))), and a nonce greater than the last one;
- ``cl_ord_id`` is a long UUID, a 32-hex short UUID or free text of at most 18 characters,
  unique among OPEN orders only ("Kraken verifies cl_ord_id uniqueness across open orders for
  each client", Spot Client Order Identifiers guide); reusing the id of a closed order
  places a new one. ``userref`` is an integer and never unique;
- a post-only (``oflags=post``) order that would take is refused with
  ``EOrder:Post only order``; volume below ``ordermin`` is ``EOrder:Order minimum not met``,
  cost below ``costmin`` is ``EOrder:Cost minimum not met``, too many decimals are
  ``EGeneral:Invalid arguments:volume`` / ``EOrder:Invalid price``;
- rate limited: ``EAPI:Rate limit exceeded``; outage: ``EService:Unavailable`` (HTTP 503 in
  front of the API when the whole site is down).

The duplicate-cl_ord_id error text is not in the documents we could read; the fake answers
``EOrder:Duplicate order`` (a documented-style EOrder error) and the closing note says so.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
    paper_guard,
    paper_request,
    plain,
    signature_matches,
)

# Kraken docs, Market Data > Get Tradable Asset Pairs (no ccxt fixture records the raw
# AssetPairs answer): one entry of "result".
ASSET_PAIR: dict[str, Any] = {
    "altname": "XBTUSD",
    "wsname": "XBT/USD",
    "aclass_base": "currency",
    "base": "XXBT",
    "aclass_quote": "currency",
    "quote": "ZUSD",
    "lot": "unit",
    "cost_decimals": 5,
    "pair_decimals": 1,
    "lot_decimals": 8,
    "lot_multiplier": 1,
    "leverage_buy": [],
    "leverage_sell": [],
    "fees": [[0, 0.4], [10000, 0.35]],
    "fees_maker": [[0, 0.25], [10000, 0.2]],
    "fee_volume_currency": "ZUSD",
    "margin_call": 80,
    "margin_stop": 40,
    "ordermin": "0.0001",
    "costmin": "0.5",
    "tick_size": "0.1",
    "status": "online",
}

# Kraken docs, Market Data > Get Asset Info: one entry of "result".
ASSET: dict[str, Any] = {
    "aclass": "currency",
    "altname": "XBT",
    "decimals": 10,
    "display_decimals": 5,
    "collateral_value": 1,
    "status": "enabled",
}

# Kraken docs, Market Data > Get Ticker Information: one entry of "result".
TICKER: dict[str, Any] = {
    "a": ["0", "1", "1.000"],
    "b": ["0", "1", "1.000"],
    "c": ["0", "0.1"],
    "v": ["0", "0"],
    "p": ["0", "0"],
    "t": [100, 1000],
    "l": ["0", "0"],
    "h": ["0", "0"],
    "o": "0",
}

# ccxt fixture response/kraken.json, methods.fetchOrder[0].httpResponse.result["OR6EGN-..."]:
# the order record of QueryOrders (also OpenOrders' "open" and ClosedOrders' "closed").
ORDER: dict[str, Any] = {
    "refid": None,
    "userref": "0",
    "status": "open",
    "opentm": "1705259439.563000",
    "starttm": "0",
    "expiretm": "0",
    "descr": {
        "pair": "LTCUSDT",
        "type": "buy",
        "ordertype": "limit",
        "price": "50.00000",
        "price2": "0",
        "leverage": "none",
        "order": "buy 0.10000000 LTCUSDT @ limit 50.00000",
        "close": "",
    },
    "vol": "0.10000000",
    "vol_exec": "0.00000000",
    "cost": "0.000000",
    "fee": "0.000000",
    "price": "0.000000",
    "stopprice": "0.000000",
    "limitprice": "0.000000",
    "misc": "",
    "oflags": "post,fciq",
    "reason": None,
}

# ccxt fixture response/kraken.json, methods.createOrder[0].httpResponse["result"].
ADD_ORDER: dict[str, Any] = {
    "txid": ["OL7LNO-R4SAD-6UINEU"],
    "descr": {"order": "buy 0.10000000 LTCUSDT @ market"},
}

# Kraken docs, Account Data > Query Trades Info / Get Trades History: one trade.
TRADE: dict[str, Any] = {
    "ordertxid": "OQCLML-BW3P3-BUCMWZ",
    "postxid": "TKH2SE-M7IF5-CFI7LT",
    "pair": "XXBTZUSD",
    "time": 1688667796.8802,
    "type": "buy",
    "ordertype": "limit",
    "price": "30010.00000",
    "cost": "600.20000",
    "fee": "0.00000",
    "vol": "0.02000000",
    "margin": "0.00000",
    "leverage": "0",
    "misc": "",
    "trade_id": 40274859,
    "maker": True,
}

_PAPER_REJECTS = {  # paper engine's preview failure -> Kraken error string
    "PREVIEW_INVALID_SIZE_PRECISION": "EGeneral:Invalid arguments:volume",
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": "EOrder:Order minimum not met",
    "PREVIEW_INVALID_PRICE_PRECISION": "EOrder:Invalid price",
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": "EOrder:Cost minimum not met",
    "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY": "EOrder:Post only order",
    "PREVIEW_INSUFFICIENT_FUND": "EOrder:Insufficient funds",
    "PREVIEW_TRADING_DISABLED": "EOrder:Trading halted",
    "PREVIEW_INVALID_PRODUCT_ID": "EQuery:Unknown asset pair",
}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHORT_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_FREE_TEXT = re.compile(r"^[\x20-\x7e]{1,18}$")
CLOSED_PAGE = 50
"""Closed orders per ClosedOrders answer (Kraken docs: "50 results are returned at a time")."""

FIAT = {"USD": "ZUSD", "EUR": "ZEUR", "GBP": "ZGBP"}
"""Kraken's legacy asset names for the quote currencies the paper markets use."""


def valid_client_id(value: str) -> bool:
    return bool(_UUID.match(value) or _SHORT_UUID.match(value) or _FREE_TEXT.match(value))


def failure(*errors: str) -> Reply:
    return Reply(200, {"error": list(errors)})


def ok(result: Any) -> Reply:
    return Reply(200, {"error": [], "result": result})


@dataclass
class _Placed:
    txid: str
    cl_ord_id: str | None
    userref: int | None
    paper_client_id: str
    pair: str
    oflags: str


class FakeKraken(FakeVenue):
    exchange_id = "kraken"
    order_paths = (
        "/0/private/AddOrder",
        "/0/private/AddOrderBatch",
        "/0/private/CancelOrder",
        "/0/private/CancelOrderBatch",
        "/0/private/CancelAll",
        "/0/private/EditOrder",
        "/0/private/AmendOrder",
    )

    def __init__(self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret = api_key, secret
        self._orders: dict[str, _Placed] = {}
        self._count = 0
        self._last_nonce = 0

    def placed_client_ids(self) -> list[str]:
        return [o.cl_ord_id or str(o.userref or o.txid) for o in self._orders.values()]

    async def orders(self) -> list[Order]:
        return [await self._order_of(placed) for placed in self._orders.values()]

    def rate_limited(self) -> Reply:
        return failure("EAPI:Rate limit exceeded")

    def unavailable(self) -> Reply:
        return Reply(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        path = request.path
        public = {
            "/0/public/AssetPairs": self._asset_pairs,
            "/0/public/Assets": self._assets,
            "/0/public/Ticker": self._ticker,
            "/0/public/Depth": self._depth,
            "/0/public/Time": self._time,
            "/0/public/SystemStatus": self._status,
        }
        private = {
            "/0/private/Balance": self._balance,
            "/0/private/BalanceEx": self._balance_ex,
            "/0/private/AddOrder": self._add_order,
            "/0/private/CancelOrder": self._cancel,
            "/0/private/QueryOrders": self._query_orders,
            "/0/private/OpenOrders": self._open_orders,
            "/0/private/ClosedOrders": self._closed_orders,
            "/0/private/QueryTrades": self._query_trades,
            "/0/private/TradesHistory": self._trades_history,
        }
        if path in public:
            return await public[path](request)
        if path in private and request.method == "POST":
            self._check_signature(request)
            await self._adopt()
            return await private[path](request)
        return Reply(404, failure("EGeneral:Unknown method").body)

    def _check_signature(self, request: Request) -> None:
        if request.headers.get("API-Key") != self.api_key:
            raise Outage(failure("EAPI:Invalid key"))
        nonce = request.params.get("nonce", "")
        body = request.body or ""
        digest = hashlib.sha256((nonce + body).encode()).digest()
        secret, signed = base64.b64decode(self.secret), request.path.encode() + digest
        if not signature_matches(request.headers.get("API-Sign", ""), secret, signed, "sha512",
                                 b64=True):  # fmt: skip
            raise Outage(failure("EAPI:Invalid signature"))
        if not nonce.isdigit() or int(nonce) <= self._last_nonce:
            raise Outage(failure("EAPI:Invalid nonce"))
        self._last_nonce = int(nonce)

    async def _adopt(self) -> None:
        """Orders the paper account holds that were not placed through this venue (seeded
        stale orders) become venue orders with txids of their own."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id in known:
                continue
            self._count += 1
            product = await _paper(self.paper.product(order.product_id))
            txid = _txid("O", self._count)
            oflags = "post,fciq" if order.post_only else "fciq"
            pair = product.base + product.quote
            self._orders[txid] = _Placed(txid, None, None, order.client_order_id, pair, oflags)

    # --- market data ----------------------------------------------------------------------

    async def _pairs(self) -> dict[str, Product]:
        return {p.base + p.quote: p for p in await self.paper.products()}

    async def _pair(self, name: str | None) -> Product:
        product = (await self._pairs()).get(name or "")
        if product is None:
            raise Outage(failure("EQuery:Unknown asset pair"))
        return product

    async def _asset_pairs(self, request: Request) -> Reply:
        result = {}
        for name, p in (await self._pairs()).items():
            if p.status is Status.DELISTED:
                continue  # Kraken drops delisted pairs from AssetPairs
            entry = dict(ASSET_PAIR)
            entry.update(
                altname=name,
                wsname=f"{p.base}/{p.quote}",
                base=p.base,
                quote=FIAT.get(p.quote, p.quote),
                pair_decimals=decimals(p.price_tick),
                cost_decimals=5,
                lot_decimals=decimals(p.base_increment),
                fee_volume_currency=FIAT.get(p.quote, p.quote),
                ordermin=plain(p.min_base_size, decimals(p.base_increment)),
                costmin=plain(p.min_notional, 2),
                tick_size=plain(p.price_tick, decimals(p.price_tick)),
                status="online" if p.status is Status.TRADEABLE else "cancel_only",
            )
            result[name] = entry
        return ok(result)

    async def _assets(self, request: Request) -> Reply:
        names = set()
        for p in await self.paper.products():
            names |= {p.base, p.quote}
        result = {}
        for name in sorted(names):
            entry = dict(ASSET)
            entry.update(altname=name, decimals=10, display_decimals=5)
            result[FIAT.get(name, name)] = entry
        return ok(result)

    async def _time(self, request: Request) -> Reply:
        now = self.clock.now()
        return ok(
            {
                "unixtime": int(now.timestamp()),
                "rfc1123": now.strftime("%a, %d %b %y %H:%M:%S +0000"),
            }
        )

    async def _status(self, request: Request) -> Reply:
        return ok({"status": "online", "timestamp": self.clock.now().isoformat()})

    async def _ticker(self, request: Request) -> Reply:
        result = {}
        for name in request.params.get("pair", "").split(","):
            product = await self._pair(name)
            quote = await _paper(self.paper.quote(product.product_id))
            book = await _paper(self.paper.book(product.product_id, 1))
            mid = quote.mid
            volume = quote.quote_volume_24h / mid
            bid_size = book.bids[0].size if book.bids else Decimal(0)
            ask_size = book.asks[0].size if book.asks else Decimal(0)
            entry = dict(TICKER)
            entry.update(
                a=[plain(quote.ask), str(int(ask_size)), plain(ask_size, 3)],
                b=[plain(quote.bid), str(int(bid_size)), plain(bid_size, 3)],
                c=[plain(mid), "1.00000000"],
                v=[plain(volume / 2), plain(volume)],
                p=[plain(mid), plain(mid)],
                l=[plain(quote.bid), plain(quote.bid)],
                h=[plain(quote.ask), plain(quote.ask)],
                o=plain(mid),
            )
            result[name] = entry
        return ok(result)

    async def _depth(self, request: Request) -> Reply:
        # Kraken docs, Market Data > Get Order Book: [price, volume, timestamp] per level.
        name = request.params.get("pair", "")
        product = await self._pair(name)
        count = int(request.params.get("count", "100"))
        book = await _paper(self.paper.book(product.product_id, count))
        ts = int(book.at.timestamp())
        return ok(
            {
                name: {
                    "asks": [[plain(lv.price), plain(lv.size), ts] for lv in book.asks],
                    "bids": [[plain(lv.price), plain(lv.size), ts] for lv in book.bids],
                }
            }
        )

    # --- account and orders ---------------------------------------------------------------

    async def _balance(self, request: Request) -> Reply:
        # Kraken docs, Account Data > Get Account Balance: asset -> total.
        balances = await _paper(self.paper.balances())
        return ok({FIAT.get(b.asset, b.asset): plain(b.total, 10) for b in balances})

    async def _balance_ex(self, request: Request) -> Reply:
        # Kraken docs, Account Data > Get Extended Balance: balance and hold_trade.
        balances = await _paper(self.paper.balances())
        return ok(
            {
                FIAT.get(b.asset, b.asset): {
                    "balance": plain(b.total, 10),
                    "hold_trade": plain(b.hold, 10),
                }
                for b in balances
            }
        )

    async def _add_order(self, request: Request) -> Reply:
        # Kraken docs, Trading > Add Order; the answer is createOrder[0] of the fixture.
        p = request.params
        product = await self._pair(p.get("pair"))
        cl_ord_id = p.get("cl_ord_id")
        userref = p.get("userref")
        if cl_ord_id is not None and userref is not None:
            return failure("EGeneral:Invalid arguments:cl_ord_id")
        if cl_ord_id is not None and not valid_client_id(cl_ord_id):
            return failure("EGeneral:Invalid arguments:cl_ord_id")
        if userref is not None and not userref.lstrip("-").isdigit():
            return failure("EGeneral:Invalid arguments:userref")
        if cl_ord_id is not None:
            for placed in self._orders.values():
                if placed.cl_ord_id == cl_ord_id and await self._is_open(placed):
                    return failure("EOrder:Duplicate order")
        ordertype = p.get("ordertype")
        if ordertype not in ("limit", "market"):
            return failure("EGeneral:Invalid arguments:ordertype")
        oflags = [f for f in p.get("oflags", "").split(",") if f]
        post = "post" in oflags
        if post and ordertype != "limit":
            return failure("EGeneral:Invalid arguments:oflags")
        if "price" not in p and ordertype == "limit":
            return failure("EGeneral:Invalid arguments:price")
        if p.get("validate") in ("true", "True", "1"):
            return ok({"descr": {"order": self._describe(p)}})
        self._count += 1
        txid = _txid("O", self._count)
        placed = _Placed(
            txid,
            cl_ord_id,
            int(userref) if userref is not None else None,
            f"kraken-{self._count}",
            p["pair"],
            ",".join([*oflags, "fciq"]) if "fciq" not in oflags else ",".join(oflags),
        )
        request_ = paper_request(
            placed.paper_client_id,
            product.product_id,
            p["type"],
            p["volume"],
            p["price"] if ordertype == "limit" else None,
            post_only=post,
            ioc=p.get("timeinforce") == "IOC",
        )
        try:
            await self.paper.place_order(request_)
        except OrderRejected as rejected:
            reason = rejected.detail.preview_failure_reason
            return failure(_PAPER_REJECTS.get(reason, f"EOrder:{rejected.detail.message}"))
        except ExchangeError:
            return failure("EService:Unavailable")
        self._orders[txid] = placed
        return ok(dict(ADD_ORDER, txid=[txid], descr={"order": self._describe(p)}))

    @staticmethod
    def _describe(p: dict[str, str]) -> str:
        price = f"limit {p['price']}" if p.get("ordertype") == "limit" else "market"
        return f"{p.get('type')} {p.get('volume')} {p.get('pair')} @ {price}"

    async def _order_of(self, placed: _Placed) -> Order:
        order = await _paper(self.paper.find_order(placed.paper_client_id))
        assert order is not None
        return order

    async def _is_open(self, placed: _Placed) -> bool:
        return (await self._order_of(placed)).status is OrderStatus.OPEN

    async def _cancel(self, request: Request) -> Reply:
        # Kraken docs, Trading > Cancel Order: txid (or userref) or cl_ord_id; {"count": n}.
        p = request.params
        targets: list[_Placed] = []
        if "cl_ord_id" in p:
            targets = [o for o in self._orders.values() if o.cl_ord_id == p["cl_ord_id"]]
        elif "txid" in p:
            key = p["txid"]
            if key in self._orders:
                targets = [self._orders[key]]
            elif key.lstrip("-").isdigit():
                targets = [o for o in self._orders.values() if o.userref == int(key)]
        if not targets:
            return failure("EOrder:Unknown order")
        count = 0
        for placed in targets:
            order = await self._order_of(placed)
            if order.status is OrderStatus.OPEN:
                count += len(await _paper(self.paper.cancel_orders([order.order_id])))
        if count == 0:
            # a closed order is no longer among the open ones CancelOrder acts on: Kraken
            # answers as for an unknown one (ccxt's kraken.cancel_order reads this text)
            return failure("EOrder:Unknown order")
        return ok({"count": count})

    async def _render(self, placed: _Placed, trades: bool) -> dict[str, Any]:
        order = await self._order_of(placed)
        record = dict(ORDER)
        limit = order.limit_price
        price = plain(limit, 8) if limit is not None else "0"
        kind = "limit" if order.order_type is OrderType.LIMIT else "market"
        side = order.side.value.lower()
        volume = plain(order.base_size, 8)
        record.update(
            userref=placed.userref,
            status=_status(order),
            opentm=_seconds(order.created_at),
            descr={
                "pair": placed.pair,
                "type": side,
                "ordertype": kind,
                "price": price,
                "price2": "0",
                "leverage": "none",
                "order": f"{side} {volume} {placed.pair} @ {kind} {price}"
                if kind == "limit"
                else f"{side} {volume} {placed.pair} @ market",
                "close": "",
            },
            vol=volume,
            vol_exec=plain(order.filled_size, 8),
            cost=plain(order.filled_value, 6),
            fee=plain(order.fees, 6),
            price=plain(order.average_filled_price or Decimal(0), 6),
            oflags=placed.oflags,
            reason=None,
        )
        if placed.cl_ord_id is not None:
            record["cl_ord_id"] = placed.cl_ord_id
        if order.status is not OrderStatus.OPEN:
            record["closetm"] = _seconds(self.clock.now())
            if order.status is OrderStatus.CANCELLED and order.order_type is OrderType.LIMIT:
                record["reason"] = "User requested"
        if trades and order.fills:
            record["trades"] = [
                _txid("T", self._trade_no(placed, i)) for i in range(len(order.fills))
            ]
        return record

    def _trade_no(self, placed: _Placed, i: int) -> int:
        return list(self._orders).index(placed.txid) * 100 + 100 + i

    def _matches(self, placed: _Placed, p: dict[str, str]) -> bool:
        if "cl_ord_id" in p and placed.cl_ord_id != p["cl_ord_id"]:
            return False
        return not ("userref" in p and placed.userref != int(p["userref"]))

    async def _query_orders(self, request: Request) -> Reply:
        # Kraken docs, Account Data > Query Orders Info: txid (comma list), trades, userref.
        p = request.params
        trades = p.get("trades") in ("true", "True", "1")
        result = {}
        for txid in p.get("txid", "").split(","):
            placed = self._orders.get(txid)
            # an id that names no order of this account is left out of the result (ccxt's
            # kraken.fetch_order then raises OrderNotFound); the exact answer for unknown
            # txids is not documented, this is the reading ccxt's code is written for
            if placed is not None and self._matches(placed, p):
                result[txid] = await self._render(placed, trades)
        return ok(result)

    async def _open_orders(self, request: Request) -> Reply:
        # Kraken docs, Account Data > Get Open Orders: trades, userref, cl_ord_id filters;
        # the shape is fetchOpenOrders[0] of the fixture.
        p = request.params
        trades = p.get("trades") in ("true", "True", "1")
        found = {}
        for txid, placed in self._orders.items():
            if self._matches(placed, p) and await self._is_open(placed):
                found[txid] = await self._render(placed, trades)
        return ok({"open": found})

    async def _closed_orders(self, request: Request) -> Reply:
        # Kraken docs, Account Data > Get Closed Orders: {"closed": {...}, "count": n};
        # "50 results are returned at a time, the most recent by default" (``ofs`` pages on;
        # ccxt's fetchClosedOrders sends no ``ofs``, so it sees the first page only).
        p = request.params
        trades = p.get("trades") in ("true", "True", "1")
        found = {}
        for txid, placed in reversed(self._orders.items()):
            if self._matches(placed, p) and not await self._is_open(placed):
                found[txid] = placed
        page = list(found.items())[int(p.get("ofs", 0)) :][:CLOSED_PAGE]
        closed = {txid: await self._render(placed, trades) for txid, placed in page}
        return ok({"closed": closed, "count": len(found)})

    async def _trades(self) -> dict[str, dict[str, Any]]:
        result = {}
        for placed in self._orders.values():
            order = await self._order_of(placed)
            for i, fill in enumerate(order.fills):
                trade = dict(TRADE)
                trade.update(
                    ordertxid=placed.txid,
                    postxid=_txid("P", self._trade_no(placed, i)),
                    pair=placed.pair,
                    time=fill.at.timestamp(),
                    type=fill.side.value.lower(),
                    ordertype="limit" if order.order_type is OrderType.LIMIT else "market",
                    price=plain(fill.price, 8),
                    cost=plain(fill.price * fill.size, 8),
                    fee=plain(fill.fee, 8),
                    vol=plain(fill.size, 8),
                    trade_id=self._trade_no(placed, i),
                    maker=fill.liquidity == "maker",
                )
                result[_txid("T", self._trade_no(placed, i))] = trade
        return result

    async def _query_trades(self, request: Request) -> Reply:
        every = await self._trades()
        wanted = request.params.get("txid", "").split(",")
        missing = [t for t in wanted if t not in every]
        if missing:
            return failure("EOrder:Invalid order")
        return ok({t: every[t] for t in wanted})

    async def _trades_history(self, request: Request) -> Reply:
        every = await self._trades()
        return ok({"trades": every, "count": len(every)})


def _status(order: Order) -> str:
    if order.status is OrderStatus.OPEN:
        return "open"
    if order.status is OrderStatus.FILLED:
        return "closed"
    if order.status is OrderStatus.EXPIRED:
        return "expired"
    return "canceled"


def _seconds(moment: Any) -> str:
    return f"{moment.timestamp():.6f}"


def _txid(prefix: str, n: int) -> str:
    """Kraken-shaped ids (``OL7LNO-R4SAD-6UINEU``): deterministic per counter."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    digits = ""
    value = n * 2654435761 % (32**16)
    for _ in range(16):
        digits += alphabet[value % 32]
        value //= 32
    return f"{prefix}{digits[:5]}-{digits[5:10]}-{digits[10:16]}"


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(missing=failure("EOrder:Invalid order"), down=failure("EService:Unavailable"))
