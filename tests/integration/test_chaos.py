"""Faults on the real control plane: a frozen leader, a paused or killed API server, manual
actions edited under a running cycle, edits made while the watch is down.

These tests own their control plane (``plane``), because they pause, kill and relaunch its
kube-apiserver; each leaves it serving. Operators run with ``--paper-time real`` where a purge
must be caught in flight, and with short timeouts set by flag (peering lifetime, stand-down,
API request timeout) rather than long waits. The paper exchange's state file is the record of
every order a process placed: who placed what, and when, is read from it. Every wait polls a
condition with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from operator_process import SLOW_PURGE, OperatorProcess, wait_for
from test_operator import account_manifest, own_orders, policy_manifest

from cleanslate.localcluster import Kubectl, LocalControlPlane, find_tool

pytestmark = [pytest.mark.cluster, pytest.mark.chaos]

ROOT = Path(__file__).resolve().parents[2]
SETTLE = 60.0
APISERVER = "kube-apiserver"


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plane() -> Iterator[LocalControlPlane]:
    with LocalControlPlane() as started:
        yield started


@pytest.fixture(scope="module")
def kubectl(plane: LocalControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    ctl = Kubectl(
        find_tool("kubectl", root=plane.tools_dir),
        plane.kubeconfig,
        tmp_path_factory.mktemp("kcache"),
    )
    ctl(
        "apply", "-f", str(ROOT / "crds"), "-f", str(ROOT / "manifests/crds/kopf.dev_peerings.yaml")
    )
    wait_for(
        lambda: ctl("wait", "--for=condition=Established", "crd", "--all", "--timeout=10s"),
        60,
        "the CRDs Established",
    )
    return ctl


@pytest.fixture
def namespace(kubectl: Kubectl) -> str:
    name = f"chaos-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    return name


@pytest.fixture
def apiserver_serving(plane: LocalControlPlane) -> Iterator[None]:
    """Whatever a test did to the API server, the next test finds it serving."""
    yield
    process = plane.process(APISERVER)
    if process.exit_code() is not None:
        plane.relaunch(APISERVER)
    else:
        process.resume()


def operator(
    plane: LocalControlPlane, tmp_path: Path, name: str, namespace: str, *args: str
) -> OperatorProcess:
    return OperatorProcess(
        plane.kubeconfig,
        tmp_path / f"state-{name}",
        tmp_path / f"{name}.log",
        namespaces=[namespace],
        paper_time="real",
        extra_args=("--log-format=plain", *args),
        env={"POD_ID": name},
    )


# --- helpers --------------------------------------------------------------------------------


def get(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl("get", "ta", name, "-n", ns, "-o", "json"))
    return obj


def status(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any]:
    return get(kubectl, ns, name).get("status") or {}


def event_messages(kubectl: Kubectl, ns: str, name: str, reason: str) -> list[str]:
    raw = kubectl(
        "get", "events", "-n", ns, f"--field-selector=involvedObject.name={name}", "-o", "json"
    )
    return [e.get("message", "") for e in json.loads(raw)["items"] if e.get("reason") == reason]


def created(order: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(order["createdAt"])


def slices(orders: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Slice numbers used per attempt, from client ids ``cs-<hash>-a<attempt>-s<slice>-<leg>``."""
    used: dict[str, set[int]] = {}
    for order in orders:
        _, _, attempt, number, _ = str(order["clientOrderId"]).split("-")
        used.setdefault(attempt, set()).add(int(number[1:]))
    return {attempt: sorted(numbers) for attempt, numbers in used.items()}


