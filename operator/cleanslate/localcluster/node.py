"""A real node joined to the local control plane: Debian's containerd and a kubelet.

``make e2e`` runs the operator the way users do, in a pod, so it needs a node. There is no
Docker and no registry here, but runc works (namespaces, cgroup v1), Debian's containerd
1.6 speaks the CRI a kubelet v1.34 wants, and both fit in one temp dir. Each setting below
was found by a failure:

- ``restrict_oom_score_adj``: the machine drops CAP_SYS_RESOURCE, and runc cannot lower a
  process's OOM score without it ("can't get final child's PID from pipe: EOF");
- the cgroupfs driver (no systemd) and ``failCgroupV1: false`` (the machine has cgroup v1);
- a sandbox ("pause") image made here from ``hack/tools/pause`` (no registry to pull from);
- ``--hostname-override=127.0.0.1`` (``--node-ip`` refuses a loopback address), a
  resolv.conf naming 127.0.0.1 and a CNI config holding only ``loopback``, so the node
  becomes Ready without a pod network.

Network rule: pods run on the host network only; no pod network is ever created, and the
only addresses anything here is given are loopback ones.

More than one node: each ``LocalNode`` has its own containerd (root, state, socket, runc
root) and its own kubelet (root dir, port) in its own temp dir, and its own loopback
address as its name (``LocalNode(plane, name="127.0.0.2")``): the kubelet takes an IP given
as ``--hostname-override`` as the node's address, so its host-network pods get that pod IP
and a server bound to it does not collide with one on 127.0.0.1. Two kubelets never share
one containerd (each would remove the other's sandboxes as unknown). The pods' cgroups of
both sit under containerd's flat ``k8s.io`` parent (the kubelet passes no parent without a
QoS tree), named by container id; a node removes only those of its own containers.
``connections`` lists the sockets of the node's processes, so a test can check that none
reaches another address.

Cleanup is by pid, mount and cgroup: ``stop`` kills the pods' tasks and the shims that ran
them, stops containerd and the kubelet, unmounts whatever was mounted under the temp dir,
removes the cgroups the pods got, then the temp dir. A node whose owner was SIGKILLed
(a CI timeout) is swept by the next ``start`` (``sweep_stale_nodes``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import ipaddress
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from . import safety
from .plane import LocalControlPlane, _free_port
from .process import ManagedProcess, log_tails, wait_started
from .tools import find_tool

log = logging.getLogger(__name__)

NODE_NAME = "127.0.0.1"
SANDBOX_IMAGE = "localhost/cleanslate-pause:e2e"
NAMESPACE = "k8s.io"
"""containerd's namespace of the CRI plugin: where the kubelet's images and pods live."""
WORKDIR_PREFIX = "cleanslate-node-"
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENTS = ("k8s.io", "kubepods")
"""Where the pods' cgroups go: containerd's default parent (the kubelet runs without a QoS
tree, ``cgroupsPerQOS: false``), or the kubelet's own when it has one."""
_POLL_INTERVAL = 0.2


class NodeError(RuntimeError):
    """The node did not come up; the message carries the tails of containerd's and the
    kubelet's logs."""


def _architecture() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _tar_member(name: str, data: bytes, mode: int = 0o644) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    return info, io.BytesIO(data)


def sandbox_image_archive(pause: Path, out: Path, ref: str = SANDBOX_IMAGE) -> Path:
    """A docker-archive holding one layer with ``/pause``: what ``ctr images import`` reads.

    The layer and the config are written with fixed times, so the same binary always gives
    the same image id."""
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w", format=tarfile.PAX_FORMAT) as layer:
        layer.addfile(*_tar_member("pause", pause.read_bytes(), 0o755))
    layer_bytes = layer_buffer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": _architecture(),
            "os": "linux",
            "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        sort_keys=True,
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [ref], "Layers": ["layer.tar"]}]
    ).encode()
    with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.addfile(*_tar_member("layer.tar", layer_bytes))
        archive.addfile(*_tar_member(config_name, config))
        archive.addfile(*_tar_member("manifest.json", manifest))
    return out


def cni_config() -> str:
    """Only the loopback plugin: pods share the node's network, so none gets an address."""
    return json.dumps(
        {"cniVersion": "1.0.0", "name": "cleanslate-loopback", "plugins": [{"type": "loopback"}]}
    )


