"""A real etcd + kube-apiserver pair started as local processes, envtest-style.

By default there is no kubelet, scheduler or controller-manager: the operator only
talks to the API, and everything it relies on (CRD schema validation, the status
subresource, printer columns, conflicts, finalizers, events, RBAC) is the API
server's own behaviour. Without the controller-manager nothing garbage-collects
or finishes namespace deletion, which tests must not depend on.

``controllers=True`` (``python -m cleanslate.localcluster --controllers``) makes it a
control plane a kubelet can join (``make e2e``): the ServiceAccount admission plugin
is on (pods get a projected token volume, signed with the plane's service-account key
and issued as ``https://127.0.0.1:<port>``), and kube-controller-manager (Deployments,
ReplicaSets, default ServiceAccounts, ``kube-root-ca.crt``, node lifecycle and its
taints, garbage collection) and kube-scheduler run beside it, both as admin, on no
serving port, without leader election.
"""

from __future__ import annotations

import functools
import http.client
import logging
import shutil
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from . import kubeconfig, pki, safety
from .process import ManagedProcess, log_tails, wait_started
from .tools import find_tool, tools_dir

log = logging.getLogger(__name__)

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
_POLL_INTERVAL = 0.05
_PORT_ATTEMPTS = 3

_T = TypeVar("_T")
_Probe = Callable[[], bool]


class ControlPlaneError(RuntimeError):
    """Startup failed; the message carries the log tails of etcd and kube-apiserver."""


