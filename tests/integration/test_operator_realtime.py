"""The operator with ``--paper-time real``: purges take real seconds, so orders rest on the
paper exchange while a test kills the operator, suspends the account or deletes it.

The paper exchange's state file is the ground truth: it holds every order ever placed with
its client order id and fills, so "no duplicate order" and "no sale beyond the holding" are
read from it, not from what the operator says about itself.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_operator
from operator_process import OperatorProcess, wait_for
from test_operator import (
    OPEN,
    RUN_LABEL,
    account_manifest,
    condition,
    debug,
    delete_accounts,
    events,
    get,
    has_event,
    own_orders,
    paper_state,
    policy_manifest,
    sold,
    state_of,
    status,
)

from cleanslate.localcluster import Kubectl

crds = test_operator.crds
"""The session fixture that applies the CRDs, shared with test_operator.py."""
accounts_deleted_after_test = test_operator.accounts_deleted_after_test

pytestmark = pytest.mark.cluster

RUN_ID = f"rt-{uuid.uuid4().hex[:8]}"
SETTLE = 90.0
PROMPT = 20.0
"""Deadline for what must happen well before a resting order's TTL (60 s) runs out."""

RESTING_POLICY: dict[str, Any] = {
    "execution": {
        "makerFirstTtlSec": 60,
        "makerRetryTtlSec": 60,
        "makerTtlSec": 60,
        "replaceSeconds": 120,
        "pollIntervalSeconds": 0.5,
        "maxDurationSeconds": 240,
        "pace": "fixed",  # rest maker-first whatever the spread (the adaptive pace crosses)
    },
}
"""BONK's post-only order never fills on the documents market: with these TTLs it rests for a
minute, long enough to be caught by a suspend or a deletion."""


