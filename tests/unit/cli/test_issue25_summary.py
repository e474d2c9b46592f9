"""Issue 25 item 8: what ``cleanslate once`` says must be what it does."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleanslate.cli import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ["-f", str(ROOT / "examples/account.yaml"), "-f", str(ROOT / "examples/policy.yaml")]


def test_an_escalated_zombie_is_not_promised_a_retry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    main(["once", *EXAMPLES, "--state-dir", str(tmp_path), "--now", "2025-11-16T12:00:00Z"])
    out = capsys.readouterr().out
    failures = out[out.index("Purge failures:") :].splitlines()
    aut = next(line for line in failures if line.strip().startswith("AUT-USD"))
    assert "next cycle" not in aut
    assert "escalated: not retried" in aut
    bonk = next(line for line in failures if line.strip().startswith("BONK-USD"))
    assert "next cycle" in bonk


def test_the_dust_pct_help_says_the_share_is_capped_at_min_position_usd(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["once", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "capped at minPositionUsd" in help_text
