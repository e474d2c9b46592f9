"""Default quote currencies are sold only when a policy releases them by name, and then the
plan and an event say so."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cleanslate.api.policy import PurgePolicySpec
from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason

from .harness import Rig, account_spec, policy


async def test_a_policy_listing_only_usd_never_sells_usdc_even_by_hand() -> None:
    rig = Rig(
        account_spec({"USD": "100", "USDC": "60"}, market="calm"), policy(quoteCurrencies=["USD"])
    )
    await rig.cycle(CycleOptions(dry_run=False, liquidate=frozenset({"USDC-USD"})))
    assert rig.exchange.requests == []
    assert await rig.held("USDC") == 60


async def test_a_released_quote_currency_is_planned_with_a_note_and_an_event() -> None:
    spec = account_spec({"USD": "100", "USDT": "60"}, market="calm", mode="DryRun")
    rig = Rig(spec, policy(releasedQuoteCurrencies=["USDT"]))
    await rig.cycle(CycleOptions(dry_run=True))
    (item,) = [p for p in rig.status.plan if p.symbol == "USDT-USD"]
    assert "releasedQuoteCurrencies" in item.reason
    assert [e for e in rig.events.events if e.reason is Reason.QUOTE_CURRENCY_RELEASED]


@pytest.mark.parametrize(
    "spec",
    [
        {"releasedQuoteCurrencies": ["SOL"]},
        {"releasedQuoteCurrencies": ["USDC"], "quoteCurrencies": ["USD", "USDC"]},
    ],
)
def test_a_release_must_name_a_default_quote_currency_not_kept_in_the_list(
    spec: dict[str, object],
) -> None:
    with pytest.raises(ValidationError, match="releasedQuoteCurrencies"):
        PurgePolicySpec.model_validate(spec)


def test_the_effective_list_survives_a_round_trip() -> None:
    once = PurgePolicySpec.model_validate(
        {"quoteCurrencies": ["USD", "EUR"], "releasedQuoteCurrencies": ["BTC"]}
    )
    again = PurgePolicySpec.model_validate(once.model_dump())
    assert once.quote_currencies == again.quote_currencies == ["USD", "USDC", "USDT", "ETH", "EUR"]
