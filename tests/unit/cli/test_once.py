"""``cleanslate once`` and ``cleanslate liquidate`` on the paper exchange: output, state that
carries over between runs, and one-line errors for bad input."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.cli import main
from cleanslate.cli.main import build_parser
from cleanslate.cli.manifests import load
from cleanslate.cli.running import OnceRequest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ["-f", str(ROOT / "examples/account.yaml"), "-f", str(ROOT / "examples/policy.yaml")]
NOW = "2025-11-16T12:00:00Z"


def account_manifest(holdings: dict[str, float], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": "small", "namespace": "test"},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "Live",
            "exchange": {
                "name": "paper",
                "paper": {"seed": 3, "market": "calm", "holdings": holdings},
            },
            **spec,
        },
    }


def policy_for(account: dict[str, Any]) -> dict[str, Any]:
    """The default PurgePolicy under the name and namespace the account's policyRef names."""
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "PurgePolicy",
        "metadata": {
            "name": account["spec"]["policyRef"]["name"],
            "namespace": account["metadata"]["namespace"],
        },
        "spec": {},
    }


def write(path: Path, document: dict[str, Any] | str) -> Path:
    """Write a manifest; a TradingAccount goes with the policy it references, since the CLI
    never falls back to a default policy."""
    if isinstance(document, str):
        path.write_text(document)
    elif document.get("kind") == "TradingAccount":
        path.write_text(yaml.safe_dump_all([document, policy_for(document)]))
    else:
        path.write_text(yaml.safe_dump(document))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def once_yaml(capsys: pytest.CaptureFixture[str], state: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run(capsys, "once", *EXAMPLES, "--state-dir", str(state), "-o", "yaml", *extra)
    assert code == 0, err
    resource: dict[str, Any] = yaml.safe_load(out)
    return resource


def held(resource: dict[str, Any], symbol: str) -> float:
    found = [p["quantity"] for p in resource["status"]["positions"] if p["symbol"] == symbol]
    return float(found[0]) if found else 0.0


def test_once_prints_the_trading_account_with_its_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    resource = once_yaml(capsys, tmp_path, "--now", NOW)
    assert resource["kind"] == "TradingAccount"
    assert resource["metadata"]["name"] == "documents"
    status = resource["status"]
    assert status["accountState"] in {"Cleaning", "Dirty"}
    assert {"SOL-USD", "BONK-USD", "LINK-USD"} <= {p["symbol"] for p in status["positions"]}
    assert status["cycles"] == 1


def test_state_carries_over_between_invocations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = once_yaml(capsys, tmp_path, "--now", NOW)
    second = once_yaml(capsys, tmp_path, "--now", "2025-11-16T12:01:00Z")
    assert second["status"]["cycles"] == 2
    assert first["status"]["purgeFailures"]["BONK-USD"]["failureCount"] == 1
    assert second["status"]["purgeFailures"]["BONK-USD"]["failureCount"] == 2
    assert second["status"]["nextAttempt"] > first["status"]["nextAttempt"]


def test_verify_only_places_no_orders(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    resource = once_yaml(capsys, tmp_path, "--now", NOW, "--verify-only")
    status = resource["status"]
    assert status["cleanupMetrics"]["purgesSucceeded"] == 0
    assert status["cleanupMetrics"]["purgesFailed"] == 0
    assert status.get("inFlight", {}) == {} and status.get("purgeFailures", {}) == {}
    assert held(resource, "SEI-USD") == 36.4 and held(resource, "BONK-USD") == 889587
    again = once_yaml(capsys, tmp_path, "--now", NOW, "--verify-only")
    assert again["status"]["cleanupMetrics"]["staleOrdersCancelled"] == 0


def test_until_clean_ends_clean_on_an_account_that_can_be_cleaned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = account_manifest({"USD": 150, "SEI": 36.4, "WLFI": 57.5})
    manifest["metadata"]["namespace"] = "default"  # where examples/policy.yaml lives
    account = tmp_path / "a.yaml"
    account.write_text(yaml.safe_dump(manifest))
    policy = str(ROOT / "examples/policy.yaml")
    code, out, err = run(
        capsys, "once", "-f", str(account), "-f", policy, "--state-dir", str(tmp_path / "s"),
        "--now", NOW, "--until-clean", "--max-cycles", "5", "-o", "json",
    )  # fmt: skip
    assert code == 0, err
    status = json.loads(out)["status"]
    assert status["accountState"] == "Clean"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert held({"status": status}, "SEI-USD") == 0 and held({"status": status}, "WLFI-USD") == 0


BAD_POLICY = (ROOT / "examples/policy.yaml").read_text()


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("typo.yaml", BAD_POLICY.replace("maxPositions: 8", "maxPositons: 8"), "spec.maxPositons"),
        (
            "pct.yaml",
            BAD_POLICY.replace("thresholdPctOfAccount: 1,", "thresholdPctOfAccount: 150,"),
            "spec.dust.thresholdPctOfAccount",
        ),
        ("broken.yaml", "kind: PurgePolicy\nspec: {maxPositions: 8\n", "invalid YAML"),
        ("list.yaml", "- 1\n- 2\n", "expected a mapping"),
        ("kind.yaml", "kind: Deployment\nspec: {}\n", "kind"),
    ],
)
def test_bad_policy_file_is_one_line_naming_file_and_field_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, text: str, needle: str
) -> None:
    bad = write(tmp_path / name, text)
    argv = ["once", "-f", str(ROOT / "examples/account.yaml"), "-f", str(bad)]
    code, out, err = run(capsys, *argv, "--state-dir", str(tmp_path / "s"))
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert str(bad) in err and needle in err


