"""An httpx transport that counts Coinbase requests by route, public data apart from private.

It wraps any transport (the real one, or the fake venue's in tests and benchmarks) and sees
exactly what leaves the process, retries and pages included, which a count of port calls
cannot. *Public* routes serve the same answer to every account (products, books, best
bid/ask, server time); *private* ones are the account's own (balances, orders, fills,
permissions). The adapter sends both kinds signed, to the ``/api/v3/brokerage`` routes, so
today both count against the key's per-user limit; the public ones could move to the
unauthenticated ``/market`` routes (limited per IP) without changing what they return.
"""

from __future__ import annotations

from collections import Counter

import httpx

from cleanslate.exchange.coinbase.requesting import API_PREFIX

PUBLIC_ROUTES = frozenset(
    {"/products", "/products/{id}", "/product_book", "/best_bid_ask", "/time"}
)
"""Routes whose answer does not depend on the account."""


def route(path: str) -> str:
    """The route of a request path, ids replaced by ``{id}``: ``/products/SEI-USD`` is
    ``/products/{id}``; listings and batch routes keep their names."""
    path = path.removeprefix(API_PREFIX)
    if path.startswith("/market/"):
        path = path.removeprefix("/market")
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "products":
        return "/products/{id}"
    order = len(parts) == 4 and parts[1:3] == ["orders", "historical"]
    if order and parts[3] not in ("batch", "fills"):
        return "/orders/historical/{id}"
    return path


def is_public(route_name: str) -> bool:
    return route_name in PUBLIC_ROUTES


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts every request by (method, route) before passing it on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, closes_inner: bool = True) -> None:
        self.inner = inner
        self.closes_inner = closes_inner
        """False when several clients share this transport (a benchmark): closing one of
        them must not close it under the others."""
        self.by_route: Counter[tuple[str, str]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.by_route[(request.method, route(request.url.path))] += 1
        return await self.inner.handle_async_request(request)

    @property
    def public(self) -> int:
        return sum(n for (_, name), n in self.by_route.items() if is_public(name))

    @property
    def private(self) -> int:
        return sum(n for (_, name), n in self.by_route.items() if not is_public(name))

    def reset(self) -> None:
        self.by_route.clear()

    async def aclose(self) -> None:
        if self.closes_inner:
            await self.inner.aclose()
