"""A manual action waits for nothing (issue 27 item 2), on the real API server.

Every manual action (liquidate, retry, unfreeze) in every state (suspended, DryRun, a
protected symbol, a symbol left alone, a released quote currency, a plain Live account) is
acted on now or refused now with a warning event, and its annotation is removed either way.
A liquidate seen while suspended is not kept: lifting ``suspend`` sells nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_operator
from operator_process import OperatorProcess, wait_for
from test_operator import (
    RUN_LABEL,
    account_manifest,
    events,
    own_orders,
    paper_state,
    policy_manifest,
    status,
)

from cleanslate.localcluster import Kubectl

crds = test_operator.crds
accounts_deleted_after_test = test_operator.accounts_deleted_after_test

pytestmark = pytest.mark.cluster

RUN_ID = f"mm-{uuid.uuid4().hex[:8]}"
SETTLE = 60.0
KEYS = ("cleanslate.dev/liquidate", "cleanslate.dev/retry-purge", "cleanslate.dev/unfreeze")
REASONS = {"cleanslate.dev/liquidate": "ManualLiquidate",
           "cleanslate.dev/retry-purge": "ManualRetry",
           "cleanslate.dev/unfreeze": "ManualUnfreeze"}  # fmt: skip
SOL_TRACKED = [{"symbol": "SOL-USD", "entryPrice": 150, "openedAt": "2026-01-05T10:00:00Z"}]
HOLDINGS = {"USD": 150, "SOL": 0.1, "USDT": 20}

# state -> (spec changes, symbol asked for, which actions are refused)
MATRIX: dict[str, tuple[dict[str, Any], str, set[str]]] = {
    "suspended": ({"suspend": True}, "SOL-USD", set(KEYS)),
    "dryrun": ({"mode": "DryRun"}, "SOL-USD", {"cleanslate.dev/liquidate"}),
    "protected": ({"protectedSymbols": ["SOL"]}, "SOL-USD", {"cleanslate.dev/liquidate"}),
    "leftalone": (
        {"leaveAlone": [{"symbol": "SOL", "reason": "mine"}]},
        "SOL-USD",
        {"cleanslate.dev/liquidate"},
    ),
    "released": ({"policyRef": {"name": "released"}}, "USDT-USD", set()),
    "quote": ({}, "USDC-USD", {"cleanslate.dev/liquidate"}),
    "live": ({}, "SOL-USD", set()),
}


@pytest.fixture(scope="module")
def operator(
    crds: None, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    base = tmp_path_factory.mktemp("operator-mm")
    process = OperatorProcess(
        kubeconfig,
        base / "state",
        base / "operator.log",
        selector=f"{RUN_LABEL}={RUN_ID}",
        status_refresh_seconds=3600,
    )
    with process:
        yield process


def manifest(ns: str, name: str) -> dict[str, Any]:
    spec, symbol, _ = MATRIX[name]
    body = account_manifest(ns, name, HOLDINGS, trackedPositions=SOL_TRACKED, **spec)
    body["metadata"]["labels"] = {RUN_LABEL: RUN_ID}
    body["metadata"]["annotations"] = dict.fromkeys(KEYS, symbol)
    return body


def annotations(kubectl: Kubectl, ns: str, name: str) -> dict[str, str]:
    body = test_operator.get(kubectl, ns, name)
    return dict(body["metadata"].get("annotations") or {})


def manual_events(kubectl: Kubectl, ns: str, name: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for event in events(kubectl, ns, name):
        found.setdefault(event.get("reason", ""), []).append(event)
    return found


def test_every_manual_action_in_every_state_is_acted_on_or_refused_now(
    kubectl: Kubectl, operator: OperatorProcess, namespace: str
) -> None:
    ns = namespace
    kubectl.apply(policy_manifest(ns))
    kubectl.apply(policy_manifest(ns, "released", releasedQuoteCurrencies=["USDT"]))
    for name in MATRIX:
        kubectl.apply(manifest(ns, name))

    for name, (_, symbol, refused) in MATRIX.items():
        wait_for(
            lambda name=name: not any(k in annotations(kubectl, ns, name) for k in KEYS),
            SETTLE,
            f"{name}: every manual annotation removed",
            diagnose=lambda name=name: (
                f"{annotations(kubectl, ns, name)} {status(kubectl, ns, name)}"
            ),
        )
        # the events come with the decision, before or with the removal
        seen = wait_for(
            lambda name=name: (
                (found := manual_events(kubectl, ns, name))
                and all(REASONS[k] in found for k in KEYS)
                and found
            ),
            SETTLE,
            f"{name}: an event for each manual action",
            diagnose=lambda name=name: str(manual_events(kubectl, ns, name).keys()),
        )
        for key in KEYS:
            messages = [e.get("message", "") for e in seen[REASONS[key]]]
            refusals = [m for m in messages if f"{symbol} refused" in m]
            kinds = {
                e.get("type")
                for e in seen[REASONS[key]]
                if f"{symbol} refused" in e.get("message", "")
            }
            assert bool(refusals) is (key in refused), (name, key, messages)
            assert kinds <= {"Warning"}, (name, key, kinds)

    # the suspended account's liquidate was refused, not kept: resuming sells nothing
    def cycles() -> float:
        return operator.account_sample("cleanslate_cycles_total", ns, "suspended") or 0

    start = cycles()
    patch = '{"spec":{"suspend":false}}'
    kubectl("patch", "ta", "suspended", "-n", ns, "--type=merge", "-p", patch)
    wait_for(lambda: cycles() >= start + 3, SETTLE, "three cycles after resuming")
    assert own_orders(operator.state_dir, ns, "suspended") == []
    after = Decimal(paper_state(operator.state_dir, ns, "suspended")["balances"].get("SOL", "0"))
    assert after == Decimal("0.1")
    # the plain Live account's liquidate was acted on: its SOL is sold
    wait_for(
        lambda: Decimal(paper_state(operator.state_dir, ns, "live")["balances"].get("SOL", 0)) == 0,
        SETTLE,
        "the Live account's SOL sold by hand",
    )
