"""A purge resumed after a crash passes the guards a new purge would, as of the spec and
policy now; client order ids stay unique when the status is lost."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cleanslate.api.account import FrozenSymbol, InFlightPurge, TradingAccountStatus
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.market import OrderStatus
from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason

from .harness import ProcessDied, Rig, account_spec, policy

D = Decimal
HOLDINGS = {"USD": "150", "WLFI": "200"}  # ~$28 of WLFI: several maker-first slices


def _changed(change: str, rig: Rig) -> tuple[dict[str, Any], PurgePolicySpec, dict[str, Any]]:
    """(spec overrides, policy, status overrides) for one edit a person makes mid-purge."""
    if change == "quote":
        return {}, policy(quoteCurrencies=["USD", "USDC", "USDT", "BTC", "ETH", "WLFI"]), {}
    if change == "frozen":
        until = rig.clock.now() + timedelta(hours=24)
        freeze = FrozenSymbol(consecutive_failures=3, frozen_at=rig.clock.now(), until=until)
        return {}, policy(), {"frozen_symbols": {"WLFI-USD": freeze}}
    spec = {
        "protected-product": {"protectedSymbols": ["WLFI-USD"]},
        "protected-asset": {"protectedSymbols": ["WLFI"]},
        "dry-run": {"mode": "DryRun"},
        "suspend": {"suspend": True},
        "left-alone": {"leaveAlone": [{"symbol": "WLFI-USD", "reason": "selling it myself"}]},
    }[change]
    return spec, policy(), {}


async def _crash_mid_purge(tmp_path: Path, crash_at: int) -> tuple[Rig, TradingAccountStatus]:
    first = Rig(account_spec(HOLDINGS, market="calm"), policy(), state_dir=tmp_path)
    first.exchange.crash_after_place = crash_at
    with pytest.raises(ProcessDied):
        await first.cycle()
    persisted = first.persisted[-1]
    assert "WLFI-USD" in persisted.in_flight
    return first, persisted


CHANGES = [
    "protected-product",
    "protected-asset",
    "dry-run",
    "suspend",
    "quote",
    "frozen",
    "left-alone",
]


@settings(
    max_examples=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(crash_at=st.integers(1, 3), change=st.sampled_from(CHANGES))
@example(crash_at=2, change="left-alone")
async def test_a_purge_resumed_after_a_crash_with_a_changed_spec_sells_nothing_more(
    tmp_path_factory: pytest.TempPathFactory, crash_at: int, change: str
) -> None:
    first, persisted = await _crash_mid_purge(tmp_path_factory.mktemp("state"), crash_at)
    spec_update, new_policy, status_update = _changed(change, first)
    spec = account_spec(HOLDINGS, market="calm", **spec_update)
    status = persisted.model_copy(update=status_update)
    restarted = Rig(spec, new_policy, clock=first.clock, state_dir=first.state_dir, status=status)
    restarted.clock.advance(30)
    held_before = await restarted.held("WLFI")
    await restarted.cycle()
    assert restarted.exchange.requests == []
    assert restarted.status.in_flight == {}
    assert await restarted.held("WLFI") == held_before
    assert await restarted.exchange.inner.open_orders("WLFI-USD") == []
    stopped = [e for e in restarted.events.events if e.reason is Reason.PURGE_STOPPED]
    assert len(stopped) == 1 and "nothing more is sold" in stopped[0].message


async def test_an_unchanged_spec_still_resumes_the_purge(tmp_path: Path) -> None:
    first, persisted = await _crash_mid_purge(tmp_path, 1)
    restarted = Rig(first.spec, policy(), clock=first.clock, state_dir=tmp_path, status=persisted)
    await restarted.cycle()
    assert restarted.exchange.requests, "the purge went on"
    assert not [e for e in restarted.events.events if e.reason is Reason.PURGE_STOPPED]


async def test_an_in_flight_record_naming_a_quote_currency_never_sells_it() -> None:
    rig = Rig(account_spec({"USD": "100", "USDC": "60"}, market="calm"), policy())
    flight = InFlightPurge(
        attempt=1, started_at=rig.clock.now(), target_quantity=D(60), slice=0, reason="purge"
    )
    rig.status = TradingAccountStatus(in_flight={"USDC-USD": flight}, next_attempt=2)
    await rig.cycle()
    assert rig.exchange.requests == []
    assert await rig.held("USDC") == D(60)
    assert rig.status.in_flight == {}


async def test_a_suspended_account_sells_nothing_even_when_run_directly() -> None:
    rig = Rig(account_spec(HOLDINGS, market="calm", suspend=True), policy())
    await rig.cycle()
    assert rig.exchange.requests == []


async def test_client_ids_stay_unique_when_the_status_is_lost(tmp_path: Path) -> None:
    rig = Rig(account_spec(HOLDINGS, market="calm"), policy(), state_dir=tmp_path)
    await rig.cycle()
    assert await rig.held("WLFI") < D(200)
    first_ids = [r.client_order_id for r in rig.exchange.requests]
    rig.exchange.inner._state.balances["WLFI"] = D(200)  # a deposit after the status is lost
    rig.status = TradingAccountStatus()
    await rig.cycle()
    second_ids = [r.client_order_id for r in rig.exchange.requests][len(first_ids) :]
    assert second_ids and not set(second_ids) & set(first_ids)
    assert await rig.held("WLFI") < D(200), "the second purge really sold"
    for request in rig.exchange.requests[len(first_ids) :]:
        order = await rig.exchange.inner.find_order(request.client_order_id)
        assert order is not None and order.status is not OrderStatus.OPEN


async def test_a_cycle_limited_to_one_symbol_leaves_another_symbols_purge_in_flight(
    tmp_path: Path,
) -> None:
    first, persisted = await _crash_mid_purge(tmp_path, 1)
    restarted = Rig(first.spec, policy(), clock=first.clock, state_dir=tmp_path, status=persisted)
    await restarted.cycle(CycleOptions(dry_run=False, only="SEI-USD"))
    assert restarted.sold("WLFI-USD") == []
    assert restarted.status.in_flight == persisted.in_flight
