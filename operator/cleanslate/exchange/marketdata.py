"""Public market data, fetched once per market and shared by every account trading on it.

Products, their 24h volume and their books are the same for every account on an exchange, so
N accounts on one venue need not ask N times. ``MarketData`` holds one market's product list
and its latest quotes; ``SharedMarkets`` hands every adapter of one *market identity* (an
adapter's ``market_identity``: ``coinbase@https://api.coinbase.com``, ``ccxt:binance@sandbox``)
the same instance, so any adapter that names its market shares it, whatever the venue.

Four rules make sharing safe with money at stake:

* **Freshness.** A quote is served from the cache only while younger than ``quote_max_age``
  (a platform setting, ``--market-data-max-age-seconds``; ``docs/design.md`` says why 30 s).
  Its age counts from when its request was *sent*, so a slow answer never looks younger than
  it is. The product list keeps its ten minutes, as before sharing (it changes rarely); a
  held product the shared list lacks is asked of the account's own adapter before it counts
  as unknown (``unlisted``). Only classification reads through here: the TWAP prices its own
  orders from quotes it fetches itself (``execution/twap.py`` never sees this cache).
* **Single flight.** Accounts asking for the same product at once cause one request; the
  others wait for it and share its outcome. The request runs as its own task, so the account
  that happened to start it can be cancelled (a deleted account, a shutdown) without taking
  the answer from the ones waiting. A request still out after ``JOIN_WINDOW`` is retrying on
  its sender's budget; later callers send their own rather than queue behind it.
* **Failures are not cached.** A failed request (one account's 429, a timeout) is shared only
  by the waiters of that very request; the next caller asks again. One account's rate limit
  must not leave every account unpriced until the entry expires. A waiter sees a failure of
  the sender's own (its key refused, its budget spent) as temporary, so it never counts
  toward another account's symbol freeze; an unknown product is a fact and shared as it is.
* **Bounded memory.** At most ``max_quotes`` quotes per market (least recently used go
  first); the product list is one map per market, the same objects for every account.

The fetch goes through the asking account's own adapter, on its own key and budget: whoever
finds the cache cold pays one request for everyone. Paper accounts do not share: each paper
account's market is its own (its own orders move its book, its faults fire for it alone, and
in the operator its simulated clock is its own), so a paper adapter names no identity and
gets a private ``MarketData`` that caches products only, as before sharing existed.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar, cast

from cleanslate.clock import Clock, SystemClock
from cleanslate.core.market import Product, Quote
from cleanslate.exchange.errors import InvalidProductId, NotFound, Unavailable
from cleanslate.exchange.port import Exchange, SharesMarket

T = TypeVar("T")

DEFAULT_QUOTE_MAX_AGE = timedelta(seconds=30)
"""How old a quote used for classification may be; see ``docs/design.md`` ("Shared market
data")."""
MAX_QUOTE_AGE_SECONDS = 300.0
"""The most the platform may allow: a quote older than five minutes says little about a
market, and classification should not be that far behind it."""
PRODUCTS_MAX_AGE = timedelta(minutes=10)
"""Product metadata changes rarely; this kept each account under its rate-limit budget
before sharing, and now costs one request per market per ten minutes."""
JOIN_WINDOW = timedelta(seconds=5)
"""How long after a shared request was sent others still wait for it rather than ask
themselves: a quote answers in well under a second, so a request older than this is retrying
(a 429 waited out, a 5xx) on its sender's budget, and later callers should not queue behind
it."""
PRODUCT_FACTS = (InvalidProductId, NotFound)
"""Failures that say something about the product, the same for every account asking."""
DEFAULT_MAX_QUOTES = 4096
"""Quotes kept per market: more than Coinbase lists spot products, a few hundred KiB."""


@dataclass(frozen=True, slots=True)
class _Cached:
    quote: Quote
    asked_at: datetime


@dataclass(slots=True)
class MarketDataStats:
    """What the cache did, for the benchmark and for tests."""

    hits: int = 0
    fetches: int = 0
    joined: int = 0
    """Callers that waited for another caller's request instead of sending their own."""
    failures: int = 0


class MarketData:
    """One market's public data: the product list and recent quotes.

    ``quote_max_age`` of zero caches no quote (every call asks the exchange): what a paper
    account gets, and every account when sharing is switched off. Callers pass the time
    (``now``) from their own injected clock; a shared instance is only ever handed to
    accounts on one timeline (``SharedMarkets``).
    """

    def __init__(
        self,
        identity: str | None = None,
        *,
        quote_max_age: timedelta = timedelta(0),
        products_max_age: timedelta = PRODUCTS_MAX_AGE,
        max_quotes: int = DEFAULT_MAX_QUOTES,
    ) -> None:
        if max_quotes < 1:
            raise ValueError("max_quotes must be at least 1")
        self.identity = identity
        self.quote_max_age = quote_max_age
        self.products_max_age = products_max_age
        self.max_quotes = max_quotes
        self.stats = MarketDataStats()
        self._products: dict[str, Product] = {}
        self._products_asked_at: datetime | None = None
        self._quotes: OrderedDict[str, _Cached] = OrderedDict()
        self._flights: dict[str, tuple[asyncio.Task[object], datetime]] = {}

    def __repr__(self) -> str:
        return f"MarketData({self.identity or 'unshared'}, quotes={len(self._quotes)})"

    @property
    def cached_quotes(self) -> int:
        return len(self._quotes)

    @property
    def cached_products(self) -> Mapping[str, Product]:
        """The product list as last fetched (empty before the first fetch)."""
        return self._products

    @property
    def shared(self) -> bool:
        return self.identity is not None

    async def unlisted(self, exchange: Exchange, product_id: str) -> Product | None:
        """A product the *shared* list lacks, asked of this account's own adapter: None when
        the venue says it does not exist. Another account's list is not proof that a product
        is gone for this one (a venue may list by region), and an unknown product is a zombie
        that gets market-closed, so only the account's own answer may make it one. Raises
        the adapter's other errors (the caller treats them as temporary)."""
        try:
            return await exchange.product(product_id)
        except PRODUCT_FACTS:
            return None

    def products_fresh(self, now: datetime) -> bool:
        asked = self._products_asked_at
        return asked is not None and now - asked < self.products_max_age

    async def products(self, exchange: Exchange, now: datetime) -> Mapping[str, Product]:
        """Every product by id, fetched through ``exchange`` when the list is stale."""
        if self.products_fresh(now):
            self.stats.hits += 1
            return self._products

        async def fetch() -> Mapping[str, Product]:
            listed = {p.product_id: p for p in await exchange.products()}
            asked = self._products_asked_at
            if asked is None or asked <= now:  # a late answer never replaces a younger one
                self._products, self._products_asked_at = listed, now
            return listed

        return await self._single_flight("\0products", fetch, now)

    async def quote(self, exchange: Exchange, product_id: str, now: datetime) -> Quote:
        """``product_id``'s quote, at most ``quote_max_age`` old, fetched through
        ``exchange`` when there is none that young. Raises what the exchange raised."""
        cached = self._quotes.get(product_id)
        if cached is not None and now - cached.asked_at < self.quote_max_age:
            self._quotes.move_to_end(product_id)
            self.stats.hits += 1
            return cached.quote

        async def fetch() -> Quote:
            quote = await exchange.quote(product_id)
            if self.quote_max_age > timedelta(0):
                self._store(product_id, _Cached(quote, now))
            return quote

        return await self._single_flight(product_id, fetch, now)

    def _store(self, product_id: str, entry: _Cached) -> None:
        """Keep the younger quote: a request that outlived its join window may land after
        the one sent in its place."""
        held = self._quotes.get(product_id)
        if held is not None and held.asked_at > entry.asked_at:
            return
        self._quotes[product_id] = entry
        self._quotes.move_to_end(product_id)
        while len(self._quotes) > self.max_quotes:
            self._quotes.popitem(last=False)

    async def _single_flight(self, key: str, fetch: Callable[[], Awaitable[T]], now: datetime) -> T:
        """One request per key at a time; everyone asking meanwhile shares its outcome, and
        the outcome is forgotten as soon as it is known (a failure is never served again).
        A request in flight for longer than ``JOIN_WINDOW`` is not joined: its sender is
        waiting out a 429 or retrying, and a later caller sends its own instead."""
        current = self._flights.get(key)
        joined = current is not None and now - current[1] < JOIN_WINDOW
        if current is not None and joined:
            flight = current[0]
            self.stats.joined += 1
        else:
            self.stats.fetches += 1
            flight = asyncio.ensure_future(fetch())
            self._flights[key] = (flight, now)
            flight.add_done_callback(lambda done: self._landed(key, done))
        try:
            return cast(T, await asyncio.shield(flight))
        except PRODUCT_FACTS:
            raise
        except Exception as exc:
            if not joined:
                raise
            raise _not_yours(exc) from exc

    def _landed(self, key: str, flight: asyncio.Task[object]) -> None:
        current = self._flights.get(key)
        if current is not None and current[0] is flight:
            del self._flights[key]
        if not flight.cancelled() and flight.exception() is not None:
            self.stats.failures += 1  # retrieved here, so nobody waiting is not an error


def _not_yours(exc: Exception) -> Unavailable:
    """What a waiter sees when the request it shared failed for a reason of the account that
    sent it (its key refused, its rate limit, its client closed): a temporary error, so the
    holding is unpriced this cycle and its freeze count untouched, and the next cycle asks
    again. Only the sender sees its own error as it is."""
    return Unavailable(
        f"shared market-data request failed for the account that sent it "
        f"({type(exc).__name__}); asked again next cycle"
    )


def market_identity(exchange: object) -> str | None:
    """The market an adapter trades on, when it shares it with other accounts."""
    if isinstance(exchange, SharesMarket):
        return exchange.market_identity
    return None


class SharedMarkets:
    """One ``MarketData`` per (market identity, timeline), for the whole process.

    ``quote_max_age`` of zero turns sharing off: every account gets its own unshared
    instance, which is how the operator behaved before (and what the benchmark's "before"
    column measures). The number of instances is the number of markets the operator's
    allowed endpoints name, a handful; quotes inside each are bounded by ``max_quotes``.
    """

    def __init__(
        self,
        quote_max_age: timedelta = DEFAULT_QUOTE_MAX_AGE,
        *,
        max_quotes: int = DEFAULT_MAX_QUOTES,
    ) -> None:
        if quote_max_age < timedelta(0):
            raise ValueError("quote_max_age cannot be negative")
        self.quote_max_age = quote_max_age
        self.max_quotes = max_quotes
        self._markets: dict[tuple[str, object], MarketData] = {}

    @property
    def enabled(self) -> bool:
        return self.quote_max_age > timedelta(0)

    def for_exchange(self, exchange: object, clock: Clock) -> MarketData:
        """The market data ``exchange``'s account reads through: the shared instance of its
        market, or a private one (paper, an adapter naming no market, sharing off)."""
        identity = market_identity(exchange)
        if identity is None or not self.enabled:
            return MarketData()
        # wall clocks are one timeline (every worker builds its own SystemClock); a
        # simulated clock is a timeline of its own and never shares with another
        timeline: object = SystemClock if isinstance(clock, SystemClock) else clock
        found = self._markets.get((identity, timeline))
        if found is None:
            found = MarketData(
                identity, quote_max_age=self.quote_max_age, max_quotes=self.max_quotes
            )
            self._markets[(identity, timeline)] = found
        return found

    def markets(self) -> list[MarketData]:
        return list(self._markets.values())
