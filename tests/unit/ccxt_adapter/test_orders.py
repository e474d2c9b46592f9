"""Orders through ccxt: post-only and IOC parameters, client ids per venue, idempotent
placement, finding after a restart, cancelling, fills and fees, and DryRun's read-only proof."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cleanslate.core.market import OrderRequest, OrderStatus, OrderType, Side
from cleanslate.exchange.ccxt.errors import ReadOnlyRefused
from cleanslate.exchange.errors import InvalidOrderConfiguration, NotFound, PostOnlyWouldCross

from .venue import BINANCE_MARKETS, KRAKEN_MARKETS, NOW, Failure, Request, Venue, venue_for

CID = "cs-0123456789abcdef01234567-a1-s1-m1"  # as core.twap.client_order_id makes them
PRICE = Decimal("100000.01")
NOW_MS = int(NOW.timestamp() * 1000)


def sell(cid: str = CID, **changes: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "client_order_id": cid,
        "product_id": "BTC-USDT",
        "side": Side.SELL,
        "base_size": Decimal("0.001"),
        "order_type": OrderType.LIMIT,
        "limit_price": PRICE,
        "post_only": True,
    }
    fields.update(changes)
    return OrderRequest(**fields)


class Binance:
    """Binance spot order endpoints, just enough state for placement and look-ups.

    Order bodies follow ccxt ts/src/test/static/response/binance.json createOrder "spot
    +selfTradePrevention +iceberg" (symbol, orderId, clientOrderId, transactTime, price,
    origQty, executedQty, cummulativeQuoteQty, status, timeInForce, type, side, fills);
    trades follow the myTrades comment above ccxt's binance parse_trade."""

    def __init__(self, venue: Venue) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.trades: list[dict[str, Any]] = []
        venue.on("POST", "/api/v3/order", self.create)
        venue.on("GET", "/api/v3/order", self.query)
        venue.on("DELETE", "/api/v3/order", self.cancel)
        venue.on("GET", "/api/v3/openOrders", self.open)
        venue.on("GET", "/api/v3/myTrades", self.my_trades)

    def create(self, request: Request) -> Any:
        p = request.params
        cid = p["newClientOrderId"]
        if any(o["clientOrderId"] == cid and o["status"] == "NEW" for o in self.orders.values()):
            return Failure(400, {"code": -2010, "msg": "Duplicate order sent."})
        order_id = str(9780331417 + len(self.orders))
        self.orders[order_id] = {
            "symbol": p["symbol"],
            "orderId": order_id,
            "orderListId": "-1",
            "clientOrderId": cid,
            "transactTime": str(NOW_MS),
            "time": NOW_MS,
            "updateTime": NOW_MS,
            "price": p.get("price", "0.00000000"),
            "origQty": p["quantity"],
            "executedQty": "0.00000000",
            "cummulativeQuoteQty": "0.00000000",
            "status": "NEW",
            "timeInForce": p.get("timeInForce", "GTC"),
            "type": p["type"],
            "side": p["side"],
            "workingTime": str(NOW_MS),
            "fills": [],
        }
        return dict(self.orders[order_id])

    def find(self, params: dict[str, str]) -> dict[str, Any] | None:
        if "orderId" in params:
            return self.orders.get(params["orderId"])
        cid = params.get("origClientOrderId")
        matches = [o for o in self.orders.values() if o["clientOrderId"] == cid]
        return matches[-1] if matches else None

    def query(self, request: Request) -> Any:
        order = self.find(request.params)
        if order is None:
            return Failure(400, {"code": -2013, "msg": "Order does not exist."})
        return dict(order)

    def cancel(self, request: Request) -> Any:
        order = self.find(request.params)
        if order is None or order["status"] != "NEW":
            return Failure(400, {"code": -2011, "msg": "Unknown order sent."})
        order["status"] = "CANCELED"
        return dict(order)

    def open(self, request: Request) -> Any:
        return [dict(o) for o in self.orders.values() if o["status"] == "NEW"]

    def my_trades(self, request: Request) -> Any:
        return [t for t in self.trades if str(t["orderId"]) == request.params.get("orderId")]

    def fill(self, order_id: str, price: str, qty: str, fee: str, fee_asset: str) -> None:
        order = self.orders[order_id]
        order.update(status="FILLED", executedQty=qty)
        order["cummulativeQuoteQty"] = str(Decimal(price) * Decimal(qty))
        self.trades.append(
            {
                "symbol": "BTCUSDT",
                "id": 28457 + len(self.trades),
                "orderId": int(order_id),
                "price": price,
                "qty": qty,
                "commission": fee,
                "commissionAsset": fee_asset,
                "time": NOW_MS,
                "isBuyer": False,
                "isMaker": True,
                "isBestMatch": True,
            }
        )


