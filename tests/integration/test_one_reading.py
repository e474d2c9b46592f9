"""One reading of every file (issue 27 item 3), proved against the real API server.

Manifests are generated from the CRDs' own schemas (``api/structural.py`` reads the
generated ``openAPIV3Schema``): a valid account and policy, then one to three mutations of
fields the schema names, with values drawn to sit on either side of each rule (types mixed
up, bounds crossed, formats half-right, nulls, unknown fields, deletions). Each manifest goes
to the API server as a server-side dry-run create (``fieldValidation=Strict``, what ``kubectl
apply`` asks) and, as a file, to the CLI's loader. Both must give the same verdict; where
both accept, the operator's reading of the stored object (the same pydantic model, after the
API server) must equal the CLI's, and every field stored must read the same (quote
currencies aside: the model always adds the default ones, for both readers).

The one documented exception: the CLI refuses more for reasons of its own that the API
server cannot know (the paper market and the open orders' products must exist in the
built-in data), and those refusals name the field (``CLI_ONLY``).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_operator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from pydantic import ValidationError

from cleanslate.api.account import TradingAccount
from cleanslate.api.fields import parse_duration
from cleanslate.api.policy import PurgePolicy
from cleanslate.api.structural import _schemas
from cleanslate.cli.manifests import ManifestError, read_object
from cleanslate.localcluster import Kubectl, KubectlError

crds = test_operator.crds

pytestmark = pytest.mark.cluster

CASES = 2500
CLI_ONLY = ("spec.exchange.paper.market", "spec.exchange.paper.openOrders")
ACCOUNT: dict[str, Any] = {
    "apiVersion": "cleanslate.dev/v1alpha1",
    "kind": "TradingAccount",
    "metadata": {"name": "acct", "generation": 1, "labels": {"team": "a"}},
    "spec": {
        "policyRef": {"name": "default"},
        "mode": "DryRun",
        "intervalSeconds": 60,
        "exchange": {
            "name": "paper",
            "paper": {
                "seed": 7,
                "market": "documents",
                "holdings": {"USD": 120, "SEI": 36.4},
                "openOrders": [{"productId": "SEI-USD", "side": "SELL", "size": 1,
                                "limitPrice": 0.5, "ageMinutes": 10}],
            },
        },
        "protectedSymbols": ["BTC"],
        "trackedPositions": [{"symbol": "SOL-USD", "entryPrice": 150,
                              "openedAt": "2026-01-05T10:00:00Z"}],
        "leaveAlone": [{"symbol": "BONK", "reason": "mine", "until": "2030-01-01T00:00:00Z"}],
        "bans": [{"symbol": "AUT-USD", "reason": "delisted",
                  "expiresAt": "2030-01-01T00:00:00+02:00"}],
    },
}  # fmt: skip
POLICY: dict[str, Any] = {
    "apiVersion": "cleanslate.dev/v1alpha1",
    "kind": "PurgePolicy",
    "metadata": {"name": "default"},
    "spec": {
        "maxPositions": 8,
        "minLiquidationValueUsd": 5,
        "execution": {"sliceUsd": 5, "maxDurationSeconds": 240, "makerTtlSec": 25},
        "backoff": {"schedule": [{"failures": 3, "delay": "1h"}, {"failures": 5, "delay": "24h"}]},
        "symbolFreeze": {"cooldown": "24h"},
        "universe": {"tiers": [{"name": "t", "symbols": ["SEI-USD"]}]},
        "quoteCurrencies": ["USD"],
    },
}  # fmt: skip
BASES = {"TradingAccount": ACCOUNT, "PurgePolicy": POLICY}
PLURALS = {"TradingAccount": "tradingaccounts", "PurgePolicy": "purgepolicies"}


# --- generating manifests from the schema -------------------------------------------------


def _leaves(node: dict[str, Any], path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every field the schema names under ``node`` (maps get the key SEI, lists index 0),
    with its schema; objects and lists are fields too (set whole, nulled, deleted)."""
    yield path, node
    if node.get("type") == "object" and "properties" in node:
        for key, sub in node["properties"].items():
            yield from _leaves(sub, (*path, key))
    elif node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
        yield from _leaves(node["additionalProperties"], (*path, "SEI"))
    elif node.get("type") == "array":
        yield from _leaves(node.get("items", {}), (*path, "0"))


