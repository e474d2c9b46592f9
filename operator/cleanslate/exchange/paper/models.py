"""Market models of the paper exchange: how honestly a resting order is filled.

The market data (``markets.py``: prices, volumes, tick sizes, book depth) says what trades;
a model says how a resting order meets that trading. Three presets, side by side, so a
benchmark can say what an execution strategy is worth under each and a reader can see which
assumption a result hangs on. Every parameter says where its value comes from, or that it is
a guess; none is fitted to real order-book data (we have none, see ``docs/design.md``).

* ``optimistic``: the first paper market, unchanged. A maker one tick inside the spread has
  nothing ahead of it and meets all of the bucket's flow; trades carry no information (the mid
  wanders independently of them, plus an independent five-second jitter); what our takers
  consume is back in the next five-second bucket; no impact.
* ``calibrated`` (the default): price and time priority (all displayed size at better or equal
  prices is ahead, and others improve in front of an order that improves the touch); spreads
  in ticks for products that sit at one tick; a share of the flow is informed and moves the
  mid by the square-root law; a resting order fills when the price trades through it; our own
  takers move the mid and the book refills over a minute.
* ``skeptic``: the reviewer's combination: last in the queue, a quarter of the flow reaches
  the book, half of it informed, and the price drifts against the seller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from cleanslate.api.account import PaperMarketModel

D = Decimal


@dataclass(frozen=True, slots=True)
class MarketModel:
    name: PaperMarketModel
    improvers: Decimal
    """Size, in touch levels, that other participants place ahead of an order that improves
    the touch (they undercut it). None is in the optimistic model. 0.25 (calibrated) is a
    guess: on a multi-tick spread someone usually joins or undercuts within seconds. 1
    (skeptic): an order is always behind a full level, as if it could never improve."""
    priority: bool
    """Price priority: displayed size at better prices counts ahead of the order, not only
    size at its own price (the optimistic model counts only its own price)."""
    one_tick_spreads: bool
    """Use each product's ``touch_ticks`` (liquid products quote one tick wide most of the
    time, as Coinbase's BTC/ETH/SOL books do) instead of its spread in bps."""
    flow_share: Decimal
    """Share of the bucket's trade flow that reaches this book's resting orders (the rest
    trades elsewhere, hidden or against other venues). 1 optimistic; 0.5 calibrated (a guess:
    Coinbase carries roughly that share of USD spot volume for the listed products); 0.25
    skeptic (the reviewer's)."""
    informed_share: Decimal
    """Share of the flow that is informed: it trades in the direction of the next move and is
    sized by the square-root law from that move. 0 optimistic; 0.25 calibrated (a guess,
    Donier & Bonart decompose Bitcoin flow into an informed and an uninformed part without a
    single share); 0.5 skeptic (the reviewer's)."""
    walk: bool
    """Short-horizon variance: a random walk with the product's daily volatility scaled to
    five seconds, instead of an independent per-bucket jitter that reverts at once."""
    trade_through: bool
    """A resting sell fills whole when the market's bid reaches its price (the price traded
    through it), and otherwise only from flow at the touch after the queue ahead."""
    impact_y: Decimal
    """Prefactor Y of the square-root law, impact = Y * daily sigma * sqrt(Q / daily volume),
    for our own takers (Donier & Bonart 2015 confirm the law on a million Bitcoin metaorders;
    Y of order one is what the law's literature reports; 1 is the calibrated value, 1.5 the
    skeptic's guess). 0: no impact."""
    impact_memory_seconds: int
    """How long our takers' impact stays in the mid: Donier & Bonart find the impact of
    uninformed flow decays almost completely in the long run; an hour is a guess for
    "long run" on these products."""
    recovery_seconds: int
    """The book refills what our takers consumed linearly over this time. 0: the next bucket
    (optimistic). 60 s calibrated, 180 s skeptic: guesses, resilience of crypto books is
    reported in tens of seconds to minutes."""
    drift_bps_per_hour: Decimal
    """Drift of the mid against the account's orders on a product from its first order on
    it (negative for a seller): the skeptic's -50 bps an hour. 0 otherwise."""

    @property
    def realistic(self) -> bool:
        """Whether fills follow the calibrated mechanisms (not the first paper market)."""
        return self.name is not PaperMarketModel.OPTIMISTIC


MODELS: Mapping[PaperMarketModel, MarketModel] = MappingProxyType(
    {
        PaperMarketModel.OPTIMISTIC: MarketModel(
            PaperMarketModel.OPTIMISTIC,
            improvers=D(0),
            priority=False,
            one_tick_spreads=False,
            flow_share=D(1),
            informed_share=D(0),
            walk=False,
            trade_through=False,
            impact_y=D(0),
            impact_memory_seconds=0,
            recovery_seconds=0,
            drift_bps_per_hour=D(0),
        ),
        PaperMarketModel.CALIBRATED: MarketModel(
            PaperMarketModel.CALIBRATED,
            improvers=D("0.25"),
            priority=True,
            one_tick_spreads=True,
            flow_share=D("0.5"),
            informed_share=D("0.25"),
            walk=True,
            trade_through=True,
            impact_y=D(1),
            impact_memory_seconds=3600,
            recovery_seconds=60,
            drift_bps_per_hour=D(0),
        ),
        PaperMarketModel.SKEPTIC: MarketModel(
            PaperMarketModel.SKEPTIC,
            improvers=D(1),
            priority=True,
            one_tick_spreads=True,
            flow_share=D("0.25"),
            informed_share=D("0.5"),
            walk=True,
            trade_through=True,
            impact_y=D("1.5"),
            impact_memory_seconds=3600,
            recovery_seconds=180,
            drift_bps_per_hour=D(-50),
        ),
    }
)


def model(name: PaperMarketModel) -> MarketModel:
    return MODELS[name]
