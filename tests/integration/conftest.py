"""Fixtures that give tests a real API server.

By default one LocalControlPlane (etcd + kube-apiserver built by
``hack/build-tools.sh``) is started per session. With ``--existing-cluster`` or
``CLEANSLATE_EXISTING_CLUSTER=1`` nothing is started and ``$KUBECONFIG`` (or
``~/.kube/config``) is used, so the same suite runs against kind on a laptop.

``restricted_kubeconfig`` is None on an existing cluster: we cannot mint
credentials there. Tests that need a least-privileged user should use the
``restricted_kubectl`` fixture, which falls back to impersonation (``--as``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config

from cleanslate.localcluster import Kubectl, LocalControlPlane, find_tool

EXISTING_CLUSTER_ENV = "CLEANSLATE_EXISTING_CLUSTER"
RESTRICTED_USER = "cleanslate-restricted"
_STARTUP_KEY = pytest.StashKey[float]()


@dataclass(frozen=True)
class ClusterAccess:
    """How tests reach the API server, whichever way it was provided."""

    kubeconfig: Path
    restricted_kubeconfig: Path | None
    kubectl_binary: Path
    existing: bool


def _use_existing_cluster(pytest_config: pytest.Config) -> bool:
    flag = os.environ.get(EXISTING_CLUSTER_ENV, "").strip().lower()
    return bool(pytest_config.getoption("--existing-cluster")) or flag in {"1", "true", "yes"}


def _existing_kubeconfig() -> Path:
    """The first file of $KUBECONFIG (clients merge a list; tests need one file)."""
    configured = os.environ.get("KUBECONFIG", "")
    first = next((p for p in configured.split(os.pathsep) if p), None)
    return Path(first).expanduser() if first else Path.home() / ".kube" / "config"


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[ClusterAccess]:
    if _use_existing_cluster(request.config):
        yield ClusterAccess(
            kubeconfig=_existing_kubeconfig(),
            restricted_kubeconfig=None,
            kubectl_binary=find_tool("kubectl", allow_path=True),
            existing=True,
        )
        return
    with LocalControlPlane() as plane:
        assert plane.startup_seconds is not None
        request.config.stash[_STARTUP_KEY] = plane.startup_seconds
        yield ClusterAccess(
            kubeconfig=plane.kubeconfig,
            restricted_kubeconfig=plane.restricted_kubeconfig,
            kubectl_binary=find_tool("kubectl", root=plane.tools_dir),
            existing=False,
        )


@pytest.fixture(scope="session")
def kubeconfig(cluster: ClusterAccess) -> Path:
    """Path of an admin kubeconfig for the session's cluster."""
    return cluster.kubeconfig


@pytest.fixture(scope="session")
def restricted_kubeconfig(cluster: ClusterAccess) -> Path | None:
    """Kubeconfig of an authenticated user with no RBAC bindings; None on an existing cluster."""
    return cluster.restricted_kubeconfig


@pytest.fixture(scope="session")
def kubectl(cluster: ClusterAccess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(cluster.kubectl_binary, cluster.kubeconfig, tmp_path_factory.mktemp("kcache"))


@pytest.fixture(scope="session")
def restricted_kubectl(cluster: ClusterAccess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    """kubectl as ``cleanslate-restricted``: its own certificate locally, impersonation on
    an existing cluster (the admin there may impersonate; RBAC then judges the user alone)."""
    cache = tmp_path_factory.mktemp("kcache-restricted")
    if cluster.restricted_kubeconfig is not None:
        return Kubectl(cluster.kubectl_binary, cluster.restricted_kubeconfig, cache)
    return Kubectl(cluster.kubectl_binary, cluster.kubeconfig, cache, [f"--as={RESTRICTED_USER}"])


@pytest.fixture
async def k8s_api(kubeconfig: Path) -> AsyncIterator[client.ApiClient]:
    """An admin kubernetes_asyncio client, per test because the event loop is per test."""
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A fresh namespace, so tests can run repeatedly against a long-lived cluster.

    Deletion is not awaited: a bare control plane has no namespace controller to
    finish it, and on a real cluster it completes in the background.
    """
    name = f"test-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    startup = config.stash.get(_STARTUP_KEY, None)
    if startup is not None:
        terminalreporter.write_line(f"cleanslate: local control plane ready in {startup:.1f}s")
