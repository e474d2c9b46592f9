"""``cleanslate check`` on a ccxt account: read-only, one line per finding."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import yaml

from cleanslate.cli.checking import run_check
from cleanslate.cli.manifests import load
from cleanslate.clock import SimulatedClock

from .venue import KRAKEN_BTC_USD, NOW, Venue

SEI_USD = dict(
    copy.deepcopy(KRAKEN_BTC_USD),
    id="SEIUSD",
    symbol="SEI/USD",
    base="SEI",
    baseId="SEI",
    altname="SEIUSD",
)
# Kraken POST /0/private/BalanceEx, as in the comment above ccxt's kraken fetch_balance.
BALANCE = {
    "error": [],
    "result": {
        "ZUSD": {"balance": "150.0", "hold_trade": "0"},
        "XXBT": {"balance": "0.01", "hold_trade": "0"},
        "SEI": {"balance": "36.4", "hold_trade": "0"},
        "XXDG": {"balance": "100", "hold_trade": "0"},
    },
}


def documents(mode: str = "Live", secret_data: dict[str, str] | None = None) -> list[Any]:
    account = {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "TradingAccount",
        "metadata": {"name": "main", "namespace": "trading"},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": mode,
            "exchange": {
                "name": "ccxt",
                "credentialsSecretRef": {"name": "kraken-key"},
                "ccxt": {"exchangeId": "kraken"},
            },
        },
    }
    policy = {
        "apiVersion": "cleanslate.dev/v1alpha1",
        "kind": "PurgePolicy",
        "metadata": {"name": "default", "namespace": "trading"},
        "spec": {},
    }
    values = secret_data or {"apiKey": "kraken-key-id", "secret": "c2VjcmV0"}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "kraken-key", "namespace": "trading"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    }
    return [account, policy, secret]


def files(tmp_path: Path, docs: list[Any]) -> list[Path]:
    paths = []
    for n, document in enumerate(docs):
        path = tmp_path / f"doc{n}.yaml"
        path.write_text(yaml.safe_dump(document))
        paths.append(path)
    return paths


def kraken(requests: list[Any], *, post_only: bool = True) -> Any:
    def hook(client: Any) -> None:
        client.enableRateLimit = False
        client.set_markets({"BTC/USD": copy.deepcopy(KRAKEN_BTC_USD), "SEI/USD": SEI_USD})
        if not post_only:
            client.features["spot"]["createOrder"]["timeInForce"]["PO"] = False
            client.has["createPostOnlyOrder"] = False
        venue = Venue(client)
        venue.on("POST", "/0/private/BalanceEx", BALANCE)
        client.fetch = venue.fetch
        requests.append(venue.requests)

    return hook


async def test_check_reads_the_account_and_names_what_cannot_be_sold(tmp_path: Path) -> None:
    requests: list[Any] = []
    manifests = load(files(tmp_path, documents()))
    report = await run_check(manifests, SimulatedClock(NOW), ccxt_hook=kraken(requests))
    assert report.exit_code == 0, report.text
    lines = report.text.splitlines()
    assert any("https://api.kraken.com" in line for line in lines)
    assert any(line.startswith("ok") and "kraken (tested)" in line for line in lines)
    assert any("reads the balances (4 assets held)" in line for line in lines)
    assert any("SEI-USD trades" in line for line in lines)
    assert any("DOGE-USD: no DOGE/USD spot market" in line for line in lines)
    assert not any("BTC-USD" in line for line in lines)  # a quote currency: never sold
    assert "kraken-key-id" not in report.text
    (sent,) = requests
    assert [r.path for r in sent] == ["/0/private/BalanceEx"]  # read-only: nothing else


async def test_check_fails_a_live_account_on_a_venue_that_may_not_trade_live(
    tmp_path: Path,
) -> None:
    manifests = load(files(tmp_path, documents()))
    hook = kraken([], post_only=False)
    report = await run_check(manifests, SimulatedClock(NOW), ccxt_hook=hook)
    assert report.exit_code == 1 and "lacks post-only orders (post_only)" in report.text
    dry = load(files(tmp_path, documents(mode="DryRun")))
    assert (
        await run_check(dry, SimulatedClock(NOW), ccxt_hook=kraken([], post_only=False))
    ).exit_code == 0


async def test_check_names_a_missing_secret_key_and_reads_nothing(tmp_path: Path) -> None:
    manifests = load(files(tmp_path, documents(secret_data={"apiKey": "kraken-key-id"})))
    requests: list[Any] = []
    report = await run_check(manifests, SimulatedClock(NOW), ccxt_hook=kraken(requests))
    assert report.exit_code == 1 and "'secret'" in report.text
    assert requests == []


async def test_check_says_which_settlement_market_each_holding_sells_through(
    tmp_path: Path,
) -> None:
    """With settlementCurrencies [USDT, USD] on a venue listing SEI/USD only, SEI sells
    through SEI-USD (the first tradeable one), DOGE has neither market, and USDT, which no
    market here prices in USD, is named as unpriced."""
    docs = documents()
    docs[0]["spec"]["settlementCurrencies"] = ["USDT", "USD"]
    manifests = load(files(tmp_path, docs))
    report = await run_check(manifests, SimulatedClock(NOW), ccxt_hook=kraken([]))
    lines = report.text.splitlines()
    sei = [line for line in lines if "SEI-USD trades" in line]
    assert sei and "SEI would sell through it" in sei[0], lines
    # the recorded Kraken market has no cost minimum (it is only in info): said, not hidden
    assert "no minimum order value" in sei[0]
    assert any("DOGE-USDT: no DOGE/USDT or DOGE/USD spot market" in line for line in lines)
    assert any("no market here prices USDT in USD" in line for line in lines), lines
