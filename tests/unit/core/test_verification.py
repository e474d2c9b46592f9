"""Clean-state verification: CLEAN exactly when nothing blocks it, and what blocks it."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.core.planning import Memory
from cleanslate.core.verification import Verification, verify

from .builders import NOW, D, cash, failure, holding, order, policy, snapshot, spec

BANK = cash("USD", "1000")
NO_EXPOSURE_CAP = {"exposure": {"maxTotalAtRiskPct": 100}}


def check(*held, account=None, orders=(), memory=None, **pol) -> Verification:  # type: ignore[no-untyped-def]
    snap = snapshot(BANK, *held, orders=orders)
    return verify(snap, account or spec(), policy(**pol), memory or Memory(), NOW)


def test_an_account_of_tracked_positions_and_cash_is_clean() -> None:
    result = check(holding("SOL", "1", "150"), account=spec(tracked={"SOL-USD": "140"}))
    assert result == Verification(clean=True, blockers=(), ignored=())


def test_cash_alone_is_clean() -> None:
    assert check().clean


def test_more_positions_than_the_cap_block() -> None:
    held = [holding("SOL", "1", "150"), holding("XRP", "100", "2")]
    result = check(*held, account=spec(tracked={"SOL-USD": "150", "XRP-USD": "2"}), maxPositions=1)
    assert not result.clean
    assert "2 positions exceed the cap of 1" in result.blockers


def test_a_zombie_blocks_and_an_escalated_one_says_so() -> None:
    blind = holding("AUT", "100", None, price_lost=True)
    result = check(blind)
    assert result.blockers == ("AUT-USD: zombie: cannot fetch price: price not available",)
    escalated = check(blind, memory=Memory(purge_failures={"AUT-USD": failure(1, timedelta(0))}))
    assert escalated.blockers[0].endswith("(exit failed, escalated)")


def test_an_untracked_position_blocks() -> None:
    result = check(holding("SOL", "1", "150"), **NO_EXPOSURE_CAP)
    assert result.blockers == (
        "SOL-USD: not strategy-aligned: untracked: opened outside the system",
    )


def test_a_protected_position_does_not_block() -> None:
    assert check(holding("SOL", "1", "150"), account=spec(protected=["SOL-USD"])).clean


def test_a_stale_open_order_blocks() -> None:
    result = check(orders=(order("SOL-USD", timedelta(minutes=31), order_id="o-9"),))
    assert result.blockers == ("SOL-USD: stale open order o-9 (31 min)",)
    assert check(orders=(order("SOL-USD", timedelta(minutes=29)),)).clean


def test_dust_under_ignore_is_reported_but_does_not_block() -> None:
    # the guide's $0.03 residual, under an explicit Ignore (issue 25 item 2: Close is the
    # default now; a $0.03 crumb is then an unsellable remainder, Ignore as well)
    result = check(holding("SEI", "0.2", "0.1563"), dust={"action": "Ignore"})
    assert result.clean
    (note,) = result.ignored
    assert note.startswith("SEI-USD: dust ($0.03)")


def test_dust_under_close_blocks_until_it_is_gone() -> None:
    result = check(holding("SEI", "12.8", "0.1563"), dust={"action": "Close"})  # $2.00
    assert not result.clean and result.blockers[0].startswith("SEI-USD: zombie: dust")


def test_dust_under_close_below_the_exchange_minimum_is_an_unsellable_remainder() -> None:
    result = check(holding("SEI", "0.2", "0.1563"), dust={"action": "Close"})  # $0.03 < $1
    assert result.clean
    (note,) = result.ignored
    assert note.startswith("SEI-USD: unsellable remainder")


def test_a_residual_under_the_minimum_liquidation_value_does_not_block() -> None:
    small_bank = snapshot(cash("USD", "100"), holding("SEI", "25", "0.16", volume=D("1000")))
    result = verify(small_bank, spec(), policy(), Memory(), NOW)  # $4 ineligible, not dust
    assert result.clean and "residual $4.00 under $5" in result.ignored[0]


def test_ignored_residuals_do_not_count_toward_the_cap() -> None:
    small_bank = snapshot(
        cash("USD", "100"), holding("SOL", "1", "150"), holding("XRP", "1.5", "2")
    )
    result = verify(
        small_bank,
        spec(tracked={"SOL-USD": "150", "XRP-USD": "2"}),
        policy(maxPositions=1, dust={"action": "Ignore"}, **NO_EXPOSURE_CAP),
        Memory(),
        NOW,
    )
    assert result.clean and len(result.ignored) == 1


def test_every_blocker_is_listed() -> None:
    result = check(
        holding("SOL", "1", "150"),
        holding("AUT", "5", None),
        orders=(order("SOL-USD", timedelta(hours=2)),),
        maxPositions=1,
        **NO_EXPOSURE_CAP,
    )
    assert len(result.blockers) == 4 and not result.clean