FIELDS = {
    kind: [(p, s) for p, s in _leaves(schema["properties"]["spec"], ("spec",)) if len(p) > 1]
    for kind, schema in _schemas().items()
}
METADATA = [("metadata", "generation"), ("metadata", "labels"), ("metadata", "name")]
META_VALUES = [-1, 0, 2, 1.5, 1.0, "abc", "1", {"a": 1}, {"a": "b"}, "UPPER", "ok-name", None]

DATE_TIMES = ["2030-01-01T00:00:00Z", "2030-01-01T00:00:00.5+01:00", "2030-01-01",
              "2030-01-01T00:00:00", "2030-01-01 00:00:00Z", "2030-02-30T00:00:00Z",
              "2030-01-01t00:00:00z", 2030, 1893456000, "2030-01-01T00:00Z"]  # fmt: skip
NUMBERS = [0, 1, -1, 1.5, 0.1, 36.4, 100, 101, 1000, 1001, 86400, 86401, 1e27, 9e27, 1e28,
           1e30, 2**31, 2**32 - 1, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**64, 2**80, 1.0, -0.5,
           1e-9, "1", "36.4", "1e3", True, None, [], {}]  # fmt: skip
STRINGS = ["", "x", "SEI", "SEI-USD", "sei-usd", "SEI/USD", "A" * 21 + "-USD", "default",
           "Live", "DryRun", "live", "paper", "24h", "90m", "1h30m", "0.5s", "10000h",
           "9999h9999h9999h9999h", "70000000h", "1000000000000h", "1 day", "-1h", "P1D",
           "https://api.coinbase.com", "x" * 300, "SEI-USD\n", 5, 1.5, True, None, [],
           {}]  # fmt: skip


def _values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    pool: list[Any] = list(schema.get("enum") or [])
    if kind == "string" and schema.get("format") == "date-time":
        pool += DATE_TIMES
    elif kind == "string":
        pool += STRINGS
    elif kind in ("integer", "number"):
        pool += NUMBERS
        for bound in ("minimum", "maximum"):
            if bound in schema:
                b = schema[bound]
                pool += [b, b - 1, b + 1, b - 0.5, b + 0.5] if abs(b) < 1e20 else [b]
    elif kind == "boolean":
        pool += [True, False, "true", "yes", 1, None]
    elif kind == "array":
        pool += [[], None, "x", [None]]
    elif kind == "object":
        pool += [{}, None, "x", {"bogus": 1}]
    pool.append("<delete>")
    return st.sampled_from(pool)


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(BASES)))
    document = copy.deepcopy(BASES[kind])
    for _ in range(draw(st.integers(1, 3))):
        choice = draw(st.integers(0, 19))
        if choice == 0:
            path = draw(st.sampled_from(METADATA))
            value = draw(st.sampled_from(META_VALUES))
        elif choice == 1:
            path = draw(st.sampled_from([p for p, _ in FIELDS[kind]]))
            path, value = (*path[:-1], "bogusField"), 1
        else:
            path, schema = draw(st.sampled_from(FIELDS[kind]))
            value = draw(_values(schema))
        _set(document, path, value)
    return document


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = document
    for key in path[:-1]:
        if isinstance(node, list):
            node = node[int(key)] if int(key) < len(node) else None
        elif isinstance(node, dict):
            node = node.setdefault(key, {} if not key.isdigit() else [])
            if isinstance(node, list) and not node:
                node.append({})
        if not isinstance(node, dict | list):
            return  # an earlier mutation replaced a parent: nothing to set
    last = path[-1]
    if isinstance(node, list):
        if not node:
            node.append(None)
        if value == "<delete>":
            node.pop(0)
        else:
            node[0] = value
    elif value == "<delete>":
        node.pop(last, None)
    else:
        node[last] = value


