"""Issue 25 item 6: unwind progress survives a restart exactly. A process that dies with
unwind step 1 in flight resumes that step, books it as step 1, and sells no second step in
the same cycle; the unwind still takes its four steps."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from .harness import ProcessDied, Rig, account_spec, policy

D = Decimal
HOLDINGS = {"USD": "1500", "DOGE": "2000"}  # ~$320 of untracked DOGE: a legacy unwind
POLICY = {"exposure": {"maxTotalAtRiskPct": 100}}


async def test_a_resumed_unwind_step_is_the_step_it_was(tmp_path: Path) -> None:
    first = Rig(account_spec(HOLDINGS), policy(**POLICY), state_dir=tmp_path)
    first.exchange.crash_after_place = 1
    with pytest.raises(ProcessDied):
        await first.cycle()
    persisted = first.persisted[-1]
    assert persisted.in_flight["DOGE-USD"].target_quantity == D(500)
    restarted = Rig(
        first.spec, policy(**POLICY), clock=first.clock, state_dir=tmp_path, status=persisted
    )
    restarted.clock.advance(30)
    await restarted.cycle()
    assert await restarted.held("DOGE") == D(1500)  # step 1 only, not step 1 twice
    progress = restarted.status.unwind_progress["DOGE-USD"]
    assert (progress.cycle, progress.remaining_fraction) == (1, D("0.75"))
    restarted.clock.advance(60)
    await restarted.cycle()
    assert await restarted.held("DOGE") == D(1125)
    progress = restarted.status.unwind_progress["DOGE-USD"]
    assert (progress.cycle, progress.remaining_fraction) == (2, D("0.5625"))
