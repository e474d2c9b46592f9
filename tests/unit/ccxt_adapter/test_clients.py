"""Clients: what make_client fixes, the origins the operator checks, capabilities, and the
shared-client registry."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cleanslate.exchange.ccxt import (
    TESTED,
    ClientRegistry,
    UnknownExchange,
    api_origins,
    capabilities,
    make_client,
    missing_for_live,
    missing_for_maker,
)
from cleanslate.exchange.ccxt.capabilities import Capabilities, semantics

from .venue import NOW

KEY = {"apiKey": "test-key", "secret": "test-secret", "password": "pass", "other": "ignored"}


def test_make_client_fixes_spot_rate_limit_and_credentials() -> None:
    client = make_client("kraken", KEY)
    assert client.enableRateLimit is True and client.verbose is False
    assert client.options["defaultType"] == "spot"
    assert (client.apiKey, client.secret, client.password) == ("test-key", "test-secret", "pass")
    assert logging.getLogger("ccxt").getEffectiveLevel() >= logging.INFO


def test_binance_loads_spot_markets_only() -> None:
    options = make_client("binance", KEY).options
    assert options["fetchMarkets"]["types"] == ["spot"]
    assert options["fetchCurrencies"] is False and options["fetchMargins"] is False


def test_an_unknown_exchange_id_is_a_clear_error() -> None:
    with pytest.raises(UnknownExchange, match="unknown ccxt exchange id 'nosuchvenue'"):
        make_client("nosuchvenue", KEY)


def test_origins_list_every_api_host_the_client_may_call() -> None:
    assert api_origins(make_client("kraken", KEY)) == [
        "https://api.kraken.com",
        "https://kraken.zendesk.com",
    ]
    binance = api_origins(make_client("binance", KEY))
    assert "https://api.binance.com" in binance and "https://fapi.binance.com" in binance


def test_sandbox_swaps_the_origins_for_the_test_ones() -> None:
    production = api_origins(make_client("binance", KEY))
    sandbox = api_origins(make_client("binance", KEY, sandbox=True))
    assert sandbox != production and "https://api.binance.com" not in sandbox
    assert make_client("binance", KEY, sandbox=True).isSandboxModeEnabled


@pytest.mark.parametrize("exchange_id", sorted(TESTED))
def test_the_tested_venues_have_every_capability(exchange_id: str) -> None:
    caps = capabilities(make_client(exchange_id, KEY))
    assert caps == Capabilities(True, True, True, True, True, True, True)
    assert missing_for_live(caps) == [] and missing_for_maker(caps) == []


def without_post_only(client: Any) -> Any:
    """A venue whose ccxt class offers no post-only (several do: which ones changes between
    ccxt releases, so the tests make their own)."""
    client.features["spot"]["createOrder"]["timeInForce"]["PO"] = False
    client.has["createPostOnlyOrder"] = False
    return client


def test_a_venue_without_post_only_lacks_what_the_maker_first_twap_needs() -> None:
    caps = capabilities(without_post_only(make_client("okxus", KEY)))
    assert not caps.post_only and missing_for_maker(caps) == ["post_only"]
    assert missing_for_live(caps) == []


def test_a_venue_that_lists_open_orders_one_market_at_a_time_lacks_the_listing() -> None:
    client = make_client("okxus", KEY)
    client.features["spot"]["fetchOpenOrders"]["symbolRequired"] = True
    assert missing_for_live(capabilities(client)) == ["fetch_open_orders"]


def test_a_venue_without_cancel_or_open_orders_is_not_crash_safe() -> None:
    client = make_client("okxus", KEY)
    client.has["cancelOrder"] = False
    client.has["fetchOpenOrders"] = False
    caps = capabilities(client)
    assert missing_for_live(caps) == ["client_order_id", "fetch_open_orders", "cancel_order"]


def test_client_id_semantics_are_known_for_the_tested_venues_only() -> None:
    assert semantics("binance").max_length == 36 and semantics("binance").unique_while_open
    assert semantics("kraken").max_length == 18
    assert semantics("coinbase").param == "client_order_id"
    assert semantics("okx").max_length == 32 and semantics("bybit").max_length == 36
    assert "not verified" in semantics("okxus").note


class _Client:
    def __init__(self, name: str) -> None:
        self.name, self.closed = name, 0
        self.has: dict[str, Any] = {}
        self.id = name

    async def close(self) -> None:
        self.closed += 1


async def test_accounts_of_one_key_share_a_client_and_the_last_one_closes_it() -> None:
    built: list[_Client] = []

    def factory(exchange_id: str, credentials: Any, sandbox: bool) -> _Client:
        built.append(_Client(f"{exchange_id}-{len(built)}"))
        return built[-1]

    registry = ClientRegistry(factory=factory)
    clock: Any = type("C", (), {"now": lambda self: NOW})()
    first = registry.exchange("kraken", KEY, clock, sandbox=False, read_only=True)
    second = registry.exchange("kraken", KEY, clock, sandbox=False, read_only=False)
    other_key = registry.exchange(
        "kraken", {**KEY, "apiKey": "k2"}, clock, sandbox=False, read_only=True
    )
    sandboxed = registry.exchange("kraken", KEY, clock, sandbox=True, read_only=True)
    assert first.client is second.client and len(built) == 3
    assert other_key.client is not first.client and sandboxed.client is not first.client
    await first.aclose()
    await first.aclose()  # twice is once
    assert built[0].closed == 0
    await second.aclose()
    assert built[0].closed == 1
    third = registry.exchange("kraken", KEY, clock, sandbox=False, read_only=True)
    assert third.client is built[3]  # a new client after the last one closed
    for exchange in (other_key, sandboxed, third):
        await exchange.aclose()
    assert [c.closed for c in built] == [1, 1, 1, 1]


async def test_an_adapter_that_alone_holds_its_client_closes_it() -> None:
    from cleanslate.exchange.ccxt import CcxtExchange

    client = _Client("kraken")
    clock: Any = type("C", (), {"now": lambda self: NOW})()
    exchange = CcxtExchange(client, clock, exchange_id="kraken", read_only=True)
    await exchange.aclose()
    await exchange.aclose()
    assert client.closed == 1


def test_the_registry_keys_by_a_hash_of_the_api_key_never_the_key() -> None:
    key = ClientRegistry.key_of("kraken", KEY, False)
    assert "test-key" not in repr(key) and key[:2] == ("kraken", False)


async def test_a_secret_that_only_shares_the_api_key_does_not_get_the_keys_client() -> None:
    """An API key travels in clear request headers (Binance's X-MBX-APIKEY) and is no proof
    of owning the account: a tenant whose Secret holds someone else's apiKey with any secret
    must get a client signing with that secret, never the owner's shared one (which would
    let that tenant's TradingAccount sell the owner's holdings)."""
    registry = ClientRegistry(
        factory=lambda exchange_id, credentials, sandbox: make_client(
            exchange_id, credentials, sandbox=sandbox
        )
    )
    clock: Any = type("C", (), {"now": lambda self: NOW})()
    owner = registry.exchange("kraken", KEY, clock, sandbox=False, read_only=False)
    intruder = registry.exchange(
        "kraken", {**KEY, "secret": "guessed"}, clock, sandbox=False, read_only=False
    )
    try:
        assert intruder.client is not owner.client
        assert intruder.client.secret == "guessed"
        same = registry.exchange("kraken", dict(KEY), clock, sandbox=False, read_only=True)
        assert same.client is owner.client  # the same credentials still share one client
        await same.aclose()
    finally:
        await owner.aclose()
        await intruder.aclose()
    assert "test-secret" not in repr(ClientRegistry.key_of("kraken", KEY, False))
