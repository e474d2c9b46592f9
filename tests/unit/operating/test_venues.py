"""Venues as data: every ``spec.exchange.name`` has one registry entry (``exchange.venues``)
and the layers above ``exchange/`` never ask which venue an account is on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cleanslate.api.account import ExchangeName, ExchangeSpec, Mode
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.endpoints import EndpointPolicy
from cleanslate.exchange.paper import PaperExchange
from cleanslate.exchange.venues import VENUES, BuildRequest, Platform, VenueRefused, venue_of

PACKAGE = Path(__file__).resolve().parents[3] / "operator" / "cleanslate"
ABOVE_EXCHANGE = ("operating", "cli", "cycle", "execution", "plugin")


def test_every_exchange_name_has_exactly_one_entry() -> None:
    assert set(VENUES) == set(ExchangeName)
    assert all(v.name is name for name, v in VENUES.items())
    assert [n for n, v in VENUES.items() if v.simulated] == [ExchangeName.PAPER]


def test_no_layer_above_exchange_branches_on_a_venue_name() -> None:
    """Adding a venue must not mean editing the operator or the CLI: they ask the registry."""
    branching = re.compile(
        r"ExchangeName\.[A-Z]+|exchange_id\s*==|name\s*==\s*['\"](coinbase|ccxt|paper)"
    )
    found = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for layer in ABOVE_EXCHANGE
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if branching.search(line)
    ]
    assert found == []


def test_coinbase_refuses_an_origin_the_platform_does_not_allow_before_any_secret() -> None:
    spec = ExchangeSpec.model_validate(
        {
            "name": "coinbase",
            "credentialsSecretRef": {"name": "key"},
            "coinbase": {"baseUrl": "https://evil.example"},
        }
    )
    with pytest.raises(VenueRefused) as refused:
        venue_of(ExchangeName.COINBASE).check_spec(spec, Platform(EndpointPolicy()))
    assert refused.value.reason == "EndpointNotAllowed"


def test_ccxt_refuses_an_exchange_id_ccxt_does_not_know() -> None:
    spec = ExchangeSpec.model_validate(
        {"name": "ccxt", "credentialsSecretRef": {"name": "k"}, "ccxt": {"exchangeId": "nope"}}
    )
    with pytest.raises(VenueRefused) as refused:
        venue_of(ExchangeName.CCXT).check_spec(spec, Platform())
    assert refused.value.reason == "UnknownExchange"


async def test_the_paper_venue_builds_without_a_secret(tmp_path: Path) -> None:
    venue = venue_of(ExchangeName.PAPER)
    assert not venue.needs_secret
    request = BuildRequest(
        ExchangeSpec(), Mode.LIVE, None, SimulatedClock(), "ns/a", tmp_path, Platform()
    )
    assert isinstance(await venue.build(request), PaperExchange)
    assert venue.gate(await venue.build(request), Platform()) is None
