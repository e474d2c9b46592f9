"""The Argo CD health scripts, run on sample objects with Lua 5.1 (what Argo CD's
gopher-lua implements) from the ``lupa`` package, the way Argo CD runs them: the
object as a global table ``obj``, the script's return value the health."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

lua51 = pytest.importorskip("lupa.lua51")

ARGOCD_DIR = Path(__file__).resolve().parents[2] / "deploy" / "argocd"
ACCOUNT_SCRIPT = ARGOCD_DIR / "tradingaccount-health.lua"
POLICY_SCRIPT = ARGOCD_DIR / "purgepolicy-health.lua"
ARGOCD_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


def run_health(script: Path, obj: dict[str, Any]) -> tuple[str, str]:
    """Evaluate ``script`` with ``obj`` bound as Argo CD binds it; return (status, message)."""
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script.read_text())
    status, message = result["status"], result["message"]
    assert status in ARGOCD_STATUSES
    assert isinstance(message, str) and message
    return status, message


def condition(
    type_: str, status: str, reason: str = "AsExpected", message: str = ""
) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-11-23T12:00:00Z",
        "observedGeneration": 3,
    }


def account(
    *conditions: dict[str, Any],
    generation: int = 3,
    observed: int | None = 3,
    state: str | None = "Clean",
    suspend: bool = False,
) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": list(conditions), "accountState": state}
    if observed is not None:
        status["observedGeneration"] = observed
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": "alice", "namespace": "tenant-a", "generation": generation},
        "spec": {"policyRef": {"name": "default"}, "suspend": suspend},
        "status": status,
    }


READY = condition("Ready", "True", "Clean", "account is clean")


def test_ready_account_for_the_current_generation_is_healthy() -> None:
    obj = account(READY, condition("Reconciling", "False"), condition("Stalled", "False"))
    status, message = run_health(ACCOUNT_SCRIPT, obj)
    assert status == "Healthy"
    assert "account is clean" in message and "Clean" in message


def test_account_without_status_is_progressing() -> None:
    obj = account()
    del obj["status"]
    assert run_health(ACCOUNT_SCRIPT, obj)[0] == "Progressing"


def test_account_with_empty_conditions_is_progressing() -> None:
    assert run_health(ACCOUNT_SCRIPT, account(observed=None))[0] == "Progressing"


def test_unobserved_generation_is_progressing_even_when_ready() -> None:
    status, message = run_health(ACCOUNT_SCRIPT, account(READY, generation=4, observed=3))
    assert status == "Progressing"
    assert "generation 4" in message


def test_missing_observed_generation_is_progressing() -> None:
    assert run_health(ACCOUNT_SCRIPT, account(READY, observed=None))[0] == "Progressing"


def test_reconciling_account_is_progressing() -> None:
    obj = account(
        condition("Ready", "False", "Cleaning"),
        condition("Reconciling", "True", "Purging", "purging SEI-USD"),
        state="Cleaning",
    )
    assert run_health(ACCOUNT_SCRIPT, obj) == ("Progressing", "purging SEI-USD")


def test_stalled_account_is_degraded() -> None:
    obj = account(
        condition("Ready", "False", "PurgeFailed"),
        condition("Reconciling", "True", "Purging"),
        condition("Stalled", "True", "PurgeFailed", "BONK-USD failed 5 times"),
        state="Dirty",
    )
    assert run_health(ACCOUNT_SCRIPT, obj) == ("Degraded", "BONK-USD failed 5 times")


@pytest.mark.parametrize("reason", ["PolicyMissing", "SpecInvalid", "CredentialsMissing"])
def test_ready_false_with_an_error_reason_is_degraded(reason: str) -> None:
    obj = account(condition("Ready", "False", reason), state="Dirty")
    assert run_health(ACCOUNT_SCRIPT, obj)[0] == "Degraded"


def test_ready_false_in_error_state_is_degraded() -> None:
    obj = account(condition("Ready", "False", "Whatever", "exchange said no"), state="Error")
    status, message = run_health(ACCOUNT_SCRIPT, obj)
    assert status == "Degraded"
    assert "exchange said no" in message


@pytest.mark.parametrize("type_", ["PolicyResolved", "CredentialsReady"])
def test_unresolved_policy_or_credentials_is_degraded(type_: str) -> None:
    obj = account(
        condition("Ready", "False", "Dirty"),
        condition(type_, "False", "NotFound", f"{type_} failed"),
        state="Dirty",
    )
    assert run_health(ACCOUNT_SCRIPT, obj) == ("Degraded", f"{type_} failed")


def test_dirty_account_waiting_for_its_next_cycle_is_progressing() -> None:
    obj = account(condition("Ready", "False", "Dirty", "2 positions to purge"), state="Dirty")
    status, message = run_health(ACCOUNT_SCRIPT, obj)
    assert status == "Progressing"
    assert "2 positions to purge" in message and "Dirty" in message


def test_suspended_account_is_suspended_whatever_its_conditions() -> None:
    obj = account(condition("Stalled", "True", "PurgeFailed"), suspend=True, state="Suspended")
    assert run_health(ACCOUNT_SCRIPT, obj)[0] == "Suspended"


def test_account_being_deleted_is_progressing() -> None:
    obj = account(READY)
    obj["metadata"]["deletionTimestamp"] = "2026-11-23T12:00:00Z"
    assert run_health(ACCOUNT_SCRIPT, obj)[0] == "Progressing"


def policy() -> dict[str, Any]:
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "PurgePolicy",
        "metadata": {"name": "default", "namespace": "tenant-a", "generation": 1},
        "spec": {"minLiquidationValueUsd": 5, "universe": {"excludedSymbols": ["BONK-USD"]}},
    }


def test_stored_policy_is_healthy() -> None:
    assert run_health(POLICY_SCRIPT, policy())[0] == "Healthy"


def test_policy_with_a_false_validity_condition_is_degraded() -> None:
    obj = policy()
    obj["status"] = {"conditions": [condition("Valid", "False", "Invalid", "tiers overlap")]}
    assert run_health(POLICY_SCRIPT, obj) == ("Degraded", "tiers overlap")


def test_policy_being_deleted_is_progressing() -> None:
    obj = copy.deepcopy(policy())
    obj["metadata"]["deletionTimestamp"] = "2026-11-23T12:00:00Z"
    assert run_health(POLICY_SCRIPT, obj)[0] == "Progressing"


def test_argocd_cm_snippet_embeds_the_scripts_verbatim() -> None:
    snippet = yaml.safe_load((ARGOCD_DIR / "argocd-cm-snippet.yaml").read_text())
    assert snippet["kind"] == "ConfigMap" and snippet["metadata"]["name"] == "argocd-cm"
    data = snippet["data"]
    key = "resource.customizations.health.cleanslate.dev_"
    assert data[key + "TradingAccount"] == ACCOUNT_SCRIPT.read_text()
    assert data[key + "PurgePolicy"] == POLICY_SCRIPT.read_text()


def test_example_application_points_at_the_chart() -> None:
    app = yaml.safe_load((ARGOCD_DIR / "application.yaml").read_text())
    assert app["kind"] == "Application"
    chart = Path(__file__).resolve().parents[2] / app["spec"]["source"]["path"] / "Chart.yaml"
    assert chart.is_file()