def containerd_config(
    workdir: Path, cni_bin: Path, sandbox_image: str = SANDBOX_IMAGE, address: str = NODE_NAME
) -> str:
    """containerd's TOML (version 2, containerd 1.6), every path under ``workdir``; its
    streaming server (exec, logs) on the node's ``address``."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{workdir / "containerd" / "root"}"
state = "{workdir / "containerd" / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{containerd_socket(workdir)}"

[ttrpc]
  address = "{containerd_socket(workdir)}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{workdir / "containerd" / "opt"}"

[{cri}]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  stream_server_address = "{address}"
  stream_server_port = "0"
  enable_cdi = false

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{workdir / "runc"}"

[{cri}.cni]
  bin_dir = "{cni_bin}"
  conf_dir = "{workdir / "cni"}"
"""


def containerd_socket(workdir: Path) -> Path:
    return workdir / "containerd" / "containerd.sock"


def kubelet_config(
    workdir: Path, port: int, ca_file: Path, address: str = NODE_NAME
) -> dict[str, object]:
    """The KubeletConfiguration: serving on the node's loopback ``address`` only, cgroupfs
    on cgroup v1, no QoS cgroup tree (one flat ``kubepods`` parent is enough and less to
    clean), no swap check and eviction thresholds that a busy CI disk does not trip."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": address,
        "port": port,
        "readOnlyPort": 0,
        "healthzBindAddress": address,
        "healthzPort": 0,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{containerd_socket(workdir)}",
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "cgroupsPerQOS": False,
        "enforceNodeAllocatable": [],
        "failSwapOn": False,
        "resolvConf": str(workdir / "resolv.conf"),
        "podLogsDir": str(workdir / "pod-logs"),
        "clusterDomain": "cluster.local",
        "registerNode": True,
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 100,
        "evictionHard": {
            "memory.available": "1Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
        },
        "localStorageCapacityIsolation": True,
        "shutdownGracePeriod": "0s",
    }


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]").split("%", 1)[0]
    if host in ("*", "0.0.0.0", "::"):
        return True  # a listening or unconnected socket: no peer at all
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def foreign_peers(ss_output: str, pids: Iterable[int]) -> list[str]:
    """The lines of ``ss -tunapH`` whose socket belongs to one of ``pids`` and whose peer is
    not a loopback address (listening sockets have the peer ``*`` and pass)."""
    wanted = {f"pid={pid}," for pid in pids}
    foreign = []
    for line in ss_output.splitlines():
        fields = line.split()
        if len(fields) < 6 or not any(w in line for w in wanted):
            continue
        local, peer = fields[4], fields[5]
        if not (_is_loopback(peer) and _is_loopback(local)):
            foreign.append(line)
    return foreign


def descendants(roots: Iterable[int], proc: Path = Path("/proc")) -> set[int]:
    """``roots`` and every process below them (pods are children of the shims)."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def _mounts_under(directory: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> list[str]:
    """Mount points at or below ``directory``, deepest first (the order to unmount)."""
    prefix = str(directory)
    points = []
    for line in mountinfo.read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def _cgroups(root: Path = CGROUP_ROOT) -> set[Path]:
    """Every cgroup directory holding the node's pods, in every v1 hierarchy."""
    found: set[Path] = set()
    if not root.is_dir():
        return found
    for hierarchy in root.iterdir():
        for parent in CGROUP_PARENTS:
            pods = hierarchy / parent
            if hierarchy.is_symlink() or not pods.is_dir():
                continue
            for dirpath, _dirs, _files in os.walk(pods):
                found.add(Path(dirpath))
    return found


def shims_of(workdir: Path) -> list[int]:
    """The runc shims of the containerd living in ``workdir``: they daemonize, so they are
    nobody's child; found by the socket address on their command line, handled by pid."""
    address = str(containerd_socket(workdir)).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and address in argv:
            pids.append(int(entry.name))
    return pids


def _unmount_under(workdir: Path) -> None:
    for point in _mounts_under(workdir):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def sweep_stale_nodes(parent: Path, cgroup_root: Path = CGROUP_ROOT) -> None:
    """Take down what a node whose owner was SIGKILLed left behind: containerd and the
    kubelet died with it (parent-death signal), but the shims and the pods' processes
    outlive it, as do its mounts and its containers' cgroups. Each is found from the
    node's own temp dir (the socket on a shim's command line, the mount points under the
    dir, the container ids in containerd's state), never by a process name."""
    for workdir in parent.glob(f"{WORKDIR_PREFIX}*"):
        try:
            if not workdir.is_dir() or safety._owner_alive(workdir):
                continue
        except OSError:
            continue
        log.info("removing a stale node in %s", workdir)
        for pid in sorted(descendants(shims_of(workdir)), reverse=True):
            _kill(pid)
        _unmount_under(workdir)
        tasks = workdir / "containerd" / "state" / "io.containerd.runtime.v2.task" / NAMESPACE
        ids = [entry.name for entry in tasks.iterdir()] if tasks.is_dir() else []
        for hierarchy in cgroup_root.iterdir() if cgroup_root.is_dir() else []:
            for container in ids:
                with contextlib.suppress(OSError):
                    (hierarchy / NAMESPACE / container).rmdir()
            with contextlib.suppress(OSError):  # only if no other runtime has a child there
                (hierarchy / NAMESPACE).rmdir()
        shutil.rmtree(workdir, ignore_errors=True)


