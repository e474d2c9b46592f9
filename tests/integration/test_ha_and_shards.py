"""High availability and sharding, with real ``cleanslate operator`` processes against
the local control plane.

Who reconciles an account is read from what each process exports: the operator that
reconciles it exports its per-account gauges (``cleanslate_account_clean{namespace,
account}``) on its own metrics port; an operator that never handled it exports none.
Every wait polls with a deadline; nothing sleeps for a fixed time.

- HA: two processes share a kopf peering (``--peering``). The one with the higher
  priority in the KopfPeering's status acts, the other's TradingAccount watch-stream
  stays paused (kopf's own log). After the active one is killed (SIGKILL, so its
  keep-alive expires rather than being withdrawn) the other resumes, reconciles a new
  generation and exports the account.
- Shards: two processes with disjoint ``--selector`` values; each exports exactly the
  account whose label matches, and both accounts get a status.
- The hand-back: the senior replica is frozen (SIGSTOP) mid-purge, the standby takes the
  purge over, the senior one is let go on (SIGCONT) and kopf hands the account back to it.
  The time with no order between the standby's last order and the senior one's next is
  read from the paper exchanges' own records and must stay under ``--stand-down-seconds``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from operator_process import SLOW_PURGE, wait_for
from operator_process import OperatorProcess as Replica
from test_operator import OPEN, account_manifest, own_orders, paper_state, policy_manifest, sold

from cleanslate.core.market import OrderStatus
from cleanslate.localcluster import Kubectl, KubectlError

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60.0
RECONCILE_SECONDS = 60.0
# kopf forgets a peer that stopped renewing after its lifetime (60 s) has passed.
TAKEOVER_SECONDS = 150.0
POLL_SECONDS = 0.5


def cleanslate_cli() -> list[str]:
    """The console script next to this interpreter, unless $CLEANSLATE_CLI names another."""
    configured = os.environ.get("CLEANSLATE_CLI")
    if configured:
        return [configured]
    script = Path(sys.executable).with_name("cleanslate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cleanslate.cli"]


@pytest.fixture(scope="module", autouse=True)
def operator_available() -> None:
    """Skip (not fail) while the operator is not written yet; its --help must list --peering."""
    code = "from cleanslate.operating.main import build_parser; build_parser().print_help()"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0 or "--peering" not in result.stdout:
        pytest.skip(f"`cleanslate operator` is not available yet: {result.stderr[-300:]}")


def eventually(
    check: Callable[[], bool],
    what: str,
    timeout: float,
    explain: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``check`` until it holds; on timeout, say what and ``explain()`` the state."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{explain()}")
        time.sleep(POLL_SECONDS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@dataclass
class OperatorProcess:
    """One ``cleanslate operator`` started by this test (and only ended by it)."""

    name: str
    process: subprocess.Popen[bytes]
    metrics_port: int
    liveness_port: int
    log: Path

    def healthy(self) -> bool:
        return http_get(f"http://127.0.0.1:{self.liveness_port}/healthz") is not None

    def exports(self, namespace: str, account: str) -> bool:
        """True when this process exports the account's gauges, i.e. reconciles it."""
        metrics = http_get(f"http://127.0.0.1:{self.metrics_port}/metrics") or ""
        wanted = f'account="{account}"'
        return any(
            line.startswith("cleanslate_account_clean{")
            and wanted in line
            and f'namespace="{namespace}"' in line
            for line in metrics.splitlines()
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def start_operator(kubeconfig: Path, tmp_path: Path) -> Iterator[Callable[..., OperatorProcess]]:
    started: list[OperatorProcess] = []

    def start(name: str, *args: str) -> OperatorProcess:
        metrics_port, liveness_port = free_port(), free_port()
        state_dir = tmp_path / f"state-{name}"
        state_dir.mkdir()
        log = tmp_path / f"{name}.log"
        argv = [
            *cleanslate_cli(),
            "operator",
            *args,
            f"--metrics-port={metrics_port}",
            f"--liveness-port={liveness_port}",
            f"--state-dir={state_dir}",
            "--log-format=plain",
        ]
        # POD_ID is kopf's peering identity (the Deployment sets it to the pod name).
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "POD_ID": name, "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as sink:
            process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=env)
        operator = OperatorProcess(name, process, metrics_port, liveness_port, log)
        started.append(operator)
        eventually(
            lambda: operator.healthy() or process.poll() is not None,
            f"{name} to serve /healthz",
            STARTUP_SECONDS,
        )
        assert process.poll() is None, f"{name} exited:\n{operator.logs()}"
        return operator

    yield start
    for operator in started:
        operator.stop()


