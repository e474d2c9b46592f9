"""Issue 13 against a real API server and a real ``cleanslate operator --verbose``.

An operator at its most verbose reads a Coinbase Secret through the API server and runs a
cycle that fails authentication at a recorded exchange (allowed by the operator's own flag);
a second account names an address the operator does not allow; a third names a Secret its
owner never marked for cleanslate. Then everything the operator wrote (its log, the accounts'
status, their events, its metrics) is searched for any piece of the key, its base64, and the
JWTs the exchange received.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from operator_process import OperatorProcess, wait_for

from cleanslate.localcluster import Kubectl

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
RUN_LABEL = "cleanslate.dev/test-run"
RUN_ID = uuid.uuid4().hex[:10]
SETTLE = 60.0
MARK = {"cleanslate.dev/secret-type": "exchange-credentials"}
KEY_NAME = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"


class RecordedExchange:
    """An HTTP server standing in for an exchange: it answers 401 with an error page that
    echoes the request's Authorization header, newlines and a few kilobytes of filler, and
    records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorded.append({"path": self.path, **dict(self.headers.items())})
                echo = self.headers.get("Authorization", "")
                body = f"<html>\nUnauthorized\nAuthorization: {echo}\n{'x' * 3000}</html>"
                data = body.encode()
                self.send_response(401)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordedExchange:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def jwts(self) -> list[str]:
        return [r["Authorization"].split()[-1] for r in self.requests if "Authorization" in r]


@pytest.fixture(scope="module")
def exchange() -> Iterator[RecordedExchange]:
    with RecordedExchange() as server:
        yield server


@pytest.fixture(scope="module")
def trap() -> Iterator[RecordedExchange]:
    """An address a tenant would like the operator to call; nothing may reach it."""
    with RecordedExchange() as server:
        yield server


@pytest.fixture(scope="module")
def crds(kubectl: Kubectl) -> None:
    """The CRDs, applied and Established before an operator starts."""
    kubectl("apply", "-f", str(ROOT / "crds"))
    for crd in ("tradingaccounts.cleanslate.dev", "purgepolicies.cleanslate.dev"):
        wait_for(
            lambda crd=crd: kubectl(
                "wait", "--for=condition=Established", f"crd/{crd}", "--timeout=10s"
            ),
            60,
            f"CRD {crd} Established",
        )


@pytest.fixture(scope="module")
def verbose_operator(
    crds: None,
    kubeconfig: Path,
    exchange: RecordedExchange,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    base = tmp_path_factory.mktemp("verbose-operator")
    process = OperatorProcess(
        kubeconfig,
        base / "state",
        base / "operator.log",
        selector=f"{RUN_LABEL}={RUN_ID}",
        extra_args=["--verbose", "--allow-exchange-url", exchange.url],
    )
    with process:
        yield process


@pytest.fixture(autouse=True)
def accounts_deleted_after_test(kubectl: Kubectl, namespace: str) -> Iterator[None]:
    """Delete the accounts while the operator still runs, so it removes their finalizers."""
    yield
    kubectl("delete", "ta", "--all", "-n", namespace, "--wait=false", "--ignore-not-found")


def private_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def secret(namespace: str, name: str, pem: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "stringData": {"apiKeyName": KEY_NAME, "apiPrivateKey": pem},
    }


def account(namespace: str, name: str, secret_name: str, base_url: str) -> dict[str, Any]:
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": name, "namespace": namespace, "labels": {RUN_LABEL: RUN_ID}},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "DryRun",
            "intervalSeconds": 5,
            "exchange": {
                "name": "coinbase",
                "credentialsSecretRef": {"name": secret_name},
                "coinbase": {"baseUrl": base_url},
            },
        },
    }


