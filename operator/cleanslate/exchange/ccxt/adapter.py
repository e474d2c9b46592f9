"""Any ccxt exchange behind the ``Exchange`` port: markets, quotes, orders, fills.

Every call goes through ccxt's unified methods on one async client (``client.make_client``),
translated at this boundary into the port's values and errors (``errors.translate``).

**Idempotent placement.** Venues differ: Binance and Kraken refuse a duplicate client order
id only while the first order is open, so a re-issued placement of a filled order would sell
twice. ``place_order`` therefore looks the id up first (``find_order``) and places only when
no order has it; a duplicate-id refusal is then answered with the existing order too.
A timeout during placement is ``ExchangeTimeout`` and never retried here: the executor looks
the order up by its id before anything else.

**Client order ids** are made to fit each venue (``venue_client_id``): an id longer than the
venue takes (Kraken: 18 characters) is replaced by ``cs-`` and a prefix of its SHA-256, the
same on every restart; orders read back carry cleanslate's own id when this adapter made the
venue's. Either way the id starts with ``cs-``, which is how the operator tells its orders.

**Symbols.** ccxt needs a symbol to fetch or cancel an order on most venues (``features``'
``symbolRequired``); the port passes order ids only, so the adapter remembers each order's
symbol from every order it has seen (placed, listed or found). An id it never saw is asked
about without a symbol, which the venues that need one refuse (a permanent error, not a
guess). ``find_order`` takes the product id as a hint for the same reason.

**Fees** are reported in the quote currency: a fee in the quote is taken as is, a fee in the
base at the trade's price, and a fee in a third currency (Binance's BNB discount) at that
currency's bid against the quote when the venue lists the pair; otherwise it is counted as 0
and logged, so fees_paid is understated rather than a sale blocked.

**Good-till-date** is not sent: none of the tested venues takes it through ccxt's spot
createOrder except Coinbase, and the TWAP cancels its own maker orders at their TTL (as the
Coinbase adapter does after a refused end time). Maker orders are GTC.

**Read-only** (DryRun): every order endpoint (create, cancel, edit) is refused before ccxt
is called; reads still work, because a plan needs them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from cleanslate.clock import Clock
from cleanslate.core.market import (
    Balance,
    Book,
    BookLevel,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    Quote,
    Side,
)
from cleanslate.exchange.ccxt import dust, markets
from cleanslate.exchange.ccxt.capabilities import (
    Capabilities,
    ClientIdSemantics,
    IdForm,
    Lookup,
    LookupKind,
    OlderThan,
    capabilities,
    semantics,
)
from cleanslate.exchange.ccxt.client import api_origins
from cleanslate.exchange.ccxt.errors import ReadOnlyRefused, Unsupported, translate
from cleanslate.exchange.errors import (
    ErrorDetail,
    ExchangeError,
    InsufficientBalance,
    InvalidOrderConfiguration,
    InvalidProductId,
    NotFound,
    OrderRejected,
    PermanentError,
    PostOnlyWouldCross,
    ProductNotTradeable,
    TemporaryError,
    Unavailable,
)
from cleanslate.exchange.port import DustConversion, DustTerms

logger = logging.getLogger(__name__)
T = TypeVar("T")
ZERO = Decimal(0)
BOOK_LIMIT = 50
"""Order book levels fetched for a quote: enough to measure depth within 1 % of the bid."""
DEPTH_BAND = Decimal("0.01")
"""Bid depth counts the levels within this fraction of the best bid (as for Coinbase)."""
MARKETS_TTL = timedelta(hours=1)
"""Markets load once per client and again after this long, for status changes (a suspension)."""
FIND_WINDOW = timedelta(days=7)
"""Closed orders searched by ``find_order``: purges look up ids from their own recent attempts."""
_STATUSES = {
    "open": OrderStatus.OPEN,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


class CcxtExchange:
    """One account on one ccxt venue. Build the client with ``make_client``; clients are
    shared between accounts with the same key (``registry``), adapters are not."""

    def __init__(
        self,
        client: Any,
        clock: Clock,
        *,
        exchange_id: str,
        read_only: bool,
        markets_ttl: timedelta = MARKETS_TTL,
        find_window: timedelta = FIND_WINDOW,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._exchange_id = exchange_id
        self._read_only = read_only
        self._markets_ttl = markets_ttl
        self._find_window = find_window
        self._on_close = on_close
        self._closed = False
        self._markets_at: datetime | None = None
        self._symbols: dict[str, str] = {}
        """Order id -> ccxt symbol of every order seen."""
        self._placed: dict[str, str] = {}
        """Client order id -> order id of the orders this adapter placed or found."""
        self._ours: dict[str, str] = {}
        """Venue client order id -> cleanslate's, for ids shortened to fit the venue."""
        self._makers: set[str] = set()
        """Order ids this adapter placed post-only: read back as post-only where the venue's
        answers do not say (ccxt's bitstamp leaves ``postOnly`` None: Bitstamp's order
        answers carry no maker-or-cancel flag; Bitget's carry no time in force, v2 Spot Get
        Order Info and Get History Orders)."""
        self._semantics = semantics(exchange_id)
        self.capabilities: Capabilities = capabilities(client)

    def __repr__(self) -> str:
        return f"CcxtExchange({self._exchange_id!r}, read_only={self._read_only})"

    @property
    def name(self) -> str:
        return f"ccxt-{self._exchange_id}"

    @property
    def exchange_id(self) -> str:
        return self._exchange_id

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def market_identity(self) -> str:
        """``ccxt:<id>@<origins>``: the exchange id and every API origin its client calls, so
        accounts share public data only with accounts that reach the same venue the same way
        (a sandbox, or a platform redirect, is another market)."""
        return f"ccxt:{self._exchange_id}@{','.join(api_origins(self._client))}"

    @property
    def client(self) -> Any:
        return self._client

    # --- account and market data ----------------------------------------------------------

    async def fee_rates(self) -> tuple[Decimal, Decimal] | None:
        """The account's (maker, taker) bps from ccxt's ``fetchTradingFees`` (unified fee
        structures, ``maker``/``taker`` as fractions per symbol): the rates most of its
        symbols show. None when the venue has no such call or answers without them."""
        if self._client.has.get("fetchTradingFees") is not True:
            return None
        payload = await self._call(self._client.fetch_trading_fees)
        rates = _common_rates(payload)
        if rates is not None and self._semantics.fees_in_percent:
            maker, taker = rates
            return (maker / 100).normalize(), (taker / 100).normalize()
        return rates

    async def server_time(self) -> datetime | None:
        """The venue's clock from ccxt's ``fetch_time`` (Unix milliseconds); None when the
        venue has no time endpoint (``has['fetchTime']`` not True) or answers no number."""
        if self._client.has.get("fetchTime") is not True:
            return None
        millis = await self._call(self._client.fetch_time)
        if isinstance(millis, bool) or not isinstance(millis, int | float):
            return None
        return datetime.fromtimestamp(millis / 1000, UTC)

    def dust_terms(self) -> DustTerms | None:
        """The venue's own dust conversion (``ccxt.dust``), None on venues without one."""
        endpoint = dust.ENDPOINTS.get(self._exchange_id)
        return endpoint.terms if endpoint else None

    async def convert_dust(self, assets: Sequence[str]) -> DustConversion:
        """The venue's dust conversion through ccxt's implicit API (Binance's ``POST
        /sapi/v1/asset/dust``); refused before sending when read-only."""
        endpoint = dust.ENDPOINTS.get(self._exchange_id)
        if endpoint is None:
            raise Unsupported(f"{self.name} has no dust conversion")
        self._refuse_writes("dust conversion")
        method = getattr(self._client, endpoint.method)
        payload = await self._call(method, dust.request(list(assets)))
        return dust.read(payload, endpoint.terms)

    async def balances(self) -> Sequence[Balance]:
        """ccxt's free/used/total per asset. A venue that reports only some of the three
        (ccxt leaves the others None) gets the missing one from the others; one that reports
        only a total has nothing on hold as far as anyone can tell (a sale beyond what is
        really free is refused by the venue as insufficient, never made twice)."""
        payload = await self._call(self._client.fetch_balance)
        free = payload.get("free") or {}
        used = payload.get("used") or {}
        total = payload.get("total") or {}
        result: list[Balance] = []
        for asset in sorted(set(free) | set(used) | set(total)):
            known_free = markets.number(free.get(asset))
            known_used = markets.number(used.get(asset))
            known_total = markets.number(total.get(asset))
            if known_free is None:
                known_free = (known_total or ZERO) - (known_used or ZERO)
            available = max(known_free, ZERO)
            hold = known_used
            if hold is None:
                hold = max((known_total or ZERO) - available, ZERO)
            if available or hold:
                result.append(Balance(asset=str(asset), available=available, hold=hold))
        return result

    async def products(self) -> Sequence[Product]:
        loaded = await self._markets()
        return [self._product_of(m) for m in loaded.values() if markets.is_spot(m)]

    def _product_of(self, market: Mapping[str, Any]) -> Product:
        mode = self._client.precisionMode
        return markets.product(market, mode, self._semantics.min_amount_info)

    async def product(self, product_id: str) -> Product:
        return self._product_of(await self._market(product_id))

    async def quote(self, product_id: str) -> Quote:
        market = await self._market(product_id)
        symbol = str(market["symbol"])
        ticker = await self._call(self._client.fetch_ticker, symbol)
        volume = quote_volume(ticker)
        if volume is None and self._client.has.get("fetchTickers") is True:
            # ccxt's coinbase builds its ticker from recent trades, without the 24h volume
            # that its product listing (fetchTickers) carries.
            tickers = await self._call(self._client.fetch_tickers, [symbol])
            volume = quote_volume(tickers.get(symbol) or {})
        top = await self.book(product_id, BOOK_LIMIT)
        bid = top.bids[0].price if top.bids else markets.number(ticker.get("bid"))
        ask = top.asks[0].price if top.asks else markets.number(ticker.get("ask"))
        if not bid or not ask:
            raise TemporaryError(f"{product_id} has an empty side in its book")
        return Quote(
            product_id=product_id,
            bid=bid,
            ask=ask,
            quote_volume_24h=volume,
            bid_depth_quote=bid_depth_quote(top.bids),
            at=top.at,
        )

    async def book(self, product_id: str, depth: int = 10) -> Book:
        market = await self._market(product_id)
        payload = await self._call(self._client.fetch_order_book, str(market["symbol"]), depth)
        return Book(
            product_id=product_id,
            bids=_levels(payload.get("bids"), depth),
            asks=_levels(payload.get("asks"), depth),
            at=self._clock.now(),
        )

    # --- orders ---------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        self._refuse_writes("create_order")
        market = await self._market(request.product_id)
        _check_request(request, self._product_of(market))
        existing = await self.find_order(request.client_order_id, request.product_id)
        if existing is not None:
            return existing
        symbol = str(market["symbol"])
        kind, price, params = self._order_arguments(request)
        try:
            created = await self._client.create_order(
                symbol,
                kind,
                request.side.value.lower(),
                float(request.base_size),
                price,
                params,
            )
        except Exception as exc:
            error = translate(exc, placing=True)
            message = error.detail.message.lower()
            if any(text in message for text in self._semantics.duplicate_texts):
                # Another placement of this id got there first (Binance -2010 "Duplicate
                # order sent.", Kraken's duplicate cl_ord_id, Bitstamp's "client_order_id
                # already exists"): the order exists, return it.
                found = await self.find_order(request.client_order_id, request.product_id)
                if found is not None:
                    return found
            raise error from exc
        order_id = str(created.get("id") or "")
        if not order_id:
            found = await self.find_order(request.client_order_id, request.product_id)
            if found is None:
                raise Unavailable(f"{self.name} accepted {request.client_order_id} without an id")
            return found
        self._symbols[order_id] = symbol
        self._placed[request.client_order_id] = order_id
        if request.post_only:
            self._makers.add(order_id)
        try:
            order = await self.get_order(order_id)
        except ExchangeError:
            # Accepted means it exists: whatever the read-back says, it is tracked as placed.
            return self._as_placed(request, order_id, created)
        if request.post_only and order.status.is_final and order.filled_size == 0:
            # Kraken (and venues like it) accept a post-only order that would take and cancel
            # it at once ("reason": "Post only order"): for the TWAP that is a crossing.
            detail = ErrorDetail(
                error=PostOnlyWouldCross.code,
                message=f"post-only order {order_id} ended at once ({order.status.value}): "
                f"{order.reject_reason or 'no reason given'}",
                preview_failure_reason=order.reject_reason or order.status.value,
                raw={"order_id": order_id, "status": order.status.value},
            )
            raise PostOnlyWouldCross(detail=detail)
        return order

    async def get_order(self, order_id: str) -> Order:
        symbol = self._symbols.get(order_id)
        if symbol is None and self._symbol_required("fetchOrder"):
            raise NotFound(
                detail=ErrorDetail(
                    error="ORDER_NOT_FOUND",
                    message=f"{self.name} has seen no order {order_id[:64]!r}, and the venue "
                    "looks orders up only within their market",
                    raw={"order_id": order_id},
                )
            )
        try:
            payload = await self._client.fetch_order(order_id, symbol)
        except Exception as exc:
            texts = self._semantics.not_found_texts
            raise _not_found_or(translate(exc), order_id, texts) from exc
        return await self._with_fees(payload)

    async def find_order(self, client_order_id: str, product_id: str | None = None) -> Order | None:
        """The order with this client order id, or None. ``product_id`` narrows the search
        (and is needed on venues that search one market at a time).

        None means the venue said no such order exists, never "not on the page we read": a
        placement follows a None, and on Binance or Kraken a filled order's id is accepted
        again as a new order. How the venue is asked is its ``ClientIdSemantics.lookup``: by
        id, by a listing filtered to the id, or every page of the find window; a lookup that
        cannot read to the end raises ``Unavailable`` instead of answering."""
        known = self._placed.get(client_order_id)
        if known:
            try:
                return await self.get_order(known)
            except NotFound:
                pass
        venue_id = self.venue_client_id(client_order_id)
        symbol = markets.symbol_of(product_id) if product_id else None
        lookup = self._semantics.lookup
        if lookup.kind is LookupKind.BY_ID:
            payload = await self._find_by_client_id(venue_id, symbol, lookup)
        elif lookup.kind is LookupKind.PAGED:
            payload = await self._find_in_pages(venue_id, symbol, lookup)
        else:
            payload = await self._find_in_listings(venue_id, symbol, lookup)
        return None if payload is None else await self._remember_found(client_order_id, payload)

    async def cancel_orders(self, order_ids: Sequence[str]) -> Sequence[str]:
        """Cancels each open order. Venues differ on cancelling a final one (Kraken answers
        success, Coinbase a generic failure, Binance "Unknown order"), so the order's state is
        read first and again after a refusal: a final order is left out, as the port asks."""
        self._refuse_writes("cancel_order")
        cancelled: list[str] = []
        for order_id in dict.fromkeys(order_ids):
            try:
                if (await self.get_order(order_id)).status.is_final:
                    continue
            except NotFound:
                continue
            try:
                await self._client.cancel_order(order_id, self._symbols.get(order_id))
            except Exception as exc:
                error = translate(exc)
                if isinstance(error, TemporaryError):
                    raise error from exc
                try:
                    if (await self.get_order(order_id)).status.is_final:
                        continue
                except NotFound:
                    continue
                raise error from exc
            cancelled.append(order_id)
        return cancelled

    async def open_orders(self, product_id: str | None = None) -> Sequence[Order]:
        """Oldest first, so stale-order rules read naturally."""
        symbol = markets.symbol_of(product_id) if product_id else None
        orders = [self._order(o) for o in await self._open_payloads(symbol)]
        open_orders = [o for o in orders if o.status is OrderStatus.OPEN]
        return sorted(open_orders, key=lambda o: (o.created_at, o.order_id))

    async def fills(self, order_id: str) -> Sequence[Fill]:
        symbol = self._symbols.get(order_id)
        if self._semantics.fills_in_order:
            trades = await self._trades_in_order(order_id, symbol)
        elif self._client.has.get("fetchOrderTrades") is True:
            trades = await self._call(self._client.fetch_order_trades, order_id, symbol)
        elif self._semantics.fills_param:
            # the venue narrows its trades to the order (Bitget's Get Fills orderId)
            params = {self._semantics.fills_param: order_id}
            since = self._since()
            trades = await self._call(self._client.fetch_my_trades, symbol, since, None, params)
        else:
            since = self._since()
            trades = await self._call(self._client.fetch_my_trades, symbol, since)
        result: list[Fill] = []
        for trade in trades:
            if str(trade.get("order") or "") != order_id:
                continue
            result.append(await self._fill(order_id, trade))
        return result

    async def _trades_in_order(self, order_id: str, symbol: str | None) -> list[Mapping[str, Any]]:
        """The order's own trades (``ClientIdSemantics.fills_in_order``: Bitstamp's Order
        status lists every transaction of the order), marked with the order's id and side,
        which ccxt leaves empty on them."""
        try:
            payload = await self._call(self._client.fetch_order, order_id, symbol)
        except NotFound:
            return []
        side = payload.get("side")
        return [
            {**trade, "order": order_id, "side": trade.get("side") or side}
            for trade in payload.get("trades") or []
            if isinstance(trade, Mapping)
        ]

    async def aclose(self) -> None:
        """Release the client: through ``on_close`` when it is shared (the registry closes
        it with its last user), else close it, since this adapter alone holds it. Twice is
        once."""
        if self._closed:
            return
        self._closed = True
        if self._on_close is not None:
            await self._on_close()
        else:
            await self._client.close()

    # --- client order ids ------------------------------------------------------------------

    def venue_client_id(self, client_order_id: str) -> str:
        """cleanslate's id as this venue takes it (``ClientIdSemantics``: its form, charset
        and length): unchanged when it fits, else derived from its SHA-256, deterministic so a
        restart derives the same one (``cs-`` and a digest prefix, a UUID, or an integer)."""
        venue = derived_client_id(client_order_id, self._semantics)
        self._ours[venue] = client_order_id
        return venue

    def _matching(
        self, payloads: Sequence[Mapping[str, Any]], venue_id: str
    ) -> Mapping[str, Any] | None:
        return next((o for o in payloads if self._read_back(o) == venue_id), None)

    def _read_back(self, payload: Mapping[str, Any]) -> str:
        """The venue's client id on an order it returned, without the prefix it adds."""
        text = str(payload.get("clientOrderId") or "")
        prefix = self._semantics.read_back_prefix
        return text[len(prefix) :] if prefix and text.startswith(prefix) else text

    # --- helpers --------------------------------------------------------------------------

    def _refuse_writes(self, endpoint: str) -> None:
        if self._read_only:
            raise ReadOnlyRefused(
                f"{self.name} is read-only (DryRun): {endpoint} refused before sending"
            )

    def _order_arguments(self, request: OrderRequest) -> tuple[str, float | None, dict[str, Any]]:
        """ccxt's (type, price, params) for a request."""
        caps = self.capabilities
        params: dict[str, Any] = {
            **self._semantics.order_params,
            self._semantics.param: self.venue_client_id(request.client_order_id),
        }
        if request.order_type is OrderType.MARKET and request.limit_price is None:
            if not caps.market_orders:
                raise Unsupported(f"{self.name} takes no market orders")
            return "market", None, params
        if request.limit_price is None:
            raise Unsupported("a limit order needs a price")
        if request.post_only:
            if not caps.post_only:
                raise Unsupported(f"{self.name} takes no post-only orders")
            params.update(self._semantics.flag_params.get("postOnly") or {"postOnly": True})
        elif request.immediate_or_cancel or request.order_type is OrderType.MARKET:
            # A taker order within the slippage cap: IOC at the worst acceptable price.
            if not caps.ioc:
                raise Unsupported(f"{self.name} takes no immediate-or-cancel orders")
            params.update(self._semantics.flag_params.get("IOC") or {"timeInForce": "IOC"})
        return "limit", float(request.limit_price), params

    async def _markets(self) -> Mapping[str, Any]:
        now = self._clock.now()
        stale = self._markets_at is not None and now - self._markets_at >= self._markets_ttl
        if self._markets_at is None or stale or not self._client.markets:
            loaded = await self._call(self._client.load_markets, stale)
            self._markets_at = now
            return loaded  # type: ignore[no-any-return]
        return self._client.markets  # type: ignore[no-any-return]

    async def _market(self, product_id: str) -> Mapping[str, Any]:
        loaded = await self._markets()
        symbol = markets.symbol_of(product_id)
        market = loaded.get(symbol)
        if market is None or not markets.is_spot(market):
            message = f"unknown product {product_id}: {self.name} lists no spot market {symbol}"
            raw = {"symbol": symbol, "listed": market is not None}
            detail = ErrorDetail(error="INVALID_PRODUCT_ID", message=message, raw=raw)
            raise InvalidProductId(detail=detail)
        return market  # type: ignore[no-any-return]

    async def _call(self, method: Callable[..., Awaitable[T]], *args: Any) -> T:
        try:
            return await method(*args)
        except Exception as exc:
            raise translate(exc) from exc

    async def _find_by_client_id(
        self, venue_id: str, symbol: str | None, lookup: Lookup
    ) -> Mapping[str, Any] | None:
        """Binance: Query Order by origClientOrderId (ccxt's fetchOrder ``clientOrderId``),
        which answers for open, filled and cancelled orders alike."""
        if symbol is None and self._symbol_required("fetchOrder"):
            raise Unavailable(
                f"{self.name} looks client order ids up within one market: no product given"
            )
        try:
            payload = await self._call(
                self._client.fetch_order, None, symbol, {lookup.param or "clientOrderId": venue_id}
            )
        except NotFound:
            return None
        return payload  # type: ignore[no-any-return]

    async def _find_in_pages(
        self, venue_id: str, symbol: str | None, lookup: Lookup
    ) -> Mapping[str, Any] | None:
        """Every order of the find window, any status, page after page until the venue has
        no next page (Coinbase's List Orders: ccxt copies the answer's cursor into one
        order's ``info``). Running out of ``max_pages`` is a failure, not an absence."""
        if lookup.page is not None:
            return await self._find_in_numbered_pages(venue_id, symbol, lookup)
        if lookup.older_than is not None:
            return await self._find_in_older_pages(venue_id, symbol, lookup, lookup.older_than)
        cursor_key = lookup.cursor or "cursor"
        params: dict[str, Any] = {}
        for _ in range(lookup.max_pages):
            page = list(
                await self._call(
                    self._client.fetch_orders, symbol, self._since(), lookup.page_size, params
                )
            )
            found = self._matching(page, venue_id)
            if found is not None:
                return found
            # ccxt sorts a page by time after parsing: the order carrying the cursor may
            # be anywhere in it (ccxt's own fetch_paginated_call_cursor searches it too)
            cursor = next((c for o in page if (c := (o.get("info") or {}).get(cursor_key))), None)
            if not cursor:
                return None
            params = {cursor_key: cursor}
        raise Unavailable(
            f"{self.name}: {venue_id} not in the first {lookup.max_pages} pages of orders"
        )

    async def _find_in_numbered_pages(
        self, venue_id: str, symbol: str | None, lookup: Lookup
    ) -> Mapping[str, Any] | None:
        """Gate: a pending order by its id (``Lookup.open_param``; the venue finds a client
        id among pending orders only), else the finished orders of the find window, page 1,
        2, ... until an empty page. Both need the market: without one there is no answer."""
        if symbol is None:
            raise Unavailable(
                f"{self.name} looks client order ids up within one market: no product given"
            )
        if lookup.open_param is not None:
            try:
                return await self._call(
                    self._client.fetch_order, None, symbol, {lookup.open_param: venue_id}
                )
            except NotFound:
                pass
        else:
            found = self._matching(await self._open_payloads(symbol), venue_id)
            if found is not None:
                return found
        for number in range(1, lookup.max_pages + 1):
            page = list(
                await self._call(
                    self._client.fetch_closed_orders,
                    symbol,
                    self._since(),
                    lookup.page_size,
                    {lookup.page or "page": number},
                )
            )
            found = self._matching(page, venue_id)
            if found is not None:
                return found
            if not page:
                return None
        raise Unavailable(
            f"{self.name}: {venue_id} not in the first {lookup.max_pages} pages of orders"
        )

    async def _find_in_older_pages(
        self, venue_id: str, symbol: str | None, lookup: Lookup, pages: OlderThan
    ) -> Mapping[str, Any] | None:
        """Bitget: every open order (``_open_payloads``, paged as the venue's data says), then
        the finished orders of the find window by ``Lookup.closed_method`` (every status),
        each page older than the smallest order id of the page before, to the first empty
        page. Open first: an order that finishes in between is then on the finished pages."""
        found = self._matching(await self._open_payloads(symbol), venue_id)
        if found is not None:
            return found
        method = getattr(self._client, lookup.closed_method or "fetch_closed_orders")
        async for page in self._older_pages(method, symbol, self._since(), pages, {}):
            found = self._matching(page, venue_id)
            if found is not None:
                return found
        return None

    async def _older_pages(
        self,
        method: Callable[..., Awaitable[Any]],
        symbol: str | None,
        since: int | None,
        pages: OlderThan,
        params: Mapping[str, Any],
    ) -> AsyncIterator[list[Mapping[str, Any]]]:
        """The pages of one listing (``OlderThan``), newest first, until the first empty
        page; ``Unavailable`` when ``max_pages`` are read without one, or when a page does
        not reach below the last (the venue ignored the parameter): never "no more"."""
        below: int | None = None
        for _ in range(pages.max_pages):
            ask = dict(params)
            if below is not None:
                ask[pages.param] = str(below)
            page = list(await self._call(method, symbol, since, pages.page_size, ask))
            if not page:
                return
            yield page
            smallest = self._smallest_id(page)
            if below is not None and smallest >= below:
                raise Unavailable(
                    f"{self.name}: a page asked below order {below} starts at {smallest}: "
                    "cannot read the listing to its end"
                )
            below = smallest
        raise Unavailable(
            f"{self.name}: the listing did not end within {pages.max_pages} pages of "
            f"{pages.page_size}: cannot prove an order is not on the next one"
        )

    def _smallest_id(self, page: Sequence[Mapping[str, Any]]) -> int:
        ids = [str(o.get("id") or "") for o in page]
        if not all(i.isdigit() for i in ids):
            raise Unavailable(f"{self.name}: an order id is not a number: cannot page below it")
        return min(int(i) for i in ids)

    async def _find_in_listings(
        self, venue_id: str, symbol: str | None, lookup: Lookup
    ) -> Mapping[str, Any] | None:
        """Open orders, then closed ones: filtered to the id where the venue can (Kraken's
        cl_ord_id); otherwise one page, and a full page without the id is no proof that the
        id is absent (the order may be on the next page): that raises."""
        filtered = lookup.kind is LookupKind.FILTERED and lookup.param is not None
        params = {lookup.param: venue_id} if filtered and lookup.param else {}
        found = self._matching(await self._open_payloads(symbol, params), venue_id)
        if found is not None:
            return found
        limit = None if filtered else lookup.page_size
        closed, read = await self._closed_payloads(symbol, params, limit)
        found = self._matching(closed, venue_id)
        if found is None and limit is not None and read >= limit:
            raise Unavailable(
                f"{self.name}: {venue_id} not in one full page of closed orders and the venue "
                "cannot be asked for it by id: cannot prove it was never placed"
            )
        return found

    async def _open_payloads(
        self, symbol: str | None, params: Mapping[str, Any] | None = None
    ) -> list[Mapping[str, Any]]:
        """Every open order (of ``symbol``), with the venue's listing parameters
        (``ClientIdSemantics.open_orders_params``: bybit pages through its 20-order pages), or
        page by page below the smallest id where the venue's data says so
        (``open_orders_pages``: Bitget's Get Unfilled Orders answers 100 at most)."""
        params = {**self._semantics.open_orders_params, **(params or {})}
        pages = self._semantics.open_orders_pages
        if pages is not None:
            fetch = self._client.fetch_open_orders
            return [o async for page in self._older_pages(fetch, symbol, None, pages, params)
                    for o in page]  # fmt: skip
        if params:
            return list(
                await self._call(self._client.fetch_open_orders, symbol, None, None, dict(params))
            )
        return list(await self._call(self._client.fetch_open_orders, symbol))

    async def _closed_payloads(
        self, symbol: str | None, params: Mapping[str, Any], limit: int | None
    ) -> tuple[list[Mapping[str, Any]], int]:
        """Recently closed orders, by whichever listing the venue has, and how many orders
        the listing returned (a full page says there may be more); a venue that can list
        them only per market gets [] without a symbol (the open-order search still ran).
        ``params`` narrow the closed listing to one client id where the venue can
        (``Lookup.param`` of a FILTERED lookup): listings are paged, newest first.

        ``fetchOrders`` (every status) comes first where the venue has it: "closed" is not one
        thing in ccxt, and coinbase's ``fetchClosedOrders`` lists FILLED orders only, so a
        partly filled order cancelled at its TTL would not be found and its fills would not
        count on a resume."""
        has = self._client.has
        since = self._since()
        if has.get("fetchOrders") is True and not (
            symbol is None and self._symbol_required("fetchOrders")
        ):
            orders = await self._call(self._client.fetch_orders, symbol, since, limit, dict(params))
            return [o for o in orders if o.get("status") != "open"], len(orders)
        if symbol is None and self._symbol_required("fetchClosedOrders"):
            return [], 0
        if has.get("fetchCanceledAndClosedOrders") is True:
            # where ccxt has both, its fetchClosedOrders is the filled ones only (bybit
            # sends orderStatus=Filled): a cancelled IOC that sold part would be missed
            fetch = self._client.fetch_canceled_and_closed_orders
            listed = list(await self._call(fetch, symbol, since, limit, dict(params)))
            return listed, len(listed)
        if has.get("fetchClosedOrders") is True:
            closed = list(
                await self._call(
                    self._client.fetch_closed_orders, symbol, since, limit, dict(params)
                )
            )
            return closed, len(closed)
        return [], 0

    def _symbol_required(self, method: str) -> bool:
        features = getattr(self._client, "features", None) or {}
        block = (features.get("spot") or {}).get(method) or {}
        return bool(block.get("symbolRequired")) if isinstance(block, Mapping) else False

    def _since(self) -> int:
        return int((self._clock.now() - self._find_window).timestamp() * 1000)

    async def _remember_found(self, client_order_id: str, payload: Mapping[str, Any]) -> Order:
        order = await self._with_fees(payload)
        self._placed[client_order_id] = order.order_id
        return order

    async def _with_fees(self, payload: Mapping[str, Any]) -> Order:
        """The order, with its fees from its fills when the venue's order carries none
        (Binance's order endpoints report no commission)."""
        order = self._order(payload)
        parts = _fee_parts(payload)
        if order.filled_size > 0 and not parts:
            fees = sum((f.fee for f in await self.fills(order.order_id)), ZERO)
            order = replace(order, fees=fees)
        elif any(_third_currency(part, str(payload.get("symbol") or "")) for part in parts):
            # A fee in neither the base nor the quote (a BNB discount) is priced as fills'
            # are, never counted 0 because the order rather than its fills carried it.
            symbol = str(payload.get("symbol") or "")
            price = order.average_filled_price or order.limit_price or ZERO
            fees = ZERO
            for part in parts:
                fees += await self._fee_in_quote(part, symbol, price)
            order = replace(order, fees=fees)
        return order

    def _order(self, payload: Mapping[str, Any]) -> Order:
        """The port's Order for a ccxt unified order; remembers its symbol."""
        try:
            order_id = str(payload["id"])
            symbol = str(
                payload.get("symbol") or self._info(payload, "symbol") or payload["symbol"]
            )
            filled = markets.number(payload.get("filled")) or ZERO
            amount = markets.number(payload.get("amount"))
            if amount is None:
                remaining = markets.number(self._info(payload, "remaining"))
                amount = filled + remaining if remaining is not None else ZERO
            self._symbols[order_id] = symbol
            venue_cid = self._read_back(payload)
            return Order(
                order_id=order_id,
                client_order_id=self._ours.get(venue_cid, venue_cid),
                product_id=markets.product_id_of(symbol),
                side=Side(str(payload["side"]).upper()),
                order_type=OrderType.MARKET if payload.get("type") == "market" else OrderType.LIMIT,
                base_size=amount,
                limit_price=markets.number(payload.get("price"))
                if payload.get("type") != "market"
                else None,
                status=_status(payload.get("status"), amount, filled),
                created_at=self._time(payload.get("timestamp")),
                filled_size=filled,
                average_filled_price=markets.number(payload.get("average")),
                fees=_order_fees(payload, symbol),
                post_only=bool(payload.get("postOnly")) or order_id in self._makers,
                reject_reason=_reason(payload),
            )
        except (KeyError, TypeError, ValueError) as exc:
            detail = ErrorDetail(message=f"malformed order ({type(exc).__name__})", raw=payload)
            raise Unavailable(
                f"{self.name} answered an order without its fields", detail=detail
            ) from exc

    def _info(self, payload: Mapping[str, Any], field: str) -> Any:
        """The venue's own order field standing in for ccxt's ``field`` where ccxt leaves it
        empty (``ClientIdSemantics.order_info``), or None."""
        key = self._semantics.order_info.get(field)
        info = payload.get("info")
        return info.get(key) if key and isinstance(info, Mapping) else None

    def _as_placed(self, request: OrderRequest, order_id: str, created: Mapping[str, Any]) -> Order:
        return Order(
            order_id=order_id,
            client_order_id=request.client_order_id,
            product_id=request.product_id,
            side=request.side,
            order_type=request.order_type,
            base_size=request.base_size,
            limit_price=request.limit_price,
            status=OrderStatus.OPEN,
            created_at=self._time(created.get("timestamp")),
            post_only=request.post_only,
        )

    async def _fill(self, order_id: str, trade: Mapping[str, Any]) -> Fill:
        symbol = str(trade.get("symbol") or self._symbols.get(order_id, ""))
        price = markets.number(trade.get("price")) or ZERO
        size = markets.number(trade.get("amount")) or ZERO
        fee = ZERO
        for part in _fee_parts(trade):
            fee += await self._fee_in_quote(part, symbol, price)
        return Fill(
            order_id=order_id,
            product_id=markets.product_id_of(symbol),
            side=Side(str(trade.get("side") or "sell").upper()),
            price=price,
            size=size,
            fee=fee,
            liquidity="maker" if trade.get("takerOrMaker") == "maker" else "taker",
            at=self._time(trade.get("timestamp")),
            trade_id=str(trade.get("id") or ""),
        )

    async def _fee_in_quote(self, part: Mapping[str, Any], symbol: str, price: Decimal) -> Decimal:
        cost = markets.number(part.get("cost")) or ZERO
        currency = part.get("currency")
        base, _, quote = symbol.partition("/")
        if not cost or currency in (None, quote):
            return cost
        if currency == base:
            return cost * price
        pair = f"{currency}/{quote}"
        try:
            ticker = await self._call(self._client.fetch_ticker, pair)
            bid = markets.number(ticker.get("bid"))
        except ExchangeError:
            bid = None
        if not bid:
            logger.warning(
                "%s: a fee of %s %s has no %s price; counted as 0", self.name, cost, currency, quote
            )
            return ZERO
        return cost * bid

    def _time(self, millis: Any) -> datetime:
        value = markets.number(millis)
        if value is None:
            return self._clock.now()
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)


