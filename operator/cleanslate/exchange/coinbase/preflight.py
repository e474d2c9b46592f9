"""A read-only check of a Coinbase account before anything trades.

Run by ``cleanslate check`` and, through the operator, behind the ``CredentialsReady``
condition. Every finding is one line a person can act on; errors mean "do not trade",
warnings mean "this works, but look". Nothing here writes: the adapter is built read-only.

* **key**: the Secret's private key parses (Ed25519 or EC P-256).
* **permissions** (Get API Key Permissions): the key can view, and trade when the account is
  Live (a DryRun key without trade is a warning: Live will need it). A key that can
  **transfer** funds is a warning: a cleaning bot never moves money out.
* **portfolio**: when the account names one (``spec.exchange.coinbase.portfolioId``), the key
  must be scoped to it.
* **clock**: the skew against Coinbase's server time (Get Server Time). A request JWT is valid
  from our ``now`` for 120 s; at 30 s of skew a quarter of that window is gone and a clock
  ahead of Coinbase makes ``nbf`` lie in the future, so 30 s is an error, 5 s a warning.
* **products**: every held asset the plan could sell (not a quote currency, not protected)
  has a product with the increments and minimums the executor needs; an asset without a
  USD product, or a product not trading now, is a warning (the plan will not sell it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx

from cleanslate.api.account import Mode, TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.core.market import Product, names_asset
from cleanslate.exchange.coinbase.adapter import DEFAULT_BASE_URL, CoinbaseExchange
from cleanslate.exchange.coinbase.auth import CredentialsError
from cleanslate.exchange.coinbase.factory import exchange_from_secret
from cleanslate.exchange.errors import ExchangeError, InvalidProductId, TemporaryError
from cleanslate.exchange.findings import Finding, Level, Preflight

SKEW_ERROR_SECONDS = 30.0
SKEW_WARNING_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Expectations:
    """What the account's spec and policy expect of the key and the holdings."""

    live: bool
    portfolio_id: str | None = None
    never_sold: Collection[str] = ()
    """Assets and product ids the plan never sells (quote currencies, protected symbols)."""
    settlement: tuple[str, ...] = ("USD",)
    """What the account sells into, in order (``spec.settlementCurrencies``)."""

    @classmethod
    def of(cls, spec: TradingAccountSpec, policy: PurgePolicySpec) -> Expectations:
        """Live needs trade, a named portfolio must match, and quote currencies and protected
        symbols are never sold, so their products are not checked."""
        coinbase = spec.exchange.coinbase
        return cls(
            live=spec.mode is Mode.LIVE,
            portfolio_id=coinbase.portfolio_id if coinbase else None,
            never_sold=[
                *policy.quote_currencies,
                *spec.settlement_currencies,
                *spec.protected_symbols,
            ],
            settlement=tuple(spec.settlement_currencies),
        )


