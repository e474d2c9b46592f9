"""Run commands in the built image the way a kubelet would, with no Docker and no containerd:
unpack the docker-archive that ``hack/build-image.sh`` writes (the very file the e2e imports
into containerd) and start it with ``runc``, with the pod's security context (the image's
numeric user, read-only root filesystem, no capabilities, no new privileges), writable only
where the Deployment mounts emptyDirs, and in a network namespace of its own that has no
interface but loopback.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
RUN_TIMEOUT_S = 300
"""A guard against a hung container, not a measurement: an import takes seconds."""

_ids = itertools.count()
SIZES: dict[str, str] = {}
"""What the image tests' terminal summary reports (filled by the size test)."""


@dataclass(frozen=True)
class Image:
    """An unpacked image: its root filesystem and the parts of its config a runtime uses."""

    rootfs: Path
    tags: tuple[str, ...]
    user: str
    env: tuple[str, ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    workdir: str
    layers: tuple[int, ...] = field(default=())
    """Each layer's uncompressed size in bytes, bottom first."""

    def uid_gid(self) -> tuple[int, int]:
        """The numeric ``USER uid:gid``; a name is refused because a kubelet can only check
        ``runAsNonRoot`` against a number."""
        uid, _, gid = self.user.partition(":")
        return int(uid), int(gid or uid)


def unpack(archive: Path, dest: Path) -> Image:
    """Applies the archive's layers in order onto ``dest/rootfs``, honouring whiteouts (a
    later layer deleting a file or emptying a directory of an earlier one)."""
    rootfs = dest / "rootfs"
    rootfs.mkdir(parents=True)
    with tarfile.open(archive) as outer:
        manifest = _json(outer, "manifest.json")[0]
        config = _json(outer, manifest["Config"])["config"]
        sizes = []
        for name in manifest["Layers"]:
            member = outer.getmember(name)
            sizes.append(member.size)
            layer = outer.extractfile(member)
            assert layer is not None, f"layer {name} is not a file"
            with tarfile.open(fileobj=layer) as inner:
                _apply_layer(inner, rootfs)
    return Image(
        rootfs=rootfs,
        tags=tuple(manifest.get("RepoTags") or ()),
        user=config.get("User", ""),
        env=tuple(config.get("Env") or ()),
        entrypoint=tuple(config.get("Entrypoint") or ()),
        cmd=tuple(config.get("Cmd") or ()),
        workdir=config.get("WorkingDir") or "/",
        layers=tuple(sizes),
    )


def _json(archive: tarfile.TarFile, name: str) -> Any:
    file = archive.extractfile(name)
    assert file is not None, f"{name} is not a file"
    return json.load(file)


def _apply_layer(layer: tarfile.TarFile, rootfs: Path) -> None:
    members = layer.getmembers()
    for member in members:
        parent, _, base = member.name.rpartition("/")
        if base == OPAQUE:
            for child in (rootfs / parent).iterdir():
                _remove(child)
        elif base.startswith(WHITEOUT):
            _remove(rootfs / parent / base[len(WHITEOUT) :])
    kept = [m for m in members if not m.name.rpartition("/")[2].startswith(WHITEOUT)]
    if hasattr(tarfile, "tar_filter"):
        # "tar" keeps owners and links as a runtime does, but refuses paths outside rootfs.
        layer.extractall(rootfs, members=kept, numeric_owner=True, filter="tar")
    else:  # Python before 3.11.4 (Debian 12's 3.11.2) has no filters
        layer.extractall(rootfs, members=kept, numeric_owner=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(image: Image, bundle: Path, args: Sequence[str], *, entrypoint: bool = False) -> Run:
    """Runs ``args`` (after the image's ENTRYPOINT when ``entrypoint``) in a fresh container
    and removes it, its cgroups and its state afterwards."""
    container_id = f"cleanslate-image-check-{os.getpid()}-{next(_ids)}"
    bundle.mkdir(parents=True, exist_ok=True)
    (bundle / "config.json").write_text(json.dumps(_spec(image, args, entrypoint)))
    state = bundle / "runc-state"
    runc = ["runc", "--root", str(state)]
    try:
        done = subprocess.run(
            [*runc, "run", "--bundle", str(bundle), container_id],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    finally:
        subprocess.run([*runc, "delete", "--force", container_id], capture_output=True)
    return Run(done.returncode, done.stdout, done.stderr)


def _spec(image: Image, args: Sequence[str], entrypoint: bool) -> dict[str, Any]:
    uid, gid = image.uid_gid()
    argv = [*image.entrypoint, *args] if entrypoint else list(args)
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": uid, "gid": gid},
            "args": argv,
            "env": list(image.env),
            "cwd": image.workdir,
            "capabilities": {k: [] for k in ("bounding", "effective", "permitted", "inheritable")},
            "noNewPrivileges": True,
        },
        "root": {"path": str(image.rootfs), "readonly": True},
        "hostname": "image-check",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
            # The Deployment's two emptyDirs: the state directory and /tmp.
            _tmpfs("/tmp", uid, gid),
            _tmpfs(image.workdir, uid, gid),
        ],
        "linux": {
            # A network namespace of its own: loopback only, nothing routes anywhere.
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/bus"],
        },
    }


def _tmpfs(path: str, uid: int, gid: int) -> dict[str, Any]:
    return {
        "destination": path,
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "nodev", "size=65536k", "mode=0750", f"uid={uid}", f"gid={gid}"],
    }