def _check_request(request: OrderRequest, product: Product) -> None:
    """Refuse what the venue would refuse, before ccxt sees it: ccxt *truncates* an amount
    to the market's precision (``amount_to_precision``) and would silently sell less than
    asked, and most venues' minimums come back as free text. The checks use the same market
    data the planner sized the order with."""
    size, price = request.base_size, request.limit_price
    problems: list[tuple[str, str]] = []
    if not product.tradeable:
        raise ProductNotTradeable(
            detail=ErrorDetail(
                error=ProductNotTradeable.code,
                message=f"{product.product_id} does not trade ({product.status.value})",
                preview_failure_reason="MARKET_NOT_ACTIVE",
                raw={"product_id": product.product_id, "status": product.status.value},
            )
        )
    if size <= 0 or size % product.base_increment:
        problems.append(
            ("SIZE_INCREMENT", f"size {size} is not a multiple of {product.base_increment}")
        )
    if size < product.min_base_size:
        problems.append(("BELOW_MIN_SIZE", f"size {size} below minimum {product.min_base_size}"))
    if price is not None and price % product.price_tick:
        problems.append(("PRICE_TICK", f"price {price} is not a multiple of {product.price_tick}"))
    if price is not None and product.min_notional and size * price < product.min_notional:
        problems.append(
            (
                "BELOW_MIN_NOTIONAL",
                f"value {size * price} below minimum {product.min_notional} {product.quote}",
            )
        )
    if problems:
        detail = ErrorDetail(
            error=InvalidOrderConfiguration.code,
            message="; ".join(text for _, text in problems),
            preview_failure_reason=problems[0][0],
            raw={"product_id": product.product_id, "size": str(size), "price": str(price)},
        )
        raise InvalidOrderConfiguration(detail=detail)