class _PortInUseError(ControlPlaneError):
    """Another process grabbed a port between probing and binding; worth a retry."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _http_status(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes] | None:
    """(status, body) of a GET, or None while the server is not accepting connections."""
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return None


class LocalControlPlane:
    """etcd and kube-apiserver on free loopback ports, living in one temp dir.

    ``kubeconfig`` is for an admin (group ``system:masters``);
    ``restricted_kubeconfig`` is for ``cleanslate-restricted``, an authenticated
    user with no RBAC bindings, so tests can grant exactly the roles they mean
    to check. ``extra_apiserver_args`` are appended last, so they override the
    defaults (e.g. ``["--feature-gates=..."]``) for a demo that needs more.
    """

    def __init__(
        self,
        *,
        extra_apiserver_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
        tools: Path | None = None,
        controllers: bool = False,
    ) -> None:
        self.extra_apiserver_args = list(extra_apiserver_args)
        self.controllers = controllers
        self.startup_timeout = startup_timeout
        self.tools_dir = tools if tools is not None else tools_dir()
        self.startup_seconds: float | None = None
        self._workdir: Path | None = None
        self._server: str | None = None
        self._processes: list[ManagedProcess] = []
        self._credentials: pki.Pki | None = None
        self._port: int | None = None

    # -- public surface -------------------------------------------------------

    @property
    def workdir(self) -> Path:
        return self._require(self._workdir)

    @property
    def server(self) -> str:
        """``https://127.0.0.1:<port>`` of the running API server."""
        return self._require(self._server)

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    @property
    def restricted_kubeconfig(self) -> Path:
        return self.workdir / "restricted.kubeconfig"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def credentials(self) -> pki.Pki:
        """The plane's CA, client identities and service-account keys (for a kubelet)."""
        return self._require(self._credentials)

    def process(self, name: str) -> ManagedProcess:
        """``etcd``, ``kube-apiserver`` (and with ``controllers``, ``kube-controller-manager``
        and ``kube-scheduler``), for fault injection: pause, resume, kill."""
        for process in self._processes:
            if process.name == name:
                return process
        raise KeyError(f"no process {name!r}; have {[p.name for p in self._processes]}")

    def relaunch(self, name: str, timeout: float = 60.0) -> None:
        """Start a killed process again with its arguments (same ports, same etcd data) and
        return once the API server answers again."""
        self.process(name).relaunch()
        self._wait_for_apiserver(
            self._require(self._credentials), self._require(self._port), time.monotonic() + timeout
        )

    def start(self) -> LocalControlPlane:
        """Start etcd and the API server; return once the API is usable.

        Retries with new ports if one was taken in the instant between choosing
        and binding it; any other failure raises ControlPlaneError with log tails
        and leaves nothing behind.
        """
        if self.running:
            return self
        began = time.monotonic()
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            try:
                self._start_once()
                break
            except _PortInUseError:
                self.stop()
                if attempt == _PORT_ATTEMPTS:
                    raise
                log.info("port collision while starting the control plane; retrying")
            except BaseException:
                self.stop()
                raise
        self.startup_seconds = time.monotonic() - began
        log.info("control plane ready at %s in %.1fs", self.server, self.startup_seconds)
        return self

    def stop(self) -> None:
        """Stop the API server, then etcd, then delete the temp dir. Idempotent."""
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None
        self._server = None
        safety.forget(self)

    def __enter__(self) -> LocalControlPlane:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- startup --------------------------------------------------------------

    @staticmethod
    def _require(value: _T | None) -> _T:
        if value is None:
            raise RuntimeError("the control plane is not running; call start() first")
        return value

    def _start_once(self) -> None:
        safety.remember(self)
        safety.sweep_stale(Path(tempfile.gettempdir()))
        self._workdir = Path(tempfile.mkdtemp(prefix=safety.WORKDIR_PREFIX))
        safety.claim(self._workdir)
        deadline = time.monotonic() + self.startup_timeout
        credentials = pki.generate(self._workdir / "pki")
        etcd_url = self._start_etcd(deadline)
        port = _free_port()
        self._credentials, self._port = credentials, port
        self._start_apiserver(credentials, etcd_url, port)
        self._wait_for_apiserver(credentials, port, deadline)
        self._server = f"https://127.0.0.1:{port}"
        kubeconfig.write(
            self.kubeconfig,
            self._server,
            credentials.ca.cert_pem,
            pki.ADMIN_USER,
            credentials.admin,
        )
        kubeconfig.write(
            self.restricted_kubeconfig,
            self._server,
            credentials.ca.cert_pem,
            pki.RESTRICTED_USER,
            credentials.restricted,
        )
        if self.controllers:
            self._start_controllers(credentials, deadline)

    def _start_controllers(self, credentials: pki.Pki, deadline: float) -> None:
        """kube-controller-manager and kube-scheduler; ready once the controller-manager
        has given ``default`` its ServiceAccount and CA ConfigMap (what every pod mounts)."""
        self._spawn(
            "kube-controller-manager",
            [
                str(find_tool("kube-controller-manager", root=self.tools_dir)),
                *controller_manager_flags(self.kubeconfig, credentials),
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(find_tool("kube-scheduler", root=self.tools_dir)),
                *scheduler_flags(self.kubeconfig),
            ],
        )
        context = ssl.create_default_context(cafile=str(credentials.ca.cert_path))
        context.load_cert_chain(credentials.admin.cert_path, credentials.admin.key_path)
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self._require(self._port), timeout=5, context=context
        )
        manager = self.process("kube-controller-manager")
        try:
            for path in (
                "/api/v1/namespaces/default/serviceaccounts/default",
                "/api/v1/namespaces/default/configmaps/kube-root-ca.crt",
            ):
                self._poll(deadline, manager, functools.partial(_ok, conn, path))
        finally:
            conn.close()

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        process = ManagedProcess(name, argv, self.workdir / f"{name}.log")
        self._processes.append(process)
        return process

    def _start_etcd(self, deadline: float) -> str:
        client_port, peer_port = _free_port(), _free_port()
        client_url = f"http://127.0.0.1:{client_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        etcd = self._spawn(
            "etcd",
            [
                str(find_tool("etcd", root=self.tools_dir)),
                "--name=cleanslate",
                f"--data-dir={self.workdir / 'etcd-data'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=cleanslate={peer_url}",
                "--unsafe-no-fsync",
            ],
        )
        conn = http.client.HTTPConnection("127.0.0.1", client_port, timeout=2)
        try:
            self._poll(deadline, etcd, lambda: _etcd_healthy(conn))
        finally:
            conn.close()
        return client_url

    def _start_apiserver(self, credentials: pki.Pki, etcd_url: str, port: int) -> None:
        flags = self._apiserver_flags(credentials, etcd_url, port)
        argv = [
            str(find_tool("kube-apiserver", root=self.tools_dir)),
            *flags,
            *self.extra_apiserver_args,
        ]
        self._spawn("kube-apiserver", argv)

    def _apiserver_flags(self, credentials: pki.Pki, etcd_url: str, port: int) -> list[str]:
        # The flags controller-runtime's envtest uses, plus a fixed advertise
        # address (a box without a default route has no interface to pick) and no
        # endpoint reconciler (a loopback address is not a valid Endpoints entry).
        return apiserver_flags(
            workdir=self.workdir,
            credentials=credentials,
            etcd_url=etcd_url,
            port=port,
            service_accounts=self.controllers,
        )

    def _wait_for_apiserver(self, credentials: pki.Pki, port: int, deadline: float) -> None:
        """Ready means /healthz is ok (all post-start hooks, RBAC bootstrap included)
        and the ``default`` namespace exists, since clients assume both."""
        context = ssl.create_default_context(cafile=str(credentials.ca.cert_path))
        context.load_cert_chain(credentials.admin.cert_path, credentials.admin.key_path)
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
        apiserver = self.process("kube-apiserver")
        try:
            self._poll(deadline, apiserver, lambda: _ok(conn, "/healthz"))
            self._poll(deadline, apiserver, lambda: _ok(conn, "/api/v1/namespaces/default"))
        finally:
            conn.close()

    def _poll(self, deadline: float, process: ManagedProcess, ready: _Probe) -> None:
        wait_started(
            process,
            ready,
            deadline=deadline,
            timeout=self.startup_timeout,
            interval=_POLL_INTERVAL,
            failure=self._failure,
        )

    def _failure(self, summary: str) -> ControlPlaneError:
        tails = log_tails(self._processes)
        error_type = _PortInUseError if "address already in use" in tails else ControlPlaneError
        return error_type(f"{summary}\n{tails}")


