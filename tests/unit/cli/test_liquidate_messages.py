"""``cleanslate liquidate`` says what it did: the sale is the person's liquidate, not an
exclusion the policy never had, and a sale that stopped short says how much is left and why."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from cleanslate.api.account import TradingAccountStatus
from cleanslate.cli import main
from cleanslate.cli.report import partly_sold
from cleanslate.core.twap import StopReason, TwapOutcome
from cleanslate.cycle import CycleResult

ROOT = Path(__file__).resolve().parents[3]


def test_liquidate_events_name_the_command_not_an_exclusion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = yaml.safe_load((ROOT / "examples/first-account.yaml").read_text())
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump(account))
    code = main(
        ["liquidate", "-f", str(path), "-f", str(ROOT / "examples/policy.yaml"),
         "--state-dir", str(tmp_path / "s"), "--symbol", "SEI-USD", "--all"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "universe.excludedSymbols" not in out
    assert "liquidate SEI-USD by hand" in out


def test_a_sale_that_stopped_short_says_how_much_is_left_and_why() -> None:
    outcome = TwapOutcome(
        success=False,
        reason=StopReason.MAX_DURATION,
        target_quantity=Decimal("36.4"),
        filled_quantity=Decimal("32.0"),
        average_price=Decimal("0.15"),
        proceeds=Decimal("4.8"),
        fees=Decimal("0.03"),
        residual_quantity=Decimal("4.4"),
        residual_value_usd=Decimal("0.66"),
        slices=8,
        requests=(),
    )
    result = CycleResult(status=TradingAccountStatus(), outcomes={"SEI-USD": outcome})
    note = partly_sold(result, "SEI-USD")
    assert note is not None
    assert "sold 32.0 of 36.4, 4.4 left" in note and "maxDurationSeconds" in note
    whole = CycleResult(
        status=TradingAccountStatus(),
        outcomes={"SEI-USD": replace(outcome, filled_quantity=Decimal("36.4"))},
    )
    assert partly_sold(whole, "SEI-USD") is None