async def check_secret(
    secret_data: Mapping[str, bytes | str],
    clock: Clock,
    expect: Expectations,
    *,
    base_url: str = DEFAULT_BASE_URL,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Preflight:
    """Build a read-only adapter from the Secret's values and check it; a key that does not
    parse is the one finding. The caller chose both the key and ``base_url`` (the CLI's
    user, from their own files), so that origin, and only it, is allowed."""
    try:
        exchange = exchange_from_secret(
            secret_data,
            clock,
            read_only=True,
            base_url=base_url,
            transport=transport,
            allowed_origins=(base_url,),
        )
    except CredentialsError as exc:
        return Preflight((Finding(Level.ERROR, "key", str(exc)),))
    try:
        key = Finding(Level.OK, "key", f"the private key parses ({exchange.algorithm})")
        return Preflight((key, *(await check_exchange(exchange, clock, expect)).findings))
    finally:
        await exchange.aclose()


async def check_exchange(
    exchange: CoinbaseExchange, clock: Clock, expect: Expectations
) -> Preflight:
    """Every check but the key's parsing, against an adapter that exists already."""
    findings: list[Finding] = []
    for check in (_permissions, _clock, _products):
        try:
            findings.extend(await check(exchange, clock, expect))
        except TemporaryError as exc:  # no verdict on the key: asked again next time
            message = f"could not ask Coinbase ({exc.reason_code}); the check runs again"
            findings.append(Finding(Level.ERROR, check.__name__.strip("_"), message))
        except ExchangeError as exc:
            message = f"Coinbase answered {exc.reason_code}: {exc}"
            findings.append(Finding(Level.ERROR, check.__name__.strip("_"), message))
    return Preflight(tuple(findings))


async def _permissions(
    exchange: CoinbaseExchange, _clock: Clock, expect: Expectations
) -> list[Finding]:
    granted = await exchange.key_permissions()
    found: list[Finding] = []
    if not granted.can_view:
        found.append(Finding(Level.ERROR, "permissions", "the key cannot view the account"))
    if not granted.can_trade:
        level = Level.ERROR if expect.live else Level.WARNING
        found.append(Finding(level, "permissions", "the key cannot trade (Live needs Trade)"))
    if granted.can_transfer:
        found.append(
            Finding(
                Level.WARNING,
                "permissions",
                "the key can transfer funds; cleanslate never needs that: remove Transfer",
            )
        )
    if granted.can_view and granted.can_trade and not granted.can_transfer:
        found.append(Finding(Level.OK, "permissions", "view and trade, no transfer"))
    return [*found, _portfolio(granted.portfolio_uuid, expect.portfolio_id)]


def _portfolio(scoped_to: str, expected: str | None) -> Finding:
    if expected is None:
        return Finding(
            Level.OK,
            "portfolio",
            f"the key is scoped to portfolio {scoped_to or '?'} "
            "(set spec.exchange.coinbase.portfolioId to require it)",
        )
    if scoped_to != expected:
        message = f"the key is scoped to portfolio {scoped_to or '?'}, not {expected}"
        return Finding(Level.ERROR, "portfolio", message)
    return Finding(Level.OK, "portfolio", f"the key is scoped to portfolio {expected}")


async def _clock(exchange: CoinbaseExchange, clock: Clock, _expect: Expectations) -> list[Finding]:
    server: datetime = await exchange.server_time()
    skew = (clock.now() - server).total_seconds()
    text = f"local clock is {abs(skew):.1f} s {'ahead of' if skew > 0 else 'behind'} Coinbase"
    if abs(skew) >= SKEW_ERROR_SECONDS:
        return [Finding(Level.ERROR, "clock", f"{text}: request JWTs live 120 s; fix NTP")]
    if abs(skew) >= SKEW_WARNING_SECONDS:
        return [Finding(Level.WARNING, "clock", f"{text}; check NTP")]
    return [Finding(Level.OK, "clock", text)]


async def _products(
    exchange: CoinbaseExchange, _clock: Clock, expect: Expectations
) -> list[Finding]:
    never = {s.upper() for s in expect.never_sold}
    found: list[Finding] = []
    for balance in await exchange.balances():
        asset = balance.asset
        if names_asset(never, asset.upper()):
            continue
        product = await _sale_product(exchange, asset, expect.settlement)
        if product is None:
            ids = " or ".join(f"{asset}-{c}" for c in expect.settlement)
            message = f"{asset} has no {ids} product: the plan cannot sell it"
            found.append(Finding(Level.WARNING, "products", message))
            continue
        found.append(_product_finding(product))
    return found


async def _sale_product(
    exchange: CoinbaseExchange, asset: str, settlement: Sequence[str]
) -> Product | None:
    """The product ``asset`` would sell through: the first tradeable one of the settlement
    list (``core.settlement.sale_market``), else the first listed, else None."""
    listed = []
    for currency in settlement:
        if currency == asset:
            continue
        try:
            product = await exchange.product(f"{asset}-{currency}")
        except InvalidProductId:
            continue
        if product.tradeable:
            return product
        listed.append(product)
    return listed[0] if listed else None


def _product_finding(product: Product) -> Finding:
    missing = [
        name
        for name, value in (
            ("base_increment", product.base_increment),
            ("price_increment", product.price_tick),
            ("base_min_size", product.min_base_size),
            ("quote_min_size", product.min_notional),
        )
        if value <= 0
    ]
    if missing:
        message = (
            f"{product.product_id} lacks {', '.join(missing)}: the executor cannot size orders"
        )
        return Finding(Level.ERROR, "products", message)
    if not product.tradeable:
        return Finding(Level.WARNING, "products", f"{product.product_id} is {product.status.value}")
    return Finding(
        Level.OK,
        "products",
        f"{product.product_id}: base step {product.base_increment}, price tick "
        f"{product.price_tick}, minimum {product.min_base_size} / {product.min_notional}",
    )
