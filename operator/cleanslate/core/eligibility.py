"""Universe eligibility: may the strategy hold this product? Anything it may not is purged.

Checks run in a fixed order so the verdict explains itself: explicit exclusions and bans
first (a person decided), then whether the product exists and trades, then the force-eligible
override, then the liquidity floors of the product's tier (or the global fallback floor).
Liquidity is judged on 24h volume in the QUOTE currency: the production fixes found that
reading base units made BTC look like a $6K-a-day market and purged the core assets.
Every verdict, eligible or not, carries its reasons.

A venue that reports no 24h volume (some ccxt exchanges' tickers have none) leaves the
volume *unknown*, never 0: "0 means ineligible, sell it" would liquidate a whole account on a
missing field. A product whose volume is unknown and that fails no other floor gets an
``unknown`` verdict: the holding is held, neither judged ineligible nor sold, and blocks
CLEAN with the reason, exactly like a holding without a price (docs/design.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cleanslate.api.account import Ban
from cleanslate.api.policy import Tier, Universe
from cleanslate.core.market import Product, Quote, names_asset

VOLUME_UNKNOWN = "24h quote volume unknown: the exchange does not report it"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a product is in the universe, which tier judged it, and why."""

    eligible: bool
    tier: str | None
    reasons: tuple[str, ...]
    unknown: bool = False
    """The liquidity could not be judged (no 24h volume where a floor applies): not
    eligible, but not ineligible either; the holding is held and blocks CLEAN."""


def tier_of(product_id: str, universe: Universe) -> Tier | None:
    """The first tier that lists the product's asset; None means the global floor applies.
    Tiers, like every universe rule, are keyed by asset (``core.market.names_asset``)."""
    return next((t for t in universe.tiers if names_asset(t.symbols, product_id)), None)


def is_force_eligible(product_id: str, universe: Universe) -> bool:
    return any(names_asset(t.force_eligible, product_id) for t in universe.tiers)


def active_ban(product_id: str, bans: Iterable[Ban], now: datetime) -> Ban | None:
    """A ban on the product's asset that has not expired (no ``expiresAt``: it never does)."""
    return next(
        (
            b
            for b in bans
            if names_asset((b.symbol,), product_id) and (b.expires_at is None or b.expires_at > now)
        ),
        None,
    )


def judge_eligibility(
    product_id: str,
    quote: Quote | None,
    product: Product | None,
    universe: Universe,
    bans: Iterable[Ban],
    now: datetime,
) -> Verdict:
    """Judge one product against the universe at ``now`` (bans expire by the clock)."""
    tier = tier_of(product_id, universe)
    tier_name = tier.name if tier else None
    refusal = _refusal(product_id, product, universe, bans, now)
    if refusal:
        return Verdict(False, tier_name, (refusal,))
    if is_force_eligible(product_id, universe):
        return Verdict(True, tier_name, ("force-eligible: bypasses liquidity checks",))
    if quote is None:
        return Verdict(False, tier_name, ("no quote: liquidity cannot be judged",))
    failures = _liquidity_failures(quote, tier, universe)
    if failures:
        return Verdict(False, tier_name, failures)
    floor = tier.min_quote_volume_usd if tier else universe.global_min_quote_volume_usd
    if quote.quote_volume_24h is None and floor > 0:
        return Verdict(False, tier_name, (VOLUME_UNKNOWN,), unknown=True)
    where = f"tier {tier.name}" if tier else "global floor"
    return Verdict(True, tier_name, (f"liquidity floors of {where} met",))


def _refusal(
    product_id: str,
    product: Product | None,
    universe: Universe,
    bans: Iterable[Ban],
    now: datetime,
) -> str | None:
    """Reasons that no liquidity can override: a person's decision, or no market at all."""
    if names_asset(universe.excluded_symbols, product_id):
        return "excluded: listed in universe.excludedSymbols"
    ban = active_ban(product_id, bans, now)
    if ban is not None:
        until = ban.expires_at.isoformat() if ban.expires_at else "never expires"
        return f"banned: {ban.reason} (until {until})"
    if product is None:
        return "unknown product: the exchange does not list it"
    if not product.tradeable:
        return f"product not tradeable: {product.status.value}"
    return None


def _liquidity_failures(quote: Quote, tier: Tier | None, universe: Universe) -> tuple[str, ...]:
    """Every floor the quote misses. Products in no tier face only the global volume floor."""
    floor = tier.min_quote_volume_usd if tier else universe.global_min_quote_volume_usd
    failures: list[str] = []
    if quote.quote_volume_24h is not None and quote.quote_volume_24h < floor:
        failures.append(
            f"24h quote volume ${quote.quote_volume_24h:,.0f} below floor ${floor:,.0f}"
        )
    if tier is not None:
        spread = quote.spread_bps
        if spread > tier.max_spread_bps:
            failures.append(f"spread {spread:.1f} bps above max {tier.max_spread_bps} bps")
        if quote.bid_depth_quote < tier.min_depth_usd:
            failures.append(
                f"bid depth ${quote.bid_depth_quote:,.0f} below floor ${tier.min_depth_usd:,.0f}"
            )
    return tuple(failures)