@pytest.fixture(scope="module")
def crds(kubectl: Kubectl) -> None:
    files = [
        *sorted((ROOT / "crds").glob("*.yaml")),
        ROOT / "manifests/crds/kopf.dev_peerings.yaml",
    ]
    args = [arg for path in files for arg in ("-f", str(path))]
    kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=cleanslate-tests", *args
    )
    for crd in (
        "tradingaccounts.cleanslate.dev",
        "purgepolicies.cleanslate.dev",
        "kopfpeerings.kopf.dev",
    ):
        # `kubectl wait` fails outright while a new CRD has no status yet: poll it
        wait_for(
            partial(kubectl, "wait", "--for=condition=established", f"crd/{crd}", "--timeout=10s"),
            STARTUP_SECONDS,
            f"CRD {crd} established",
        )


def policy(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "PurgePolicy",
        "metadata": {"name": "default", "namespace": namespace},
        "spec": {},
    }


def account(namespace: str, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A paper account in DryRun mode: the operator reconciles it and trades nothing."""
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "DryRun",
            "intervalSeconds": 5,
            "exchange": {"name": "paper", "paper": {"seed": 7, "holdings": {"USD": 100}}},
        },
    }


def peering(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kopf.dev/v1",
        "kind": "KopfPeering",
        "metadata": {"name": name, "namespace": namespace},
    }


def observed(kubectl: Kubectl, namespace: str, name: str) -> bool:
    """The account's status reflects its current generation."""
    try:
        body = json.loads(kubectl("get", "ta", name, "-n", namespace, "-o", "json"))
    except KubectlError:
        return False
    status = body.get("status") or {}
    return bool(status.get("observedGeneration") == body["metadata"]["generation"])


def peers(kubectl: Kubectl, namespace: str, name: str) -> dict[str, dict[str, Any]]:
    """The live keep-alives in a KopfPeering's status, by identity (our POD_ID)."""
    try:
        body = json.loads(kubectl("get", "kopfpeering", name, "-n", namespace, "-o", "json"))
    except KubectlError:
        return {}
    return {k: v for k, v in (body.get("status") or {}).items() if isinstance(v, dict)}


def acting(operator: OperatorProcess) -> bool:
    """Whether kopf lets this process handle accounts now. A peer that must stand by has
    its TradingAccount watch-stream paused (and its daemons stopped); kopf logs each pause
    and resume at debug level (``--verbose``), and the last word counts."""
    log = operator.log.read_text(errors="replace")
    resumed = log.rfind("Resuming the watch-stream for tradingaccounts")
    return resumed > log.rfind("Pausing the watch-stream for tradingaccounts")


def bump(kubectl: Kubectl, namespace: str, name: str, interval: int) -> None:
    patch = json.dumps({"spec": {"intervalSeconds": interval}})
    kubectl("patch", "ta", name, "-n", namespace, "--type=merge", "-p", patch)


def test_one_peer_acts_and_the_other_takes_over_when_it_is_killed(
    kubectl: Kubectl, crds: None, namespace: str, start_operator: Callable[..., OperatorProcess]
) -> None:
    kubectl.apply(policy(namespace))
    kubectl.apply(peering(namespace, "ha"))
    kubectl.apply(account(namespace, "alice"))
    args = ("--namespace", namespace, "--peering", "ha", "--verbose")
    first = start_operator("first", *args)
    eventually(
        lambda: acting(first) and first.exports(namespace, "alice"),
        "the first peer to act",
        RECONCILE_SECONDS,
        first.logs,
    )
    second = start_operator("second", *args)
    eventually(
        lambda: set(peers(kubectl, namespace, "ha")) >= {"first", "second"},
        "both peers to register in the KopfPeering",
        RECONCILE_SECONDS,
        lambda: f"{peers(kubectl, namespace, 'ha')}\n{first.logs()}\n{second.logs()}",
    )
    priorities = {k: v.get("priority", 0) for k, v in peers(kubectl, namespace, "ha").items()}
    assert priorities["first"] != priorities["second"], (
        f"equal peering priorities {priorities}: kopf pauses every peer of the same priority, "
        "so each operator process needs a distinct one"
    )
    standby, active = sorted([first, second], key=lambda op: priorities[op.name])
    eventually(
        lambda: acting(active) and not acting(standby),
        f"only {active.name} (priority {priorities[active.name]}) to act",
        RECONCILE_SECONDS,
        lambda: f"{active.logs()}\n---\n{standby.logs()}",
    )
    bump(kubectl, namespace, "alice", 6)
    eventually(lambda: observed(kubectl, namespace, "alice"), "the active peer", RECONCILE_SECONDS)
    eventually(lambda: active.exports(namespace, "alice"), "the active peer's metrics", 30)
    assert not acting(standby), standby.logs()

    active.stop(signal.SIGKILL)
    bump(kubectl, namespace, "alice", 7)
    eventually(
        lambda: acting(standby) and observed(kubectl, namespace, "alice"),
        f"{standby.name} to take over",
        TAKEOVER_SECONDS,
        standby.logs,
    )
    eventually(lambda: standby.exports(namespace, "alice"), "the new active's metrics", 30)


def test_shards_with_disjoint_selectors_each_own_only_their_accounts(
    kubectl: Kubectl, crds: None, namespace: str, start_operator: Callable[..., OperatorProcess]
) -> None:
    kubectl.apply(policy(namespace))
    for shard in ("a", "b"):
        kubectl.apply(peering(namespace, f"shard-{shard}"))
    kubectl.apply(account(namespace, "alice", {"cleanslate.dev/shard": "a"}))
    kubectl.apply(account(namespace, "bob", {"cleanslate.dev/shard": "b"}))
    shard_a = start_operator(
        "shard-a",
        "--namespace",
        namespace,
        "--selector",
        "cleanslate.dev/shard=a",
        "--peering",
        "shard-a",
    )
    shard_b = start_operator(
        "shard-b",
        "--namespace",
        namespace,
        "--selector",
        "cleanslate.dev/shard=b",
        "--peering",
        "shard-b",
    )
    eventually(
        lambda: shard_a.exports(namespace, "alice") and shard_b.exports(namespace, "bob"),
        "each shard to reconcile its account",
        RECONCILE_SECONDS,
    )
    for name in ("alice", "bob"):
        eventually(partial(observed, kubectl, namespace, name), name, RECONCILE_SECONDS)
    # Ownership is stable, not a race that happened to look right once.
    kubectl(
        "patch",
        "ta",
        "alice",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"spec": {"intervalSeconds": 6}}',
    )
    eventually(
        lambda: observed(kubectl, namespace, "alice"), "alice's new generation", RECONCILE_SECONDS
    )
    assert not shard_a.exports(namespace, "bob"), shard_a.logs()
    assert not shard_b.exports(namespace, "alice"), shard_b.logs()


