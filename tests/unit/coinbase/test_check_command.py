"""``cleanslate check -f account.yaml -f policy.yaml -f secret.yaml`` against the fake venue."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.cli import main
from cleanslate.cli.checking import run_check
from cleanslate.cli.manifests import ManifestError, load
from cleanslate.clock import SimulatedClock

from . import fixtures as fx
from .fake_venue import FakeCoinbase


def coinbase_account(mode: str = "Live", **coinbase: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": "main", "namespace": "trading"},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": mode,
            "protectedSymbols": ["BONK-USD"],
            "exchange": {
                "name": "coinbase",
                "credentialsSecretRef": {"name": "coinbase-key"},
                "coinbase": coinbase,
            },
        },
    }


POLICY = {
    "apiVersion": "cleanslate.dev/v1alpha1",
    "kind": "PurgePolicy",
    "metadata": {"name": "default", "namespace": "trading"},
    "spec": {},
}
"""The policy the account names: the CLI never falls back to a default one."""


def secret(pem: str) -> dict[str, Any]:
    """A Secret as ``kubectl create secret generic --dry-run -o yaml`` writes it."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "coinbase-key", "namespace": "trading"},
        "data": {
            "apiKeyName": base64.b64encode(fx.KEY_NAME.encode()).decode(),
            "apiPrivateKey": base64.b64encode(pem.encode()).decode(),
        },
    }


def files(tmp_path: Path, *documents: dict[str, Any]) -> list[Path]:
    paths = []
    for n, document in enumerate(documents):
        path = tmp_path / f"doc{n}.yaml"
        path.write_text(yaml.safe_dump(document))
        paths.append(path)
    return paths


async def test_check_passes_a_good_key_and_skips_protected_products(
    tmp_path: Path, venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    manifests = load(files(tmp_path, coinbase_account(), POLICY, secret(private_key_pem)))

    report = await run_check(manifests, clock, venue.transport())

    assert report.exit_code == 0, report.text
    assert "SEI-USD" in report.text and "BONK-USD" not in report.text  # BONK is protected
    assert report.text.endswith("preflight passed: 0 errors, 0 warnings")


async def test_check_fails_when_the_key_is_scoped_to_another_portfolio(
    tmp_path: Path, venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    account = coinbase_account(portfolioId="b1d6a3e2-0000-4000-8000-000000000001")
    manifests = load(files(tmp_path, account, POLICY, secret(private_key_pem)))

    report = await run_check(manifests, clock, venue.transport())

    assert report.exit_code == 1 and "FAILED" in report.text


async def test_check_without_the_secret_file_is_a_usage_error(
    tmp_path: Path, clock: SimulatedClock
) -> None:
    manifests = load(files(tmp_path, coinbase_account(), POLICY))

    with pytest.raises(ManifestError, match="coinbase-key"):
        await run_check(manifests, clock)


def test_check_of_a_paper_account_has_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = coinbase_account()
    account["spec"]["exchange"] = {"name": "paper"}

    code = main(["check", *(a for p in files(tmp_path, account, POLICY) for a in ("-f", str(p)))])

    assert code == 0 and "paper exchange needs no preflight" in capsys.readouterr().out


def test_check_with_a_missing_secret_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["check", *(a for p in files(tmp_path, coinbase_account(), POLICY) for a in ("-f", str(p)))]
    )

    assert code == 2 and "coinbase-key" in capsys.readouterr().err