def status(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    obj = json.loads(kubectl("get", "ta", name, "-n", namespace, "-o", "json"))
    return obj.get("status") or {}


def credentials_condition(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    conditions = status(kubectl, namespace, name).get("conditions") or []
    return next((c for c in conditions if c["type"] == "CredentialsReady"), {})


def test_verbose_operator_leaks_no_credential_and_calls_only_allowed_exchanges(
    kubectl: Kubectl,
    verbose_operator: OperatorProcess,
    exchange: RecordedExchange,
    trap: RecordedExchange,
    namespace: str,
) -> None:
    ns, pem = namespace, private_key_pem()
    kubectl.apply(
        {
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "PurgePolicy",
            "metadata": {"name": "default", "namespace": ns},
            "spec": {},
        }
    )
    kubectl.apply(secret(ns, "coinbase", pem, MARK))
    kubectl.apply(secret(ns, "unmarked", pem, {}))
    kubectl.apply(account(ns, "authfail", "coinbase", exchange.url))
    kubectl.apply(account(ns, "steer", "coinbase", f"{trap.url}/api/v3/brokerage/accounts#"))
    kubectl.apply(account(ns, "elsewhere", "coinbase", trap.url))
    kubectl.apply(account(ns, "unmarked", "unmarked", exchange.url))

    # the allowed exchange was called, with a JWT, and refused it: the cycle failed auth
    wait_for(
        lambda: "AuthenticationFailed" in json.dumps(status(kubectl, ns, "authfail")),
        SETTLE,
        "the authfail account reporting AuthenticationFailed",
        diagnose=verbose_operator.log_tail,
    )
    assert exchange.jwts(), exchange.requests
    for name in ("steer", "elsewhere"):
        refused = wait_for(
            lambda name=name: (
                credentials_condition(kubectl, ns, name).get("reason") == "EndpointNotAllowed"
                and credentials_condition(kubectl, ns, name)
            ),
            SETTLE,
            f"{name}: CredentialsReady False, EndpointNotAllowed",
            diagnose=verbose_operator.log_tail,
        )
        assert refused["status"] == "False" and "--allow-exchange-url" in refused["message"]
    unmarked = wait_for(
        lambda: (
            "not marked" in credentials_condition(kubectl, ns, "unmarked").get("message", "")
            and credentials_condition(kubectl, ns, "unmarked")
        ),
        SETTLE,
        "unmarked: CredentialsReady naming the missing label",
        diagnose=verbose_operator.log_tail,
    )
    assert "cleanslate.dev/secret-type=exchange-credentials" in unmarked["message"]
    assert trap.requests == []  # not even in DryRun did anything reach the tenant's address

    log = verbose_operator.log_text()
    assert "JSON-patching the resource with" in log  # kopf's DEBUG lines: verbose was on
    written = {
        "log": log,
        "accounts": kubectl("get", "ta", "-n", ns, "-o", "json"),
        "events": kubectl("get", "events", "-n", ns, "-o", "json"),
        "metrics": verbose_operator.metrics_text(),
    }
    pem_base64 = base64.b64encode(pem.encode()).decode()
    secrets = {
        **{f"pem line {i}": line for i, line in enumerate(pem.splitlines()[1:-1])},
        "pem base64": pem_base64[16:56],
        "key name base64": base64.b64encode(KEY_NAME.encode()).decode()[:40],
        **{f"jwt {i}": jwt.split(".")[2] for i, jwt in enumerate(exchange.jwts())},
        **{f"jwt claims {i}": jwt.split(".")[1][:40] for i, jwt in enumerate(exchange.jwts())},
        "bearer": "Bearer ey",
    }
    leaks = [
        (where, what)
        for where, text in written.items()
        for what, piece in secrets.items()
        if piece in text
    ]
    assert leaks == []
    # what the exchange answered reached the status bounded, on one line
    text = json.dumps(status(kubectl, ns, "authfail"))
    assert "x" * 250 not in text and "\\nUnauthorized" not in text


def metrics_status(process: OperatorProcess, token: str | None) -> int:
    try:
        process.metrics_text(token)
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


def test_metrics_are_served_only_to_tokens_allowed_to_get_them(
    crds: None, kubectl: Kubectl, kubeconfig: Path, namespace: str, tmp_path: Path
) -> None:
    ns = namespace
    for account in ("prometheus", "nosy"):
        kubectl("create", "serviceaccount", account, "-n", ns)
    reader = f"{ns}-metrics-reader"
    kubectl("create", "clusterrole", reader, "--verb=get", "--non-resource-url=/metrics")
    try:
        kubectl(
            "create",
            "clusterrolebinding",
            reader,
            f"--clusterrole={reader}",
            f"--serviceaccount={ns}:prometheus",
        )
        allowed = kubectl("create", "token", "prometheus", "-n", ns).strip()
        nosy = kubectl("create", "token", "nosy", "-n", ns).strip()
        process = OperatorProcess(
            kubeconfig,
            tmp_path / "state",
            tmp_path / "operator.log",
            selector=f"{RUN_LABEL}=nobody",
            extra_args=["--metrics-auth"],
        )
        with process:
            assert metrics_status(process, None) == 401
            assert metrics_status(process, "not-a-token") == 403
            assert metrics_status(process, nosy) == 403
            assert metrics_status(process, allowed) == 200
            assert "cleanslate_" in process.metrics_text(allowed)
        assert allowed not in process.log_text() and nosy not in process.log_text()
    finally:
        kubectl("delete", "clusterrolebinding", reader, "--ignore-not-found")
        kubectl("delete", "clusterrole", reader, "--ignore-not-found")
