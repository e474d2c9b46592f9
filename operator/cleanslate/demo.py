"""``python -m cleanslate.demo``: the whole product on one machine, start to finish.

Starts a local control plane (etcd + kube-apiserver, no Docker), installs the CRDs, runs the
operator, applies ``examples/demo/`` (two tenant namespaces, five paper accounts in the
documents' situations), prints ``kubectl get tradingaccounts`` each time it changes until the
accounts settle, then the events, and stops everything. It ends by itself.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cleanslate.localcluster import Kubectl, LocalControlPlane

ROOT = Path(__file__).resolve().parents[2]
SETTLED = {
    "tenant-a/purge-sei-wlfi": "Clean",
    "tenant-a/legacy-unwind": "Clean",
    "tenant-b/over-cap": "Clean",
    "tenant-b/dry-run": "Dirty",
    "tenant-a/bonk": "Dirty",
}


def _states(kubectl: Kubectl) -> dict[str, str]:
    out = kubectl(
        "get",
        "tradingaccounts",
        "-A",
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}="
        "{.status.accountState}{'\\n'}{end}",
    )
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _watch(kubectl: Kubectl, timeout: float) -> bool:
    """Print the table whenever it changes; True once every account is where it settles."""
    deadline, last = time.monotonic() + timeout, ""
    bonk_backing_off = False
    while time.monotonic() < deadline:
        table = kubectl("get", "tradingaccounts", "-A")
        if table != last:
            elapsed = timeout - (deadline - time.monotonic())
            print(f"\n$ kubectl get tradingaccounts -A    (t+{elapsed:.0f}s)")
            print(table.rstrip(), flush=True)
            last = table
        failures = kubectl(
            "get", "ta", "bonk", "-n", "tenant-a", "-o", "jsonpath={.status.failureCount}"
        )
        bonk_backing_off = failures.strip() not in ("", "0")
        if _states(kubectl) == SETTLED and bonk_backing_off:
            return True
        time.sleep(1)  # a person watching the table, not a test waiting for a condition
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cleanslate.demo", description=__doc__)
    parser.add_argument("--timeout", type=float, default=180.0, help="give up after (seconds)")
    args = parser.parse_args(argv)
    with LocalControlPlane() as plane, tempfile.TemporaryDirectory() as state:
        kubectl = Kubectl(plane.tools_dir / "bin" / "kubectl", plane.kubeconfig, Path(state) / "k")
        print(f"control plane up: export KUBECONFIG={plane.kubeconfig}", flush=True)
        kubectl("apply", "-f", str(ROOT / "crds"))
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig)}
        log = Path(state) / "operator.log"
        with log.open("w") as sink:
            operator = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cleanslate.cli",
                    "operator",
                    "--state-dir",
                    state,
                    "--metrics-port",
                    "0",
                    "--liveness-port",
                    "0",
                ],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        try:
            kubectl("apply", "-f", str(ROOT / "examples" / "demo"))
            settled = _watch(kubectl, args.timeout)
            print("\n$ kubectl get events -n tenant-a --sort-by=.lastTimestamp | tail -15")
            events = kubectl("get", "events", "-n", "tenant-a", "--sort-by=.lastTimestamp")
            print("\n".join(events.splitlines()[:1] + events.splitlines()[-15:]))
            print("\n$ kubectl get ta bonk -n tenant-a -o jsonpath='{.status.purgeFailures}'")
            print(
                kubectl(
                    "get", "ta", "bonk", "-n", "tenant-a", "-o", "jsonpath={.status.purgeFailures}"
                )
            )
        finally:
            operator.terminate()
            operator.wait(timeout=30)
        print(f"\noperator log: {sum(1 for _ in log.open())} lines; stopping the control plane")
        print(
            "demo "
            + (
                "finished: accounts settled as expected"
                if settled
                else f"timed out after {args.timeout:.0f}s"
            )
        )
        return 0 if settled else 1


if __name__ == "__main__":
    raise SystemExit(main())
