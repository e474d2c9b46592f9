"""The e2e node's pure parts: its sandbox image, its configs, the network-rule check."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from cleanslate.localcluster.node import (
    SANDBOX_IMAGE,
    LocalNode,
    _mounts_under,
    cni_config,
    containerd_config,
    containerd_socket,
    descendants,
    foreign_peers,
    kubelet_config,
    sandbox_image_archive,
    sweep_stale_nodes,
)

# `ss -tunapH` lines (iproute2 6.1, bookworm), captured with a kubelet and containerd running
SS = """\
tcp   ESTAB  0 0 127.0.0.1:41234 127.0.0.1:6443 users:(("kubelet",pid=101,fd=9))
tcp   LISTEN 0 4096 127.0.0.1:10250 0.0.0.0:* users:(("kubelet",pid=101,fd=12))
tcp   SYN-SENT 0 1 10.1.2.3:50000 93.184.216.34:443 users:(("python",pid=202,fd=5))
udp   UNCONN 0 0 [::1]:53 [::]:* users:(("python",pid=202,fd=6))
tcp   ESTAB  0 0 10.1.2.3:50001 140.82.1.1:443 users:(("pip",pid=999,fd=3))
"""


def test_sandbox_image_is_a_docker_archive_running_pause(tmp_path: Path) -> None:
    pause = tmp_path / "pause"
    pause.write_bytes(b"\x7fELF binary")
    archive = sandbox_image_archive(pause, tmp_path / "pause.tar")
    with tarfile.open(archive) as outer:
        [manifest] = json.load(outer.extractfile("manifest.json"))
        config = json.load(outer.extractfile(manifest["Config"]))
        with tarfile.open(fileobj=outer.extractfile("layer.tar")) as layer:
            member = layer.getmember("pause")
    assert manifest["RepoTags"] == [SANDBOX_IMAGE]
    assert config["config"]["Entrypoint"] == ["/pause"]
    assert member.mode == 0o755 and member.size == len(b"\x7fELF binary")
    # same binary, same image: the import is idempotent
    again = sandbox_image_archive(pause, tmp_path / "again.tar")
    assert again.read_bytes() == archive.read_bytes()


def test_cni_config_holds_only_loopback() -> None:
    assert [p["type"] for p in json.loads(cni_config())["plugins"]] == ["loopback"]


def test_containerd_config_has_what_this_machine_needs(tmp_path: Path) -> None:
    text = containerd_config(tmp_path, Path("/cni"))
    assert "restrict_oom_score_adj = true" in text
    assert "SystemdCgroup = false" in text
    assert f'sandbox_image = "{SANDBOX_IMAGE}"' in text
    assert 'stream_server_address = "127.0.0.1"' in text
    # every path it writes is under the temp dir
    paths = [line.split('"')[1] for line in text.splitlines() if '= "/' in line]
    assert paths and all(p.startswith(str(tmp_path)) or p == "/cni" for p in paths)


def test_kubelet_config_serves_loopback_and_accepts_cgroup_v1(tmp_path: Path) -> None:
    config = kubelet_config(tmp_path, 10250, Path("/ca.crt"))
    assert config["address"] == "127.0.0.1" and config["healthzBindAddress"] == "127.0.0.1"
    assert config["failCgroupV1"] is False and config["cgroupDriver"] == "cgroupfs"
    assert config["readOnlyPort"] == 0
    assert config["resolvConf"] == str(tmp_path / "resolv.conf")


def test_a_second_node_serves_on_its_own_address_from_its_own_dir(tmp_path: Path) -> None:
    """Node 127.0.0.2: its kubelet and containerd's streaming server on its address, every
    path (the containerd socket the kubelet talks to included) in its own temp dir."""
    workdir = tmp_path / "node-2"
    config = kubelet_config(workdir, 10251, Path("/ca.crt"), "127.0.0.2")
    assert config["address"] == "127.0.0.2" and config["healthzBindAddress"] == "127.0.0.2"
    assert config["containerRuntimeEndpoint"] == f"unix://{containerd_socket(workdir)}"
    text = containerd_config(workdir, Path("/cni"), address="127.0.0.2")
    assert 'stream_server_address = "127.0.0.2"' in text
    assert f'address = "{containerd_socket(workdir)}"' in text


@pytest.mark.parametrize("name", ["10.0.0.2", "node-2"])
def test_a_node_is_named_by_a_loopback_address_only(name: str) -> None:
    with pytest.raises(ValueError):
        LocalNode(object(), name=name)  # type: ignore[arg-type]


def test_a_node_removes_its_own_cgroups_and_leaves_another_nodes(tmp_path: Path) -> None:
    """Both nodes' pods sit under containerd's flat ``k8s.io`` parent: a node owns the cgroups
    named by its containers' ids, and the parent only once no other container is in it."""
    parent = tmp_path / "memory" / "k8s.io"
    for container in ("mine-1", "mine-2", "theirs"):
        (parent / container).mkdir(parents=True)
    node = LocalNode(object(), name="127.0.0.2", tools=tmp_path)  # type: ignore[arg-type]
    node._containers = {"mine-1", "mine-2"}
    assert node._owns(parent / "mine-1") and node._owns(parent / "mine-2")
    assert not node._owns(parent / "theirs")
    assert not node._owns(parent), "another node's container is still in it"
    (parent / "theirs").rmdir()
    assert node._owns(parent)