STAND_DOWN = 30
"""``--stand-down-seconds`` in the hand-back test: long next to a hand-back that works
(seconds), so a replica that waits it out fails the test plainly."""
PEERING_LIFETIME = 10
SEI = 400


def replica(kubeconfig: Path, base: Path, namespace: str, name: str, priority: int) -> Replica:
    """One HA replica with its own paper venue (its state directory): a frozen process holds
    its venue's state in memory, so two live processes cannot share one file."""
    return Replica(
        kubeconfig,
        base / f"state-{name}",
        base / f"{name}.log",
        namespaces=[namespace],
        paper_time="real",
        extra_args=(
            "--log-format=plain",
            "--peering=handback",
            f"--peering-priority={priority}",
            f"--peering-lifetime-seconds={PEERING_LIFETIME}",
            f"--stand-down-seconds={STAND_DOWN}",
            "--verbose",
        ),
        env={"POD_ID": name},
    )


def placed(order: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(order["createdAt"])


def closed(order: dict[str, Any]) -> datetime:
    """When an order could rest until at the latest, by the venue's record: when it was
    cancelled or filled, else its good-till time (maker legs), else its placement (taker
    legs)."""
    if order["status"] == OrderStatus.FILLED.value and order["fills"]:
        return max(datetime.fromisoformat(f["at"]) for f in order["fills"])
    at = order.get("cancelledAt") or order.get("expiresAt") or order["createdAt"]
    return datetime.fromisoformat(at)


def account_state(kubectl: Kubectl, namespace: str, name: str) -> str | None:
    body = json.loads(kubectl("get", "ta", name, "-n", namespace, "-o", "json"))
    return (body.get("status") or {}).get("accountState")


def test_a_frozen_senior_replica_handed_the_account_back_sells_again_within_the_stand_down(
    kubectl: Kubectl, crds: None, namespace: str, kubeconfig: Path, tmp_path: Path
) -> None:
    ns, name = namespace, "handback"
    kubectl.apply(policy_manifest(ns, **SLOW_PURGE))
    kubectl.apply(peering(ns, "handback"))
    senior = replica(kubeconfig, tmp_path, ns, "senior", 100).start()
    standby = replica(kubeconfig, tmp_path, ns, "standby", 50)

    def logs() -> str:
        return f"{senior.log_tail(60)}\n{standby.log_tail(60)}"

    try:
        kubectl.apply(
            account_manifest(ns, name, {"USD": 150, "SEI": SEI}, labelled=False, interval=3600)
        )
        wait_for(
            lambda: own_orders(senior.state_dir, ns, name),
            RECONCILE_SECONDS,
            "the senior replica's purge under way",
            diagnose=logs,
        )
        standby.start()
        senior.pause()
        try:
            wait_for(
                lambda: len(own_orders(standby.state_dir, ns, name)) >= 2,
                RECONCILE_SECONDS,
                "the standby to take the purge over",
                diagnose=logs,
            )
        finally:
            resumed_at = datetime.now().astimezone()
            senior.resume()

        def senior_sells_again() -> list[dict[str, Any]]:
            return [o for o in own_orders(senior.state_dir, ns, name) if placed(o) >= resumed_at]

        wait_for(
            senior_sells_again, RECONCILE_SECONDS, "the senior replica to sell again", diagnose=logs
        )
        wait_for(
            lambda: account_state(kubectl, ns, name) == "Clean",
            TAKEOVER_SECONDS,
            "the account Clean",
            diagnose=logs,
        )
    finally:
        standby.stop()
        senior.stop()

    by_senior, by_standby = (
        own_orders(senior.state_dir, ns, name),
        own_orders(standby.state_dir, ns, name),
    )
    first_again = min(map(placed, senior_sells_again()))
    last_of_standby = max(map(placed, by_standby))
    gap = (first_again - last_of_standby).total_seconds()
    # one placer at a time: the standby placed nothing once the senior one sold again, and
    # every order it placed was closed (cancelled, expired, filled) before that
    assert gap > 0, f"both replicas placed orders at once (gap {gap:.1f}s)"
    still_out = [o["clientOrderId"] for o in by_standby if closed(o) > first_again]
    assert still_out == [], f"the standby's orders were still out: {still_out}"
    assert gap < STAND_DOWN, (
        f"{gap:.1f}s with no order after the hand-back, not under the stand-down period "
        f"({STAND_DOWN}s)\n{logs()}"
    )
    assert "released the account" in standby.log_text(), logs()
    assert "handed back" in senior.log_text(), logs()
    ids = [o["clientOrderId"] for o in (*by_senior, *by_standby)]
    assert len(ids) == len(set(ids)), "a client order id was placed twice"
    for venue in (senior, standby):  # each replica's paper venue: nothing sold beyond it
        mine = own_orders(venue.state_dir, ns, name)
        assert sold(mine, "SEI-USD") <= SEI, f"{venue.log_path.stem} sold more SEI than held"
        assert all(o["status"] != OPEN for o in mine), f"{venue.log_path.stem} left an order"
        assert Decimal(paper_state(venue.state_dir, ns, name)["balances"].get("SEI", "0")) >= 0
