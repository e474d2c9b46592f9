"""Credentials never follow a redirect (issue 27, item 1).

An allowed origin (a loopback server standing in for the venue, allowed by the platform's
``--ccxt-api-url`` and ``--allow-exchange-url``) answers every request with ``302`` to
another loopback address that nobody allowed. The target must receive nothing: no
``API-Key``/``API-Sign`` (ccxt kraken), no Coinbase JWT; the account's status says the
redirect was refused and never reads CLEAN on an empty answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from coinbase.fixtures import new_private_key_pem

from cleanslate.api.account import ExchangeSpec, Mode
from cleanslate.clock import SimulatedClock as FakeClock
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.ccxt_accounts import CcxtSettings, redirect
from cleanslate.exchange.coinbase import exchange_from_secret
from cleanslate.exchange.endpoints import EndpointPolicy
from cleanslate.exchange.errors import EndpointRefused
from cleanslate.metrics import Metrics
from cleanslate.operating.exchanges import build_exchange
from cleanslate.operating.kube import Kube
from cleanslate.operating.workers import AccountWorker, WorkerConfig

from .test_ccxt_worker import Api, account
from .test_workers import NAME, NAMESPACE, Events, policy_of

PEM = new_private_key_pem()


class Loopback:
    """One aiohttp server on a loopback address, recording every request it receives."""

    def __init__(self, host: str, handler: Any) -> None:
        self.host = host
        self.handler = handler
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.origin = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.origin = f"http://{self.host}:{self._runner.addresses[0][1]}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs, dict(request.headers)))
        return cast(web.StreamResponse, await self.handler(request))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Loopback, Loopback]]:
    """(allowed origin answering 302, the never-allowed target it redirects to)."""

    async def empty(request: web.Request) -> web.Response:
        # What a thief would answer: an empty account, read as "nothing held" before.
        return web.json_response({"error": [], "result": {}, "accounts": [], "has_next": False})

    target = Loopback("127.0.0.2", empty)
    await target.start()

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{target.origin}{request.path_qs}")

    allowed = Loopback("127.0.0.1", moved)
    await allowed.start()
    yield allowed, target
    await allowed.stop()
    await target.stop()


async def test_a_ccxt_adapter_refuses_the_redirect_and_sends_the_target_nothing(
    servers: tuple[Loopback, Loopback],
) -> None:
    allowed, target = servers
    client = make_client("kraken", {"apiKey": "kraken-key", "secret": "c2VjcmV0"})
    client.enableRateLimit = False
    redirect(client, allowed.origin)
    exchange = CcxtExchange(client, FakeClock(), exchange_id="kraken", read_only=True)
    with pytest.raises(EndpointRefused, match="302"):
        await exchange.balances()
    await exchange.aclose()
    assert allowed.requests, "the allowed origin was asked"
    assert target.requests == []


async def test_a_ccxt_adapter_refuses_an_origin_outside_its_own_urls() -> None:
    """The allow-list inside the adapter: a URL no ``urls['api']`` entry names is refused
    before anything is sent (here the fetch of a URL that was never configured)."""
    client = make_client("kraken", {"apiKey": "kraken-key", "secret": "c2VjcmV0"})
    try:
        with pytest.raises(EndpointRefused, match=r"127\.0\.0\.2"):
            await client.fetch("http://127.0.0.2:9/0/private/Balance", "POST")
    finally:
        await client.close()


async def test_a_ccxt_account_shows_the_refused_redirect_and_is_not_clean(
    servers: tuple[Loopback, Loopback], tmp_path: Path
) -> None:
    allowed, target = servers
    settings = CcxtSettings(api_redirects={"kraken": allowed.origin})
    api = Api(account())
    config = WorkerConfig(
        state_dir=tmp_path,
        metrics=Metrics(),
        kube=cast(Kube, api),
        endpoints=EndpointPolicy.with_extra([allowed.origin]),
        ccxt=settings,
    )
    worker = AccountWorker(NAMESPACE, NAME, config, Events())
    worker.recovery.pending = False
    await worker.cycle(api.body, policy_of)
    await worker.close()
    status = api.body["status"]
    assert target.requests == []
    assert allowed.requests
    assert status.get("phase") != "Clean"
    assert "redirect" in str(status).lower()


async def test_the_coinbase_factory_signs_for_no_origin_it_was_not_given() -> None:
    """Used on its own, the factory refuses a base URL off its allow-list (production by
    default) before it signs anything."""
    secret = {"apiKeyName": "organizations/o/apiKeys/k", "apiPrivateKey": PEM}
    with pytest.raises(EndpointRefused):
        exchange_from_secret(secret, FakeClock(), read_only=True, base_url="http://127.0.0.2:9")


async def test_a_coinbase_adapter_refuses_the_redirect_and_sends_the_target_nothing(
    servers: tuple[Loopback, Loopback], tmp_path: Path
) -> None:
    allowed, target = servers
    secret = {"apiKeyName": "organizations/o/apiKeys/k", "apiPrivateKey": PEM}
    exchange = exchange_from_secret(
        secret,
        FakeClock(),
        read_only=True,
        base_url=allowed.origin,
        allowed_origins=[allowed.origin],
    )
    with pytest.raises(EndpointRefused, match="302"):
        await exchange.balances()
    await exchange.aclose()
    assert allowed.requests
    assert target.requests == []


async def test_the_operator_gives_the_coinbase_adapter_its_allow_list(
    servers: tuple[Loopback, Loopback], tmp_path: Path
) -> None:
    allowed, target = servers

    class Secrets:
        async def read_secret(self, namespace: str, name: str) -> dict[str, str]:
            return {"apiKeyName": "organizations/o/apiKeys/k", "apiPrivateKey": PEM}

    spec = ExchangeSpec.model_validate(
        {
            "name": "coinbase",
            "credentialsSecretRef": {"name": "cb"},
            "coinbase": {"baseUrl": allowed.origin},
        }
    )
    exchange = await build_exchange(
        spec,
        Mode.DRY_RUN,
        namespace="ns",
        name="a",
        clock=FakeClock(),
        kube=cast(Kube, Secrets()),
        state_dir=tmp_path,
        endpoints=EndpointPolicy.with_extra([allowed.origin]),
    )
    with pytest.raises(EndpointRefused, match="redirects"):
        await exchange.balances()
    await exchange.aclose()
    assert target.requests == []
