"""``--market-data-max-age-seconds``: the platform's bound on a shared quote's age, and the
markets the workers get from it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from cleanslate.api.account import TradingAccountSpec
from cleanslate.events import EventList
from cleanslate.exchange.marketdata import SharedMarkets
from cleanslate.metrics import Metrics
from cleanslate.operating.main import build_parser
from cleanslate.operating.workers import AccountWorker, WorkerConfig


def test_the_default_bound_is_thirty_seconds_and_zero_turns_sharing_off() -> None:
    parse = build_parser().parse_args
    assert parse([]).market_data_max_age_seconds == 30.0
    assert parse(["--market-data-max-age-seconds", "0"]).market_data_max_age_seconds == 0.0


@pytest.mark.parametrize("value", ["-1", "301", "soon"])
def test_a_bound_outside_zero_to_five_minutes_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--market-data-max-age-seconds", value])
    assert "--market-data-max-age-seconds" in capsys.readouterr().err


async def test_paper_accounts_get_markets_of_their_own(tmp_path: Path) -> None:
    config = WorkerConfig(
        tmp_path, Metrics(CollectorRegistry()), None, markets=SharedMarkets(timedelta(seconds=30))
    )
    spec = TradingAccountSpec.model_validate(
        {"policyRef": {"name": "p"}, "exchange": {"name": "paper"}}
    )
    accounts = [AccountWorker("ns", f"a{i}", config, EventList()) for i in range(2)]
    for worker in accounts:
        await worker._ensure_exchange(spec)

    assert accounts[0].market is not accounts[1].market
    assert accounts[0].market.identity is None and config.markets.markets() == []
    for worker in accounts:
        await worker.close()
