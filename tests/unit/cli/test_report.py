"""How ``cleanslate once`` reads to a person: money and quantities in one format per column,
``--until-clean`` failing like ``kubectl wait`` with the reason in its last line, and purge
progress on a terminal only."""

from __future__ import annotations

import io
import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.cli import main
from cleanslate.cli.formatting import duration, money, quantity, timestamp
from cleanslate.cli.main import EXIT_NOT_CLEAN

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ["-f", str(ROOT / "examples/account.yaml"), "-f", str(ROOT / "examples/policy.yaml")]
NOW = "2025-11-16T12:00:00Z"
MONEY = re.compile(r"^(-?\$\d{1,3}(,\d{3})*\.\d{2}|n/a)$")


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, as a person's shell is."""

    def isatty(self) -> bool:
        return True


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def section(out: str, title: str) -> list[list[str]]:
    """The rows (split on runs of 2+ spaces) of one table of the summary, header first."""
    lines = out.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [re.split(r" {2,}", line.strip()) for line in lines]


def cleanable(tmp_path: Path, holdings: dict[str, float]) -> Path:
    account = {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": "small", "namespace": "default"},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "Live",
            "exchange": {
                "name": "paper",
                "paper": {"seed": 3, "market": "calm", "holdings": holdings},
            },
        },
    }
    path = tmp_path / "account.yaml"
    path.write_text(yaml.safe_dump(account))
    return path


# --- formatting -------------------------------------------------------------------------------


def test_money_is_dollars_and_cents_and_unpriced_is_not_zero() -> None:
    assert money(Decimal("9.68760243")) == "$9.69"
    assert money(Decimal("0.44000")) == "$0.44"
    assert money(Decimal("1234567.891")) == "$1,234,567.89"
    assert money(Decimal("-3.5")) == "-$3.50"
    assert money(None) == "n/a"


def test_quantity_is_shown_at_the_increment_and_never_above_what_is_held() -> None:
    assert quantity(Decimal("1.1169715754"), Decimal("0.01")) == "1.11"
    assert quantity(Decimal("0.44000"), Decimal("0.00000001")) == "0.44000000"
    assert quantity(Decimal("889587"), Decimal("1")) == "889,587"
    assert quantity(Decimal("36.4"), Decimal("1")) == "36"
    assert quantity(Decimal("1E+2")) == "100"
    assert quantity(Decimal("0.44000")) == "0.44"


def test_times_and_durations_are_short_and_utc() -> None:
    from datetime import datetime, timedelta, timezone

    local = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp(local) == "2026-01-02T01:04:05Z"
    assert (duration(3900), duration(250), duration(42), duration(-5)) == (
        "1h05m",
        "4m10s",
        "42s",
        "0s",
    )


def test_summary_columns_hold_one_format_each(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "once", *EXAMPLES, "--state-dir", str(tmp_path), "--now", NOW)
    assert code == 0
    header, *rows = section(out, "Positions:")
    assert header == ["SYMBOL", "QUANTITY", "VALUE", "CATEGORY", "ELIGIBLE"]
    by_symbol = {row[0]: row for row in rows}
    for row in rows:
        assert MONEY.match(row[2]), row
        assert re.match(r"^[\d,]+(\.\d+)?$", row[1]), row
        assert row[4] in {"yes", "no"}, row
    assert by_symbol["AUT-USD"][2] == "n/a"  # delisted: no price, not $0.00
    assert by_symbol["ANKR-USD"][2] == "$0.44"
    assert by_symbol["BONK-USD"][1] == "889,587"
    for row in section(out, "Plan (last cycle):")[1:]:
        assert row[2] == "-" or re.match(r"^[\d,]+(\.\d+)?$", row[2]), row
        assert row[3] == "-" or MONEY.match(row[3]), row
    assert "None" not in out.split("\nEvents:\n")[0]
    first = out.splitlines()[0]
    assert re.search(r"value \$[\d,]+\.\d{2}, ", first), first


def test_the_summary_shows_each_purges_cost_against_the_decision_time_mid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["once", *EXAMPLES, "--state-dir", str(tmp_path), "--now", NOW, "--max-cycles", "2"]
    _, out, _ = run(capsys, *argv, "--until-clean")  # AUT stays escalated: not CLEAN
    title = "Last purges (cost vs decision-time mid, fees in; fee tier 60/120 bps from the venue):"
    header, *rows = section(out, title)  # the paper account's schedule: the entry tier
    assert header == ["SYMBOL", "RESULT", "COST", "FEES", "FILLED", "UNSOLD", "TOOK", "FINISHED"]
    by_symbol = {row[0]: row for row in rows}
    assert by_symbol["WLFI-USD"][1:2] == ["Succeeded"]
    assert by_symbol["BONK-USD"][1:2] == ["Failed"]
    assert by_symbol["BONK-USD"][4:6] == ["0%", "889,587"]  # nothing sold, all of it unsold
    for row in rows:
        assert re.match(r"^-?\d+ bps$", row[2]) and re.match(r"^\d+ bps$", row[3]), row
        assert re.match(r"^\d+%$", row[4]) and re.match(r"^\d+(m\d\ds|s)$", row[6]), row
    wlfi = by_symbol["WLFI-USD"][2]
    event = next(line for line in out.splitlines() if "PurgeSucceeded" in line and "WLFI" in line)
    assert f"cost {wlfi} vs decision mid" in event