def test_foreign_peers_flags_only_the_nodes_non_loopback_sockets() -> None:
    assert foreign_peers(SS, {101}) == []
    [line] = foreign_peers(SS, {101, 202})
    assert "93.184.216.34:443" in line
    # another program's traffic on the machine is not the node's
    assert not [x for x in foreign_peers(SS, {101, 202}) if "pid=999" in x]


def test_descendants_follow_parent_pids(tmp_path: Path) -> None:
    for pid, ppid in ((10, 1), (11, 10), (12, 11), (20, 1)):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (a b) S {ppid} 0 0")
    assert descendants([10], proc=tmp_path) == {10, 11, 12}


def test_mounts_under_a_directory_come_deepest_first(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text(
        "45 27 254:0 / /tmp/n/kubelet rw - ext4 /dev/vda rw\n"
        "46 45 0:40 / /tmp/n/kubelet/pods/x/volumes/token rw - tmpfs tmpfs rw\n"
        "47 27 0:41 / /tmp/nn/other rw - tmpfs tmpfs rw\n"
        f"48 27 0:42 / {os.sep}proc rw - proc proc rw\n"
    )
    assert _mounts_under(Path("/tmp/n"), info) == [
        "/tmp/n/kubelet/pods/x/volumes/token",
        "/tmp/n/kubelet",
    ]


def test_a_stale_node_is_swept_and_a_live_one_kept(tmp_path: Path) -> None:
    """A node whose owner died loses its dir and its containers' cgroups; one whose owner
    lives (this process) keeps everything."""
    cgroups = tmp_path / "cgroup"
    stale, live = (
        tmp_path / "tmp" / "cleanslate-node-dead",
        tmp_path / "tmp" / "cleanslate-node-live",
    )
    for workdir, owner in ((stale, 2**22 + 1), (live, os.getpid())):
        tasks = workdir / "containerd" / "state" / "io.containerd.runtime.v2.task" / "k8s.io"
        (tasks / f"id-{workdir.name}").mkdir(parents=True)
        (workdir / "owner.pid").write_text(str(owner))
        (cgroups / "memory" / "k8s.io" / f"id-{workdir.name}").mkdir(parents=True)
    sweep_stale_nodes(tmp_path / "tmp", cgroups)
    assert not stale.exists() and live.is_dir()
    left = sorted(p.name for p in (cgroups / "memory" / "k8s.io").iterdir())
    assert left == ["id-cleanslate-node-live"]
