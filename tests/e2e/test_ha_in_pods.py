"""High availability the way users install it: the chart's two replicas in pods on two nodes,
kopf peering between them, and the active pod deleted mid-purge.

The second node is a second containerd and kubelet named 127.0.0.2 (``LocalNode(name=...)``):
pods on the host network of one node would bind the same ports, and the scheduler puts no
two pods with the same host port on one node. With ``hostNetwork`` the chart binds the
operator's servers to the pod's IP (the node's address), so 127.0.0.1:8080 and
127.0.0.2:8080 are two sockets on this one host.

One paper ledger: each pod's emptyDir would give each replica its own paper account, and
the replica taking over would start the account afresh from its holdings. Here the state
volume (``volumes.state``) is one hostPath directory both pods mount (both nodes are this
host), so the ledger the survivor resumes is the one the deleted pod traded on, and the
test reads it at the end: no client order id twice, nothing sold beyond what was held.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cleanslate.localcluster import KubectlError
from cleanslate.localcluster.node import LocalNode

from .conftest import CHART, NAMESPACE, RELEASE, E2eCluster, values_file, wait_until
from .test_operator_in_a_pod import pods, ready, states

pytestmark = pytest.mark.e2e

SECOND_NODE = "127.0.0.2"
TENANT = "e2e-ha"
ACCOUNT = "handover"
HOLDINGS = {"USD": 150, "SEI": 60, "WLFI": 70}
RESTING = {
    # maker-first $5 slices that rest on a fixed pace (the adaptive pace would cross at
    # once), with short TTLs: a purge of several slices, each a few seconds of real time
    "pace": "fixed",
    "sliceUsd": 5,
    "makerFirstTtlSec": 3,
    "makerRetryTtlSec": 3,
    "makerTtlSec": 3,
    "replaceSeconds": 6,
    "pollIntervalSeconds": 0.5,
}
OPERATOR_UID = 10001
READY_SECONDS = 300.0
HANDOVER_SECONDS = 300.0


@pytest.fixture(scope="module")
def two_nodes(e2e: E2eCluster) -> Iterator[LocalNode]:
    """Node 127.0.0.2 with the image imported; removed (processes, mounts, cgroups, the Node
    object) after the module."""
    if e2e.plane is None or e2e.archive is None:
        pytest.skip("a second local node and a hostPath shared by both: the local cluster only")
    began = time.monotonic()
    node = LocalNode(e2e.plane, name=SECOND_NODE)
    try:
        node.start()
        node.import_image(e2e.archive)
        e2e.timings["second node (start, image import)"] = time.monotonic() - began
        yield node
        assert any("kubelet" in line for line in node.sockets()), "ss sees no socket of node 2"
        foreign = node.connections()
        assert not foreign, f"a process of node 2 reached a non-loopback address: {foreign}"
    finally:
        node.stop()
        e2e.kubectl("delete", "node", SECOND_NODE, "--ignore-not-found", "--wait=false")


@pytest.fixture(scope="module")
def shared_state() -> Iterator[Path]:
    """The state directory both replicas mount: owned by the operator's uid, under a parent
    it can traverse (pytest's own temp dirs are 0700)."""
    parent = Path(tempfile.mkdtemp(prefix="cleanslate-e2e-ha-"))
    parent.chmod(0o755)
    state = parent / "state"
    state.mkdir(mode=0o700)
    os.chown(state, OPERATOR_UID, OPERATOR_UID)
    try:
        yield state
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def pair(
    e2e: E2eCluster,
    two_nodes: LocalNode,
    shared_state: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[E2eCluster]:
    """The chart with two replicas (its default with peering) and the shared state volume."""
    values = values_file(
        tmp_path_factory.mktemp("ha-values"),
        e2e.platform_values(),
        {
            "replicaCount": 2,
            # the TWAP waits for real, so the purge is still going when its pod is deleted
            "extraArgs": ["--paper-time", "real"],
            "volumes": {"state": {"hostPath": {"path": str(shared_state), "type": "Directory"}}},
        },
    )
    began = time.monotonic()
    e2e.helm(
        "install", RELEASE, str(CHART),
        "--namespace", NAMESPACE, "--create-namespace",
        "-f", str(values), "--wait", "--timeout", f"{READY_SECONDS:.0f}s",
    )  # fmt: skip
    e2e.timings["helm install --wait (2 replicas, 2 nodes)"] = time.monotonic() - began
    try:
        yield e2e
    finally:
        # the account's finalizer needs the operator: delete it before the release goes, or
        # the next install's tests would find it
        attempt(e2e, "delete", "namespace", TENANT, "--ignore-not-found", "--timeout=110s")
        e2e.helm_run("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait")
        # --wait waits for the Deployment, not its pods: they must be gone while node 2
        # still runs (its kubelet confirms their end), and before the next module counts pods
        wait_until("the release's pods are gone", lambda: not pods(e2e), READY_SECONDS)


def attempt(e2e: E2eCluster, *args: str) -> str:
    """kubectl whose failure is reported, not raised (cleanup, explanations)."""
    try:
        return e2e.kubectl(*args)
    except KubectlError as exc:
        return str(exc)


def peers(e2e: E2eCluster) -> dict[str, int]:
    """The ClusterKopfPeering's live peers (pod name, from the chart's POD_ID) and their
    priorities: the highest acts, the others stand by."""
    out = e2e.kubectl("get", "clusterkopfpeering", RELEASE, "-o", "json")
    status: dict[str, Any] = json.loads(out).get("status") or {}
    return {pod: int(info["priority"]) for pod, info in status.items() if isinstance(info, dict)}


def active(e2e: E2eCluster) -> str:
    seen = peers(e2e)
    return max(seen, key=lambda pod: seen[pod])


def ledger(state: Path) -> dict[str, Any]:
    """The account's paper ledger (``<state>/<ns>_<name>/paper/<ns>%2F<name>.json``)."""
    [path] = (state / f"{TENANT}_{ACCOUNT}" / "paper").glob("*.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def orders_on(state: Path) -> list[dict[str, Any]]:
    """The ledger's orders, none while the account has no ledger yet."""
    try:
        found: list[dict[str, Any]] = ledger(state)["orders"]
    except ValueError:  # no file yet ([path] unpacks nothing)
        return []
    return found


def in_flight(e2e: E2eCluster) -> bool:
    out = e2e.kubectl("get", "ta", ACCOUNT, "-n", TENANT, "-o", "json")
    return bool(json.loads(out).get("status", {}).get("inFlight"))


def messages(e2e: E2eCluster, reason: str) -> list[str]:
    out = e2e.kubectl(
        "get", "events", "-n", TENANT, f"--field-selector=reason={reason}",
        "-o", "jsonpath={range .items[*]}{.message}{'\\n'}{end}",
    )  # fmt: skip
    return out.splitlines()


def explain(e2e: E2eCluster) -> str:
    table = e2e.kubectl("get", "tradingaccounts", "-A", "-o", "wide")
    pod_table = e2e.kubectl("get", "pods", "-n", NAMESPACE, "-o", "wide")
    logs = []
    for pod in pods(e2e):
        name = pod["metadata"]["name"]
        tail = attempt(e2e, "logs", "-n", NAMESPACE, name, "--tail=30")
        logs.append(f"--- {name} ---\n{tail}")
    return "\n".join([table, pod_table, *logs])


def test_deleting_the_active_pod_mid_purge_hands_the_account_over(
    pair: E2eCluster, two_nodes: LocalNode, shared_state: Path
) -> None:
    e2e = pair
    placed = {pod["spec"]["nodeName"]: pod for pod in pods(e2e)}
    assert sorted(placed) == ["127.0.0.1", SECOND_NODE], "one replica on each node"
    for node, pod in placed.items():
        assert ready(pod), pod["metadata"]["name"]
        assert pod["status"]["podIP"] == node  # the address its servers are bound to
    wait_until("both replicas are peers", lambda: len(peers(e2e)) == 2, READY_SECONDS)

    e2e.kubectl("create", "namespace", TENANT)
    e2e.kubectl(
        "apply", "-f", "-",
        input=json.dumps({
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "PurgePolicy",
            "metadata": {"name": "resting", "namespace": TENANT},
            "spec": {"execution": RESTING},
        }),
    )  # fmt: skip
    e2e.kubectl(
        "apply", "-f", "-",
        input=json.dumps({
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "TradingAccount",
            "metadata": {"name": ACCOUNT, "namespace": TENANT},
            "spec": {
                "policyRef": {"name": "resting"},
                "mode": "Live",
                "intervalSeconds": 5,
                "exchange": {
                    "paper": {"seed": 7, "market": "documents", "holdings": HOLDINGS}
                },
            },
        }),
    )  # fmt: skip
    wait_until(
        "a purge in flight, its orders on the shared ledger",
        lambda: in_flight(e2e) and bool(orders_on(shared_state)),
        HANDOVER_SECONDS,
        lambda: explain(e2e),
    )
    leader = active(e2e)
    [survivor] = [p["metadata"]["name"] for p in placed.values() if p["metadata"]["name"] != leader]
    before = orders_on(shared_state)

    began = time.monotonic()
    e2e.kubectl("delete", "pod", leader, "-n", NAMESPACE, "--wait=false")
    assert states(e2e).get(f"{TENANT}/{ACCOUNT}") != "Clean", "deleted mid-purge"
    wait_until(
        "the surviving replica acts (the deleted one left the peering)",
        lambda: leader not in peers(e2e) and active(e2e) == survivor,
        HANDOVER_SECONDS,
        lambda: f"{peers(e2e)}\n{explain(e2e)}",
    )
    wait_until(
        "the account is CLEAN under the surviving replica",
        lambda: states(e2e).get(f"{TENANT}/{ACCOUNT}") == "Clean",
        HANDOVER_SECONDS,
        lambda: explain(e2e),
    )
    e2e.timings["HA handover: delete to CLEAN"] = time.monotonic() - began
    assert active(e2e) == survivor
    # the survivor stood by until then (its watch paused): what it logs of the account is
    # the takeover's work
    log = e2e.kubectl("logs", "-n", NAMESPACE, survivor)
    assert any(ACCOUNT in line and TENANT in line for line in log.splitlines()), log[-3000:]

    resumed = [m for m in messages(e2e, "PurgeStarted") if "restarted mid-purge" in m]
    assert resumed, "the survivor resumed the purge left in flight (PurgeStarted: resuming)"

    after = ledger(shared_state)
    orders = after["orders"]
    client_ids = [order["clientOrderId"] for order in orders]
    assert len(client_ids) == len(set(client_ids)), f"a client order id twice: {client_ids}"
    # one ledger: every order of the deleted replica is still there, with what followed
    assert {o["orderId"] for o in before} <= {o["orderId"] for o in orders}
    sold: dict[str, Decimal] = {}
    for order in orders:
        if order["side"] == "SELL":
            base = order["productId"].split("-", 1)[0]
            sold[base] = sold.get(base, Decimal(0)) + Decimal(order["filledSize"])
    assert sold, "the purge sold something"
    for asset, quantity in sold.items():
        assert quantity <= HOLDINGS.get(asset, 0), (asset, quantity)
    assert all(Decimal(v) >= 0 for v in after["balances"].values()), after["balances"]
    # the deleted replica's replacement joins as a standby, not as a second actor
    wait_until(
        "the replacement pod is Ready",
        lambda: len([p for p in pods(e2e) if ready(p)]) == 2,
        READY_SECONDS,
        lambda: explain(e2e),
    )
    assert active(e2e) == survivor
