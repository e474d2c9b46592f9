"""The Live gate proves what ccxt really sends: orders built through each venue's real ccxt
class with placeholder credentials, stopped at the HTTP seam before the network. The
findings below are ccxt's actual behaviour for the pinned version (issue 26's survey)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleanslate.api.account import Mode
from cleanslate.core.market import ProductStatus
from cleanslate.exchange.ccxt import capabilities, make_client, markets
from cleanslate.exchange.ccxt.capabilities import UNTESTED, semantics
from cleanslate.exchange.ccxt.proving import Proof, prove
from cleanslate.exchange.ccxt_accounts import CcxtSettings, gate, gate_for
from unit.operating.test_ccxt_accounts import RecordingKube, allowing, build, spec


async def _unproven(exchange_id: str) -> tuple[str, ...]:
    return (await prove(exchange_id, make_client(exchange_id, {}).has)).unproven


PROVEN = [
    "binance",
    "kraken",
    "coinbase",
    "okx",
    "bybit",
    "bitstamp",
]


@pytest.mark.parametrize("exchange_id", PROVEN)
async def test_the_tested_venues_send_our_id_post_only_and_ioc(exchange_id: str) -> None:
    assert await _unproven(exchange_id) == ()


async def test_a_venue_whose_ccxt_drops_the_client_id_is_not_proven() -> None:
    assert await _unproven("cryptocom") == (
        "the client order id does not reach the venue (ccxt drops it)",
    )


async def test_flags_passed_through_under_ccxt_names_and_no_closed_lookup_are_named() -> None:
    """bitso's ccxt passes postOnly and timeInForce through verbatim (as bitstamp's did
    before its facts named moc_order and ioc_order)."""
    found = await _unproven("bitso")
    assert any("post-only goes out as ccxt's 'postOnly'" in f for f in found), found
    assert any("IOC goes out as ccxt's 'timeInForce'" in f for f in found), found
    assert any("no closed-order lookup" in f for f in found), found


@pytest.mark.parametrize(
    ("exchange_id", "why"),
    [("htx", "asks the server"), ("bitvavo", "operatorId")],
)
async def test_an_order_ccxt_will_not_build_offline_is_not_proven(
    exchange_id: str, why: str
) -> None:
    (found,) = await _unproven(exchange_id)
    assert found.startswith("cannot build an order offline") and why in found


def test_a_failed_proof_keeps_the_account_dry_even_when_the_platform_opts_it_in() -> None:
    caps = capabilities(make_client("cryptocom", {}))
    opted_in = CcxtSettings(live_exchanges=frozenset({"cryptocom"}))
    verdict = gate_for("cryptocom", caps, opted_in, Proof(("the client order id is dropped",)))
    assert (verdict.capable, verdict.reason) == (False, "Unproven")
    assert "the client order id is dropped" in verdict.message
    assert gate_for("cryptocom", caps, opted_in, Proof(())).capable


async def test_an_opted_in_venue_that_fails_the_proof_builds_read_only(tmp_path: Path) -> None:
    opted_in = CcxtSettings(live_exchanges=frozenset({"cryptocom"}))
    exchange = await build(
        spec("cryptocom"),
        Mode.LIVE,
        RecordingKube(),
        tmp_path,
        endpoints=allowing("cryptocom"),
        settings=opted_in,
    )
    verdict = gate(exchange, opted_in)
    assert exchange.read_only and verdict is not None and verdict.reason == "Unproven"
    await exchange.aclose()


async def test_the_venue_facts_decide_whether_its_order_is_built_right() -> None:
    """Gate takes at most 28 characters and reads ours back with a t- prefix: with its
    documented facts the probe order carries our id; with the defaults ccxt refuses it."""
    has = make_client("gate", {}).has
    assert (await prove("gate", has)).proven
    (found,) = (await prove("gate", has, UNTESTED)).unproven
    assert "28 characters" in found


async def test_bybit_is_built_offline_as_a_unified_trading_account() -> None:
    """ccxt's bybit asks the server which account type the key has before it builds an
    order; the client's fixed options say UTA (the values ccxt assumes for demo trading), so
    the order is built without a request and goes out with Bybit's own names."""
    client = make_client("bybit", {})
    assert client.options["enableUnifiedAccount"] is True
    assert client.options["enableUnifiedMargin"] is False
    assert await client.is_unified_enabled() == [False, True], "answered without a request"
    await client.close()
    assert await _unproven("bybit") == ()


