"""Messages say what happened, in one short line: conditions stay within one line (the detail
is in status fields), a DryRun plan is announced once per distinct plan, and manual actions
report what they did, not what was asked."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import PurgeFailure
from cleanslate.core.conditions import MESSAGE_LIMIT
from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason

from .harness import Rig, account_spec, policy

DOCUMENTS = {"USD": "150", "SEI": "36.4", "WLFI": "57.54", "BONK": "2000000", "AUT": "500"}


def reasons(rig: Rig, reason: Reason) -> list[str]:
    return [e.message for e in rig.events.events if e.reason is reason]


async def test_conditions_are_one_bounded_line_and_the_blockers_live_in_status() -> None:
    rig = Rig(account_spec(DOCUMENTS, mode="DryRun"), policy())
    await rig.cycle()
    assert len(rig.status.blockers) > 1
    for c in rig.status.conditions:
        assert "\n" not in c.message and len(c.message) <= MESSAGE_LIMIT, c
    clean = next(c for c in rig.status.conditions if c.type == "Clean")
    ready = next(c for c in rig.status.conditions if c.type == "Ready")
    assert clean.message.startswith(f"{len(rig.status.blockers)} blockers in status.blockers")
    assert clean.message != ready.message, "the Ready message does not repeat the blockers"


async def test_a_dry_run_plan_is_announced_once_per_distinct_plan() -> None:
    rig = Rig(account_spec({"USD": "150", "BONK": "2000000"}, mode="DryRun"), policy())
    await rig.cycle()
    (planned,) = reasons(rig, Reason.PURGE_PLANNED)
    assert planned.startswith("DryRun, nothing traded: Live would sell") and "BONK-USD" in planned
    for _ in range(3):
        rig.wait_interval()
        await rig.cycle()
        assert reasons(rig, Reason.PURGE_PLANNED) == [], "the same plan is not posted again"
    rig.spec = rig.spec.model_copy(update={"protected_symbols": ["BONK"]})
    rig.wait_interval()
    await rig.cycle()
    assert reasons(rig, Reason.PURGE_PLANNED) == [], "nothing to sell: nothing announced"
    rig.spec = rig.spec.model_copy(update={"protected_symbols": []})
    rig.wait_interval()
    await rig.cycle()
    assert len(reasons(rig, Reason.PURGE_PLANNED)) == 1, "a plan that differs from the last"


async def test_unfreezing_a_symbol_that_is_not_frozen_says_nothing_was_done() -> None:
    rig = Rig(account_spec({"USD": "150"}), policy())
    await rig.cycle(CycleOptions(dry_run=False, unfreeze=frozenset({"SEI-USD"})))
    assert reasons(rig, Reason.MANUAL_UNFREEZE) == ["SEI-USD: not frozen; nothing to do"]


async def test_a_forced_sale_inside_a_backoff_does_not_claim_the_backoff_expired() -> None:
    rig = Rig(account_spec({"USD": "150", "SEI": "36.4"}), policy())
    failure = PurgeFailure(
        failure_count=3, last_failed_at=rig.clock.now() - timedelta(minutes=11)
    )  # the third failure waits an hour (the documents' table): 49 min left
    rig.status = rig.status.model_copy(update={"purge_failures": {"SEI-USD": failure}})
    await rig.cycle(CycleOptions(dry_run=False, liquidate=frozenset({"SEI-USD"})))
    assert reasons(rig, Reason.BACKOFF_EXPIRED) == []
    overridden = [m for m in reasons(rig, Reason.MANUAL_LIQUIDATE) if "overridden" in m]
    want = "SEI-USD: backoff overridden by liquidate --force (3 failures, 49min left)"
    assert overridden == [want]
