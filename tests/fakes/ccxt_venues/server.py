"""Fake venues over real loopback HTTP, for an operator running in another process.

The operator's platform flag ``--ccxt-api-url ID=ORIGIN`` rewrites each of the venue's API
URLs ``https://HOST/PATH`` to ``ORIGIN/HOST/PATH``; this server undoes that: a request for
``http://127.0.0.1:PORT/HOST/PATH?QUERY`` is handed to the fake venue registered for HOST as
the request ``https://HOST/PATH?QUERY`` it would have been, and the venue's answer (status,
headers, body) is sent back as is. The operator's own ccxt parses it, exactly as it would parse
the real venue's.

The venues and their paper engines live on the server's event loop thread; ``call`` runs a
coroutine there (to read a ledger from a test) and waits for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from aiohttp import web

from .base import FakeVenue, Outage

T = TypeVar("T")


class VenueServer:
    """``with VenueServer({"api.binance.com": venue}) as server: server.origin``"""

    def __init__(self, venues: Mapping[str, FakeVenue]) -> None:
        self.venues = dict(venues)
        self.origin = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> VenueServer:
        self._thread.start()
        self.call(self._start)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, make: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run ``make()`` on the server's loop (where the venues live) and return its result."""

        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def close(self) -> None:
        if self._runner is not None:
            self.call(self._runner.cleanup)
            self._runner = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.origin = f"http://127.0.0.1:{port}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        host, _, rest = request.path.lstrip("/").partition("/")
        venue = self.venues.get(host)
        if venue is None:
            return web.Response(status=404, text=f"no fake venue for {host}")
        body = await request.text() if request.can_read_body else None
        query = f"?{request.query_string}" if request.query_string else ""
        url = f"https://{host}/{rest}{query}"
        headers = dict(request.headers)
        parsed = venue._parse(url, request.method, headers, body or None)
        venue.requests.append(parsed)
        try:
            reply = await venue.handle(parsed)
        except Outage as outage:
            reply = outage.reply
        return web.Response(
            status=reply.status,
            text=reply.text(),
            headers=reply.headers,
            content_type="application/json" if not isinstance(reply.body, str) else "text/plain",
        )