def quote_volume(ticker: Mapping[str, Any]) -> Decimal | None:
    """24h volume in the quote currency: the ticker's ``quoteVolume``; else its base volume
    at the VWAP, else at the last price; None (unknown, never 0) when the venue gives none."""
    direct = markets.number(ticker.get("quoteVolume"))
    if direct is not None:
        return direct
    base = markets.number(ticker.get("baseVolume"))
    if base is None:
        return None
    for key in ("vwap", "last", "close"):
        price = markets.number(ticker.get(key))
        if price is not None and price > 0:
            return base * price
    return None


def bid_depth_quote(bids: Sequence[BookLevel], band: Decimal = DEPTH_BAND) -> Decimal:
    """Quote value resting on the bid within ``band`` of the best bid."""
    if not bids:
        return ZERO
    floor = bids[0].price * (1 - band)
    return sum((lv.price * lv.size for lv in bids if lv.price >= floor), ZERO)


def _not_found_or(
    error: ExchangeError, order_id: str, texts: tuple[str, ...] = ()
) -> ExchangeError:
    """Looking up an order by id, a venue's refusal of the id itself (Kraken "EOrder:Invalid
    order", Coinbase's NOT_FOUND, a malformed id, the venue's ``not_found_texts``) means
    there is no such order."""
    text = error.detail.message
    refused_id = isinstance(error, OrderRejected) and not isinstance(error, InsufficientBalance)
    if isinstance(error, NotFound):
        return error
    named = any(t in text.lower() for t in texts)
    if refused_id or named or "NOT_FOUND" in text or "not found" in text.lower():
        detail = ErrorDetail(
            error="ORDER_NOT_FOUND",
            message=f"no order {order_id[:64]!r}: {error.detail.message}",
            raw=error.detail.raw,
        )
        return NotFound(detail=detail)
    if type(error) is PermanentError and "BadRequest" in text:
        return NotFound(detail=error.detail)
    return error