class LocalNode:
    """containerd and a kubelet (node ``name``, a loopback address: ``127.0.0.1`` unless
    given) for a running ``LocalControlPlane`` started with ``controllers=True``;
    ``with LocalNode(plane) as node: ...``."""

    def __init__(
        self,
        plane: LocalControlPlane,
        *,
        name: str = NODE_NAME,
        startup_timeout: float = 120.0,
        tools: Path | None = None,
    ) -> None:
        if not ipaddress.ip_address(name).is_loopback:
            raise ValueError(f"a local node's name is a loopback address, not {name!r}")
        self.name = name
        self.plane = plane
        self.startup_timeout = startup_timeout
        self.tools_dir = tools if tools is not None else plane.tools_dir
        self.startup_seconds: float | None = None
        self._workdir: Path | None = None
        self._processes: list[ManagedProcess] = []
        self._cgroups_before: set[Path] = set()
        self._containers: set[str] = set()
        """Ids of the containers (and sandboxes) this node's containerd ran: the names of
        the cgroups it may remove."""

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the node is not running; call start() first")
        return self._workdir

    def process(self, name: str) -> ManagedProcess:
        for process in self._processes:
            if process.name == name:
                return process
        raise KeyError(name)

    # -- start ----------------------------------------------------------------

    def start(self) -> LocalNode:
        began = time.monotonic()
        try:
            self._start_once(began + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        log.info("node %s ready in %.1fs", self.name, self.startup_seconds)
        return self

    def _start_once(self, deadline: float) -> None:
        containerd = shutil.which("containerd")
        if containerd is None or shutil.which("runc") is None:
            raise NodeError("containerd and runc are needed: apt-get install containerd runc")
        sweep_stale_nodes(Path(tempfile.gettempdir()))
        self._cgroups_before = _cgroups()
        self._workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        workdir = self._workdir
        safety.claim(workdir)
        for sub in ("cni", "containerd", "kubelet", "pod-logs", "runc"):
            (workdir / sub).mkdir()
        (workdir / "cni" / "10-loopback.conflist").write_text(cni_config())
        (workdir / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        cni_bin = find_tool("cni/loopback", root=self.tools_dir).parent
        config = workdir / "containerd.toml"
        config.write_text(containerd_config(workdir, cni_bin, address=self.name))
        self._spawn("containerd", [containerd, "--config", str(config)])
        self._poll(deadline, "containerd", self._containerd_answers)
        archive = sandbox_image_archive(
            find_tool("pause", root=self.tools_dir), workdir / "pause.tar"
        )
        self.import_image(archive)
        kubelet_file = workdir / "kubelet.json"
        kubelet_file.write_text(
            json.dumps(
                kubelet_config(
                    workdir, _free_port(), self.plane.credentials.ca.cert_path, self.name
                )
            )
        )
        self._spawn(
            "kubelet",
            [
                str(find_tool("kubelet", root=self.tools_dir)),
                f"--config={kubelet_file}",
                f"--kubeconfig={self.plane.kubeconfig}",
                f"--root-dir={workdir / 'kubelet'}",
                f"--cert-dir={workdir / 'kubelet' / 'pki'}",
                f"--hostname-override={self.name}",
                "--v=1",
            ],
        )
        self._poll(deadline, "kubelet", self._node_ready)

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        process = ManagedProcess(name, argv, self.workdir / f"{name}.log")
        self._processes.append(process)
        return process

    def _poll(self, deadline: float, name: str, ready: Callable[[], bool]) -> None:
        wait_started(
            self.process(name),
            ready,
            deadline=deadline,
            timeout=self.startup_timeout,
            interval=_POLL_INTERVAL,
            failure=self._failure,
        )

    def _failure(self, summary: str) -> NodeError:
        return NodeError(f"{summary}\n{log_tails(self._processes)}")

    def _containerd_answers(self) -> bool:
        if not containerd_socket(self.workdir).exists():
            return False
        return self._ctr_result("version").returncode == 0

    def _node_ready(self) -> bool:
        result = subprocess.run(
            [
                str(find_tool("kubectl", root=self.tools_dir)),
                f"--kubeconfig={self.plane.kubeconfig}",
                "get",
                "node",
                self.name,
                "-o",
                "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.stdout.strip() == "True"

    # -- use ------------------------------------------------------------------

    def _ctr_result(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = ["ctr", "--address", str(containerd_socket(self.workdir)), "-n", NAMESPACE, *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)

    def ctr(self, *args: str) -> str:
        """``ctr -n k8s.io ARGS`` against this node's containerd; raises on failure."""
        result = self._ctr_result(*args)
        if result.returncode != 0:
            raise NodeError(f"ctr {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result.stdout

    def import_image(self, archive: Path) -> None:
        """``ctr images import``: the kubelet then finds the image without pulling it."""
        self.ctr("images", "import", "--snapshotter", "overlayfs", str(archive))

    def pids(self) -> set[int]:
        """containerd, the kubelet, the shims and every pod process."""
        roots = {p.pid for p in self._processes if p.exit_code() is None}
        return descendants(roots | set(self._shim_pids()))

    def sockets(self) -> list[str]:
        """The ``ss -tunapH`` lines of the node's processes (never empty while the kubelet
        talks to the API server: proof the check below looks at the right processes)."""
        result = subprocess.run(
            ["ss", "-tunapH"], capture_output=True, text=True, timeout=30, check=True
        )
        owners = {f"pid={pid}," for pid in self.pids()}
        return [line for line in result.stdout.splitlines() if any(o in line for o in owners)]

    def connections(self) -> list[str]:
        """Sockets of the node's processes (``ss -tunapH``) whose peer is not loopback."""
        return foreign_peers("\n".join(self.sockets()), self.pids())

    def _shim_pids(self) -> list[int]:
        return [] if self._workdir is None else shims_of(self._workdir)

    # -- stop -----------------------------------------------------------------

    def stop(self) -> None:
        """Kubelet, pods, shims, containerd, mounts, cgroups, temp dir. Idempotent."""
        if self._workdir is None:
            return
        workdir = self._workdir
        for process in self._processes:
            if process.name == "kubelet":
                process.stop()
        self._containers |= self._task_ids()
        if any(p.name == "containerd" and p.exit_code() is None for p in self._processes):
            self._remove_tasks()
        shims = self._shim_pids()
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        for pid in shims:
            _kill(pid)
        _unmount_under(workdir)
        mine = [c for c in _cgroups() - self._cgroups_before if self._owns(c)]
        for cgroup in sorted(mine, key=lambda p: len(p.parts), reverse=True):
            try:
                cgroup.rmdir()
            except OSError as exc:
                log.warning("cgroup %s left behind: %s", cgroup, exc)
        shutil.rmtree(workdir, ignore_errors=True)
        self._workdir = None
        self._containers.clear()

    def _task_ids(self) -> set[str]:
        """The ids containerd keeps a task state dir for (readable after containerd died)."""
        tasks = self.workdir / "containerd" / "state" / "io.containerd.runtime.v2.task" / NAMESPACE
        return {entry.name for entry in tasks.iterdir()} if tasks.is_dir() else set()

    def _owns(self, cgroup: Path) -> bool:
        """A cgroup of one of this node's containers, or a parent (``k8s.io``) that appeared
        since the start and that no other node's container is in: another node's
        containers and their parent are left alone."""
        if cgroup.name in CGROUP_PARENTS:
            try:
                return not any(
                    child.is_dir() and not self._mine(child) for child in cgroup.iterdir()
                )
            except OSError:
                return False
        return self._mine(cgroup)

    def _mine(self, cgroup: Path) -> bool:
        return bool(self._containers & set(cgroup.parts))

    def _remove_tasks(self) -> None:
        """Kill every pod container and sandbox (the kubelet is gone and would not)."""
        listing = self._ctr_result("tasks", "ls").stdout.splitlines()[1:]
        self._containers |= set(self._ctr_result("containers", "ls", "-q").stdout.split())
        for line in listing:
            task = line.split()[0]
            self._ctr_result("tasks", "kill", "-s", "SIGKILL", task)
        for line in listing:
            self._ctr_result("tasks", "delete", "-f", line.split()[0])
        for container in self._ctr_result("containers", "ls", "-q").stdout.split():
            self._ctr_result("containers", "rm", container)

    def __enter__(self) -> LocalNode:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
