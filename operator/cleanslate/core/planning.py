"""One cycle's plan: a decision for every position, the stale orders to cancel, and the sales
to run now.

Rules are tried in this order and the first that matches decides (each decision names its
rule and says why):

1. quote currency or protected: keep (quote currencies are not positions at all);
   left alone by a person (``spec.leaveAlone``, until its expiry): ignore, with the reason;
2. a zombie (not dust) whose one exit attempt failed: escalate, before anything else can
   hold it, so the escalation is never hidden behind a freeze or a backoff;
3. frozen, or in purge-failure backoff: skip, with the time remaining; unpriced (one failed
   price fetch, a rate limit): skip, held and reported, since nothing is sold on a missing
   price;
4. dust: the dust action (close or ignore), although the protocol also counts dust as a
   zombie; then a zombie: one market exit attempt;
5. ineligible or excluded (when ``autoLiquidateIneligible``): purge by TWAP when worth at
   least ``minLiquidationValueUsd``, else leave as a residual;
6. over the position cap: close, in the ranking of ``exits``;
7. legacy non-compliant: gradual unwind;
8. exposure over the cap of NAV: trims (only every ``trimIntervalCycles``-th cycle);
9. normalization of positions under ``minPositionUsd``;
10. otherwise strategy-aligned: keep (a kept position under ``consolidationThresholdUsd`` is
    listed as a consolidation candidate, as the normalization scan lists them; never sold).

Readings of the order: rule 6 counts the positions that remain once this plan's purges and
closes are done, so a purge is never doubled by an over-cap close (and a tracked position
the classification ranked over the cap may simply be kept). It closes legacy positions
(every category but A) before strategy-aligned ones; a legacy position that cannot be sold
this cycle (backoff, frozen, unpriced, escalated) keeps its place in that order and blocks
CLEAN rather than pushing a sellable strategy position out in its place. Rule 7 takes only
positions opened outside the system: over-cap ones belong to rule 6, and a non-compliant
position worth less than ``minPositionUsd`` is normalized (closed whole, or left as a
residual under ``minLiquidationValueUsd``) instead of unwound, because a quarter of it would
be an order under the exchange minimum; the broker cleanup document closes such positions
whole. Rule 8 trims only positions no earlier rule decided, and not undersized ones; legacy ones
(B and C) before strategy-aligned ones, as over the position cap, and it counts a legacy
position being unwound as leaving whole, so a strategy position is trimmed only by what
remains above the cap (issue 25 item 4).

While any holding (a position or a quote currency) is unpriced, the account's value is
unknown within bounds: each sale is made only when it is also made at both bounds of that
value, and any other sale waits alone (``core.uncertainty``): a price glitch on one holding
never sells another, and never stops the exits that do not depend on it.

At most ``maxLiquidationsPerCycle`` sales run per cycle (every kind of sale counts, because
the limit protects the cycle's time budget). They are chosen in rule order (dust, zombies,
purges, over-cap closes, unwinds, trims, normalization), within a rule legacy positions
first, then the most valuable, then by product id. The others are deferred: skipped this
cycle, saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from cleanslate.api.account import (
    Category,
    FrozenSymbol,
    PlanAction,
    PlanItem,
    PositionStatus,
    PurgeFailure,
    TradingAccountSpec,
    TradingAccountStatus,
    UnwindProgress,
)
from cleanslate.api.policy import DustAction, PurgePolicySpec
from cleanslate.core import uncertainty
from cleanslate.core.backoff import (
    NO_WAIT,
    SUSPENDED_CODE,
    backoff_remaining,
    describe_wait,
    failure_delay,
)
from cleanslate.core.classification import Classified, classify, zombie_reasons
from cleanslate.core.decisions import RULE_ORDER, Decision, ExitKind, Rule
from cleanslate.core.eligibility import VOLUME_UNKNOWN
from cleanslate.core.exits import (
    close,
    hold,
    normalize,
    over_cap,
    percent,
    plan_trims,
    sell,
    unwind_step,
    zombie_exit,
)
from cleanslate.core.freezing import frozen_remaining, is_frozen
from cleanslate.core.holdbacks import unsellable
from cleanslate.core.holdings import Snapshot, open_orders_older_than
from cleanslate.core.leave_alone import describe as describe_left_alone
from cleanslate.core.leave_alone import is_left_alone
from cleanslate.core.market import Order


@dataclass(frozen=True, slots=True)
class Memory:
    """What the account's status remembers between cycles, as the planner needs it."""

    purge_failures: Mapping[str, PurgeFailure] = field(default_factory=dict)
    unwind_progress: Mapping[str, UnwindProgress] = field(default_factory=dict)
    frozen_symbols: Mapping[str, FrozenSymbol] = field(default_factory=dict)
    cycles: int = 0
    """Cycles run before this one (drives ``exposure.trimIntervalCycles``)."""
    resumed: frozenset[str] = frozenset()
    """Symbols whose sale a previous process left in flight and this cycle resumed: that sale
    is this cycle's sale of the symbol, so no second one is planned (a resumed unwind step is
    the step it was, not one more)."""
    last_values: Mapping[str, Decimal] = field(default_factory=dict)
    """Each position's value in the last status that knew it: the high bound of a holding
    whose price is unknown this cycle (``core.uncertainty``)."""

    @classmethod
    def from_status(cls, status: TradingAccountStatus | None) -> Memory:
        if status is None:
            return cls()
        return cls(
            purge_failures=dict(status.purge_failures),
            unwind_progress=dict(status.unwind_progress),
            frozen_symbols=dict(status.frozen_symbols),
            cycles=status.cycles,
            last_values={
                p.symbol: p.value_usd for p in status.positions if p.value_usd is not None
            },
        )


