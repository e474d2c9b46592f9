"""Bad input to the models raises a validation error that names the field."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cleanslate.api.account import TradingAccountSpec
from cleanslate.api.fields import format_duration, parse_duration
from cleanslate.api.policy import PurgePolicySpec

ACCOUNT = {"policyRef": {"name": "default"}}


def error_locations(model: type[BaseModel], data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]


def test_an_empty_policy_is_the_documents_defaults() -> None:
    policy = PurgePolicySpec()
    assert policy.min_liquidation_value_usd == Decimal("5")
    assert policy.max_liquidations_per_cycle == 2
    assert policy.quote_currencies == ["USD", "USDC", "USDT", "BTC", "ETH"]
    assert policy.execution.slice_usd == Decimal("5")
    assert policy.execution.max_residual_usd == Decimal("8")
    assert [(s.failures, s.delay) for s in policy.backoff.schedule] == [
        (3, timedelta(hours=1)),
        (4, timedelta(hours=2)),
        (5, timedelta(hours=4)),
    ]
    assert policy.symbol_freeze.cooldown == timedelta(hours=24)
    assert policy.min_position_usd == Decimal("7.50")


def test_an_account_defaults_to_dry_run_on_the_paper_exchange() -> None:
    account = TradingAccountSpec.model_validate(ACCOUNT)
    assert account.mode.value == "DryRun"
    assert account.exchange.name.value == "paper"
    assert account.interval_seconds == 60


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"minLiquidationValueUsd": -1}, "minLiquidationValueUsd"),
        ({"dust": {"thresholdPctOfAccount": 101}}, "dust.thresholdPctOfAccount"),
        ({"exposure": {"maxTotalAtRiskPct": -5}}, "exposure.maxTotalAtRiskPct"),
        ({"universe": {"tiers": [{"symbols": ["SEI-USD"]}]}}, "universe.tiers.0.name"),
        ({"execution": {"sliceUsd": 0}}, "execution.sliceUsd"),
        ({"execution": {"makerTtl": 25}}, "execution.makerTtl"),
        ({"maxPositons": 8}, "maxPositons"),
        ({"symbolFreeze": {"cooldown": "a day"}}, "symbolFreeze.cooldown"),
        ({"unwind": {"fraction": 1.5}}, "unwind.fraction"),
        ({"universe": {"excludedSymbols": ["bonk"]}}, "universe.excludedSymbols.0"),
    ],
)
def test_a_bad_policy_names_the_field(data: dict[str, Any], field: str) -> None:
    assert field in error_locations(PurgePolicySpec, data)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "policyRef"),
        ({**ACCOUNT, "mode": "live"}, "mode"),
        (
            {**ACCOUNT, "exchange": {"paper": {"holdings": {"SEI": -1}}}},
            "exchange.paper.holdings.SEI",
        ),
        ({**ACCOUNT, "intervalSeconds": 0}, "intervalSeconds"),
        (
            {**ACCOUNT, "trackedPositions": [{"symbol": "SEI-USD", "entryPrice": -2}]},
            "trackedPositions.0.entryPrice",
        ),
        ({**ACCOUNT, "suspended": True}, "suspended"),
    ],
)
def test_a_bad_account_names_the_field(data: dict[str, Any], field: str) -> None:
    assert field in error_locations(TradingAccountSpec, data)


def test_a_live_exchange_needs_credentials() -> None:
    with pytest.raises(ValidationError, match="credentialsSecretRef is required"):
        TradingAccountSpec.model_validate({**ACCOUNT, "exchange": {"name": "coinbase"}})


def test_backoff_delays_may_not_decrease() -> None:
    schedule = [{"failures": 3, "delay": "2h"}, {"failures": 4, "delay": "1h"}]
    with pytest.raises(ValidationError, match="never decrease"):
        PurgePolicySpec.model_validate({"backoff": {"schedule": schedule}})


def test_tier_names_must_be_unique() -> None:
    tiers = [{"name": "t"}, {"name": "t"}]
    with pytest.raises(ValidationError, match="unique"):
        PurgePolicySpec.model_validate({"universe": {"tiers": tiers}})


def test_yaml_floats_become_exact_decimals() -> None:
    policy = PurgePolicySpec.model_validate({"minPositionUsd": 7.5, "dust": {"thresholdUsd": 0.1}})
    assert policy.dust.threshold_usd == Decimal("0.1")
    assert policy.to_wire()["minPositionUsd"] == 7.5
    assert policy.to_wire()["maxPositions"] == 8


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h", 86400), ("1h30m", 5400), ("90s", 90), ("250ms", 0.25)]
)
def test_durations_round_trip(text: str, seconds: float) -> None:
    parsed = parse_duration(text)
    assert parsed.total_seconds() == seconds
    assert parse_duration(format_duration(parsed)) == parsed


def test_a_maker_ttl_longer_than_the_whole_purge_is_refused_naming_both_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        PurgePolicySpec.model_validate(
            {"execution": {"makerTtlSec": 300, "maxDurationSeconds": 240}}
        )
    message = str(caught.value)
    assert "execution.makerTtlSec (300s)" in message
    assert "execution.maxDurationSeconds (240s)" in message


def test_maker_ttls_within_the_purge_duration_are_accepted() -> None:
    execution = PurgePolicySpec.model_validate(
        {"execution": {"makerTtlSec": 240, "maxDurationSeconds": 240}}
    ).execution
    assert execution.maker_ttl_sec == execution.max_duration_seconds


def test_the_exposure_cap_docs_say_quote_currencies_are_outside_it() -> None:
    docs = PurgePolicySpec.model_json_schema()["$defs"]["Exposure"]["properties"]
    assert "outside this cap" in docs["maxTotalAtRiskPct"]["description"]
