"""Invalid TradingAccount and PurgePolicy manifests are rejected by the API server itself,
with a message that names the offending field (issue 6).

The CRDs in ``crds/`` are applied once; every case starts from a small manifest that the API
server accepts (checked by ``test_base_manifests_are_accepted``) and breaks exactly one thing.
Nothing here runs the operator or pydantic: what is checked is the structural schema, its
formats, enums, bounds, patterns, required fields and CEL rules, as ``kubectl`` users meet them.

Unknown fields are a special case: a structural schema prunes them silently unless the client
asks for strict field validation (``kubectl --validate=strict``, the ``fieldValidation=Strict``
query parameter), in which case the API server refuses them and names them.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.localcluster import Kubectl, KubectlError

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "crds"
EXAMPLES = ROOT / "examples"
API_VERSION = "cleanslate.dev/v1alpha1"
FIELD_MANAGER = "cleanslate-invalid-manifests-test"

Manifest = dict[str, Any]


@pytest.fixture(scope="session")
def cleanslate_crds(kubectl: Kubectl) -> list[str]:
    """The project's CRDs, applied (server side) and Established."""
    names = []
    for path in sorted(CRDS.glob("*.yaml")):
        kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={FIELD_MANAGER}",
            "-f",
            str(path),
        )
        names.append(yaml.safe_load(path.read_text())["metadata"]["name"])
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in names))
    return names


@pytest.fixture(scope="module")
def manifests_namespace(kubectl: Kubectl, cleanslate_crds: list[str]) -> Iterator[str]:
    name = f"invalid-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def base_policy() -> Manifest:
    return {
        "apiVersion": API_VERSION,
        "kind": "PurgePolicy",
        "metadata": {"name": "bad-policy"},
        "spec": {
            "dust": {"thresholdUsd": 1, "thresholdPctOfAccount": 1, "action": "Ignore"},
            "unwind": {"fraction": 0.25, "cycles": 4},
            "universe": {"tiers": [{"name": "tier1-core", "symbols": ["BTC-USD"]}]},
        },
    }


def base_account() -> Manifest:
    return {
        "apiVersion": API_VERSION,
        "kind": "TradingAccount",
        "metadata": {"name": "bad-account"},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "DryRun",
            "exchange": {"name": "paper", "paper": {"holdings": {"USD": 100, "SEI": 36.4}}},
            "intervalSeconds": 60,
        },
    }


def _set(manifest: Manifest, path: str, value: Any) -> Manifest:
    """Set a dotted path (``spec.dust.action``; a number indexes a list)."""
    *parents, last = path.split(".")
    node: Any = manifest
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return manifest


def _delete(manifest: Manifest, path: str) -> Manifest:
    *parents, last = path.split(".")
    node: Any = manifest
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]
    return manifest


@dataclass(frozen=True)
class Case:
    id: str
    base: Callable[[], Manifest]
    edit: Callable[[Manifest], Manifest]
    field: str
    """The field path the API server's message must name."""
    strict: bool = False
    """Send with strict field validation (unknown fields are otherwise pruned)."""

    def manifest(self) -> Manifest:
        return self.edit(copy.deepcopy(self.base()))


def policy(case_id: str, path: str, value: Any, field: str | None = None) -> Case:
    return Case(case_id, base_policy, lambda m: _set(m, path, value), field or path)


def account(case_id: str, path: str, value: Any, field: str | None = None) -> Case:
    return Case(case_id, base_account, lambda m: _set(m, path, value), field or path)