def binance(*, read_only: bool = False) -> tuple[Venue, Binance, Any]:
    venue, exchange, _ = venue_for("binance", BINANCE_MARKETS, read_only=read_only)
    return venue, Binance(venue), exchange


async def test_post_only_sell_is_a_limit_maker_with_our_client_order_id() -> None:
    venue, _, exchange = binance()
    order = await exchange.place_order(sell())
    (created,) = venue.called("POST", "/api/v3/order")
    assert created.params["type"] == "LIMIT_MAKER"
    assert created.params["newClientOrderId"] == CID  # 35 characters fit Binance's 36
    assert (created.params["side"], created.params["quantity"]) == ("SELL", "0.001")
    assert created.params["price"] == "100000.01"
    assert order.client_order_id == CID and order.status is OrderStatus.OPEN
    assert order.post_only and order.limit_price == PRICE and order.created_at == NOW


async def test_taker_order_is_an_ioc_limit_at_the_slippage_cap() -> None:
    venue, _, exchange = binance()
    await exchange.place_order(sell(post_only=False, immediate_or_cancel=True))
    (created,) = venue.called("POST", "/api/v3/order")
    assert (created.params["type"], created.params["timeInForce"]) == ("LIMIT", "IOC")
    assert created.params["price"] == "100000.01"


async def test_placing_an_existing_client_order_id_returns_it_and_places_nothing() -> None:
    venue, book, exchange = binance()
    first = await exchange.place_order(sell())
    book.fill(first.order_id, "100000.01", "0.001", "0.1", "USDT")  # closed: Binance
    again = await exchange.place_order(sell())  # would accept the same id again
    assert again.order_id == first.order_id and again.status is OrderStatus.FILLED
    assert len(venue.called("POST", "/api/v3/order")) == 1


async def test_a_restarted_adapter_finds_a_filled_order_by_client_id_within_its_market() -> None:
    venue, book, exchange = binance()
    placed = await exchange.place_order(sell())
    book.fill(placed.order_id, "100000.01", "0.001", "0.1", "USDT")
    _, restarted, _ = venue_for("binance", BINANCE_MARKETS)
    restarted.client.fetch = venue.fetch  # same venue, fresh adapter (nothing remembered)
    found = await restarted.find_order(CID, product_id="BTC-USDT")
    assert found is not None and found.order_id == placed.order_id
    assert found.status is OrderStatus.FILLED and found.filled_size == Decimal("0.001")
    assert venue.requests[-2].params.get("origClientOrderId") == CID
    assert await restarted.find_order("cs-never-placed", product_id="BTC-USDT") is None


async def test_an_order_id_never_seen_is_not_found_without_asking() -> None:
    venue, _, exchange = binance()
    with pytest.raises(NotFound) as caught:
        await exchange.get_order("123")
    assert caught.value.detail.raw == {"order_id": "123"}
    assert venue.requests == []


async def test_cancel_reports_only_orders_it_cancelled() -> None:
    venue, book, exchange = binance()
    resting = await exchange.place_order(sell())
    filled = await exchange.place_order(sell("cs-0123456789abcdef01234567-a1-s2-m1"))
    book.fill(filled.order_id, "100000.01", "0.001", "0.1", "USDT")
    assert list(await exchange.cancel_orders([resting.order_id, filled.order_id])) == [
        resting.order_id
    ]
    assert len(venue.called("DELETE", "/api/v3/order")) == 1
    assert (await exchange.get_order(resting.order_id)).status is OrderStatus.CANCELLED
    assert list(await exchange.cancel_orders([resting.order_id])) == []


