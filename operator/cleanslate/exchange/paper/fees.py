"""Coinbase Advanced's fee tiers as data: trailing 30-day USD volume -> maker and taker fees.

Sources. The entry tier (``Advanced 1``: $0-1K, maker 0.60 %, taker 1.20 %) is a live answer
of Coinbase's ``transaction_summary`` endpoint quoted in ccxt PR 23347 (2024-08-07,
https://github.com/ccxt/ccxt/pull/23347). The two tiers above it are the rows Coinbase's
Advanced fee page listed at the same time (help.coinbase.com, "Coinbase Advanced fees": the
schedule itself is only shown to a signed-in user, so they are as published, not as observed).
Higher tiers are left out: nobody cleaning a small account trades there, and a row we cannot
source is a guess we would rather not make. The schedule the paper exchange used before
(maker 0.40 %, taker 0.60 %) is Coinbase Pro's of 2022 (ccxt issue 12470) and is kept as
``legacy-2022`` for comparison. Fees are charged on the tier of the order's placement time,
not recomputed mid-purge (as Coinbase does, hourly).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cleanslate.api.account import PaperFees

D = Decimal


@dataclass(frozen=True, slots=True)
class FeeTier:
    name: str
    volume_from_usd: Decimal
    """Lowest trailing 30-day volume of the tier (inclusive)."""
    maker_bps: Decimal
    taker_bps: Decimal


COINBASE_ADVANCED: tuple[FeeTier, ...] = (
    FeeTier("advanced-1", D(0), D(60), D(120)),
    FeeTier("advanced-2", D(1_000), D(35), D(75)),
    FeeTier("advanced-3", D(10_000), D(25), D(40)),
)
"""Lowest volume first; a volume above the last row gets the last row (see the docstring)."""

LEGACY_2022 = FeeTier("legacy-2022", D(0), D(40), D(60))
"""The paper exchange's schedule before the tiers: Coinbase Pro, March 2022."""


def tier_for(thirty_day_volume_usd: Decimal) -> FeeTier:
    """The tier a trailing 30-day volume falls in."""
    found = COINBASE_ADVANCED[0]
    for tier in COINBASE_ADVANCED:
        if thirty_day_volume_usd >= tier.volume_from_usd:
            found = tier
    return found


def rates(config: PaperFees) -> tuple[Decimal, Decimal]:
    """(maker bps, taker bps): the configured tier, with explicit rates taking precedence."""
    tier = tier_for(config.thirty_day_volume_usd)
    maker = tier.maker_bps if config.maker_bps is None else config.maker_bps
    taker = tier.taker_bps if config.taker_bps is None else config.taker_bps
    return maker, taker
