"""The Coinbase Advanced Trade adapter: the ``Exchange`` port over Advanced Trade REST v3.

Idempotent placement: Coinbase's Create Order takes our ``client_order_id`` and, per its
reference, creates no second order for an id it has seen but answers with the existing one.
The adapter does not rely on that alone: a refusal that names a duplicate client order id is
answered with the existing order, found by ``find_order``. A timeout during placement is
raised as ``ExchangeTimeout`` and never retried here; the executor then calls ``find_order``
with the same id.

``find_order``: List Orders (``/orders/historical/batch``) has no client-order-id filter, so
the adapter first checks the ids it placed itself, then pages through the orders created in
the last ``find_window`` and matches. Purges look up ids from their own recent attempts, so a
window of days is plenty.

Read-only mode (DryRun accounts) refuses every write before sending it: reads, including
open orders, still work, because a plan needs them, and so does Preview Order, which places
nothing and lets a DryRun plan show Coinbase's verdict on its first slices.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from cleanslate.clock import Clock
from cleanslate.core.market import (
    Balance,
    Book,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    Product,
    Quote,
)
from cleanslate.exchange.coinbase import wire
from cleanslate.exchange.coinbase.auth import Credentials
from cleanslate.exchange.coinbase.errors import (
    is_duplicate_client_order_id,
    rejection_for_create,
)
from cleanslate.exchange.coinbase.ratelimit import TokenBucket
from cleanslate.exchange.coinbase.requesting import PREVIEW_PATH, Session
from cleanslate.exchange.errors import (
    ErrorDetail,
    ExchangeError,
    ExchangeTimeout,
    InvalidProductId,
    NotFound,
    OrderRejected,
    TemporaryError,
    Unavailable,
)

T = TypeVar("T")
DEFAULT_BASE_URL = "https://api.coinbase.com"
PRODUCTS_TTL = timedelta(seconds=60)
"""Products (increments, status, 24h volume) are cached: the guide keeps API use under 50 %."""
PAGE_LIMIT = "250"
MAX_PAGES = 1000
"""A listing longer than this many pages is a server that never says "no more"."""
BOOK_LIMIT = 50
"""Product Book levels fetched for a quote: enough to measure depth within 1 % of the bid."""
CANCEL_BATCH = 100
"""Order ids per Batch Cancel request: bounded so one call never carries an unbounded list
(100 is the per-request maximum as we understand the reference; not re-verified)."""


@dataclass(frozen=True)
class _Listing:
    product: Product
    quote_volume_24h: Decimal
    fetched_at: datetime


class CoinbaseExchange:
    """One Coinbase account. Build it with ``make_client`` and ``Credentials.from_secret_data``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        credentials: Credentials,
        clock: Clock,
        *,
        read_only: bool,
        base_url: str = DEFAULT_BASE_URL,
        products_ttl: timedelta = PRODUCTS_TTL,
        find_window: timedelta = timedelta(days=7),
        bucket: TokenBucket | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self._session = Session(
            client,
            credentials,
            clock,
            base_url=base_url,
            read_only=read_only,
            bucket=bucket,
            rng=rng,
        )
        self._products_ttl = products_ttl
        self._market = f"coinbase@{base_url.rstrip('/')}"
        self._find_window = find_window
        self._listings: dict[str, _Listing] = {}
        self._all_listed_at: datetime | None = None
        self._placed: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"CoinbaseExchange(read_only={self.read_only})"

    @property
    def name(self) -> str:
        return "coinbase"

    @property
    def read_only(self) -> bool:
        return self._session.read_only

    @property
    def market_identity(self) -> str:
        """Every account on one Coinbase origin sees the same products and books, whatever
        its key: they share one fetch of them (``exchange.marketdata``)."""
        return self._market

    @property
    def algorithm(self) -> str:
        """The JWT algorithm of the account's key (``EdDSA`` or ``ES256``)."""
        return self._session.algorithm

    @property
    def requests_made(self) -> int:
        """Requests sent to Coinbase so far (the one-shot run reports it)."""
        return self._session.requests_made

    def stats(self) -> dict[str, int]:
        return {
            "requests_made": self._session.requests_made,
            "rate_limited": self._session.rate_limited,
        }

    # --- account and market data ----------------------------------------------------------

    async def balances(self) -> Sequence[Balance]:
        collected: list[Balance] = []
        async for page in self._pages("/accounts", {"limit": PAGE_LIMIT}):
            collected.extend(wire.accounts_page(page)[0])
        return wire.merge_balances(collected)

    async def products(self) -> Sequence[Product]:
        if not self._fresh(self._all_listed_at):
            async for page in self._pages("/products", {"product_type": "SPOT"}, "products"):
                for entry in page.get("products", []):
                    self._remember(entry)
            self._all_listed_at = self._clock.now()
        return [listing.product for listing in self._listings.values()]

    async def product(self, product_id: str) -> Product:
        return (await self._listing(product_id)).product

    async def quote(self, product_id: str) -> Quote:
        listing = await self._listing(product_id)
        top = await self.book(product_id, BOOK_LIMIT)
        if not top.bids or not top.asks:
            raise TemporaryError(f"{product_id} has an empty side in its book")
        return Quote(
            product_id=product_id,
            bid=top.bids[0].price,
            ask=top.asks[0].price,
            quote_volume_24h=listing.quote_volume_24h,
            bid_depth_quote=wire.bid_depth_quote(top.bids),
            at=top.at,
        )

    async def book(self, product_id: str, depth: int = 10) -> Book:
        params = {"product_id": product_id, "limit": str(depth)}
        payload = await self._get_product_scoped("/product_book", params, product_id)
        return wire.book(payload["pricebook"], depth)

    async def best_bid_ask(self, product_ids: Sequence[str]) -> dict[str, Book]:
        """Top of book for many products in one request (Get Best Bid/Ask), for valuing a
        portfolio without one book request per holding."""
        if not product_ids:
            return {}
        payload = await self._session.get("/best_bid_ask", {"product_ids": list(product_ids)})
        books = (wire.book(p, 1) for p in payload.get("pricebooks", []))
        return {b.product_id: b for b in books}

    # --- preflight reads (Coinbase only, not the port) --------------------------------------

    async def key_permissions(self) -> wire.KeyPermissions:
        """What the API key may do and which portfolio it is scoped to."""
        return _parsed(wire.key_permissions, await self._session.get("/key_permissions"), None)

    async def fee_rates(self) -> tuple[Decimal, Decimal] | None:
        """The account's fee tier as Coinbase reports it (``/transaction_summary``)."""
        return _parsed(wire.fee_rates, await self._session.get("/transaction_summary"), None)

    async def server_time(self) -> datetime:
        """Coinbase's clock, to measure the skew a 120 s JWT must stay within."""
        return _parsed(wire.server_time, await self._session.get("/time"), None)

    async def preview_order(self, request: OrderRequest) -> str:
        """Coinbase's verdict on an order, without placing it (allowed when read-only)."""
        body = wire.preview_order_body(request)
        try:
            payload = await self._session.post(PREVIEW_PATH, body, idempotent=True)
        except OrderRejected as exc:
            return exc.detail.preview_failure_reason or exc.reason_code
        return _parsed(wire.preview_verdict, payload, None)

    # --- orders ---------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        body = wire.create_order_body(request)
        payload = await self._session.post("/orders", body, idempotent=False)
        if not payload.get("success"):
            rejected = rejection_for_create(payload)
            return await self._existing_or_raise(request, rejected)
        order_id = wire.created_order_id(payload)
        if not order_id:
            return await self._accepted_without_id(request)
        self._placed[request.client_order_id] = order_id
        try:
            return await self.get_order(order_id)
        except ExchangeError:
            # Accepted means it exists: whatever the read-back says (403, a malformed body,
            # an outage) the order is tracked as placed and resolved later by its id.
            return _as_placed(request, order_id, self._clock.now())

    async def get_order(self, order_id: str) -> Order:
        payload = await self._session.get(f"/orders/historical/{order_id}")
        return _parsed(wire.order, payload, "order")

    async def find_order(self, client_order_id: str, product_id: str | None = None) -> Order | None:
        known = self._placed.get(client_order_id)
        if known:
            try:
                return await self.get_order(known)
            except NotFound:
                pass
        start = wire.rfc3339(self._clock.now() - self._find_window)
        async for entry in self._orders({"start_date": start}):
            if entry.get("client_order_id") == client_order_id:
                return _parsed(wire.order, entry, None)
        return None

    async def cancel_orders(self, order_ids: Sequence[str]) -> Sequence[str]:
        cancelled: list[str] = []
        ids = list(dict.fromkeys(order_ids))
        for start in range(0, len(ids), CANCEL_BATCH):
            body = {"order_ids": ids[start : start + CANCEL_BATCH]}
            payload = await self._session.post("/orders/batch_cancel", body, idempotent=True)
            cancelled.extend(wire.cancelled_ids(payload))
        return cancelled

    async def open_orders(self, product_id: str | None = None) -> Sequence[Order]:
        """Oldest first (Coinbase lists newest first), so stale-order rules read naturally."""
        params: dict[str, str | list[str]] = {"order_status": "OPEN"}
        if product_id:
            params["product_ids"] = [product_id]
        orders = [_parsed(wire.order, entry, None) async for entry in self._orders(params)]
        open_orders = [o for o in orders if o.status is OrderStatus.OPEN]
        return sorted(open_orders, key=lambda o: (o.created_at, o.order_id))

    async def fills(self, order_id: str) -> Sequence[Fill]:
        collected: list[Fill] = []
        params: dict[str, Any] = {"order_ids": [order_id], "limit": PAGE_LIMIT}
        async for page in self._pages("/orders/historical/fills", params):
            collected.extend(_parsed(wire.fill, f, None) for f in page.get("fills", []))
        return collected

    async def aclose(self) -> None:
        await self._session.aclose()

    # --- helpers --------------------------------------------------------------------------

    async def _orders(self, params: dict[str, Any]) -> AsyncIterator[Mapping[str, Any]]:
        """Every List Orders entry matching ``params``, page by page."""
        async for page in self._pages("/orders/historical/batch", {**params, "limit": PAGE_LIMIT}):
            for entry in page.get("orders", []):
                yield entry

    async def _pages(
        self, path: str, params: Mapping[str, Any], counted: str | None = None
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Every page of a listing: ``cursor``/``has_next`` when the answer carries them, else
        ``offset`` while ``num_products`` says more exist (``counted`` names the rows).
        A cursor seen before, or more than MAX_PAGES pages, is an error: the listing would
        never end, and a partial one must not pass for complete."""
        query, seen, fetched = dict(params), set[str](), 0
        for _ in range(MAX_PAGES):
            page = await self._session.get(path, query)
            yield page
            fetched += len(page.get(counted) or []) if counted else 0
            cursor = wire.next_cursor(page)
            if cursor is not None:
                if cursor in seen:
                    raise Unavailable(f"Coinbase repeated the cursor of {path}: listing aborted")
                seen.add(cursor)
                query = {**query, "cursor": cursor}
                continue
            offset = wire.next_offset(page, counted, fetched) if counted else None
            if offset is None:
                return
            query = {**query, "offset": str(offset)}
        raise Unavailable(f"{path} did not end within {MAX_PAGES} pages")

    async def _accepted_without_id(self, request: OrderRequest) -> Order:
        """``success: true`` that names no order id: look it up by client order id; when
        that finds nothing either, the outcome is unknown (a timeout, to the executor),
        never a rejection."""
        try:
            found = await self.find_order(request.client_order_id)
        except ExchangeError:
            found = None
        if found is not None:
            self._placed[request.client_order_id] = found.order_id
            return found
        raise ExchangeTimeout(
            f"Coinbase accepted {request.client_order_id} without naming its order id"
        )

    async def _existing_or_raise(self, request: OrderRequest, rejected: OrderRejected) -> Order:
        if is_duplicate_client_order_id(rejected):
            existing = await self.find_order(request.client_order_id)
            if existing is not None:
                return existing
        raise rejected

    async def _listing(self, product_id: str) -> _Listing:
        cached = self._listings.get(product_id)
        if cached is not None and self._fresh(cached.fetched_at):
            return cached
        payload = await self._get_product_scoped(f"/products/{product_id}", None, product_id)
        return self._remember(payload)

    async def _get_product_scoped(
        self, path: str, params: dict[str, str] | None, product_id: str
    ) -> Any:
        """A read about one product; Coinbase's 404 for an unknown product is the port's
        InvalidProductId."""
        try:
            return await self._session.get(path, params)
        except NotFound as exc:
            message = f"unknown product {product_id}: {exc.detail.message}".rstrip(": ")
            detail = ErrorDetail(error="INVALID_PRODUCT_ID", message=message, raw=exc.detail.raw)
            raise InvalidProductId(detail=detail) from exc

    def _remember(self, payload: Any) -> _Listing:
        listing = _Listing(wire.product(payload), wire.quote_volume_24h(payload), self._clock.now())
        self._listings[listing.product.product_id] = listing
        return listing

    def _fresh(self, fetched_at: datetime | None) -> bool:
        return fetched_at is not None and self._clock.now() - fetched_at < self._products_ttl


def _parsed(parse: Callable[[Any], T], payload: Any, key: str | None) -> T:
    """``parse(payload[key])``; an answer without the documented fields is the exchange
    misbehaving (Unavailable, worth another look later), never a crash or a rejection."""
    try:
        return parse(payload[key] if key is not None else payload)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = ErrorDetail(message=f"malformed answer ({type(exc).__name__})", raw=payload)
        raise Unavailable("Coinbase answered without the documented fields", detail=detail) from exc


def _as_placed(request: OrderRequest, order_id: str, now: datetime) -> Order:
    """The order as we sent it, when Coinbase accepted it but could not be asked about it."""
    return Order(
        order_id=order_id,
        client_order_id=request.client_order_id,
        product_id=request.product_id,
        side=request.side,
        order_type=request.order_type,
        base_size=request.base_size,
        limit_price=request.limit_price,
        status=OrderStatus.OPEN,
        created_at=now,
        post_only=request.post_only,
    )