# --- --until-clean exit code -----------------------------------------------------------------


def test_until_clean_exits_non_zero_with_the_blockers_in_its_last_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "once", *EXAMPLES, "--state-dir", str(tmp_path), "--now", NOW,
        "--until-clean", "--max-cycles", "3", "-o", "json",
    )  # fmt: skip
    assert code == EXIT_NOT_CLEAN == 1
    status = json.loads(out)["status"]  # stdout stays the resource, parseable
    assert status["accountState"] != "Clean"
    last = err.strip().splitlines()[-1]
    assert last.startswith("cleanslate: not CLEAN after 3 cycle(s): "), last
    assert "BONK-USD" in last and status["accountState"] in last


def test_until_clean_exits_zero_once_clean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    account = cleanable(tmp_path, {"USD": 150, "SEI": 36.4, "WLFI": 57.5})
    policy = str(ROOT / "examples/policy.yaml")
    code, _, err = run(
        capsys, "once", "-f", str(account), "-f", policy, "--state-dir", str(tmp_path / "s"),
        "--now", NOW, "--until-clean", "--max-cycles", "5",
    )  # fmt: skip
    assert code == 0, err
    assert "not CLEAN" not in err


def test_a_single_cycle_without_until_clean_exits_zero_even_when_dirty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "once", *EXAMPLES, "--state-dir", str(tmp_path), "--now", NOW)
    assert code == 0
    assert "not CLEAN" not in err


# --- progress ---------------------------------------------------------------------------------

PROGRESS = re.compile(
    r"^  [A-Z]+-USD: slice \d+, sold [\d,.]+ of [\d,.]+ \(~(\$[\d,]+\.\d{2}|n/a)\), "
    r"(\d+h\d\dm|\d+m\d\ds|\d+s) left$"
)
FINISHED = re.compile(
    r"^  [A-Z]+-USD: (done|stopped \(\w+\)) after \d+ slice\(s\), "
    r"sold [\d,.]+ of [\d,.]+ for \$[\d,]+\.\d{2}$"
)


def test_progress_lines_on_a_terminal_show_slices_sold_and_time_left(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    account = cleanable(tmp_path, {"USD": 150, "SEI": 36.4, "WLFI": 57.5})
    code = main(
        ["once", "-f", str(account), "-f", str(ROOT / "examples/policy.yaml"),
         "--state-dir", str(tmp_path / "s"), "--now", NOW, "--until-clean"]
    )  # fmt: skip
    assert code == 0
    lines = [line for line in terminal.getvalue().splitlines() if "slice" in line]
    progress = [line for line in lines if PROGRESS.match(line)]
    finished = [line for line in lines if FINISHED.match(line)]
    assert len(progress) + len(finished) == len(lines), lines
    assert {line.split(":")[0].strip() for line in progress} == {"SEI-USD", "WLFI-USD"}
    assert progress[0].endswith("4m00s left"), progress  # the policy's maxDurationSeconds
    assert len(progress) == len(set(progress)), "a line only when the slice or the fill moved"
    done = {line.split(":")[0].strip(): line for line in finished}
    assert set(done) == {"SEI-USD", "WLFI-USD"}
    assert "done after" in done["SEI-USD"] and "sold 36.4 of 36.4 for $" in done["SEI-USD"]
    out = capsys.readouterr().out.splitlines()  # stdout: the summary and events, no progress
    assert not [line for line in out if PROGRESS.match(line) or FINISHED.match(line)]


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_progress_is_silent_with_machine_output_even_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    account = cleanable(tmp_path, {"USD": 150, "SEI": 36.4})
    args: list[Any] = ["once", "-f", str(account), "-f", str(ROOT / "examples/policy.yaml")]
    code = main([*args, "--state-dir", str(tmp_path / "s"), "--now", NOW, "-o", output])
    assert code == 0
    assert "slice" not in terminal.getvalue()


def test_progress_is_silent_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    account = cleanable(tmp_path, {"USD": 150, "SEI": 36.4})
    code, out, err = run(
        capsys, "once", "-f", str(account), "-f", str(ROOT / "examples/policy.yaml"),
        "--state-dir", str(tmp_path / "s"), "--now", NOW,
    )  # fmt: skip
    assert code == 0
    assert "PurgeStarted" in out  # a purge ran
    assert not any(PROGRESS.match(line) for line in err.splitlines()), err
