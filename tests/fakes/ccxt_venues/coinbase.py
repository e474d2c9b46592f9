"""A fake Coinbase Advanced Trade API as ccxt's ``coinbase`` class calls it, over the paper
engine.

ccxt's coinbase speaks v3 (``/api/v3/brokerage/...``) for markets, books, orders and fills and
v2 (``/v2/currencies``, ``/v2/exchange-rates``, ``/v2/accounts``) for currencies and, by
default, balances. Private calls carry ``Authorization: Bearer <JWT>``: ES256 over the CDP
key's EC private key, ``sub`` = the key name, ``uri`` = ``METHOD host/path`` (ccxt
``coinbase.create_auth_token``); the fake verifies signature, subject and uri.

Shapes: the v3 answers reuse ``unit.coinbase.fixtures`` (this project's builders, each citing
the Advanced Trade API reference and the official SDK types), so our own Coinbase adapter and
ccxt's are checked against the same payloads; ccxt's recorded fixture
``ts/src/test/static/response/coinbase.json`` (repository ccxt/ccxt) is cited where it records
a raw answer. The v2 currency answers cite the Coinbase App API reference (docs only).

Venue rules: Create Order with a ``client_order_id`` that already exists answers with the
EXISTING order (success, same order_id; Coinbase documents the id as the de-duplication key:
"If the ID provided is not unique, the order will not be created and the order with this ID
is returned instead" is how the paper engine and our adapter read it); refusals are HTTP 200
with ``success: false`` and ``error_response`` exactly as the paper engine builds them
(``paper.rules.reject``), e.g. ``INVALID_LIMIT_PRICE_POST_ONLY`` /
``PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY`` for a post-only that would cross; 429 with
``{"error":"RATE_LIMIT_EXCEEDED"}``; 503 on outage; 404 ``NOT_FOUND`` for an unknown order.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from cleanslate.clock import Clock
from cleanslate.core.market import Order, OrderRequest, OrderStatus, OrderType, Product, Side
from cleanslate.core.market import ProductStatus as Status
from cleanslate.exchange.errors import ExchangeError, NotFound, OrderRejected
from cleanslate.exchange.paper import PaperExchange
from unit.coinbase import fixtures as fx

from .base import FakeVenue, Outage, Reply, Request, plain

V3 = "/api/v3/brokerage/"

LIST_PAGE_MAX = 1000
"""The fake's largest List Orders page (the reference sets no default; ccxt asks for 100)."""

# Coinbase docs, Advanced Trade > Fees > Get Transaction Summary (ccxt reads the fee tier
# for its markets' maker/taker fees).
TRANSACTION_SUMMARY: dict[str, Any] = {
    "total_volume": 0,
    "total_fees": 0,
    "fee_tier": {
        "pricing_tier": "Advanced 1",
        "usd_from": "0",
        "usd_to": "1000",
        "taker_fee_rate": "0.012",
        "maker_fee_rate": "0.006",
        "aop_from": "",
        "aop_to": "",
    },
    "margin_rate": None,
    "goods_and_services_tax": None,
    "advanced_trade_only_volume": 0,
    "advanced_trade_only_fees": 0,
    "coinbase_pro_volume": 0,
    "coinbase_pro_fees": 0,
}

# Coinbase App API docs, Currencies > Get Fiat Currencies / Get Cryptocurrencies and
# Exchange Rates (docs only; no ccxt fixture records them).
FIAT_CURRENCY: dict[str, Any] = {"id": "USD", "name": "US Dollar", "min_size": "0.01"}
CRYPTO_CURRENCY: dict[str, Any] = {
    "asset_id": "5b71fc48-3dd3-540c-809b-f8c94d0e68b5",
    "code": "BTC",
    "name": "Bitcoin",
    "color": "#F7931A",
    "sort_index": 100,
    "exponent": 8,
    "type": "crypto",
    "address_regex": "^.+$",
}

_STATUS = {
    OrderStatus.OPEN: "OPEN",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELLED: "CANCELLED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "FAILED",
}
FIAT = frozenset({"USD", "EUR", "GBP"})


