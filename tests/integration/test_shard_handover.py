"""Moving an account between shards mid-purge, with two real ``cleanslate operator``
processes (``--selector cleanslate.dev/shard=a`` and ``=b``) on the real API server.

The account is relabelled from shard a to shard b while a TWAP purge rests on the paper
exchange. What must hold is read from records neither process can dress up:

- the paper exchange's state file (both shards share the state directory, as both would reach
  the same venue): no client order id placed twice, nothing sold beyond the holding, the
  holding sold;
- the status's ``writeSequence`` (every status write stores it plus one): the writes made
  after the relabel are exactly the ones shard b counts, so shard a wrote none;
- shard a's metrics: it drops the account's series; its log says it let go, and neither
  shard's kopf removed the other's finalizer (the write loop a client-side filter caused);
- events: shard b resumed the purges left in flight, and the account reaches Clean.

Every wait polls with a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_operator
from operator_process import OperatorProcess, wait_for
from test_operator import (
    OPEN,
    account_manifest,
    delete_accounts,
    events,
    get,
    own_orders,
    paper_state,
    policy_manifest,
    sold,
    state_of,
    status,
)

from cleanslate.localcluster import Kubectl
from cleanslate.operating.kube import Fence, Kube, StaleRecord

crds = test_operator.crds
accounts_deleted_after_test = test_operator.accounts_deleted_after_test

pytestmark = pytest.mark.cluster

SHARD = "cleanslate.dev/shard"
SETTLE = 120.0
PROMPT = 20.0
STAND_DOWN = 3
"""``--stand-down-seconds``: how long shard b waits for a quiet record before acting."""
FORGED_CYCLES = 987654
"""A value no real cycle count reaches in a test: the mark of the write shard a attempts."""


def shard(kubeconfig: Path, base: Path, namespace: str, name: str) -> OperatorProcess:
    return OperatorProcess(
        kubeconfig,
        base / "state",  # shared: one venue, whichever shard trades on it
        base / f"shard-{name}.log",
        namespaces=[namespace],
        selector=f"{SHARD}={name}",
        paper_time="real",
        extra_args=("--stand-down-seconds", str(STAND_DOWN), "--verbose"),
    )


async def write_as_shard(
    kubeconfig: Path, shard_name: str, ns: str, name: str, stored: dict[str, Any]
) -> None:
    """One status write as that shard makes it (its label tested), with an up-to-date fence."""
    kube = await Kube.connect(str(kubeconfig), shard={SHARD: shard_name})
    try:
        await kube.write_status(ns, name, stored["status"], Fence.of(stored))
    finally:
        await kube.close()


def debug(kubectl: Kubectl, ns: str, name: str, *shards: OperatorProcess) -> str:
    st = json.dumps(status(kubectl, ns, name), indent=1)[:2500]
    return "\n".join([st, *(s.log_tail(30) for s in shards)])


def test_relabelled_mid_purge_account_is_handed_over_without_a_double_order_or_write(
    kubectl: Kubectl, crds: None, kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    ns, name = namespace, "moving"
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
    manifest = account_manifest(
        ns, name, {"USD": 150, **{k: float(v) for k, v in held.items()}}, labelled=False
    )
    manifest["metadata"]["labels"] = {SHARD: "a"}
    a, b = shard(kubeconfig, tmp_path, ns, "a"), shard(kubeconfig, tmp_path, ns, "b")
    with a, b:
        kubectl.apply(manifest)
        wait_for(
            lambda: status(kubectl, ns, name).get("inFlight") and own_orders(a.state_dir, ns, name),
            SETTLE,
            "a purge in flight under shard a",
            diagnose=lambda: debug(kubectl, ns, name, a, b),
        )
        assert a.account_sample("cleanslate_status_writes_total", ns, name)
        assert b.account_sample("cleanslate_status_writes_total", ns, name) is None

        # the relabel's answer is the object as stored at that instant: the last record
        # shard a could have written
        moved: dict[str, Any] = json.loads(
            kubectl("label", "ta", name, "-n", ns, f"{SHARD}=b", "--overwrite", "-o", "json")
        )
        at_move = int(moved["status"]["writeSequence"])
        left_in_flight = sorted(moved["status"].get("inFlight") or {})

        wait_for(
            lambda: a.account_sample("cleanslate_status_writes_total", ns, name) is None,
            PROMPT,
            "shard a to drop the account's series",
            diagnose=lambda: debug(kubectl, ns, name, a, b),
        )
        assert "moved to another shard; letting go" in a.log_text()
        st = wait_for(
            lambda: state_of(kubectl, ns, name, "Clean"),
            SETTLE,
            "accountState Clean under shard b",
            diagnose=lambda: debug(kubectl, ns, name, a, b),
        )
        assert not st.get("inFlight"), st["inFlight"]
        assert "moved in from another shard" in b.log_text()

        def writes_after_move_are_all_b() -> bool:
            before = b.account_sample("cleanslate_status_writes_total", ns, name)
            sequence = int(status(kubectl, ns, name)["writeSequence"])
            after = b.account_sample("cleanslate_status_writes_total", ns, name)
            return before == after and before == sequence - at_move

        wait_for(
            writes_after_move_are_all_b,
            PROMPT,
            "every status write after the relabel to be shard b's (shard a wrote none)",
            diagnose=lambda: (
                f"at move {at_move}, now {status(kubectl, ns, name).get('writeSequence')}, "
                f"b wrote {b.account_sample('cleanslate_status_writes_total', ns, name)}\n"
                + debug(kubectl, ns, name, a, b)
            ),
        )
        assert a.account_sample("cleanslate_cycles_total", ns, name) is None

        resumed = [
            e["message"]
            for e in events(kubectl, ns, name)
            if e.get("reason") == "PurgeStarted" and "resuming" in e.get("message", "")
        ]
        for symbol in left_in_flight:
            assert any(m.startswith(f"{symbol}: resuming") for m in resumed), (symbol, resumed)
        stored = get(kubectl, ns, name)
        assert stored["metadata"]["finalizers"] == ["cleanslate.dev/finalizer"]
        # the fence on the real API server: with the writeSequence just read, a write as
        # shard a fails on its label, and what it carried is not stored
        forged = {**stored, "status": {**stored["status"], "cycles": FORGED_CYCLES}}
        with pytest.raises(StaleRecord):
            asyncio.run(write_as_shard(kubeconfig, "a", ns, name, forged))
        assert status(kubectl, ns, name).get("cycles") != FORGED_CYCLES
        delete_accounts(kubectl, ns)

    for process in (a, b):  # --verbose: kopf logs every finalizer change it makes
        assert "Removing the finalizer, as there are no handlers" not in process.log_text()
    orders = own_orders(b.state_dir, ns, name)
    ids = Counter(o["clientOrderId"] for o in orders)
    assert [cid for cid, n in ids.items() if n > 1] == [], "a client order id was placed twice"
    for asset, amount in held.items():
        assert sold(orders, f"{asset}-USD") <= amount, f"sold more {asset} than held"
    balances = paper_state(b.state_dir, ns, name)["balances"]
    assert all(Decimal(v) >= 0 for v in balances.values()), balances
    assert Decimal(balances.get("SEI", "0")) == 0 and Decimal(balances.get("WLFI", "0")) == 0
    assert not [o for o in orders if o["status"] == OPEN], "an order left resting"
