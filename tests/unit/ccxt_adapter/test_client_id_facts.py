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
from cleanslate.core.market import Order, OrderRequest, OrderStatus, OrderType, Side
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.ccxt.adapter import derived_client_id
from cleanslate.exchange.ccxt.capabilities import UNTESTED, IdForm, semantics
from cleanslate.exchange.errors import NotFound, PostOnlyWouldCross, TemporaryError, Unavailable
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


def _bitstamp(
    holdings: dict[str, str] | None = None,
) -> tuple[object, CcxtExchange, SimulatedClock]:
    clock = SimulatedClock()
    spec = account_spec(holdings or {"USD": "150", "WLFI": "2000"}, market="calm")
    venue = venue_for("bitstamp", spec, clock)
    return venue, _bitstamp_adapter(venue, clock), clock


def _bitstamp_adapter(venue: object, clock: SimulatedClock) -> CcxtExchange:
    client = venue.install(make_client("bitstamp", credentials("bitstamp")))  # type: ignore[attr-defined]
    client.enableRateLimit = False
    return CcxtExchange(client, clock, exchange_id="bitstamp", read_only=False)


async def _sell(adapter: CcxtExchange, cid: str, *, post_only: bool, size: str = "10") -> Order:
    quote = await adapter.quote("WLFI-USD")
    tick = (await adapter.product("WLFI-USD")).price_tick
    price = (quote.ask * 2 if post_only else quote.bid * Decimal("0.9")).quantize(tick)
    return await adapter.place_order(
        OrderRequest(
            cid,
            "WLFI-USD",
            Side.SELL,
            Decimal(size),
            OrderType.LIMIT,
            limit_price=price,
            post_only=post_only,
            immediate_or_cancel=not post_only,
        )
    )


async def test_bitstamp_gets_our_id_as_client_order_id_and_its_own_moc_and_ioc_flags() -> None:
    """What ccxt's bitstamp builds from the adapter's order: the id as ``client_order_id``,
    post-only as ``moc_order=true``, IOC as ``ioc_order=true``; never ccxt's ``postOnly`` or
    ``timeInForce``, which Bitstamp does not read (API v2, Sell limit order)."""
    venue, adapter, _ = _bitstamp()
    maker = await _sell(adapter, "cs-bs-maker", post_only=True)
    taker = await _sell(adapter, "cs-bs-taker", post_only=False)
    sells = [r for r in venue.requests if r.path == "/api/v2/sell/wlfiusd/"]  # type: ignore[attr-defined]
    assert [r.params for r in sells] == [
        {"amount": "10", "client_order_id": "cs-bs-maker", "price": sells[0].params["price"],
         "moc_order": "true"},
        {"amount": "10", "client_order_id": "cs-bs-taker", "price": sells[1].params["price"],
         "ioc_order": "true"},
    ]  # fmt: skip
    assert maker.post_only and maker.filled_size == 0 and maker.client_order_id == "cs-bs-maker"
    assert taker.filled_size == Decimal(10) and taker.status is OrderStatus.FILLED
    assert derived_client_id(LONG, semantics("bitstamp")).startswith("cs-")
    assert len(derived_client_id(LONG, semantics("bitstamp"))) == 36
    await adapter.aclose()


async def test_bitstamp_finds_open_filled_and_cancelled_orders_by_client_order_id() -> None:
    """Order status by client_order_id answers for every state (a restarted adapter knows no
    symbol: the market comes from Bitstamp's own ``market`` field); 'Order not found.' is
    None, and only that: a rate limit raises instead of answering "never placed"."""
    venue, first, clock = _bitstamp()
    maker = await _sell(first, "cs-bs-open", post_only=True)
    sold = await _sell(first, "cs-bs-sold", post_only=False)
    gone = await _sell(first, "cs-bs-gone", post_only=True)
    assert await first.cancel_orders([gone.order_id]) == [gone.order_id]
    await first.aclose()

    again = _bitstamp_adapter(venue, clock)
    for placed, status in ((maker, OrderStatus.OPEN), (sold, OrderStatus.FILLED),
                           (gone, OrderStatus.CANCELLED)):  # fmt: skip
        found = await again.find_order(placed.client_order_id)
        assert found is not None and found.order_id == placed.order_id
        assert (found.status, found.product_id, found.side) == (status, "WLFI-USD", Side.SELL)
        assert found.base_size == Decimal(10) and found.filled_size == placed.filled_size
    assert await again.find_order("cs-bs-never") is None
    venue.inject("rate_limit", lambda r: r.path == "/api/v2/order_status/")  # type: ignore[attr-defined]
    with pytest.raises(TemporaryError):
        await again.find_order("cs-bs-never-2")
    with pytest.raises(NotFound):
        await again.get_order("not-a-number")
    await again.aclose()


async def test_bitstamp_reads_fills_from_the_order_not_from_a_page_of_transactions() -> None:
    """ccxt's bitstamp has no fetchOrderTrades and its fetchMyTrades reads one page of user
    transactions; Order status lists the order's own transactions, so the fills are read
    there and their sizes add up to what filled, whatever the account did since."""
    venue, adapter, _ = _bitstamp({"USD": "150", "WLFI": "20000"})
    sold = await _sell(adapter, "cs-bs-fills", post_only=False, size="3000")
    assert sold.filled_size > 0
    since = len(venue.requests)  # type: ignore[attr-defined]
    fills = await adapter.fills(sold.order_id)
    assert sum(f.size for f in fills) == sold.filled_size
    assert all(f.side is Side.SELL and f.order_id == sold.order_id for f in fills)
    assert sum(f.fee for f in fills) == sold.fees > 0
    paths = {r.path for r in venue.requests[since:]}  # type: ignore[attr-defined]
    assert paths == {"/api/v2/order_status/"}, "no user_transactions page"
    await adapter.aclose()


async def test_bitstamp_moc_that_would_take_is_a_crossing_and_fees_read_in_percent() -> None:
    """A maker-or-cancel order that would take is cancelled by Bitstamp unfilled: the
    adapter reports the crossing. Bitstamp's trading fees are percent (0.30 = 0.30 %)."""
    _, adapter, _ = _bitstamp()
    quote = await adapter.quote("WLFI-USD")
    tick = (await adapter.product("WLFI-USD")).price_tick
    crossing = OrderRequest("cs-bs-cross", "WLFI-USD", Side.SELL, Decimal(10), OrderType.LIMIT,
                            limit_price=(quote.bid * Decimal("0.9")).quantize(tick),
                            post_only=True)  # fmt: skip
    with pytest.raises(PostOnlyWouldCross):
        await adapter.place_order(crossing)
    assert await adapter.fee_rates() == (Decimal(30), Decimal(40))
    await adapter.aclose()


async def test_bitstamp_answers_for_a_closed_order_30_days_only() -> None:
    """Order status: "For closed orders, this call only returns information for the last 30
    days". The find window (7 days) is inside it; past 30 days the id reads as absent."""
    venue, first, clock = _bitstamp()
    sold = await _sell(first, "cs-bs-old", post_only=False)
    await first.aclose()
    clock.advance(8 * 86400)
    again = _bitstamp_adapter(venue, clock)
    found = await again.find_order("cs-bs-old")
    assert found is not None and found.order_id == sold.order_id
    await again.aclose()
    clock.advance(23 * 86400)
    late = _bitstamp_adapter(venue, clock)
    assert await late.find_order("cs-bs-old") is None
    await late.aclose()


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
