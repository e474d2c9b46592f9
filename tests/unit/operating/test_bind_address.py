"""``--bind-address``: where the metrics and liveness servers listen. On the host network the
chart gives the pod's IP, so two replicas on nodes that share one host (or one node's
address space) do not bind each other's ports."""

from __future__ import annotations

import socket

import pytest
from prometheus_client import CollectorRegistry

from cleanslate.operating.main import build_parser, liveness_endpoint
from cleanslate.operating.metrics_auth import serve_metrics


def test_every_address_by_default_and_an_ip_as_given() -> None:
    parse = build_parser().parse_args
    assert parse([]).bind_address == "0.0.0.0"
    assert parse(["--bind-address", "127.0.0.2"]).bind_address == "127.0.0.2"
    assert parse(["--bind-address", "::1"]).bind_address == "::1"


@pytest.mark.parametrize("value", ["localhost", "127.0.0.256", ""])
def test_a_host_name_or_a_malformed_address_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--bind-address", value])
    assert "--bind-address" in capsys.readouterr().err


def test_the_liveness_url_puts_an_ipv6_address_in_brackets() -> None:
    assert liveness_endpoint("127.0.0.2", 8080) == "http://127.0.0.2:8080/healthz"
    assert liveness_endpoint("::1", 8080) == "http://[::1]:8080/healthz"
    assert liveness_endpoint("0.0.0.0", 0) is None


class _Nobody:
    async def allowed(self, token: str) -> bool:
        return False


async def test_the_metrics_server_listens_on_the_bind_address_only() -> None:
    """Bound to 127.0.0.2, the port stays free on 127.0.0.1 (what lets a second replica on
    node 127.0.0.1 use it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        port = probe.getsockname()[1]
    runner = await serve_metrics(CollectorRegistry(), _Nobody(), port, "127.0.0.2")
    try:
        with socket.socket() as other:
            other.bind(("127.0.0.1", port))
        with socket.create_connection(("127.0.0.2", port), timeout=5):
            pass
    finally:
        await runner.cleanup()
