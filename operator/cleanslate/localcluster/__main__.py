"""``python -m cleanslate.localcluster``: a control plane for a person at a terminal.

Prints the ``export KUBECONFIG=...`` line to paste into another shell, then
holds the plane until Ctrl-C or SIGTERM and stops it cleanly.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from . import LocalControlPlane

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cleanslate.localcluster", description=__doc__)
    parser.add_argument(
        "--apiserver-arg",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra kube-apiserver flag, e.g. --apiserver-arg=--v=4 (repeatable)",
    )
    parser.add_argument(
        "--controllers",
        action="store_true",
        help="ServiceAccount admission on, plus kube-controller-manager and kube-scheduler "
        "(a plane a kubelet can join; build them with hack/build-tools.sh "
        "kube-controller-manager kube-scheduler)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="startup timeout, seconds")
    return parser.parse_args(argv)


def _wait_for_stop_signal() -> int:
    """Block until SIGINT/SIGTERM. Masking first means the signal is queued, not
    acted on, so it cannot land between the print and the wait and be lost."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    return signal.sigwait(_STOP_SIGNALS)


def next_steps(tools_bin: Path, kubeconfig: Path, venv: Path) -> list[str]:
    """What a person pastes into another shell: kubectl and the control-plane tools, and the
    venv's ``cleanslate`` and ``kubectl-cleanslate`` (so ``kubectl cleanslate`` is a known
    command) on PATH; the kubeconfig; then the commands that start the operator against
    this plane and give it an account to clean."""
    return [
        "paste these into another shell (Ctrl-C here stops the plane):",
        f"export PATH={venv / 'bin'}:{tools_bin}:$PATH",
        f"export KUBECONFIG={kubeconfig}",
        "then install the CRDs, start the operator, and give it an account:",
        "kubectl apply -f crds/ && kubectl wait --for=condition=Established crd --all",
        "cleanslate operator --metrics-port 0 --liveness-port 0 &",
        "kubectl apply -f examples/policy.yaml -f examples/first-account.yaml",
        "kubectl cleanslate status first -n default",
    ]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    plane = LocalControlPlane(
        extra_apiserver_args=args.apiserver_arg,
        startup_timeout=args.timeout,
        controllers=args.controllers,
    )
    with plane:
        print(f"restricted user: export KUBECONFIG={plane.restricted_kubeconfig}", flush=True)
        for line in next_steps(plane.tools_dir / "bin", plane.kubeconfig, Path(sys.prefix)):
            print(line, flush=True)
        received = _wait_for_stop_signal()
        print(f"received {signal.Signals(received).name}; stopping", file=sys.stderr, flush=True)
    print("stopped; nothing left behind", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