def generated() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    @settings(
        max_examples=CASES,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(manifests())
    def collect(document: dict[str, Any]) -> None:
        found.append(document)

    collect()
    unique = {json.dumps(d, sort_keys=True): d for d in found}
    return list(unique.values())


# --- comparing ------------------------------------------------------------------------------


def _same(stored: Any, read: Any, path: str) -> str | None:
    """None when the CLI's value ``read`` is what the API server stored, else the path."""
    if isinstance(stored, dict):
        if not isinstance(read, dict):
            return path
        for key, value in stored.items():
            if (why := _same(value, read.get(key), f"{path}.{key}")) is not None:
                return why
        return None
    if isinstance(stored, list):
        if not isinstance(read, list) or len(read) != len(stored):
            return path
        for i, (a, b) in enumerate(zip(stored, read, strict=True)):
            if (why := _same(a, b, f"{path}.{i}")) is not None:
                return why
        return None
    if isinstance(stored, bool) or stored is None:
        return None if stored == read else path
    if isinstance(stored, int | float):
        ok = isinstance(read, int | float) and Decimal(repr(stored)) == Decimal(repr(read))
        return None if ok else path
    if isinstance(stored, str) and isinstance(read, str) and stored != read:
        for parse in (_date_time, parse_duration):
            try:
                return None if parse(stored) == parse(read) else path
            except (ValueError, TypeError):
                continue
    return None if stored == read else path


def _date_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


async def _server_verdicts(
    api: client.ApiClient, namespace: str, documents: list[dict[str, Any]]
) -> list[tuple[bool, Any]]:
    objects = client.CustomObjectsApi(api)
    gate = asyncio.Semaphore(16)

    async def submit(document: dict[str, Any]) -> tuple[bool, Any]:
        body = copy.deepcopy(document)
        async with gate:
            try:
                stored = await objects.create_namespaced_custom_object(
                    "cleanslate.dev",
                    "v1alpha1",
                    namespace,
                    PLURALS[str(document["kind"])],
                    body,
                    dry_run="All",
                    field_validation="Strict",
                )
            except ApiException as exc:
                if exc.status not in (400, 422):
                    raise
                return False, json.loads(exc.body or "{}").get("message", "")
        return True, stored

    return list(await asyncio.gather(*(submit(d) for d in documents)))


def _cli_verdict(path: Path, document: dict[str, Any]) -> tuple[bool, Any]:
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        found = read_object(path)
    except ManifestError as exc:
        return False, str(exc)
    return True, {"spec": found.spec.to_wire()}


async def test_the_cli_reads_every_generated_manifest_as_the_api_server_does(
    k8s_api: client.ApiClient, crds: None, namespace: str, tmp_path: Path
) -> None:
    documents = generated()
    assert len(documents) >= 1000
    server = await _server_verdicts(k8s_api, namespace, documents)
    mismatches: list[str] = []
    accepted = refused = 0
    for index, (document, (server_ok, stored)) in enumerate(zip(documents, server, strict=True)):
        cli_ok, read = _cli_verdict(tmp_path / f"m{index}.json", document)
        shown = json.dumps(document)[:400]
        if server_ok and not cli_ok:
            if not any(field in read for field in CLI_ONLY):
                mismatches.append(f"CLI refused what the server accepts: {read} <- {shown}")
        elif cli_ok and not server_ok:
            mismatches.append(f"CLI accepted what the server refused: {stored} <- {shown}")
        elif cli_ok:
            accepted += 1
            # What the operator reads from the stored object is what the CLI read.
            model = TradingAccount if document["kind"] == "TradingAccount" else PurgePolicy
            try:
                operator_reads = {"spec": model.model_validate(stored).spec.to_wire()}
            except ValidationError as exc:
                mismatches.append(f"the operator refuses what both accept: {exc} <- {shown}")
                continue
            if (where := _same(operator_reads["spec"], read["spec"], "spec")) is not None:
                mismatches.append(f"different value at {where} <- {shown}")
            if (where := _same(stored["spec"], read["spec"], "spec")) is not None and (
                not where.startswith("spec.quoteCurrencies")
            ):
                mismatches.append(f"stored {where} reads differently <- {shown}")
        else:
            refused += 1
    assert not mismatches, f"{len(mismatches)} of {len(documents)}:\n" + "\n".join(mismatches[:25])
    assert accepted >= 100 and refused >= 100, (accepted, refused)


# --- the same, for YAML text through kubectl ------------------------------------------------

YAML_BASE = """apiVersion: cleanslate.dev/v1alpha1
kind: TradingAccount
metadata:
  name: acct
spec:
  policyRef: {name: default}
  exchange:
    name: paper
    paper:
      holdings: {USD: 120}
"""
YAML_QUIRKS = {
    "merge-key-sequence": "  <<: [{mode: Live}, {mode: DryRun}]\n",
    "merge-key-mapping": "  <<: {mode: Live}\n",
    "until-a-date": "  leaveAlone: [{symbol: SEI, reason: r, until: 2030-01-01}]\n",
    "until-an-int": "  leaveAlone: [{symbol: SEI, reason: r, until: 2030}]\n",
    "until-rfc3339": "  leaveAlone: [{symbol: SEI, reason: r, until: 2030-01-01T00:00:00Z}]\n",
    "until-spaced": "  leaveAlone: [{symbol: SEI, reason: r, until: 2030-01-01 00:00:00Z}]\n",
    "interval-exponent": "  intervalSeconds: 6e1\n",
    "interval-float": "  intervalSeconds: 60.0\n",
    "interval-hex": "  intervalSeconds: 0x3c\n",
    "interval-octal": "  intervalSeconds: 074\n",
    "interval-underscore": "  intervalSeconds: 6_0\n",
    "interval-base-60": "  intervalSeconds: 1:00\n",
    "interval-quoted": "  intervalSeconds: '60'\n",
    "suspend-yes": "  suspend: yes\n",
    "suspend-on": "  suspend: on\n",
    "suspend-y": "  suspend: y\n",
    "suspend-True": "  suspend: True\n",
    "mode-null": "  mode: ~\n",
    "mode-tilde-string": "  mode: '~'\n",
    "holding-inf": "  trackedPositions: [{symbol: SOL-USD, entryPrice: .inf}]\n",
    "holding-exponent": "  trackedPositions: [{symbol: SOL-USD, entryPrice: 1.5e+2}]\n",
    "holding-no-dot-exponent": "  trackedPositions: [{symbol: SOL-USD, entryPrice: 15e1}]\n",
}


CLI_REFUSES_MORE = {"merge-key-sequence", "merge-key-mapping", "suspend-y"}
"""Quirks kubectl reads and the CLI refuses (allowed, never the other way round): merge keys
(PyYAML and kubectl's library merge a sequence in opposite orders, so the CLI refuses them
all), and ``y``/``n``, booleans only to kubectl's YAML 1.1 library."""


@pytest.mark.parametrize("quirk", sorted(YAML_QUIRKS))
def test_yaml_text_reads_as_kubectl_reads_it_or_is_refused(
    kubectl: Kubectl, crds: None, namespace: str, tmp_path: Path, quirk: str
) -> None:
    """The YAML the differential test above cannot express (it sends JSON): kubectl converts
    the text, the API server judges it; the CLI must agree, or refuse (never read it
    otherwise)."""
    text = YAML_BASE + YAML_QUIRKS[quirk]
    try:
        stored = json.loads(
            kubectl(
                "create", "--dry-run=server", "-n", namespace, "-o", "json", "-f", "-", input=text
            )
        )
    except KubectlError:
        stored = None
    path = tmp_path / "account.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        read = read_object(path)
    except ManifestError:
        read = None
    print(f"{quirk}: kubectl {'accepts' if stored else 'refuses'}, CLI "
          f"{'accepts' if read else 'refuses'}")  # fmt: skip
    if read is None:
        assert quirk in CLI_REFUSES_MORE or stored is None, f"{quirk}: refused by the CLI only"
        return
    assert stored is not None, f"{quirk}: the CLI accepted what kubectl/the API server refused"
    operator_reads = TradingAccount.model_validate(stored).spec.to_wire()
    assert read.spec.to_wire() == operator_reads, quirk