async def test_coinbaseexchange_sends_our_uuid_as_client_oid_post_only_and_ioc() -> None:
    assert await _unproven("coinbaseexchange") == ()


async def test_a_venue_whose_ccxt_ticks_are_placeholders_is_not_proven() -> None:
    """ccxt's upbit reports 1e-8 as every market's tick and no minimum; Upbit's KRW ticks
    depend on the price. The gate used to take the placeholder for a known tick."""
    found = await _unproven("upbit")
    assert len(found) == 1 and found[0].startswith("ticks and minimums are not known"), found
    verdict = gate_for("upbit", capabilities(make_client("upbit", {})), CcxtSettings(
        live_exchanges=frozenset({"upbit"})), Proof(found))  # fmt: skip
    assert not verdict.capable and verdict.reason == "Unproven", verdict


async def test_a_venue_whose_ticks_move_with_the_price_is_not_proven() -> None:
    """ccxt's bitfinex states prices in significant digits: no market has a fixed tick, so
    ``markets.product`` reports each SUSPENDED and an account there would sell nothing; the
    gate says so instead of letting it pass (issue 26: "bitfinex gets every market SUSPENDED
    yet passes")."""
    client = make_client("bitfinex", {})
    market = {
        "symbol": "BTC/USD",
        "base": "BTC",
        "quote": "USD",
        "type": "spot",
        "spot": True,
        "active": True,
        "precision": {"amount": 8, "price": 5},
        "limits": {"amount": {"min": 0.0001}},
    }
    assert markets.product(market, client.precisionMode).status is ProductStatus.SUSPENDED
    await client.close()
    (found,) = await _unproven("bitfinex")
    assert found.startswith("ticks unknown")


async def test_bitget_flags_are_proven_by_its_own_force_and_only_by_it() -> None:
    """ccxt's bitget sets Bitget's ``force`` (post_only, IOC) and also passes timeInForce
    through: the facts name ``force`` as the carrier, so the flags are proven by it; the
    same request without those facts still fails on ccxt's name. A lookup the venue's data
    says can miss a finished order (``lookup_misses``, bitget's before its lookup paged Get
    History Orders) keeps the venue unproven."""
    from dataclasses import replace

    has = make_client("bitget", {}).has
    facts = semantics("bitget")
    assert (await prove("bitget", has, facts)).unproven == ()
    (missed,) = (await prove("bitget", has, replace(facts, lookup_misses="one page"))).unproven
    assert missed.startswith("the order lookup can miss a finished order"), missed
    wrong = replace(facts, own_flags={"timeInForce": ("force", "FOK")})
    (found,) = (await prove("bitget", has, wrong)).unproven
    assert "IOC goes out as ccxt's 'timeInForce'" in found
    (found,) = (await prove("bitget", has, replace(facts, own_flags={}))).unproven
    assert "IOC goes out as ccxt's 'timeInForce'" in found


async def test_bitstamp_flags_are_proven_by_moc_order_and_ioc_order_as_sent() -> None:
    """ccxt's bitstamp passes params through verbatim: the adapter sends Bitstamp's own
    ``moc_order``/``ioc_order`` (``flag_params``), and the gate proves them by those names
    with ccxt's encoding of a boolean in a form body (``true``). Without those facts the
    request carries ccxt's names, which Bitstamp does not read."""
    from dataclasses import replace

    has = make_client("bitstamp", {}).has
    facts = semantics("bitstamp")
    assert (await prove("bitstamp", has, facts)).unproven == ()
    bare = replace(facts, flag_params={})
    assert (await prove("bitstamp", has, bare)).unproven == (
        "post-only goes out as ccxt's 'postOnly', a name the venue is not known to read",
        "IOC goes out as ccxt's 'timeInForce', a name the venue is not known to read",
    )
