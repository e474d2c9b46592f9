"""The unpacker of tests/image applies a docker-archive's layers as a runtime would: later
layers override files, delete them with a whiteout, or empty a directory with an opaque
marker. Built here from tiny archives, so it runs without the image or root."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from image_runtime import Image, unpack


def _layer(files: dict[str, bytes | None]) -> bytes:
    """A layer tar: a path ending in "/" is a directory, None an empty marker file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        for name, data in files.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            if name.endswith("/"):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                layer.addfile(info)
            else:
                info.size = len(data or b"")
                layer.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


def _archive(path: Path, layers: list[bytes], config: dict[str, object]) -> Path:
    entries = {f"layer{i}.tar": data for i, data in enumerate(layers)}
    entries["config.json"] = json.dumps({"config": config}).encode()
    entries["manifest.json"] = json.dumps(
        [{"Config": "config.json", "RepoTags": ["localhost/x:1"], "Layers": list(entries)[:-1]}]
    ).encode()
    with tarfile.open(path, "w") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_layers_apply_in_order_with_whiteouts_and_opaque_directories(tmp_path: Path):
    lower = _layer(
        {
            "etc/": None,
            "etc/kept": b"lower",
            "etc/replaced": b"lower",
            "etc/deleted": b"lower",
            "opt/": None,
            "opt/old/": None,
            "opt/old/file": b"lower",
        }
    )
    upper = _layer(
        {
            "etc/replaced": b"upper",
            "etc/.wh.deleted": None,
            "opt/.wh..wh..opq": None,
            "opt/new": b"upper",
        }
    )
    config = {"User": "10001:10001", "Env": ["A=1"], "Entrypoint": ["x"], "WorkingDir": "/w"}
    image = unpack(_archive(tmp_path / "a.tar", [lower, upper], config), tmp_path / "out")
    files = sorted(str(p.relative_to(image.rootfs)) for p in image.rootfs.rglob("*") if p.is_file())
    assert files == ["etc/kept", "etc/replaced", "opt/new"]
    assert (image.rootfs / "etc" / "replaced").read_bytes() == b"upper"
    assert image.tags == ("localhost/x:1",)
    assert (image.user, image.env, image.entrypoint, image.workdir) == (
        "10001:10001",
        ("A=1",),
        ("x",),
        "/w",
    )
    assert image.layers == (len(lower), len(upper))


@pytest.mark.parametrize(("user", "expected"), [("10001:10001", (10001, 10001)), ("7", (7, 7))])
def test_numeric_user(user: str, expected: tuple[int, int]):
    assert Image(Path("/"), (), user, (), (), (), "/").uid_gid() == expected


@pytest.mark.parametrize("user", ["cleanslate", "", "root:root"])
def test_a_user_name_is_refused_since_run_as_non_root_needs_a_number(user: str):
    with pytest.raises(ValueError):
        Image(Path("/"), (), user, (), (), (), "/").uid_gid()
