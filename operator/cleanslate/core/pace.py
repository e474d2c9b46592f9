"""Time as a cost: whether a TWAP slice should rest, cross, or sell the rest at once.

The maker-first TWAP earns the fee gap (and the spread) on the share of its orders makers
fill; it pays for that with time. In a calm market time is free on average and the schedule
rests as the documents say. In a falling market every minute the position waits costs the
fall; people purge when prices fall (issue 28). ``decide`` weighs the two for one slice:

    saving  = maker fill share (what the spread and volatility let a resting ask expect,
              updated by the purge's own maker orders), less the share a fall leaves
              behind, x (fee gap at the account's tier + spread)
    waiting = the fall per minute observed since the decision, beyond its noise,
              x the minutes the position is still expected to wait
              + ADVERSE x the volatility over that wait (the fills a resting order gets are
              the moves that reach it; what it misses is sold later, lower)

and answers ``REST`` (as scheduled), ``CROSS`` (this slice goes to the taker leg now, the
next one keeps its time) or ``SHORTEN`` (everything left is sold now, within the slippage
cap), weighing the rest of this slice for CROSS and the rest of the schedule for SHORTEN.
Where a resting ask can hardly expect the price to come to it (a 45 bps spread over 25 s),
the schedule does not pay for its wait even in a calm market and the position is sold now:
the TWAP was a delayed taker sale there (issue 28). The fall counts only
beyond ``NOISE_SIGMAS`` standard deviations of the observed volatility (a prior, blended
with the returns seen between looks), so noise alone never makes a calm purge cross; a rise
is never acted on (waiting is then free or better).

Every input is a value (``PaceRecord``) kept in the purge's in-flight record, so a restarted
executor decides the same way as the one that stopped. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)
NOISE_SIGMAS = Decimal(2)
"""A fall counts as a trend only beyond this many standard deviations of the noise."""
PRIOR_SIGMA_BPS = Decimal(10)
"""Prior volatility, bps per square-root minute (about 380 bps a day, between BTC's and a
small cap's on the paper market), weighted as ``PRIOR_MINUTES`` of observation."""
PRIOR_MINUTES = Decimal(1)
ADVERSE = Decimal("0.25")
"""Share of the standard deviation of the price over a wait charged to waiting: a resting
sell fills when the market comes to it and is left when it goes away (adverse selection,
the paper market's informed flow). A guess; 0 would make a calm market's wait free."""
PRIOR_LEGS = Decimal(2)
"""Weight, in maker orders, of the fill share expected from the spread and volatility."""
MIN_ELAPSED_SECONDS = Decimal(5)
"""Below this the drift estimate is too noisy to divide by: no trend."""
LOOK_SECONDS = Decimal(5)
STORED_BPS = Decimal("0.01")
STORED_MINUTES = Decimal("0.0001")
"""Returns and their times are kept at these steps: the in-flight record stores them as
JSON numbers, and a restarted executor must read back exactly what it decided with."""
"""How often a resting maker order's market is looked at (a quote call, see core.twap)."""


class Verdict(StrEnum):
    REST = "rest"
    CROSS = "cross"
    SHORTEN = "shorten"


@dataclass(frozen=True, slots=True)
class PaceRecord:
    """Everything ``decide`` reads besides the current quote: kept with the purge."""

    decision_mid: Decimal
    decided_at: datetime
    maker_fee_bps: Decimal
    taker_fee_bps: Decimal
    maker_legs: int = 0
    """Maker orders of this purge that ended (filled, cancelled or expired)."""
    maker_filled_legs: int = 0
    """Of those, the ones that filled something."""
    var_sum: Decimal = ZERO
    """Sum of squared log returns (bps^2) between looks."""
    var_minutes: Decimal = ZERO
    ret_sum: Decimal = ZERO
    """Sum of those log returns (bps): the trend is taken out of the volatility."""
    last_mid: Decimal | None = None
    last_at: datetime | None = None

    def fill_share(self, expected: Decimal = Decimal("0.5")) -> Decimal:
        """Maker fill share so far, with ``PRIOR_LEGS`` orders at the ``expected`` share as
        a prior (``touch_share``), so a purge's own fills soon outweigh the guess."""
        prior = PRIOR_LEGS * expected
        return (self.maker_filled_legs + prior) / (self.maker_legs + PRIOR_LEGS)

    @property
    def sigma_bps(self) -> Decimal:
        """Volatility, bps per square-root minute: the prior blended with what was seen
        around its mean (a steady fall is the trend, not noise)."""
        prior = PRIOR_SIGMA_BPS * PRIOR_SIGMA_BPS * PRIOR_MINUTES
        seen = self.var_sum
        if self.var_minutes > 0:
            seen = max(ZERO, seen - self.ret_sum * self.ret_sum / self.var_minutes)
        return ((prior + seen) / (PRIOR_MINUTES + self.var_minutes)).sqrt()


def look(record: PaceRecord, mid: Decimal, now: datetime) -> PaceRecord:
    """The record after seeing ``mid`` at ``now``: one more return for the volatility."""
    if mid <= 0:
        return record
    last_mid = record.last_mid or record.decision_mid
    last_at = record.last_at or record.decided_at
    minutes = (Decimal(str((now - last_at).total_seconds())) / 60).quantize(STORED_MINUTES)
    if minutes <= 0 or last_mid <= 0:
        return replace(record, last_mid=mid, last_at=now)
    ret = _log_bps(mid / last_mid).quantize(STORED_BPS)
    return replace(
        record,
        var_sum=record.var_sum + ret * ret,
        var_minutes=record.var_minutes + minutes,
        ret_sum=record.ret_sum + ret,
        last_mid=mid,
        last_at=now,
    )


def maker_ended(record: PaceRecord, filled: bool) -> PaceRecord:
    return replace(
        record,
        maker_legs=record.maker_legs + 1,
        maker_filled_legs=record.maker_filled_legs + (1 if filled else 0),
    )


def trend_bps_per_minute(record: PaceRecord, mid: Decimal, now: datetime) -> Decimal:
    """The fall per minute since the decision beyond ``NOISE_SIGMAS`` of noise (<= 0)."""
    seconds = Decimal(str((now - record.decided_at).total_seconds()))
    if seconds < MIN_ELAPSED_SECONDS or record.decision_mid <= 0 or mid <= 0:
        return ZERO
    minutes = seconds / 60
    move = _log_bps(mid / record.decision_mid)
    band = NOISE_SIGMAS * record.sigma_bps * minutes.sqrt()
    if move >= -band:
        return ZERO
    return (move + band) / minutes


def touch_share(spread_bps: Decimal, sigma_bps: Decimal, rest_seconds: Decimal) -> Decimal:
    """The chance that the price comes to a resting ask within ``rest_seconds``: a random
    walk of ``sigma_bps`` per square-root minute reaching half the spread up (the
    reflection principle, 2 x (1 - Phi(half spread / (sigma x sqrt(t))))). Near one on a
    one-tick book (BTC), near zero on a 45 bps spread over 25 s (SEI). Kept within
    [0.01, 0.99]: neither certainty is ever earned by a formula."""
    spread = max(ZERO, spread_bps)
    scale = sigma_bps * (max(ZERO, rest_seconds) / 60).sqrt()
    if scale <= 0:
        share = 1.0 if spread == 0 else 0.0
    else:
        z = float(spread / 2 / scale)
        share = 2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2))))
    return min(Decimal("0.99"), max(Decimal("0.01"), Decimal(repr(share))))


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    saving_bps: Decimal
    slice_wait_bps: Decimal
    schedule_wait_bps: Decimal
    trend_bps_per_minute: Decimal


