"""Phase 0: read the account from the exchange into a ``Snapshot``.

Balances are fetched with retry; when every attempt fails the last-known balance stands in
(reported with its age) and the cycle stops before trading. Prices are fetched per holding;
a failure counts toward the symbol's freeze, and a frozen symbol is not asked again until
its cooldown ends, which is what keeps a delisted coin from costing a request every cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cleanslate.api.account import BalanceStatus, FrozenSymbol
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.core import balances as balance_rules
from cleanslate.core import freezing
from cleanslate.core.holdings import PAR_VALUED, Holding, Snapshot, product_id_of
from cleanslate.core.market import Balance
from cleanslate.cycle.context import ProductCache
from cleanslate.events import Event, EventSink, Reason
from cleanslate.exchange.errors import ExchangeError
from cleanslate.exchange.port import Exchange
from cleanslate.execution import fetch_balances


class BalancesUnavailable(Exception):
    """Every balance fetch attempt failed; the cycle cannot plan."""


@dataclass
class Gathered:
    snapshot: Snapshot
    frozen: dict[str, FrozenSymbol]
    price_failures: dict[str, str] = field(default_factory=dict)


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
    products: ProductCache,
    events: EventSink,
) -> Gathered:
    """Value every balance and list the open orders."""
    now = clock.now()
    if not products.fresh(now):
        products.store(await exchange.products(), now)
    frozen_now = dict(frozen)
    holdings, failures = [], {}
    for balance in sorted(balances, key=lambda b: b.asset):
        if balance.total <= 0:
            continue
        holding, error = await _value(exchange, balance, products, frozen_now, now)
        if error is not None:
            failures[holding.product_id] = error
            change = freezing.record_price_failure(
                frozen_now, holding.product_id, now, error, policy.symbol_freeze
            )
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
    return Gathered(snapshot, frozen_now, failures)


async def _value(
    exchange: Exchange,
    balance: Balance,
    products: ProductCache,
    frozen: Mapping[str, FrozenSymbol],
    now: datetime,
) -> tuple[Holding, str | None]:
    product_id = product_id_of(balance.asset)
    product = products.products.get(product_id)
    holding = Holding(balance.asset, product_id, balance.total, balance.available, product)
    if balance.asset in PAR_VALUED or freezing.is_frozen(frozen, product_id, now):
        return holding, None
    if product is None:
        return _priceless(holding, f"unknown product {product_id}"), f"unknown product {product_id}"
    try:
        quote = await exchange.quote(product_id)
    except ExchangeError as exc:
        error = f"price not available: {exc}"
        return _priceless(holding, error), error
    return Holding(
        holding.asset, product_id, holding.quantity, holding.available, product, quote
    ), None


def _priceless(holding: Holding, error: str) -> Holding:
    return Holding(
        holding.asset,
        holding.product_id,
        holding.quantity,
        holding.available,
        holding.product,
        None,
        error,
    )


def report_freezes(changes: Sequence[freezing.FreezeEvent], events: EventSink) -> None:
    for change in changes:
        if change.kind is freezing.FreezeEventKind.FROZEN:
            events.emit(Event.warning(Reason.SYMBOL_FROZEN, change.message))
        elif change.kind in (freezing.FreezeEventKind.UNFROZEN, freezing.FreezeEventKind.EXPIRED):
            events.emit(Event(Reason.SYMBOL_UNFROZEN, change.message))
