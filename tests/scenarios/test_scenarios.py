"""Runs every scenario file of this directory (not ``pending/``) through ``run_cycle``.

Each YAML file is one story from the source documents or the issues, readable on its own;
``README.md`` describes the format. Files in ``pending/`` state behaviour another change
delivers: they are only checked to be well-formed until they are moved up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .running import run
from .schema import load

HERE = Path(__file__).parent
ACTIVE = sorted(HERE.glob("*.yaml"))
PENDING = sorted((HERE / "pending").glob("*.yaml"))


def test_the_suite_is_not_empty() -> None:
    assert len(ACTIVE) >= 6


@pytest.mark.parametrize("path", ACTIVE, ids=[p.stem for p in ACTIVE])
async def test_scenario(path: Path, tmp_path: Path) -> None:
    await run(load(path), tmp_path)


@pytest.mark.parametrize("path", PENDING, ids=[p.stem for p in PENDING])
def test_pending_scenario_is_well_formed(path: Path) -> None:
    load(path)
