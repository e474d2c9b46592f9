"""Phase 4 of the legacy exit protocol: is the account CLEAN, and if not, what blocks it?

CLEAN exactly when the positions fit the cap, there is no zombie, every position is
strategy-aligned (category A: tracked, with an entry price, rightly sized) or protected, and
no open order is stale. Holdings the policy leaves alone on purpose (dust under the Ignore
action, residuals worth less than the minimum liquidation value) are reported as ignored and
block nothing: they are exactly the holdings for which the plan's decision is Ignore, so the
verdict and the plan never disagree about them. They do not count toward the cap either.
Holdings a person left alone (``spec.leaveAlone``, while active) are among them: the person
said they will deal with it, so it is reported with its reason and expiry and blocks nothing.

Verification and the plan agree in the other direction too: a position the plan would still
sell, hold off or escalate is never CLEAN, whatever its category (a tracked coin the universe
rejects is not strategy-aligned), and a position whose price is unknown cannot be verified,
so it blocks CLEAN until its price is back. A position that open orders hold (all but an
amount under the exchange minimum) is judged by its total and blocks CLEAN, naming the
orders, until they are gone (issue 25 item 5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cleanslate.api.account import Category, TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.classification import Classified
from cleanslate.core.decisions import Decision, ExitKind
from cleanslate.core.holdbacks import HELD_BY_ORDERS
from cleanslate.core.holdings import Snapshot
from cleanslate.core.planning import Memory, plan_cycle


@dataclass(frozen=True, slots=True)
class Verification:
    clean: bool
    blockers: tuple[str, ...]
    ignored: tuple[str, ...]
    """Holdings left alone on purpose, each with why (reported, not blocking)."""


def verify(
    snapshot_after: Snapshot,
    account_spec: TradingAccountSpec,
    policy: PurgePolicySpec,
    memory: Memory,
    now: datetime,
) -> Verification:
    """Judge the account as it is after the cycle's actions (a fresh snapshot).

    Exposure trims are always considered (as on a trim cycle): ``trimIntervalCycles`` paces
    the selling, not the verdict, so an over-exposed account is not CLEAN on the cycles in
    between."""
    plan = plan_cycle(snapshot_after, account_spec, policy, replace(memory, cycles=0), now)
    ignored_decisions = {d.symbol: d for d in plan.decisions if d.kind is ExitKind.IGNORE}
    ignored = tuple(f"{d.symbol}: {d.reason}" for d in ignored_decisions.values())
    positions = [c for c in plan.classified if c.symbol not in ignored_decisions]
    blockers: list[str] = []
    counted = [c for c in positions if c.counts_toward_cap]
    if len(counted) > policy.max_positions:
        blockers.append(f"{len(counted)} positions exceed the cap of {policy.max_positions}")
    decisions = {d.symbol: d for d in plan.decisions}
    for c in positions:
        blockers.extend(_position_blockers(c, decisions[c.symbol], memory))
    for order in plan.stale_orders:
        minutes = int((now - order.created_at).total_seconds() // 60)
        blockers.append(f"{order.product_id}: stale open order {order.order_id} ({minutes} min)")
    return Verification(not blockers, tuple(blockers), ignored)


def _position_blockers(c: Classified, decision: Decision, memory: Memory) -> list[str]:
    if c.is_protected or c.left_alone is not None:
        return []
    # Blockers name no live figures or error texts (the plan's reasons do): a cycle in which
    # nothing changed must not rewrite the status.
    if c.unpriced:
        return [f"{c.symbol}: price unknown this cycle: not verified"]
    if decision.kind is ExitKind.SKIP and HELD_BY_ORDERS in decision.reason:
        return [f"{c.symbol}: {HELD_BY_ORDERS}: the sale waits for them"]
    if c.volume_unknown:
        return [f"{c.symbol}: 24h quote volume unknown: not verified"]
    if c.category is Category.STRATEGY_ALIGNED:
        if decision.kind is ExitKind.KEEP:
            return []
        return [f"{c.symbol}: plan says {decision.action.value} ({decision.rule.value})"]
    why = "; ".join(c.reasons)
    if c.category is Category.ZOMBIE:
        escalated = " (exit failed, escalated)" if c.symbol in memory.purge_failures else ""
        return [f"{c.symbol}: zombie: {why}{escalated}"]
    return [f"{c.symbol}: not strategy-aligned: {why}"]
