"""The scale benchmark at 50 accounts, so it cannot rot between the runs that size a replica.

``benchmarks/scale.py`` is not part of CI: its figures depend on the machine and on what else
runs on it. This runs it end to end, small and fast (a 5 s interval, a 10 s no-op window, its
own control plane), and checks only what cannot flake: every account reached CLEAN, the
no-op cycles wrote nothing, and the table printed every figure with its target. No timing is
asserted; the PASS/MISS verdicts of the timed figures are the benchmark's to print.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

SCALE = Path(__file__).resolve().parents[2] / "benchmarks" / "scale.py"
ACCOUNTS = 50
TABLE_ROWS = (
    "accounts / interval",
    "load average 1/5/15 min",
    "cycles in window",
    "cycle lag p50",
    "cycle lag p99",
    "status writes per no-op cycle",
    "API writes per no-op cycle",
    "API requests per cycle",
    "operator CPU in window",
    "CPU per cycle",
    "etcd CPU in window",
    "kube-apiserver CPU in window",
    "RSS per account",
    "CLEAN",
    "apply -> CLEAN p99",
    "ramp: kube-apiserver CPU",
)


def test_the_scale_benchmark_runs_50_accounts_to_clean_with_no_writes_on_no_op_cycles(
    tmp_path: Path,
) -> None:
    figures_file = tmp_path / "figures.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCALE),
            "--accounts",
            str(ACCOUNTS),
            "--interval",
            "5",
            "--steady-seconds",
            "10",
            "--idle-seconds",
            "1",
            "--clean-timeout",
            "120",
            "--json",
            str(figures_file),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    figures = json.loads(figures_file.read_text())
    assert figures["clean"] == ACCOUNTS, out[-4000:]
    assert figures["cycles"] >= ACCOUNTS, out[-4000:]  # every account cycled in the window
    assert figures["figures"]["status writes per no-op cycle"] == 0, out[-4000:]
    assert figures["figures"]["API writes per no-op cycle"] == 0, out[-4000:]
    table = {line.split("  ")[0].rstrip() for line in out.splitlines() if "  " in line}
    missing = [row for row in TABLE_ROWS if row not in table]
    assert not missing, f"rows missing from the table: {missing}\n{out[-4000:]}"
    for name, value in figures["figures"].items():
        assert value is not None, f"{name} has no figure\n{out[-4000:]}"
    for name in ("cycle lag p99", "RSS per account", "apply -> CLEAN p99"):
        assert figures["verdicts"][name].startswith(("PASS", "MISS by")), figures["verdicts"]