def _ok(conn: http.client.HTTPConnection, path: str) -> bool:
    result = _http_status(conn, path)
    return result is not None and result[0] == 200


def _etcd_healthy(conn: http.client.HTTPConnection) -> bool:
    result = _http_status(conn, "/health")
    return result is not None and result[0] == 200 and b'"health":"true"' in result[1]


def apiserver_flags(
    *, workdir: Path, credentials: pki.Pki, etcd_url: str, port: int, service_accounts: bool
) -> list[str]:
    """kube-apiserver's flags. Without ``service_accounts`` the ServiceAccount admission
    plugin is off: with no controller-manager to create the ``default`` ServiceAccounts it
    would refuse every pod, and the API-only tests create none. With it, pods get their
    token volume (the issuer and signing key are set either way, for TokenRequest)."""
    flags = [
        f"--etcd-servers={etcd_url}",
        f"--cert-dir={workdir / 'apiserver-certs'}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--tls-cert-file={credentials.serving.cert_path}",
        f"--tls-private-key-file={credentials.serving.key_path}",
        f"--client-ca-file={credentials.ca.cert_path}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        f"--service-account-issuer=https://127.0.0.1:{port}",
        f"--service-account-key-file={credentials.sa_pub_path}",
        f"--service-account-signing-key-file={credentials.sa_key_path}",
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        "--endpoint-reconciler-type=none",
    ]
    if service_accounts:
        # kubectl exec/logs go through the kubelet, which authenticates the API server
        flags += [
            f"--kubelet-client-certificate={credentials.admin.cert_path}",
            f"--kubelet-client-key={credentials.admin.key_path}",
        ]
    else:
        flags.append("--disable-admission-plugins=ServiceAccount")
    return flags


def controller_manager_flags(kubeconfig_path: Path, credentials: pki.Pki) -> list[str]:
    """The controller-manager as admin, serving nothing (no port to collide), alone (no
    leader election), signing nothing but publishing the plane's CA as ``kube-root-ca.crt``
    so a pod's token volume can verify the API server."""
    return [
        f"--kubeconfig={kubeconfig_path}",
        "--leader-elect=false",
        "--secure-port=0",
        f"--root-ca-file={credentials.ca.cert_path}",
        f"--service-account-private-key-file={credentials.sa_key_path}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        "--use-service-account-credentials=false",
        "--controllers=*",
    ]


def scheduler_flags(kubeconfig_path: Path) -> list[str]:
    """The scheduler as admin, serving nothing, alone."""
    return [f"--kubeconfig={kubeconfig_path}", "--leader-elect=false", "--secure-port=0"]
