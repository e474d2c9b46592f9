"""A replica whose clock is off (issue 27, item 8), with real ``cleanslate operator`` processes
against the test's real API server.

The skew is the operator's hidden ``--test-clock-offset-seconds``: the process reads a clock
300 s behind, while its paper venue keeps the true time, as an exchange would (why a flag
and not libfaketime: docs/design.md, "Clocks this process does not own"). Both operators run
without peering, so both act on the account: the worst a skewed kopf peering can do. Only
the status ``writeSequence`` fence keeps them apart. Each process sells on its own paper
exchange (its state file is the record of every order it placed); every wait polls a
condition with a deadline.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from operator_process import SLOW_PURGE, OperatorProcess, wait_for
from test_chaos import StatusSampler, created, ends
from test_operator import account_manifest, condition, own_orders, paper_state, policy_manifest

from cleanslate.localcluster import Kubectl

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
SETTLE = 90.0
SKEW = "--test-clock-offset-seconds=-300"
PURGE: dict[str, Any] = {"execution": {**SLOW_PURGE["execution"], "sliceUsd": 10}}
"""Real-time slices of $10 of a ~$60 holding: a purge of several orders, each a few seconds."""
HOLDINGS = {"USD": 150, "SEI": 400}


@pytest.fixture(scope="module")
def crds(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(ROOT / "crds"))
    for crd in ("tradingaccounts.cleanslate.dev", "purgepolicies.cleanslate.dev"):
        wait_for(
            partial(kubectl, "wait", "--for=condition=Established", f"crd/{crd}", "--timeout=10s"),
            60,
            f"CRD {crd} Established",
        )


def operator(kubeconfig: Path, tmp_path: Path, name: str, ns: str, *args: str) -> OperatorProcess:
    return OperatorProcess(
        kubeconfig,
        tmp_path / f"state-{name}",
        tmp_path / f"{name}.log",
        namespaces=[ns],
        paper_time="real",  # the skew reaches the paper venue's clock only on real time
        extra_args=("--log-format=plain", *args),
        env={"POD_ID": name},
    )


def status(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(kubectl("get", "ta", name, "-n", ns, "-o", "json"))
    return body.get("status") or {}


def clock_events(kubectl: Kubectl, ns: str, name: str) -> list[dict[str, Any]]:
    raw = kubectl(
        "get", "events", "-n", ns, f"--field-selector=involvedObject.name={name}", "-o", "json"
    )
    return [e for e in json.loads(raw)["items"] if e.get("reason") == "ClockOffset"]


def suspended_handled(op: OperatorProcess) -> bool:
    """The process ran a cycle of the suspended account (it counts it, written or not)."""
    return op.sample("cleanslate_accounts", state="Suspended") == 1


def test_a_skewed_replica_beside_a_right_one_never_acts_at_once_with_it(
    kubectl: Kubectl, kubeconfig: Path, crds: None, namespace: str, tmp_path: Path
) -> None:
    """Both replicas hold the account's record before it may trade (it starts suspended), so
    both race for the first write of the purge: the fence lets exactly one win, and the other
    stands down until the record has been quiet for 60 s. If the right replica wins, it sells
    while the skewed one waits; if the skewed one wins, the venue refuses its maker orders
    (their end time, from its clock, is 300 s in the venue's past: what the default bound
    prevents), its purge fails, and the right one sells after the quiet period. Either way
    the two never have orders out at once and never place the same client id."""
    ns, name = namespace, "skewed"
    kubectl.apply(policy_manifest(ns, **PURGE))
    # the skewed replica may trade (its bound is wider than its skew): only the fence is left
    stand_down = "--stand-down-seconds=60"
    skewed = operator(kubeconfig, tmp_path, "skewed", ns, SKEW, stand_down,
                      "--max-clock-offset-seconds=3600")  # fmt: skip
    right = operator(kubeconfig, tmp_path, "right", ns, stand_down)
    with skewed, right, StatusSampler(kubectl, ns, name) as sampler:
        kubectl.apply(
            account_manifest(ns, name, HOLDINGS, labelled=False, interval=3600, suspend=True)
        )
        wait_for(
            lambda: suspended_handled(skewed) and suspended_handled(right),
            SETTLE,
            "both replicas to handle the suspended account",
            diagnose=lambda: f"{skewed.log_tail()}\n{right.log_tail()}",
        )
        kubectl("patch", "ta", name, "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":false}}')
        wait_for(
            lambda: status(kubectl, ns, name).get("accountState") == "Clean",
            SETTLE * 2,
            "the account Clean",
            diagnose=lambda: f"{skewed.log_tail()}\n{right.log_tail()}",
        )
        by_skewed = own_orders(skewed.state_dir, ns, name)
        by_right = own_orders(right.state_dir, ns, name)
        logs = {"skewed": skewed.log_text(), "right": right.log_text()}
    assert by_skewed or by_right, "nobody sold"
    ids = [o["clientOrderId"] for o in (*by_skewed, *by_right)]
    assert len(ids) == len(set(ids)), "a client order id was placed by both replicas"
    timeline = sorted(
        [("skewed", o) for o in by_skewed] + [("right", o) for o in by_right],
        key=lambda item: created(item[1]),
    )  # both paper venues keep the true time: their order times compare
    overlaps = [
        (a[0], a[1]["clientOrderId"], b[0], b[1]["clientOrderId"])
        for a, b in itertools.pairwise(timeline)
        if a[0] != b[0] and created(b[1]) < ends(a[1])
    ]
    assert overlaps == [], f"both replicas had orders out at once: {overlaps}"
    assert any("standing down" in text for text in logs.values()), "the fence was never tested"
    for op in (skewed, right):  # no ledger oversold: no balance below zero
        balances = paper_state(op.state_dir, ns, name)["balances"]
        assert all(float(v) >= 0 for v in balances.values()), (op.log_path, balances)
    assert sampler.samples and sampler.backwards() == [], "a stale write overwrote newer status"


def test_a_replica_300_s_behind_the_venue_places_no_order_and_reports_clock_in_sync_false(
    kubectl: Kubectl, kubeconfig: Path, crds: None, namespace: str, tmp_path: Path
) -> None:
    ns, name = namespace, "behind"
    kubectl.apply(policy_manifest(ns, **PURGE))
    started = datetime.now().astimezone()
    with operator(kubeconfig, tmp_path, "behind", ns, SKEW) as skewed:
        kubectl.apply(account_manifest(ns, name, HOLDINGS, labelled=False, interval=2))
        wait_for(
            lambda: condition(status(kubectl, ns, name), "ClockInSync").get("status") == "False",
            SETTLE,
            "ClockInSync=False",
            diagnose=skewed.log_tail,
        )
        # counted by the metric: a cycle that changes nothing writes no status (it would
        # only after --status-refresh-seconds), so status.cycles may stay behind
        wait_for(
            lambda: (skewed.account_sample("cleanslate_cycles_total", ns, name) or 0) >= 3,
            SETTLE,
            "three cycles",
            diagnose=skewed.log_tail,
        )
        offset = skewed.sample("cleanslate_venue_clock_offset_seconds", exchange="paper")
        st = status(kubectl, ns, name)
    in_sync = condition(st, "ClockInSync")
    assert in_sync["reason"] == "OffsetBeyondBound", in_sync
    assert "ahead of" in in_sync["message"] and "30 s" in in_sync["message"], in_sync
    assert offset is not None and 295 < offset < 305, offset  # the venue is 300 s ahead
    assert own_orders(skewed.state_dir, ns, name) == [], "a skewed replica placed an order"
    assert not st.get("inFlight") and not st.get("purgeFailures"), st
    events = clock_events(kubectl, ns, name)
    assert len(events) == 1 and events[0]["type"] == "Warning", events
    # the status times are the skewed clock's own: the replica wrote them 300 s "early"
    assert datetime.fromisoformat(st["lastCycle"]["startedAt"]) < started
