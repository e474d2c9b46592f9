"""Issue 6's "done when", against a real API server and real ``cleanslate operator`` processes.

Most tests share one operator that watches every namespace but only the accounts labelled
with this module's run id (``--selector``), so each test gets a fresh namespace and pays no
operator start-up. Tests that need their own process flags (``--paper-time real`` and a
SIGKILL, ``--namespace a --namespace b``) start their own. What the tests check is what a
person sees: status, conditions, events, ``kubectl get`` columns, the operator's metrics,
and the paper exchange's own record of every order (its state file).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from operator_process import OperatorProcess, wait_for

from cleanslate.core.market import OrderStatus
from cleanslate.localcluster import Kubectl, KubectlError

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
RUN_LABEL = "cleanslate.dev/test-run"
RUN_ID = uuid.uuid4().hex[:10]
OPEN = OrderStatus.OPEN.value
"""An order's status in the paper state file while it rests on the book."""
SETTLE = 60.0
"""Deadline for anything the operator should do within a few cycles."""

FAST_POLICY: dict[str, Any] = {
    "backoff": {"schedule": [{"failures": 3, "delay": "3s"}]},
    "execution": {
        "makerFirstTtlSec": 2,
        "makerRetryTtlSec": 2,
        "makerTtlSec": 2,
        "replaceSeconds": 5,
        "pollIntervalSeconds": 0.5,
    },
}
VOLUME_ONLY = {
    "tiers": [
        {
            "name": "tier3-event",
            "symbols": ["SEI-USD", "WLFI-USD", "BONK-USD"],
            "minQuoteVolumeUsd": 2000000,
            "maxSpreadBps": 100,
        }
    ]
}
"""The default tier of SEI and WLFI without its $5k depth floor: SEI's paper bid depth moves
around $5k during the day, so with the floor a plan's reasons (and the status) change from one
cycle to the next at some hours; their 24h volume ($1.2-1.5M) stays far below the floor."""
STALE_ADA_BUY = {
    "productId": "ADA-USD",
    "side": "BUY",
    "size": 20,
    "limitPrice": 0.30,
    "ageMinutes": 180,
}


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl) -> None:
    """The CRDs, applied once per session and Established before any test uses them."""
    kubectl("apply", "-f", str(ROOT / "crds"))
    for crd in ("tradingaccounts.cleanslate.dev", "purgepolicies.cleanslate.dev"):
        # `kubectl wait` fails outright while the new CRD has no status yet: poll it
        wait_for(
            partial(kubectl, "wait", "--for=condition=Established", f"crd/{crd}", "--timeout=10s"),
            60,
            f"CRD {crd} Established",
        )


@pytest.fixture(scope="module")
def operator(
    crds: None, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """One operator for the module: all namespaces, only accounts labelled with RUN_ID."""
    base = tmp_path_factory.mktemp("operator")
    process = OperatorProcess(
        kubeconfig,
        base / "state",
        base / "operator.log",
        selector=f"{RUN_LABEL}={RUN_ID}",
        status_refresh_seconds=3600,
    )
    with process:
        yield process


@pytest.fixture(autouse=True)
def accounts_deleted_after_test(kubectl: Kubectl, namespace: str) -> Iterator[None]:
    """Delete the test's accounts while the operator still runs, so it lets them go and
    does not keep cycling them in a namespace that a bare control plane never finishes."""
    yield
    kubectl("delete", "ta", "--all", "-n", namespace, "--wait=false", "--ignore-not-found")


# --- helpers --------------------------------------------------------------------------------


def account_manifest(
    namespace: str,
    name: str,
    holdings: Mapping[str, float],
    *,
    policy: str = "fast",
    mode: str = "Live",
    interval: int = 1,
    market: str = "documents",
    open_orders: list[dict[str, Any]] | None = None,
    labelled: bool = True,
    **spec: Any,
) -> dict[str, Any]:
    paper: dict[str, Any] = {"seed": 7, "market": market, "holdings": dict(holdings)}
    if open_orders:
        paper["openOrders"] = open_orders
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {RUN_LABEL: RUN_ID} if labelled else {},
        },
        "spec": {
            "policyRef": {"name": policy},
            "mode": mode,
            "intervalSeconds": interval,
            "exchange": {"name": "paper", "paper": paper},
            **spec,
        },
    }


