"""Issue 26 item 7: which crumbs the dust sweep may convert (``core.sweeping``). Only what the
plan wanted to sell and no order can; never cash, the target, a protected, left-alone or
unpriced holding; never within the venue's cooldown, which a restart reads back from the
status."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.api.account import LeaveAlone, TradingAccountStatus
from cleanslate.core.planning import Memory, plan_cycle
from cleanslate.core.sweeping import SweepPlan, plan_sweep

from .builders import NOW, cash, holding, policy, snapshot, spec

SIX_HOURS = timedelta(hours=6)
CASH = frozenset({"USD", "USDC", "USDT", "BTC", "ETH"})


def _sweep(*holdings, account=None, rules=None, target="BNB", last=None, now=NOW) -> SweepPlan:  # type: ignore[no-untyped-def]
    p = plan_cycle(
        snapshot(cash("USD", "500"), *holdings), account or spec(), rules or policy(), Memory(), now
    )
    return plan_sweep(
        p.classified,
        p.decisions,
        target=target,
        cooldown=SIX_HOURS,
        cash=CASH,
        last_swept_at=last,
        now=now,
    )


def crumb(asset: str = "SEI", quantity: str = "2", price: str = "0.15"):  # type: ignore[no-untyped-def]
    """$0.30: under the $1 minimum order, and dust the plan would close."""
    return holding(asset, quantity, price)


def test_a_crumb_under_the_minimum_that_the_plan_would_close_is_swept() -> None:
    chosen = _sweep(crumb(), crumb("AMP", "100", "0.0032"))
    assert chosen.assets == ("AMP", "SEI")
    assert chosen.reason.startswith("converts AMP, SEI (~$0.62) into BNB")


def test_a_holding_an_order_can_sell_is_sold_not_swept() -> None:
    assert _sweep(holding("SEI", "20", "0.15")).assets == ()  # $3: over the minimum


def test_never_a_protected_crumb() -> None:
    assert _sweep(crumb(), account=spec(protected=["SEI"])).assets == ()


def test_never_a_crumb_a_person_left_alone() -> None:
    account = spec().model_copy(
        update={"leave_alone": [LeaveAlone(symbol="SEI-USD", reason="mine")]}
    )
    assert _sweep(crumb(), account=account).assets == ()


def test_never_an_unpriced_crumb() -> None:
    assert _sweep(holding("SEI", "2", None, price_error="timeout")).assets == ()


def test_never_the_target_or_cash() -> None:
    assert _sweep(crumb("BNB", "0.0001", "600"), target="BNB").assets == ()
    assert _sweep(cash("USDC", "0.3")).assets == ()


def test_never_a_crumb_partly_held_by_an_order() -> None:
    assert _sweep(holding("SEI", "2", "0.15", available="1")).assets == ()


def test_dust_under_the_action_ignore_is_left_as_the_policy_says() -> None:
    assert _sweep(crumb(), rules=policy(dust={"action": "Ignore"})).assets == ()


def test_the_cooldown_holds_the_sweep_and_says_until_when() -> None:
    chosen = _sweep(crumb(), last=NOW - timedelta(hours=5))
    assert chosen.assets == ()
    assert chosen.waits_until == NOW + timedelta(hours=1)
    assert "SEI wait for the venue's cooldown" in chosen.reason
    assert _sweep(crumb(), last=NOW - SIX_HOURS).assets == ("SEI",)


def test_the_cooldown_is_read_back_after_a_restart() -> None:
    from cleanslate.api.account import DustSweepStatus

    written = TradingAccountStatus(
        dust_sweep=DustSweepStatus(last_swept_at=NOW - timedelta(hours=2), target="BNB")
    )
    read = TradingAccountStatus.model_validate_json(written.model_dump_json(by_alias=True))
    assert read.dust_sweep is not None
    chosen = _sweep(crumb(), last=read.dust_sweep.last_swept_at)
    assert chosen.assets == () and chosen.waits_until == NOW + timedelta(hours=4)


def test_nothing_to_sweep_says_so() -> None:
    assert _sweep().reason == "no crumb under the exchange minimum to sweep"