CASES = [
    # -- PurgePolicy: ranges ------------------------------------------------------------
    policy("policy-dust-pct-over-100", "spec.dust.thresholdPctOfAccount", 150),
    policy("policy-dust-negative-usd", "spec.dust.thresholdUsd", -1),
    policy("policy-negative-min-liquidation", "spec.minLiquidationValueUsd", -5),
    policy("policy-exposure-pct-over-100", "spec.exposure.maxTotalAtRiskPct", 101),
    policy("policy-unwind-fraction-1.5", "spec.unwind.fraction", 1.5),
    policy("policy-unwind-fraction-0", "spec.unwind.fraction", 0),
    policy("policy-unwind-cycles-0", "spec.unwind.cycles", 0),
    policy("policy-max-slices-0", "spec.execution.maxSlices", 0),
    policy("policy-poll-interval-0", "spec.execution.pollIntervalSeconds", 0),
    policy("policy-liquidations-per-cycle-101", "spec.maxLiquidationsPerCycle", 101),
    policy(
        "policy-spread-over-10000-bps",
        "spec.universe.tiers.0.maxSpreadBps",
        20000,
        "spec.universe.tiers[0].maxSpreadBps",
    ),
    policy("policy-cycle-budget-negative", "spec.cycleBudgetSeconds", -1),
    policy(
        "policy-maker-ttl-longer-than-the-purge",
        "spec.execution",
        {"makerTtlSec": 300, "maxDurationSeconds": 240},
        "spec.execution.makerTtlSec",
    ),
    policy(
        "policy-maker-retry-ttl-longer-than-a-short-purge",
        "spec.execution.maxDurationSeconds",
        10,
        "spec.execution.makerRetryTtlSec",
    ),
    # -- PurgePolicy: types, enums, patterns --------------------------------------------
    policy("policy-max-positions-string", "spec.maxPositions", "eight"),
    policy("policy-dust-action-typo", "spec.dust.action", "Sell"),
    policy(
        "policy-excluded-symbol-bonk",
        "spec.universe.excludedSymbols",
        ["bonk"],
        "spec.universe.excludedSymbols[0]",
    ),
    policy(
        "policy-quote-currency-lowercase",
        "spec.quoteCurrencies",
        ["usd"],
        "spec.quoteCurrencies[0]",
    ),
    policy("policy-cooldown-a-day", "spec.symbolFreeze.cooldown", "a day"),
    policy(
        "policy-backoff-delay-1-hour",
        "spec.backoff.schedule",
        [{"failures": 3, "delay": "1 hour"}],
        "spec.backoff.schedule[0].delay",
    ),
    policy(
        "policy-backoff-failures-0",
        "spec.backoff.schedule",
        [{"failures": 0, "delay": "1h"}],
        "spec.backoff.schedule[0].failures",
    ),
    # -- PurgePolicy: required fields and CEL rules -------------------------------------
    Case(
        "policy-tier-without-name",
        base_policy,
        lambda m: _delete(m, "spec.universe.tiers.0.name"),
        "spec.universe.tiers[0].name",
    ),
    policy(
        "policy-duplicate-tier-names",
        "spec.universe.tiers",
        [{"name": "core"}, {"name": "alts"}, {"name": "core"}],
        "spec.universe.tiers",
    ),
    Case(
        "policy-backoff-failures-not-increasing",
        base_policy,
        lambda m: _set(
            m,
            "spec.backoff.schedule",
            [{"failures": 4, "delay": "1h"}, {"failures": 3, "delay": "2h"}],
        ),
        "spec.backoff.schedule",
    ),
    Case(
        "policy-backoff-delay-decreasing",
        base_policy,
        lambda m: _set(
            m,
            "spec.backoff.schedule",
            [{"failures": 3, "delay": "2h"}, {"failures": 4, "delay": "30m"}],
        ),
        "spec.backoff.schedule",
    ),
    # -- TradingAccount: enums, ranges, patterns ----------------------------------------
    account("account-mode-live-lowercase", "spec.mode", "live"),
    account("account-unknown-exchange", "spec.exchange.name", "binance"),
    account("account-interval-0", "spec.intervalSeconds", 0),
    account("account-interval-over-a-day", "spec.intervalSeconds", 86401),
    account(
        "account-negative-holding",
        "spec.exchange.paper.holdings.SEI",
        -1,
        "spec.exchange.paper.holdings.SEI",
    ),
    account(
        "account-holding-lowercase-asset",
        "spec.exchange.paper.holdings.sei",
        36.4,
        "spec.exchange.paper.holdings",
    ),
    account(
        "account-tracked-symbol-bonk",
        "spec.trackedPositions",
        [{"symbol": "bonk"}],
        "spec.trackedPositions[0].symbol",
    ),
    account(
        "account-entry-price-0",
        "spec.trackedPositions",
        [{"symbol": "SOL-USD", "entryPrice": 0}],
        "spec.trackedPositions[0].entryPrice",
    ),
    account(
        "account-ban-expiry-not-a-time",
        "spec.bans",
        [{"symbol": "SEI-USD", "expiresAt": "tomorrow"}],
        "spec.bans[0].expiresAt",
    ),
    account(
        "account-leave-alone-without-reason",
        "spec.leaveAlone",
        [{"symbol": "BONK-USD", "until": "2026-01-01T00:00:00Z"}],
        "spec.leaveAlone[0].reason",
    ),
    account("account-policy-ref-bad-name", "spec.policyRef.name", "Default_Policy"),
    account("account-taker-fee-over-1000-bps", "spec.exchange.paper.fees.takerBps", 5000),
    account(
        "account-fault-kind-typo",
        "spec.exchange.paper.faults",
        [{"kind": "explode"}],
        "spec.exchange.paper.faults[0].kind",
    ),
    account(
        "account-fault-rate-2",
        "spec.exchange.paper.faults",
        [{"kind": "reject", "rate": 2}],
        "spec.exchange.paper.faults[0].rate",
    ),
    account(
        "account-seed-order-side-hold",
        "spec.exchange.paper.openOrders",
        [{"productId": "ADA-USD", "side": "HOLD", "size": 1, "limitPrice": 0.3}],
        "spec.exchange.paper.openOrders[0].side",
    ),
    account("account-suspend-not-boolean", "spec.suspend", "yes"),
    account("account-tenant-too-long", "spec.tenant", "t" * 64),
    Case(
        "account-coinbase-bad-base-url",
        base_account,
        lambda m: _set(
            m,
            "spec.exchange",
            {
                "name": "coinbase",
                "credentialsSecretRef": {"name": "coinbase-key"},
                "coinbase": {"baseUrl": "api.coinbase.com"},
            },
        ),
        "spec.exchange.coinbase.baseUrl",
    ),
    # -- TradingAccount: required fields and CEL rules ----------------------------------
    Case(
        "account-missing-policy-ref",
        base_account,
        lambda m: _delete(m, "spec.policyRef"),
        "spec.policyRef",
    ),
    Case("account-missing-spec", base_account, lambda m: _delete(m, "spec"), "spec"),
    Case(
        "account-coinbase-without-credentials",
        base_account,
        lambda m: _set(m, "spec.exchange", {"name": "coinbase"}),
        "spec.exchange.credentialsSecretRef",
    ),
    Case(
        "account-ccxt-without-its-block",
        base_account,
        lambda m: _set(
            m, "spec.exchange", {"name": "ccxt", "credentialsSecretRef": {"name": "venue-key"}}
        ),
        "spec.exchange.ccxt",
    ),
    Case(
        "account-ccxt-without-credentials",
        base_account,
        lambda m: _set(m, "spec.exchange", {"name": "ccxt", "ccxt": {"exchangeId": "kraken"}}),
        "spec.exchange.credentialsSecretRef",
    ),
    Case(
        "account-ccxt-bad-exchange-id",
        base_account,
        lambda m: _set(
            m,
            "spec.exchange",
            {
                "name": "ccxt",
                "credentialsSecretRef": {"name": "venue-key"},
                "ccxt": {"exchangeId": "Binance/../x"},
            },
        ),
        "spec.exchange.ccxt.exchangeId",
    ),
    # -- unknown fields, refused under strict field validation --------------------------
    Case(
        "policy-unknown-field-strict",
        base_policy,
        lambda m: _set(m, "spec.dust.treshold", 2),
        "spec.dust.treshold",
        strict=True,
    ),
    Case(
        "account-unknown-field-strict",
        base_account,
        lambda m: _set(m, "spec.exchange.paperr", {}),
        "spec.exchange.paperr",
        strict=True,
    ),
]


