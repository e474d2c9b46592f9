"""The CLI honours the account as the operator does: suspend, DryRun, and ``--symbol``
judged against what the account holds now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .test_once import NOW, account_manifest, held, run, write

HOLDINGS = {"USD": 120, "SEI": 36.4, "WLFI": 57.5}


def _liquidate(
    capsys: pytest.CaptureFixture[str], account: Path, state: Path, *extra: str
) -> tuple[int, str, str]:
    return run(
        capsys, "liquidate", "-f", str(account), "--state-dir", str(state), "--now", NOW,
        "--all", "-o", "json", *extra,
    )  # fmt: skip


def _once(capsys: pytest.CaptureFixture[str], account: Path, state: Path, *extra: str) -> Any:
    code, out, err = run(
        capsys, "once", "-f", str(account), "--state-dir", str(state), "--now", NOW,
        "-o", "json", *extra,
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


def test_once_on_a_suspended_account_sells_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    account = write(tmp_path / "a.yaml", account_manifest(HOLDINGS, suspend=True))
    resource = _once(capsys, account, tmp_path / "s")
    assert resource["status"]["accountState"] == "Suspended"
    unsuspended = write(tmp_path / "b.yaml", account_manifest(HOLDINGS))
    after = _once(capsys, unsuspended, tmp_path / "s", "--verify-only")
    assert held(after, "SEI-USD") == 36.4 and held(after, "WLFI-USD") == 57.5


@pytest.mark.parametrize(
    ("spec", "field"), [({"mode": "DryRun"}, "spec.mode"), ({"suspend": True}, "spec.suspend")]
)
def test_liquidate_refuses_a_dry_run_or_suspended_account(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: dict[str, Any], field: str
) -> None:
    account = write(tmp_path / "a.yaml", account_manifest(HOLDINGS, **spec))
    code, out, err = _liquidate(capsys, account, tmp_path / "s", "--symbol", "SEI-USD", "--force")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and field in err
    assert not (tmp_path / "s").exists() or not list((tmp_path / "s").rglob("*.json"))


def test_liquidate_sells_the_named_symbol_only_judged_against_what_is_held_now(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "s"
    _once(capsys, write(tmp_path / "a.yaml", account_manifest(HOLDINGS)), state, "--dry-run")
    # The YAML no longer lists WLFI, but the account (its saved paper state) still holds it.
    later = write(tmp_path / "b.yaml", account_manifest({"USD": 120, "SEI": 36.4}))
    code, out, err = _liquidate(capsys, later, state, "--symbol", "SEI-USD")
    assert code == 0, err
    resource = json.loads(out)
    assert held(resource, "SEI-USD") == 0
    assert held(resource, "WLFI-USD") == 57.5


@pytest.mark.parametrize("symbol", ["SEI", "SEI_USD", "SEI-USD-X", "-USD", "../x", ""])
def test_liquidate_with_a_malformed_symbol_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, symbol: str
) -> None:
    account = write(tmp_path / "a.yaml", account_manifest(HOLDINGS))
    with pytest.raises(SystemExit) as exit_info:
        _liquidate(capsys, account, tmp_path / "s", "--symbol", symbol)
    assert exit_info.value.code == 2


def test_liquidate_records_the_account_as_its_own_plan_sees_it_not_clean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Selling SEI leaves an ineligible WLFI the account's plan would purge: the saved status
    is not CLEAN, and neither the temporary protection of WLFI nor SEI's temporary exclusion
    reaches it."""
    account = write(tmp_path / "a.yaml", account_manifest(HOLDINGS))
    code, out, err = _liquidate(capsys, account, tmp_path / "s", "--symbol", "SEI-USD")
    assert code == 0, err
    status = json.loads(out)["status"]
    assert status["accountState"] != "Clean"
    assert any("WLFI-USD" in b for b in status["blockers"])
    plan = {p["symbol"]: p for p in status["plan"]}
    assert "protected" not in plan["WLFI-USD"]["reason"]
