"""Settlement currencies: which market a holding sells through, and what a currency is worth
in US dollars.

An account sells into an ordered list of settlement currencies (``spec.settlementCurrencies``,
default ``[USD]``). Each holding sells through the first *tradeable* ``ASSET-QUOTE`` market of
that list (SEI on a ``[USDT, USDC]`` Binance account sells through SEI-USDT, or SEI-USDC where
SEI-USDT is suspended); with none tradeable, the first one listed names the holding's product
(so its suspension or delisting is reported), and with none listed the first currency's
(``SEI-USD``, an unknown product, exactly what a ``[USD]`` account said before).

Settlement currencies are cash: never positions, never sold, never value at risk, whatever
``releasedQuoteCurrencies`` says (selling what the account sells into would only buy it back).

Valuation stays in USD. USD is worth one dollar; so is each currency the policy lists in
``usdParCurrencies`` (default USDC). Any other currency is priced from the venue's own
markets, at the price a sale would realise: its ``-USD`` or ``-PAR`` market's bid, the inverse
of a ``PAR-CUR`` market's ask (USDT on Binance: one over USDC/USDT's ask), or, one step
further, its market against a settlement currency that is itself priced that way (EUR-USDT
times USDT's rate). A currency none of these price has no rate: holdings quoted in it are
unpriced, held and reported, never sold on a guess.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cleanslate.api.account import TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.market import Product, Quote

USD = "USD"
ONE = Decimal(1)


def par_currencies(policy: PurgePolicySpec) -> frozenset[str]:
    """Currencies worth exactly one dollar: USD and the policy's ``usdParCurrencies``."""
    return frozenset({USD, *policy.usd_par_currencies})


def cash_currencies(spec: TradingAccountSpec, policy: PurgePolicySpec) -> frozenset[str]:
    """What is never a position: the policy's quote currencies and the account's
    settlement currencies (a released quote currency that the account settles in stays
    cash: it is what every sale buys)."""
    return frozenset({*policy.quote_currencies, *spec.settlement_currencies})


def sale_market(asset: str, settlement: Sequence[str], products: Mapping[str, Product]) -> str:
    """The product ``asset`` sells through: the first tradeable market against the
    settlement list, else the first listed one, else the first currency's (unknown)."""
    candidates = [f"{asset}-{c}" for c in settlement if c != asset]
    if not candidates:
        return f"{asset}-{settlement[0]}"
    listed = [p for p in candidates if p in products]
    tradeable = [p for p in listed if products[p].tradeable]
    return (tradeable or listed or candidates)[0]


def quote_of(product_id: str) -> str:
    """The currency a product is quoted in (``SEI-USDT`` -> ``USDT``)."""
    return product_id.partition("-")[2]


@dataclass(frozen=True, slots=True)
class Route:
    """One way to price ``currency`` in ``via``: the bid of ``currency-via``, or
    (``inverse``) one over the ask of ``via-currency``."""

    currency: str
    via: str
    inverse: bool

    @property
    def product_id(self) -> str:
        return f"{self.via}-{self.currency}" if self.inverse else f"{self.currency}-{self.via}"

    def rate(self, quote: Quote) -> Decimal | None:
        """Units of ``via`` one unit of ``currency`` realises, or None without a price."""
        if self.inverse:
            return ONE / quote.ask if quote.ask > 0 else None
        return quote.bid if quote.bid > 0 else None


def routes(currency: str, par: Collection[str], settlement: Sequence[str]) -> tuple[Route, ...]:
    """Every market that could price ``currency``, in the order they are tried: against USD,
    against each par currency (direct, then inverse), then against the other settlement
    currencies (which need a rate of their own: a route is usable only once its ``via`` has
    one, so the shell prices the settlement currencies first). The first route whose market
    is listed, tradeable and quoted wins; the rest are never asked."""
    anchors = [USD, *sorted(p for p in par if p != USD)]
    direct = [Route(currency, a, False) for a in anchors if a != currency]
    inverse = [Route(currency, a, True) for a in anchors if a != currency]
    hops = [Route(currency, s, False) for s in settlement if s != currency and s not in par]
    hops += [Route(currency, s, True) for s in settlement if s != currency and s not in par]
    return (*direct, *inverse, *hops)


__all__ = [
    "USD",
    "Route",
    "cash_currencies",
    "par_currencies",
    "quote_of",
    "routes",
    "sale_market",
]
