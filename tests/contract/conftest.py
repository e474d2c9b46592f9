"""Fixtures of the exchange contract suite: the same tests run against every adapter.

``exchange_harness`` is parametrized by adapter name and yields an ``ExchangeHarness``: an
object that opens an account of the adapter under test with given holdings, and owns the
simulated clock the adapter reads. Tests only use the port (``cleanslate.exchange.port``), the
harness and the error hierarchy, never anything adapter-specific.

Adding an adapter (e.g. ``coinbase``):

1. In ``harnesses.py``, write a class implementing ``ExchangeHarness``, e.g. a
   ``CoinbaseHarness`` whose ``open`` builds the adapter on an
   ``httpx.AsyncClient(transport=httpx.MockTransport(app))``
   where ``app`` is a fake venue serving the given holdings and a book for ``product_id`` in
   which a post-only sell at the ask rests and one at the bid crosses.
2. Register it in ``harnesses.HARNESSES`` under the adapter's name; every contract test
   then runs for it. A venue that cannot honour a test's scenario should make its fake do
   so rather than skip: the suite is the definition of "behaves like an exchange".

A venue reached through ccxt needs no harness of its own: ``CcxtHarness`` runs for every fake
in ``fakes.ccxt_venues.LIVE_DIALECTS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .harnesses import HARNESSES, ExchangeHarness


@pytest.fixture(params=sorted(HARNESSES))
async def exchange_harness(request: pytest.FixtureRequest) -> AsyncIterator[ExchangeHarness]:
    harness = HARNESSES[request.param]()
    yield harness
    await harness.close()
