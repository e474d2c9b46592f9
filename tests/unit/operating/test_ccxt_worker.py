"""A Live account on a ccxt venue that may not trade Live runs as DryRun: its plan is made,
nothing is placed, and ExchangeCapable=False says why."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from ccxt_adapter.venue import KRAKEN_BTC_USD, Venue

from cleanslate.exchange.ccxt import ClientRegistry, api_origins, make_client
from cleanslate.exchange.ccxt_accounts import CcxtSettings
from cleanslate.exchange.endpoints import EndpointPolicy
from cleanslate.metrics import Metrics
from cleanslate.operating.kube import Kube
from cleanslate.operating.workers import AccountWorker, WorkerConfig

from .fake_api import FakeApi
from .test_workers import NAME, NAMESPACE, Events, policy_of

# Kraken SEI/USD as ccxt's kraken market structure (static markets fixture shape, see
# ccxt_adapter/venue.py), and the answers of a cycle's reads: BalanceEx as in the comment
# above ccxt's kraken fetch_balance, Ticker and Depth as in kraken parse_ticker/order book.
SEI_USD = dict(
    copy.deepcopy(KRAKEN_BTC_USD),
    id="SEIUSD",
    symbol="SEI/USD",
    base="SEI",
    baseId="SEI",
    altname="SEIUSD",
    precision={"amount": 0.1, "price": 0.0001},
    limits={"amount": {"min": 1}, "cost": {"min": 0.5}},
)
BALANCE = {
    "error": [],
    "result": {
        "ZUSD": {"balance": "150.0", "hold_trade": "0"},
        "SEI": {"balance": "36.4", "hold_trade": "0"},
    },
}
TICKER = {
    "error": [],
    "result": {
        "SEIUSD": {
            "a": ["0.1565", "1", "1"],
            "b": ["0.1563", "1", "1"],
            "c": ["0.1564", "1"],
            "v": ["1000", "2000"],
            "p": ["0.1560", "0.1560"],
            "t": [1, 2],
            "l": ["0.15", "0.15"],
            "h": ["0.16", "0.16"],
            "o": "0.155",
        }
    },
}
DEPTH = {
    "error": [],
    "result": {"SEIUSD": {"asks": [["0.1565", "500", 1]], "bids": [["0.1563", "500", 1]]}},
}


class Api(FakeApi):
    async def read_secret(self, namespace: str, name: str) -> dict[str, str]:
        return {"apiKey": "kraken-key", "secret": "c2VjcmV0"}


def account() -> dict[str, Any]:
    return {
        "metadata": {"namespace": NAMESPACE, "name": NAME, "generation": 1, "annotations": {}},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "Live",
            "intervalSeconds": 60,
            "exchange": {
                "name": "ccxt",
                "credentialsSecretRef": {"name": "kraken-key"},
                "ccxt": {"exchangeId": "kraken"},
            },
        },
    }


async def test_a_live_account_on_a_venue_without_post_only_plans_and_places_nothing(
    tmp_path: Path,
) -> None:
    venues: list[Venue] = []

    def factory(exchange_id: str, credentials: Mapping[str, str], sandbox: bool) -> Any:
        client = make_client(exchange_id, credentials, sandbox=sandbox)
        client.enableRateLimit = False
        client.features["spot"]["createOrder"]["timeInForce"]["PO"] = False
        client.has["createPostOnlyOrder"] = False
        client.set_markets({"SEI/USD": copy.deepcopy(SEI_USD)})
        client.options["marketsByAltname"] = {"SEIUSD": client.markets["SEI/USD"]}
        venue = Venue(client)
        venue.on("POST", "/0/private/BalanceEx", BALANCE)
        venue.on("POST", "/0/private/OpenOrders", {"error": [], "result": {"open": {}}})
        venue.on("GET", "/0/public/Ticker", TICKER).on("GET", "/0/public/Depth", DEPTH)
        client.fetch = venue.fetch
        venues.append(venue)
        return client

    settings = CcxtSettings()
    settings._registry = ClientRegistry(factory=factory)
    origins = api_origins(make_client("kraken", {}))
    api = Api(account())
    config = WorkerConfig(
        state_dir=tmp_path,
        metrics=Metrics(),
        kube=cast(Kube, api),
        endpoints=EndpointPolicy.with_extra(origins),
        ccxt=settings,
    )
    worker = AccountWorker(NAMESPACE, NAME, config, Events())
    worker.recovery.pending = False
    await worker.cycle(api.body, policy_of)

    status = api.body["status"]
    conditions = {c["type"]: c for c in status["conditions"]}
    capable = conditions["ExchangeCapable"]
    assert (capable["status"], capable["reason"]) == ("False", "MissingCapability")
    assert "post_only" in capable["message"]
    assert status["mode"] == "DryRun"
    plan = {item["symbol"]: item for item in status["plan"]}
    assert plan["SEI-USD"]["action"] == "Purge"  # what Live would do, shown, not done
    (venue,) = venues
    assert not [r for r in venue.requests if "AddOrder" in r.path or "Cancel" in r.path]
    assert worker.exchange is not None and worker.exchange.read_only
    await worker.close()
