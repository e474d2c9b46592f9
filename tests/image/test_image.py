"""The built operator image, run as the Deployment runs it (image_runtime): the numeric
non-root user, a read-only root filesystem, the CLI and ccxt importable, its size."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from image_runtime import SIZES, Image, run

pytestmark = pytest.mark.image
REPO = Path(__file__).resolve().parents[2]

MIB = 1024 * 1024
SIZE_BUDGET_MIB = 512
"""A tripwire for a dependency that bloats the image (it measured 358 MiB uncompressed on the
debootstrap base, docs/install.md), not a target."""
SITE = "opt/cleanslate/lib/python3.11/site-packages"


def _project_version() -> str:
    return str(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"])


def _locked(package: str) -> str:
    found = re.search(rf"^{package}==(\S+)", (REPO / "requirements.lock").read_text(), re.M)
    assert found, f"{package} is not in requirements.lock"
    return found.group(1)


def _python(image: Image, tmp_path: Path, code: str) -> str:
    done = run(image, tmp_path / "bundle", ["python", "-c", code])
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_image_is_tagged_with_the_project_version(image: Image):
    assert image.tags == (f"localhost/cleanslate:{_project_version()}",)


def test_runs_as_uid_10001_without_capabilities(image: Image, tmp_path: Path):
    assert image.user == "10001:10001"
    out = _python(
        image,
        tmp_path,
        "import os; s = open('/proc/self/status').read(); "
        "print(os.getuid(), os.geteuid(), os.getgid(), "
        "[l.split()[1] for l in s.splitlines() if l.startswith('CapEff')][0])",
    )
    assert out == "10001 10001 10001 0000000000000000"


def test_read_only_root_filesystem_with_only_the_deployments_volumes_writable(
    image: Image, tmp_path: Path
):
    probe = (
        "import errno\n"
        "for path in ['/opt/cleanslate/probe', '/etc/probe', '/probe', "
        f"'{image.workdir}/probe', '/tmp/probe']:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print(path, 'writable')\n"
        "    except OSError as exc:\n"
        "        print(path, errno.errorcode[exc.errno])\n"
    )
    assert _python(image, tmp_path, probe).splitlines() == [
        "/opt/cleanslate/probe EROFS",
        "/etc/probe EROFS",
        "/probe EROFS",
        f"{image.workdir}/probe writable",
        "/tmp/probe writable",
    ]


def test_cleanslate_version(image: Image, tmp_path: Path):
    done = run(image, tmp_path / "bundle", ["cleanslate", "--version"])
    assert (done.returncode, done.stdout) == (0, f"cleanslate {_project_version()}\n")


def test_operator_entrypoint_loads_kopf_and_the_kubernetes_client(image: Image, tmp_path: Path):
    done = run(image, tmp_path / "bundle", ["--help"], entrypoint=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: cleanslate operator")


def test_import_ccxt_the_locked_version(image: Image, tmp_path: Path):
    out = _python(image, tmp_path, "import ccxt, ccxt.async_support; print(ccxt.__version__)")
    assert out == _locked("ccxt")


def test_packages_are_byte_compiled_for_the_read_only_filesystem(image: Image):
    for package in ("cleanslate", "ccxt", "kopf"):
        compiled = list((image.rootfs / SITE / package / "__pycache__").glob("*.cpython-311.pyc"))
        assert compiled, f"{package} has no .pyc files"


def test_container_has_no_network_but_loopback(image: Image, tmp_path: Path):
    out = _python(image, tmp_path, "import socket; print([n for _, n in socket.if_nameindex()])")
    assert out == "['lo']"


def test_image_size(image: Image, image_tar: Path):
    tarball = image_tar.stat().st_size
    SIZES[image.tags[0] if image.tags else str(image_tar)] = (
        f"docker-archive {tarball / MIB:.0f} MiB, layers "
        + " + ".join(f"{size / MIB:.1f}" for size in image.layers)
        + " MiB (uncompressed)"
    )
    assert sum(image.layers) <= tarball < SIZE_BUDGET_MIB * MIB
