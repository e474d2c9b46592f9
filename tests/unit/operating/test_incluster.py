"""The in-cluster login goes where client-go would: KUBERNETES_SERVICE_HOST/PORT."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from cleanslate.operating import incluster
from cleanslate.operating.incluster import login_in_cluster, service_url

POD = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"}


def kopf_default(**_: Any) -> kopf.ConnectionInfo:
    """What kopf's own login returns in a pod (its hard-coded server name)."""
    return kopf.ConnectionInfo(
        server="https://kubernetes.default.svc",
        ca_path="/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        token="t0ken",
        default_namespace="cleanslate-system",
    )


@pytest.fixture
def in_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incluster.kopf, "login_with_service_account", kopf_default)


def test_url_from_host_and_port() -> None:
    assert service_url(POD) == "https://127.0.0.1:6443"


def test_ipv6_host_gets_brackets_like_join_host_port() -> None:
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    assert service_url(env) == "https://[fd00::1]:443"


@pytest.mark.parametrize(
    "env",
    [{}, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT": "443"}],
)
def test_no_url_unless_both_are_set(env: dict[str, str]) -> None:
    assert service_url(env) is None


@pytest.mark.usefixtures("in_pod")
def test_login_uses_the_environment_and_keeps_the_credentials() -> None:
    info = login_in_cluster(POD)
    assert info is not None
    assert info.server == "https://127.0.0.1:6443"
    assert info.token == "t0ken"
    assert info.default_namespace == "cleanslate-system"
    assert str(info.ca_path).endswith("serviceaccount/ca.crt")


@pytest.mark.usefixtures("in_pod")
def test_login_without_the_variables_keeps_kopfs_server() -> None:
    info = login_in_cluster({})
    assert info is not None and info.server == "https://kubernetes.default.svc"


def test_no_login_outside_a_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(incluster.kopf, "login_with_service_account", lambda **_: None)
    assert login_in_cluster(POD) is None