def test_missing_file_is_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    code, _, err = run(capsys, "once", "-f", str(missing), "--state-dir", str(tmp_path))
    assert code == 2
    assert err.splitlines() == [f"cleanslate: error: {missing}: no such file"]


def test_invalid_account_field_names_the_account_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    account = write(tmp_path / "a.yaml", account_manifest({"USD": 10, "SEI": -1}))
    code, _, err = run(capsys, "once", "-f", str(account), "--state-dir", str(tmp_path / "s"))
    assert code == 2
    assert len(err.splitlines()) == 1
    assert str(account) in err and "spec.exchange.paper.holdings.SEI" in err


def test_negative_max_positions_is_a_usage_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["once", *EXAMPLES, "--state-dir", str(tmp_path), "--max-positions", "-3"])
    assert exit_.value.code == 2
    assert "--max-positions" in capsys.readouterr().err


def liquidate(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    symbol: str,
    *extra: str,
    expect: int = 0,
    why: str = "",
    **spec: Any,
) -> dict[str, Any]:
    """Run ``liquidate``; ``expect`` is its exit code, and when it is 1 (nothing sold) the one
    stderr line must name the symbol and contain ``why``."""
    holdings = {"USD": 150, "USDC": 60, "SEI": 36.4, "SOL": 0.1}
    account = write(tmp_path / "a.yaml", account_manifest(holdings, **spec))
    code, out, err = run(
        capsys, "liquidate", "-f", str(account), "--state-dir", str(tmp_path / "s"),
        "--now", NOW, "--symbol", symbol, "--all", "-o", "json", *extra,
    )  # fmt: skip
    assert code == expect, err
    if expect:
        assert err.splitlines() == [err.strip()] and f"liquidate sold no {symbol}: " in err
        assert why in err
    resource: dict[str, Any] = json.loads(out)
    return resource


