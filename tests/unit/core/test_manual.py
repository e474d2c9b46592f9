"""The one rule for manual actions (issue 27 item 2): every request, in every state, is
acted on now or refused now with a reason; nothing is kept for later."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cleanslate.api.account import LeaveAlone
from cleanslate.core.manual import Action, Standing, acted, decide, decide_all

from .builders import NOW, policy, spec

KEPT = spec(protected=["SOL"]).model_copy(
    update={
        "leave_alone": [
            LeaveAlone(symbol="BONK", reason="mine", until=NOW + timedelta(days=1)),
            LeaveAlone(symbol="OLD", reason="mine", until=NOW - timedelta(days=1)),
        ]
    }
)
RELEASED = policy(releasedQuoteCurrencies=["USDT"])

SYMBOLS = {
    "SEI-USD": "ordinary",
    "SOL-USD": "protected",
    "BONK-USD": "left alone",
    "OLD-USD": "left alone until yesterday",
    "USDC-USD": "quote",
    "USDT-USD": "released quote",
}
LIQUIDATE_ACTED_LIVE = {"SEI-USD", "OLD-USD", "USDT-USD"}


@pytest.mark.parametrize("standing", list(Standing))
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("symbol", list(SYMBOLS))
def test_every_request_in_every_state_gets_a_verdict_now(
    standing: Standing, action: Action, symbol: str
) -> None:
    verdict = decide(action, symbol, standing, KEPT, RELEASED, NOW)
    if standing in (Standing.SUSPENDED, Standing.HALTED):
        expected = False
    elif action is not Action.LIQUIDATE:
        expected = True  # retry and unfreeze only clear records
    elif standing is Standing.DRY_RUN:
        expected = False
    else:
        expected = symbol in LIQUIDATE_ACTED_LIVE
    assert verdict.acted is expected, (standing, action, symbol, SYMBOLS[symbol])
    assert bool(verdict.why) is not expected  # a refusal always says why
    if not expected:
        assert symbol in verdict.message() and "removed" in verdict.message()


def test_a_suspended_liquidate_says_so() -> None:
    verdict = decide(Action.LIQUIDATE, "SEI-USD", Standing.SUSPENDED, KEPT, RELEASED, NOW)
    assert "suspended" in verdict.why


def test_an_account_that_does_not_run_refuses_without_a_spec() -> None:
    verdict = decide(Action.RETRY, "SEI-USD", Standing.HALTED, None, None, NOW)
    assert not verdict.acted and "not running" in verdict.why


def test_the_acted_symbols_are_the_cycle_s_options() -> None:
    requests = {
        Action.LIQUIDATE: frozenset({"SEI-USD", "SOL-USD"}),
        Action.RETRY: frozenset({"SOL-USD"}),
    }
    verdicts = decide_all(requests, Standing.LIVE, KEPT, RELEASED, NOW)
    assert [(v.action, v.symbol, v.acted) for v in verdicts] == [
        (Action.LIQUIDATE, "SEI-USD", True),
        (Action.LIQUIDATE, "SOL-USD", False),
        (Action.RETRY, "SOL-USD", True),
    ]
    assert acted(verdicts, Action.LIQUIDATE) == {"SEI-USD"}
    assert acted(verdicts, Action.UNFREEZE) == frozenset()
