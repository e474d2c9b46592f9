"""Build a release into dist/ and publish nothing: no registry is reachable from here.

What it writes (``make release``; docs/install.md, "Releasing"):

    dist/cleanslate-image-<version>.tar      the operator image (docker-archive, tagged
                                             localhost/cleanslate:<version>), hack/build-image.sh
    dist/cleanslate-<version>.tgz            the chart, ``helm package helm/cleanslate``
    dist/kubectl-cleanslate-v<version>-<os>-<arch>.tar.gz
                                             the archives the krew manifest points at
    dist/krew/cleanslate.yaml                deploy/krew/cleanslate.yaml with their real sha256
    dist/SHA256SUMS                          every file above, ``sha256sum -c`` format

The plugin archives are reproducible (fixed order, mtimes, owners and modes; gzip without a
name or time), so the same checkout gives the same sha256 and the filled krew manifest can
be checked against a fresh build. Each holds ``kubectl-cleanslate``, a zipapp of the pure
Python ``cleanslate`` package run by ``python3``, and LICENSE. The zipapp does not carry the
dependencies (pydantic-core is compiled per platform): it needs them installed, as
``pip install cleanslate`` does; the platforms differ only in name until a release job bundles
per-platform wheels.

Environment: RELEASE_IMAGE=0 skips the image (tests and machines without buildah),
DIST (default dist/ in the checkout), CLEANSLATE_CACHE_DIR as for hack/build-image.sh.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "operator" / "cleanslate"
KREW_TEMPLATE = ROOT / "deploy" / "krew" / "cleanslate.yaml"
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"), ("darwin", "arm64"))
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
LAUNCHER = b"from cleanslate.plugin import main\n\nraise SystemExit(main())\n"


def log(message: str) -> None:
    print(f"[release] {message}", file=sys.stderr)


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def zipapp_bytes() -> bytes:
    """The plugin as a zipapp: sorted entries, one fixed time and mode, no bytecode."""
    files = sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [("__main__.py", LAUNCHER)]
        entries += [(p.relative_to(PACKAGE.parent).as_posix(), p.read_bytes()) for p in files]
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return b"#!/usr/bin/env python3\n" + buffer.getvalue()


def plugin_archive(path: Path, executable: bytes) -> None:
    """A tar.gz of the plugin and LICENSE whose bytes depend only on their contents."""
    members = [("LICENSE", (ROOT / "LICENSE").read_bytes(), 0o644)]
    members.append(("kubectl-cleanslate", executable, 0o755))
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data, mode in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(tar_buffer.getvalue())


def plugin_archives(dist: Path, ver: str) -> list[Path]:
    executable = zipapp_bytes()
    paths = []
    for os_name, arch in PLATFORMS:
        path = dist / f"kubectl-cleanslate-v{ver}-{os_name}-{arch}.tar.gz"
        plugin_archive(path, executable)
        paths.append(path)
    return paths


def filled_krew_manifest(template: str, archives: list[Path]) -> str:
    """The template with each platform's sha256 set to its archive's; every one must match."""
    text = template
    for archive in archives:
        pattern = re.compile(
            r"(uri: \S*/" + re.escape(archive.name) + r'\n\s+sha256: )"[0-9a-f]{64}"'
        )
        digest = sha256(archive)
        text, count = pattern.subn(rf'\g<1>"{digest}"', text)  # hex: nothing to escape
        if count != 1:
            raise SystemExit(f"krew manifest has {count} entries for {archive.name}, not 1")
    return text


def chart(dist: Path) -> Path:
    sys.path.insert(0, str(ROOT / "operator"))
    from cleanslate.localcluster import find_tool  # only the chart needs it

    helm = find_tool("helm")
    subprocess.run(
        [str(helm), "package", str(ROOT / "helm" / "cleanslate"), "-d", str(dist)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return dist / f"cleanslate-{version()}.tgz"


def image(dist: Path, ver: str) -> Path:
    subprocess.run(["bash", str(ROOT / "hack" / "build-image.sh")], check=True)
    cache = Path(os.environ.get("CLEANSLATE_CACHE_DIR", Path.home() / ".cache" / "cleanslate"))
    target = dist / f"cleanslate-image-{ver}.tar"
    shutil.copyfile(cache / "images" / "cleanslate-image.tar", target)
    return target


def main() -> int:
    dist = Path(os.environ.get("DIST", ROOT / "dist"))
    ver = version()
    shutil.rmtree(dist, ignore_errors=True)
    (dist / "krew").mkdir(parents=True)
    built = []
    if os.environ.get("RELEASE_IMAGE", "1") != "0":
        built.append(image(dist, ver))
    else:
        log("RELEASE_IMAGE=0: no image")
    built.append(chart(dist))
    archives = plugin_archives(dist, ver)
    built += archives
    manifest = dist / "krew" / "cleanslate.yaml"
    manifest.write_text(filled_krew_manifest(KREW_TEMPLATE.read_text(), archives))
    built.append(manifest)
    sums = "".join(f"{sha256(p)}  {p.relative_to(dist).as_posix()}\n" for p in sorted(built))
    (dist / "SHA256SUMS").write_text(sums)
    sys.stdout.write(sums)
    log(f"built cleanslate {ver} into {dist}; published nothing (no registry is reachable here)")
    log("a maintainer publishes with the commands in docs/install.md, 'Releasing'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