class StatusSampler:
    """Reads the account's status counters in the background for the whole test: a stale
    writer shows up as a counter going backwards between two samples."""

    COUNTERS = ("writeSequence", "cycles", "nextAttempt")

    def __init__(self, kubectl: Kubectl, ns: str, name: str) -> None:
        self.kubectl, self.ns, self.name = kubectl, ns, name
        self.samples: list[tuple[int, ...]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StatusSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            try:
                st = status(self.kubectl, self.ns, self.name)
            except Exception:  # the API server may be away: a gap in the samples
                continue
            if st:
                self.samples.append(tuple(int(st.get(k) or 0) for k in self.COUNTERS))

    def backwards(self) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        pairs = itertools.pairwise(self.samples)
        return [(a, b) for a, b in pairs if any(y < x for x, y in zip(a, b, strict=True))]


# --- 1. a frozen leader does not trade beside its successor -----------------------------------


def test_a_frozen_leader_resumed_beside_its_successor_places_no_order_and_stands_down(
    plane: LocalControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    ns, name = namespace, "frozen"
    kubectl.apply({**policy_manifest(ns, **SLOW_PURGE)})
    kubectl.apply(
        {
            "apiVersion": "kopf.dev/v1",
            "kind": "KopfPeering",
            "metadata": {"name": "ha", "namespace": ns},
        }
    )
    flags = (
        "--peering=ha",
        "--peering-lifetime-seconds=10",
        "--stand-down-seconds=5",
        "--verbose",
    )
    first = operator(plane, tmp_path, "first", ns, *flags).start()
    second = operator(plane, tmp_path, "second", ns, *flags)
    try:
        kubectl.apply(
            account_manifest(ns, name, {"USD": 150, "SEI": 400}, labelled=False, interval=3600)
        )
        wait_for(
            lambda: own_orders(first.state_dir, ns, name),
            SETTLE,
            "the first replica's purge under way",
            diagnose=first.log_tail,
        )
        second.start()
        with StatusSampler(kubectl, ns, name) as sampler:
            first.pause()
            try:
                wait_for(
                    lambda: len(own_orders(second.state_dir, ns, name)) >= 2,
                    SETTLE,
                    "the second replica to take over the purge",
                    diagnose=second.log_tail,
                )
            finally:
                resumed_at = datetime.now().astimezone()
                first.resume()
            wait_for(
                lambda: status(kubectl, ns, name).get("accountState") == "Clean",
                SETTLE * 2,
                "the account Clean",
                diagnose=lambda: f"{first.log_tail()}\n{second.log_tail()}",
            )
    finally:
        first.stop()
        second.stop()
    by_first = own_orders(first.state_dir, ns, name)
    by_second = own_orders(second.state_dir, ns, name)
    after_resume = [o for o in by_first if created(o) >= resumed_at]
    assert after_resume or by_second, "nobody finished the purge"
    # one writer of orders at a time: where the placing replica changes, the new one's order
    # comes after the other's last order could no longer rest (its good-till time). Checked up
    # to the resumed replica's last order; later, kopf may hand the account back and forth
    # between the peers, and each of them sells on its own paper exchange.
    until = max(map(created, after_resume)) if after_resume else resumed_at
    timeline = sorted(
        [("first", o) for o in by_first] + [("second", o) for o in by_second],
        key=lambda item: created(item[1]),
    )
    pairs = itertools.pairwise(timeline)
    overlaps = [
        (a[0], a[1]["clientOrderId"], b[0], b[1]["clientOrderId"])
        for a, b in pairs
        if a[0] != b[0] and created(b[1]) <= until and created(b[1]) < ends(a[1])
    ]
    assert overlaps == [], f"both replicas had orders out at once: {overlaps}"
    ids = [o["clientOrderId"] for o in (*by_first, *by_second)]
    assert len(ids) == len(set(ids)), "a client order id was placed by both replicas"
    assert sampler.samples and sampler.backwards() == [], "a stale write overwrote newer status"
    assert "standing down" in first.log_text(), "the resumed replica never found itself stale"


def ends(order: dict[str, Any]) -> datetime:
    """When an order could rest until at the latest: when it was cancelled, else its
    good-till time (maker legs), or its placement (immediate-or-cancel taker legs)."""
    cancelled, expires = order.get("cancelledAt"), order.get("expiresAt")
    if cancelled:
        return datetime.fromisoformat(cancelled)
    return datetime.fromisoformat(expires) if expires else created(order)


# --- 2. a slow API server does not turn purges into failures ----------------------------------


def test_an_api_server_paused_longer_than_the_maker_ttl_causes_no_purge_failure(
    plane: LocalControlPlane,
    kubectl: Kubectl,
    namespace: str,
    tmp_path: Path,
    apiserver_serving: None,
) -> None:
    ns, name = namespace, "slow"
    kubectl.apply(policy_manifest(ns, **SLOW_PURGE))
    with operator(plane, tmp_path, "op", ns) as op:
        kubectl.apply(account_manifest(ns, name, {"USD": 150, "SEI": 400}, labelled=False))
        wait_for(lambda: own_orders(op.state_dir, ns, name), SETTLE, "a purge under way")
        apiserver = plane.process(APISERVER)
        placed = len(own_orders(op.state_dir, ns, name))
        apiserver.pause()
        try:
            # the purge reaches its next in-flight write and waits on it; keep the API server
            # paused well past the maker TTL (2 s) after that
            wait_for(
                lambda: all(o["status"] != "OPEN" for o in own_orders(op.state_dir, ns, name)),
                SETTLE,
                "the resting order to end while the API server is paused",
            )
            paused_until = time.monotonic() + 6
            wait_for(lambda: time.monotonic() >= paused_until, 10, "six seconds of pause")
            assert len(own_orders(op.state_dir, ns, name)) <= placed + 1
        finally:
            apiserver.resume()
        wait_for(
            lambda: status(kubectl, ns, name).get("accountState") == "Clean",
            SETTLE * 2,
            "the account Clean",
            diagnose=op.log_tail,
        )
        st = status(kubectl, ns, name)
        assert not st.get("purgeFailures"), st["purgeFailures"]
        assert event_messages(kubectl, ns, name, "PurgeFailed") == []
        assert "deciding slice" in op.log_text(), op.log_tail()


# --- 3. an API outage: a short growing backoff, one log line, slice numbers kept --------------


def test_an_api_server_killed_mid_purge_is_waited_for_briefly_and_logged_once(
    plane: LocalControlPlane,
    kubectl: Kubectl,
    namespace: str,
    tmp_path: Path,
    apiserver_serving: None,
) -> None:
    ns, name = namespace, "outage"
    kubectl.apply(policy_manifest(ns, **SLOW_PURGE))
    with operator(plane, tmp_path, "op", ns, "--api-timeout-seconds=2") as op:
        kubectl.apply(account_manifest(ns, name, {"USD": 150, "SEI": 400}, labelled=False))
        wait_for(lambda: own_orders(op.state_dir, ns, name), SETTLE, "a purge under way")
        apiserver = plane.process(APISERVER)
        apiserver.kill()
        killed = len(own_orders(op.state_dir, ns, name))
        outage_ends = time.monotonic() + 15
        wait_for(lambda: time.monotonic() >= outage_ends, 20, "a 15 s outage")
        # at most the order whose record was stored just before the kill goes out
        assert len(own_orders(op.state_dir, ns, name)) <= killed + 1
        plane.relaunch(APISERVER)
        back = time.monotonic()
        sequence = int(status(kubectl, ns, name).get("writeSequence") or 0)
        wait_for(
            lambda: int(status(kubectl, ns, name).get("writeSequence") or 0) > sequence,
            SETTLE,
            "a status write after the API server came back",
            diagnose=op.log_tail,
        )
        resumed_after = time.monotonic() - back
        wait_for(
            lambda: status(kubectl, ns, name).get("accountState") == "Clean",
            SETTLE * 2,
            "the account Clean",
            diagnose=op.log_tail,
        )
        log = op.log_text()
    assert resumed_after < 15, f"the operator resumed {resumed_after:.0f}s after the API returned"
    assert log.count("Kubernetes API unavailable") == 1, op.log_tail(80)
    assert "Traceback" not in log and "cycle failed" not in log, op.log_tail(80)
    for attempt, used in slices(own_orders(op.state_dir, ns, name)).items():
        assert used == list(range(1, len(used) + 1)), f"attempt {attempt} skipped slices: {used}"


# --- 4. manual actions exactly once ------------------------------------------------------------

RETRY = "cleanslate.dev/retry-purge"


def annotations(kubectl: Kubectl, ns: str, name: str) -> dict[str, str]:
    meta = get(kubectl, ns, name)["metadata"]
    return dict(meta.get("annotations") or {})


def test_the_same_manual_action_requested_again_right_after_removal_is_acted_on_again(
    plane: LocalControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    ns, name = namespace, "again"
    kubectl.apply(policy_manifest(ns))
    with operator(plane, tmp_path, "op", ns) as op:
        kubectl.apply(account_manifest(ns, name, {"USD": 150}, labelled=False, interval=3600))
        wait_for(lambda: status(kubectl, ns, name).get("accountState"), SETTLE, "a first cycle")
        for times in (1, 2):
            kubectl("annotate", "ta", name, "-n", ns, "--overwrite", f"{RETRY}=BONK-USD")
            wait_for(
                lambda: RETRY not in annotations(kubectl, ns, name),
                SETTLE,
                f"request {times} acted on and removed",
                diagnose=op.log_tail,
            )
            done = event_messages(kubectl, ns, name, "ManualRetry")
            assert len(done) == times, done


def test_an_annotation_overwritten_while_a_cycle_runs_is_answered_not_dropped(
    plane: LocalControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    """The new value must outlive the cycle that handled the old one, until a cycle answers
    it. Here the next cycle cannot act (its policy is gone for a moment): a manual action
    waits for nothing (issue 27), so it is refused now, with an event naming it, and removed,
    never silently dropped and never kept to act on later."""
    ns, name = namespace, "overwritten"
    ttl = {"makerFirstTtlSec": 6, "makerRetryTtlSec": 6, "makerTtlSec": 6, "replaceSeconds": 12}
    policy = policy_manifest(ns, execution={**SLOW_PURGE["execution"], **ttl})
    kubectl.apply(policy)

    def acted_on(symbol: str) -> bool:
        return any(m.startswith(symbol) for m in event_messages(kubectl, ns, name, "ManualRetry"))

    def refused(symbol: str) -> bool:
        return any(
            m.startswith(f"retry {symbol} refused")
            for m in event_messages(kubectl, ns, name, "ManualRetry")
        )

    with operator(plane, tmp_path, "op", ns) as op:
        manifest = account_manifest(
            ns, name, {"USD": 150, "BONK": 889587}, labelled=False, interval=3600
        )
        manifest["metadata"]["annotations"] = {RETRY: "SEI-USD"}
        kubectl.apply(manifest)
        wait_for(
            lambda: acted_on("SEI-USD"), SETTLE, "the first request acted on", diagnose=op.log_tail
        )
        # the cycle that acted on it still works BONK's resting order: a new request now
        kubectl("annotate", "ta", name, "-n", ns, "--overwrite", f"{RETRY}=ADA-USD")
        kubectl("delete", "purgepolicy", policy["metadata"]["name"], "-n", ns)
        wait_for(
            lambda: refused("ADA-USD"),
            SETTLE,
            "the new request refused by the halted account",
            diagnose=op.log_tail,
        )
        wait_for(
            lambda: RETRY not in annotations(kubectl, ns, name),
            SETTLE,
            "the refused request removed",
        )
        assert not acted_on("ADA-USD")


# --- 5. an edit made while the watch is down wakes the account --------------------------------


def test_a_spec_edit_made_while_the_watch_was_down_wakes_the_account_after_the_relist(
    plane: LocalControlPlane,
    kubectl: Kubectl,
    namespace: str,
    tmp_path: Path,
    apiserver_serving: None,
) -> None:
    """The account waits for a policy that does not exist yet, so nothing but its own events
    can wake it (a policy's re-list would wake the accounts that use it)."""
    ns, name = namespace, "relisted"
    with operator(plane, tmp_path, "op", ns, "--verbose") as op:
        kubectl.apply(
            account_manifest(
                ns, name, {"USD": 150}, labelled=False, mode="DryRun", interval=3600, policy="later"
            )
        )
        wait_for(
            lambda: status(kubectl, ns, name).get("observedGeneration") == 1,
            SETTLE,
            "generation 1 observed",
            diagnose=op.log_tail,
        )
        # the operator's watch breaks while it cannot notice; the edit lands meanwhile, so the
        # operator learns of it only from the re-list after its watch restarts (410 Gone)
        op.pause()
        try:
            plane.process(APISERVER).kill()
            plane.relaunch(APISERVER)
            kubectl(
                "patch", "ta", name, "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":true}}'
            )
        finally:
            op.resume()
        wait_for(
            lambda: status(kubectl, ns, name).get("observedGeneration") == 2,
            SETTLE,
            "generation 2 observed long before the next scheduled cycle (an hour away)",
            diagnose=op.log_tail,
        )
        assert "Restarting the watch-stream for tradingaccounts" in op.log_text(), op.log_tail()
