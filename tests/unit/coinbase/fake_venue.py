"""A small in-memory Coinbase Advanced Trade venue served through ``httpx.MockTransport``.

It answers the v3 endpoints the adapter uses with the documented shapes (``fixtures``),
checks the ES256 JWT of every request against the public key (method, host and path in
``uri``, two-minute lifetime, ``kid`` and ``nonce`` headers), and can inject what production
does to us: 429 storms, 5xx, timeouts (after or before the order is placed) and rejects.

Matching is deliberately simple: market and IOC orders fill against the top of the book,
post-only limits that would cross are refused, other limits rest until ``fill_resting``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jwt

from cleanslate.clock import SimulatedClock

from . import fixtures as fx

PREFIX = "/api/v3/brokerage"
MAKER_FEE = Decimal("0.004")
TAKER_FEE = Decimal("0.006")


@dataclass
class Fault:
    status: int
    remaining: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=dict)
    path: str = ""
    """Only requests whose path (after the API prefix) starts with this; all when empty."""


class FakeCoinbase:
    """The venue. Use ``transport()`` for an ``httpx.AsyncClient``."""

    def __init__(
        self, public_key_pem: str, clock: SimulatedClock, host: str = "api.coinbase.com"
    ) -> None:
        self.public_key = public_key_pem
        self.clock = clock
        self.host = host
        self.key_name = fx.KEY_NAME
        self.accounts: dict[str, dict[str, Decimal]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.books: dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.fills: dict[str, list[dict[str, Any]]] = {}
        self.page_size = 2
        self.products_paging: str | None = None
        """None (one answer), "cursor" (cursor/has_next) or "offset" (offset/num_products)."""
        self.forbid_writes = False
        self.refuse_end_times = False
        self.previews: list[dict[str, Any]] = []
        self.permissions: dict[str, Any] = fx.key_permissions()
        self.summary: dict[str, Any] = fx.transaction_summary()
        self.skew = 0.0
        """Seconds Coinbase's clock (Get Server Time) is ahead of ours."""
        """Refuse every good-till-date order for its end time (the undocumented lead time)."""
        self.throttle_per_second: int | None = None
        """Answer 429 beyond this many accepted requests in any second (a tightened limit)."""
        self._accepted: list[datetime] = []
        self.creates = 0
        self.requests: list[tuple[datetime, str, str]] = []
        self.nonces: set[str] = set()
        self._faults: list[Fault] = []
        self._timeout_next_create: bool | None = None
        self._reject_next_create: dict[str, Any] | None = None

    # --- seeding and faults -------------------------------------------------------------

    def add_account(self, currency: str, available: str, hold: str = "0") -> None:
        self.accounts[currency] = {"available": Decimal(available), "hold": Decimal(hold)}

    def add_product(
        self,
        entry: dict[str, Any],
        bids: list[tuple[str, str]],
        asks: list[tuple[str, str]],
    ) -> None:
        self.products[entry["product_id"]] = entry
        self.books[entry["product_id"]] = (
            [fx.level(p, s) for p, s in bids],
            [fx.level(p, s) for p, s in asks],
        )

    def fail_next(self, count: int, status: int, **kwargs: Any) -> None:
        self._faults.append(Fault(status, count, **kwargs))

    def timeout_next_create(self, *, placed: bool = True) -> None:
        """The next create times out, after the venue placed the order (or before)."""
        self._timeout_next_create = placed

    def reject_next_create(self, payload: dict[str, Any]) -> None:
        self._reject_next_create = payload

    def requests_per_second(self) -> dict[int, int]:
        start = self.requests[0][0] if self.requests else self.clock.now()
        counts: dict[int, int] = {}
        for at, _, _ in self.requests:
            second = int((at - start).total_seconds())
            counts[second] = counts.get(second, 0) + 1
        return counts

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- the handler --------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self._verify_jwt(request)
        path = request.url.path.removeprefix(PREFIX)
        self.requests.append((self.clock.now(), request.method, path))
        previewing = request.method == "POST" and path == "/orders/preview"
        if request.method != "GET" and self.forbid_writes and not previewing:
            raise AssertionError(f"read-only adapter called {request.method} {path}")
        fault = self._take_fault(path) or self._throttle()
        if fault is not None:
            return httpx.Response(fault.status, json=fault.body, headers=fault.headers)
        self._accepted.append(self.clock.now())
        if previewing:
            return self._preview(json.loads(request.content))
        if request.method == "POST" and path == "/orders":
            return self._create(request)
        if request.method == "POST" and path == "/orders/batch_cancel":
            return self._cancel(json.loads(request.content))
        return self._read(path, request.url.params)

    def _verify_jwt(self, request: httpx.Request) -> None:
        token = request.headers["authorization"].removeprefix("Bearer ")
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(
            token,
            self.public_key,
            algorithms=["ES256", "EdDSA"],  # the key's type decides which one applies
            options={"verify_exp": False, "verify_nbf": False},
        )
        now = int(self.clock.now().timestamp())
        assert header["kid"] == self.key_name and header["nonce"] not in self.nonces
        self.nonces.add(header["nonce"])
        assert claims["sub"] == self.key_name and claims["iss"] == "cdp"
        assert claims["nbf"] <= now < claims["exp"] == claims["nbf"] + 120
        assert claims["uri"] == f"{request.method} {self.host}{request.url.path}"

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and path.startswith(fault.path):
                fault.remaining -= 1
                return fault
        return None

    def _throttle(self) -> Fault | None:
        if self.throttle_per_second is None:
            return None
        now = self.clock.now()
        recent = [at for at in self._accepted if (now - at).total_seconds() < 1]
        if len(recent) < self.throttle_per_second:
            return None
        return Fault(429, 0, body=fx.http_error("RATE_LIMIT_EXCEEDED", "Too many requests", 8))

    def _read(self, path: str, params: httpx.QueryParams) -> httpx.Response:
        if path == "/key_permissions":
            return self._json(dict(self.permissions))
        if path == "/transaction_summary":
            return self._json(dict(self.summary))
        if path == "/time":
            return self._json(fx.server_time(self.clock.now() + timedelta(seconds=self.skew)))
        if path == "/accounts":
            return self._json(self._accounts_page(params.get("cursor", "0")))
        if path == "/products":
            return self._json(self._list_products(params))
        if path.startswith("/products/"):
            entry = self.products.get(path.removeprefix("/products/"))
            return self._json(entry) if entry else self._not_found("product not found")
        if path == "/product_book":
            return self._product_book(params["product_id"], int(params.get("limit", "50")))
        if path == "/best_bid_ask":
            ids = params.get_list("product_ids")
            books = [self._pricebook(i, 1) for i in ids if i in self.books]
            return self._json({"pricebooks": books})
        if path == "/orders/historical/batch":
            return self._list_orders(params)
        if path == "/orders/historical/fills":
            return self._list_fills(params)
        if path.startswith("/orders/historical/"):
            found = self.orders.get(path.removeprefix("/orders/historical/"))
            return self._json({"order": found}) if found else self._not_found("order not found")
        return self._not_found(f"no route {path}")

    # --- reads ---------------------------------------------------------------------------

    def _accounts_page(self, cursor: str) -> dict[str, Any]:
        rows = [
            fx.account(c, str(b["available"]), str(b["hold"])) for c, b in self.accounts.items()
        ]
        start = int(cursor or "0")
        end = start + self.page_size
        return fx.accounts_page(rows[start:end], str(end) if end < len(rows) else "")

    def _list_products(self, params: httpx.QueryParams) -> dict[str, Any]:
        """Unpaged by default; ``products_paging`` pages it by cursor or by offset."""
        listed = list(self.products.values())
        if self.products_paging == "cursor":
            return self._page(listed, "products", params)
        if self.products_paging == "offset":
            start = int(params.get("offset") or "0")
            return {"products": listed[start : start + self.page_size], "num_products": len(listed)}
        return {"products": listed, "num_products": len(listed)}

    def _pricebook(self, product_id: str, limit: int) -> dict[str, Any]:
        bids, asks = self.books[product_id]
        return fx.pricebook(product_id, bids[:limit], asks[:limit], self.clock.now())

    def _product_book(self, product_id: str, limit: int) -> httpx.Response:
        if product_id not in self.books:
            return self._not_found("product not found")
        return self._json(fx.product_book(self._pricebook(product_id, limit)))

    def _list_orders(self, params: httpx.QueryParams) -> httpx.Response:
        statuses = params.get_list("order_status")
        products = params.get_list("product_ids")
        since = params.get("start_date")
        rows = [
            o
            for o in sorted(self.orders.values(), key=lambda o: o["created_time"], reverse=True)
            if (not statuses or o["status"] in statuses)
            and (not products or o["product_id"] in products)
            and (not since or o["created_time"] >= since)
        ]
        return self._json(self._page(rows, "orders", params))

    def _list_fills(self, params: httpx.QueryParams) -> httpx.Response:
        ids = params.get_list("order_ids")
        rows = [f for i in ids for f in self.fills.get(i, [])]
        page = self._page(rows, "fills", params)
        page.pop("has_next")
        return self._json(page)

    def _page(self, rows: list[Any], name: str, params: httpx.QueryParams) -> dict[str, Any]:
        start = int(params.get("cursor") or "0")
        end = start + self.page_size
        more = end < len(rows)
        return {name: rows[start:end], "has_next": more, "cursor": str(end) if more else ""}

    # --- writes --------------------------------------------------------------------------

    def _create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.creates += 1
        if self._timeout_next_create is not None:
            placed, self._timeout_next_create = self._timeout_next_create, None
            if placed:
                self._place(body)
            raise httpx.ReadTimeout("timed out", request=request)
        if self._reject_next_create is not None:
            payload, self._reject_next_create = self._reject_next_create, None
            return self._json(payload)
        return self._json(self._place(body))

    def _preview(self, body: dict[str, Any]) -> httpx.Response:
        """Preview Order: the checks a create runs, nothing placed."""
        assert "client_order_id" not in body, "Preview Order takes no client order id"
        self.previews.append(body)
        refusal = self._refusal(body)
        reasons = []
        if refusal is not None:
            reasons = [refusal["error_response"]["preview_failure_reason"]]
        config = next(iter(body["order_configuration"].values()))
        return self._json(fx.preview_answer(body["product_id"], config, reasons))

    def _place(self, body: dict[str, Any]) -> dict[str, Any]:
        for existing in self.orders.values():
            if existing["client_order_id"] == body["client_order_id"]:
                return fx.create_success(existing["order_id"], body)
        refusal = self._refusal(body)
        if refusal is not None:
            return refusal
        order_id = f"ord-{len(self.orders) + 1:04d}"
        self.orders[order_id] = fx.order(order_id, body, status="OPEN", created=self.clock.now())
        self._match(order_id, body)
        return fx.create_success(order_id, body)

    def _refusal(self, body: dict[str, Any]) -> dict[str, Any] | None:
        entry = self.products.get(body["product_id"])
        if entry is None:
            return fx.create_failure("INVALID_PRODUCT_ID", "Invalid product_id", request=body)
        if entry["trading_disabled"] or entry["status"] != "online":
            return fx.create_failure(
                "PRODUCT_NOT_TRADEABLE", "Trading is disabled for this product", request=body
            )
        config = next(iter(body["order_configuration"].values()))
        size = Decimal(config["base_size"])
        if "end_time" in config and self.refuse_end_times:
            return fx.create_failure(
                "INVALID_ORDER_CONFIGURATION",
                "end_time is too close to the current time",
                preview_failure_reason="PREVIEW_INVALID_END_TIME",
                request=body,
            )
        if size < Decimal(entry["base_min_size"]):
            return fx.create_failure(
                "INVALID_ORDER_CONFIGURATION",
                "base size is below the minimum",
                preview_failure_reason="PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
                request=body,
            )
        invalid = self._invalid_configuration(entry, config)
        if invalid is not None:
            return fx.create_failure(
                "INVALID_ORDER_CONFIGURATION",
                invalid[1],
                preview_failure_reason=invalid[0],
                request=body,
            )
        base = entry["base_currency_id"]
        if body["side"] == "SELL" and self.accounts.get(base, {}).get("available", 0) < size:
            return fx.create_failure(
                "INSUFFICIENT_FUND",
                "Insufficient balance in source account",
                preview_failure_reason="PREVIEW_INSUFFICIENT_FUND",
                request=body,
            )
        if config.get("post_only") and self._crosses(body["product_id"], body["side"], config):
            return fx.create_failure(
                "INVALID_LIMIT_PRICE_POST_ONLY",
                "Limit price would cross the book for a post-only order",
                preview_failure_reason="PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
                request=body,
            )
        return None

    def _invalid_configuration(
        self, entry: dict[str, Any], config: dict[str, Any]
    ) -> tuple[str, str] | None:
        """The preview failure and message for a size or price the product does not allow."""
        size = Decimal(config["base_size"])
        if size % Decimal(entry["base_increment"]):
            return "PREVIEW_INVALID_SIZE_PRECISION", "Too many decimals in order size"
        price = Decimal(config.get("limit_price") or entry["price"])
        tick = Decimal(entry.get("price_increment") or entry["quote_increment"])
        if "limit_price" in config and price % tick:
            return "PREVIEW_INVALID_PRICE_PRECISION", "Too many decimals in order price"
        if size * price < Decimal(entry["quote_min_size"]):
            return "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL", "Order value is below the minimum"
        return None

    def _crosses(self, product_id: str, side: str, config: dict[str, Any]) -> bool:
        bids, asks = self.books[product_id]
        price = Decimal(config["limit_price"])
        if side == "SELL":
            return bool(bids) and price <= Decimal(bids[0]["price"])
        return bool(asks) and price >= Decimal(asks[0]["price"])

    def _match(self, order_id: str, body: dict[str, Any]) -> None:
        (kind, config) = next(iter(body["order_configuration"].items()))
        size = Decimal(config["base_size"])
        bids, asks = self.books[body["product_id"]]
        touch = Decimal((bids if body["side"] == "SELL" else asks)[0]["price"])
        if kind == "market_market_ioc" or (
            kind == "sor_limit_ioc" and self._crosses(body["product_id"], body["side"], config)
        ):
            self._execute(order_id, touch, size, "TAKER")
        elif kind == "sor_limit_ioc":
            self.orders[order_id]["status"] = "CANCELLED"
        else:
            self._hold(body, size)

    def _hold(self, body: dict[str, Any], size: Decimal) -> None:
        base = self.products[body["product_id"]]["base_currency_id"]
        if body["side"] == "SELL":
            self.accounts[base]["available"] -= size
            self.accounts[base]["hold"] += size

    def fill_resting(self, order_id: str) -> None:
        """The market trades through a resting limit order: it fills in full, as maker."""
        row = self.orders[order_id]
        config = next(iter(row["order_configuration"].values()))
        size = Decimal(config["base_size"])
        base = self.products[row["product_id"]]["base_currency_id"]
        if row["side"] == "SELL":
            self.accounts[base]["hold"] -= size
            self.accounts[base]["available"] += size
        self._execute(order_id, Decimal(config["limit_price"]), size, "MAKER")

    def _execute(self, order_id: str, price: Decimal, size: Decimal, liquidity: str) -> None:
        row = self.orders[order_id]
        entry = self.products[row["product_id"]]
        fee = (price * size * (MAKER_FEE if liquidity == "MAKER" else TAKER_FEE)).quantize(
            Decimal("0.00000001")
        )
        base, quote = entry["base_currency_id"], entry["quote_currency_id"]
        sign = -1 if row["side"] == "SELL" else 1
        self.accounts.setdefault(base, {"available": Decimal(0), "hold": Decimal(0)})
        self.accounts.setdefault(quote, {"available": Decimal(0), "hold": Decimal(0)})
        self.accounts[base]["available"] += sign * size
        self.accounts[quote]["available"] += -sign * price * size - fee
        row.update(
            status="FILLED",
            filled_size=str(size),
            average_filled_price=str(price),
            total_fees=str(fee),
            filled_value=str(price * size),
        )
        trade_id = f"trade-{sum(len(f) for f in self.fills.values()) + 1}"
        self.fills.setdefault(order_id, []).append(
            fx.fill(
                order_id, row["product_id"], row["side"], price, size, fee, liquidity,
                self.clock.now(), trade_id,
            )
        )  # fmt: skip

    def _cancel(self, body: dict[str, Any]) -> httpx.Response:
        results = []
        for order_id in body["order_ids"]:
            row = self.orders.get(order_id)
            ok = row is not None and row["status"] == "OPEN"
            if ok and row is not None:
                row["status"] = "CANCELLED"
                config = next(iter(row["order_configuration"].values()))
                base = self.products[row["product_id"]]["base_currency_id"]
                if row["side"] == "SELL":
                    self.accounts[base]["hold"] -= Decimal(config["base_size"])
                    self.accounts[base]["available"] += Decimal(config["base_size"])
            reason = "UNKNOWN_CANCEL_FAILURE_REASON" if ok else "UNKNOWN_CANCEL_ORDER"
            results.append({"success": ok, "failure_reason": reason, "order_id": order_id})
        return self._json({"results": results})

    # --- responses -----------------------------------------------------------------------

    def _json(self, payload: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json=payload)

    def _not_found(self, message: str) -> httpx.Response:
        return httpx.Response(404, json=fx.http_error("NOT_FOUND", message, 5))
