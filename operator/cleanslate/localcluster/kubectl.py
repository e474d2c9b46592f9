"""A thin kubectl runner for tests and the demo.

Tests check what a user would see (``kubectl get`` columns, Forbidden
messages), so they drive the real CLI rather than re-implementing it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_KUBECTL_TIMEOUT = 120.0


class KubectlError(RuntimeError):
    """kubectl failed; carries stderr because that is where the API server's reason is."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"kubectl {' '.join(argv)} exited {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


class Kubectl:
    """Runs the cached kubectl against one kubeconfig; call it like the CLI."""

    def __init__(
        self,
        binary: Path,
        kubeconfig: Path,
        cache_dir: Path,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig
        # A private discovery cache: the user's ~/.kube/cache may be stale for a
        # server on a reused port, and tests should not write to $HOME anyway.
        self._base = [f"--kubeconfig={kubeconfig}", f"--cache-dir={cache_dir}", *extra_args]

    def __call__(self, *args: str, input: str | None = None) -> str:
        argv = [*self._base, *args]
        result = subprocess.run(
            [str(self.binary), *argv],
            input=input,
            capture_output=True,
            text=True,
            timeout=_KUBECTL_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise KubectlError(args, result.returncode, result.stderr)
        return result.stdout

    def apply(self, manifest: dict[str, Any], *args: str) -> str:
        """``kubectl apply`` a manifest given as a dict (JSON is valid YAML)."""
        return self("apply", "-f", "-", *args, input=json.dumps(manifest))