def derived_client_id(client_order_id: str, semantics: ClientIdSemantics) -> str:
    """The venue's form of cleanslate's id (see ``CcxtExchange.venue_client_id``)."""
    digest = hashlib.sha256(client_order_id.encode()).digest()
    limit = semantics.max_length
    if semantics.form is IdForm.UUID:
        return str(uuid.UUID(bytes=digest[:16], version=4))
    if semantics.form is IdForm.INTEGER:
        return str(int.from_bytes(digest, "big") % (16 ** min(limit, 15)) + 1)
    if len(client_order_id) <= limit and re.match(semantics.charset, client_order_id):
        return client_order_id
    for prefix in ("cs-", "cs", ""):  # the first the venue's charset takes
        derived = prefix + digest.hex()[: max(limit - len(prefix), 8)]
        if re.match(semantics.charset, derived):
            return derived
    return derived


def _levels(raw: Any, depth: int) -> tuple[BookLevel, ...]:
    levels: list[BookLevel] = []
    for entry in raw or []:
        price, size = markets.number(entry[0]), markets.number(entry[1])
        if price is not None and size is not None and price > 0 and size > 0:
            levels.append(BookLevel(price, size))
        if len(levels) >= depth:
            break
    return tuple(levels)


def _status(raw: Any, amount: Decimal, filled: Decimal) -> OrderStatus:
    """ccxt's ``closed`` is filled when all of it filled; a closed order with a remainder
    (an IOC that took part of its size) is over, so it reads as cancelled. No status (some
    venues' create answer) is open: the order exists and nothing says it ended."""
    if raw == "closed":
        return OrderStatus.FILLED if amount > 0 and filled >= amount else OrderStatus.CANCELLED
    return _STATUSES.get(str(raw), OrderStatus.OPEN) if raw is not None else OrderStatus.OPEN