@pytest.fixture(scope="module")
def realtime_operator(
    crds: None, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    base = tmp_path_factory.mktemp("operator-rt")
    process = OperatorProcess(
        kubeconfig,
        base / "state",
        base / "operator.log",
        selector=f"{RUN_LABEL}={RUN_ID}",
        paper_time="real",
    )
    with process:
        yield process


def labelled(manifest: dict[str, Any]) -> dict[str, Any]:
    manifest["metadata"]["labels"] = {RUN_LABEL: RUN_ID}
    return manifest


def open_own_orders(state_dir: Path, ns: str, name: str) -> list[dict[str, Any]]:
    return [o for o in own_orders(state_dir, ns, name) if o["status"] == OPEN]


# --- 4. SIGKILL in the middle of a purge ------------------------------------------------------


def test_operator_killed_mid_purge_resumes_without_duplicate_orders_or_oversell(
    kubectl: Kubectl,
    crds: None,
    kubeconfig: Path,
    namespace: str,
    tmp_path: Path,
) -> None:
    ns, name = namespace, "killed"
    held = {"SEI": Decimal("60"), "WLFI": Decimal("70")}
    kubectl.apply(
        policy_manifest(
            ns,
            execution={
                "sliceUsd": 5,
                "makerFirstTtlSec": 3,
                "makerRetryTtlSec": 3,
                "makerTtlSec": 3,
                "replaceSeconds": 6,
                "pollIntervalSeconds": 0.5,
            },
        )
    )
    kubectl.apply(
        account_manifest(
            ns, name, {"USD": 150, **{k: float(v) for k, v in held.items()}}, labelled=False
        )
    )

    def operator_process() -> OperatorProcess:
        return OperatorProcess(
            kubeconfig,
            tmp_path / "state",
            tmp_path / "operator.log",
            namespaces=[ns],
            paper_time="real",
        )

    first = operator_process().start()
    try:
        in_flight = wait_for(
            lambda: status(kubectl, ns, name).get("inFlight"),
            SETTLE,
            "a purge in flight",
            diagnose=lambda: debug(kubectl, first, ns, name),
        )
    finally:
        first.kill()
    before = own_orders(first.state_dir, ns, name)
    assert in_flight and before, (in_flight, before)
    # what the killed process left: unless the purge ended in the instant between the poll
    # and the kill, the record is still there and the restarted operator must resume it
    left = sorted(status(kubectl, ns, name).get("inFlight") or {})

    with operator_process() as second:
        st = wait_for(
            lambda: state_of(kubectl, ns, name, "Clean"),
            SETTLE,
            "accountState Clean after the restart",
            diagnose=lambda: debug(kubectl, second, ns, name),
        )
        assert condition(st, "Ready")["status"] == "True"
        assert not st.get("inFlight"), st["inFlight"]
        resumed = [
            e["message"]
            for e in events(kubectl, ns, name)
            if e.get("reason") == "PurgeStarted" and "resuming" in e.get("message", "")
        ]
        assert all(any(m.startswith(f"{sym}: resuming") for m in resumed) for sym in left), (
            left,
            resumed,
        )
        delete_accounts(kubectl, ns)

    orders = own_orders(second.state_dir, ns, name)
    assert len(orders) > len(before)
    ids = Counter(o["clientOrderId"] for o in orders)
    assert [cid for cid, n in ids.items() if n > 1] == [], "a client order id was placed twice"
    for asset, amount in held.items():
        assert sold(orders, f"{asset}-USD") <= amount, f"sold more {asset} than held"
    balances = paper_state(second.state_dir, ns, name)["balances"]
    assert all(Decimal(v) >= 0 for v in balances.values()), balances
    assert Decimal(balances.get("SEI", "0")) == 0 and Decimal(balances.get("WLFI", "0")) == 0


# --- 5. suspend cancels the resting orders of a purge in progress ----------------------------


def test_suspend_cancels_the_resting_order_of_a_purge_in_progress(
    kubectl: Kubectl, realtime_operator: OperatorProcess, namespace: str
) -> None:
    ns, name, op = namespace, "paused", realtime_operator
    kubectl.apply(policy_manifest(ns, **RESTING_POLICY))
    kubectl.apply(labelled(account_manifest(ns, name, {"USD": 150, "BONK": 889587})))
    wait_for(
        lambda: open_own_orders(op.state_dir, ns, name),
        SETTLE,
        "a resting BONK-USD order",
        diagnose=lambda: debug(kubectl, op, ns, name),
    )
    kubectl("patch", "ta", name, "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":true}}')
    st = wait_for(
        lambda: state_of(kubectl, ns, name, "Suspended"),
        PROMPT,
        "accountState Suspended before the order's TTL",
        diagnose=lambda: debug(kubectl, op, ns, name),
    )
    ready = condition(st, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Suspended"), ready
    assert open_own_orders(op.state_dir, ns, name) == []
    wait_for(lambda: has_event(kubectl, ns, name, "Suspended"), PROMPT, "a Suspended event")
    placed = len(own_orders(op.state_dir, ns, name))
    kubectl("patch", "ta", name, "-n", ns, "--type=merge", "-p", '{"spec":{"intervalSeconds":2}}')
    generation = get(kubectl, ns, name)["metadata"]["generation"]
    wait_for(
        lambda: status(kubectl, ns, name).get("observedGeneration") == generation,
        PROMPT,
        f"generation {generation} observed while suspended",
    )
    assert len(own_orders(op.state_dir, ns, name)) == placed


# --- 8. deletion cancels the resting orders, then lets go -------------------------------------


def test_deleting_an_account_cancels_its_resting_orders_and_releases_the_finalizer(
    kubectl: Kubectl, realtime_operator: OperatorProcess, namespace: str
) -> None:
    ns, name, op = namespace, "deleted", realtime_operator
    kubectl.apply(policy_manifest(ns, **RESTING_POLICY))
    kubectl.apply(labelled(account_manifest(ns, name, {"USD": 150, "BONK": 889587})))
    wait_for(
        lambda: open_own_orders(op.state_dir, ns, name),
        SETTLE,
        "a resting BONK-USD order",
        diagnose=lambda: debug(kubectl, op, ns, name),
    )
    kubectl("delete", "ta", name, "-n", ns, "--wait=false")
    wait_for(
        lambda: not kubectl("get", "ta", "-n", ns, "-o", "name").strip(),
        PROMPT,
        "the account gone (finalizer released)",
        diagnose=op.log_tail,
    )
    placed = own_orders(op.state_dir, ns, name)
    assert placed and open_own_orders(op.state_dir, ns, name) == [], placed


# --- 5. a wake-up that arrives during a long cycle is not lost --------------------------------


@pytest.mark.parametrize("edit", ["policy", "annotation"])
def test_wake_up_arriving_during_a_long_purge_runs_the_next_cycle_right_after_it(
    kubectl: Kubectl, realtime_operator: OperatorProcess, namespace: str, edit: str
) -> None:
    """A policy edit or a manual action made while a purge rests on the book must be acted
    on when that cycle ends, not an interval (here an hour) later."""
    ns, name, op = namespace, "busy", realtime_operator
    ttl = {"makerFirstTtlSec": 6, "makerRetryTtlSec": 6, "makerTtlSec": 6}
    kubectl.apply(policy_manifest(ns, execution={**RESTING_POLICY["execution"], **ttl}))
    kubectl.apply(labelled(account_manifest(ns, name, {"USD": 150, "BONK": 889587}, interval=3600)))
    wait_for(
        lambda: open_own_orders(op.state_dir, ns, name),
        SETTLE,
        "a resting BONK-USD order",
        diagnose=lambda: debug(kubectl, op, ns, name),
    )
    if edit == "policy":
        kubectl.apply(
            policy_manifest(
                ns, minLiquidationValueUsd=4, execution={**RESTING_POLICY["execution"], **ttl}
            )
        )
    else:
        kubectl("annotate", "ta", name, "-n", ns, "cleanslate.dev/retry-purge=BONK-USD")
    assert (op.account_sample("cleanslate_cycles_total", ns, name) or 0) == 0
    # the first cycle ends when the order's TTL (6 s) runs out; the second must follow
    wait_for(
        lambda: (op.account_sample("cleanslate_cycles_total", ns, name) or 0) >= 2,
        PROMPT + 10,
        "a second cycle right after the first",
        diagnose=lambda: debug(kubectl, op, ns, name),
    )