@pytest.mark.parametrize(
    ("fee", "asset", "in_quote"),
    [
        ("0.1", "USDT", Decimal("0.1")),  # quote: as is
        ("0.000001", "BTC", Decimal("0.000001") * Decimal("100000.01")),  # base: at the price
        ("0.0002", "BNB", Decimal("0.0002") * Decimal("600")),  # third: at BNB/USDT's bid
    ],
)
async def test_fill_fees_are_converted_to_the_quote_currency(
    fee: str, asset: str, in_quote: Decimal
) -> None:
    venue, book, exchange = binance()
    bnb = dict(BINANCE_MARKETS["BTC/USDT"], id="BNBUSDT", symbol="BNB/USDT", base="BNB")
    bnb["baseId"] = "BNB"
    exchange.client.set_markets({**BINANCE_MARKETS, "BNB/USDT": bnb})
    venue.on("GET", "/api/v3/ticker/24hr", {"symbol": "BNBUSDT", "bidPrice": "600.00"})
    placed = await exchange.place_order(sell())
    book.fill(placed.order_id, "100000.01", "0.001", fee, asset)
    (fill,) = await exchange.fills(placed.order_id)
    assert fill.fee == in_quote and fill.liquidity == "maker"
    assert (fill.size, fill.price) == (Decimal("0.001"), Decimal("100000.01"))
    order = await exchange.get_order(placed.order_id)
    assert order.fees == in_quote  # Binance's order has no commission: taken from its fills


async def test_a_fee_in_a_currency_without_a_price_counts_zero() -> None:
    _, book, exchange = binance()
    placed = await exchange.place_order(sell())
    book.fill(placed.order_id, "100000.01", "0.001", "5", "XYZ")
    (fill,) = await exchange.fills(placed.order_id)
    assert fill.fee == 0


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"base_size": Decimal("0.0010001")}, "SIZE_INCREMENT"),  # ccxt would truncate it
        ({"base_size": Decimal("0.00001"), "limit_price": Decimal("100000")}, "BELOW_MIN_NOTIONAL"),
        ({"limit_price": Decimal("100000.005")}, "PRICE_TICK"),
    ],
)
async def test_orders_off_the_market_rules_are_refused_before_sending(
    changes: dict[str, Any], reason: str
) -> None:
    venue, _, exchange = binance()
    with pytest.raises(InvalidOrderConfiguration) as caught:
        await exchange.place_order(sell(**changes))
    assert caught.value.detail.preview_failure_reason == reason
    assert venue.requests == []


async def test_read_only_adapter_reaches_no_order_endpoint() -> None:
    """DryRun: the adapter refuses create and cancel before ccxt is called, so no POST or
    DELETE (Binance's order endpoints) reaches the venue; reads still work."""
    venue, _, exchange = binance(read_only=True)
    assert exchange.read_only
    with pytest.raises(ReadOnlyRefused):
        await exchange.place_order(sell())
    with pytest.raises(ReadOnlyRefused):
        await exchange.cancel_orders(["9780331417"])
    assert await exchange.open_orders() == []
    assert {r.method for r in venue.requests} == {"GET"}
    assert not [r for r in venue.requests if r.path.endswith("/api/v3/order")]


# --- Kraken: ids of at most 18 characters -----------------------------------------------------


# Kraken POST /0/private/AddOrder and QueryOrders, as ccxt ts/src/test/static/response/
# kraken.json createOrder and fetchOrder "fetch spot limit order" (txid, descr.order, opentm,
# vol, vol_exec, oflags "post,fciq"), with the cl_ord_id Kraken echoes (kraken.py parse_order).
def kraken_order(cl_ord_id: str, status: str = "open") -> dict[str, Any]:
    return {
        "refid": None,
        "userref": None,
        "cl_ord_id": cl_ord_id,
        "status": status,
        "opentm": f"{NOW.timestamp():.6f}",
        "starttm": "0",
        "expiretm": "0",
        "descr": {
            "pair": "XBTUSD",
            "type": "sell",
            "ordertype": "limit",
            "price": "100000.1",
            "price2": "0",
            "leverage": "none",
            "order": "sell 0.00100000 XBTUSD @ limit 100000.1",
            "close": "",
        },
        "vol": "0.00100000",
        "vol_exec": "0.00000000",
        "cost": "0.000000",
        "fee": "0.000000",
        "price": "0.000000",
        "stopprice": "0.000000",
        "limitprice": "0.000000",
        "misc": "",
        "oflags": "post,fciq",
        "reason": None,
    }


