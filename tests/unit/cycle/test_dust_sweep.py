"""The dust sweep (issue 26, item 7): crumbs under the exchange minimum that no sale can
clear are converted through the venue's own conversion (here the paper venue's, into BTC,
a quote currency) when the policy opts in, on a Live account, once per cooldown.

Without the sweep such crumbs are unsellable remainders: ignored, and the account is CLEAN
with them (tests/unit/cycle/test_decisions.py). With it the account is CLEAN without them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cleanslate.api.account import AccountState, PlanAction, TradingAccountSpec
from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason
from cycle.harness import Rig, account_spec, policy

D = Decimal
CRUMBS = {"USD": "230", "SEI": "0.2", "AMP": "100"}
"""SEI $0.03 and AMP $0.32, under the paper venue's $1 minimum order."""


def _spec(target: str | None = "BTC", **extra: Any) -> TradingAccountSpec:
    spec = account_spec(CRUMBS, **extra)
    assert spec.exchange.paper is not None
    paper = spec.exchange.paper.model_copy(update={"dust_target": target})
    return spec.model_copy(update={"exchange": spec.exchange.model_copy(update={"paper": paper})})


def _sweeping(**extra: Any) -> Any:
    return policy(dust={"sweep": "VenueConversion"}, **extra)


def _plan(rig: Rig, symbol: str) -> Any:
    (item,) = [p for p in rig.status.plan if p.symbol == symbol]
    return item


async def test_without_the_sweep_the_crumbs_stay_as_unsellable_remainders() -> None:
    rig = Rig(_spec(), policy())
    await rig.cycle()
    assert rig.status.account_state is AccountState.CLEAN
    assert await rig.held("SEI") == D("0.2") and await rig.held("AMP") == D("100")
    assert _plan(rig, "AMP-USD").action is PlanAction.IGNORE
    assert _plan(rig, "AMP-USD").reason.startswith("unsellable remainder")
    assert rig.status.dust_sweep is None
    assert not [e for e in rig.events.events if e.reason is Reason.DUST_SWEPT]


async def test_the_sweep_converts_the_crumbs_and_the_account_is_clean_without_them() -> None:
    rig = Rig(_spec(), _sweeping())
    await rig.cycle()

    assert await rig.held("SEI") == 0 and await rig.held("AMP") == 0
    assert await rig.held("BTC") > 0
    sweep = rig.status.dust_sweep
    assert sweep is not None and sweep.assets == ["AMP", "SEI"] and sweep.target == "BTC"
    assert sweep.last_swept_at == rig.clock.now()
    assert sweep.received > 0 and sweep.fee > 0
    (swept,) = [e for e in rig.events.events if e.reason is Reason.DUST_SWEPT]
    assert swept.message.startswith("converted AMP, SEI")
    assert "converted into BTC by the dust sweep" in _plan(rig, "SEI-USD").reason
    assert rig.status.account_state is AccountState.CLEAN, rig.status.blockers
    assert not rig.status.positions, "the crumbs are gone; BTC is a quote currency"
    assert rig.exchange.requests == [], "no order: the venue converted them"


async def test_the_cooldown_survives_a_restart_and_the_next_sweep_waits_for_it() -> None:
    rig = Rig(_spec(), _sweeping())
    await rig.cycle()
    swept_at = rig.status.dust_sweep and rig.status.dust_sweep.last_swept_at
    # a new process on the same status: the paper account is a new one with crumbs again
    restarted = Rig(_spec(), _sweeping(), clock=rig.clock, status=rig.status)
    restarted.wait_interval()
    await restarted.cycle()
    assert await restarted.held("SEI") == D("0.2"), "within 6 hours nothing is asked"
    sweep = restarted.status.dust_sweep
    assert sweep is not None and sweep.last_swept_at == swept_at
    assert "wait for the venue's cooldown" in sweep.message
    restarted.clock.advance(6 * 3600)
    await restarted.cycle()
    assert await restarted.held("SEI") == 0


async def test_dry_run_lists_the_sweep_in_the_plan_and_converts_nothing() -> None:
    rig = Rig(_spec(mode="DryRun"), _sweeping())
    await rig.cycle(CycleOptions(dry_run=True))
    assert await rig.held("SEI") == D("0.2") and await rig.held("AMP") == D("100")
    assert "DryRun: the dust sweep would convert it into BTC" in _plan(rig, "AMP-USD").reason
    sweep = rig.status.dust_sweep
    assert sweep is not None and sweep.last_swept_at is None
    assert sweep.message.startswith("DryRun, nothing converted")


async def test_a_venue_without_a_conversion_reports_it_once_and_changes_nothing() -> None:
    rig = Rig(_spec(target=None), _sweeping())
    await rig.cycle()
    (said,) = [e for e in rig.events.events if e.reason is Reason.DUST_SWEEP_UNAVAILABLE]
    assert said.message == "unavailable: paper has no dust conversion"
    assert await rig.held("AMP") == D("100")
    assert rig.status.account_state is AccountState.CLEAN
    rig.wait_interval()
    await rig.cycle()
    assert not [e for e in rig.events.events if e.reason is Reason.DUST_SWEEP_UNAVAILABLE]


async def test_a_protected_crumb_is_never_swept() -> None:
    rig = Rig(_spec(protectedSymbols=["AMP"]), _sweeping())
    await rig.cycle()
    assert await rig.held("AMP") == D("100") and await rig.held("SEI") == 0
    assert rig.status.dust_sweep is not None and rig.status.dust_sweep.assets == ["SEI"]
