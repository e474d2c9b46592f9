"""The image under test: the docker-archive named by ``CLEANSLATE_IMAGE_TAR`` (``make
image-check`` and the e2e pass the one they built), or else the one ``hack/build-image.sh``
builds or finds up to date in ~/.cache/cleanslate (seconds when nothing changed, minutes
cold)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_runtime import SIZES, Image, unpack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def image_tar() -> Path:
    named = os.environ.get("CLEANSLATE_IMAGE_TAR")
    if named:
        path = Path(named)
        assert path.is_file(), f"CLEANSLATE_IMAGE_TAR={named} is not a file"
        return path
    built = subprocess.run(
        ["bash", str(REPO / "hack" / "build-image.sh")],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert built.returncode == 0, f"hack/build-image.sh failed:\n{built.stderr[-4000:]}"
    line = next(x for x in built.stdout.splitlines() if x.startswith("tarball:"))
    return Path(line.split()[1])


@pytest.fixture(scope="session")
def image(image_tar: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Image]:
    dest = tmp_path_factory.mktemp("image")
    try:
        yield unpack(image_tar, dest)
    finally:
        shutil.rmtree(dest)  # a few hundred MB; pytest would keep the last three sessions'


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, text in SIZES.items():
        terminalreporter.write_line(f"{name}: {text}")
