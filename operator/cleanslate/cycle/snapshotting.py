"""Phase 0: read the account from the exchange into a ``Snapshot``.

Balances are fetched with retry; when every attempt fails the last-known balance stands in
(reported with its age) and the cycle stops before trading. Prices are fetched per holding;
a failure counts toward the symbol's freeze, and a frozen symbol is not asked again until
its cooldown ends, which is what keeps a delisted coin from costing a request every cycle.

Which failures count: a temporary error (429, 5xx, timeout) says nothing about the product,
so it is not a price failure at all: the holding is unpriced this cycle and held, and its
freeze count is untouched (a burst of 429s must not freeze SOL for a day). Any other failure
counts. The price is *lost* (the holding may become a zombie) only when the exchange's
product list says the product is gone (unknown or delisted) or the symbol is frozen: one
"not found" on a quote of a product the list still shows trading is one failure, counted
like any other, so a single bad answer can never market-close a tracked position. The list
may be shared with other accounts on the market (``exchange.marketdata``); a held product it
lacks is asked of the account's own adapter before it counts as unknown, since only the
account's own venue can say a product is gone for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from cleanslate.api.account import BalanceStatus, FrozenSymbol
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.core import balances as balance_rules
from cleanslate.core import freezing
from cleanslate.core.holdings import PAR_VALUED, Holding, Snapshot, product_id_of
from cleanslate.core.market import Balance, Product, ProductStatus
from cleanslate.events import Event, EventSink, Reason
from cleanslate.exchange.errors import ExchangeError, TemporaryError
from cleanslate.exchange.marketdata import MarketData
from cleanslate.exchange.port import Exchange
from cleanslate.execution import fetch_balances


class BalancesUnavailable(Exception):
    """Every balance fetch attempt failed; the cycle cannot plan."""


@dataclass
class Gathered:
    snapshot: Snapshot
    frozen: dict[str, FrozenSymbol]
    price_failures: dict[str, str] = field(default_factory=dict)
    """Failures that counted toward a freeze, by product id."""
    unpriced: dict[str, str] = field(default_factory=dict)
    """Temporary errors: no price this cycle, nothing counted, by product id."""


async def read_balances(
    exchange: Exchange, clock: Clock, policy: PurgePolicySpec, status: BalanceStatus
) -> tuple[Sequence[Balance] | None, BalanceStatus, str | None]:
    """Balances, or None with the fallback status and the error when the exchange is down."""
    try:
        return await fetch_balances(exchange, clock, policy.balance_fetch), status, None
    except ExchangeError as exc:
        fallback = balance_rules.fallback(status, clock.now(), policy.balance_fetch)
        return None, fallback, f"{type(exc).__name__}: {exc}"


async def gather(
    exchange: Exchange,
    clock: Clock,
    policy: PurgePolicySpec,
    balances: Sequence[Balance],
    frozen: Mapping[str, FrozenSymbol],
    market: MarketData,
    events: EventSink,
) -> Gathered:
    """Value every balance and list the open orders. Products and quotes come through
    ``market`` (shared with the other accounts on this market, within its freshness bound);
    balances and open orders are this account's own and always asked for."""
    now = clock.now()
    products = await market.products(exchange, now)
    frozen_now = dict(frozen)
    holdings, failures, unpriced = [], {}, {}
    for balance in sorted(balances, key=lambda b: b.asset):
        if balance.total <= 0:
            continue
        holding, error, counts = await _value(exchange, market, balance, products, frozen_now, now)
        if error is not None and not counts:
            unpriced[holding.product_id] = error
            holdings.append(holding)
            continue
        if error is not None:
            failures[holding.product_id] = error
            change = freezing.record_price_failure(
                frozen_now, holding.product_id, now, error, policy.symbol_freeze
            )
            if freezing.is_frozen(change.frozen, holding.product_id, now):
                holding = replace(holding, price_lost=True)
        elif holding.quote is not None:
            change = freezing.record_price_success(frozen_now, holding.product_id, now)
        else:
            holdings.append(holding)
            continue
        frozen_now = dict(change.frozen)
        report_freezes(change.events, events)
        holdings.append(holding)
    orders = tuple(await exchange.open_orders())
    snapshot = Snapshot(now=now, holdings=tuple(holdings), open_orders=orders)
    return Gathered(snapshot, frozen_now, failures, unpriced)


async def _value(
    exchange: Exchange,
    market: MarketData,
    balance: Balance,
    products: Mapping[str, Product],
    frozen: Mapping[str, FrozenSymbol],
    now: datetime,
) -> tuple[Holding, str | None, bool]:
    """The valued holding, the price error if any, and whether that error counts toward the
    symbol's freeze (temporary errors do not)."""
    product_id = product_id_of(balance.asset)
    product = products.get(product_id)
    holding = Holding(balance.asset, product_id, balance.total, balance.available, product)
    if balance.asset in PAR_VALUED:
        return holding, None, False
    if freezing.is_frozen(frozen, product_id, now):
        why = f"frozen after repeated price failures: {frozen[product_id].last_error}"
        return replace(holding, price_error=why, price_lost=True), None, False
    if product is None and market.shared:
        try:
            product = await market.unlisted(exchange, product_id)
        except ExchangeError as exc:
            error = f"price temporarily unavailable: {type(exc).__name__}: {exc}"
            return replace(holding, price_error=error), error, False
        holding = replace(holding, product=product)
    if product is None:
        error = f"unknown product {product_id}"
        return replace(holding, price_error=error, price_lost=True), error, True
    try:
        quote = await market.quote(exchange, product_id, now)
    except TemporaryError as exc:
        error = f"price temporarily unavailable: {type(exc).__name__}: {exc}"
        return replace(holding, price_error=error), error, False
    except ExchangeError as exc:
        error = f"price not available: {exc}"
        gone = product.status is ProductStatus.DELISTED
        return replace(holding, price_error=error, price_lost=gone), error, True
    return replace(holding, quote=quote), None, False


def report_freezes(changes: Sequence[freezing.FreezeEvent], events: EventSink) -> None:
    for change in changes:
        if change.kind is freezing.FreezeEventKind.FROZEN:
            events.emit(Event.warning(Reason.SYMBOL_FROZEN, f"{change.symbol}: {change.message}"))
        elif change.kind in (freezing.FreezeEventKind.UNFROZEN, freezing.FreezeEventKind.EXPIRED):
            events.emit(Event(Reason.SYMBOL_UNFROZEN, change.message))
