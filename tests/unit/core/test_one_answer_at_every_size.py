"""Issue 25 item 2: small positions are closed whatever the account's size. Dust is something
to close where the exchange's minimum allows (the default follows the documents: seed 002's
normalization closes positions under $7.50, seed 003's Rule 1 market-closes a position under
1 % of the account, seed 002's broker cleanup closes what is under $1), and one holding gets
one answer at every account size."""

from __future__ import annotations

import pytest

from cleanslate.api.policy import DustAction, PurgePolicySpec
from cleanslate.core.decisions import ExitKind
from cleanslate.core.holdings import Holding
from cleanslate.core.planning import Memory, plan_cycle
from cleanslate.core.verification import verify

from .builders import NOW, THIN_VOLUME, cash, holding, policy, snapshot, spec

SIZES = ["100", "250", "500", "1000", "2000", "10000", "100000"]


def kind(item: Holding, nav: str, pol: PurgePolicySpec) -> ExitKind:
    p = plan_cycle(snapshot(cash("USD", nav), item), spec(), pol, Memory(), NOW)
    return {d.symbol: d for d in p.decisions}[item.product_id].kind


def test_the_default_dust_action_closes() -> None:
    assert PurgePolicySpec().dust.action is DustAction.CLOSE


@pytest.mark.parametrize(
    ("item", "answer"),
    [
        (holding("DOGE", "40", "0.16"), ExitKind.CLOSE),  # $6.40, untracked, eligible
        (holding("DOGE", "20", "0.16"), ExitKind.CLOSE),  # $3.20: a crumb the exchange takes
        (holding("SEI", "20", "0.16", volume=THIN_VOLUME), ExitKind.IGNORE),  # $3.20 rejected
        (holding("DOGE", "5", "0.16"), ExitKind.IGNORE),  # $0.80: under the $1 notional
    ],
)
def test_one_holding_gets_one_answer_at_every_account_size(item: Holding, answer: ExitKind) -> None:
    assert {kind(item, nav, policy()) for nav in SIZES} == {answer}


def test_a_small_position_on_a_large_account_is_not_clean_until_closed() -> None:
    doge = holding("DOGE", "40", "0.16")
    assert not verify(snapshot(cash("USD", "2000"), doge), spec(), policy(), Memory(), NOW).clean


def test_ignore_stays_an_explicit_choice() -> None:
    ignore = policy(dust={"action": "Ignore"})
    assert kind(holding("DOGE", "40", "0.16"), "2000", ignore) is ExitKind.IGNORE
