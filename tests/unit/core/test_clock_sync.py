"""The venue-clock rule (issue 27, item 8): within the bound the account trades, beyond it
no order is placed, and an offset nobody measured is unknown, not beyond."""

from __future__ import annotations

import pytest

from cleanslate.core.clock_sync import CONDITION, judge
from cleanslate.core.conditions import FALSE, MESSAGE_LIMIT, TRUE, UNKNOWN


@pytest.mark.parametrize("offset", [0.0, 29.9, -30.0, 30.0])
def test_an_offset_within_the_bound_trades(offset: float) -> None:
    verdict = judge(offset, 30.0, "coinbase")

    assert verdict.trade
    assert (verdict.condition.type, verdict.condition.status) == (CONDITION, TRUE)
    assert verdict.condition.reason == "WithinBound"


@pytest.mark.parametrize(("offset", "way"), [(-300.0, "behind"), (30.5, "ahead of")])
def test_an_offset_beyond_the_bound_places_no_order_and_says_which_way(
    offset: float, way: str
) -> None:
    verdict = judge(offset, 30.0, "paper")

    assert not verdict.trade
    assert (verdict.condition.status, verdict.condition.reason) == (FALSE, "OffsetBeyondBound")
    assert f"{abs(offset):.1f} s {way}" in verdict.condition.message
    assert "cancels still run" in verdict.condition.message
    assert len(verdict.condition.message) <= MESSAGE_LIMIT


def test_an_unknown_offset_is_said_and_is_not_beyond_the_bound() -> None:
    verdict = judge(None, 30.0, "ccxt-kraken")

    assert verdict.trade
    assert (verdict.condition.status, verdict.condition.reason) == (UNKNOWN, "OffsetUnknown")
    assert len(verdict.condition.message) <= MESSAGE_LIMIT


def test_the_state_an_event_is_posted_for_ignores_the_figure() -> None:
    assert judge(-300.0, 30.0, "paper").state == judge(-301.2, 30.0, "paper").state
    assert judge(1.0, 30.0, "paper").condition == judge(2.0, 30.0, "paper").condition
    assert judge(1.0, 30.0, "paper").state != judge(None, 30.0, "paper").state
