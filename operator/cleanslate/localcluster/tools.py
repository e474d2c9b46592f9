"""Locating the control-plane binaries built by ``hack/build-tools.sh``.

The binaries live in a per-user cache outside the checkout (building
kube-apiserver takes minutes; reusing it takes nothing), and the build script
keeps a ``bin/`` directory of stable symlinks there. Only that directory is
searched by default: a kubectl that happens to be on ``$PATH`` may be any
version, and tests must not silently depend on it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TOOLS_DIR_ENV = "CLEANSLATE_TOOLS_DIR"
TOOL_NAMES = ("kube-apiserver", "kubectl", "etcd", "helm", "promtool")


def tools_dir() -> Path:
    """The cache root; ``CLEANSLATE_TOOLS_DIR`` overrides it as in the build script."""
    configured = os.environ.get(TOOLS_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "cleanslate" / "tools"


class ToolNotFoundError(FileNotFoundError):
    """Raised with the command that fixes it, because the cause is nearly always a missing build."""


def find_tool(name: str, *, root: Path | None = None, allow_path: bool = False) -> Path:
    """Return the cached binary ``name``; fall back to ``$PATH`` only when asked.

    ``root`` overrides the cache root (default: tools_dir()). ``allow_path`` exists
    for the existing-cluster mode (kind on a laptop), where a user-installed
    kubectl is acceptable and building the tools would be overkill.
    """
    candidate = (root if root is not None else tools_dir()) / "bin" / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate.resolve()
    if allow_path:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ToolNotFoundError(
        f"{name} not found in {candidate.parent}; build it with `bash hack/build-tools.sh` "
        f"(or set {TOOLS_DIR_ENV} to the directory it built into)"
    )
