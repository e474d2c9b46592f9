"""``cleanslate once --dry-run`` shows the exchange's verdict on each planned sale."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cleanslate.cli import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ["-f", str(ROOT / "examples/account.yaml"), "-f", str(ROOT / "examples/policy.yaml")]
NOW = ["--now", "2025-11-16T12:00:00Z"]


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["once", *EXAMPLES, *NOW, "--state-dir", str(tmp_path), *extra]) == 0
    return capsys.readouterr().out


def test_dry_run_plan_carries_a_preview_verdict_per_sale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resource = yaml.safe_load(run(tmp_path, capsys, "--dry-run", "-o", "yaml"))

    plan = resource["status"]["plan"]
    sales = [p for p in plan if p["action"] in ("Purge", "Close", "Unwind", "Trim")]
    kept = [p for p in plan if p["action"] in ("Keep", "Skip", "Ignore")]
    assert sales and all(p.get("preview") for p in sales)
    assert {p["symbol"]: p["preview"] for p in sales}["BONK-USD"] == "ok"
    assert all("preview" not in p for p in kept)


def test_the_summary_has_a_preview_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(tmp_path, capsys, "--dry-run")

    header = next(line for line in out.splitlines() if "ACTION" in line and "REASON" in line)
    bonk = next(line for line in out.splitlines() if line.strip().startswith("BONK-USD  Purge"))
    assert "PREVIEW" in header and " ok " in bonk


def test_a_live_run_previews_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resource = yaml.safe_load(run(tmp_path, capsys, "-o", "yaml"))

    assert all("preview" not in p for p in resource["status"]["plan"])