def decide(
    record: PaceRecord,
    *,
    mid: Decimal,
    spread_bps: Decimal,
    now: datetime,
    rest_seconds: Decimal,
    schedule_seconds: Decimal,
) -> Decision:
    """Rest, cross or shorten. ``rest_seconds``: how long this slice would still rest;
    ``schedule_seconds``: how long what is left waits on average if the schedule is kept.
    A resting sell the market falls away from is not filled: the fill share shrinks with the
    fall expected during the rest, measured in spreads."""
    trend = trend_bps_per_minute(record, mid, now)
    gap = max(ZERO, record.taker_fee_bps - record.maker_fee_bps)
    spread = max(ZERO, spread_bps)
    rest, schedule = max(ZERO, rest_seconds), max(ZERO, schedule_seconds)
    fall = -trend * rest / 60
    left_behind = Decimal(repr(math.exp(-float(fall / max(spread, Decimal(1))))))
    share = record.fill_share(touch_share(spread, record.sigma_bps, rest))
    saving = share * left_behind * (gap + spread)
    slice_wait = fall + _adverse(record, rest)
    schedule_wait = -trend * schedule / 60 + _adverse(record, schedule)
    if schedule_wait > saving:
        verdict = Verdict.SHORTEN
    elif slice_wait > saving:
        verdict = Verdict.CROSS
    else:
        verdict = Verdict.REST
    return Decision(verdict, saving, slice_wait, schedule_wait, trend)


