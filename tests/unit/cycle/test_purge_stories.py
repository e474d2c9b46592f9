"""The documents' three purge stories, end to end through ``run_cycle`` on the paper exchange:
SEI and WLFI are sold, BONK fails, is tracked, backs off and is retried when the backoff ends."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from prometheus_client import CollectorRegistry

from cleanslate.api.account import PlanAction
from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason
from cleanslate.metrics import Metrics

from .harness import Rig, account_spec, policy

D = Decimal
STORY = {"USD": "120", "USDC": "60", "SEI": "36.4", "WLFI": "57.5", "BONK": "889587"}
MIN_NOTIONAL = D(1)
SEI_PRICE, WLFI_PRICE = D("0.1563"), D("0.1431")


def story_rig() -> Rig:
    return Rig(account_spec(STORY), policy())


async def until_bonk_backs_off(rig: Rig) -> None:
    """Three cycles, intervalSeconds apart: BONK fails three times and backs off."""
    for count in (1, 2, 3):
        await rig.cycle()
        assert rig.status.purge_failures["BONK-USD"].failure_count == count
        if count < 3:
            rig.wait_interval()


async def test_sei_and_wlfi_are_purged_leaving_at_most_dust() -> None:
    rig = story_rig()
    await until_bonk_backs_off(rig)
    succeeded = [e.message for e in rig.events.events if e.reason is Reason.PURGE_SUCCEEDED]
    assert rig.status.cleanup_metrics.purges_succeeded == 2, succeeded
    assert "SEI-USD" not in rig.status.purge_failures
    assert "WLFI-USD" not in rig.status.purge_failures
    assert await rig.held("SEI") * SEI_PRICE < MIN_NOTIONAL
    assert await rig.held("WLFI") * WLFI_PRICE < MIN_NOTIONAL


async def test_each_purge_success_emits_purge_succeeded() -> None:
    rig = story_rig()
    seen: list[str] = []
    for _ in range(2):
        await rig.cycle()
        seen += [e.message for e in rig.events.events if e.reason is Reason.PURGE_SUCCEEDED]
        rig.wait_interval()
    assert sorted(m.split(":")[0] for m in seen) == ["SEI-USD", "WLFI-USD"]


async def test_bonk_failure_count_rises_once_per_cycle_and_third_starts_backoff() -> None:
    rig = story_rig()
    for count in (1, 2, 3):
        await rig.cycle()
        assert rig.status.purge_failures["BONK-USD"].failure_count == count
        started = Reason.BACKOFF_STARTED in rig.events.reasons()
        assert started is (count == 3)
        assert Reason.PURGE_FAILED in rig.events.reasons()
        rig.wait_interval()
    failure = rig.status.purge_failures["BONK-USD"]
    assert failure.next_retry_at == failure.last_failed_at + timedelta(hours=1)


async def test_bonk_in_backoff_is_skipped_with_time_remaining_in_plan() -> None:
    rig = story_rig()
    await until_bonk_backs_off(rig)
    placed = len(rig.sold("BONK-USD"))
    rig.clock.advance(18 * 60)
    await rig.cycle()
    assert len(rig.sold("BONK-USD")) == placed
    item = next(p for p in rig.status.plan if p.symbol == "BONK-USD")
    assert item.action is PlanAction.SKIP
    assert "backoff" in item.reason and "min remaining" in item.reason
    assert "3 recent failures" in item.reason
    assert Reason.PURGE_STARTED not in rig.events.reasons()
    stalled = next(c for c in rig.status.conditions if c.type == "Stalled")
    assert stalled.status == "True" and "BONK-USD" in stalled.message


async def test_bonk_is_retried_once_the_backoff_expires() -> None:
    rig = story_rig()
    await until_bonk_backs_off(rig)
    retry_at = rig.status.purge_failures["BONK-USD"].next_retry_at
    assert retry_at is not None
    rig.clock.advance((retry_at - rig.clock.now()).total_seconds() + 1)
    placed = len(rig.sold("BONK-USD"))
    await rig.cycle()
    assert Reason.BACKOFF_EXPIRED in rig.events.reasons()
    assert len(rig.sold("BONK-USD")) > placed
    assert rig.status.purge_failures["BONK-USD"].failure_count == 4


async def test_retry_now_clears_backoff_and_purges_at_once() -> None:
    rig = story_rig()
    await until_bonk_backs_off(rig)
    placed = len(rig.sold("BONK-USD"))
    await rig.cycle(CycleOptions(dry_run=False, retry_now=frozenset({"BONK-USD"})))
    assert Reason.MANUAL_RETRY in rig.events.reasons()
    assert len(rig.sold("BONK-USD")) > placed
    assert rig.status.purge_failures["BONK-USD"].failure_count == 1


async def test_liquidate_sells_a_holding_below_the_minimum_liquidation_value() -> None:
    rig = Rig(account_spec({"USD": "120", "SEI": "20"}), policy())  # ~$3.1 < $5 minimum
    await rig.cycle()
    assert rig.sold("SEI-USD") == []
    await rig.cycle(CycleOptions(dry_run=False, liquidate=frozenset({"SEI-USD"})))
    assert Reason.MANUAL_LIQUIDATE in rig.events.reasons()
    assert rig.sold("SEI-USD")
    assert await rig.held("SEI") * SEI_PRICE < MIN_NOTIONAL


async def test_liquidate_never_sells_a_quote_currency_or_protected_symbol() -> None:
    spec = account_spec({"USD": "120", "USDC": "60", "SEI": "36.4"}, protectedSymbols=["SEI-USD"])
    rig = Rig(spec, policy())
    forced = frozenset({"USDC-USD", "SEI-USD"})
    await rig.cycle(CycleOptions(dry_run=False, phases=frozenset({1, 3, 4}), liquidate=forced))
    assert rig.exchange.requests == []
    assert await rig.held("USDC") == D(60)
    assert await rig.held("SEI") == D("36.4")
    refused = [e.message for e in rig.events.events if e.reason is Reason.MANUAL_LIQUIDATE]
    assert len(refused) == 2 and all("not liquidated" in m for m in refused)


async def test_purge_outcomes_and_backoff_skips_are_counted_in_metrics() -> None:
    rig = story_rig()
    metrics = Metrics(CollectorRegistry())
    for _ in range(4):
        await rig.cycle(metrics=metrics)
        rig.wait_interval()
    sample = metrics.registry.get_sample_value
    labels = {"namespace": "ns", "account": "acct"}
    assert sample("cleanslate_purges_total", {**labels, "result": "succeeded"}) == 2
    assert sample("cleanslate_purges_total", {**labels, "result": "failed"}) == 3
    assert sample("cleanslate_risk_rejections_total", {**labels, "reason": "purge_failed"}) == 3
    assert sample("cleanslate_risk_rejections_total", {**labels, "reason": "backoff"}) == 1
    rejected = {**labels, "reason": "INVALID_ORDER_CONFIGURATION"}
    assert sample("cleanslate_orders_rejected_total", rejected) == 3
