"""Phase 1 of the legacy exit protocol: sort every position into A, B or C, with reasons.

* **C, zombie**: the product is unknown or delisted, its price is lost (the product list
  says it is gone, or the symbol reached the freeze threshold), it is tracked without an
  entry price, or it is dust (under ``dust.thresholdUsd`` or under
  ``dust.thresholdPctOfAccount`` of NAV). C wins over B. One failed price fetch is not a
  lost price: such a holding is *unpriced*, held and reported, never sold on missing data.
* **B, legacy non-compliant**: a priced holding that is not tracked (opened outside the
  system), that the universe rejects (ineligible, excluded, banned: tracking does not make a
  rejected coin strategy-aligned), is over the position cap, or is wrongly sized. "Wrongly
  sized" is read as worth less than ``minPositionUsd``: the policy has no upper size limit,
  and the normalization document calls exactly those positions non-compliant.
* **A, strategy-aligned**: tracked with an entry price, in the universe, within the cap,
  rightly sized.

The purge floor wins over the percentage dust rule: a holding the universe rejects is dust
only under the fixed ``dust.thresholdUsd``, whatever the account's size (the auto-purge guide
purges every such holding worth the floor and leaves a smaller residual; 1 % of a $10,000
account must not shield a $56 ineligible coin, nor turn a $3 residual into dust to close
that a $300 account leaves alone). Dust keeps its documented meaning for holdings the
universe accepts. One holding, one answer at every account size (issue 25 item 2).

Which positions are over the cap follows the closing ranking of ``exits``, legacy positions
first: when more positions count than ``maxPositions`` allows, the ones that would close
first are B. Dust and residuals (worth less than the minimum liquidation value) do not count
toward the cap: they are left alone on purpose, and counting them would close real positions
to make room for dust. Neither do holdings a person left alone (``spec.leaveAlone``), for the
same reason, and neither do protected holdings, which nothing may close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from cleanslate.api.account import (
    Category,
    LeaveAlone,
    PositionStatus,
    TrackedPosition,
    TradingAccountSpec,
)
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.eligibility import Verdict, judge_eligibility
from cleanslate.core.exits import over_cap
from cleanslate.core.holdings import Holding, Snapshot, positions
from cleanslate.core.leave_alone import describe, left_alone
from cleanslate.core.market import ProductStatus


@dataclass(frozen=True, slots=True)
class Classified:
    """One position with its category and everything later rules need to know about it."""

    holding: Holding
    category: Category
    verdict: Verdict
    reasons: tuple[str, ...]
    is_dust: bool
    is_residual: bool
    """Worth less than the minimum liquidation value (and not dust): not worth an order."""
    is_protected: bool
    undersized: bool
    over_cap: bool
    tracked: TrackedPosition | None
    pnl: Decimal | None
    """Unrealised return against the tracked entry price (0.1 = +10 %); None when unknown."""
    legacy: bool = False
    """Not strategy-aligned for a reason other than the cap: it closes first when over it."""
    left_alone: LeaveAlone | None = None
    """The active ``spec.leaveAlone`` entry: a person keeps this holding (see leave_alone)."""

    @property
    def symbol(self) -> str:
        return self.holding.product_id

    @property
    def value_usd(self) -> Decimal | None:
        return self.holding.value_usd

    @property
    def opened_at(self) -> datetime | None:
        return self.tracked.opened_at if self.tracked else None

    @property
    def rejected(self) -> bool:
        """The universe rejects this priced holding (ineligible, excluded, banned)."""
        return not self.verdict.eligible and not self.verdict.unknown and self.value_usd is not None

    @property
    def volume_unknown(self) -> bool:
        """Priced, but the venue gave no 24h volume to judge it by: held like an unpriced
        holding (never "0 volume, sell it"), and it blocks CLEAN."""
        return self.verdict.unknown and self.value_usd is not None

    @property
    def unpriced(self) -> bool:
        """No price this cycle, but nothing says it is gone (the product is listed and
        trades, the price is not lost): held and reported, never sold on missing data,
        whatever else is wrong with it."""
        product = self.holding.product
        return (
            self.value_usd is None
            and not self.holding.price_lost
            and product is not None
            and product.status is not ProductStatus.DELISTED
        )

    @property
    def counts_toward_cap(self) -> bool:
        """Dust, residuals and holdings a person keeps (protected, left alone) are outside
        the cap: they are never closed for it, so counting them would close strategy
        positions to make room for them."""
        return not (
            self.is_dust or self.is_residual or self.is_protected or self.left_alone is not None
        )

    def position_status(self) -> PositionStatus:
        return PositionStatus(
            symbol=self.symbol,
            quantity=self.holding.quantity,
            value_usd=self.value_usd,
            category=self.category,
            eligible=self.verdict.eligible,
            reasons=[*self.reasons, *(f"eligibility: {r}" for r in self.verdict.reasons)],
        )


def is_protected(holding: Holding, spec: TradingAccountSpec) -> bool:
    return protects(spec, holding.product_id)


def protects(spec: TradingAccountSpec, product_id: str) -> bool:
    """``protectedSymbols`` may name the product (SEI-USD) or the asset (SEI)."""
    protected = set(spec.protected_symbols)
    return product_id in protected or product_id.split("-")[0] in protected


def dust_limit(nav_usd: Decimal, policy: PurgePolicySpec) -> Decimal:
    """The value under which a holding is dust: the larger of the two documented limits, the
    percentage one capped at ``minPositionUsd``. The percentage marks crumbs, not positions:
    on a $100,000 account 1 % is $1,000, and a $900 position is neither a crumb to market
    close (a tracked one) nor something to ignore while the account counts as CLEAN (an
    untracked one, which is legacy)."""
    share = min(nav_usd * policy.dust.threshold_pct_of_account / 100, policy.min_position_usd)
    return max(policy.dust.threshold_usd, share)


def classify(
    snapshot: Snapshot, account_spec: TradingAccountSpec, policy: PurgePolicySpec
) -> tuple[Classified, ...]:
    """Classify every position of the snapshot, ordered by product id."""
    tracked = {t.symbol: t for t in account_spec.tracked_positions}
    limit = dust_limit(snapshot.nav_usd, policy)
    held = sorted(positions(snapshot.holdings, policy.quote_currencies), key=lambda h: h.product_id)
    facts = [_facts(h, snapshot.now, account_spec, policy, tracked, limit) for h in held]
    facts = [
        replace(f, legacy=bool(zombie_reasons(f) or _legacy_reasons(f, False, 0, policy)))
        for f in facts
    ]
    counted = [f for f in facts if f.counts_toward_cap]
    candidates = [f for f in counted if not f.is_protected]
    closing = {
        f.symbol
        for f in over_cap(candidates, len(counted), policy.max_positions, lambda f: f.legacy)
    }
    return tuple(_categorize(f, f.symbol in closing, len(counted), policy) for f in facts)


def _facts(
    holding: Holding,
    now: datetime,
    spec: TradingAccountSpec,
    policy: PurgePolicySpec,
    tracked: Mapping[str, TrackedPosition],
    dust_limit_usd: Decimal,
) -> Classified:
    """Everything about a holding except its category (which needs the whole cap picture)."""
    value = holding.value_usd
    entry = tracked.get(holding.product_id)
    pnl = None
    if entry and entry.entry_price and holding.price is not None:
        pnl = holding.price / entry.entry_price - 1
    verdict = judge_eligibility(
        holding.product_id, holding.quote, holding.product, policy.universe, spec.bans, now
    )
    if holding.asset in policy.released_quote_currencies and not verdict.eligible:
        # Released cash is not a strategy asset: it is sold because the policy says so, not
        # for a liquidity verdict (a par-valued USDC has no quote to judge by).
        verdict = Verdict(False, verdict.tier, (RELEASED,))
    rejected = not verdict.eligible and not verdict.unknown
    limit = policy.dust.threshold_usd if rejected else dust_limit_usd
    is_dust = value is not None and value < limit
    return Classified(
        holding=holding,
        category=Category.STRATEGY_ALIGNED,
        verdict=verdict,
        reasons=(),
        is_dust=is_dust,
        is_residual=not is_dust and value is not None and value < policy.min_liquidation_value_usd,
        is_protected=is_protected(holding, spec),
        undersized=value is not None and value < policy.min_position_usd,
        over_cap=False,
        tracked=entry,
        pnl=pnl,
        left_alone=left_alone(spec, holding.product_id, now),
    )


RELEASED = "released quote currency: not a strategy asset"


def zombie_reasons(facts: Classified) -> list[str]:
    holding = facts.holding
    reasons = []
    if holding.product is None:
        reasons.append("unknown asset pair: the exchange does not list the product")
    elif holding.product.status is ProductStatus.DELISTED:
        reasons.append("delisted product")
    if holding.value_usd is None and holding.price_lost:
        reasons.append(f"cannot fetch price: {holding.price_error or 'no quote'}")
    if facts.tracked is not None and facts.tracked.entry_price is None:
        reasons.append("tracked without an entry price")
    if facts.is_dust:
        reasons.append(f"dust: ${holding.value_usd:.2f} below the dust threshold")
    return reasons


_FLOORS = (("24h quote volume", "volume"), ("spread", "spread"), ("bid depth", "depth"))


def rejection_summary(verdict: Verdict) -> str:
    """Why the universe rejects a holding, without the live figures (24h volume, spread,
    depth move every cycle; the plan and the position's reasons carry them). Status fields
    that name blockers must not change on a cycle where nothing did."""
    floors = [
        name for prefix, name in _FLOORS if any(r.startswith(prefix) for r in verdict.reasons)
    ]
    others = [r for r in verdict.reasons if not any(r.startswith(p) for p, _ in _FLOORS)]
    if floors:
        others.append(f"below the liquidity floors ({', '.join(floors)})")
    return "; ".join(others)


def _legacy_reasons(
    facts: Classified, over: bool, count: int, policy: PurgePolicySpec
) -> list[str]:
    reasons = []
    if facts.tracked is None:
        reasons.append("untracked: opened outside the system")
    if facts.rejected:
        reasons.append(f"not in the universe: {rejection_summary(facts.verdict)}")
    if over:
        reasons.append(f"over cap: {count} positions, cap {policy.max_positions}")
    if facts.undersized:
        value = facts.value_usd or Decimal(0)
        reasons.append(f"wrongly sized: ${value:.2f} below minimum ${policy.min_position_usd}")
    return reasons


def _categorize(facts: Classified, over: bool, count: int, policy: PurgePolicySpec) -> Classified:
    zombie = zombie_reasons(facts)
    legacy = _legacy_reasons(facts, over, count, policy)
    if zombie:
        category, reasons = Category.ZOMBIE, zombie
    elif legacy:
        category, reasons = Category.LEGACY_NON_COMPLIANT, legacy
    else:
        category, reasons = Category.STRATEGY_ALIGNED, ["tracked with entry price, within cap"]
    if facts.unpriced:
        error = facts.holding.price_error or "no quote"
        reasons = [*reasons, f"price unknown ({error}): held, not sold this cycle"]
    elif facts.volume_unknown:
        reasons = [*reasons, "24h quote volume unknown: held, not sold"]
    if facts.is_protected:
        reasons = [*reasons, "protected: never sold"]
    if facts.left_alone is not None:
        reasons = [*reasons, describe(facts.left_alone)]
    return replace(facts, category=category, reasons=tuple(reasons), over_cap=over)
