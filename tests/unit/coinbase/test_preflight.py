"""The read-only preflight: key, permissions, portfolio, clock skew and products.

Payloads: ``fixtures.key_permissions`` (Get API Key Permissions), ``fixtures.server_time``
(Get Server Time) and the products and accounts the fake venue serves.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from cleanslate.api.account import TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import SimulatedClock
from cleanslate.events import EventList, Reason
from cleanslate.exchange.coinbase import Credentials
from cleanslate.exchange.coinbase.preflight import Expectations, Level, Preflight, check_secret
from cleanslate.metrics import Metrics
from cleanslate.operating.exchanges import CredentialsMissing
from cleanslate.operating.workers import AccountWorker, WorkerConfig

from . import fixtures as fx
from .conftest import build_exchange
from .fake_venue import FakeCoinbase

QUOTES = ("USD", "USDC", "USDT", "BTC", "ETH")


async def check(
    venue: FakeCoinbase, clock: SimulatedClock, pem: str, *, live: bool = True, **kw: object
) -> Preflight:
    expect = Expectations(live=live, never_sold=QUOTES, **kw)  # type: ignore[arg-type]
    secret = {"apiKeyName": fx.KEY_NAME, "apiPrivateKey": pem}
    return await check_secret(secret, clock, expect, transport=venue.transport())


def levels(result: Preflight, check_name: str) -> list[Level]:
    return [f.level for f in result.findings if f.check == check_name]


async def test_a_good_key_passes_without_warnings_and_checks_only_sellable_products(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    venue.forbid_writes = True

    result = await check(venue, clock, private_key_pem)

    assert result.passed and not result.warnings, [f.line() for f in result.findings]
    checked = [f.message.split(":")[0] for f in result.findings if f.check == "products"]
    assert checked == ["SEI-USD", "BONK-USD"]  # USD and BTC are quote currencies
    assert all(method == "GET" for _, method, _ in venue.requests)


async def test_a_key_that_can_transfer_is_a_warning(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    venue.permissions = fx.key_permissions(can_transfer=True)

    result = await check(venue, clock, private_key_pem)

    assert result.passed and levels(result, "permissions") == [Level.WARNING]
    assert "transfer" in result.warnings[0].message


@pytest.mark.parametrize(("live", "level"), [(True, Level.ERROR), (False, Level.WARNING)])
async def test_a_key_without_trade_fails_live_and_warns_dry_run(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str, live: bool, level: Level
) -> None:
    venue.permissions = fx.key_permissions(can_trade=False)

    result = await check(venue, clock, private_key_pem, live=live)

    assert levels(result, "permissions") == [level] and result.passed is not live


async def test_a_key_that_cannot_view_fails(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    venue.permissions = fx.key_permissions(can_view=False)

    assert not (await check(venue, clock, private_key_pem)).passed


async def test_a_key_scoped_to_another_portfolio_fails(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    result = await check(venue, clock, private_key_pem, portfolio_id="portfolio-999")

    assert levels(result, "portfolio") == [Level.ERROR]
    assert "portfolio-001, not portfolio-999" in result.errors[0].message


@pytest.mark.parametrize(
    ("skew", "level"), [(2.0, Level.OK), (-10.0, Level.WARNING), (45.0, Level.ERROR)]
)
async def test_clock_skew_against_server_time(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str, skew: float, level: Level
) -> None:
    venue.skew = skew

    result = await check(venue, clock, private_key_pem)

    assert levels(result, "clock") == [level]


async def test_a_product_without_increments_fails_and_an_unlisted_asset_warns(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    venue.products["SEI-USD"]["base_increment"] = ""
    venue.add_account("NOPE", "5")

    result = await check(venue, clock, private_key_pem)

    assert [f.message.split(":")[0] for f in result.errors] == ["SEI-USD lacks base_increment"]
    assert any("NOPE has no NOPE-USD product" in f.message for f in result.warnings)


async def test_a_key_that_does_not_parse_is_the_only_finding(
    venue: FakeCoinbase, clock: SimulatedClock
) -> None:
    result = await check(venue, clock, "-----BEGIN EC PRIVATE KEY-----\ngarbage\n")

    assert [(f.level, f.check) for f in result.findings] == [(Level.ERROR, "key")]
    assert venue.requests == []


async def test_coinbase_refusing_the_key_is_an_error_not_a_crash(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    venue.fail_next(1, 401, body=fx.http_error("UNAUTHENTICATED", "invalid key", 16),
                    path="/key_permissions")  # fmt: skip

    result = await check(venue, clock, private_key_pem)

    assert levels(result, "permissions") == [Level.ERROR] and not result.passed


async def test_the_operator_holds_an_account_whose_key_fails_and_verifies_once(
    tmp_path: Path, venue: FakeCoinbase, clock: SimulatedClock, credentials: Credentials
) -> None:
    events = EventList()
    worker = AccountWorker(
        "trading", "main", WorkerConfig(tmp_path, Metrics(CollectorRegistry()), None), events
    )
    worker.exchange, worker.exchange_key, worker.clock = (
        build_exchange(venue, credentials, clock, read_only=True), "adapter-1", clock,
    )  # fmt: skip
    spec = TradingAccountSpec.model_validate(
        {"policyRef": {"name": "p"}, "mode": "Live",
         "exchange": {"name": "coinbase", "credentialsSecretRef": {"name": "k"}}}
    )  # fmt: skip
    venue.permissions = fx.key_permissions(can_trade=False, can_transfer=True)

    with pytest.raises(CredentialsMissing, match="cannot trade"):
        await worker._preflight(spec, PurgePolicySpec())
    venue.permissions = fx.key_permissions()
    await worker._preflight(spec, PurgePolicySpec())
    await worker._preflight(spec, PurgePolicySpec())

    assert [e.reason for e in events.events] == [Reason.CREDENTIALS_WARNING]  # transfer
    assert [p for _, _, p in venue.requests].count("/key_permissions") == 2  # once passed
    assert worker.verified_key == "adapter-1"
    await worker.close()


async def test_an_outage_is_an_error_that_says_the_check_runs_again(
    venue: FakeCoinbase, clock: SimulatedClock, private_key_pem: str
) -> None:
    venue.fail_next(6, 503, body=fx.http_error("UNAVAILABLE", "down", 14), path="/time")

    result = await check(venue, clock, private_key_pem)

    (error,) = result.errors
    assert error.check == "clock" and "runs again" in error.message
