"""A manual retry says what it will do: a holding the account keeps is never retried."""

from __future__ import annotations

import pytest

from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason

from .harness import Rig, account_spec, policy


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"protectedSymbols": ["SEI"]}, "not retried: a protected symbol is never sold"),
        (
            {"leaveAlone": [{"symbol": "SEI-USD", "reason": "mine"}]},
            "not retried: left alone",
        ),
        ({}, "retrying now"),
    ],
)
async def test_a_retry_of_a_kept_holding_does_not_promise_a_retry(
    extra: dict[str, object], says: str
) -> None:
    rig = Rig(account_spec({"USD": "100", "SEI": "36.4"}, **extra), policy())
    await rig.cycle(CycleOptions(retry_now=frozenset({"SEI-USD"})))
    retries = [e.message for e in rig.events.events if e.reason is Reason.MANUAL_RETRY]
    assert len(retries) == 1 and says in retries[0]