def policy_manifest(namespace: str, name: str = "fast", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "PurgePolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {**FAST_POLICY, **spec},
    }


def get(kubectl: Kubectl, namespace: str, name: str, kind: str = "ta") -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json"))
    return obj


def status(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    return get(kubectl, namespace, name).get("status") or {}


def condition(st: dict[str, Any], type_: str) -> dict[str, Any]:
    found = [c for c in st.get("conditions") or [] if c.get("type") == type_]
    return found[0] if found else {}


def events(kubectl: Kubectl, namespace: str, name: str) -> list[dict[str, Any]]:
    raw = kubectl(
        "get",
        "events",
        "-n",
        namespace,
        f"--field-selector=involvedObject.name={name}",
        "-o",
        "json",
    )
    items: list[dict[str, Any]] = json.loads(raw)["items"]
    return sorted(items, key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))


def reasons(kubectl: Kubectl, namespace: str, name: str) -> list[str]:
    return [e.get("reason", "") for e in events(kubectl, namespace, name)]


def has_event(kubectl: Kubectl, namespace: str, name: str, reason: str) -> bool:
    return reason in reasons(kubectl, namespace, name)


def state_of(kubectl: Kubectl, namespace: str, name: str, wanted: str) -> dict[str, Any] | None:
    st = status(kubectl, namespace, name)
    return st if st.get("accountState") == wanted else None