def test_liquidate_force_sells_the_symbol(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    resource = liquidate(capsys, tmp_path, "SEI-USD", "--force")
    assert held(resource, "SEI-USD") == 0
    assert resource["status"]["cleanupMetrics"]["purgesSucceeded"] == 1
    assert held(resource, "SOL-USD") == 0.1


def test_liquidate_without_force_sells_a_due_symbol_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    resource = liquidate(capsys, tmp_path, "SEI-USD")
    assert held(resource, "SEI-USD") == 0
    assert held(resource, "SOL-USD") == 0.1


@pytest.mark.parametrize("symbol", ["USDC-USD", "USD-USDC"])
def test_liquidate_never_sells_a_quote_currency(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, symbol: str
) -> None:
    resource = liquidate(capsys, tmp_path, symbol, "--force", expect=1, why="quote")
    metrics = resource["status"]["cleanupMetrics"]
    assert metrics["purgesSucceeded"] == 0 and metrics["purgesFailed"] == 0
    assert held(resource, "SEI-USD") == 36.4


def test_liquidate_never_sells_a_protected_symbol(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    resource = liquidate(
        capsys, tmp_path, "SEI-USD", "--force", expect=1, why="protect",
        protectedSymbols=["SEI-USD"],
    )  # fmt: skip
    assert held(resource, "SEI-USD") == 36.4
    assert resource["status"]["cleanupMetrics"]["purgesSucceeded"] == 0


def test_replay_with_the_same_now_never_runs_time_backwards(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = once_yaml(capsys, tmp_path, "--now", NOW)["status"]
    second = once_yaml(capsys, tmp_path, "--now", NOW)["status"]
    ended = datetime.fromisoformat(first["lastCycle"]["startedAt"]) + timedelta(
        seconds=float(first["lastCycle"]["durationSeconds"])
    )
    assert datetime.fromisoformat(second["lastCycle"]["startedAt"]) >= ended
    for failure in second["purgeFailures"].values():
        assert datetime.fromisoformat(failure["lastFailedAt"]) >= datetime.fromisoformat(NOW)


def test_phase_two_only_cancels_stale_orders_and_sells_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    resource = once_yaml(capsys, tmp_path, "--now", NOW, "--phase", "2")
    metrics = resource["status"]["cleanupMetrics"]
    assert metrics["staleOrdersCancelled"] == 1
    assert metrics["purgesSucceeded"] == 0 and metrics["purgesFailed"] == 0
    assert held(resource, "SEI-USD") == 36.4


def test_a_live_exchange_account_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = account_manifest({})
    manifest["spec"]["exchange"] = {"name": "coinbase", "credentialsSecretRef": {"name": "cb"}}
    account = write(tmp_path / "a.yaml", manifest)
    code, out, err = run(capsys, "once", "-f", str(account), "--state-dir", str(tmp_path / "s"))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "spec.exchange.name" in err


def test_files_without_an_account_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = str(ROOT / "examples/policy.yaml")
    code, _, err = run(capsys, "once", "-f", policy, "--state-dir", str(tmp_path))
    assert code == 2
    assert len(err.splitlines()) == 1 and "exactly one TradingAccount" in err and policy in err


def test_max_positions_flag_overrides_the_policy_cap(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    capped = once_yaml(capsys, tmp_path / "a", "--now", NOW, "--dry-run")["status"]
    assert any("exceed the cap of 8" in b for b in capped["blockers"])
    raised = once_yaml(capsys, tmp_path / "b", "--now", NOW, "--dry-run", "--max-positions", "30")
    assert not any("exceed the cap" in b for b in raised["status"]["blockers"])


@pytest.mark.parametrize("value", ["150", "-1", "0.02", "101%"])
def test_dust_pct_outside_0_to_100_or_a_bare_fraction_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["once", *EXAMPLES, "--state-dir", str(tmp_path), "--dust-pct", value])
    assert exit_.value.code == 2
    assert "--dust-pct" in capsys.readouterr().err


def test_a_bare_fraction_is_refused_naming_both_readings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit):
        main(["once", *EXAMPLES, "--state-dir", str(tmp_path), "--dust-pct", "0.02"])
    err = capsys.readouterr().err
    assert "write 2 for 2 %" in err
    assert "0.02%" in err


@pytest.mark.parametrize(("value", "percent"), [("2", "2"), ("0.5%", "0.5"), ("0", "0")])
def test_dust_pct_is_the_policy_field_s_percent(tmp_path: Path, value: str, percent: str) -> None:
    args = build_parser().parse_args(
        ["once", *EXAMPLES, "--state-dir", str(tmp_path), "--dust-pct", value]
    )
    request = OnceRequest.from_args(args, load(args.filename))
    assert request.policy.dust.threshold_pct_of_account == Decimal(percent)


def test_default_output_is_a_human_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "once", *EXAMPLES, "--state-dir", str(tmp_path), "--now", NOW)
    assert code == 0
    assert out.startswith("TradingAccount default/documents: ")
    assert "Purge failures:" in out
    assert re.search(r"^  BONK-USD +1  next cycle$", out, flags=re.MULTILINE), out


def test_retry_clears_a_backoff_and_unfreeze_lifts_a_freeze_across_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for _ in range(3):
        resource = once_yaml(capsys, tmp_path, "--now", NOW)
    status = resource["status"]
    assert status["purgeFailures"]["BONK-USD"]["failureCount"] == 3
    assert status["frozenSymbols"]["AUT-USD"]["frozenAt"]
    skipped = once_yaml(capsys, tmp_path, "--now", NOW)["status"]["plan"]
    assert any(p["symbol"] == "BONK-USD" and p["action"] == "Skip" for p in skipped)

    resource = once_yaml(
        capsys, tmp_path, "--now", NOW, "--retry", "BONK-USD", "--unfreeze", "AUT-USD"
    )
    status = resource["status"]
    assert status["purgeFailures"]["BONK-USD"]["failureCount"] == 1  # retried, failed afresh
    assert "AUT-USD" not in status["frozenSymbols"] or not status["frozenSymbols"]["AUT-USD"].get(
        "frozenAt"
    )


def test_retry_rejects_something_that_is_not_a_product_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["once", *EXAMPLES, "--state-dir", str(tmp_path), "--retry", "not a symbol"])
    assert exited.value.code == 2


