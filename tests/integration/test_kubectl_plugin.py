"""``kubectl cleanslate`` against a real API server, as the user kubectl would be.

The account's status is written through the status subresource as the operator would
write it (no operator needed to read it back), events are created as the operator posts
them, and every action is checked on the object the API server then holds. RBAC is the
API server's: a user with no role is refused, a read-only role reads but cannot act.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from operator_process import wait_for

from cleanslate.localcluster import Kubectl

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("kubectl-cleanslate")
RESTRICTED_USER = "cleanslate-restricted"
STATUS: dict[str, Any] = {
    "accountState": "Dirty",
    "mode": "Live",
    "totalValueUsd": 357.96,
    "positionCount": 8,
    "failureCount": 1,
    "cycles": 12,
    "lastCycle": {"startedAt": "2026-01-10T11:59:00Z", "durationSeconds": 1.5},
    "blockers": ["BONK-USD: not strategy-aligned: untracked: opened outside the system"],
    "purgeFailures": {
        "BONK-USD": {
            "failureCount": 3,
            "lastFailedAt": "2026-01-10T11:30:00Z",
            "nextRetryAt": "2099-01-01T00:00:00Z",
        }
    },
    "plan": [
        {"symbol": "BONK-USD", "action": "Skip", "reason": "backoff: 3 recent failures"},
        {
            "symbol": "SEI-USD",
            "action": "Purge",
            "quantity": 36.4,
            "valueUsd": 5.53,
            "reason": "ineligible (24h quote volume below floor): TWAP purge",
        },
    ],
    "cleanupMetrics": {"purgesSucceeded": 2, "purgesFailed": 3, "capitalFreedUsd": 13.7},
}


def plugin_command() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "cleanslate.plugin"]


def plugin(
    kubeconfig: Path, *args: str, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*plugin_command(), "--kubeconfig", str(kubeconfig), *args],
        input=answer if answer is not None else "",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def crds(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(ROOT / "crds"))
    for crd in ("tradingaccounts.cleanslate.dev", "purgepolicies.cleanslate.dev"):
        wait_for(
            partial(kubectl, "wait", "--for=condition=Established", f"crd/{crd}", "--timeout=10s"),
            60,
            f"CRD {crd} Established",
        )


@pytest.fixture
def account(crds: None, kubectl: Kubectl, namespace: str) -> Iterator[str]:
    """A Live account in ``namespace`` with the status the operator would have written
    (no operator runs here: nothing reconciles it, so nothing trades)."""
    name = f"acct-{uuid.uuid4().hex[:6]}"
    kubectl.apply(
        {
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "PurgePolicy",
            "metadata": {"name": "default", "namespace": namespace},
            "spec": {"unwind": {"fraction": 0.25, "cycles": 4}},
        }
    )
    kubectl.apply(
        {
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "TradingAccount",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"policyRef": {"name": "default"}, "mode": "Live"},
        }
    )
    kubectl(
        "patch", "ta", name, "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": STATUS}),
    )  # fmt: skip
    yield name


def get(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl("get", "ta", name, "-n", namespace, "-o", "json"))
    return obj


def annotations(kubectl: Kubectl, namespace: str, name: str) -> dict[str, str]:
    return dict(get(kubectl, namespace, name)["metadata"].get("annotations") or {})


def test_status_shows_the_account_its_blockers_and_next_retry(
    kubeconfig: Path, namespace: str, account: str
) -> None:
    result = plugin(kubeconfig, "status", "-n", namespace)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["NAME", "READY", "STATE", "MODE", "VALUE"]
    assert lines[1].split()[:5] == [account, "Unknown", "Dirty", "Live", "$357.96"]
    assert f"{namespace}/{account}: Dirty" in result.stdout
    assert "blocked by: BONK-USD: not strategy-aligned" in result.stdout
    assert "next: BONK-USD: 3 failed purge(s), retry at 2099-01-01T00:00:00Z" in result.stdout
    every = plugin(kubeconfig, "status", "-A")
    assert every.returncode == 0, every.stderr
    assert every.stdout.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert any(line.split()[:2] == [namespace, account] for line in every.stdout.splitlines())


def test_plan_is_the_last_plan_as_a_table(kubeconfig: Path, namespace: str, account: str) -> None:
    result = plugin(kubeconfig, "-n", namespace, "plan", account)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[2:4]}
    assert rows["SEI-USD"][:4] == ["SEI-USD", "Purge", "36.4", "$5.53"]
    assert rows["BONK-USD"][:4] == ["BONK-USD", "Skip", "-", "-"]
    assert result.stdout.splitlines()[-1] == "1 sale(s), sells about $5.53"


def test_retry_asks_on_a_live_account_and_annotates_only_on_yes(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, account: str
) -> None:
    declined = plugin(kubeconfig, "-n", namespace, "retry", account, "BONK-USD", answer="n\n")
    assert declined.returncode == 1
    assert "? [y/N]" in declined.stderr and "aborted: nothing changed" in declined.stderr
    assert "cleanslate.dev/retry-purge" not in annotations(kubectl, namespace, account)
    agreed = plugin(kubeconfig, "-n", namespace, "retry", account, "BONK-USD", answer="y\n")
    assert agreed.returncode == 0, agreed.stderr
    assert annotations(kubectl, namespace, account)["cleanslate.dev/retry-purge"] == "BONK-USD"
    more = plugin(kubeconfig, "-n", namespace, "retry", account, "SEI-USD", "--yes")
    assert more.returncode == 0, more.stderr
    merged = annotations(kubectl, namespace, account)["cleanslate.dev/retry-purge"]
    assert merged == "BONK-USD,SEI-USD"  # a retry not yet consumed is kept


def test_liquidate_refuses_a_symbol_in_backoff_unless_forced(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, account: str
) -> None:
    refused = plugin(kubeconfig, "-n", namespace, "liquidate", account, "BONK-USD", "--yes")
    assert refused.returncode == 1
    assert "BONK-USD is in backoff until 2099-01-01T00:00:00Z" in refused.stderr
    assert "--force" in refused.stderr
    assert "cleanslate.dev/liquidate" not in annotations(kubectl, namespace, account)
    forced = plugin(
        kubeconfig, "-n", namespace, "liquidate", account, "BONK-USD", "--force", "--yes"
    )
    assert forced.returncode == 0, forced.stderr
    assert annotations(kubectl, namespace, account)["cleanslate.dev/liquidate"] == "BONK-USD"


def test_unfreeze_and_a_bad_symbol(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, account: str
) -> None:
    bad = plugin(kubeconfig, "-n", namespace, "unfreeze", account, "not a symbol", "--yes")
    assert bad.returncode == 2 and "not a product id" in bad.stderr
    done = plugin(kubeconfig, "-n", namespace, "unfreeze", account, "AUT-USD", "--yes")
    assert done.returncode == 0, done.stderr
    assert annotations(kubectl, namespace, account)["cleanslate.dev/unfreeze"] == "AUT-USD"


def test_suspend_and_resume_edit_the_spec(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, account: str
) -> None:
    suspended = plugin(kubeconfig, "-n", namespace, "suspend", account)
    assert suspended.returncode == 0, suspended.stderr
    assert get(kubectl, namespace, account)["spec"]["suspend"] is True
    status = plugin(kubeconfig, "-n", namespace, "status", account)
    assert "suspended: no trading until `kubectl cleanslate resume`" in status.stdout
    resumed = plugin(kubeconfig, "-n", namespace, "resume", account, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert get(kubectl, namespace, account)["spec"]["suspend"] is False


def test_history_lists_events_oldest_first(
    kubeconfig: Path, kubectl: Kubectl, namespace: str, account: str
) -> None:
    uid = get(kubectl, namespace, account)["metadata"]["uid"]
    for name, when, reason, message in (
        ("b", "2026-01-10T11:05:00Z", "PurgeFailed", "Purge sell failed for BONK-USD"),
        ("a", "2026-01-10T11:00:00Z", "PurgeStarted", "purge: selling 889587 BONK"),
    ):
        kubectl.apply(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{account}.{name}", "namespace": namespace},
                "involvedObject": {
                    "apiVersion": "cleanslate.dev/v1alpha1",
                    "kind": "TradingAccount",
                    "name": account,
                    "namespace": namespace,
                    "uid": uid,
                },
                "reason": reason,
                "message": message,
                "type": "Normal",
                "firstTimestamp": when,
                "lastTimestamp": when,
                "count": 1,
                "source": {"component": "cleanslate"},
            }
        )
    result = plugin(kubeconfig, "-n", namespace, "history", account)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "PurgeStarted" in lines[2] and "PurgeFailed" in lines[3], lines
    assert lines[-1].startswith("purges: 2 succeeded, 3 failed;")


def test_rbac_decides_what_the_user_may_read_and_do(
    kubeconfig: Path,
    restricted_kubeconfig: Path | None,
    kubectl: Kubectl,
    namespace: str,
    account: str,
) -> None:
    if restricted_kubeconfig is None:
        pytest.skip("an existing cluster: no second user's credentials to act as")
    refused = plugin(restricted_kubeconfig, "-n", namespace, "status", account)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: forbidden: "), refused.stderr
    assert RESTRICTED_USER in refused.stderr
    kubectl(
        "create", "role", "ta-reader", "--verb=get,list",
        "--resource=tradingaccounts.cleanslate.dev", "-n", namespace,
    )  # fmt: skip
    kubectl(
        "create", "rolebinding", "ta-reader", "--role=ta-reader", f"--user={RESTRICTED_USER}",
        "-n", namespace,
    )  # fmt: skip
    wait_for(
        lambda: plugin(restricted_kubeconfig, "-n", namespace, "status", account).returncode == 0,
        30,
        "the RoleBinding to take effect",
    )
    acting = plugin(restricted_kubeconfig, "-n", namespace, "retry", account, "BONK-USD", "--yes")
    assert acting.returncode == 1
    assert acting.stderr.startswith("error: forbidden: "), acting.stderr
    assert "patch" in acting.stderr
    assert "cleanslate.dev/retry-purge" not in annotations(kubectl, namespace, account)


def test_kubectl_finds_the_plugin_on_path(
    kubectl: Kubectl, namespace: str, account: str, tmp_path: Path
) -> None:
    """``kubectl cleanslate`` is what people type: kubectl runs kubectl-cleanslate from PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "kubectl-cleanslate"
    command = " ".join(f"'{part}'" for part in plugin_command())
    wrapper.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    wrapper.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "KUBECONFIG": str(kubectl.kubeconfig),
    }
    result = subprocess.run(
        [str(kubectl.binary), "cleanslate", "status", "-n", namespace, account],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[0] == account