def paper_state(state_dir: Path, namespace: str, name: str) -> dict[str, Any]:
    """The paper exchange's own record of the account (every order, balances)."""
    path = (
        state_dir
        / f"{namespace}_{name}"
        / "paper"
        / f"{quote(f'{namespace}/{name}', safe='')}.json"
    )
    if not path.exists():
        return {"orders": [], "balances": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def own_orders(state_dir: Path, namespace: str, name: str) -> list[dict[str, Any]]:
    """Orders cleanslate placed (client ids ``cs-...``), not the seeded ones."""
    orders = paper_state(state_dir, namespace, name)["orders"]
    return [o for o in orders if str(o["clientOrderId"]).startswith("cs-")]


def sold(orders: list[dict[str, Any]], product: str) -> Decimal:
    return sum(
        (
            Decimal(o["filledSize"])
            for o in orders
            if o["productId"] == product and o["side"] == "SELL"
        ),
        Decimal(0),
    )


DUST_UNITS = {"SEI": Decimal(6), "WLFI": Decimal(6)}
"""Under $1 at the documents' prices (SEI $0.156, WLFI $0.143): what a purge may leave."""


def dust(balances: dict[str, str], asset: str) -> bool:
    """The asset was sold down to a residual worth less than a dollar."""
    return Decimal(balances.get(asset, "0")) < DUST_UNITS[asset]


def delete_accounts(kubectl: Kubectl, *namespaces: str) -> None:
    """Delete every account in ``namespaces`` and wait until the operator has let them go
    (call it while the operator that owns their finalizer still runs)."""
    for ns in namespaces:
        kubectl("delete", "ta", "--all", "-n", ns, "--wait=false")
    wait_for(
        lambda: not any(kubectl("get", "ta", "-n", ns, "-o", "name").strip() for ns in namespaces),
        SETTLE,
        f"the accounts in {', '.join(namespaces)} deleted",
    )


def debug(kubectl: Kubectl, operator: OperatorProcess, namespace: str, name: str) -> str:
    try:
        st = json.dumps(status(kubectl, namespace, name), indent=1)[:3000]
        evs = reasons(kubectl, namespace, name)
    except KubectlError as exc:
        st, evs = str(exc), []
    return f"status: {st}\nevents: {evs}\n{operator.log_tail()}"


# --- 1. CLEAN through the four phases ----------------------------------------------------------


def test_messy_live_account_reaches_clean_through_all_four_phases(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "messy"
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(
        account_manifest(
            ns,
            name,
            {"USD": 150, "USDC": 20, "SEI": 60, "WLFI": 70, "ADA": 40},
            open_orders=[STALE_ADA_BUY],
        )
    )
    st = wait_for(
        lambda: state_of(kubectl, ns, name, "Clean"),
        SETTLE,
        "accountState Clean",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    ready = condition(st, "Ready")
    assert ready["status"] == "True", ready
    assert condition(st, "Clean")["status"] == "True"
    assert condition(st, "Stalled")["status"] == "False"
    assert st["observedGeneration"] == get(kubectl, ns, name)["metadata"]["generation"]
    wait_for(lambda: has_event(kubectl, ns, name, "AccountClean"), SETTLE, "an AccountClean event")
    seen = reasons(kubectl, ns, name)
    for reason in ("StaleOrdersCancelled", "PurgeStarted", "PurgeSucceeded", "AccountClean"):
        assert reason in seen, seen
    # phase 2 and 3 happened on the exchange: the stale buy is gone, SEI and WLFI are sold
    balances = paper_state(operator.state_dir, ns, name)["balances"]
    for asset in ("SEI", "WLFI"):
        assert dust(balances, asset), balances
    seeded = [
        o
        for o in paper_state(operator.state_dir, ns, name)["orders"]
        if not o["clientOrderId"].startswith("cs-")
    ]
    assert seeded and all(o["status"] != OPEN for o in seeded), seeded
    table = kubectl("get", "ta", "-n", ns)
    header = table.splitlines()[0].split()
    for column in ("NAME", "READY", "STATE", "MODE", "POSITIONS", "VALUE", "FAILURES", "AGE"):
        assert column in header, table
    row = next(line.split() for line in table.splitlines()[1:] if line.split()[0] == name)
    assert row[1:4] == ["True", "Clean", "Live"], table
    wide = kubectl("get", "ta", "-n", ns, "-o", "wide")
    assert "MESSAGE" in wide and "LAST CYCLE" in wide and "the account is CLEAN" in wide, wide
    # simulated time stays in the simulation: the TWAPs waited minutes of venue time, yet no
    # status time lies in the future and no cycle went over its 45 s budget in real time
    now = datetime.now(UTC)
    purges = st["lastPurges"].values()
    assert purges and all(datetime.fromisoformat(p["finishedAt"]) <= now for p in purges), st
    assert sum(float(p["durationSeconds"]) for p in purges) > 0  # the venue's own seconds
    assert datetime.fromisoformat(st["lastCycle"]["startedAt"]) <= now
    assert condition(st, "WithinBudget")["status"] == "True", st
    assert "CycleOverBudget" not in seen, seen
    # events come from cleanslate, in one short line; conditions are one line too
    for event in events(kubectl, ns, name):
        assert event.get("reportingComponent") == "cleanslate", event
        assert event["source"]["component"] == "cleanslate", event
        assert "\n" not in event["message"] and len(event["message"]) <= 280, event
    assert all(len(c["message"]) <= 200 for c in st["conditions"]), st
    # the policy reports that the operator accepts it, for the generation it judged
    policy = wait_for(
        lambda: (p := get(kubectl, ns, "fast", "pp")).get("status") and p,
        SETTLE,
        "the policy's status",
    )
    assert condition(policy["status"], "Ready")["reason"] == "Valid", policy["status"]
    assert policy["status"]["observedGeneration"] == policy["metadata"]["generation"]


# --- 2. DryRun: a plan, no order -------------------------------------------------------------


def test_dry_run_account_gets_a_purge_plan_and_places_no_order(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "dry"
    kubectl.apply(policy_manifest(ns, universe=VOLUME_ONLY))
    kubectl.apply(account_manifest(ns, name, {"USD": 150, "SEI": 60, "WLFI": 70}, mode="DryRun"))
    st = wait_for(
        lambda: (s := status(kubectl, ns, name)).get("plan") and s,
        SETTLE,
        "a plan in status",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    purges = {item.get("symbol") for item in st["plan"] if item.get("action") == "Purge"}
    assert {"SEI-USD", "WLFI-USD"} <= purges, st["plan"]
    assert st["accountState"] == "Dirty"
    assert condition(st, "Ready")["reason"] == "DryRun"
    # more cycles, with the same plan: nothing written, nothing on the exchange
    assert_no_writes_over_three_cycles(kubectl, operator, ns, name)
    assert own_orders(operator.state_dir, ns, name) == []
    balances = paper_state(operator.state_dir, ns, name)["balances"]
    assert Decimal(balances.get("SEI", "60")) == 60, balances
    # the plan is announced once (docs/operations.md), not every cycle
    assert reasons(kubectl, ns, name).count("PurgePlanned") == 1, reasons(kubectl, ns, name)


# --- 3. a failing symbol backs off and retries -------------------------------------------------

BONK = {"USD": 150, "BONK": 889587}
"""~$160 of which ~$9.5 BONK: worth purging, and the documents market always fails it."""


def failures_of(kubectl: Kubectl, ns: str, name: str, symbol: str) -> dict[str, Any]:
    found: dict[str, Any] = (status(kubectl, ns, name).get("purgeFailures") or {}).get(symbol) or {}
    return found


def test_failing_symbol_backs_off_after_third_failure_and_retries_when_backoff_expires(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "bonk"
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(account_manifest(ns, name, BONK))
    backing_off = wait_for(
        lambda: (f := failures_of(kubectl, ns, name, "BONK-USD")).get("nextRetryAt") and f,
        SETTLE,
        "BONK-USD in backoff",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    assert backing_off["failureCount"] == 3, backing_off
    seen = reasons(kubectl, ns, name)
    assert seen.count("PurgeFailed") >= 3 and "BackoffStarted" in seen, seen
    wait_for(
        lambda: has_event(kubectl, ns, name, "BackoffExpired"),
        SETTLE,
        "a BackoffExpired event",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    # the retry after the expiry is a fourth attempt, which fails again
    wait_for(
        lambda: failures_of(kubectl, ns, name, "BONK-USD").get("failureCount", 0) >= 4,
        SETTLE,
        "a fourth BONK-USD attempt after the backoff",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    st = status(kubectl, ns, name)
    assert st["accountState"] != "Clean"
    assert "BONK-USD" in " ".join(st.get("blockers") or []) or st["purgeFailures"], st


def test_leaving_a_failing_symbol_alone_stops_retries_and_lets_the_account_be_clean(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "bonk-alone"
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(account_manifest(ns, name, BONK))
    wait_for(
        lambda: failures_of(kubectl, ns, name, "BONK-USD").get("failureCount", 0) >= 1,
        SETTLE,
        "a BONK-USD failure",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    entry = {"symbol": "BONK-USD", "reason": "selling it by hand"}
    kubectl("patch", "ta", name, "-n", ns, "--type=merge", "-p",
            json.dumps({"spec": {"leaveAlone": [entry]}}))  # fmt: skip
    clean = wait_for(
        lambda: state_of(kubectl, ns, name, "Clean"),
        SETTLE,
        "the account Clean with BONK-USD left alone",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    assert not clean.get("purgeFailures"), clean
    (item,) = [p for p in clean["plan"] if p["symbol"] == "BONK-USD"]
    assert item["action"] == "Ignore" and "selling it by hand" in item["reason"], item
    wait_for(
        lambda: has_event(kubectl, ns, name, "LeftAlone"),
        SETTLE,
        "a LeftAlone event",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )


# --- 5. policy edits, suspend, manual actions, missing policy or secret ----------------------

SOL_TRACKED = [{"symbol": "SOL-USD", "entryPrice": 150, "openedAt": "2026-01-05T10:00:00Z"}]


def test_policy_edit_reevaluates_its_accounts_without_waiting_for_the_interval(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "edited"
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(
        account_manifest(
            ns, name, {"USD": 150, "SOL": 0.1}, interval=3600, trackedPositions=SOL_TRACKED
        )
    )
    wait_for(
        lambda: state_of(kubectl, ns, name, "Clean"),
        SETTLE,
        "accountState Clean with SOL kept",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    assert Decimal(paper_state(operator.state_dir, ns, name)["balances"]["SOL"]) > 0
    kubectl.apply(policy_manifest(ns, universe={"excludedSymbols": ["SOL-USD"]}))
    # the next cycle would be an hour away: only the policy's wake-up can sell SOL now
    wait_for(
        lambda: Decimal(paper_state(operator.state_dir, ns, name)["balances"].get("SOL", 0)) == 0,
        SETTLE,
        "SOL sold after the policy excluded it",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    wait_for(lambda: has_event(kubectl, ns, name, "PurgeStarted"), SETTLE, "a PurgeStarted event")


def test_suspended_account_stops_trading_and_reports_suspended(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "suspended"
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(account_manifest(ns, name, BONK))
    # BONK fails every cycle, so every cycle places orders until the account is suspended
    wait_for(
        lambda: len(own_orders(operator.state_dir, ns, name)) >= 2,
        SETTLE,
        "BONK-USD orders",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    kubectl("patch", "ta", name, "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":true}}')
    st = wait_for(
        lambda: state_of(kubectl, ns, name, "Suspended"),
        SETTLE,
        "accountState Suspended",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    ready = condition(st, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Suspended"), ready
    wait_for(lambda: has_event(kubectl, ns, name, "Suspended"), SETTLE, "a Suspended event")
    placed = own_orders(operator.state_dir, ns, name)
    assert all(o["status"] != OPEN for o in placed), placed
    # another edit makes the operator look again (a new generation observed) while suspended
    kubectl("patch", "ta", name, "-n", ns, "--type=merge", "-p", '{"spec":{"intervalSeconds":2}}')
    generation = get(kubectl, ns, name)["metadata"]["generation"]
    wait_for(
        lambda: status(kubectl, ns, name).get("observedGeneration") == generation,
        SETTLE,
        f"generation {generation} observed while suspended",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    assert status(kubectl, ns, name)["accountState"] == "Suspended"
    assert own_orders(operator.state_dir, ns, name) == placed
    # resuming trading: the account leaves Suspended and BONK-USD is tried again
    kubectl("patch", "ta", name, "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":false}}')
    st = wait_for(
        lambda: (
            (s := status(kubectl, ns, name)).get("accountState") not in (None, "Suspended") and s
        ),
        SETTLE,
        "the account out of Suspended",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    assert condition(st, "Ready")["reason"] != "Suspended", st
    wait_for(
        lambda: len(own_orders(operator.state_dir, ns, name)) > len(placed),
        SETTLE,
        "new orders once unsuspended",
    )


def annotate(kubectl: Kubectl, ns: str, name: str, key: str, value: str) -> None:
    kubectl("annotate", "ta", name, "-n", ns, "--overwrite", f"{key}={value}")


def annotation_gone(kubectl: Kubectl, ns: str, name: str, key: str) -> bool:
    return key not in (get(kubectl, ns, name)["metadata"].get("annotations") or {})


def test_manual_action_annotations_retry_unfreeze_and_liquidate_then_are_consumed(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "manual"
    kubectl.apply(policy_manifest(ns, backoff={"schedule": [{"failures": 3, "delay": "1h"}]}))
    kubectl.apply(
        account_manifest(
            ns,
            name,
            {"USD": 150, "BONK": 889587, "AUT": 100, "SOL": 0.1},
            trackedPositions=SOL_TRACKED,
        )
    )
    diagnose = lambda: debug(kubectl, operator, ns, name)  # noqa: E731
    # BONK-USD in an hour's backoff, AUT-USD (delisted, no price) frozen
    backing_off = wait_for(
        lambda: (f := failures_of(kubectl, ns, name, "BONK-USD")).get("nextRetryAt") and f,
        SETTLE,
        "BONK-USD in backoff",
        diagnose=diagnose,
    )
    wait_for(
        lambda: ((status(kubectl, ns, name).get("frozenSymbols") or {}).get("AUT-USD") or {}).get(
            "frozenAt"
        ),
        SETTLE,
        "AUT-USD frozen",
        diagnose=diagnose,
    )

    annotate(kubectl, ns, name, "cleanslate.dev/retry-purge", "BONK-USD")
    wait_for(lambda: has_event(kubectl, ns, name, "ManualRetry"), SETTLE, "a ManualRetry event")
    # without the retry nothing would touch BONK-USD for an hour
    wait_for(
        lambda: (
            failures_of(kubectl, ns, name, "BONK-USD").get("lastFailedAt")
            not in (None, backing_off["lastFailedAt"])
        ),
        SETTLE,
        "a new BONK-USD attempt",
        diagnose=diagnose,
    )
    wait_for(
        lambda: annotation_gone(kubectl, ns, name, "cleanslate.dev/retry-purge"),
        SETTLE,
        "retry-purge consumed",
    )

    annotate(kubectl, ns, name, "cleanslate.dev/unfreeze", "AUT-USD")
    wait_for(
        lambda: has_event(kubectl, ns, name, "ManualUnfreeze"),
        SETTLE,
        "a ManualUnfreeze event",
        diagnose=diagnose,
    )
    wait_for(
        lambda: annotation_gone(kubectl, ns, name, "cleanslate.dev/unfreeze"),
        SETTLE,
        "unfreeze consumed",
    )

    assert Decimal(paper_state(operator.state_dir, ns, name)["balances"]["SOL"]) > 0
    annotate(kubectl, ns, name, "cleanslate.dev/liquidate", "SOL-USD")
    wait_for(
        lambda: has_event(kubectl, ns, name, "ManualLiquidate"),
        SETTLE,
        "a ManualLiquidate event",
        diagnose=diagnose,
    )
    wait_for(
        lambda: Decimal(paper_state(operator.state_dir, ns, name)["balances"].get("SOL", 0)) == 0,
        SETTLE,
        "the tracked SOL sold by hand",
        diagnose=diagnose,
    )
    wait_for(
        lambda: annotation_gone(kubectl, ns, name, "cleanslate.dev/liquidate"),
        SETTLE,
        "liquidate consumed",
    )
    # consumed means done once: a few cycles later no action has been repeated
    cycles = operator.account_sample("cleanslate_cycles_total", ns, name) or 0
    wait_for(
        lambda: (operator.account_sample("cleanslate_cycles_total", ns, name) or 0) >= cycles + 3,
        SETTLE,
        "three more cycles",
    )
    seen = reasons(kubectl, ns, name)
    for reason in ("ManualRetry", "ManualUnfreeze", "ManualLiquidate"):
        assert seen.count(reason) == 1, seen


def test_missing_policy_stalls_without_orders_and_creating_it_recovers(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "orphan"
    kubectl.apply(account_manifest(ns, name, {"USD": 150, "SEI": 60}, interval=3600))
    st = wait_for(
        lambda: (s := status(kubectl, ns, name)).get("conditions") and s,
        SETTLE,
        "a status",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    resolved = condition(st, "PolicyResolved")
    assert (resolved["status"], resolved["reason"]) == ("False", "PolicyMissing"), st
    assert condition(st, "Stalled")["status"] == "True", st
    assert condition(st, "Ready")["status"] == "False", st
    wait_for(lambda: has_event(kubectl, ns, name, "PolicyMissing"), SETTLE, "a PolicyMissing event")
    assert own_orders(operator.state_dir, ns, name) == []
    # the next cycle is an hour away: creating the policy must wake the account
    kubectl.apply(policy_manifest(ns))
    st = wait_for(
        lambda: state_of(kubectl, ns, name, "Clean"),
        SETTLE,
        "accountState Clean once the policy exists",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    assert condition(st, "PolicyResolved")["status"] == "True", st
    assert condition(st, "Stalled")["status"] == "False", st


def test_missing_secret_reports_credentials_missing_and_never_reads_other_namespaces(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "coinbase"
    other = f"{ns}-other"
    marker = f"MARKER-{uuid.uuid4().hex}"
    kubectl("create", "namespace", other)
    try:
        kubectl(
            "create",
            "secret",
            "generic",
            "nope",
            "-n",
            other,
            f"--from-literal=apiKeyName={marker}",
            f"--from-literal=apiPrivateKey={marker}",
        )
        kubectl.apply(policy_manifest(ns))
        manifest = account_manifest(ns, name, {})
        manifest["spec"]["exchange"] = {
            "name": "coinbase",
            "credentialsSecretRef": {"name": "nope"},
        }
        kubectl.apply(manifest)
        st = wait_for(
            lambda: (
                condition(status(kubectl, ns, name), "CredentialsReady")
                and status(kubectl, ns, name)
            ),
            SETTLE,
            "a CredentialsReady condition",
            diagnose=lambda: debug(kubectl, operator, ns, name),
        )
        creds = condition(st, "CredentialsReady")
        assert (creds["status"], creds["reason"]) == ("False", "CredentialsMissing"), creds
        assert f"{ns}/nope" in creds["message"], creds
        assert st["accountState"] == "Error"
        wait_for(
            lambda: has_event(kubectl, ns, name, "CredentialsMissing"),
            SETTLE,
            "a CredentialsMissing event",
        )
        assert f"{other}/nope" not in json.dumps(st)

        # a Secret of that name in the account's own namespace, marked for cleanslate by its
        # owner, is read, and when it is unusable the account says which field is wrong
        # without quoting any value
        own_marker = f"OWN-{uuid.uuid4().hex}"
        kubectl(
            "create",
            "secret",
            "generic",
            "nope",
            "-n",
            ns,
            f"--from-literal=apiKeyName={own_marker}",
            f"--from-literal=apiPrivateKey={own_marker}",
        )
        kubectl(
            "label", "secret", "nope", "-n", ns, "cleanslate.dev/secret-type=exchange-credentials"
        )
        st = wait_for(
            lambda: (
                "apiPrivateKey"
                in condition(s := status(kubectl, ns, name), "CredentialsReady").get("message", "")
                and s
            ),
            SETTLE,
            "CredentialsReady naming the unusable field",
            diagnose=lambda: debug(kubectl, operator, ns, name),
        )
        assert condition(st, "CredentialsReady")["status"] == "False", st
        everything = kubectl("get", "ta", name, "-n", ns, "-o", "json") + json.dumps(
            events(kubectl, ns, name)
        )
        for value in (marker, own_marker):
            assert value not in everything
            assert value not in operator.log_text()
        assert own_orders(operator.state_dir, ns, name) == []
    finally:
        kubectl("delete", "namespace", other, "--wait=false", "--ignore-not-found")


# --- 7. a no-op cycle writes nothing ---------------------------------------------------------


def test_no_op_cycles_of_a_clean_account_make_no_api_write(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "quiet"
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(
        account_manifest(ns, name, {"USD": 150, "SOL": 0.1}, trackedPositions=SOL_TRACKED)
    )
    wait_for(
        lambda: state_of(kubectl, ns, name, "Clean"),
        SETTLE,
        "accountState Clean",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )

    assert_no_writes_over_three_cycles(kubectl, operator, ns, name)


def assert_no_writes_over_three_cycles(
    kubectl: Kubectl, operator: OperatorProcess, ns: str, name: str
) -> None:
    def counters() -> tuple[float, float, str]:
        cycles = operator.account_sample("cleanslate_cycles_total", ns, name) or 0.0
        writes = operator.account_sample("cleanslate_status_writes_total", ns, name) or 0.0
        return cycles, writes, get(kubectl, ns, name)["metadata"]["resourceVersion"]

    # one more cycle after the one that changed the state, then nothing may be written. Two
    # are counted: a cycle writes its status before the cycle metric counts it, so a sample
    # taken just after the status appeared may not count the cycle that wrote it yet
    first = counters()
    wait_for(lambda: counters()[0] >= first[0] + 2, SETTLE, "one more cycle")
    cycles, writes, version = counters()
    wait_for(
        lambda: counters()[0] >= cycles + 3,
        SETTLE,
        "three more cycles",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    after = counters()
    assert after[1] == writes, f"status writes went from {writes} to {after[1]}"
    assert after[2] == version, f"resourceVersion went from {version} to {after[2]}"


def test_no_op_cycles_of_an_account_waiting_on_backoff_make_no_api_write(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "waiting"
    kubectl.apply(policy_manifest(ns, backoff={"schedule": [{"failures": 3, "delay": "1h"}]}))
    kubectl.apply(account_manifest(ns, name, BONK))
    wait_for(
        lambda: failures_of(kubectl, ns, name, "BONK-USD").get("nextRetryAt"),
        SETTLE,
        "BONK-USD in backoff",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    assert_no_writes_over_three_cycles(kubectl, operator, ns, name)


# --- 8. deletion lets go -----------------------------------------------------------------------


def test_deleted_account_cancels_its_orders_and_disappears(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns, name = namespace, "doomed"
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(account_manifest(ns, name, BONK))
    wait_for(
        lambda: own_orders(operator.state_dir, ns, name),
        SETTLE,
        "orders placed for BONK-USD",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    finalizers = get(kubectl, ns, name)["metadata"].get("finalizers") or []
    assert "cleanslate.dev/finalizer" in finalizers, finalizers
    failing = {"namespace": ns, "account": name, "symbol": "BONK-USD"}
    wait_for(
        lambda: operator.sample("cleanslate_purge_failure_count", **failing),
        SETTLE,
        "BONK-USD's failure count exported",
        diagnose=lambda: debug(kubectl, operator, ns, name),
    )
    kubectl("delete", "ta", name, "-n", ns, "--wait=false")
    wait_for(
        lambda: not kubectl("get", "ta", "-n", ns, "-o", "name").strip(),
        SETTLE,
        "the account gone (finalizer released)",
        diagnose=operator.log_tail,
    )
    placed = own_orders(operator.state_dir, ns, name)
    assert placed and all(o["status"] != OPEN for o in placed), placed
    # its gauges are dropped with it: no ghost account on the dashboards
    assert operator.account_sample("cleanslate_account_clean", ns, name) is None
    assert operator.sample("cleanslate_purge_failure_count", **failing) is None


# --- 6. two tenants side by side --------------------------------------------------------------


def test_tenants_in_two_namespaces_use_their_own_policies_and_stay_isolated(
    kubectl: Kubectl, crds: None, kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    a, b, name = namespace, f"{namespace}-b", "tenant"
    kubectl("create", "namespace", b)
    try:
        # same policy name in both; only tenant a excludes SOL-USD
        kubectl.apply(policy_manifest(a, universe={"excludedSymbols": ["SOL-USD"]}))
        kubectl.apply(policy_manifest(b))
        for ns in (a, b):
            kubectl.apply(
                account_manifest(
                    ns,
                    name,
                    {"USD": 150, "SOL": 0.1, "SEI": 60},
                    trackedPositions=SOL_TRACKED,
                    labelled=False,
                )
            )
        process = OperatorProcess(
            kubeconfig, tmp_path / "state", tmp_path / "operator.log", namespaces=[a, b]
        )
        with process as op:
            for ns in (a, b):
                wait_for(
                    partial(state_of, kubectl, ns, name, "Clean"),
                    SETTLE,
                    f"{ns}/{name} Clean",
                    diagnose=partial(debug, kubectl, op, ns, name),
                )
            held = {ns: paper_state(op.state_dir, ns, name)["balances"] for ns in (a, b)}
            assert Decimal(held[a].get("SOL", "0")) == 0, held  # excluded by a's policy
            assert Decimal(held[b]["SOL"]) == Decimal("0.1"), held  # kept by b's policy
            assert all(dust(held[ns], "SEI") for ns in (a, b)), held

            kubectl("delete", "purgepolicy", "fast", "-n", a)
            st = wait_for(
                lambda: (
                    (
                        condition(s := status(kubectl, a, name), "PolicyResolved").get("reason")
                        == "PolicyMissing"
                    )
                    and s
                ),
                SETTLE,
                f"{a}/{name} PolicyMissing",
                diagnose=lambda: debug(kubectl, op, a, name),
            )
            assert condition(st, "Stalled")["status"] == "True"
            # tenant b keeps its policy and keeps cycling, clean
            cycles = op.account_sample("cleanslate_cycles_total", b, name) or 0
            wait_for(
                lambda: (op.account_sample("cleanslate_cycles_total", b, name) or 0) >= cycles + 2,
                SETTLE,
                f"{b}/{name} cycling on",
            )
            other = status(kubectl, b, name)
            assert other["accountState"] == "Clean", other
            assert condition(other, "PolicyResolved")["status"] == "True", other
            assert not has_event(kubectl, b, name, "PolicyMissing")
            delete_accounts(kubectl, a, b)
    finally:
        kubectl("delete", "namespace", b, "--wait=false", "--ignore-not-found")
