"""Resting on the queue (``execution.queueRest``) against the paper exchange, on simulated
time: where the adaptive pace would sell a wide-spread product at once, one post-only order
for the holding rests while the queue the book shows ahead of it is expected to trade in
time; a queue that will not, a fall, or a venue that does not say what trades, is a cross."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.policy import Execution
from cleanslate.clock import SimulatedClock
from cleanslate.core.market import Order, OrderRequest, Quote
from cleanslate.core.twap import StopReason, TwapOutcome
from cleanslate.exchange.paper import PaperExchange, Trend, open_paper_exchange
from cleanslate.execution import run_twap

D = Decimal
QUEUE = Execution(queue_rest=True)
HELD = "50"  # SEI, about $8: the documents' small purge


class Recording:
    """The paper exchange, recording placements and the orders it reported (instrumentation,
    not a fake); ``no_volume`` makes its quotes leave out the 24h volume, as some venues do."""

    def __init__(self, inner: PaperExchange, no_volume: bool = False) -> None:
        self.inner, self.no_volume = inner, no_volume
        self.requests: list[OrderRequest] = []
        self.seen: dict[str, Order] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def quote(self, product_id: str) -> Quote:
        quote = await self.inner.quote(product_id)
        return replace(quote, quote_volume_24h=None) if self.no_volume else quote

    async def place_order(self, request: OrderRequest) -> Order:
        self.requests.append(request)
        return self._kept(await self.inner.place_order(request))

    async def get_order(self, order_id: str) -> Order:
        return self._kept(await self.inner.get_order(order_id))

    def _kept(self, order: Order) -> Order:
        self.seen[order.order_id] = order
        return order


async def sell(
    model: str, policy: Execution = QUEUE, seed: int = 1, **kw: Any
) -> tuple[TwapOutcome, Recording, SimulatedClock]:
    clock = SimulatedClock()
    trend = kw.pop("trend", None)
    config = PaperConfig(holdings={"SEI": D(HELD)}, model=model, seed=seed)
    inner = open_paper_exchange(config, clock, account="ns/acct", trend=trend)
    ex = Recording(inner, **kw)
    out = await run_twap(
        ex, clock, account="ns/acct", symbol="SEI-USD", attempt=1,
        target_quantity=D(HELD), policy=policy,
    )  # fmt: skip
    return out, ex, clock


def placed_at(ex: Recording) -> datetime:
    """When the purge's first order was placed (the paper stamps it with its clock)."""
    return next(iter(ex.seen.values())).created_at


def maker_size(ex: Recording) -> Decimal:
    return sum((f.size for o in ex.seen.values() for f in o.fills if f.liquidity == "maker"), D(0))


async def test_calibrated_the_order_rests_on_its_queue_past_its_ttl_and_fills_as_a_maker() -> None:
    out, ex, _ = await sell("calibrated", seed=2)
    assert out.success and out.reason is StopReason.FILLED
    first = ex.requests[0]
    assert first.post_only and first.base_size == D(HELD), "one order for the holding"
    assert first.expires_at is not None
    lived = (first.expires_at - placed_at(ex)).total_seconds()
    assert lived == float(QUEUE.max_duration_seconds), "good till the purge's time is up"
    assert maker_size(ex) == out.filled_quantity, "sold where it rested, as a maker"
    assert float(out.duration_seconds) > float(QUEUE.maker_first_ttl_sec), "past the leg's TTL"
    assert len(out.notes) == 1 and "rests on the queue (ahead" in out.notes[0], out.notes


async def test_default_off_the_wide_spread_is_sold_at_once_as_before() -> None:
    out, ex, _ = await sell("calibrated", policy=Execution())
    assert out.success and not any(r.post_only for r in ex.requests)
    assert maker_size(ex) == 0


async def test_skeptic_a_full_level_ahead_is_seen_at_once_and_the_order_crosses() -> None:
    """The skeptic book shows a whole level in front of the order: at a quarter of the
    flow it cannot trade in four minutes; the order is cancelled at the first look, made
    the moment it rested, and the holding is sold as a taker."""
    out, ex, _ = await sell("skeptic")
    assert out.success and out.reason is StopReason.FILLED
    assert ex.requests[0].post_only and not ex.requests[1].post_only
    assert maker_size(ex) == 0
    assert float(out.duration_seconds) < 5, "no wait on a queue it could read"
    assert any("off the queue" in n for n in out.notes), out.notes


async def test_a_fall_seen_while_resting_cancels_it_and_sells_at_once() -> None:
    clock_start = SimulatedClock().now()
    out, ex, _ = await sell("calibrated", trend=Trend(D(-100), clock_start))
    assert out.success
    assert ex.requests[0].post_only and ex.requests[-1].immediate_or_cancel
    assert float(out.duration_seconds) < 30, "a -1 %/minute fall is seen within a few looks"
    assert any("off the queue" in n for n in out.notes), out.notes


async def test_a_venue_that_does_not_say_what_trades_is_never_rested_on() -> None:
    out, ex, _ = await sell("calibrated", no_volume=True)
    assert out.success and not any(r.post_only for r in ex.requests)
