"""The dashboard and the alerts query what a running operator exports: a real
``cleanslate operator`` cleans the documents' account on the paper exchange against a real
API server, and every metric name used in the Grafana dashboard and the PrometheusRule must
be on its /metrics page, with the suffix its type gives it (``_total`` for a counter,
``_bucket`` for a histogram). The gauges the alerts compare must carry the account's value.

tests/deploy/test_manifests.py checks the same names against the metric declarations; this
test catches what declarations cannot, such as a metric declared but never set."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from operator_process import OperatorProcess, wait_for
from prometheus_client.parser import text_string_to_metric_families

from cleanslate.localcluster import Kubectl

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
RUN_LABEL = "cleanslate.dev/test-run"
RUN_ID = uuid.uuid4().hex[:10]
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
PER_ACCOUNT_GAUGES_ALERTED_ON = {
    "cleanslate_purge_failure_count",
    "cleanslate_frozen_symbols",
    "cleanslate_balance_age_seconds",
    "cleanslate_balance_fetch_errors",
    "cleanslate_account_dirty_since_seconds",
    "cleanslate_open_positions",
    "cleanslate_max_positions",
    "cleanslate_exposure_ratio",
    "cleanslate_exposure_cap_ratio",
}


def used_names() -> set[str]:
    """Every cleanslate_* name in the dashboard's queries and the alert expressions."""
    dashboard = json.loads(
        (ROOT / "deploy" / "monitoring" / "cleanslate-dashboard.json").read_text()
    )
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = yaml.safe_load((ROOT / "helm" / "cleanslate" / "files" / "alerts.yaml").read_text())
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    return {name for expr in exprs for name in re.findall(r"\bcleanslate_[a-z_]+\b", expr)}


def exported(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The series names the page declares, and (name, account) of every sample."""
    names: set[str] = set()
    samples: set[tuple[str, str]] = set()
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        samples.update((s.name, s.labels.get("account", "")) for s in family.samples)
    return names, samples


@pytest.fixture(scope="module")
def operator(
    kubectl: Kubectl, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    kubectl("apply", "-f", str(ROOT / "crds"))
    for crd in ("tradingaccounts.cleanslate.dev", "purgepolicies.cleanslate.dev"):
        wait_for(
            partial(kubectl, "wait", "--for=condition=Established", f"crd/{crd}", "--timeout=10s"),
            60,
            f"CRD {crd} Established",
        )
    base = tmp_path_factory.mktemp("operator")
    process = OperatorProcess(
        kubeconfig, base / "state", base / "operator.log", selector=f"{RUN_LABEL}={RUN_ID}"
    )
    with process:
        yield process


def documents_account(namespace: str) -> list[dict[str, Any]]:
    """examples/: the documents' account (BONK fails its purges), Live on the paper exchange."""
    policy = yaml.safe_load((ROOT / "examples" / "policy.yaml").read_text())
    account = yaml.safe_load((ROOT / "examples" / "account.yaml").read_text())
    for obj in (policy, account):
        obj["metadata"]["namespace"] = namespace
    account["metadata"]["labels"] = {RUN_LABEL: RUN_ID}
    account["spec"]["mode"] = "Live"
    account["spec"]["intervalSeconds"] = 1
    return [policy, account]


def test_dashboard_and_alerts_use_only_metrics_a_running_operator_exports(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    for obj in documents_account(namespace):
        kubectl.apply(obj)
    name = "documents"

    def failure_exported() -> str | None:
        text = operator.metrics_text()
        return text if ("cleanslate_purge_failure_count", name) in exported(text)[1] else None

    text = wait_for(
        failure_exported, 90, "BONK's purge failure in the metrics", diagnose=operator.log_tail
    )
    names, samples = exported(text)
    missing = used_names() - names
    assert not missing, f"used in the dashboard or alerts, not exported: {sorted(missing)}"
    unset = {g for g in PER_ACCOUNT_GAUGES_ALERTED_ON if (g, name) not in samples}
    assert not unset, f"alerted on, but no value for the account: {sorted(unset)}"
    assert any(n == "cleanslate_accounts" for n, _ in samples), "absent() would fire"
    kubectl("delete", "ta", "--all", "-n", namespace, "--wait=false")
