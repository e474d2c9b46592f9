"""The core's decisions as the CLI and the operator see them: through ``run_cycle`` on the paper
exchange, with its events and status."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from cleanslate.api.account import (
    AccountState,
    CleanupMetrics,
    FaultKind,
    FaultOperation,
    PaperFault,
    PlanAction,
    TradingAccountStatus,
)
from cleanslate.core.decisions import ExitKind, Rule
from cleanslate.core.twap import StopReason, TwapOutcome
from cleanslate.cycle import CycleInputs, CycleOptions, exiting
from cleanslate.events import Reason

from .harness import Rig, account_spec, policy

D = Decimal
SOL_TRACKED = {"trackedPositions": [{"symbol": "SOL-USD", "entryPrice": "140"}]}


def sol_rig(kind: FaultKind) -> Rig:
    """$1,400 of tracked, force-eligible SOL whose every price fetch fails with ``kind``."""
    fault = PaperFault(operation=FaultOperation.QUOTE, kind=kind, product_id="SOL-USD")
    pol = policy(exposure={"maxTotalAtRiskPct": 100})
    return Rig(account_spec({"USD": "1000", "SOL": "10"}, faults=[fault], **SOL_TRACKED), pol)


async def test_a_large_account_sells_an_ineligible_coin_under_one_percent_and_ends_clean() -> None:
    # $56 of SEI on a ~$10,000 account: 1 % is $100, but the purge floor ($5) decides.
    rig = Rig(account_spec({"USD": "9944", "SEI": "358.3"}), policy())
    for _ in range(4):
        await rig.cycle()
        if rig.status.account_state is AccountState.CLEAN:
            break
        rig.wait_interval()
    assert rig.sold("SEI-USD")
    assert rig.status.account_state is AccountState.CLEAN
    assert await rig.held("SEI") * D("0.1563") < 5


async def test_a_price_outage_on_a_tracked_position_sells_nothing_and_freezes_nothing() -> None:
    for kind in (FaultKind.UNAVAILABLE, FaultKind.RATE_LIMIT):
        rig = sol_rig(kind)
        for _ in range(5):
            await rig.cycle()
            rig.wait_interval()
        assert rig.sold("SOL-USD") == []
        assert rig.status.frozen_symbols == {}
        (sol,) = [p for p in rig.status.plan if p.symbol == "SOL-USD"]
        assert sol.action is PlanAction.SKIP and sol.reason.startswith("price unknown")
        assert rig.status.account_state is not AccountState.CLEAN
        assert any(b.startswith("SOL-USD: price unknown") for b in rig.status.blockers)


async def test_a_delisted_zombie_escalates_once_with_its_event_before_the_freeze() -> None:
    rig = Rig(account_spec({"USD": "500", "AUT": "1000"}), policy())
    escalations = []
    for _ in range(4):
        await rig.cycle()
        escalations.append([e for e in rig.events.events if e.reason is Reason.ZOMBIE_ESCALATED])
        rig.wait_interval()
    # The one exit attempt fails in the first cycle and escalates there, once.
    assert [len(cycle) for cycle in escalations] == [1, 0, 0, 0]
    assert escalations[0][0].message.startswith("AUT-USD: zombie exit failed; escalated")
    assert "AUT-USD" in rig.status.frozen_symbols
    (aut,) = [p for p in rig.status.plan if p.symbol == "AUT-USD"]
    assert aut.action is PlanAction.ESCALATE


async def test_a_suspended_product_waits_four_hours_after_one_failure() -> None:
    # ZETA is suspended on the paper exchange: the sale is refused PRODUCT_NOT_TRADEABLE.
    rig = Rig(account_spec({"USD": "500", "ZETA": "100"}), policy())
    await rig.cycle()
    failure = rig.status.purge_failures["ZETA-USD"]
    assert (failure.failure_count, failure.last_error_code) == (1, "PRODUCT_NOT_TRADEABLE")
    assert failure.next_retry_at == failure.last_failed_at + timedelta(hours=4)
    placed = len(rig.sold("ZETA-USD"))
    rig.wait_interval()
    await rig.cycle()
    assert len(rig.sold("ZETA-USD")) == placed
    (zeta,) = [p for p in rig.status.plan if p.symbol == "ZETA-USD"]
    assert zeta.action is PlanAction.SKIP and "PRODUCT_NOT_TRADEABLE" in zeta.reason


async def test_a_dust_close_below_the_exchange_minimum_is_never_reported_as_a_sale() -> None:
    rig = Rig(account_spec({"USD": "230", "SEI": "0.2"}), policy(dust={"action": "Close"}))
    for _ in range(3):
        await rig.cycle()
        assert not [e for e in rig.events.events if e.reason is Reason.POSITION_CLOSED]
        rig.wait_interval()
    assert rig.sold("SEI-USD") == []
    assert rig.status.cleanup_metrics.total_positions_cleaned == 0
    assert rig.status.cleanup_metrics.purges_succeeded == 0
    (sei,) = [p for p in rig.status.plan if p.symbol == "SEI-USD"]
    assert sei.action is PlanAction.IGNORE and sei.reason.startswith("unsellable remainder")
    assert rig.status.account_state is AccountState.CLEAN


async def test_liquidate_force_on_a_crumb_below_the_minimum_sells_nothing_and_says_why() -> None:
    rig = Rig(account_spec({"USD": "230", "SEI": "0.2"}), policy())
    await rig.cycle(CycleOptions(dry_run=False, liquidate=frozenset({"SEI-USD"})))
    assert rig.sold("SEI-USD") == []
    (note,) = [e.message for e in rig.events.events if e.reason is Reason.MANUAL_LIQUIDATE]
    assert note.startswith("SEI-USD: not liquidated (unsellable remainder")
    assert rig.status.cleanup_metrics.purges_succeeded == 0


def test_a_sale_that_filled_nothing_is_booked_as_an_unsellable_remainder() -> None:
    # The market moved between plan and sale: the executor reports success with no fill.
    rig = Rig(account_spec({"USD": "230"}), policy())
    inputs = CycleInputs(
        account="ns/acct",
        spec=rig.spec,
        policy=rig.policy,
        status=TradingAccountStatus(),
        exchange=rig.exchange,
        clock=rig.clock,
        events=rig.events,
    )
    books = exiting.Books(TradingAccountStatus())
    nothing = TwapOutcome(
        success=True,
        reason=StopReason.FILLED,
        target_quantity=D("0.2"),
        filled_quantity=D(0),
        average_price=None,
        proceeds=D(0),
        fees=D(0),
        residual_quantity=D("0.2"),
        residual_value_usd=D("0.03"),
        slices=0,
        requests=(),
    )
    exiting.record(inputs, books, "SEI-USD", ExitKind.CLOSE, Rule.DUST, nothing, None)
    assert [e.reason for e in rig.events.events] == [Reason.UNSELLABLE_REMAINDER]
    assert books.status.cleanup_metrics == CleanupMetrics()


async def test_a_risky_exposure_cap_is_warned_once_and_shown_as_a_condition() -> None:
    rig = Rig(account_spec({"USD": "500"}), policy(exposure={"maxTotalAtRiskPct": 80}))
    warned = []
    for _ in range(3):
        await rig.cycle()
        warned.append([e.message for e in rig.events.events if e.reason is Reason.RISKY_POLICY])
        rig.wait_interval()
    assert [len(w) for w in warned] == [1, 0, 0]
    assert warned[0][0].startswith("exposure.maxTotalAtRiskPct is 80%, above 50%")
    (condition,) = [c for c in rig.status.conditions if c.type == "PolicyWarning"]
    assert (condition.status, condition.reason) == ("True", "RiskySettings")
    rig.policy = policy()
    await rig.cycle()
    (condition,) = [c for c in rig.status.conditions if c.type == "PolicyWarning"]
    assert condition.status == "False"


async def test_a_conservative_policy_adds_no_warning_condition() -> None:
    rig = Rig(account_spec({"USD": "500"}), policy())
    await rig.cycle()
    assert [c for c in rig.status.conditions if c.type == "PolicyWarning"] == []


async def test_not_found_answers_on_a_listed_product_freeze_it_but_never_sell_it() -> None:
    fault = PaperFault(
        operation=FaultOperation.QUOTE,
        kind=FaultKind.REJECT,
        code="INVALID_PRODUCT_ID",
        product_id="SOL-USD",
    )
    pol = policy(exposure={"maxTotalAtRiskPct": 100})
    rig = Rig(account_spec({"USD": "1000", "SOL": "10"}, faults=[fault], **SOL_TRACKED), pol)
    for _ in range(5):
        await rig.cycle()
        rig.wait_interval()
    assert rig.sold("SOL-USD") == []
    assert rig.status.frozen_symbols["SOL-USD"].frozen_at is not None
    (sol,) = [p for p in rig.status.plan if p.symbol == "SOL-USD"]
    assert sol.action is PlanAction.SKIP and sol.reason.startswith("frozen")
