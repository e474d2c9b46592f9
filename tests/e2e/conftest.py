"""The operator run the way users run it: its image in a pod on a real node, installed by
its Helm chart (``make e2e``).

Here: a local control plane with ServiceAccount admission, kube-controller-manager and
kube-scheduler (``LocalControlPlane(controllers=True)``), a node of containerd and a kubelet
(``LocalNode``), the image imported from the docker-archive ``make image`` writes. The chart
is installed as docs/install.md says, with values only for what this node needs: the host
network (there is no pod network here, by rule), the API server's address (127.0.0.1 and
its port, since nothing on the host network answers the service's ClusterIP) and the image.
One replica: two pods on the host network of one node would bind the same ports; the HA
test (test_ha_in_pods.py) adds a second node, 127.0.0.2, for its second replica.

``CLEANSLATE_EXISTING_CLUSTER=1`` runs the same tests against ``$KUBECONFIG`` (kind or any
cluster) instead, with the image named by ``CLEANSLATE_E2E_IMAGE`` (``repository:tag``,
loaded beforehand with ``kind load docker-image`` or pushed to a registry the nodes pull
from), on the pod network and the in-cluster service address. That path cannot be run here
(no Docker, no registry); it only swaps the fixtures below.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cleanslate.localcluster import Kubectl, LocalControlPlane, find_tool
from cleanslate.localcluster.node import LocalNode

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "cleanslate"
RELEASE, NAMESPACE = "cleanslate", "cleanslate-system"
EXISTING_CLUSTER_ENV = "CLEANSLATE_EXISTING_CLUSTER"
IMAGE_TAR_ENV = "CLEANSLATE_IMAGE_TAR"
IMAGE_ENV = "CLEANSLATE_E2E_IMAGE"
CACHE_DIR_ENV = "CLEANSLATE_CACHE_DIR"
"""hack/build-image.sh's cache root; the image is ``images/cleanslate-image.tar`` in it."""
POLL_SECONDS = 0.5
TIMINGS: dict[str, float] = {}
"""What each step took, printed at the end of the run (docs/install.md quotes them)."""

pytestmark = pytest.mark.e2e


def _existing() -> bool:
    return os.environ.get(EXISTING_CLUSTER_ENV, "").strip().lower() in {"1", "true", "yes"}


def default_image_tar() -> Path:
    """Where ``make image`` writes the docker-archive (``CLEANSLATE_CACHE_DIR`` as there)."""
    cache = os.environ.get(CACHE_DIR_ENV, "") or str(Path.home() / ".cache" / "cleanslate")
    return Path(cache) / "images" / "cleanslate-image.tar"


def image_ref(archive: Path) -> str:
    """The ``repository:tag`` a docker-archive was saved under (its manifest's RepoTags)."""
    out = subprocess.run(
        ["tar", "-xOf", str(archive), "manifest.json"], capture_output=True, check=True
    ).stdout
    tags: list[str] = json.loads(out)[0]["RepoTags"]
    return tags[0]


@dataclass
class E2eCluster:
    """Where the chart goes and with which values; ``node`` is None on an existing cluster."""

    kubeconfig: Path
    kubectl: Kubectl
    helm_binary: Path
    image: str
    node: LocalNode | None
    plane: LocalControlPlane | None
    archive: Path | None = None
    """The image's docker-archive, for another local node to import."""
    timings: dict[str, float] = field(default_factory=lambda: TIMINGS)

    def platform_values(self) -> dict[str, Any]:
        """The values this cluster needs besides the chart's defaults."""
        repository, _, tag = self.image.rpartition(":")
        values: dict[str, Any] = {"image": {"repository": repository, "tag": tag}}
        if self.plane is not None:
            port = self.plane.server.rsplit(":", 1)[1]
            values |= {
                "hostNetwork": True,
                "replicaCount": 1,
                "extraEnv": [
                    {"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
                    {"name": "KUBERNETES_SERVICE_PORT", "value": port},
                ],
            }
        return values

    def helm_run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.helm_binary), f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def helm(self, *args: str, timeout: float = 300) -> str:
        result = self.helm_run(*args, timeout=timeout)
        assert result.returncode == 0, f"helm {' '.join(args)}: {result.stderr}"
        return result.stdout


def values_file(directory: Path, *layers: dict[str, Any]) -> Path:
    """The layers merged key by key (later wins), as a file for ``helm -f``."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = _merge(merged, layer)
    path = directory / f"values-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(merged))
    return path


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def wait_until(
    what: str, check: Callable[[], bool], timeout: float, explain: Callable[[], str] = str
) -> None:
    """Poll ``check`` until true: a condition with a deadline, not a sleep standing in for one.
    ``explain`` says what was seen instead (a table, a log tail) when the deadline passes."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s\n{explain()}")
        time.sleep(POLL_SECONDS)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2eCluster]:
    cache = tmp_path_factory.mktemp("kubectl-cache")
    if _existing():
        image = os.environ.get(IMAGE_ENV, "")
        if not image:
            pytest.fail(f"{EXISTING_CLUSTER_ENV}=1 needs {IMAGE_ENV}=repository:tag")
        kubeconfig = Path(os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config")))
        kubectl = Kubectl(find_tool("kubectl", allow_path=True), kubeconfig, cache)
        yield E2eCluster(kubeconfig, kubectl, find_tool("helm", allow_path=True), image, None, None)
        return
    archive = Path(os.environ.get(IMAGE_TAR_ENV, "") or default_image_tar())
    if not archive.is_file():
        pytest.fail(f"no image archive at {archive}: run `make image` (or set {IMAGE_TAR_ENV})")
    began = time.monotonic()
    with LocalControlPlane(controllers=True) as plane, LocalNode(plane) as node:
        TIMINGS["control plane and node"] = time.monotonic() - began
        imported = time.monotonic()
        node.import_image(archive)
        TIMINGS["image import"] = time.monotonic() - imported
        kubectl = Kubectl(find_tool("kubectl", root=plane.tools_dir), plane.kubeconfig, cache)
        cluster = E2eCluster(
            plane.kubeconfig,
            kubectl,
            find_tool("helm", root=plane.tools_dir),
            image_ref(archive),
            node,
            plane,
            archive,
        )
        yield cluster
        foreign = node.connections()
        assert not foreign, f"a node process reached a non-loopback address: {foreign}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("e2e timings")
        for step, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{step}: {seconds:.1f}s")


@pytest.fixture(autouse=True)
def loopback_only(e2e: E2eCluster) -> Iterator[None]:
    """After every test, no process of the node (containerd, kubelet, shims, the operator in
    its pod) holds a socket whose peer is not a loopback address (``ss``)."""
    yield
    if e2e.node is not None:
        assert any("kubelet" in line for line in e2e.node.sockets()), "ss sees no node socket"
        foreign = e2e.node.connections()
        assert not foreign, f"a node process reached a non-loopback address: {foreign}"
