"""Fixtures for the paper exchange's own tests: a simulated clock and an account factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.paper import PaperExchange, open_paper_exchange

OpenPaper = Callable[..., PaperExchange]


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def open_paper(clock: SimulatedClock) -> OpenPaper:
    """``open_paper(holdings={...}, seed=.., state_dir=.., **paper_spec_keys)``."""

    def make(
        *, state_dir: Path | None = None, account: str = "ns/acct", **spec: Any
    ) -> PaperExchange:
        config = PaperConfig.model_validate(spec)
        return open_paper_exchange(config, clock, state_dir=state_dir, account=account)

    return make
