"""A fake OKX v5 REST API (``www.okx.com/api/v5``) over the paper engine.

Shapes: ccxt's recorded fixtures (repository ccxt/ccxt, ``ts/src/test/static/response/okx.json``)
give the place-order answer (``createOrder[0].httpResponse``: ``code``/``data[]`` with
``clOrdId``, ``ordId``, ``sCode``, ``sMsg``, ``tag``, ``ts``) and the trading balance
(``fetchBalance[2]``: ``data[0].details[]``); the other payloads are the ones OKX's API
reference documents (https://www.okx.com/docs-v5/en/, the section named at each), as copied
into the comments of ccxt's own okx.py (``parse_market``, ``parse_order``, ``parse_trade``)
at the pinned ccxt 4.5.64. Each is cited where it is built.

Venue rules the fake enforces, as OKX documents them:

- every answer is ``{"code": "0", "msg": "", "data": [...]}``; a failed order is
  ``code "1"`` with the reason in ``data[0].sCode``/``sMsg`` (ccxt's okx ``handle_errors``
  reads both through its ``exceptions`` table);
- private calls carry ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``, ``OK-ACCESS-TIMESTAMP``
  (ISO 8601) and ``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + method +
  requestPath (with the query) + body)) (REST API > Authentication > Signature);
- ``clOrdId``: "A combination of case-sensitive alphanumerics, all numbers, or all letters of
  up to 32 characters" (Trade > Place order); a duplicate among pending orders is
  ``51016 Duplicated clOrdId``. Reusing a finished order's id places a new one here, the
  stricter reading for the adapter (it looks an id up before it places it);
- ``ordType`` ``post_only`` that would take liquidity is accepted and canceled at once with
  ``cancelSource`` 31 ("The post-only order will take liquidity in maker orders",
  Trade > Get order details, cancelSource); ``ioc`` fills what it can and is canceled;
- order details answer open, filled and canceled orders by ``ordId`` or ``clOrdId``
  (Trade > Get order details); an unknown one is ``51603 Order does not exist``;
- rate limited: HTTP 429 with ``50011 Too Many Requests``; outage: HTTP 503 with
  ``50001 Service temporarily unavailable``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cleanslate.clock import Clock
from cleanslate.core.market import Order, OrderStatus, Product
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

# OKX docs, Public Data > Get instruments (instType=SPOT); the record ccxt's okx.parse_market
# comment copies: one entry of "data".
INSTRUMENT: dict[str, Any] = {
    "alias": "",
    "baseCcy": "BTC",
    "category": "1",
    "ctMult": "",
    "ctType": "",
    "ctVal": "",
    "ctValCcy": "",
    "expTime": "",
    "instId": "BTC-USDT",
    "instType": "SPOT",
    "lever": "10",
    "listTime": "1548133413000",
    "lotSz": "0.00000001",
    "minSz": "0.00001",
    "optType": "",
    "quoteCcy": "USDT",
    "settleCcy": "",
    "state": "live",
    "stk": "",
    "tickSz": "0.1",
    "uly": "",
}

# OKX docs, Funding Account > Get currencies: one entry of "data" (one chain of a currency).
CURRENCY: dict[str, Any] = {
    "canDep": True,
    "canInternal": True,
    "canWd": True,
    "ccy": "BTC",
    "chain": "BTC-Bitcoin",
    "mainNet": True,
    "maxFee": "0.0004",
    "maxWd": "500",
    "minFee": "0.0002",
    "minWd": "0.0005",
    "name": "Bitcoin",
    "wdTickSz": "8",
}

# ccxt fixture response/okx.json, methods.fetchBalance[2].httpResponse.data[0].details[0]
# (trimmed to the fields ccxt's okx.parse_trading_balance and a reader need).
BALANCE_DETAIL: dict[str, Any] = {
    "availBal": "3000",
    "availEq": "",
    "cashBal": "3000",
    "ccy": "TUSD",
    "eq": "3000",
    "frozenBal": "0",
    "ordFrozen": "0",
    "uTime": "1639594842592",
}

# OKX docs, Market Data > Get ticker: one entry of "data".
TICKER: dict[str, Any] = {
    "instType": "SPOT",
    "instId": "BTC-USDT",
    "last": "9999.99",
    "lastSz": "0.1",
    "askPx": "9999.99",
    "askSz": "11",
    "bidPx": "8888.88",
    "bidSz": "5",
    "open24h": "9000",
    "high24h": "10000",
    "low24h": "8888.88",
    "volCcy24h": "2222",
    "vol24h": "2222",
    "sodUtc0": "0.1",
    "sodUtc8": "0.1",
    "ts": "1597026383085",
}

# OKX docs, Trade > Get order details; the record ccxt's okx.parse_order comment copies
# ("Spot and Swap fetchOrder, fetchOpenOrders"), plus cancelSource from the same docs page.
ORDER: dict[str, Any] = {
    "accFillSz": "0",
    "avgPx": "",
    "cTime": "1621910749815",
    "category": "normal",
    "ccy": "",
    "clOrdId": "",
    "fee": "0",
    "feeCcy": "ETH",
    "fillPx": "",
    "fillSz": "0",
    "fillTime": "",
    "instId": "ETH-USDT",
    "instType": "SPOT",
    "lever": "",
    "ordId": "317251910906576896",
    "ordType": "limit",
    "pnl": "0",
    "posSide": "net",
    "px": "2000",
    "rebate": "0",
    "rebateCcy": "USDT",
    "side": "buy",
    "slOrdPx": "",
    "slTriggerPx": "",
    "state": "live",
    "sz": "0.001",
    "tag": "",
    "tdMode": "cash",
    "tpOrdPx": "",
    "tpTriggerPx": "",
    "tradeId": "",
    "uTime": "1621910749815",
    "cancelSource": "",
}

# OKX docs, Trade > Get transaction details (last 3 months); the record ccxt's
# okx.parse_trade comment copies ("private fetchMyTrades").
FILL: dict[str, Any] = {
    "side": "buy",
    "fillSz": "0.007533",
    "fillPx": "2654.98",
    "fee": "-0.000007533",
    "ordId": "317321390244397056",
    "instType": "SPOT",
    "instId": "ETH-USDT",
    "clOrdId": "",
    "posSide": "net",
    "billId": "317321390265368576",
    "tag": "0",
    "execType": "T",
    "tradeId": "107601752",
    "feeCcy": "ETH",
    "ts": "1621927314985",
}

_BELOW_MINIMUM = ("51020", "Your order should meet or exceed the minimum order amount.")
_NO_INSTRUMENT = ("51001", "Instrument ID does not exist.")
_PAPER_REJECTS = {  # paper engine's preview failure -> (sCode, sMsg), OKX's error codes
    "PREVIEW_INVALID_SIZE_PRECISION": ("51121", "Order quantity must be a multiple of lot size"),
    "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL": _BELOW_MINIMUM,
    "PREVIEW_INVALID_PRICE_PRECISION": ("51000", "Parameter px error"),
    "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL": _BELOW_MINIMUM,
    "PREVIEW_INSUFFICIENT_FUND": ("51008", "Order failed. Insufficient balance in account."),
    "PREVIEW_TRADING_DISABLED": _NO_INSTRUMENT,
    "PREVIEW_INVALID_PRODUCT_ID": _NO_INSTRUMENT,
}
_CANCEL_FAILED = (
    "Order cancellation failed as the order has been filled, canceled or does not exist"
)
CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
PAGE = 100
"""Orders per pending/history answer (Trade > Get order history: "limit ... default 100")."""
POST_ONLY_TOOK = "31"
"""cancelSource of a post-only order that would have taken liquidity."""


def answer(data: list[Any], code: str = "0", msg: str = "", status: int = 200) -> Reply:
    return Reply(status, {"code": code, "msg": msg, "data": data})


def failure(code: str, msg: str, status: int = 200) -> Reply:
    return answer([], code, msg, status)


# A paper call: NotFound and the paper's other failures as the venue answers them.
_paper = paper_guard(
    missing=failure("51603", "Order does not exist"),
    down=failure("50001", "Service temporarily unavailable, please try again later.", 503),
)


@dataclass
class _Placed:
    ord_id: str
    cl_ord_id: str
    paper_client_id: str
    inst_id: str
    ord_type: str
    refused: Order | None = None
    """A post-only order that would have taken: OKX cancels it at once (never in the paper)."""


class FakeOkx(CancelsTakingPostOnly):
    exchange_id = "okx"
    _guard = staticmethod(_paper)
    order_paths = (
        "/api/v5/trade/order",
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/cancel-order",
        "/api/v5/trade/cancel-batch-orders",
        "/api/v5/trade/amend-order",
        "/api/v5/trade/order-algo",
    )

    def __init__(
        self, paper: PaperExchange, clock: Clock, *, api_key: str, secret: str, passphrase: str
    ) -> None:
        super().__init__(paper, clock)
        self.api_key, self.secret, self.passphrase = api_key, secret, passphrase
        self._orders: dict[str, _Placed] = {}
        self._count = 0

    def placed_client_ids(self) -> list[str]:
        return [o.cl_ord_id for o in self._orders.values() if o.refused is None]

    def rate_limited(self) -> Reply:
        return failure("50011", "Too Many Requests", 429)

    def unavailable(self) -> Reply:
        return failure("50001", "Service temporarily unavailable, please try again later.", 503)

    def server_error(self) -> Reply:
        return failure("50026", "System error, please try again later.", 500)

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        public = {
            ("GET", "/api/v5/public/instruments"): self._instruments,
            ("GET", "/api/v5/market/ticker"): self._ticker,
            ("GET", "/api/v5/market/books"): self._books,
            ("GET", "/api/v5/public/time"): self._time,
        }
        private = {
            ("GET", "/api/v5/asset/currencies"): self._currencies,
            ("GET", "/api/v5/account/balance"): self._balance,
            ("POST", "/api/v5/trade/batch-orders"): self._batch_orders,
            ("POST", "/api/v5/trade/order"): self._one_order,
            ("POST", "/api/v5/trade/cancel-order"): self._cancel,
            ("GET", "/api/v5/trade/order"): self._order_details,
            ("GET", "/api/v5/trade/orders-pending"): self._pending,
            ("GET", "/api/v5/trade/orders-history"): self._history,
            ("GET", "/api/v5/trade/fills-history"): self._fills,
            ("GET", "/api/v5/trade/fills"): self._fills,
        }
        return await self.route(
            request, public, private, failure("50000", "Body can not be empty.", 404)
        )

    def _check_signature(self, request: Request) -> None:
        """REST API > Authentication > Signature: base64(HMAC-SHA256(secret, timestamp +
        method + requestPath + body)), requestPath with its query string."""
        h = {k.upper(): v for k, v in request.headers.items()}
        if h.get("OK-ACCESS-KEY") != self.api_key:
            raise Outage(failure("50111", "Invalid OK-ACCESS-KEY.", 401))
        if h.get("OK-ACCESS-PASSPHRASE") != self.passphrase:
            raise Outage(failure("50105", "Invalid OK-ACCESS-PASSPHRASE.", 401))
        timestamp = h.get("OK-ACCESS-TIMESTAMP", "")
        query = request.url.split("?", 1)[1] if "?" in request.url else ""
        path = request.path + (f"?{query}" if query else "")
        prehash = timestamp + request.method + path + (request.body or "")
        if not signature_matches(h.get("OK-ACCESS-SIGN", ""), self.secret, prehash, b64=True):
            raise Outage(failure("50113", "Invalid Sign.", 401))

    async def _adopt(self) -> None:
        """Seeded paper orders not placed through this venue become venue orders."""
        known = {placed.paper_client_id for placed in self._orders.values()}
        for order in await _paper(self.paper.open_orders()):
            if order.client_order_id not in known:
                ord_id = self._next_id()
                kind = "post_only" if order.post_only else "limit"
                placed = _Placed(ord_id, "", order.client_order_id, order.product_id, kind)
                self._orders[ord_id] = placed

    def _next_id(self) -> str:
        self._count += 1
        return str(312269865356374016 + self._count)

    # --- market data ----------------------------------------------------------------------

    async def _product(self, inst_id: str | None) -> Product:
        for product in await _paper(self.paper.products()):
            if product.product_id == inst_id:
                return product
        raise Outage(failure("51001", "Instrument ID does not exist."))

    async def _instruments(self, request: Request) -> Reply:
        if request.params.get("instType") != "SPOT":
            return answer([])  # the fake lists spot instruments only
        data = []
        for p in await _paper(self.paper.products()):
            if p.status is Status.DELISTED:
                continue
            entry = dict(INSTRUMENT)
            entry.update(
                instId=p.product_id,
                baseCcy=p.base,
                quoteCcy=p.quote,
                lotSz=plain(p.base_increment, decimals(p.base_increment)),
                minSz=plain(p.min_base_size, decimals(p.base_increment)),
                tickSz=plain(p.price_tick, decimals(p.price_tick)),
                state="live" if p.status is Status.TRADEABLE else "suspend",
            )
            data.append(entry)
        return answer(data)

    async def _currencies(self, request: Request) -> Reply:
        names: set[str] = set()
        for p in await _paper(self.paper.products()):
            names |= {p.base, p.quote}
        return answer([dict(CURRENCY, ccy=n, chain=f"{n}-{n}", name=n) for n in sorted(names)])

    async def _time(self, request: Request) -> Reply:
        return answer([{"ts": str(millis(self.clock.now()))}])

    async def _ticker(self, request: Request) -> Reply:
        product = await self._product(request.params.get("instId"))
        quote = await _paper(self.paper.quote(product.product_id))
        book = await _paper(self.paper.book(product.product_id, 1))
        volume = quote.quote_volume_24h / quote.mid
        entry = dict(TICKER)
        entry.update(
            instId=product.product_id,
            last=plain(quote.mid),
            askPx=plain(quote.ask),
            askSz=plain(book.asks[0].size if book.asks else Decimal(0)),
            bidPx=plain(quote.bid),
            bidSz=plain(book.bids[0].size if book.bids else Decimal(0)),
            open24h=plain(quote.mid),
            high24h=plain(quote.ask),
            low24h=plain(quote.bid),
            volCcy24h=plain(quote.quote_volume_24h),
            vol24h=plain(volume),
            ts=str(millis(self.clock.now())),
        )
        return answer([entry])

    async def _books(self, request: Request) -> Reply:
        # OKX docs, Market Data > Get order book: [price, size, "0", number of orders].
        product = await self._product(request.params.get("instId"))
        depth = int(request.params.get("sz", "1"))
        book = await _paper(self.paper.book(product.product_id, depth))
        levels = [
            {
                "asks": [[plain(lv.price), plain(lv.size), "0", "1"] for lv in book.asks],
                "bids": [[plain(lv.price), plain(lv.size), "0", "1"] for lv in book.bids],
                "ts": str(millis(book.at)),
            }
        ]
        return answer(levels)

    # --- account and orders ---------------------------------------------------------------

    async def _balance(self, request: Request) -> Reply:
        # ccxt fixture fetchBalance[2]: one account record whose "details" list the coins.
        details = []
        for b in await _paper(self.paper.balances()):
            entry = dict(BALANCE_DETAIL)
            entry.update(
                ccy=b.asset,
                availBal=plain(b.total - b.hold),
                cashBal=plain(b.total),
                eq=plain(b.total),
                frozenBal=plain(b.hold),
                ordFrozen=plain(b.hold),
                uTime=str(millis(self.clock.now())),
            )
            entry.pop("availEq")  # spot-mode accounts report availBal (docs: "Applicable to
            details.append(entry)  # Spot mode"); ccxt reads frozenBal as used then
        return answer([{"details": details, "uTime": str(millis(self.clock.now()))}])

    async def _batch_orders(self, request: Request) -> Reply:
        orders = json.loads(request.body or "[]")
        if not isinstance(orders, list) or len(orders) != 1:
            return failure("51000", "Parameter orders error")
        return await self._place(orders[0])

    async def _one_order(self, request: Request) -> Reply:
        return await self._place(json.loads(request.body or "{}"))

    async def _place(self, p: dict[str, Any]) -> Reply:
        # OKX docs, Trade > Place order; the answer is createOrder[0].httpResponse of the fixture.
        product = await self._product(p.get("instId"))
        cl_ord_id = str(p.get("clOrdId") or "")
        if not CLIENT_ID.match(cl_ord_id):
            return _refused(cl_ord_id, "51000", "Parameter clOrdId error")
        for placed in self._orders.values():
            if placed.cl_ord_id == cl_ord_id and await self._is_open(placed):
                return _refused(cl_ord_id, "51016", "Duplicated clOrdId")
        if p.get("tdMode") != "cash":
            return _refused(cl_ord_id, "51000", "Parameter tdMode error")
        ord_type = p.get("ordType")
        if ord_type not in ("limit", "market", "post_only", "ioc"):
            return _refused(cl_ord_id, "51000", "Parameter ordType error")
        if ord_type != "market" and not p.get("px"):
            return _refused(cl_ord_id, "51000", "Parameter px error")
        ord_id = self._next_id()
        placed = _Placed(ord_id, cl_ord_id, f"okx-{self._count}", product.product_id, ord_type)
        request_ = paper_request(
            placed.paper_client_id,
            product.product_id,
            p["side"],
            p["sz"],
            p["px"] if ord_type != "market" else None,
            post_only=ord_type == "post_only",
            ioc=ord_type == "ioc",
        )
        try:
            await self.paper.place_order(request_)
        except OrderRejected as rejected:
            reason = rejected.detail.preview_failure_reason
            if reason == "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY":
                placed.refused = cancelled_at_once(request_, self.clock.now())
            else:
                code, msg = _PAPER_REJECTS.get(reason, ("51000", rejected.detail.message))
                return _refused(cl_ord_id, code, msg)
        except ExchangeError:
            return failure("50001", "Service temporarily unavailable, please try again later.")
        self._orders[ord_id] = placed
        now = str(millis(self.clock.now()))
        placed_ = {"clOrdId": cl_ord_id, "ordId": ord_id, "sCode": "0", "sMsg": "Order placed"}
        return answer([{**placed_, "tag": "", "ts": now}])

    def _find(self, p: dict[str, str]) -> _Placed | None:
        if p.get("ordId"):
            placed = self._orders.get(p["ordId"])
        else:
            cl = p.get("clOrdId")
            placed = next((o for o in self._orders.values() if cl and o.cl_ord_id == cl), None)
        if placed is None or placed.inst_id != p.get("instId"):
            return None
        return placed

    async def _cancel(self, request: Request) -> Reply:
        # OKX docs, Trade > Cancel order: instId and ordId or clOrdId.
        placed = self._find(request.params)
        if placed is None:
            return _refused(request.params.get("clOrdId", ""), "51400", _CANCEL_FAILED)
        order = await self._order_of(placed)
        if order.status is not OrderStatus.OPEN:
            code = "51402" if order.status is OrderStatus.FILLED else "51401"
            return _refused(placed.cl_ord_id, code, _CANCEL_FAILED)
        await _paper(self.paper.cancel_orders([order.order_id]))
        now = str(millis(self.clock.now()))
        return answer([{"clOrdId": placed.cl_ord_id, "ordId": placed.ord_id, "sCode": "0",
                        "sMsg": "", "ts": now}])  # fmt: skip

    async def _render(self, placed: _Placed) -> dict[str, Any]:
        order = await self._order_of(placed)
        product = await self._product(placed.inst_id)
        record = dict(ORDER)
        last = order.fills[-1] if order.fills else None
        record.update(
            accFillSz=plain(order.filled_size),
            avgPx=plain(order.average_filled_price) if order.average_filled_price else "",
            cTime=str(millis(order.created_at)),
            clOrdId=placed.cl_ord_id,
            fee=plain(-order.fees),
            feeCcy=product.quote,
            fillPx=plain(last.price) if last else "",
            fillSz=plain(last.size) if last else "0",
            fillTime=str(millis(last.at)) if last else "",
            instId=placed.inst_id,
            ordId=placed.ord_id,
            ordType=placed.ord_type,
            px=plain(order.limit_price) if order.limit_price is not None else "",
            rebateCcy=product.quote,
            side=order.side.value.lower(),
            state=_state(order),
            sz=plain(order.base_size),
            uTime=str(millis(self.clock.now())),
            cancelSource=POST_ONLY_TOOK if placed.refused is not None else "",
        )
        return record

    async def _order_details(self, request: Request) -> Reply:
        placed = self._find(request.params)
        if placed is None:
            return failure("51603", "Order does not exist")
        return answer([await self._render(placed)])

    def _matches(self, placed: _Placed, p: dict[str, str]) -> bool:
        if p.get("instType", "SPOT") != "SPOT":
            return False
        return not ("instId" in p and placed.inst_id != p["instId"])

    async def _listing(self, p: dict[str, str], want_open: bool) -> Reply:
        """Newest first, ``limit`` (at most 100) at a time; ``after`` (an ordId) pages on to
        older ones (Trade > Get order list / Get order history (last 7 days))."""
        found = []
        for placed in reversed(self._orders.values()):
            if self._matches(placed, p) and await self._is_open(placed) == want_open:
                found.append(placed)
        if "after" in p:
            ids = [o.ord_id for o in found]
            found = found[ids.index(p["after"]) + 1 :] if p["after"] in ids else []
        limit = min(int(p.get("limit", PAGE)), PAGE)
        return answer([await self._render(o) for o in found[:limit]])

    async def _pending(self, request: Request) -> Reply:
        return await self._listing(request.params, want_open=True)

    async def _history(self, request: Request) -> Reply:
        return await self._listing(request.params, want_open=False)

    async def _fills(self, request: Request) -> Reply:
        p = request.params
        data = []
        for placed in reversed(self._orders.values()):
            if "ordId" in p and placed.ord_id != p["ordId"]:
                continue
            if not self._matches(placed, p):
                continue
            order = await self._order_of(placed)
            product = await self._product(placed.inst_id)
            for i, fill in enumerate(order.fills):
                entry = dict(FILL)
                number = int(placed.ord_id) * 100 + i
                entry.update(
                    side=fill.side.value.lower(),
                    fillSz=plain(fill.size),
                    fillPx=plain(fill.price),
                    fee=plain(-fill.fee),
                    feeCcy=product.quote,
                    ordId=placed.ord_id,
                    instId=placed.inst_id,
                    clOrdId=placed.cl_ord_id,
                    billId=str(number),
                    tradeId=str(number),
                    execType="M" if fill.liquidity == "maker" else "T",
                    ts=str(millis(fill.at)),
                )
                data.append(entry)
        return answer(data)


def _refused(cl_ord_id: str, code: str, msg: str) -> Reply:
    """A refused placement (Trade > Place order: code "1", the reason per order)."""
    return answer(
        [{"clOrdId": cl_ord_id, "ordId": "", "sCode": code, "sMsg": msg, "tag": "", "ts": ""}],
        "1",
        "",
    )


def _state(order: Order) -> str:
    if order.status is OrderStatus.OPEN:
        return "partially_filled" if order.filled_size else "live"
    if order.status is OrderStatus.FILLED:
        return "filled"
    return "canceled"
