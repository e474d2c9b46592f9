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

Each holding is valued on the market it would sell through (``core.settlement``: the first
tradeable market against the account's settlement currencies) and that market's quote
currency is converted to USD by the venue's own prices, asked once per cycle and currency.
A quote currency the venue cannot price leaves its holdings unpriced (held, not counted
toward a freeze: the holding's own market is fine). On a ``[USD]`` account nothing changes:
USD is worth a dollar and no extra price is asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from cleanslate.api.account import DEFAULT_SETTLEMENT_CURRENCIES, BalanceStatus, FrozenSymbol
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.core import balances as balance_rules
from cleanslate.core import freezing
from cleanslate.core.holdings import Holding, Snapshot
from cleanslate.core.market import Balance, Product, ProductStatus
from cleanslate.core.settlement import par_currencies, quote_of, routes, sale_market
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
    settlement: Sequence[str] = DEFAULT_SETTLEMENT_CURRENCIES,
) -> Gathered:
    """Value every balance and list the open orders. Products and quotes come through
    ``market`` (shared with the other accounts on this market, within its freshness bound);
    balances and open orders are this account's own and always asked for."""
    now = clock.now()
    products = await market.products(exchange, now)
    frozen_now = dict(frozen)
    holdings, failures, unpriced = [], {}, {}
    held = [b for b in sorted(balances, key=lambda b: b.asset) if b.total > 0]
    sold_through = {b.asset: sale_market(b.asset, settlement, products) for b in held}
    # only the quote currencies of the markets sold through (and, in usd_rates, the
    # settlement currencies): a held asset is valued by its own market, never asked twice
    currencies = {quote_of(p) for p in sold_through.values()}
    valuing = Valuing(
        par_currencies(policy),
        tuple(settlement),
        await usd_rates(exchange, market, products, currencies, policy, settlement, now),
    )
    for balance in held:
        product_id = sold_through[balance.asset]
        holding, error, counts = await _value(
            exchange, market, balance, product_id, products, frozen_now, now, valuing
        )
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


@dataclass(frozen=True, slots=True)
class Valuing:
    """What turns a venue price into USD this cycle: the par currencies, the settlement
    list and the USD rate of every currency the venue could price."""

    par: frozenset[str]
    settlement: tuple[str, ...]
    rates: Mapping[str, Decimal]


async def usd_rates(
    exchange: Exchange,
    market: MarketData,
    products: Mapping[str, Product],
    currencies: Iterable[str],
    policy: PurgePolicySpec,
    settlement: Sequence[str],
    now: datetime,
) -> dict[str, Decimal]:
    """USD per unit of each currency the venue prices (``core.settlement.routes``; the first
    route that answers wins). Settlement currencies go first, in the account's order, so a
    later currency may be priced through an earlier one (EUR through USDT). Par currencies
    are one and ask nothing; a failed or missing price leaves the currency out."""
    par = par_currencies(policy)
    rates = dict.fromkeys(par, Decimal(1))
    rest = sorted(set(currencies) - set(settlement))
    for currency in [*(s for s in settlement if s not in par), *rest]:
        if currency in rates:
            continue
        for route in routes(currency, par, settlement):
            product = products.get(route.product_id)
            if route.via not in rates or product is None or not product.tradeable:
                continue
            try:
                quote = await market.quote(exchange, route.product_id, now)
            except ExchangeError:
                continue
            if (rate := route.rate(quote)) is not None:
                rates[currency] = rate * rates[route.via]
                break
    return rates


async def _value(
    exchange: Exchange,
    market: MarketData,
    balance: Balance,
    product_id: str,
    products: Mapping[str, Product],
    frozen: Mapping[str, FrozenSymbol],
    now: datetime,
    valuing: Valuing,
) -> tuple[Holding, str | None, bool]:
    """The valued holding, the price error if any, and whether that error counts toward the
    symbol's freeze (temporary errors do not)."""
    product = products.get(product_id)
    rate = valuing.rates.get(quote_of(product_id))
    holding = Holding(
        balance.asset, product_id, balance.total, balance.available, product, usd_rate=rate
    )
    if balance.asset in valuing.par:
        return replace(holding, unit_usd=Decimal(1)), None, False
    if balance.asset in valuing.settlement:
        own = valuing.rates.get(balance.asset)
        if own is not None:
            return replace(holding, unit_usd=own), None, False
        error = f"no USD price for settlement currency {balance.asset} on this venue"
        return replace(holding, price_error=error), error, False
    if rate is None:
        error = f"no USD price for {quote_of(product_id)} on this venue"
        return replace(holding, price_error=error), error, False
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
