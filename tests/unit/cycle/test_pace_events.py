"""A purge that leaves its schedule (core.pace) says so in a PurgePaced event (issue 28)."""

from __future__ import annotations

from cleanslate.events import Reason, Severity

from .harness import Rig, account_spec, policy

STORY = {"USD": "120", "SEI": "36.4"}
TIER = {
    "universe": {"tiers": [{"name": "t", "symbols": ["SEI-USD"], "minQuoteVolumeUsd": 2000000}]}
}


async def test_a_purge_that_sells_at_once_says_why() -> None:
    # SEI's 45 bps spread is rarely reached by the price within a rest: sold at once
    rig = Rig(account_spec(STORY), policy(**TIER, execution={"pace": "adaptive"}))
    await rig.cycle()
    paced = [e for e in rig.events.events if e.reason is Reason.PURGE_PACED]
    assert len(paced) == 1 and paced[0].message.startswith("SEI-USD: slice 1: shorten")
    assert "resting saves" in paced[0].message and paced[0].severity is Severity.NORMAL
    assert all(not r.post_only for r in rig.sold("SEI-USD"))
    assert rig.status.cleanup_metrics.purges_succeeded == 1


async def test_a_fixed_schedule_emits_nothing_of_the_kind() -> None:
    rig = Rig(account_spec(STORY), policy(**TIER))
    await rig.cycle()
    assert not [e for e in rig.events.events if e.reason is Reason.PURGE_PACED]
    assert any(r.post_only for r in rig.sold("SEI-USD"))