class FakeCoinbaseCcxt(FakeVenue):
    exchange_id = "coinbase"
    order_paths = (
        "/api/v3/brokerage/orders",
        "/api/v3/brokerage/orders/batch_cancel",
        "/api/v3/brokerage/orders/edit",
        "/api/v3/brokerage/orders/close_position",
    )

    def __init__(
        self, paper: PaperExchange, clock: Clock, *, key_name: str, private_key_pem: str
    ) -> None:
        super().__init__(paper, clock)
        self.key_name = key_name
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        self._public_key = key.public_key()
        self._requests_by_order: dict[str, dict[str, Any]] = {}

    def placed_client_ids(self) -> list[str]:
        return [body["client_order_id"] for body in self._requests_by_order.values()]

    async def orders(self) -> list[Order]:
        return [await self.paper.get_order(oid) for oid in self._requests_by_order]

    def rate_limited(self) -> Reply:
        return Reply(
            429,
            {"error": "RATE_LIMIT_EXCEEDED", "code": 8, "message": "Too many requests"},
            {"Retry-After": "1"},
        )

    def unavailable(self) -> Reply:
        return Reply(503, "upstream connect error or disconnect/reset before headers")

    def server_error(self) -> Reply:
        # Advanced Trade's error shape (as its 429 above: gRPC status name and code); 13 is
        # gRPC INTERNAL. ccxt's coinbase.handle_errors raises a plain ExchangeError for it.
        return Reply(500, {"error": "INTERNAL", "code": 13, "message": "Internal error"})

    # --- routing --------------------------------------------------------------------------

    async def handle(self, request: Request) -> Reply:
        path, method = request.path, request.method
        if path.startswith("/v2/"):
            return await self._v2(request, path[len("/v2/") :])
        if not path.startswith(V3):
            return Reply(404, fx.http_error("NOT_FOUND", f"no {path}", 5))
        endpoint = path[len(V3) :]
        if endpoint.startswith("market/"):
            return await self._public(request, endpoint[len("market/") :])
        self._check_jwt(request)
        await self._adopt()
        if endpoint in ("products", "product_book") or endpoint.startswith("products/"):
            return await self._public(request, endpoint)
        routes = {
            ("GET", "transaction_summary"): self._transaction_summary,
            ("GET", "accounts"): self._accounts,
            ("GET", "best_bid_ask"): self._best_bid_ask,
            ("POST", "orders"): self._create,
            ("POST", "orders/batch_cancel"): self._batch_cancel,
            ("GET", "orders/historical/batch"): self._list_orders,
            ("GET", "orders/historical/fills"): self._fills,
        }
        handler = routes.get((method, endpoint))
        if handler is not None:
            return await handler(request)
        if method == "GET" and endpoint.startswith("orders/historical/"):
            return await self._get_order(endpoint[len("orders/historical/") :])
        return Reply(404, fx.http_error("NOT_FOUND", f"no {method} {endpoint}", 5))

    def _check_jwt(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise Outage(Reply(401, fx.http_error("UNAUTHENTICATED", "missing JWT", 16)))
        try:
            claims = jwt.decode(
                header[len("Bearer ") :],
                self._public_key,  # type: ignore[arg-type]
                algorithms=["ES256"],
                audience="retail_rest_api_proxy",
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError as bad:
            raise Outage(Reply(401, fx.http_error("UNAUTHENTICATED", str(bad), 16))) from bad
        host = request.url.split("://", 1)[1].split("/", 1)[0]
        wanted = f"{request.method} {host}{request.path}"
        fresh = claims.get("exp", 0) - claims.get("nbf", 0) == 120
        # ccxt signs with the wall clock (not the simulated one): the token must be current
        current = abs(claims.get("iat", 0) - time.time()) < 300
        if claims.get("sub") != self.key_name or claims.get("uri") != wanted or not fresh:
            raise Outage(Reply(401, fx.http_error("UNAUTHENTICATED", "invalid JWT", 16)))
        if not current:
            raise Outage(Reply(401, fx.http_error("UNAUTHENTICATED", "expired JWT", 16)))

    # --- v2 (currencies, balances) --------------------------------------------------------

    async def _v2(self, request: Request, endpoint: str) -> Reply:
        products = await self.paper.products()
        assets = sorted({p.base for p in products} | {p.quote for p in products})
        if endpoint == "currencies":
            return Reply(
                200, {"data": [dict(FIAT_CURRENCY, id=a, name=a) for a in assets if a in FIAT]}
            )
        if endpoint == "currencies/crypto":
            crypto = [a for a in assets if a not in FIAT]
            return Reply(
                200,
                {
                    "data": [
                        dict(CRYPTO_CURRENCY, code=a, name=a, asset_id=f"asset-{a.lower()}")
                        for a in crypto
                    ]
                },
            )
        if endpoint == "exchange-rates":
            return Reply(200, {"data": {"currency": "USD", "rates": {a: "1" for a in assets}}})
        if endpoint == "time":
            now = self.clock.now()
            return Reply(200, {"data": {"iso": fx.iso(now), "epoch": int(now.timestamp())}})
        if endpoint == "accounts" and request.method == "GET":
            self._check_jwt(request)
            # Coinbase App API docs, Accounts > List Accounts: balance only (no hold)
            balances = await self._paper(self.paper.balances())
            data = [
                {
                    "id": f"acc-{b.asset.lower()}",
                    "name": f"{b.asset} Wallet",
                    "primary": True,
                    "type": "fiat" if b.asset in FIAT else "wallet",
                    "currency": {
                        "code": b.asset,
                        "name": b.asset,
                        "type": "fiat" if b.asset in FIAT else "crypto",
                    },
                    "balance": {"amount": plain(b.total), "currency": b.asset},
                    "created_at": "2021-05-31T09:59:59Z",
                    "updated_at": "2024-01-15T10:30:00Z",
                    "resource": "account",
                    "resource_path": f"/v2/accounts/acc-{b.asset.lower()}",
                }
                for b in balances
            ]
            return Reply(200, {"pagination": {"next_uri": None, "limit": 25}, "data": data})
        return Reply(404, {"errors": [{"id": "not_found", "message": "Not found"}]})

    # --- market data ----------------------------------------------------------------------

    async def _products(self) -> dict[str, Product]:
        return {p.product_id: p for p in await self.paper.products()}

    async def _product(self, product_id: str) -> Product:
        product = (await self._products()).get(product_id)
        if product is None:
            raise Outage(Reply(404, fx.http_error("NOT_FOUND", "ProductID is invalid", 5)))
        return product

    async def _render_product(self, p: Product) -> dict[str, Any]:
        price = Decimal(0)
        volume = Decimal(0)
        if p.status is not Status.DELISTED:
            quote = await self._paper(self.paper.quote(p.product_id))
            price, volume = quote.mid, quote.quote_volume_24h
        return fx.product(
            p.product_id,
            plain(price),
            base_increment=plain(p.base_increment).rstrip("0").rstrip(".") or "1",
            quote_increment=plain(p.quote_increment).rstrip("0").rstrip(".") or "1",
            price_increment=plain(p.price_tick).rstrip("0").rstrip(".") or "1",
            base_min_size=plain(p.min_base_size).rstrip("0").rstrip(".") or "1",
            quote_min_size=plain(p.min_notional).rstrip("0").rstrip(".") or "1",
            volume_24h=plain(volume / price if price else Decimal(0)),
            approximate_quote_24h_volume=plain(volume),
            status="online" if p.status is not Status.DELISTED else "delisted",
            trading_disabled=p.status is not Status.TRADEABLE,
            is_disabled=p.status is Status.DELISTED,
        )

    async def _public(self, request: Request, endpoint: str) -> Reply:
        p = request.params
        if endpoint == "products":
            if p.get("product_type") == "FUTURE":
                return Reply(200, {"products": [], "num_products": 0})
            rendered = [await self._render_product(x) for x in (await self._products()).values()]
            return Reply(200, {"products": rendered, "num_products": len(rendered)})
        if endpoint == "product_book":
            return await self._product_book(p.get("product_id", ""), int(p.get("limit", "50")))
        if endpoint.startswith("products/"):
            rest = endpoint[len("products/") :]
            product_id, _, tail = rest.partition("/")
            product = await self._product(product_id)
            if tail == "":
                return Reply(200, await self._render_product(product))
            if tail == "ticker":
                return await self._ticker(product)
        return Reply(404, fx.http_error("NOT_FOUND", f"no {endpoint}", 5))

    async def _book(self, product_id: str, limit: int) -> dict[str, Any]:
        await self._product(product_id)
        book = await self._paper(self.paper.book(product_id, limit))
        return fx.pricebook(
            product_id,
            [fx.level(plain(lv.price), plain(lv.size)) for lv in book.bids],
            [fx.level(plain(lv.price), plain(lv.size)) for lv in book.asks],
            book.at,
        )

    async def _product_book(self, product_id: str, limit: int) -> Reply:
        return Reply(200, fx.product_book(await self._book(product_id, limit)))

    async def _best_bid_ask(self, request: Request) -> Reply:
        ids = [v for k, v in _pairs(request.url) if k == "product_ids"]
        books = [await self._book(pid, 1) for pid in ids]
        return Reply(200, {"pricebooks": books})

    async def _ticker(self, product: Product) -> Reply:
        # Advanced Trade docs, Products > Get Market Trades: trades plus best bid/ask.
        quote = await self._paper(self.paper.quote(product.product_id))
        trade = {
            "trade_id": "1",
            "product_id": product.product_id,
            "price": plain(quote.mid),
            "size": "1",
            "time": fx.iso(quote.at),
            "side": "BUY",
            "bid": "",
            "ask": "",
            "exchange": "CBE",
        }
        return Reply(
            200, {"trades": [trade], "best_bid": plain(quote.bid), "best_ask": plain(quote.ask)}
        )

    # --- account and orders ---------------------------------------------------------------

    async def _transaction_summary(self, request: Request) -> Reply:
        return Reply(200, TRANSACTION_SUMMARY)

    async def _accounts(self, request: Request) -> Reply:
        balances = await self._paper(self.paper.balances())
        accounts = [fx.account(b.asset, plain(b.available), plain(b.hold)) for b in balances]
        return Reply(200, fx.accounts_page(accounts, ""))

    async def _create(self, request: Request) -> Reply:
        body = json.loads(request.body or "{}")
        config = body.get("order_configuration", {})
        if len(config) != 1:
            return Reply(400, fx.http_error("INVALID_ARGUMENT", "one order_configuration", 3))
        ((kind, fields),) = config.items()
        limit = fields.get("limit_price")
        order_request = OrderRequest(
            client_order_id=body.get("client_order_id", ""),
            product_id=body.get("product_id", ""),
            side=Side(body.get("side", "")),
            base_size=Decimal(fields.get("base_size", "0")),
            order_type=OrderType.MARKET if kind.startswith("market") else OrderType.LIMIT,
            limit_price=Decimal(limit) if limit is not None else None,
            post_only=bool(fields.get("post_only", False)),
            immediate_or_cancel="ioc" in kind,
        )
        try:
            order = await self.paper.place_order(order_request)
        except OrderRejected as rejected:
            raw = dict(rejected.detail.raw or {})
            raw["order_configuration"] = config
            return Reply(200, raw)
        except ExchangeError:
            return self.unavailable()
        self._requests_by_order.setdefault(order.order_id, body)
        return Reply(200, fx.create_success(order.order_id, body))

    async def _batch_cancel(self, request: Request) -> Reply:
        ids = json.loads(request.body or "{}").get("order_ids", [])
        cancelled = set(await self._paper(self.paper.cancel_orders(ids)))
        results = [
            {
                "success": oid in cancelled,
                "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON"
                if oid in cancelled
                else "UNKNOWN_CANCEL_ORDER",
                "order_id": oid,
            }
            for oid in ids
        ]
        return Reply(200, {"results": results})

    def _render_order(self, order: Order) -> dict[str, Any]:
        body = self._requests_by_order.get(order.order_id) or _request_of(order)
        rendered = fx.order(
            order.order_id,
            body,
            status=_STATUS[order.status],
            created=order.created_at,
            filled_size=order.filled_size,
            average_filled_price=order.average_filled_price or Decimal(0),
            total_fees=order.fees,
        )
        rendered["number_of_fills"] = str(len(order.fills))
        if order.base_size:
            rendered["completion_percentage"] = str(order.filled_size / order.base_size * 100)
        return rendered

    async def _get_order(self, order_id: str) -> Reply:
        try:
            order = await self.paper.get_order(order_id)
        except NotFound:
            return Reply(
                404, fx.http_error("NOT_FOUND", "order with this orderID was not found", 5)
            )
        return Reply(200, {"order": self._render_order(order)})

    async def _list_orders(self, request: Request) -> Reply:
        pairs = _pairs(request.url)
        statuses = {v for k, v in pairs if k == "order_status"}
        products = {v for k, v in pairs if k in ("product_ids", "product_id")}
        found = []
        for record in self._all_orders():
            order = await self._paper(self.paper.get_order(record))
            if statuses and _STATUS[order.status] not in statuses:
                continue
            if products and order.product_id not in products:
                continue
            found.append(self._render_order(order))
        found.sort(key=lambda o: o["created_time"], reverse=True)
        # Coinbase docs, List Orders: "limit: A pagination limit ... If has_next is true,
        # additional orders are available to be fetched with pagination; also the cursor
        # value in the response can be passed as cursor parameter in the subsequent
        # request." The cursor is opaque; here it is the offset of the next page.
        params = dict(pairs)
        start = int(params.get("cursor") or 0)
        limit = min(int(params.get("limit") or LIST_PAGE_MAX), LIST_PAGE_MAX)
        page = found[start : start + limit]
        more = start + limit < len(found)
        cursor = str(start + limit) if more else ""
        return Reply(200, {"orders": page, "sequence": "0", "has_next": more, "cursor": cursor})

    async def _adopt(self) -> None:
        """Orders the paper account holds that were not placed through this venue (seeded
        stale orders) are listed like any other."""
        for order in await self._paper(self.paper.open_orders()):
            self._requests_by_order.setdefault(order.order_id, _request_of(order))

    def _all_orders(self) -> list[str]:
        return list(self._requests_by_order)

    async def _fills(self, request: Request) -> Reply:
        wanted = {v for k, v in _pairs(request.url) if k in ("order_id", "order_ids")}
        fills = []
        for order_id in self._all_orders():
            if wanted and order_id not in wanted:
                continue
            order = await self._paper(self.paper.get_order(order_id))
            for i, f in enumerate(order.fills):
                fills.append(
                    fx.fill(
                        order_id,
                        order.product_id,
                        order.side.value,
                        f.price,
                        f.size,
                        f.fee,
                        f.liquidity.upper(),
                        f.at,
                        f.trade_id or f"{order_id}-{i}",
                    )
                )
        return Reply(200, {"fills": fills, "cursor": ""})

    async def _paper(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except NotFound as missing:
            raise Outage(Reply(404, fx.http_error("NOT_FOUND", str(missing), 5))) from missing
        except ExchangeError as down:
            raise Outage(self.unavailable()) from down


def _request_of(order: Order) -> dict[str, Any]:
    """The Create Order body an order seeded on the paper account would have had."""
    size = plain(order.base_size).rstrip("0").rstrip(".")
    if order.order_type is OrderType.MARKET:
        config: dict[str, Any] = {"market_market_ioc": {"base_size": size}}
    else:
        config = {
            "limit_limit_gtc": {
                "base_size": size,
                "limit_price": plain(order.limit_price or Decimal(0)).rstrip("0").rstrip("."),
                "post_only": order.post_only,
            }
        }
    return {
        "client_order_id": order.client_order_id,
        "product_id": order.product_id,
        "side": order.side.value,
        "order_configuration": config,
    }


def _pairs(url: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(url).query, keep_blank_values=True)
