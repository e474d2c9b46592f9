"""What the account holds at one instant, valued the way a liquidation would realise it.

Holdings are valued at the **bid**, not the mid: every decision here is about selling, and a
sale realises the bid. Valuing at the bid keeps the dust, minimum-liquidation and exposure
thresholds honest on wide-spread tokens (a mid price would call a holding sellable above $5
that only fetches $4.90). USD and USDC count at par (one dollar each); every other asset,
including the quote currencies USDT, BTC and ETH, is valued by its ``-USD`` quote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cleanslate.api.policy import SETTLEMENT_CURRENCY
from cleanslate.core.market import Order, OrderStatus, Product, Quote

PAR_VALUED = frozenset({"USD", "USDC"})
"""Assets worth exactly one US dollar per unit, whatever a quote says."""


def product_id_of(asset: str) -> str:
    """The USD product an asset is sold through, as the documents name it (SEI -> SEI-USD)."""
    return f"{asset}-USD"


@dataclass(frozen=True, slots=True)
class Holding:
    """One asset's balance with what the exchange told us about selling it.

    ``product`` is None when the exchange does not know the pair (an unknown or delisted
    asset); ``quote`` is None and ``price_error`` says why when the price could not be fetched.
    ``price_lost`` says the missing price will not come back by waiting: the exchange said the
    product is gone, or the symbol failed often enough to be frozen (the broker cleanup
    document's threshold). Only then may "cannot fetch price" make a holding a zombie; one
    failed fetch, or a rate limit, leaves it unpriced and held.
    """

    asset: str
    product_id: str
    quantity: Decimal
    """Total balance in base units, including what open orders hold."""
    available: Decimal
    """What can be sold now; a plan never sells more than this."""
    product: Product | None = None
    quote: Quote | None = None
    price_error: str | None = None
    price_lost: bool = False

    @property
    def price(self) -> Decimal | None:
        """USD per unit at the bid, or None when unknown (see the module docstring)."""
        if self.asset in PAR_VALUED:
            return Decimal("1")
        if self.quote is None or self.quote.bid <= 0:
            return None
        return self.quote.bid

    @property
    def value_usd(self) -> Decimal | None:
        """Liquidation value of the whole balance, or None when there is no usable price."""
        price = self.price
        return None if price is None else self.quantity * price

    def value_of(self, quantity: Decimal) -> Decimal | None:
        """What selling ``quantity`` of this holding would realise at the bid."""
        price = self.price
        return None if price is None else quantity * price


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the core looks at in one cycle: balances, prices and open orders at ``now``.

    Quote-currency holdings belong here because they are part of the account's value (NAV),
    but the policy, not the snapshot, decides which assets are quote currencies and therefore
    never positions.
    """

    now: datetime
    holdings: tuple[Holding, ...] = ()
    open_orders: tuple[Order, ...] = field(default_factory=tuple)

    @property
    def nav_usd(self) -> Decimal:
        """Total account value: every holding with a usable price, quote currencies included.

        A holding without a price adds nothing; counting a guess would move every
        percentage-of-account threshold on the strength of a missing quote.
        """
        return sum((v for v in (h.value_usd for h in self.holdings) if v is not None), Decimal(0))

    @property
    def quote_values(self) -> dict[str, Decimal]:
        """USD per unit of each held asset with a usable price (USD and USDC at par)."""
        return {h.asset: p for h in self.holdings if (p := h.price) is not None}

    def holding(self, asset: str) -> Holding | None:
        return next((h for h in self.holdings if h.asset == asset), None)


def positions(holdings: Iterable[Holding], quote_currencies: Iterable[str]) -> list[Holding]:
    """Holdings that are positions: any non-zero balance of an asset that is not a quote
    currency. Quote currencies are cash; they are never positions and never sold. The
    currency sales go into is cash whatever a policy says: it is never a position, a zombie
    ("USD-USD") or value at risk."""
    cash = {*quote_currencies, SETTLEMENT_CURRENCY}
    return [h for h in holdings if h.asset not in cash and h.quantity > 0]


def open_orders_older_than(
    orders: Iterable[Order], now: datetime, minutes: Decimal
) -> tuple[Order, ...]:
    """Open orders placed more than ``minutes`` ago (the legacy protocol's stale orders)."""
    limit_seconds = minutes * 60
    return tuple(
        o
        for o in orders
        if o.status is OrderStatus.OPEN
        and Decimal(str((now - o.created_at).total_seconds())) > limit_seconds
    )