@dataclass(frozen=True, slots=True)
class CyclePlan:
    classified: tuple[Classified, ...]
    decisions: tuple[Decision, ...]
    """One per position, ordered by product id; deferred sales appear as skips."""
    stale_orders: tuple[Order, ...]
    purges: tuple[Decision, ...]
    """The sales to run this cycle, in execution order (at most maxLiquidationsPerCycle)."""
    nav_usd: Decimal
    at_risk_usd: Decimal
    """Value of all positions before this plan's sales."""
    now: datetime

    @property
    def positions(self) -> tuple[PositionStatus, ...]:
        return tuple(c.position_status() for c in self.classified)

    def plan_items(self) -> list[PlanItem]:
        """``status.plan``: every decision, then every stale order to cancel."""
        items = [d.plan_item() for d in self.decisions]
        items.extend(self._cancel_item(o) for o in self.stale_orders)
        return items

    def _cancel_item(self, order: Order) -> PlanItem:
        minutes = int((self.now - order.created_at).total_seconds() // 60)
        return PlanItem(
            symbol=order.product_id,
            action=PlanAction.CANCEL_ORDER,
            quantity=order.remaining_size,
            reason=f"stale open order {order.order_id}: {minutes} min old",
        )


def plan_cycle(
    snapshot: Snapshot,
    account_spec: TradingAccountSpec,
    policy: PurgePolicySpec,
    memory: Memory,
    now: datetime,
) -> CyclePlan:
    """Decide what to do with every position this cycle. Pure: equal input, equal plan.

    With a holding unpriced, each sale is decided again at the bounds of its value, every
    unpriced holding at either (``core.uncertainty``); a sale made at all of them is made,
    any other waits alone."""
    classified, decisions = _decide(snapshot, account_spec, policy, memory, now)
    bounded = uncertainty.bounds(snapshot, memory.last_values)
    if bounded is not None:
        views = (
            {d.symbol: d for d in _decide(view, account_spec, policy, memory, now)[1]}
            for view in bounded.views
        )
        decisions = uncertainty.agree(decisions, views, bounded)
    legacy = frozenset(c.symbol for c in classified if c.legacy)
    decisions, purges = _budget(decisions, policy.max_liquidations_per_cycle, legacy)
    return CyclePlan(
        classified=classified,
        decisions=tuple(decisions),
        stale_orders=_stale_orders(snapshot, account_spec, policy, now),
        purges=purges,
        nav_usd=snapshot.nav_usd,
        at_risk_usd=_at_risk(classified),
        now=now,
    )


def _decide(
    snapshot: Snapshot,
    account_spec: TradingAccountSpec,
    policy: PurgePolicySpec,
    memory: Memory,
    now: datetime,
) -> tuple[tuple[Classified, ...], list[Decision]]:
    """The rules, in order, over one snapshot: a decision per position, before the budget."""
    classified = classify(snapshot, account_spec, policy)
    decided = {
        c.symbol: d for c in classified if (d := _early_rules(c, policy, memory, now)) is not None
    }
    decided.update(_over_cap_closes(classified, decided, policy))
    for c in classified:
        if c.symbol not in decided and _unwinds(c):
            decided[c.symbol] = unwind_step(
                c.holding,
                memory.unwind_progress,
                now,
                policy.unwind,
                policy.min_liquidation_value_usd,
            )
    if memory.cycles % policy.exposure.trim_interval_cycles == 0:
        decided.update(_trims(classified, decided, snapshot.nav_usd, policy))
    for c in classified:
        if c.symbol not in decided:
            decided[c.symbol] = _late_rules(c, policy)
    decisions = [
        _released(unsellable(_nothing_available(decided[c.symbol]), c), policy) for c in classified
    ]
    return classified, [_once_per_cycle(d, memory.resumed) for d in decisions]


def _stale_orders(
    snapshot: Snapshot, account_spec: TradingAccountSpec, policy: PurgePolicySpec, now: datetime
) -> tuple[Order, ...]:
    """Phase 2's stale orders, except on products a person left alone: their orders may be
    that person's own sale, which cancelling would undo."""
    stale = open_orders_older_than(snapshot.open_orders, now, policy.stale_order_minutes)
    return tuple(o for o in stale if not is_left_alone(account_spec, o.product_id, now))


def _unwinds(c: Classified) -> bool:
    """Rule 7 takes the legacy positions that no other rule owns: opened outside the system
    and not undersized. Over-cap positions are rule 6's (a tracked position the
    classification counted over the cap may fit once this cycle's purges are done), and
    undersized ones are normalized (rule 9)."""
    return c.category is Category.LEGACY_NON_COMPLIANT and c.tracked is None and not c.undersized


def _early_rules(
    c: Classified, policy: PurgePolicySpec, memory: Memory, now: datetime
) -> Decision | None:
    """Rules 1-5, which look at one holding alone."""
    h = c.holding
    if c.is_protected:
        return hold(h, ExitKind.KEEP, Rule.KEEP, "protected symbol: never sold")
    if c.left_alone is not None:
        return hold(h, ExitKind.IGNORE, Rule.LEFT_ALONE, describe_left_alone(c.left_alone))
    if c.category is Category.ZOMBIE and not c.is_dust and c.symbol in memory.purge_failures:
        return zombie_exit(h, True, "; ".join(zombie_reasons(c)))
    waiting = _hold_off(c, policy, memory, now)
    if waiting is not None:
        return waiting
    if c.unpriced:
        error = h.price_error or "no quote"
        return hold(h, ExitKind.SKIP, Rule.HOLD_OFF, f"price unknown ({error}): held, not sold")
    if c.volume_unknown:
        return hold(h, ExitKind.SKIP, Rule.HOLD_OFF, f"{VOLUME_UNKNOWN}: held, not sold")
    if c.is_dust:
        if policy.dust.action is DustAction.CLOSE:
            return close(h, Rule.DUST, f"dust (${h.value_usd:.2f}): dust action Close")
        return hold(h, ExitKind.IGNORE, Rule.DUST, f"dust (${h.value_usd:.2f}): dust action Ignore")
    if c.category is Category.ZOMBIE:
        why = "; ".join(zombie_reasons(c))
        return zombie_exit(h, c.symbol in memory.purge_failures, why)
    if not c.verdict.eligible and policy.auto_liquidate_ineligible:
        return _purge(c, policy)
    return None


def _hold_off(
    c: Classified, policy: PurgePolicySpec, memory: Memory, now: datetime
) -> Decision | None:
    """Frozen symbols and symbols in backoff are skipped, saying how long is left."""
    h = c.holding
    if is_frozen(memory.frozen_symbols, c.symbol, now):
        left = describe_wait(frozen_remaining(memory.frozen_symbols, c.symbol, now))
        error = memory.frozen_symbols[c.symbol].last_error
        return hold(h, ExitKind.SKIP, Rule.HOLD_OFF, f"frozen ({error}), {left} remaining")
    failure = memory.purge_failures.get(c.symbol)
    if failure is None:
        return None
    remaining = backoff_remaining(failure, policy.backoff.schedule, now)
    if remaining <= NO_WAIT:
        return None
    delay = describe_wait(failure_delay(failure, policy.backoff.schedule))
    if failure.last_error_code == SUSPENDED_CODE:
        delay = f"{delay} ({SUSPENDED_CODE}: product suspended)"
    reason = (
        f"backoff: {failure.failure_count} recent failures, backoff {delay}, "
        f"{describe_wait(remaining)} remaining"
    )
    return hold(h, ExitKind.SKIP, Rule.HOLD_OFF, reason)


def _purge(c: Classified, policy: PurgePolicySpec) -> Decision:
    h, floor = c.holding, policy.min_liquidation_value_usd
    why = "; ".join(c.verdict.reasons)
    value = h.value_usd or Decimal(0)
    if value < floor:
        reason = f"ineligible ({why}): residual ${value:.2f} under ${floor} left alone"
        return hold(h, ExitKind.IGNORE, Rule.INELIGIBLE, reason)
    return sell(h, h.available, ExitKind.PURGE, Rule.INELIGIBLE, f"ineligible ({why}): TWAP purge")


def _over_cap_closes(
    classified: tuple[Classified, ...], decided: Mapping[str, Decision], policy: PurgePolicySpec
) -> dict[str, Decision]:
    """Close the lowest-ranked positions that still count once this plan's exits are done,
    legacy ones first. Positions an earlier rule holds (backoff, frozen, unpriced, escalated)
    take their turn in the ranking but are not closed: they block CLEAN instead of a
    strategy-aligned position being sold in their place."""
    staying = [c for c in classified if c.counts_toward_cap and not _exits(decided.get(c.symbol))]
    candidates = [c for c in staying if not c.is_protected]
    cap = policy.max_positions
    chosen = over_cap(candidates, len(staying), cap, lambda c: c.legacy)
    closing = [c for c in chosen if c.symbol not in decided]
    reason = f"over cap: {len(staying)} positions, cap {cap}; closing by ranking, legacy first"
    held = {
        c.symbol: replace(
            decided[c.symbol],
            reason=f"{decided[c.symbol].reason}; over cap, cannot be sold now: blocks CLEAN",
        )
        for c in chosen
        if c.symbol in decided and not decided[c.symbol].sells
    }
    return held | {
        c.symbol: close(c.holding, Rule.OVER_CAP, f"{reason} ({n} of {len(closing)})")
        for n, c in enumerate(closing, start=1)
    }


def _exits(decision: Decision | None) -> bool:
    """Whether a decision takes the whole position away this cycle."""
    return decision is not None and decision.kind in (ExitKind.PURGE, ExitKind.CLOSE)


def _at_risk(classified: tuple[Classified, ...]) -> Decimal:
    """Value the exposure cap limits: positions cleanslate may sell. Holdings a person keeps
    (protected, left alone) are outside it, like quote currencies: trims never sell them, so
    counting them would trim every strategy position and still never reach the cap. Dust and
    residuals are outside it too: the auto-purge guide's residual is "ignored in exposure
    calculations", and a few dollars of crumbs must not trim a strategy position."""
    return sum((c.value_usd or Decimal(0) for c in _exposed(classified)), Decimal(0))


def _exposed(classified: tuple[Classified, ...]) -> list[Classified]:
    return [
        c
        for c in classified
        if c.value_usd is not None
        and not (c.is_protected or c.left_alone is not None or c.is_dust or c.is_residual)
    ]


def _trims(
    classified: tuple[Classified, ...],
    decided: Mapping[str, Decision],
    nav_usd: Decimal,
    policy: PurgePolicySpec,
) -> dict[str, Decision]:
    """Trims that bring at-risk value (all positions, after this plan's sales) under the cap."""
    exposed = _exposed(classified)
    at_risk = sum((c.value_usd or Decimal(0) for c in exposed), Decimal(0)) - sum(
        (_leaving(decided.get(c.symbol), c) for c in exposed), Decimal(0)
    )
    cap_pct = policy.exposure.max_total_at_risk_pct
    cap_usd = nav_usd * cap_pct / 100
    if at_risk <= cap_usd:
        return {}
    candidates = [c for c in classified if c.symbol not in decided and not c.undersized]
    legacy = {c.symbol for c in candidates if c.category is not Category.STRATEGY_ALIGNED}
    reason = f"exposure ${at_risk:.2f} above {percent(cap_pct / 100)} of NAV (${cap_usd:.2f}): trim"
    trims = plan_trims(
        [c.holding for c in candidates],
        at_risk - cap_usd,
        policy.min_liquidation_value_usd,
        reason,
        first=lambda h: h.product_id in legacy,
        min_position_usd=policy.min_position_usd,
    )
    return {d.symbol: d for d in trims}


def _leaving(decision: Decision | None, c: Classified) -> Decimal:
    """The exposure this plan's decision takes away. A legacy position being unwound leaves
    whole (it is sold step by step whatever the cap says), so its remaining steps are counted
    now and a strategy position is trimmed only by what remains above the cap."""
    if decision is None or not decision.sells:
        return Decimal(0)
    if decision.kind is ExitKind.UNWIND:
        return c.value_usd or Decimal(0)
    return decision.value_usd or Decimal(0)


def _late_rules(c: Classified, policy: PurgePolicySpec) -> Decision:
    """Rules 9-10: normalization of undersized positions, else keep."""
    if c.undersized:
        return normalize(
            c.holding,
            policy.min_position_usd,
            policy.min_liquidation_value_usd,
            policy.dust.action is DustAction.CLOSE,
        )
    if c.category is not Category.STRATEGY_ALIGNED:
        why = "; ".join(c.reasons)
        return hold(c.holding, ExitKind.KEEP, Rule.ALIGNED, f"not strategy-aligned ({why}): kept")
    value, limit = c.value_usd, policy.consolidation_threshold_usd
    if value is not None and value < limit:
        reason = f"strategy-aligned: keep; consolidation candidate (${value:.2f} under ${limit})"
        return hold(c.holding, ExitKind.KEEP, Rule.ALIGNED, reason)
    return hold(c.holding, ExitKind.KEEP, Rule.ALIGNED, "strategy-aligned: keep")


def _released(decision: Decision, policy: PurgePolicySpec) -> Decision:
    """A default quote currency the policy released is planned like any holding; the plan
    says why it is not kept."""
    if decision.asset not in policy.released_quote_currencies:
        return decision
    note = "default quote currency released by the policy (releasedQuoteCurrencies)"
    return replace(decision, reason=f"{decision.reason}; {note}")


def _once_per_cycle(decision: Decision, resumed: frozenset[str]) -> Decision:
    """A symbol whose in-flight sale was resumed this cycle had its sale: the next waits."""
    if decision.symbol not in resumed or not decision.sells:
        return decision
    reason = f"{decision.reason}; waits: a sale left in flight was resumed this cycle"
    return replace(decision, kind=ExitKind.SKIP, quantity=Decimal(0), progress=None, reason=reason)


def _nothing_available(decision: Decision) -> Decision:
    """A sale with nothing available (open orders hold it all) waits for the cancellations."""
    if decision.kind not in (ExitKind.PURGE, ExitKind.CLOSE, ExitKind.UNWIND, ExitKind.TRIM):
        return decision
    if decision.quantity > 0:
        return decision
    reason = f"{decision.reason}; nothing available (held by open orders)"
    return replace(decision, kind=ExitKind.SKIP, reason=reason, progress=None)


def _budget(
    decisions: list[Decision], limit: int, legacy: frozenset[str]
) -> tuple[list[Decision], tuple[Decision, ...]]:
    """Pick at most ``limit`` sales in the documented order and defer the others. Within a
    rule legacy positions go first, so the budget never sells a strategy position over the
    cap while deferring the legacy one that the ranking closes first."""
    sales = sorted(
        (d for d in decisions if d.sells),
        key=lambda d: (
            RULE_ORDER.index(d.rule),
            d.symbol not in legacy,
            -(d.value_usd or Decimal(0)),
            d.symbol,
        ),
    )
    chosen, deferred = sales[:limit], {d.symbol for d in sales[limit:]}
    kept = [
        replace(
            d,
            kind=ExitKind.SKIP,
            quantity=Decimal(0),
            progress=None,
            reason=f"deferred, maxLiquidationsPerCycle ({limit}) reached: {d.reason}",
        )
        if d.symbol in deferred
        else d
        for d in decisions
    ]
    return kept, tuple(chosen)
