"""``spec.leaveAlone``: a person keeps a holding; nothing sells or retries it until the expiry,
it blocks nothing, and afterwards it is decided as if the entry were not there."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cleanslate.api.account import LeaveAlone, PlanAction, TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.decisions import ExitKind, Rule
from cleanslate.core.holdings import Snapshot
from cleanslate.core.leave_alone import is_left_alone, left_alone
from cleanslate.core.planning import Memory, plan_cycle
from cleanslate.core.verification import verify

from .builders import NOW, bonk, cash, failure, holding, order, policy, snapshot, spec
from .test_properties import PLAN_SETTINGS, accounts, memories, policies, snapshots

LATER = NOW + timedelta(days=7)
ACCOUNT = snapshot(cash("USD", "230"), bonk())  # BONK: ineligible, ~$9.48


def alone(*entries: tuple[str, str, datetime | None], **kw: object) -> TradingAccountSpec:
    base = spec(**kw)  # type: ignore[arg-type]
    kept = [LeaveAlone(symbol=s, reason=r, until=u) for s, r, u in entries]
    return base.model_copy(update={"leave_alone": kept})


def test_an_entry_covers_its_product_or_its_asset_until_it_expires() -> None:
    by_product = alone(("BONK-USD", "persistent_purge_failure", LATER))
    by_asset = alone(("BONK", "manual", None))
    assert is_left_alone(by_product, "BONK-USD", NOW)
    assert is_left_alone(by_asset, "BONK-USD", NOW + timedelta(days=365))
    assert not is_left_alone(by_product, "BONK-USD", LATER)  # the expiry is exclusive
    assert not is_left_alone(by_product, "SEI-USD", NOW)
    assert not is_left_alone(spec(), "BONK-USD", NOW)


def test_the_longest_of_several_entries_wins() -> None:
    account = alone(("BONK-USD", "short", NOW + timedelta(hours=1)), ("BONK", "long", LATER))
    entry = left_alone(account, "BONK-USD", NOW)
    assert entry is not None and entry.reason == "long"
    forever = alone(("BONK-USD", "short", LATER), ("BONK", "forever", None))
    assert left_alone(forever, "BONK-USD", NOW).reason == "forever"  # type: ignore[union-attr]


def test_an_ineligible_holding_left_alone_is_kept_and_says_why_and_until_when() -> None:
    account = alone(("BONK-USD", "I will sell it on another venue", LATER))
    plan = plan_cycle(ACCOUNT, account, policy(), Memory(), NOW)
    (decision,) = plan.decisions
    assert (decision.kind, decision.rule, decision.quantity) == (
        ExitKind.IGNORE,
        Rule.LEFT_ALONE,
        0,
    )
    assert "I will sell it on another venue" in decision.reason
    assert LATER.isoformat() in decision.reason
    assert plan.purges == ()
    assert decision.plan_item().action is PlanAction.IGNORE
    (position,) = plan.positions
    assert any("left alone by a person" in r for r in position.reasons)


def test_left_alone_wins_over_backoff_and_does_not_block_clean() -> None:
    account = alone(("BONK-USD", "persistent_purge_failure", LATER))
    memory = Memory(purge_failures={"BONK-USD": failure(5, timedelta(minutes=5))})
    plan = plan_cycle(ACCOUNT, account, policy(), memory, NOW)
    assert plan.decisions[0].rule is Rule.LEFT_ALONE
    result = verify(ACCOUNT, account, policy(), memory, NOW)
    assert result.clean, result.blockers
    assert any("BONK-USD" in i and "left alone" in i for i in result.ignored)


def test_after_the_expiry_the_holding_is_decided_normally() -> None:
    account = alone(("BONK-USD", "persistent_purge_failure", LATER))
    then = snapshot(cash("USD", "230"), bonk(), now=LATER)
    plan = plan_cycle(then, account, policy(), Memory(), LATER)
    assert [d.symbol for d in plan.purges] == ["BONK-USD"]
    assert not verify(then, account, policy(), Memory(), LATER).clean


def test_a_zombie_left_alone_gets_no_exit_attempt_and_no_escalation() -> None:
    snap = snapshot(cash("USD", "230"), holding("AUT", "100", None))
    account = alone(("AUT-USD", "delisted; support ticket 1234", None))
    memory = Memory(purge_failures={"AUT-USD": failure(1, timedelta(minutes=5))})
    plan = plan_cycle(snap, account, policy(), memory, NOW)
    assert plan.decisions[0].kind is ExitKind.IGNORE
    assert verify(snap, account, policy(), memory, NOW).clean


def test_a_holding_left_alone_does_not_push_a_strategy_position_over_the_cap() -> None:
    snap = snapshot(cash("USD", "1000"), holding("SOL", "1", "150"), holding("LINK", "10", "14"))
    account = alone(("LINK-USD", "long-term holding", None), tracked={"SOL-USD": "140"})
    pol = policy(maxPositions=1, exposure={"maxTotalAtRiskPct": 100})
    plan = plan_cycle(snap, account, pol, Memory(), NOW)
    assert plan.purges == (), [d.reason for d in plan.decisions]
    assert verify(snap, account, pol, Memory(), NOW).clean


def test_an_old_open_order_on_a_holding_left_alone_is_not_cancelled_as_stale() -> None:
    stale = order("BONK-USD", timedelta(hours=3))
    snap = snapshot(cash("USD", "230"), bonk(), orders=(stale,))
    account = alone(("BONK", "my own limit sell is working", None))
    assert plan_cycle(snap, account, policy(), Memory(), NOW).stale_orders == ()
    assert verify(snap, account, policy(), Memory(), NOW).clean
    assert plan_cycle(snap, spec(), policy(), Memory(), NOW).stale_orders == (stale,)


def test_an_entry_needs_a_reason_and_a_well_formed_symbol() -> None:
    base = {"policyRef": {"name": "default"}}
    for entry in ({"symbol": "BONK-USD"}, {"symbol": "BONK-USD", "reason": ""}, {"symbol": "bonk"}):
        with pytest.raises(ValidationError):
            TradingAccountSpec.model_validate({**base, "leaveAlone": [entry]})
    ok = {"symbol": "BONK", "reason": "manual", "until": "2026-01-01T00:00:00Z"}
    spec_ = TradingAccountSpec.model_validate({**base, "leaveAlone": [ok]})
    assert spec_.leave_alone[0].until == datetime.fromisoformat("2026-01-01T00:00:00+00:00")


def _with_entries(account: TradingAccountSpec, symbols: list[str], until: datetime | None) -> Any:
    kept = [LeaveAlone(symbol=s, reason="a person deals with it", until=until) for s in symbols]
    return account.model_copy(update={"leave_alone": kept})


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories(), st.data())
def test_no_plan_sells_a_holding_left_alone_and_none_blocks_clean(
    snap: Snapshot,
    account: TradingAccountSpec,
    pol: PurgePolicySpec,
    memory: Memory,
    data: st.DataObject,
) -> None:
    held = sorted({h.asset for h in snap.holdings})
    chosen = data.draw(st.lists(st.sampled_from(held), unique=True) if held else st.just([]))
    until = data.draw(st.none() | st.just(LATER))
    kept = _with_entries(account, chosen, until)
    plan = plan_cycle(snap, kept, pol, memory, NOW)
    for decision in plan.decisions:
        if decision.asset in chosen:
            assert not decision.sells and decision.quantity == 0
    blockers = verify(snap, kept, pol, memory, NOW).blockers
    assert not any(b.startswith(f"{a}-USD:") for a in chosen for b in blockers)


@PLAN_SETTINGS
@given(snapshots(), accounts(), policies(), memories())
def test_expired_entries_change_nothing(
    snap: Snapshot, account: TradingAccountSpec, pol: PurgePolicySpec, memory: Memory
) -> None:
    expired = _with_entries(account, sorted({h.asset for h in snap.holdings}), NOW)
    assert plan_cycle(snap, expired, pol, memory, NOW) == plan_cycle(
        snap, account, pol, memory, NOW
    )
