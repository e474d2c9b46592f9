"""The paper exchange: an honest simulated venue behind the ``Exchange`` port.

The market (books, prices, trade flow) is a pure function of seed and time (``books``); this
class keeps only the account: balances, orders and fills, saved after every change when a state
directory is given. Simulated time advances lazily: each call first lets the trade flow from
the last processed instant up to ``clock.now()`` act on the open orders, so a simulated clock
that jumps 25 s produces the maker fills those 25 s would have brought. How honestly resting
orders fill is the configured market model's (``models.py``); what the account's own orders
do to its view of the market (impact, refill, drift) is ``impact.py``'s.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from cleanslate.api.account import FaultOperation, PaperMarketModel
from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import Clock
from cleanslate.core.market import (
    Balance,
    Book,
    BookLevel,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Product,
    ProductStatus,
    Quote,
    Side,
)
from cleanslate.exchange.errors import ErrorDetail, NotFound, OrderRejected
from cleanslate.exchange.paper import books, dust, fees, impact, matching, persistence, rules
from cleanslate.exchange.paper.faults import FaultInjector
from cleanslate.exchange.paper.markets import ProductSpec, Trend, market, with_model
from cleanslate.exchange.paper.models import model
from cleanslate.exchange.paper.persistence import ZERO, AccountState, OrderRecord
from cleanslate.exchange.port import PREVIEW_OK, DustConversion, DustTerms

_BPS = Decimal("10000")
Levels = tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]


class PaperExchange:
    """A simulated exchange account configured by ``TradingAccount.spec.exchange.paper``."""

    def __init__(
        self,
        config: PaperConfig,
        clock: Clock,
        rng: random.Random | None = None,
        *,
        state_dir: Path | None = None,
        account: str = "default",
        trend: Trend | None = None,
    ) -> None:
        self._config = config
        self._model = model(config.model)
        self._specs, self._products = _priced(config.market, config.model, trend)
        self._maker_bps, self._taker_bps = fees.rates(config.fees)
        self._seed = config.seed
        self._clock = clock
        self._rng = rng or random.Random(books.stable_seed(config.seed, account, "account"))
        self._faults = FaultInjector(config.faults, self._rng, clock)
        self._path = persistence.state_file(state_dir, account) if state_dir else None
        loaded = persistence.load(self._path, self._rng) if self._path else None
        self._state = loaded or self._initial_state()
        self._by_client = {o.client_order_id: o for o in self._state.orders.values()}
        self._own = impact.OwnTrading.replay(self._model, self._state.orders.values())
        self._taken: dict[tuple[str, Side], tuple[int, dict[Decimal, Decimal]]] = {}
        self._dust_at: datetime | None = None
        """The last dust conversion (in memory: a restart forgets it, the operator's
        status does not)."""
        if loaded is None:
            self._save()

    @property
    def name(self) -> str:
        return "paper"

    @property
    def read_only(self) -> bool:
        return False

    @property
    def state_path(self) -> Path | None:
        """Where the account is saved (None: in memory only)."""
        return self._path

    # --- market data ---------------------------------------------------------------------

    async def balances(self) -> Sequence[Balance]:
        await self._faults.before(FaultOperation.BALANCES)
        self._advance()
        holds = self._holds()
        assets = sorted(set(self._state.balances) | set(holds))
        result = []
        for asset in assets:
            total, hold = self._state.balances.get(asset, ZERO), holds.get(asset, ZERO)
            if total or hold:
                result.append(Balance(asset, total - hold, hold))
        return result

    async def fee_rates(self) -> tuple[Decimal, Decimal] | None:
        """The configured schedule (``paper.fees``): what this paper account is charged."""
        return self._maker_bps, self._taker_bps

    async def server_time(self) -> datetime:
        """The simulator's own clock: the time its orders are stamped with."""
        return self._clock.now()

    async def products(self) -> Sequence[Product]:
        await self._faults.before(FaultOperation.PRODUCTS)
        return list(self._products)

    async def product(self, product_id: str) -> Product:
        await self._faults.before(FaultOperation.PRODUCTS, product_id)
        return self._spec(product_id).to_product()

    async def quote(self, product_id: str) -> Quote:
        await self._faults.before(FaultOperation.QUOTE, product_id)
        spec = self._priced(product_id)
        now = self._clock.now()
        bucket = books.bucket_of(now)
        top = self._top(spec, bucket)
        return Quote(
            product_id=product_id,
            bid=top.bid,
            ask=top.ask,
            quote_volume_24h=books.quote_volume(spec, self._seed, now),
            bid_depth_quote=books.bid_depth(self._levels(spec, bucket)[0], (top.bid + top.ask) / 2),
            at=now,
        )

    async def book(self, product_id: str, depth: int = 10) -> Book:
        await self._faults.before(FaultOperation.QUOTE, product_id)
        spec = self._priced(product_id)
        self._advance()
        now = self._clock.now()
        bids, asks = self._displayed(spec, *self._levels(spec, books.bucket_of(now)))
        return Book(product_id, bids[:depth], asks[:depth], now)

    def _displayed(
        self, spec: ProductSpec, bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...]
    ) -> Levels:
        """The book with this account's resting orders in it, as a venue's book shows them:
        at an order's price, the order and what the model still has ahead of it there
        (``impact.queue_ahead`` less the flow that traded it: the improvers in front of an
        order that improves the touch, the level it joined otherwise). A real book shows
        undercutters and a level shrinking as it trades; an executor that reads the queue
        ahead of its order reads it here. The generated size at that price is replaced, not
        added: the model's queue is what that order meets. The quote stays the market's
        touch, what the TWAP prices from."""
        mine: dict[tuple[Side, Decimal], Decimal] = {}
        for o in self._state.orders.values():
            if o.status is not OrderStatus.OPEN or o.product_id != spec.product_id:
                continue
            if o.limit_price is None:
                continue
            ahead = max(ZERO, o.queue_ahead - o.traded_through)
            key = (o.side, o.limit_price)
            mine[key] = mine.get(key, ZERO) + o.remaining + ahead
        if not mine:
            return bids, asks
        return _merged(bids, mine, Side.BUY), _merged(asks, mine, Side.SELL)

    # --- orders --------------------------------------------------------------------------

    async def place_order(self, request: OrderRequest) -> Order:
        decision = await self._faults.before(FaultOperation.PLACE, request.product_id)
        self._advance()
        record = self._by_client.get(request.client_order_id)
        if record is None:
            try:
                record = self._execute(request)
            finally:
                self._save()
        await self._faults.after(decision, FaultOperation.PLACE)
        return record.to_order()

    async def preview_order(self, request: OrderRequest) -> str:
        """The checks a placement runs (shape, book, funds), placing and changing nothing:
        ``ok`` or the preview failure reason a refusal would carry. The BONK quirk is a
        placement flake, not a rule, so a preview does not see it."""
        spec = self._specs.get(request.product_id)
        try:
            if spec is None:
                raise rules.unknown_product(request.product_id, request)
            bucket = books.bucket_of(self._clock.now())
            rules.check_shape(request, spec, self._clock.now())
            rules.check_against_book(request, spec, self._top(spec, bucket))
            self._check_funds(request, spec, bucket)
        except OrderRejected as exc:
            return exc.detail.preview_failure_reason or exc.reason_code
        return PREVIEW_OK

    async def get_order(self, order_id: str) -> Order:
        await self._faults.before(FaultOperation.GET_ORDER)
        self._advance()
        return self._record(order_id).to_order()

    async def find_order(self, client_order_id: str, product_id: str | None = None) -> Order | None:
        await self._faults.before(FaultOperation.GET_ORDER)
        self._advance()
        record = self._by_client.get(client_order_id)
        return record.to_order() if record else None

    async def cancel_orders(self, order_ids: Sequence[str]) -> Sequence[str]:
        await self._faults.before(FaultOperation.CANCEL)
        self._advance()
        cancelled = []
        for order_id in order_ids:
            record = self._state.orders.get(order_id)
            if record is not None and record.status is OrderStatus.OPEN:
                record.status = OrderStatus.CANCELLED
                record.cancelled_at = self._clock.now()
                cancelled.append(order_id)
        if cancelled:
            self._save()
        return cancelled

    async def open_orders(self, product_id: str | None = None) -> Sequence[Order]:
        await self._faults.before(FaultOperation.OPEN_ORDERS, product_id)
        self._advance()
        found = [
            o.to_order()
            for o in self._state.orders.values()
            if o.status is OrderStatus.OPEN and product_id in (None, o.product_id)
        ]
        return sorted(found, key=lambda o: o.created_at)

    async def fills(self, order_id: str) -> Sequence[Fill]:
        await self._faults.before(FaultOperation.FILLS)
        self._advance()
        return tuple(self._record(order_id).fills)

    async def aclose(self) -> None:
        self._save()

    # --- dust conversion -------------------------------------------------------------------

    def dust_terms(self) -> DustTerms | None:
        """``paper.dustTarget`` and Binance's 6 hours; None when no target is configured."""
        target = self._config.dust_target
        return DustTerms(target, dust.COOLDOWN) if target else None

    async def convert_dust(self, assets: Sequence[str]) -> DustConversion:
        """Binance's Dust Transfer on the paper account (``exchange.paper.dust``)."""
        target, now = self._config.dust_target, self._clock.now()
        if target is None:
            raise OrderRejected("this paper account has no dust conversion (paper.dustTarget)")
        if self._dust_at is not None and now < self._dust_at + dust.COOLDOWN:
            raise OrderRejected("only one dust conversion per 6 hours")
        self._advance()
        holds, balances = self._holds(), self._state.balances
        free = {a: balances.get(a, ZERO) - holds.get(a, ZERO) for a in assets}
        bucket = books.bucket_of(now)

        def mid(spec: ProductSpec) -> Decimal:
            top = self._top(spec, bucket)
            return (top.bid + top.ask) / 2

        done = dust.convert(assets, target, free, self._specs, mid)
        if not done:
            raise OrderRejected("no asset could be converted")
        received, fee = dust.charged(sum((c.worth for c in done), ZERO))
        for c in done:
            left = balances[c.asset] - c.amount
            if left:
                balances[c.asset] = left
            else:
                del balances[c.asset]
        balances[target] = balances.get(target, ZERO) + received
        self._dust_at = now
        self._save()
        return DustConversion(target, tuple(c.asset for c in done), received, fee)

    # --- simulation ----------------------------------------------------------------------

    def _advance(self) -> None:
        """Run the trade flow from the last processed instant up to now on open orders."""
        now = self._clock.now()
        state = self._state
        if now <= state.processed_until:
            return
        changed = False
        for order in list(state.orders.values()):
            if order.status is OrderStatus.OPEN:
                before = (order.filled_size, order.status)
                spec = self._specs[order.product_id]
                shift = self._own.shifter(spec)
                matching.run_resting(state, order, spec, self._seed, now, self._maker_bps, shift)
                changed = changed or before != (order.filled_size, order.status)
        state.processed_until = now
        if changed:
            self._save()

    def _execute(self, request: OrderRequest) -> OrderRecord:
        """Check the order like a venue would, then match it or let it rest."""
        spec = self._specs.get(request.product_id)
        if spec is None:
            raise rules.unknown_product(request.product_id, request)
        now = self._clock.now()
        rules.check_shape(request, spec, now)
        bucket = books.bucket_of(now)
        rules.check_against_book(request, spec, self._top(spec, bucket))
        self._check_quirk(request, spec)
        self._check_funds(request, spec, bucket)
        record = OrderRecord(
            order_id=self._new_id(),
            client_order_id=request.client_order_id,
            product_id=request.product_id,
            side=request.side,
            order_type=request.order_type,
            base_size=request.base_size,
            limit_price=request.limit_price,
            post_only=request.post_only,
            created_at=now,
            expires_at=request.expires_at,
        )
        self._state.orders[record.order_id] = record
        self._by_client[record.client_order_id] = record
        self._own.first_order(spec.product_id, request.side, now)
        self._match(record, request, spec, bucket)
        return record

    def _match(
        self, record: OrderRecord, request: OrderRequest, spec: ProductSpec, bucket: int
    ) -> None:
        bids, asks = self._levels(spec, bucket)
        if request.post_only:
            same_side = asks if request.side is Side.SELL else bids
            assert request.limit_price is not None
            record.queue_ahead = impact.queue_ahead(
                self._model, same_side, request.limit_price, request.side
            )
            return
        opposite = bids if request.side is Side.SELL else asks
        for price_size in matching.walk(
            opposite, request.base_size, request.limit_price, request.side
        ):
            matching.apply_fill(
                self._state, record, spec, price_size, "taker", self._taker_bps, record.created_at
            )
            self._take(spec.product_id, request.side, bucket, price_size)
            self._own.took(spec.product_id, request.side, price_size[1], record.created_at)
        immediate = request.order_type is OrderType.MARKET or request.immediate_or_cancel
        if record.status is OrderStatus.OPEN and immediate:
            record.status = OrderStatus.CANCELLED

    def _check_quirk(self, request: OrderRequest, spec: ProductSpec) -> None:
        """The BONK behaviour: see ``markets.AlternatingReject``."""
        quirk = spec.quirk
        if quirk is None:
            return
        count = self._state.placements.get(spec.product_id, 0)
        self._state.placements[spec.product_id] = count + 1
        if not request.post_only or count % 2 == 1:
            raise rules.reject(quirk.error, quirk.message, quirk.preview_failure_reason, request)

    def _check_funds(self, request: OrderRequest, spec: ProductSpec, bucket: int) -> None:
        holds = self._holds()
        if request.side is Side.SELL:
            asset, needed = spec.base, request.base_size
        else:
            asset, needed = spec.quote, self._buy_cost(request, spec, bucket)
        available = self._state.balances.get(asset, ZERO) - holds.get(asset, ZERO)
        rules.check_funds(request, asset, needed, available)

    def _buy_cost(self, request: OrderRequest, spec: ProductSpec, bucket: int) -> Decimal:
        fee_rate = 1 + max(self._maker_bps, self._taker_bps) / _BPS
        if request.limit_price is not None:
            return request.base_size * request.limit_price * fee_rate
        asks = self._levels(spec, bucket)[1]
        taken = matching.walk(asks, request.base_size, None, Side.BUY)
        return sum((p * s for p, s in taken), ZERO) * fee_rate

    def _holds(self) -> dict[str, Decimal]:
        """What open orders lock: base for sells, quote plus maker fee for buys."""
        holds: dict[str, Decimal] = {}
        fee_rate = 1 + self._maker_bps / _BPS
        for o in self._state.orders.values():
            if o.status is not OrderStatus.OPEN:
                continue
            spec = self._specs[o.product_id]
            if o.side is Side.SELL:
                asset, amount = spec.base, o.remaining
            else:
                asset, amount = spec.quote, o.remaining * (o.limit_price or ZERO) * fee_rate
            holds[asset] = holds.get(asset, ZERO) + amount
        return holds

    # --- the book this account sees ----------------------------------------------------

    def _levels(self, spec: ProductSpec, bucket: int) -> Levels:
        """The generated book minus what this account's takers consumed in this bucket (or,
        under a realistic model, moved by their impact and still refilling)."""
        bids, asks = books.levels(spec, self._seed, bucket)
        if self._model.realistic:
            return self._own.view(spec, bids, asks, self._clock.now())
        return (
            self._deplete(spec.product_id, Side.SELL, bucket, bids),
            self._deplete(spec.product_id, Side.BUY, bucket, asks),
        )

    def _top(self, spec: ProductSpec, bucket: int) -> books.Touch:
        """Best bid and ask as this account sees them (after its own takers)."""
        bids, asks = self._levels(spec, bucket)
        top = books.touch(spec, self._seed, bucket)
        bid = bids[0].price if bids else top.bid
        ask = asks[0].price if asks else top.ask
        return books.Touch(bid, ask, top.step)

    def _deplete(
        self, product_id: str, taker: Side, bucket: int, side: tuple[BookLevel, ...]
    ) -> tuple[BookLevel, ...]:
        seen = self._taken.get((product_id, taker))
        if seen is None or seen[0] != bucket:
            return side
        taken = seen[1]
        left = (BookLevel(lv.price, lv.size - taken.get(lv.price, ZERO)) for lv in side)
        return tuple(lv for lv in left if lv.size > 0)

    def _take(
        self, product_id: str, taker: Side, bucket: int, price_size: tuple[Decimal, Decimal]
    ) -> None:
        seen = self._taken.get((product_id, taker))
        if seen is None or seen[0] != bucket:
            seen = (bucket, {})
            self._taken[(product_id, taker)] = seen
        price, size = price_size
        seen[1][price] = seen[1].get(price, ZERO) + size

    # --- helpers -------------------------------------------------------------------------

    def _spec(self, product_id: str) -> ProductSpec:
        spec = self._specs.get(product_id)
        if spec is None:
            raise rules.unknown_product(product_id)
        return spec

    def _priced(self, product_id: str) -> ProductSpec:
        """A product that has a price: a delisted one has none, as AUT-USD in the documents."""
        spec = self._spec(product_id)
        if spec.status is ProductStatus.DELISTED:
            raw = {"product_id": product_id, "pricebooks": [], "status": "delisted"}
            raise NotFound(detail=ErrorDetail("NOT_FOUND", "Price not available", raw=raw))
        return spec

    def _record(self, order_id: str) -> OrderRecord:
        record = self._state.orders.get(order_id)
        if record is None:
            raw = {"error": "NOT_FOUND", "order_id": order_id}
            raise NotFound(detail=ErrorDetail("NOT_FOUND", f"order {order_id} not found", raw=raw))
        return record

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _save(self) -> None:
        if self._path is not None:
            persistence.save(self._path, self._state, self._rng)

    def _initial_state(self) -> AccountState:
        """Holdings and seeded stale orders from the config (only when nothing was saved)."""
        now = self._clock.now()
        balances = {asset: Decimal(q) for asset, q in self._config.holdings.items()}
        self._state = AccountState(balances=balances, processed_until=now)
        for i, seed in enumerate(self._config.open_orders):
            if seed.product_id not in self._specs:
                raise ValueError(f"openOrders[{i}]: unknown product {seed.product_id}")
            order = OrderRecord(
                order_id=self._new_id(),
                client_order_id=f"{impact.SEEDED_PREFIX}{i}",
                product_id=seed.product_id,
                side=Side(seed.side.value),
                order_type=OrderType.LIMIT,
                base_size=seed.size,
                limit_price=seed.limit_price,
                post_only=True,
                created_at=now - timedelta(minutes=float(seed.age_minutes)),
            )
            self._state.orders[order.order_id] = order
        self._check_seeded_holds()
        return self._state

    def _check_seeded_holds(self) -> None:
        for asset, hold in self._holds().items():
            if hold > self._state.balances.get(asset, ZERO):
                raise ValueError(
                    f"paper openOrders lock {hold} {asset} but holdings have "
                    f"{self._state.balances.get(asset, ZERO)}: add it to holdings"
                )


@functools.cache
def _priced(
    market_name: str, model_name: PaperMarketModel, trend: Trend | None = None
) -> tuple[Mapping[str, ProductSpec], tuple[Product, ...]]:
    """A market's products as a market model trades them, and the metadata they report:
    built once per pair and shared by every paper account (all frozen). Built per account,
    they were a tenth of an idle account's memory."""
    chosen = model(model_name)
    specs = MappingProxyType(
        {pid: with_model(spec, chosen, trend) for pid, spec in market(market_name).products.items()}
    )
    return specs, tuple(s.to_product() for s in specs.values())


def _merged(
    levels: tuple[BookLevel, ...], mine: dict[tuple[Side, Decimal], Decimal], side: Side
) -> tuple[BookLevel, ...]:
    """``levels`` with the sizes ``mine`` shows for ``side`` at its prices, best first."""
    sizes = {lv.price: lv.size for lv in levels}
    for (s, price), size in mine.items():
        if s is side:
            sizes[price] = size
    ordered = sorted(sizes, reverse=side is Side.BUY)
    return tuple(BookLevel(price, sizes[price]) for price in ordered)
