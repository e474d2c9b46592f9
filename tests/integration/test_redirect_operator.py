"""Credentials never follow a redirect (issue 27 item 1), with a real operator process and the
real API server.

The platform allows one loopback origin for ccxt's kraken (``--ccxt-api-url`` and
``--allow-exchange-url``). That origin answers every request with ``302`` to another loopback
address (127.0.0.2) nobody allowed, which answers with an empty account. The target must
receive nothing (no ``API-Key``, no ``API-Sign``), and the account must say in its status that
the redirect was refused, never report CLEAN on the target's empty answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import test_operator
from operator_process import OperatorProcess, wait_for
from test_operator import FAST_POLICY, debug, status

from cleanslate.localcluster import Kubectl

crds = test_operator.crds

pytestmark = pytest.mark.cluster


class Recorder(BaseHTTPRequestHandler):
    """Answers an empty Kraken account to anything, and records what it was sent."""

    seen: list[dict[str, str]]

    def _answer(self) -> None:
        self.seen.append({"path": self.path, **dict(self.headers)})
        body = b'{"error": [], "result": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        return None


class Mover(BaseHTTPRequestHandler):
    """Answers every request with 302 to the target, same path."""

    target: str

    def _answer(self) -> None:
        self.send_response(302)
        self.send_header("Location", f"{self.target}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        return None


def _serve(host: str, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def redirecting() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    recorder = type("Target", (Recorder,), {"seen": seen})
    target = _serve("127.0.0.2", recorder)
    mover = type("Moved", (Mover,), {"target": f"http://127.0.0.2:{target.server_port}"})
    allowed = _serve("127.0.0.1", mover)
    try:
        yield f"http://127.0.0.1:{allowed.server_port}", seen
    finally:
        for server in (allowed, target):
            server.shutdown()
            server.server_close()


def test_a_ccxt_account_redirected_elsewhere_sends_nothing_there_and_says_why(
    kubectl: Kubectl,
    crds: None,
    kubeconfig: Path,
    namespace: str,
    tmp_path: Path,
    redirecting: tuple[str, list[dict[str, str]]],
) -> None:
    origin, seen = redirecting
    ns, name, secret = namespace, "moved", "kraken-key"
    kubectl("create", "secret", "generic", secret, "-n", ns,
            "--from-literal=apiKey=kraken-key-1", "--from-literal=secret=c2VjcmV0")  # fmt: skip
    kubectl("label", "secret", secret, "-n", ns, "cleanslate.dev/secret-type=exchange-credentials")
    kubectl.apply(
        {
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "PurgePolicy",
            "metadata": {"name": "fast", "namespace": ns},
            "spec": FAST_POLICY,
        }
    )
    process = OperatorProcess(
        kubeconfig,
        tmp_path / "state",
        tmp_path / "operator.log",
        namespaces=[ns],
        extra_args=["--allow-exchange-url", origin, "--ccxt-api-url", f"kraken={origin}"],
    )
    account = {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "policyRef": {"name": "fast"},
            "mode": "Live",
            "intervalSeconds": 1,
            "exchange": {
                "name": "ccxt",
                "ccxt": {"exchangeId": "kraken"},
                "credentialsSecretRef": {"name": secret},
            },
        },
    }
    with process:
        kubectl.apply(account)
        st = wait_for(
            lambda: (s := status(kubectl, ns, name)) and "redirect" in str(s).lower() and s,
            60.0,
            "the refused redirect in the account's status",
            diagnose=lambda: debug(kubectl, process, ns, name),
        )
        log = process.log_text()
    kubectl("delete", "ta", name, "-n", ns, "--wait=false", "--ignore-not-found")
    assert seen == [], "the target received requests"
    assert st.get("accountState") != "Clean"
    assert "kraken-key-1" not in log and "c2VjcmV0" not in log
