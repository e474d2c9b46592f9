"""The same seed replays the same market and the same fills; another seed does not."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Fill, OrderRequest, OrderType, Side
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange

OpenPaper = Callable[..., PaperExchange]


async def _session(seed: int) -> tuple[list[Decimal], list[Fill]]:
    """A scripted session: quotes over time, a resting sell and a taker sell."""
    clock = SimulatedClock()
    config = PaperConfig.model_validate({"seed": seed, "holdings": {"DOGE": 30000, "SEI": 500}})
    ex = open_paper_exchange(config, clock)
    mids = []
    quote = await ex.quote("DOGE-USD")
    maker = await ex.place_order(
        OrderRequest(
            "m", "DOGE-USD", Side.SELL, Decimal(30000), OrderType.LIMIT, quote.ask, post_only=True
        )
    )
    for _ in range(60):
        await clock.sleep(10)
        mids.append((await ex.quote("SEI-USD")).mid)
    taker = await ex.place_order(
        OrderRequest("t", "SEI-USD", Side.SELL, Decimal(500), OrderType.MARKET)
    )
    return mids, [*await ex.fills(maker.order_id), *taker.fills]


async def test_same_seed_gives_the_same_prices_and_fills() -> None:
    assert await _session(42) == await _session(42)


async def test_another_seed_gives_another_market() -> None:
    mids_a, _ = await _session(1)
    mids_b, _ = await _session(2)
    assert mids_a != mids_b


async def test_the_price_moves_over_time(open_paper: OpenPaper, clock: SimulatedClock) -> None:
    ex = open_paper()
    mids = set()
    for _ in range(24):
        mids.add((await ex.quote("ETH-USD")).mid)
        await clock.sleep(300)
    assert len(mids) > 12
    low, high = min(mids), max(mids)
    assert Decimal(2700) < low < high < Decimal(3500), "moves, but around the reference"
