"""What a ccxt venue can do, and what cleanslate needs of it before it may trade there.

Crash safety needs three things: a client order id on every order (a restarted executor
derives the same id and finds its order instead of placing another), listing open orders
(the stale-order rules and the resume), and cancelling. The maker-first TWAP also needs
post-only limit orders. ``capabilities`` reads them from ccxt's ``has`` flags and its
``features`` (``features.spot.createOrder.timeInForce.PO``); ``missing_for_live`` and
``missing_for_maker`` name what a venue lacks, for the ExchangeCapable condition.

ccxt has no flag for client order ids, and venues differ in what an id means: whether it must
be unique among open orders only or forever, how long it may be, which parameter carries it.
``TESTED`` records, for the venues whose semantics were checked (against ccxt's source and
the recorded payloads of its static tests, not live), exactly that. A venue outside the table
is assumed to take ccxt's unified ``clientOrderId`` but trades Live only when the platform
team opts in for its id (``--ccxt-live-exchange``); see docs/exchanges.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class LookupKind(StrEnum):
    """How a venue finds an order by client id, filled and cancelled ones included."""

    BY_ID = "by id"
    """One request for the id (Binance's Query Order by origClientOrderId)."""
    FILTERED = "filtered listing"
    """Open and closed listings asked for that id only (Kraken's cl_ord_id filter)."""
    PAGED = "paged listing"
    """Every order of the find window, page by page to the end (Coinbase's List Orders by
    cursor; gate's finished orders by page number, after its pending orders by id; bitget's
    open and then finished orders, each older than the smallest id of the page before)."""
    ONE_PAGE = "one page"
    """One page of the listings (untested venues): an id missing from a full page is not
    proven absent, so the lookup fails instead of answering "no such order"."""


@dataclass(frozen=True)
class OlderThan:
    """A listing read page by page, each page asking for the orders older than the smallest
    order id of the page before (Bitget's ``idLessThan``: "Requests the content on the page
    before this ID (older data), the value input should be the orderId of the corresponding
    interface"). The pages end at the first EMPTY page, never at a short one: ccxt filters a
    page after it reads it, so a short page does not prove there is no next one. Running out
    of ``max_pages`` (or a page that does not move below the last one) is a failure
    (``Unavailable``), never "no such order"."""

    param: str
    """The listing parameter that takes the smallest order id of the last page."""
    page_size: int = 100
    """Orders asked for per page (Bitget: "limit ... default 100 max 100")."""
    max_pages: int = 100


@dataclass(frozen=True)
class Lookup:
    """How ``find_order`` looks an id up on one venue (``adapter.CcxtExchange.find_order``)."""

    kind: LookupKind
    param: str | None = None
    """BY_ID: the fetchOrder parameter that carries the id; FILTERED: the listing parameter."""
    page_size: int = 100
    """PAGED and ONE_PAGE: orders asked for per page."""
    cursor: str | None = None
    """PAGED: the key of the next page's cursor in a raw order (ccxt's coinbase copies the
    answer's cursor into one order's ``info``) and the parameter that sends it back."""
    max_pages: int = 100
    """PAGED: pages read before the lookup gives up and fails (never "not found")."""
    page: str | None = None
    """PAGED by number: the closed-order listing's page parameter (gate's ``page``, from 1).
    The pages end at the first empty one, never at a short one: ccxt filters a page after it
    reads it, so a short page does not prove there is no next one."""
    open_param: str | None = None
    """PAGED by number: the fetchOrder parameter that finds a still OPEN order by client id
    (gate's ``text`` lookup answers for pending orders only); the pages then list finished
    orders."""
    older_than: OlderThan | None = None
    """PAGED by id: every open order (the open listing, paged as ``open_orders_pages`` says),
    then the finished orders of the find window, each page older than the smallest order id
    of the page before (bitget)."""
    closed_method: str | None = None
    """PAGED by id: the ccxt method that lists finished orders of EVERY status (bitget's
    ``fetch_canceled_and_closed_orders``: its ``fetch_closed_orders`` keeps the filled ones
    only and would drop a cancelled, partly filled IOC)."""


class IdForm(StrEnum):
    """The form a venue wants a client order id in."""

    TEXT = "text"
    """Free text within ``charset`` and ``max_length`` (cleanslate's id, or ``cs-`` and a
    SHA-256 prefix when it does not fit)."""
    UUID = "uuid"
    """A UUID, derived from the SHA-256 of cleanslate's id (the same after a restart)."""
    INTEGER = "integer"
    """A positive integer below ``2**(4 * max_length)``, from the same digest."""


@dataclass(frozen=True)
class ClientIdSemantics:
    """How one venue treats client order ids, as ccxt passes them."""

    param: str
    """The createOrder parameter that carries the id (ccxt's unified ``clientOrderId``, or
    the venue's own where ccxt ignores the unified one)."""
    max_length: int
    """Longest id the venue takes; longer ids are shortened deterministically (``venue_id``)."""
    unique_while_open: bool
    """True when the venue refuses a duplicate only while the first order is open: once it is
    filled or cancelled the id can be placed again, so idempotency must look it up first."""
    lookup: Lookup
    """How an order is found by its id after a restart. Never one unfiltered page: Kraken
    lists closed orders 50 at a time and bybit 50, newest first, so an order behind a page of
    later ones would not be found and a restart would sell it again."""
    note: str
    charset: str = r"^[A-Za-z0-9_.:/-]+$"
    """Characters the venue takes in an id (a regular expression over the whole id)."""
    form: IdForm = IdForm.TEXT
    read_back_prefix: str = ""
    """What the venue puts before the id when it reads an order back (gate's ``t-``)."""
    order_params: Mapping[str, Any] = field(default_factory=dict)
    """Parameters the venue wants on every order that ccxt does not add (ccxt's bitvavo
    refuses an order without ``operatorId``)."""
    wire_names: frozenset[str] = frozenset()
    """ccxt unified parameter names that are also the venue's own, so seeing them in the
    request proves nothing is lost (Binance reads ``timeInForce``); see ``proving``."""
    open_orders_params: Mapping[str, Any] = field(default_factory=dict)
    """Parameters of every open-order listing: ccxt's bybit reads one page of 20 unless asked
    to ``paginate`` (then up to ccxt's ``paginationCalls``, 10 pages of 50). A parameter, not
    a client option: ccxt reads the option again in each page's call and never stops."""
    open_orders_pages: OlderThan | None = None
    """The open-order listing read to its end page by page, where the venue answers one page
    of at most 100 (Bitget's Get Unfilled Orders, ``idLessThan``): the stale-order rules and
    the resume need every open order, not the newest 100."""
    fills_param: str | None = None
    """The fetchMyTrades parameter that narrows the trades to one order (Bitget's Get Fills
    ``orderId``); without it an order's fills are looked for among one listing of the
    market's recent trades (100 on Bitget), where an older order's fills may not be."""
    min_amount_info: str | None = None
    """The venue's own market field with the minimum order size in the base currency, read
    where ccxt leaves ``limits.amount.min`` empty (coinbaseexchange's ``base_min_size``): a
    minimum that is not known lets slices below it go out."""
    unknown_ticks: str = ""
    """Why the ticks or minimums ccxt reports for this venue's markets are not the venue's
    (a placeholder), or empty: the gate keeps such a venue in DryRun (``proving.prove``),
    since an order sized on a placeholder tick is refused, or worse, rounded by ccxt."""
    probe_market_info: Mapping[str, Any] = field(default_factory=dict)
    """The venue's own market fields its ccxt createOrder reads, for the gate's probe market
    (Binance checks ``orderTypes``)."""
    lookup_misses: str = ""
    """Why the lookup a venue would get (``ONE_PAGE``) can miss a finished order there, or
    empty: the gate keeps such a venue in DryRun even with the platform's opt-in, since a
    missed sale is placed again (bitget's was, until its lookup paged Get History Orders)."""
    own_flags: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """For a ccxt unified order parameter (``postOnly``, ``timeInForce``) that ccxt also
    passes through verbatim, the venue's own parameter and value that carry it (Bitget's
    ``force``): the gate then proves the flag by that pair in the request, not by ccxt's
    name, which the venue is not known to read."""
    flag_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The venue's own order parameters the adapter sends INSTEAD of ccxt's unified flag,
    where ccxt passes the unified one through under a name the venue does not read (ccxt's
    bitstamp: ``postOnly`` -> Bitstamp's ``moc_order``, IOC -> ``ioc_order``). Keys:
    ``postOnly`` and ``IOC``. The gate proves each by those names and values in the request
    ccxt builds (``proving``)."""
    order_info: Mapping[str, str] = field(default_factory=dict)
    """The venue's own order fields read where ccxt leaves the unified one empty: ``symbol``
    (a field with the market as ``BASE/QUOTE``) and ``remaining`` (the size not filled, so
    the order's size is what filled plus that). ccxt's bitstamp reads an Order status answer
    without its market or size (Bitstamp answers ``market`` and ``amount_remaining``)."""
    fills_in_order: bool = False
    """An order's fills are read from the order itself (ccxt's fetchOrder ``trades``), not
    from the account's trade listing: ccxt's bitstamp has no fetchOrderTrades and its
    fetchMyTrades reads one page of user transactions (100 by default), while Bitstamp's
    Order status answers every transaction of the order."""
    fees_in_percent: bool = False
    """ccxt's fetchTradingFees passes the venue's rates through as they are, and the venue
    states them in percent, not as fractions (Bitstamp's Trading fees: ``"maker": "0.15000"``
    is 0.15 %, which ccxt's bitstamp reports as 0.15): the adapter divides by 100."""
    not_found_texts: tuple[str, ...] = ()
    """Words of the venue's refusal of an order id that say the id names no order, where
    ccxt raises it as a plain error (Bitstamp's Order status: "Invalid order id" for an id
    that is not a number), in lower case."""
    duplicate_texts: tuple[str, ...] = ("duplicate",)
    """Words of the venue's refusal of a client id already used (lower case): the adapter
    then answers with the order that has it (Binance's "Duplicate order sent.", Bitstamp's
    400.019 "Provided client_order_id already exists.")."""


BITGET_PAGES = OlderThan(param="idLessThan", page_size=100)
"""Bitget v2 spot Get Unfilled Orders and Get History Orders: ``limit`` "default 100 max
100", ``idLessThan`` the orderId of the last (oldest) record of the page before."""

TESTED: Mapping[str, ClientIdSemantics] = {
    "binance": ClientIdSemantics(
        param="clientOrderId",
        max_length=36,
        unique_while_open=True,
        lookup=Lookup(LookupKind.BY_ID, param="clientOrderId"),
        wire_names=frozenset({"timeInForce"}),
        probe_market_info={"orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"]},
        note=(
            "ccxt sends it as newClientOrderId (ccxt/async_support/binance.py create_order); "
            "Binance: 'A unique id among open orders', at most 36 characters of "
            "[.A-Z:/a-z0-9_-]; a closed order's id can be reused"
        ),
    ),
    "kraken": ClientIdSemantics(
        param="clientOrderId",
        max_length=18,
        unique_while_open=True,
        lookup=Lookup(LookupKind.FILTERED, param="clientOrderId"),
        note=(
            "ccxt sends it as cl_ord_id (kraken.py create_order); Kraken: a UUID or free text "
            "of at most 18 characters, unique among the client's open orders; ccxt's "
            "fetchClosedOrders sends clientOrderId as the cl_ord_id filter"
        ),
    ),
    "coinbase": ClientIdSemantics(
        param="client_order_id",
        max_length=128,
        unique_while_open=False,
        lookup=Lookup(LookupKind.PAGED, page_size=100, cursor="cursor"),
        note=(
            "ccxt's coinbase.create_order drops the unified clientOrderId and generates its "
            "own; the venue's client_order_id parameter overrides it. Coinbase answers a "
            "known id with the existing order (see exchange/coinbase/adapter.py)"
        ),
    ),
    "okx": ClientIdSemantics(
        param="clientOrderId",
        max_length=32,
        unique_while_open=True,
        lookup=Lookup(LookupKind.BY_ID, param="clientOrderId"),
        charset=r"^[A-Za-z0-9]+$",
        note=(
            "ccxt sends it as clOrdId (okx.py create_order_request reads clOrdId or "
            "clientOrderId); OKX v5 Place order: 'A combination of case-sensitive "
            "alphanumerics, all numbers, or all letters of up to 32 characters'. ccxt's "
            "fetchOrder sends clientOrderId as clOrdId to Get order details, which answers "
            "live, filled and canceled orders (a canceled order without fills for 2 hours)"
        ),
    ),
    "bybit": ClientIdSemantics(
        param="clientOrderId",
        max_length=36,
        unique_while_open=True,
        lookup=Lookup(LookupKind.FILTERED, param="orderLinkId"),
        open_orders_params={"paginate": True},
        charset=r"^[A-Za-z0-9_-]+$",
        wire_names=frozenset({"timeInForce"}),
        note=(
            "ccxt sends it as orderLinkId (bybit.py create_order_request); Bybit v5 Place "
            "Order: 'A max of 36 characters. Combinations of numbers, letters (upper and "
            "lower cases), dashes, and underscores are supported'; IOC and PostOnly are "
            "Bybit's own timeInForce values. A lookup asks Get Open & Closed Orders and Get "
            "Order History for the orderLinkId (ccxt passes it through), all statuses: ccxt's "
            "fetchClosedOrders alone would ask for Filled orders only"
        ),
    ),
    "coinbaseexchange": ClientIdSemantics(
        param="client_oid",
        max_length=36,
        unique_while_open=False,
        lookup=Lookup(LookupKind.BY_ID, param="client_oid"),
        form=IdForm.UUID,
        min_amount_info="base_min_size",
        charset=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        note=(
            "ccxt sends client_oid (or the unified clientOrderId) as client_oid "
            "(coinbaseexchange.py create_order); Coinbase Exchange, Create a new order: a "
            "UUID chosen by the client, derived here from our id so a restart derives the "
            "same one; Get single order finds it as /orders/client:<client_oid> (ccxt's "
            "fetch_order with client_oid), open, filled or cancelled, except a cancelled "
            "order without fills, which may answer 404: nothing of it sold, so placing "
            "again sells nothing twice"
        ),
    ),
    "bitstamp": ClientIdSemantics(
        param="clientOrderId",
        max_length=36,
        unique_while_open=False,
        lookup=Lookup(LookupKind.BY_ID, param="client_order_id"),
        charset=r"^[A-Za-z0-9_-]+$",
        flag_params={"postOnly": {"moc_order": True}, "IOC": {"ioc_order": True}},
        order_info={"symbol": "market", "remaining": "amount_remaining"},
        fills_in_order=True,
        fees_in_percent=True,
        not_found_texts=("invalid order id",),
        duplicate_texts=("duplicate", "client_order_id already exists"),
        note=(
            "ccxt sends it as client_order_id (bitstamp.py create_order) and passes every "
            "other parameter through verbatim, so post-only goes out as Bitstamp's moc_order "
            "and IOC as ioc_order (API v2, Sell limit order). Bitstamp refuses a used id "
            "(response code 400.019) and a malformed one (400.008) without saying what is "
            "well formed: ids are kept to 36 letters, digits, - and _. Order status finds an "
            "order by client_order_id, open, finished or cancelled, for 30 days after it "
            "closed, and answers 'Order not found.' otherwise (ccxt's fetchOrder with "
            "client_order_id); the answer carries the order's transactions, its fills"
        ),
    ),
    "gate": ClientIdSemantics(
        param="clientOrderId",
        max_length=28,
        unique_while_open=True,
        lookup=Lookup(LookupKind.PAGED, page_size=100, page="page", open_param="clientOrderId"),
        note=(
            "ccxt sends it as text with t- before it (gate.py create_order_request, which "
            "refuses more than 28 characters); Gate API v4, Spot > Create an order: 'text' "
            "starts with t-, at most 28 bytes without it, only 0-9, A-Z, a-z, _, - or .; "
            "Gate refuses no repeated text and finds an order by it only while it is "
            "pending (Spot > Get a single order), so a finished order is found in List "
            "orders (status=finished), read page by page to the first empty page. ccxt "
            "adds the t- only to an id that does not start with 't', which Gate would then "
            "refuse: such an id is derived instead (the charset's first character)"
        ),
        charset=r"^(?!t)[0-9A-Za-z_.-]+$",
        read_back_prefix="t-",
    ),
    "bitget": ClientIdSemantics(
        param="clientOrderId",
        max_length=36,
        unique_while_open=True,
        lookup=Lookup(
            LookupKind.PAGED,
            page_size=100,
            older_than=BITGET_PAGES,
            closed_method="fetch_canceled_and_closed_orders",
        ),
        open_orders_pages=BITGET_PAGES,
        fills_param="orderId",
        charset=r"^[A-Za-z0-9_-]+$",
        own_flags={"postOnly": ("force", "post_only"), "timeInForce": ("force", "IOC")},
        note=(
            "ccxt sends it as clientOid (bitget.py create_order_request reads clientOid or "
            "clientOrderId); Bitget v2 Spot > Place Order: clientOid is idempotent for 6 "
            "hours while the order is unfilled, and 'force' (gtc, post_only, fok, ioc) is the "
            "venue's own time in force, which ccxt sets from postOnly and timeInForce (and "
            "passes timeInForce through as well). Get Order Info finds a clientOid only while "
            "the order is unfilled, so a lookup reads Get Unfilled Orders and then Get History "
            "Orders (filled and cancelled, 90 days; ccxt's fetchCanceledAndClosedOrders, since "
            "its fetchClosedOrders keeps filled orders only), each 100 a page below the "
            "smallest order id of the page before (idLessThan), to the first empty page "
            "(https://www.bitget.com/api-doc/spot/trade/Get-Unfilled-Orders, "
            "https://www.bitget.com/api-doc/spot/trade/Get-History-Orders)"
        ),
    ),
}

UNTESTED = ClientIdSemantics(
    param="clientOrderId",
    max_length=32,
    unique_while_open=True,
    lookup=Lookup(LookupKind.ONE_PAGE, page_size=100),
    note="not verified for this venue: Live only with --ccxt-live-exchange",
)


KNOWN: Mapping[str, ClientIdSemantics] = {
    "upbit": ClientIdSemantics(
        param="clientOrderId",
        max_length=36,
        unique_while_open=False,
        lookup=Lookup(LookupKind.ONE_PAGE, page_size=100),
        note=(
            "not tested against a fake. ccxt sends it as identifier (upbit.py create_order) "
            "and reads it back from identifier (parse_order); its fetch_order asks for "
            "uuid=None beside an identifier, and fetchClosedOrders lists state=done only "
            "(cancelled orders, partly filled IOCs included, are another listing), so no "
            "lookup through ccxt is known to find every finished order"
        ),
        unknown_ticks=(
            "ccxt's upbit reports a 1e-8 placeholder tick and step and no minimum for every "
            "market (upbit.py parse_market), while Upbit's KRW ticks depend on the price and "
            "its minimum is an order value (orders/chance min_total)"
        ),
    ),
}
"""Facts of venues not tested here, from their documentation: enough for the gate to build
their orders right, never enough to trade Live without the platform's opt-in."""


def semantics(exchange_id: str) -> ClientIdSemantics:
    return TESTED.get(exchange_id) or KNOWN.get(exchange_id) or UNTESTED


@dataclass(frozen=True)
class Capabilities:
    """What the venue can do, as ccxt describes it."""

    client_order_id: bool
    fetch_open_orders: bool
    cancel_order: bool
    fetch_order: bool
    post_only: bool
    market_orders: bool
    ioc: bool


CRASH_SAFETY = ("client_order_id", "fetch_open_orders", "cancel_order")
"""Capabilities without which an interrupted purge cannot be found and stopped."""
MAKER_FIRST = ("post_only",)
"""Capabilities the maker-first TWAP needs on top of crash safety."""


def _flag(has: Mapping[str, Any], key: str) -> bool:
    """ccxt's ``has`` values are True, False, None or 'emulated'; emulated counts."""
    value = has.get(key)
    return value is True or value == "emulated"


def _spot_feature(client: Any, method: str) -> Mapping[str, Any]:
    features = getattr(client, "features", None) or {}
    spot = features.get("spot") or {}
    block = spot.get(method) or {}
    return block if isinstance(block, Mapping) else {}


def capabilities(client: Any) -> Capabilities:
    """Read the venue's capabilities from ccxt's ``has`` and spot ``features``."""
    has: Mapping[str, Any] = client.has
    time_in_force = _spot_feature(client, "createOrder").get("timeInForce") or {}
    post_only = bool(time_in_force.get("PO")) or _flag(has, "createPostOnlyOrder")
    ioc = bool(time_in_force.get("IOC"))
    return Capabilities(
        client_order_id=_flag(has, "createOrder")
        and (client.id in TESTED or _flag(has, "fetchOpenOrders")),
        # every open order of the account, in one listing: the stale-order rules and the
        # resume look at orders on markets the account may no longer hold
        fetch_open_orders=_flag(has, "fetchOpenOrders")
        and not _spot_feature(client, "fetchOpenOrders").get("symbolRequired"),
        cancel_order=_flag(has, "cancelOrder"),
        fetch_order=_flag(has, "fetchOrder"),
        post_only=post_only,
        market_orders=_flag(has, "createMarketOrder"),
        ioc=ioc,
    )


def missing(caps: Capabilities, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not getattr(caps, name)]


CAPABILITY_WORDS: Mapping[str, str] = {
    "client_order_id": "client order ids",
    "fetch_open_orders": "one listing of every open order, across markets",
    "cancel_order": "order cancelling",
    "post_only": "post-only orders",
}
"""What each capability is, for people: kucoin, mexc, bitvavo and bitso have a
fetchOpenOrders, but ccxt's ``features`` say it needs a market, which misses orders on
markets the account no longer holds; "lacks fetch_open_orders" read as a flat falsehood."""


def described(names: Sequence[str]) -> str:
    """The missing capabilities in words, each with its name (``post-only orders
    (post_only)``), for the ExchangeCapable condition and the venue table."""
    return ", ".join(f"{CAPABILITY_WORDS.get(n, n)} ({n})" for n in names)


def missing_for_live(caps: Capabilities) -> list[str]:
    """Capabilities crash safety needs that the venue lacks (Live is refused without them)."""
    return missing(caps, CRASH_SAFETY)


def missing_for_maker(caps: Capabilities) -> list[str]:
    """Capabilities the maker-first TWAP needs that the venue lacks (taker-only at best)."""
    return missing(caps, MAKER_FIRST)
