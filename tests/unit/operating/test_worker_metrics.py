"""What a worker exports after a cycle is what the alerts and the dashboard compare: the
accounts-by-state count, and each cap next to the value it caps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.events import EventList
from cleanslate.metrics import Metrics
from cleanslate.operating.workers import AccountWorker, WorkerConfig

ROOT = Path(__file__).resolve().parents[3]


def documents(mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
    account = yaml.safe_load((ROOT / "examples" / "account.yaml").read_text())
    account["spec"]["mode"] = mode
    account["metadata"]["generation"] = 1
    policy = yaml.safe_load((ROOT / "examples" / "policy.yaml").read_text())
    return account, policy["spec"]


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def one_cycle(tmp_path: Path, mode: str) -> Metrics:
    account, policy = documents(mode)
    metrics = Metrics()
    worker = AccountWorker(
        "default", "documents", WorkerConfig(tmp_path, metrics, None), EventList()
    )
    await worker.cycle(account, lambda ns, name: policy)
    return metrics


def test_a_fresh_operator_exports_every_account_state_at_zero() -> None:
    metrics = Metrics()
    for state in ("Clean", "Dirty", "Cleaning", "Suspended", "Error"):
        assert value(metrics, "cleanslate_accounts", state=state) == 0


def test_accounts_are_counted_by_their_latest_state_and_forgotten_when_deleted() -> None:
    metrics = Metrics()
    metrics.set_account_state("a", "one", "Dirty")
    metrics.set_account_state("a", "two", "Dirty")
    metrics.set_account_state("a", "one", "Clean")
    metrics.set_account_state("a", "one", "Clean")  # every cycle reports it again
    assert value(metrics, "cleanslate_accounts", state="Dirty") == 1
    assert value(metrics, "cleanslate_accounts", state="Clean") == 1
    metrics.forget_account("a", "two")
    assert value(metrics, "cleanslate_accounts", state="Dirty") == 0


async def test_dry_run_documents_account_exports_its_state_and_caps(tmp_path: Path) -> None:
    metrics = await one_cycle(tmp_path, "DryRun")
    labels = {"namespace": "default", "account": "documents"}
    assert value(metrics, "cleanslate_accounts", state="Dirty") == 1
    # 14 non-quote positions against the policy's cap of 8: CleanslatePositionCapExceeded
    assert value(metrics, "cleanslate_open_positions", **labels) == 14
    assert value(metrics, "cleanslate_max_positions", **labels) == 8
    assert value(metrics, "cleanslate_exposure_cap_ratio", **labels) == pytest.approx(0.25)
    exposure = value(metrics, "cleanslate_exposure_ratio", **labels)
    assert exposure is not None and 0.25 < exposure < 1


async def test_deleted_account_leaves_no_cap_or_exposure_series(tmp_path: Path) -> None:
    metrics = await one_cycle(tmp_path, "DryRun")
    metrics.forget_account("default", "documents")
    labels = {"namespace": "default", "account": "documents"}
    for name in ("cleanslate_max_positions", "cleanslate_exposure_ratio"):
        assert value(metrics, name, **labels) is None
    assert value(metrics, "cleanslate_accounts", state="Dirty") == 0