def test_once_shows_a_price_outage_as_unpriced_and_held_not_sold(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    account = account_manifest(
        {"USD": 1000, "SOL": 1}, trackedPositions=[{"symbol": "SOL-USD", "entryPrice": 140}]
    )
    account["spec"]["exchange"]["paper"]["faults"] = [
        {"operation": "quote", "kind": "unavailable", "productId": "SOL-USD"}
    ]
    path = write(tmp_path / "account.yaml", account)
    code, out, err = run(capsys, "once", "-f", str(path), "--state-dir", str(tmp_path / "s"))
    assert code == 0, err
    assert "Dirty after 1 cycle(s)" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("  SOL-USD")]
    assert rows[0][0] == "SOL-USD" and rows[0][2] == "n/a"  # no price, not $0.00
    assert Decimal(rows[0][1]) == 1  # shown at the product's increment
    assert rows[1][:5] == ["SOL-USD", "Skip", "-", "-", "-"]  # nothing to sell or preview
    assert "price unknown" in " ".join(rows[1])
    assert "  - SOL-USD: price unknown this cycle: not verified" in out
    assert "PositionClosed" not in out and "PurgeStarted" not in out


def test_liquidate_without_force_of_a_symbol_in_backoff_exits_1_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """BONK fails on the documents' venue; after three failures it waits, and a liquidate
    without ``--force`` must not exit 0 as if it had sold."""
    for _ in range(3):
        once_yaml(capsys, tmp_path, "--now", NOW)
    argv = ["liquidate", *EXAMPLES, "--state-dir", str(tmp_path), "--now", NOW]
    code, _, err = run(capsys, *argv, "--symbol", "BONK-USD", "--all")
    assert code == 1
    assert err.startswith("cleanslate: liquidate sold no BONK-USD: ")
    assert "backoff" in err.lower() or "retry" in err.lower(), err
