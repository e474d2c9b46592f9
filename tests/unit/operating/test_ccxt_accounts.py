"""ccxt accounts in the operator: the origin check before the Secret, refusals with their
reasons, the Live gate, the opt-in flag, and an operator without ccxt."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cleanslate.api.account import ExchangeName, ExchangeSpec, Mode
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.ccxt import CcxtExchange, ClientRegistry, api_origins, make_client
from cleanslate.exchange.ccxt_accounts import INSTALL_HINT, CcxtSettings, gate
from cleanslate.exchange.endpoints import EndpointPolicy
from cleanslate.operating.exchanges import CredentialsMissing, EndpointRefused, build_exchange
from cleanslate.operating.main import build_parser

START = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = {"apiKey": "key-id", "secret": "c2VjcmV0", "password": "pass"}


class RecordingKube:
    def __init__(self, data: dict[str, str] | None = None) -> None:
        self.reads: list[tuple[str, str]] = []
        self.data = SECRET if data is None else data

    async def read_secret(self, namespace: str, name: str) -> dict[str, str]:
        self.reads.append((namespace, name))
        return dict(self.data)


def spec(exchange_id: str = "binance", **ccxt: Any) -> ExchangeSpec:
    return ExchangeSpec.model_validate(
        {
            "name": "ccxt",
            "credentialsSecretRef": {"name": "venue-key"},
            "ccxt": {"exchangeId": exchange_id, **ccxt},
        }
    )


def allowing(*exchange_ids: str, sandbox: bool = False) -> EndpointPolicy:
    origins = [o for x in exchange_ids for o in api_origins(make_client(x, {}, sandbox=sandbox))]
    return EndpointPolicy.with_extra(origins)


async def build(
    exchange: ExchangeSpec,
    mode: Mode,
    kube: RecordingKube,
    tmp_path: Path,
    *,
    endpoints: EndpointPolicy | None = None,
    settings: CcxtSettings | None = None,
) -> Any:
    return await build_exchange(
        exchange,
        mode,
        namespace="tenant-a",
        name="acct",
        clock=SimulatedClock(START),
        kube=kube,  # type: ignore[arg-type]
        state_dir=tmp_path,
        endpoints=endpoints,
        ccxt=settings,
    )


def test_the_spec_names_ccxt_and_needs_its_block_and_a_secret() -> None:
    assert spec().name is ExchangeName.CCXT and spec().ccxt is not None
    with pytest.raises(ValueError, match="needs the ccxt block"):
        ExchangeSpec.model_validate({"name": "ccxt", "credentialsSecretRef": {"name": "s"}})
    with pytest.raises(ValueError, match="credentialsSecretRef is required"):
        ExchangeSpec.model_validate({"name": "ccxt", "ccxt": {"exchangeId": "kraken"}})
    with pytest.raises(ValueError):
        spec("Binance")  # ids are lower-case ccxt ids


@pytest.mark.parametrize(
    "option",
    [
        {"urls": {"api": "http://payments.svc"}},
        {"hostname": "evil.example"},
        {"options": {"defaultType": "swap"}},
        {"proxy": "http://x"},
        {"verbose": True},
    ],
)
def test_tenants_cannot_set_any_other_ccxt_option(option: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        spec("binance", **option)


@pytest.mark.parametrize("mode", [Mode.DRY_RUN, Mode.LIVE])
async def test_origins_the_operator_does_not_allow_are_refused_before_the_secret_is_read(
    mode: Mode, tmp_path: Path
) -> None:
    kube = RecordingKube()
    only_kraken = allowing("kraken")
    with pytest.raises(EndpointRefused) as refused:
        await build(spec("binance"), mode, kube, tmp_path, endpoints=only_kraken)
    assert kube.reads == []
    assert refused.value.reason == "EndpointNotAllowed"
    assert "https://api.binance.com" in str(refused.value)
    assert "--allow-exchange-url" in str(refused.value)


async def test_sandbox_origins_need_allowing_on_their_own(tmp_path: Path) -> None:
    kube = RecordingKube()
    with pytest.raises(EndpointRefused):
        await build(
            spec("binance", sandbox=True), Mode.LIVE, kube, tmp_path, endpoints=allowing("binance")
        )
    exchange = await build(
        spec("binance", sandbox=True),
        Mode.LIVE,
        kube,
        tmp_path,
        endpoints=allowing("binance", sandbox=True),
    )
    assert exchange.client.isSandboxModeEnabled
    await exchange.aclose()


@pytest.mark.parametrize(
    ("exchange", "reason", "words"),
    [
        (spec("nosuchvenue"), "UnknownExchange", "unknown ccxt exchange id"),
        (spec("kraken", subAccount="desk-1"), "SubAccountUnsupported", "subAccount"),
        (spec("kraken", sandbox=True), "SandboxUnsupported", "no sandbox"),
    ],
)
async def test_refusals_name_their_reason_and_read_no_secret(
    exchange: ExchangeSpec, reason: str, words: str, tmp_path: Path
) -> None:
    kube = RecordingKube()
    with pytest.raises(CredentialsMissing) as refused:
        await build(exchange, Mode.DRY_RUN, kube, tmp_path, endpoints=allowing("kraken"))
    assert refused.value.reason == reason and words in str(refused.value)
    assert kube.reads == []


async def test_a_secret_without_the_ccxt_keys_names_the_key_never_a_value(tmp_path: Path) -> None:
    kube = RecordingKube({"apiKey": "key-id-value", "apiPrivateKey": "x"})
    with pytest.raises(CredentialsMissing) as missing:
        await build(spec("kraken"), Mode.DRY_RUN, kube, tmp_path, endpoints=allowing("kraken"))
    assert "'secret'" in str(missing.value) and "key-id-value" not in str(missing.value)


async def test_a_tested_venue_trades_live_and_dry_run_stays_read_only(tmp_path: Path) -> None:
    settings = CcxtSettings()
    kube = RecordingKube()
    live = await build(
        spec("kraken"), Mode.LIVE, kube, tmp_path, endpoints=allowing("kraken"), settings=settings
    )
    dry = await build(
        spec("kraken"),
        Mode.DRY_RUN,
        kube,
        tmp_path,
        endpoints=allowing("kraken"),
        settings=settings,
    )
    assert isinstance(live, CcxtExchange) and not live.read_only and dry.read_only
    assert live.client is dry.client  # one client per (exchange, sandbox, key)
    verdict = gate(live, settings)
    assert verdict is not None and verdict.capable
    assert verdict.condition().type == "ExchangeCapable" and verdict.condition().status == "True"
    await live.aclose()
    await dry.aclose()


async def test_an_untested_venue_runs_as_dry_run_until_the_platform_opts_it_in(
    tmp_path: Path,
) -> None:
    kube = RecordingKube()
    refused = await build(spec("okxus"), Mode.LIVE, kube, tmp_path, endpoints=allowing("okxus"))
    verdict = gate(refused, CcxtSettings())
    assert refused.read_only and verdict is not None and not verdict.capable
    assert verdict.reason == "UntestedExchange" and "--ccxt-live-exchange okxus" in verdict.message
    await refused.aclose()
    opted_in = CcxtSettings(live_exchanges=frozenset({"okxus"}))
    allowed = await build(
        spec("okxus"), Mode.LIVE, kube, tmp_path, endpoints=allowing("okxus"), settings=opted_in
    )
    assert not allowed.read_only and gate(allowed, opted_in).capable  # type: ignore[union-attr]
    await allowed.aclose()


async def test_a_venue_missing_a_capability_runs_as_dry_run_and_says_which(
    tmp_path: Path,
) -> None:
    def factory(exchange_id: str, credentials: Any, sandbox: bool) -> Any:
        client = make_client(exchange_id, credentials, sandbox=sandbox)
        client.features["spot"]["createOrder"]["timeInForce"]["PO"] = False
        client.has["createPostOnlyOrder"] = False
        return client

    kube = RecordingKube()
    opted_in = CcxtSettings(live_exchanges=frozenset({"okxus"}))  # even when opted in
    opted_in._registry = ClientRegistry(factory=factory)
    exchange = await build(
        spec("okxus"), Mode.LIVE, kube, tmp_path, endpoints=allowing("okxus"), settings=opted_in
    )
    verdict = gate(exchange, opted_in)
    assert exchange.read_only and verdict is not None
    assert (verdict.reason, verdict.condition().status) == ("MissingCapability", "False")
    assert "post_only" in verdict.message
    await exchange.aclose()


async def test_an_operator_without_ccxt_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cleanslate.exchange.ccxt", None)  # import fails
    kube = RecordingKube()
    with pytest.raises(CredentialsMissing) as missing:
        await build(spec("kraken"), Mode.DRY_RUN, kube, tmp_path)
    assert missing.value.reason == "CcxtNotInstalled" and str(missing.value) == INSTALL_HINT
    assert kube.reads == []


def test_the_opt_in_flag_takes_ccxt_ids_only(capsys: pytest.CaptureFixture[str]) -> None:
    from cleanslate.operating.main import main

    with pytest.raises(SystemExit):
        main(["--ccxt-live-exchange", "https://evil.example"])
    assert "is not a ccxt exchange id" in capsys.readouterr().err


def test_the_opt_in_flag_is_repeatable() -> None:
    args = build_parser().parse_args(
        ["--ccxt-live-exchange", "okx", "--ccxt-live-exchange", "bybit"]
    )
    assert args.ccxt_live_exchange == ["okx", "bybit"]