def _reason(payload: Mapping[str, Any]) -> str | None:
    """Why the venue ended an order, where its raw answer says (Kraken's ``reason``)."""
    info = payload.get("info")
    reason = info.get("reason") if isinstance(info, Mapping) else None
    return str(reason)[:200] if reason else None


def _fee_parts(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    fees = payload.get("fees")
    if isinstance(fees, list) and fees:
        return [f for f in fees if isinstance(f, Mapping)]
    fee = payload.get("fee")
    return [fee] if isinstance(fee, Mapping) else []


def _third_currency(part: Mapping[str, Any], symbol: str) -> bool:
    base, _, quote = symbol.partition("/")
    currency = part.get("currency")
    return currency not in (None, base, quote) and bool(markets.number(part.get("cost")))


def _order_fees(payload: Mapping[str, Any], symbol: str) -> Decimal:
    """An order's fees in the quote currency, where ccxt reports them in the quote or base
    (at the average price); a third currency is priced by ``_with_fees`` (counted 0 here)."""
    base, _, quote = symbol.partition("/")
    average = markets.number(payload.get("average")) or markets.number(payload.get("price"))
    total = ZERO
    for part in _fee_parts(payload):
        cost = markets.number(part.get("cost")) or ZERO
        currency = part.get("currency")
        if currency in (None, quote):
            total += cost
        elif currency == base and average:
            total += cost * average
    return total


def _common_rates(payload: Any) -> tuple[Decimal, Decimal] | None:
    """The most frequent (maker, taker) pair among the fee structures, in bps."""
    counts: dict[tuple[Decimal, Decimal], int] = {}
    for entry in (payload or {}).values() if isinstance(payload, Mapping) else ():
        try:
            pair = (
                Decimal(str(entry["maker"])) * 10000,
                Decimal(str(entry["taker"])) * 10000,
            )
        except (KeyError, TypeError, ArithmeticError, ValueError):
            continue
        if all(v.is_finite() and v >= 0 for v in pair):
            counts[pair] = counts.get(pair, 0) + 1
    if not counts:
        return None
    maker, taker = max(counts, key=lambda pair: (counts[pair], pair))
    return maker.normalize(), taker.normalize()
