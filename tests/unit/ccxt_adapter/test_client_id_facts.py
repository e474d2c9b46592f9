"""Per-venue client-id facts are data (``ClientIdSemantics``), not branches on the exchange
id: the form of the id, its charset and length, the prefix a venue adds on read-back, and the
parameters a venue wants on every order."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest
from cycle.harness import account_spec

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.ccxt.adapter import derived_client_id
from cleanslate.exchange.ccxt.capabilities import UNTESTED, IdForm, semantics
from cleanslate.exchange.errors import Unavailable
from fakes.ccxt_venues import credentials
from unit.ccxt_venues.rig import venue_for

LONG = "cs-ns-account-a12-s3-0123456789abcdef0123456789"


def test_a_fitting_id_is_kept_and_a_long_or_odd_one_is_derived_the_same_each_time() -> None:
    kraken = semantics("kraken")
    assert derived_client_id("cs-a1-s1", kraken) == "cs-a1-s1"
    short = derived_client_id(LONG, kraken)
    assert short.startswith("cs-") and len(short) == kraken.max_length
    assert derived_client_id(LONG, kraken) == short, "a restart derives the same id"
    strict = replace(UNTESTED, charset=r"^[a-z0-9]+$", max_length=64)
    derived = derived_client_id("cs-a1", strict)
    assert derived.startswith("cs") and derived.isalnum(), "within the venue's charset"


def test_a_venue_that_wants_a_uuid_or_an_integer_gets_one_derived_from_our_id() -> None:
    as_uuid = derived_client_id(LONG, replace(UNTESTED, form=IdForm.UUID))
    assert uuid.UUID(as_uuid).version == 4
    assert derived_client_id(LONG, replace(UNTESTED, form=IdForm.UUID)) == as_uuid
    assert derived_client_id("cs-other", replace(UNTESTED, form=IdForm.UUID)) != as_uuid
    number = derived_client_id(LONG, replace(UNTESTED, form=IdForm.INTEGER, max_length=9))
    assert number.isdigit() and 0 < int(number) <= 16**9


async def test_a_prefix_the_venue_adds_on_read_back_is_not_part_of_the_id() -> None:
    clock = SimulatedClock()
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    venue = venue_for("binance", spec, clock)
    client = venue.install(make_client("binance", credentials("binance")))
    client.enableRateLimit = False
    adapter = CcxtExchange(client, clock, exchange_id="binance", read_only=False)
    adapter._semantics = replace(
        adapter._semantics,
        read_back_prefix="t-",
        order_params={"selfTradePreventionMode": "EXPIRE_MAKER"},
    )
    quote = await adapter.quote("WLFI-USD")
    product = await adapter.product("WLFI-USD")
    far = (quote.ask * 2).quantize(product.price_tick)
    request = OrderRequest("cs-pfx-1", "WLFI-USD", Side.SELL, Decimal(10), OrderType.LIMIT,
                           limit_price=far, post_only=True)  # fmt: skip
    await adapter.place_order(request)
    (placed,) = [r for r in venue.requests if r.method == "POST"]
    assert placed.params.get("selfTradePreventionMode") == "EXPIRE_MAKER"
    assert adapter._read_back({"clientOrderId": "t-cs-pfx-1"}) == "cs-pfx-1"
    assert adapter._read_back({"clientOrderId": "cs-pfx-1"}) == "cs-pfx-1"
    await adapter.aclose()


def test_an_id_starting_with_t_is_derived_on_gate_since_ccxt_would_send_it_without_t_dash() -> None:
    """ccxt's gate adds ``t-`` only to an id that does not start with 't' (gate.py
    create_order_request); Gate refuses a text without it."""
    gate = semantics("gate")
    assert derived_client_id("cs-a1-s1", gate) == "cs-a1-s1"
    derived = derived_client_id("taker-1", gate)
    assert derived.startswith("cs-") and len(derived) <= gate.max_length
    assert derived_client_id(LONG, gate).startswith("cs-")


async def test_gate_without_a_product_does_not_answer_never_placed() -> None:
    clock = SimulatedClock()
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    venue = venue_for("gate", spec, clock)
    client = venue.install(make_client("gate", credentials("gate")))
    client.enableRateLimit = False
    adapter = CcxtExchange(client, clock, exchange_id="gate", read_only=False)
    with pytest.raises(Unavailable, match="within one market"):
        await adapter.find_order("cs-anything")
    assert await adapter.find_order("cs-anything", "WLFI-USD") is None
    await adapter.aclose()


async def test_bitget_takes_our_id_as_clientoid_and_finds_it_without_a_product() -> None:
    """ccxt's bitget ``create_order_request`` reads clientOid or the unified clientOrderId
    and sends it as ``clientOid`` (the unified key dropped); the facts keep it within 36
    characters of ``[A-Za-z0-9_-]``. Bitget lists orders across markets, so a lookup needs
    no product."""
    bitget = semantics("bitget")
    assert derived_client_id("cs-a1-s1", bitget) == "cs-a1-s1"
    long_id = derived_client_id(LONG, bitget)
    assert long_id.startswith("cs-") and len(long_id) == bitget.max_length
    assert derived_client_id("cs-ns:acct.1", bitget).startswith("cs-"), "':' and '.' derived"
    clock = SimulatedClock()
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    venue = venue_for("bitget", spec, clock)
    client = venue.install(make_client("bitget", credentials("bitget")))
    client.enableRateLimit = False
    adapter = CcxtExchange(client, clock, exchange_id="bitget", read_only=False)
    quote = await adapter.quote("WLFI-USD")
    product = await adapter.product("WLFI-USD")
    far = (quote.ask * 2).quantize(product.price_tick)
    built = client.create_order_request("WLFI/USD", "limit", "sell", 10, float(far),
                                        {"clientOrderId": long_id, "postOnly": True})  # fmt: skip
    assert built["clientOid"] == long_id and "clientOrderId" not in built
    assert built["force"] == "post_only"
    request = OrderRequest(LONG, "WLFI-USD", Side.SELL, Decimal(10), OrderType.LIMIT,
                           limit_price=far, post_only=True)  # fmt: skip
    placed = await adapter.place_order(request)
    (post,) = [r for r in venue.requests if r.method == "POST"]
    assert post.params["clientOid"] == long_id and post.params["force"] == "post_only"
    assert placed.client_order_id == LONG, "read back as cleanslate's own id"
    await adapter.aclose()

    restarted = CcxtExchange(client, clock, exchange_id="bitget", read_only=False)
    found = await restarted.find_order(LONG)
    assert found is not None and found.order_id == placed.order_id
    assert await restarted.find_order("cs-never") is None
    await restarted.aclose()