async def test_kraken_gets_a_short_deterministic_id_and_orders_read_back_with_ours() -> None:
    venue, exchange, _ = venue_for("kraken", KRAKEN_MARKETS)
    sent: dict[str, str] = {}

    def add(request: Request) -> Any:
        sent.update(request.params)
        descr = {"order": "sell 0.00100000 XBTUSD @ limit 100000.1"}
        return {"error": [], "result": {"txid": ["OL7LNO-R4SAD-6UINEU"], "descr": descr}}

    def query(request: Request) -> Any:
        order = kraken_order(sent["cl_ord_id"])
        return {"error": [], "result": {"OL7LNO-R4SAD-6UINEU": order}}

    venue.on("POST", "/0/private/OpenOrders", {"error": [], "result": {"open": {}}})
    venue.on("POST", "/0/private/ClosedOrders", {"error": [], "result": {"closed": {}}})
    venue.on("POST", "/0/private/AddOrder", add).on("POST", "/0/private/QueryOrders", query)
    request = sell(product_id="BTC-USD", limit_price=Decimal("100000.1"))
    order = await exchange.place_order(request)
    assert len(sent["cl_ord_id"]) == 18 and sent["cl_ord_id"].startswith("cs-")
    assert sent["cl_ord_id"] == exchange.venue_client_id(CID)  # the same after a restart
    assert sent["oflags"] == "post"
    assert order.order_id == "OL7LNO-R4SAD-6UINEU" and order.client_order_id == CID
    assert order.post_only and order.product_id == "BTC-USD"


async def test_kraken_read_only_sends_no_add_or_cancel() -> None:
    venue, exchange, _ = venue_for("kraken", KRAKEN_MARKETS, read_only=True)
    venue.on("POST", "/0/private/OpenOrders", {"error": [], "result": {"open": {}}})
    with pytest.raises(ReadOnlyRefused):
        await exchange.place_order(sell(product_id="BTC-USD", limit_price=Decimal("100000.1")))
    with pytest.raises(ReadOnlyRefused):
        await exchange.cancel_orders(["OL7LNO-R4SAD-6UINEU"])
    assert await exchange.open_orders() == []
    # Kraken's private reads are POSTs too: what matters is that none is an order endpoint
    assert [r.path for r in venue.requests] == ["/0/private/OpenOrders"]


# Kraken POST /0/private/BalanceEx, as in the comment above ccxt's kraken fetch_balance
# (balance and hold_trade per asset).
async def test_balances_split_available_and_held_and_a_bare_total_is_available() -> None:
    venue, exchange, _ = venue_for("kraken", KRAKEN_MARKETS)
    result = {
        "ZUSD": {"balance": "25435.21", "hold_trade": "8249.76"},
        "XXBT": {"balance": "1.2435", "hold_trade": "0.8423"},
        "SEI": {"balance": "36.4"},  # no hold_trade: nothing known to be on hold
        "DOGE": {"balance": "0", "hold_trade": "0"},
    }
    venue.on("POST", "/0/private/BalanceEx", {"error": [], "result": result})
    balances = {b.asset: b for b in await exchange.balances()}
    assert set(balances) == {"USD", "BTC", "SEI"}
    assert (balances["USD"].available, balances["USD"].hold) == (
        Decimal("17185.45"),
        Decimal("8249.76"),
    )
    assert balances["BTC"].total == Decimal("1.2435")
    assert (balances["SEI"].available, balances["SEI"].hold) == (Decimal("36.4"), 0)


