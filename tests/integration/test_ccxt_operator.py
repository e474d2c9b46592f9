"""A ccxt account cleaned by a real operator process on a real API server.

The operator runs in its own process, so nothing can be installed into its ccxt client from
here. Instead this test serves a paper-backed fake Binance over loopback HTTP
(``fakes.ccxt_venues.server``) and starts the operator with two platform flags, neither of
which a tenant can set: ``--ccxt-api-url binance=<loopback origin>`` (every Binance URL
``https://HOST/PATH`` goes to ``ORIGIN/HOST/PATH``) and ``--allow-exchange-url <loopback
origin>`` (without it the redirect is refused like any other origin). The account itself is
an ordinary ``spec.exchange.name: ccxt`` account with ``exchangeId: binance`` and a Secret
holding ``apiKey``/``secret``: the operator's own ccxt signs, sends and parses, the fake
checks the signatures and answers as Binance does.

The fake's paper ledger is the ground truth: what was sold, by which orders, with which
client ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import test_operator
from operator_process import OperatorProcess, wait_for
from test_operator import FAST_POLICY, condition, debug, state_of

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SystemClock
from cleanslate.exchange.paper import open_paper_exchange
from cleanslate.localcluster import Kubectl
from fakes.ccxt_venues import FakeVenue, credentials, open_venue
from fakes.ccxt_venues.server import VenueServer

pytestmark = pytest.mark.cluster

crds = test_operator.crds
"""The session fixture that applies the CRDs, shared with test_operator.py."""

HOLDINGS = {"USD": Decimal("150"), "SEI": Decimal("36.4"), "WLFI": Decimal("57.5")}
CLEAN_WITHIN = 240.0
"""Two small TWAP purges with 2 s maker TTLs, in real time."""


HOSTS = {"binance": "api.binance.com", "kraken": "api.kraken.com"}
KEY_HEADER = {"binance": "X-MBX-APIKEY", "kraken": "API-Key"}
CASES = {
    "binance": ("binance", "calm", "USD"),
    "kraken": ("kraken", "calm", "USD"),
    "binance-usdt": ("binance", "usdt", "USDT"),
}
"""Case -> (exchange id, paper market, settlement currency). binance-usdt is Binance's real
shape: every market against USDT, none against USD, the account settling in USDT."""


@pytest.fixture(params=sorted(CASES))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, FakeVenue, VenueServer, str]]:
    """A paper-backed fake venue of the param's dialect and market, on loopback HTTP, and
    the currency the account settles in."""
    exchange_id, market, cash = CASES[request.param]
    clock = SystemClock()
    holdings = {(cash if a == "USD" else a): q for a, q in HOLDINGS.items()}
    config = PaperConfig(seed=7, market=market, holdings=holdings)
    venue = open_venue(exchange_id, open_paper_exchange(config, clock, account="ccxt"), clock)
    with VenueServer({HOSTS[exchange_id]: venue}) as server:
        yield exchange_id, venue, server, cash


def ccxt_account(
    namespace: str, name: str, secret: str, exchange_id: str, cash: str = "USD"
) -> dict[str, Any]:
    settlement = {} if cash == "USD" else {"settlementCurrencies": [cash]}
    return {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "policyRef": {"name": "fast"},
            "mode": "Live",
            "intervalSeconds": 1,
            "exchange": {
                "name": "ccxt",
                "ccxt": {"exchangeId": exchange_id},
                "credentialsSecretRef": {"name": secret},
            },
            **settlement,
        },
    }


def test_a_paper_backed_ccxt_account_reaches_clean(
    kubectl: Kubectl,
    crds: None,
    kubeconfig: Path,
    namespace: str,
    tmp_path: Path,
    served: tuple[str, FakeVenue, VenueServer, str],
) -> None:
    exchange_id, venue, server, cash = served
    ns, name, secret = namespace, f"{exchange_id}-{cash.lower()}", f"{exchange_id}-key"
    key = credentials(exchange_id)
    literals = [f"--from-literal={k}={key[k]}" for k in ("apiKey", "secret")]
    kubectl("create", "secret", "generic", secret, "-n", ns, *literals)
    kubectl("label", "secret", secret, "-n", ns, "cleanslate.dev/secret-type=exchange-credentials")
    kubectl.apply(
        {
            "apiVersion": "cleanslate.dev/v1alpha1",
            "kind": "PurgePolicy",
            "metadata": {"name": "fast", "namespace": ns},
            "spec": FAST_POLICY,
        }
    )
    process = OperatorProcess(
        kubeconfig,
        tmp_path / "state",
        tmp_path / "operator.log",
        namespaces=[ns],
        paper_time="real",
        extra_args=[
            "--allow-exchange-url",
            server.origin,
            "--ccxt-api-url",
            f"{exchange_id}={server.origin}",
        ],
    )
    with process:
        kubectl.apply(ccxt_account(ns, name, secret, exchange_id, cash))
        st = wait_for(
            lambda: state_of(kubectl, ns, name, "Clean"),
            CLEAN_WITHIN,
            "the ccxt account CLEAN",
            diagnose=lambda: debug(kubectl, process, ns, name),
        )
        log = process.log_text()
    kubectl("delete", "ta", name, "-n", ns, "--wait=false", "--ignore-not-found")

    capable = condition(st, "ExchangeCapable")
    assert capable.get("status") == "True", capable
    assert key["secret"] not in log and key["secret"] not in str(st)

    ledger = {b.asset: b.total for b in server.call(venue.paper.balances)}
    orders = server.call(venue.orders)
    for asset in ("SEI", "WLFI"):
        left = ledger.get(asset, Decimal(0))
        assert Decimal(0) <= left < HOLDINGS[asset], f"{asset} was sold, never beyond holding"
        market = f"{asset}-{cash}"
        sold = sum((o.filled_size for o in orders if o.product_id == market), Decimal(0))
        assert HOLDINGS[asset] - left == sold, f"{asset}: ledger and orders disagree"
    assert {o.product_id for o in orders} <= {f"SEI-{cash}", f"WLFI-{cash}"}
    assert ledger[cash] > HOLDINGS["USD"], f"the sales were paid in {cash}"
    assert all(o.side.value == "SELL" for o in orders)
    counts = Counter(venue.placed_client_ids())
    assert [c for c, n in counts.items() if n > 1] == []
    signed = [r for r in venue.requests if KEY_HEADER[exchange_id] in r.headers]
    assert signed and all(r.headers[KEY_HEADER[exchange_id]] == key["apiKey"] for r in signed)
    assert any(venue.order_writes()), "the operator's own ccxt placed the orders"