def _adverse(record: PaceRecord, seconds: Decimal) -> Decimal:
    return ADVERSE * record.sigma_bps * (seconds / 60).sqrt()


def _log_bps(ratio: Decimal) -> Decimal:
    return Decimal(repr(math.log(float(ratio)))) * 10000


# --- resting on the queue (execution.queueRest) --------------------------------------------

QUEUE_FLOW_SHARE = Decimal("0.5")
"""Share of a product's buy volume (half its 24h volume) expected to trade at the touch where
a resting ask waits, before the queue has been seen to move. A guess (the paper market's
calibrated flow share, itself a guess); the queue's own progress outweighs it after
``QUEUE_PRIOR_SECONDS``."""
QUEUE_PRIOR_SECONDS = Decimal(30)


@dataclass(frozen=True, slots=True)
class QueueWatch:
    """One resting order's queue: what the flow is expected to trade, then seen to trade.
    Not stored with the purge: a restarted purge cancels the orders it finds, and a new order
    meets a new queue."""

    prior_rate: Decimal
    """Base a second expected to trade at the touch (``prior_rate``)."""
    first_ahead: Decimal | None = None
    first_at: datetime | None = None


def prior_rate(quote_volume_24h: Decimal | None, mid: Decimal) -> Decimal | None:
    """Base a second the touch is expected to trade, from the 24h volume; None when the
    venue does not say (nothing rests on a missing volume)."""
    if quote_volume_24h is None or quote_volume_24h <= 0 or mid <= 0:
        return None
    return quote_volume_24h / 86400 / 2 / mid * QUEUE_FLOW_SHARE


def seen(watch: QueueWatch, ahead: Decimal, filled: Decimal, now: datetime) -> QueueWatch:
    """The watch after a look at the book (the first look fixes where the order started)."""
    if watch.first_ahead is None:
        return replace(watch, first_ahead=ahead + filled, first_at=now)
    return watch


def queue_seconds(
    watch: QueueWatch, ahead: Decimal, left: Decimal, filled: Decimal, now: datetime
) -> Decimal | None:
    """Seconds until the size ahead and the order's own ``left`` are expected to have traded:
    the prior rate weighted as ``QUEUE_PRIOR_SECONDS`` of watching, then what the queue was
    seen to do (what left the size ahead, and what the order filled). None: never."""
    traded, elapsed = ZERO, ZERO
    if watch.first_ahead is not None and watch.first_at is not None:
        traded = max(ZERO, watch.first_ahead - ahead - filled)
        elapsed = max(ZERO, Decimal(str((now - watch.first_at).total_seconds())))
    rate = (watch.prior_rate * QUEUE_PRIOR_SECONDS + traded) / (QUEUE_PRIOR_SECONDS + elapsed)
    if rate <= 0:
        return None
    return (max(ZERO, ahead) + max(ZERO, left)) / rate


def decide_queue(
    record: PaceRecord,
    *,
    mid: Decimal,
    spread_bps: Decimal,
    now: datetime,
    need_seconds: Decimal | None,
    left_seconds: Decimal,
) -> Decision:
    """Keep resting on the queue, or cross. Rest only when the queue is expected to trade
    before the purge's time is up (one look to spare), no fall is seen beyond noise, and what
    a maker fill saves (the fee gap and the spread) exceeds what the wait is expected to cost
    (adverse selection over it)."""
    trend = trend_bps_per_minute(record, mid, now)
    gap = max(ZERO, record.taker_fee_bps - record.maker_fee_bps)
    saving = gap + max(ZERO, spread_bps)
    wait = need_seconds if need_seconds is not None else left_seconds
    cost = -trend * wait / 60 + _adverse(record, wait)
    fits = need_seconds is not None and need_seconds <= left_seconds - LOOK_SECONDS
    verdict = Verdict.REST if fits and trend == 0 and cost < saving else Verdict.CROSS
    return Decision(verdict, saving, cost, cost, trend)
