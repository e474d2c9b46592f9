"""What a cycle writes into status: account state, kstatus conditions, and the exchange-down
and manual-unfreeze paths."""

from __future__ import annotations

from decimal import Decimal

from cleanslate.api.account import AccountState, Condition, PaperFault, TradingAccountStatus
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.cycle import CycleOptions
from cleanslate.cycle.reporting import meaningful, worth_writing
from cleanslate.events import Reason
from cleanslate.exchange.errors import Unavailable
from cleanslate.exchange.paper import open_paper_exchange

from .harness import ACCOUNT, Recording, Rig, account_spec, policy

CLEANABLE = {"USD": "120", "SEI": "36.4", "WLFI": "57.5"}


def condition(status: TradingAccountStatus, type_: str) -> Condition:
    return next(c for c in status.conditions if c.type == type_)


async def clean_rig() -> Rig:
    rig = Rig(account_spec(CLEANABLE, market="calm"), policy())
    for _ in range(3):
        await rig.cycle()
        if rig.status.account_state is AccountState.CLEAN:
            return rig
        rig.wait_interval()
    raise AssertionError(f"not CLEAN after 3 cycles: {rig.status.blockers}")


async def test_clean_account_is_ready_and_clean_with_an_account_clean_event() -> None:
    rig = await clean_rig()
    assert rig.status.account_state is AccountState.CLEAN
    assert condition(rig.status, "Ready").status == "True"
    assert condition(rig.status, "Clean").status == "True"
    assert condition(rig.status, "Reconciling").status == "False"
    assert condition(rig.status, "Stalled").status == "False"
    assert Reason.ACCOUNT_CLEAN in rig.events.reasons()
    assert rig.status.blockers == []


async def test_second_identical_cycle_keeps_ready_transition_time_and_needs_no_write() -> None:
    rig = await clean_rig()
    rig.wait_interval()
    await rig.cycle()  # the first cycle that finds nothing left to do
    before = rig.status
    rig.wait_interval()
    await rig.cycle()
    after = rig.status
    ready_before, ready_after = condition(before, "Ready"), condition(after, "Ready")
    assert ready_after.last_transition_time == ready_before.last_transition_time
    assert Reason.ACCOUNT_CLEAN not in rig.events.reasons()
    assert meaningful(before) == meaningful(after)
    assert not worth_writing(before, after, rig.clock.now(), refresh_seconds=300)
    assert worth_writing(before, after, rig.clock.now(), refresh_seconds=30)


async def test_a_state_change_is_worth_writing_at_once() -> None:
    rig = Rig(account_spec(CLEANABLE, market="calm"), policy())
    await rig.cycle(CycleOptions(dry_run=True))
    before = rig.status
    await rig.cycle()
    assert worth_writing(before, rig.status, rig.clock.now(), refresh_seconds=3600)


async def test_exchange_down_keeps_last_known_balance_and_is_not_ready() -> None:
    rig = await clean_rig()
    known = rig.status.balance
    assert known.last_known_usd is not None
    down = PaperConfig.model_validate(
        {
            **(rig.spec.exchange.paper or PaperConfig()).model_dump(by_alias=True),
            "faults": [{"operation": "balances", "kind": "unavailable", "rate": 1}],
        }
    )
    rig.exchange = Recording(open_paper_exchange(down, rig.clock, account=ACCOUNT))
    for errors in (1, 2):
        rig.wait_interval()
        result = await rig.cycle()
        assert result.error is not None
        assert rig.status.balance.last_known_usd == known.last_known_usd
        assert rig.status.balance.fetched_at == known.fetched_at
        assert rig.status.balance.consecutive_errors == errors
        ready = condition(rig.status, "Ready")
        assert (ready.status, ready.reason) == ("False", "ExchangeUnavailable")
        assert Reason.EXCHANGE_UNAVAILABLE in rig.events.reasons()
    assert rig.exchange.requests == []
    rig.clock.advance(31 * 60)  # past balanceFetch.staleAfterMinutes
    await rig.cycle()
    assert rig.status.balance.stale
    assert Reason.BALANCE_STALE in rig.events.reasons()


async def test_exchange_down_on_the_first_cycle_reports_never_fetched() -> None:
    fault = PaperFault.model_validate({"operation": "balances", "kind": "timeout", "rate": 1})
    rig = Rig(account_spec(CLEANABLE, faults=[fault]), policy())
    result = await rig.cycle()
    assert result.error is not None and "never fetched" in result.error
    assert rig.status.balance.consecutive_errors == 1
    assert rig.status.account_state is AccountState.ERROR


async def test_delisted_symbol_freezes_and_manual_unfreeze_lifts_it() -> None:
    rig = Rig(account_spec({"USD": "120", "AUT": "100"}), policy())
    for _ in range(3):
        await rig.cycle()
        rig.wait_interval()
    assert rig.status.frozen_symbols["AUT-USD"].frozen_at is not None
    await rig.cycle(CycleOptions(dry_run=False, unfreeze=frozenset({"AUT-USD"})))
    assert Reason.MANUAL_UNFREEZE in rig.events.reasons()
    entry = rig.status.frozen_symbols.get("AUT-USD")
    assert entry is None or entry.frozen_at is None


async def test_cycle_timing_is_on_the_simulated_clock() -> None:
    rig = Rig(account_spec(CLEANABLE), policy())
    await rig.cycle()
    timing = rig.status.last_cycle
    assert timing is not None and timing.duration_seconds >= Decimal(0)
    assert rig.status.cycles == 1


class BalancesFailAfterSales(Recording):
    """The exchange goes down right after the cycle's sales: every later balance read fails."""

    async def balances(self) -> object:
        if self.requests:
            raise Unavailable("Service Unavailable")
        return await self.inner.balances()


async def test_exchange_down_while_verifying_never_reports_a_false_clean() -> None:
    # Pinned to the optimistic market: the test needs a purge that completes on its first
    # order (the balance reads after it fail), which only the first-in-queue maker gives.
    spec = account_spec(
        {"USD": "120", "SEI": "36.4", "LINK": "2"}, market="calm", model="optimistic"
    )
    rig = Rig(spec, policy())
    rig.exchange = BalancesFailAfterSales(rig.exchange.inner)
    await rig.cycle()
    assert rig.exchange.requests, "the cycle sold something before the exchange went down"
    assert rig.status.account_state is not AccountState.CLEAN
    ready = condition(rig.status, "Ready")
    assert (ready.status, ready.reason) == ("False", "ExchangeUnavailable")
    assert Reason.ACCOUNT_CLEAN not in rig.events.reasons()
    assert rig.status.cleanup_metrics.purges_succeeded >= 1


async def test_a_cycle_over_its_budget_is_reported_by_condition_event_and_flag() -> None:
    # The SEI purge works a maker order for simulated seconds: more than a 1 s budget.
    rig = Rig(account_spec(CLEANABLE), policy(cycleBudgetSeconds=1))
    result = await rig.cycle()
    assert result.over_budget
    assert rig.status.last_cycle is not None and rig.status.last_cycle.over_budget
    budget = condition(rig.status, "WithinBudget")
    assert (budget.status, budget.reason) == ("False", "OverBudget")
    assert Reason.CYCLE_OVER_BUDGET in rig.events.reasons()

    rig.wait_interval()
    await rig.cycle()  # nothing left to sell: a quick cycle
    assert condition(rig.status, "WithinBudget").status == "True"
