"""A namespaced install as docs/install.md shows it: the operator runs with only the Roles
the chart renders for its tenant namespaces (no cluster rights) and starts serving accounts
at once. kopf used to retry the forbidden namespace and CRD listings nine times (~54 s of
backoff) before handling any account, while the pod was already Ready."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from operator_process import OperatorProcess, wait_for
from test_operator import account_manifest, crds, policy_manifest, state_of

from cleanslate.localcluster import Kubectl, ToolNotFoundError, find_tool

pytestmark = pytest.mark.cluster
__all__ = ["crds"]

ROOT = Path(__file__).resolve().parents[2]
KOPF_RETRIES_SECONDS = 54.0
"""kopf's backoffs for a forbidden listing before it gives up (1+1+2+3+5+8+13+21 s)."""


@pytest.fixture
def tenant(kubectl: Kubectl) -> Iterator[str]:
    name = f"tenant-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def operator_kubeconfig(kubeconfig: Path, token: str, target: Path) -> Path:
    """The admin kubeconfig's cluster with the operator's ServiceAccount token: the API
    server authorises every request with only the rights the account's Roles give."""
    config = yaml.safe_load(kubeconfig.read_text())
    for entry in config["users"]:
        entry["user"] = {"token": token}
    target.write_text(yaml.safe_dump(config))
    return target


def test_a_namespaced_operator_serves_its_accounts_without_waiting_for_kopf_retries(
    kubectl: Kubectl,
    kubeconfig: Path,
    crds: None,
    namespace: str,
    tenant: str,
    tmp_path: Path,
) -> None:
    try:
        helm = find_tool("helm")
    except ToolNotFoundError as exc:
        pytest.skip(str(exc))
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"watchNamespaces": [tenant], "metrics": {"secure": False}}))
    # the chart's Roles include the peering rule when peering is enabled (the default)
    rendered = subprocess.run(
        [str(helm), "template", "cleanslate", str(ROOT / "helm/cleanslate"), "-n", namespace,
         "-f", str(values)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    wanted = {"ServiceAccount", "Role", "RoleBinding"}
    objects = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] in wanted]
    rbac = tmp_path / "rbac.yaml"
    rbac.write_text(yaml.safe_dump_all(objects))
    kubectl("apply", "-f", str(rbac))
    kubectl.apply(policy_manifest(tenant))
    kubectl.apply(account_manifest(tenant, "first", {"USD": 150}, market="calm", labelled=False))
    token = kubectl("create", "token", "cleanslate", "-n", namespace).strip()
    config = operator_kubeconfig(kubeconfig, token, tmp_path / "operator.kubeconfig")
    kubectl("apply", "--server-side", "-f", str(ROOT / "manifests/crds/kopf.dev_peerings.yaml"))
    kubectl("wait", "--for=condition=Established", "crd/kopfpeerings.kopf.dev", "--timeout=60s")
    kubectl.apply(  # the chart's default: two replicas in one peering
        {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering",
         "metadata": {"name": "cleanslate", "namespace": tenant}}
    )  # fmt: skip
    process = OperatorProcess(
        config,
        tmp_path / "state",
        tmp_path / "operator.log",
        namespaces=[tenant],
        extra_args=["--peering", "cleanslate"],
    )
    started = time.monotonic()
    with process:
        wait_for(
            lambda: state_of(kubectl, tenant, "first", "Clean"),
            KOPF_RETRIES_SECONDS,
            "the account handled",
            diagnose=process.log_tail,
        )
        took = time.monotonic() - started
        log = process.log_tail()
        kubectl("delete", "ta", "first", "-n", tenant, "--wait=false")
        wait_for(
            lambda: not kubectl("get", "ta", "-n", tenant, "-o", "name").strip(),
            30,
            "the account deleted",
        )
    print(f"namespaced operator: first account Clean {took:.1f}s after start")
    assert took < KOPF_RETRIES_SECONDS / 2, f"{took:.1f}s\n{log}"
    assert "forbidden" not in log.lower() or "namespaces" not in log.lower(), log