async def test_a_post_only_order_kraken_accepts_and_cancels_at_once_is_a_crossing() -> None:
    """Kraken may take a post-only order that would trade and cancel it at once, with
    ``"reason": "Post only order"`` on the closed order: the TWAP must see a crossing."""
    venue, exchange, _ = venue_for("kraken", KRAKEN_MARKETS)
    sent: dict[str, str] = {}

    def add(request: Request) -> Any:
        sent.update(request.params)
        descr = {"order": "sell 0.00100000 XBTUSD @ limit 100000.1"}
        return {"error": [], "result": {"txid": ["OXCROSS-AAAAA-BBBBBB"], "descr": descr}}

    def query(request: Request) -> Any:
        order = dict(kraken_order(sent["cl_ord_id"], status="canceled"), reason="Post only order")
        return {"error": [], "result": {"OXCROSS-AAAAA-BBBBBB": order}}

    venue.on("POST", "/0/private/OpenOrders", {"error": [], "result": {"open": {}}})
    venue.on("POST", "/0/private/ClosedOrders", {"error": [], "result": {"closed": {}}})
    venue.on("POST", "/0/private/AddOrder", add).on("POST", "/0/private/QueryOrders", query)
    with pytest.raises(PostOnlyWouldCross) as caught:
        await exchange.place_order(sell(product_id="BTC-USD", limit_price=Decimal("100000.1")))
    assert caught.value.detail.preview_failure_reason == "Post only order"


async def test_a_duplicate_refusal_is_answered_with_the_existing_order() -> None:
    """Two placements of one id racing (the look-up before each saw nothing): Binance refuses
    the second as a duplicate, and the adapter answers with the first order."""
    venue, book, exchange = binance()
    first = await exchange.place_order(sell())
    _, racer, _ = venue_for("binance", BINANCE_MARKETS)
    racer.client.fetch = venue.fetch
    lookups = iter([Failure(400, {"code": -2013, "msg": "Order does not exist."})])
    venue.on("GET", "/api/v3/order", lambda r: next(lookups, None) or book.query(r))
    again = await racer.place_order(sell())
    assert again.order_id == first.order_id
    assert len(venue.called("POST", "/api/v3/order")) == 2  # the second was refused


class _FeeInBnbClient:
    """A venue whose order answers carry their fee, in a third currency (BNB): ccxt's
    unified order for a venue that reports commissions on its orders."""

    id = "somevenue"
    has: dict[str, Any] = {"fetchOrderTrades": True}
    features: dict[str, Any] = {}
    urls: dict[str, Any] = {"api": {}}

    async def fetch_order(self, order_id: str, symbol: str | None = None) -> dict[str, Any]:
        return {
            "id": order_id,
            "symbol": "BTC/USDT",
            "side": "sell",
            "type": "limit",
            "price": 100000.0,
            "amount": 0.001,
            "filled": 0.001,
            "average": 100000.0,
            "status": "closed",
            "timestamp": 1737635557000,
            "fee": {"cost": 0.0002, "currency": "BNB"},
        }

    async def fetch_order_trades(self, order_id: str, symbol: str | None = None) -> list[Any]:
        trade = {"order": order_id, "symbol": "BTC/USDT", "side": "sell", "price": 100000.0}
        return [{**trade, "amount": 0.001, "fee": {"cost": 0.0002, "currency": "BNB"}}]

    async def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        assert symbol == "BNB/USDT"
        return {"symbol": symbol, "bid": 600.0}


async def test_an_order_fee_in_a_third_currency_is_converted_not_dropped() -> None:
    """The order's own fee in BNB counts as much as its fills' (0.0002 BNB at 600 USDT),
    never 0: fees_paid is what the report gives the purge's cost as."""
    from cleanslate.clock import SimulatedClock
    from cleanslate.exchange.ccxt import CcxtExchange

    exchange = CcxtExchange(
        _FeeInBnbClient(), SimulatedClock(NOW), exchange_id="somevenue", read_only=True
    )
    exchange._symbols["1"] = "BTC/USDT"
    order = await exchange.get_order("1")
    assert order.fees == Decimal("0.12")
