"""Runs every scenario file of this directory through ``run_cycle``.

Each YAML file is one story from the source documents or the issues, readable on its own;
``README.md`` describes the format.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .running import run
from .schema import load

HERE = Path(__file__).parent
ACTIVE = sorted(HERE.glob("*.yaml"))


def test_the_suite_is_not_empty() -> None:
    assert len(ACTIVE) >= 22


@pytest.mark.parametrize("path", ACTIVE, ids=[p.stem for p in ACTIVE])
async def test_scenario(path: Path, tmp_path: Path) -> None:
    await run(load(path), tmp_path)
