"""Whatever is traded, the ledger reconciles: balances equal holdings plus fills minus fees."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.errors import OrderRejected
from cleanslate.exchange.paper import open_paper_exchange

Step = tuple[bool, int, int]
"""(is_taker, size in tenths of SEI, seconds to wait after)."""


async def _run(seed: int, steps: list[Step]) -> None:
    clock = SimulatedClock()
    config = PaperConfig.model_validate({"seed": seed, "holdings": {"SEI": 500, "USD": 50}})
    ex = open_paper_exchange(config, clock)
    ids = []
    for i, (taker, tenths, wait) in enumerate(steps):
        quote = await ex.quote("SEI-USD")
        size = Decimal(tenths) / 10
        kind = OrderType.MARKET if taker else OrderType.LIMIT
        price = None if taker else quote.ask
        request = OrderRequest(
            f"o{i}", "SEI-USD", Side.SELL, size, kind, price, post_only=not taker
        )
        with contextlib.suppress(OrderRejected):
            ids.append((await ex.place_order(request)).order_id)
        await clock.sleep(wait)
    fills = [f for order_id in ids for f in await ex.fills(order_id)]
    balances = {b.asset: b for b in await ex.balances()}
    sold = sum((f.size for f in fills), Decimal(0))
    received = sum((f.price * f.size - f.fee for f in fills), Decimal(0))
    sei = balances.get("SEI")
    assert (sei.total if sei else 0) == 500 - sold
    assert balances["USD"].total == 50 + received
    assert all(b.available >= 0 and b.hold >= 0 for b in balances.values())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 1000),
    steps=st.lists(st.tuples(st.booleans(), st.integers(1, 2000), st.integers(0, 120)), max_size=8),
)
def test_balances_reconcile_with_fills(seed: int, steps: list[Step]) -> None:
    asyncio.run(_run(seed, steps))
