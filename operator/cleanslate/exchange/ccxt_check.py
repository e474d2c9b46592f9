"""``cleanslate check`` for a ccxt account: read-only, before it trades.

What it checks, one line each: ccxt is installed; the exchange id is ccxt's and the sandbox
exists; the origins the operator must allow; whether the venue may trade Live (tested, or
only with the platform's ``--ccxt-live-exchange``, or missing a capability); that the key
reads the account's balances; which spot market each holding the plan could sell would sell
through (the first tradeable one against ``spec.settlementCurrencies``, default ``[USD]``: a
``[USD]`` account on a venue that lists only USDT pairs can sell nothing); and which market
prices each settlement currency in USD. Nothing is placed: the adapter is read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cleanslate.api.account import Mode, TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.core.classification import protects
from cleanslate.core.settlement import cash_currencies, par_currencies, routes, sale_market
from cleanslate.exchange.ccxt_accounts import (
    INSTALL_HINT,
    CcxtRefused,
    CcxtSettings,
    credentials_of,
    gate_for,
)
from cleanslate.exchange.errors import ExchangeError
from cleanslate.exchange.findings import Finding, Level, Preflight

ClientHook = Callable[[Any], None]
"""Called with the ccxt client before any request (tests install a venue at its seam)."""


async def check_ccxt(
    spec: TradingAccountSpec,
    policy: PurgePolicySpec,
    secret_data: Mapping[str, bytes | str],
    clock: Clock,
    *,
    hook: ClientHook | None = None,
) -> Preflight:
    assert spec.exchange.ccxt is not None  # the model requires it for name ccxt
    config = spec.exchange.ccxt
    try:
        from cleanslate.exchange import ccxt as adapter
    except ImportError:
        return Preflight((Finding(Level.ERROR, "ccxt", INSTALL_HINT),))
    found: list[Finding] = []
    if config.sub_account is not None:
        found.append(Finding(Level.ERROR, "subaccount", "subAccount is not supported yet"))
    text = {k: v.decode() if isinstance(v, bytes) else v for k, v in secret_data.items()}
    try:
        credentials = credentials_of(text)
        client = adapter.make_client(config.exchange_id, credentials, sandbox=config.sandbox)
    except (CcxtRefused, adapter.UnknownExchange, adapter.NoSandbox) as exc:
        return Preflight((*found, Finding(Level.ERROR, "venue", str(exc))))
    if hook is not None:
        hook(client)
    origins = ", ".join(adapter.api_origins(client))
    found.append(
        Finding(Level.OK, "endpoints", f"the operator must allow (--allow-exchange-url) {origins}")
    )
    from cleanslate.exchange.ccxt.proving import proof_of

    proof = await proof_of(config.exchange_id, client.has)
    verdict = gate_for(config.exchange_id, adapter.capabilities(client), CcxtSettings(), proof)
    if verdict.capable:
        found.append(Finding(Level.OK, "live", verdict.message))
    elif verdict.reason == "UntestedExchange":
        found.append(Finding(Level.WARNING, "live", verdict.message))
    else:
        level = Level.ERROR if spec.mode is Mode.LIVE else Level.WARNING
        found.append(Finding(level, "live", verdict.message))
    exchange = adapter.CcxtExchange(client, clock, exchange_id=config.exchange_id, read_only=True)
    try:
        found.extend(await _account(exchange, spec, policy))
    finally:
        await exchange.aclose()
    return Preflight(tuple(found))


async def _account(
    exchange: Any, spec: TradingAccountSpec, policy: PurgePolicySpec
) -> list[Finding]:
    try:
        balances = await exchange.balances()
    except ExchangeError as exc:
        return [Finding(Level.ERROR, "key", f"balances not readable: {exc}")]
    found = [Finding(Level.OK, "key", f"reads the balances ({len(balances)} assets held)")]
    try:
        products = {p.product_id: p for p in await exchange.products()}
    except ExchangeError as exc:
        return [*found, Finding(Level.ERROR, "markets", f"markets not readable: {exc}")]
    settlement = spec.settlement_currencies
    kept = cash_currencies(spec, policy) | par_currencies(policy)
    found.extend(_pricing(settlement, policy, products))
    for balance in balances:
        product_id = sale_market(balance.asset, settlement, products)
        if balance.asset in kept or protects(spec, product_id):
            continue
        product = products.get(product_id)
        if product is None:
            pairs = " or ".join(f"{balance.asset}/{c}" for c in settlement)
            message = f"no {pairs} spot market here: cleanslate cannot sell it"
            found.append(Finding(Level.WARNING, "product", f"{product_id}: {message}"))
        elif not product.tradeable:
            status = product.status.value
            found.append(Finding(Level.WARNING, "product", f"{product_id}: {status}"))
        elif product.min_notional <= 0:
            message = (
                f"{product_id} trades ({balance.asset} would sell through it), but ccxt "
                "gives no minimum order value: a slice below the venue's minimum would be "
                "refused (and retried)"
            )
            found.append(Finding(Level.WARNING, "product", message))
        else:
            message = f"{product_id} trades: {balance.asset} would sell through it"
            found.append(Finding(Level.OK, "product", message))
    return found


def _pricing(
    settlement: Sequence[str], policy: PurgePolicySpec, products: Mapping[str, Any]
) -> list[Finding]:
    """Which market prices each settlement currency in USD (the first listed, tradeable
    route of ``core.settlement``; a route through another settlement currency counts)."""
    par = par_currencies(policy)
    found = []
    for currency in settlement:
        if currency in par:
            continue
        usable = [
            r.product_id
            for r in routes(currency, par, settlement)
            if (p := products.get(r.product_id)) is not None and p.tradeable
        ]
        if usable:
            message = f"{currency} is valued in USD through {usable[0]}"
            found.append(Finding(Level.OK, "valuation", message))
        else:
            message = (
                f"no market here prices {currency} in USD: what is quoted in it stays "
                "unpriced and is never sold (or list it in usdParCurrencies)"
            )
            found.append(Finding(Level.WARNING, "valuation", message))
    return found