def _send(kubectl: Kubectl, namespace: str, manifest: Manifest, *, strict: bool) -> str:
    """Server-side apply (strict: ``kubectl create --validate=strict``)."""
    body = json.dumps(manifest)
    if strict:
        return kubectl("create", "--validate=strict", "-n", namespace, "-f", "-", input=body)
    return kubectl(
        "apply",
        "--server-side",
        f"--field-manager={FIELD_MANAGER}",
        "-n",
        namespace,
        "-f",
        "-",
        input=body,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_manifest_is_rejected_naming_the_field(
    kubectl: Kubectl, manifests_namespace: str, case: Case
) -> None:
    manifest = case.manifest()
    manifest["metadata"]["name"] = f"{manifest['metadata']['name']}-{uuid.uuid4().hex[:6]}"
    with pytest.raises(KubectlError) as rejected:
        _send(kubectl, manifests_namespace, manifest, strict=case.strict)
    stderr = rejected.value.stderr
    assert case.field in stderr, f"{case.id}: the message does not name {case.field}: {stderr}"
    # Rejected by the API server, not by kubectl or a connection problem.
    assert "Error from server" in stderr or "is invalid" in stderr, stderr


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("base", [base_policy, base_account], ids=["policy", "account"])
def test_base_manifests_are_accepted(
    kubectl: Kubectl, manifests_namespace: str, base: Callable[[], Manifest]
) -> None:
    """Each invalid case breaks one thing in a manifest that is otherwise accepted."""
    manifest = base()
    _send(kubectl, manifests_namespace, manifest, strict=True)
    kind = manifest["kind"].lower()
    kubectl("delete", "-n", manifests_namespace, kind, manifest["metadata"]["name"], "--wait=false")


def test_unknown_fields_are_pruned_without_strict_validation(
    kubectl: Kubectl, manifests_namespace: str
) -> None:
    """Why the unknown-field cases need strict validation: otherwise the field is dropped."""
    manifest = _set(base_policy(), "spec.dust.treshold", 2)
    manifest["metadata"]["name"] = "pruned"
    kubectl(
        "create",
        "--validate=false",
        "-n",
        manifests_namespace,
        "-f",
        "-",
        input=json.dumps(manifest),
    )
    stored = json.loads(
        kubectl("get", "-n", manifests_namespace, "purgepolicy", "pruned", "-o", "json")
    )
    assert "treshold" not in stored["spec"]["dust"]
    kubectl("delete", "-n", manifests_namespace, "purgepolicy", "pruned", "--wait=false")


@pytest.mark.parametrize("example", ["policy.yaml", "account.yaml"])
def test_examples_are_accepted(kubectl: Kubectl, manifests_namespace: str, example: str) -> None:
    manifest = yaml.safe_load((EXAMPLES / example).read_text())
    manifest["metadata"]["namespace"] = manifests_namespace
    out = kubectl(
        "apply",
        "--server-side",
        "--validate=strict",
        f"--field-manager={FIELD_MANAGER}",
        "-f",
        "-",
        input=json.dumps(manifest),
    )
    assert "serverside-applied" in out
    kind = manifest["kind"].lower()
    kubectl("delete", "-n", manifests_namespace, kind, manifest["metadata"]["name"], "--wait=false")
