"""`make release` builds what a user consumes, the same bytes every time, and publishes nothing.

The image is left out (RELEASE_IMAGE=0): building it is hack/build-image.sh's job, checked by
tests/image. The rest runs for real: the chart through helm, the plugin archives, the filled
krew manifest and SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from cleanslate.localcluster import ToolNotFoundError, find_tool

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
PLATFORMS = ("linux-amd64", "linux-arm64", "darwin-arm64")


def release(dist: Path) -> subprocess.CompletedProcess[str]:
    try:
        find_tool("helm")
    except ToolNotFoundError as exc:
        pytest.skip(str(exc))
    env = {**os.environ, "RELEASE_IMAGE": "0", "DIST": str(dist)}
    return subprocess.run(
        [sys.executable, str(ROOT / "hack" / "release.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    result = release(first)
    release(second)
    return first, second, result.stderr


def archive_names() -> list[str]:
    return [f"kubectl-cleanslate-v{VERSION}-{p}.tar.gz" for p in PLATFORMS]


def test_plugin_archives_are_reproducible(two_builds: tuple[Path, Path, str]) -> None:
    first, second, _ = two_builds
    for name in archive_names():
        assert sha256(first / name) == sha256(second / name), name


def test_filled_krew_manifest_carries_the_archives_sums(
    two_builds: tuple[Path, Path, str],
) -> None:
    dist = two_builds[0]
    filled = yaml.safe_load((dist / "krew" / "cleanslate.yaml").read_text())
    template = yaml.safe_load((ROOT / "deploy" / "krew" / "cleanslate.yaml").read_text())
    by_uri = {p["uri"].rsplit("/", 1)[1]: p["sha256"] for p in filled["spec"]["platforms"]}
    assert sorted(by_uri) == sorted(archive_names())
    for name, digest in by_uri.items():
        assert digest == sha256(dist / name) != "0" * 64
    # Only the sums differ from the checked-in template, which keeps its placeholders.
    for platform in template["spec"]["platforms"]:
        assert platform["sha256"] == "0" * 64
        platform.pop("sha256")
    for platform in filled["spec"]["platforms"]:
        platform.pop("sha256")
    assert filled == template


def test_plugin_archive_holds_a_runnable_plugin_and_the_license(
    two_builds: tuple[Path, Path, str], tmp_path: Path
) -> None:
    archive = two_builds[0] / archive_names()[0]
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {"kubectl-cleanslate", "LICENSE"}
        assert members["kubectl-cleanslate"].mode == 0o755 and members["LICENSE"].mtime == 0
        data = tar.extractfile("kubectl-cleanslate").read()  # type: ignore[union-attr]
    assert data.startswith(b"#!/usr/bin/env python3\n")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "__main__.py" in names and "cleanslate/plugin/__init__.py" in names
    assert not any("__pycache__" in n for n in names)
    plugin = tmp_path / "kubectl-cleanslate"
    plugin.write_bytes(data)
    # The zipapp imports its own copy of the package, not the checkout's.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-I", str(plugin), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    assert VERSION in out.stdout


def test_sha256sums_lists_every_artifact_and_nothing_was_published(
    two_builds: tuple[Path, Path, str],
) -> None:
    dist, _, stderr = two_builds
    lines = (dist / "SHA256SUMS").read_text().splitlines()
    listed = {name: digest for digest, name in (line.split("  ") for line in lines)}
    expected = {*archive_names(), f"cleanslate-{VERSION}.tgz", "krew/cleanslate.yaml"}
    assert set(listed) == expected
    for name, digest in listed.items():
        assert sha256(dist / name) == digest
    assert "published nothing" in stderr
    with tarfile.open(dist / f"cleanslate-{VERSION}.tgz") as packaged:
        chart_yaml = packaged.extractfile("cleanslate/Chart.yaml")
        assert chart_yaml is not None
        chart = yaml.safe_load(chart_yaml.read())
    assert chart["version"] == VERSION
