"""Built-in market data of the paper exchange, as plain data.

The ``documents`` market reproduces the source documents' world: SEI and WLFI trade at the
prices of their purge stories with too little quote volume for a $2M tier-3 floor, BONK has
a one-tick spread wider than 100 bps and the quirk that made its purge fail, AUT is delisted
(no price) and one small cap is suspended. ``calm`` is the same list without quirks, delisted
or suspended products, with tighter spreads and less movement: the market for happy paths.

Minimums follow Coinbase Advanced: a $1 minimum notional for every product (so the stories'
$0.03 residuals are below it) and a base minimum equal to the base increment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

from cleanslate.api.account import PaperMarketModel
from cleanslate.core.market import Product, ProductStatus
from cleanslate.exchange.paper.models import MODELS, MarketModel

D = Decimal


@dataclass(frozen=True, slots=True)
class AlternatingReject:
    """A product whose order entry misbehaves the way BONK-USD did in the documents.

    Placements on the product are counted per account (the count is persisted). Only a
    post-only order whose count is even is accepted; every other placement (each odd one,
    and any taker order) is rejected with this error. Together with ``maker_reach = 0`` (no
    simulated trade ever reaches a resting order) a purge sees: slice 1 rests and never fills,
    slice 2 is rejected with INVALID_ORDER_CONFIGURATION; the next purge the same again.
    """

    error: str = "INVALID_ORDER_CONFIGURATION"
    message: str = "Invalid order size"
    preview_failure_reason: str = "PREVIEW_INVALID_ORDER_CONFIG"


@dataclass(frozen=True, slots=True)
class Trend:
    """A steady move of every product's mid from ``start`` on, for benchmarks and rehearsals
    of a falling market (issue 28: people purge when prices fall). Log-linear: -100 bps a
    minute for ten minutes is exp(-0.1), about -9.5 %. It is part of the price path, so the
    informed flow trades with it (sellers dominate a fall) and resting sells meet fewer buyers."""

    bps_per_minute: Decimal
    start: datetime


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One product's reference data; books and trades are generated around it."""

    product_id: str
    price: Decimal
    """Reference mid price; the simulated mid wanders around it."""
    quote_volume_24h: Decimal
    base_increment: Decimal
    quote_increment: Decimal
    spread_bps: Decimal
    """Target spread; the real one is never below one tick."""
    level_quote: Decimal
    """Quote value resting on each book level near the touch."""
    volatility_bps: Decimal
    """Amplitude of the mid's wandering, in bps of the reference price."""
    status: ProductStatus = ProductStatus.TRADEABLE
    min_notional: Decimal = Decimal(1)
    maker_reach: Decimal = Decimal(1)
    """Share of simulated trade flow that reaches resting orders (0: none ever does)."""
    quirk: AlternatingReject | None = None
    touch_ticks: int | None = None
    """Typical spread in ticks, for products whose book sits at one tick most of the time;
    used instead of ``spread_bps`` by models with ``one_tick_spreads``. None: no claim."""
    model: MarketModel = MODELS[PaperMarketModel.OPTIMISTIC]
    """How resting orders on this product fill (set by ``with_model``)."""
    trend: Trend | None = None
    """A market-wide move added to the price path (None: the seeded path alone)."""

    @property
    def daily_volume_base(self) -> Decimal:
        """24h volume in base units at the reference price (the square-root law's V)."""
        return self.quote_volume_24h / self.price

    @property
    def base(self) -> str:
        return self.product_id.split("-", 1)[0]

    @property
    def quote(self) -> str:
        return self.product_id.split("-", 1)[1]

    @property
    def min_base_size(self) -> Decimal:
        return self.base_increment

    def to_product(self) -> Product:
        """The metadata the port reports."""
        return Product(
            product_id=self.product_id,
            base=self.base,
            quote=self.quote,
            base_increment=self.base_increment,
            quote_increment=self.quote_increment,
            min_base_size=self.min_base_size,
            min_notional=self.min_notional,
            status=self.status,
        )


@dataclass(frozen=True, slots=True)
class Market:
    name: str
    products: Mapping[str, ProductSpec]


def _p(pid: str, price: str, volume: str, base_inc: str, quote_inc: str, spread: str,
       level: str, vol_bps: str, *, status: ProductStatus = ProductStatus.TRADEABLE,
       maker_reach: str = "1", quirk: AlternatingReject | None = None) -> ProductSpec:  # fmt: skip
    return ProductSpec(
        product_id=pid,
        price=D(price),
        quote_volume_24h=D(volume),
        base_increment=D(base_inc),
        quote_increment=D(quote_inc),
        spread_bps=D(spread),
        level_quote=D(level),
        volatility_bps=D(vol_bps),
        status=status,
        maker_reach=D(maker_reach),
        quirk=quirk,
        touch_ticks=1 if pid in _ONE_TICK else None,
    )


_ONE_TICK = frozenset(
    {"BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD", "XRP-USD", "ADA-USD", "LINK-USD", "OP-USD",
     "ARB-USD", "INJ-USD", "USDT-USD", "USDC-USD"}
)  # fmt: skip
"""Products whose Coinbase book quotes one tick wide most of the time: the majors, whose tick
is under a basis point, and the liquid mid caps whose tick is a few. SEI, WLFI and the small
caps keep their spread in bps: we have no tick-level observation of them (a guess either way)."""


# fmt: off
_DOCUMENTS: tuple[ProductSpec, ...] = (
    #  product     price         24h quote vol  base inc      quote inc     sprd  level     vol
    _p("BTC-USD",  "95000",      "565000000",   "0.00000001", "0.01",       "1",  "150000", "150"),
    _p("ETH-USD",  "3100",       "300000000",   "0.00000001", "0.01",       "2",  "80000",  "200"),
    _p("SOL-USD",  "140",        "120000000",   "0.00000001", "0.01",       "4",  "40000",  "300"),
    _p("DOGE-USD", "0.16",       "40000000",    "0.1",        "0.00001",    "6",  "12000",  "350"),
    _p("XRP-USD",  "2.2",        "80000000",    "0.000001",   "0.0001",     "5",  "15000",  "300"),
    _p("ADA-USD",  "0.45",       "12000000",    "0.00000001", "0.0001",     "9",  "5000",   "350"),
    _p("AVAX-USD", "14.5",       "9000000",     "0.00000001", "0.01",       "14", "4000",   "400"),
    _p("LINK-USD", "13.8",       "15000000",    "0.01",       "0.001",      "8",  "5000",   "350"),
    _p("SEI-USD",  "0.1563",     "1500000",     "0.1",        "0.0001",     "45", "1200",   "500"),
    _p("WLFI-USD", "0.1431",     "1200000",     "0.1",        "0.0001",     "40", "1000",   "500"),
    _p("BONK-USD", "0.00001066", "3000000",     "1",          "0.00000001", "120", "2000",  "500",
       maker_reach="0", quirk=AlternatingReject()),
    _p("USDT-USD", "1.0001",     "60000000",    "0.01",       "0.0001",     "1",  "100000", "2"),
    _p("USDC-USD", "1",          "200000000",   "0.01",       "0.0001",     "1",  "200000", "0"),
    _p("AUT-USD",  "0.0214",     "0",           "0.1",        "0.0001",     "60", "500",    "500",
       status=ProductStatus.DELISTED),
    _p("ZETA-USD", "0.18",       "2500000",     "0.1",        "0.0001",     "30", "1500",   "500",
       status=ProductStatus.SUSPENDED),
    _p("OP-USD",   "1.8",        "60000000",    "0.01",       "0.001",      "8",  "6000",   "400"),
    _p("ARB-USD",  "0.55",       "45000000",    "0.01",       "0.0001",     "9",  "6000",   "400"),
    _p("INJ-USD",  "21",         "25000000",    "0.001",      "0.01",       "10", "5000",   "400"),
    _p("PYTH-USD", "0.09",       "4000000",     "0.1",        "0.0001",     "25", "2500",   "450"),
    _p("JTO-USD",  "1.02",       "3500000",     "0.01",       "0.001",      "20", "2500",   "450"),
    _p("SKL-USD",  "0.018",      "2800000",     "1",          "0.00001",    "30", "1500",   "500"),
    _p("ANKR-USD", "0.011",      "1900000",     "1",          "0.00001",    "35", "1200",   "500"),
    _p("AMP-USD",  "0.0032",     "1100000",     "1",          "0.000001",   "60", "800",    "500"),
)
# fmt: on


def _calm(spec: ProductSpec) -> ProductSpec:
    """The same product on a quiet day: half the spread and a quarter of the movement."""
    return replace(
        spec,
        spread_bps=max(spec.spread_bps / 2, D("1")),
        volatility_bps=spec.volatility_bps / 4,
        maker_reach=D("1"),
        quirk=None,
    )


def _in_usdt(spec: ProductSpec) -> ProductSpec:
    """The calm product quoted in USDT, as a USDT venue (Binance) lists it: the same figures,
    a USDT price being within a few basis points of the USD one."""
    base = spec.product_id.partition("-")[0]
    return replace(_calm(spec), product_id=f"{base}-USDT", touch_ticks=None)


_USDC_USDT = _p("USDC-USDT", "1.0002", "900000000", "1", "0.0001", "1", "200000", "2")
"""Binance's USDC/USDT: the market that prices USDT in dollars when USDC is at par (its
price a guess near the 2025 average, USDT a hair under USDC)."""


_BNB_USDT = _p("BNB-USDT", "600", "900000000", "0.001", "0.01", "2", "100000", "200")
"""Binance's BNB/USDT (a price near the 2025 average): what a Binance dust transfer pays in,
priced, so the BNB a sweep leaves is valued like any holding (``paper.dustTarget: BNB``)."""


def _usdt_market() -> tuple[ProductSpec, ...]:
    """``usdt``: every calm product against USDT and no USD market at all (Binance's
    shape), plus USDC-USDT: a market on which a USDT-settled account can reach CLEAN, and
    BNB-USDT for the dust transfer."""
    calm = [s for s in _DOCUMENTS if s.status is ProductStatus.TRADEABLE]
    usdt = (_in_usdt(s) for s in calm if s.base not in ("USDT", "USDC"))
    return (*usdt, _calm(_USDC_USDT), _calm(_BNB_USDT))


EUR_IN_USD = D("1.08")
"""The ``eur`` market's EUR price in dollars (a guess near the 2025 average)."""
_EUR_USD = _p("EUR-USD", "1.08", "300000000", "0.00000001", "0.00001", "1", "200000", "20")
"""Kraken's EUR/USD: the market that prices EUR in dollars for a EUR-settled account."""


def _in_eur(spec: ProductSpec) -> ProductSpec:
    """The calm product quoted in EUR, as a EUR venue (Kraken, Bitvavo) lists it: the USD
    figures at ``EUR_IN_USD``, the price on the product's own tick."""
    base = spec.product_id.partition("-")[0]
    calm = _calm(spec)
    price = max((calm.price / EUR_IN_USD).quantize(calm.quote_increment), calm.quote_increment)
    return replace(
        calm,
        product_id=f"{base}-EUR",
        price=price,
        quote_volume_24h=calm.quote_volume_24h / EUR_IN_USD,
        level_quote=calm.level_quote / EUR_IN_USD,
        touch_ticks=None,
    )


def _eur_market() -> tuple[ProductSpec, ...]:
    """``eur``: every calm product against EUR, and EUR-USD (no other USD market): a
    EUR-settled account sells into EUR and is valued in dollars through EUR-USD's bid."""
    calm = [s for s in _DOCUMENTS if s.status is ProductStatus.TRADEABLE]
    return (*(_in_eur(s) for s in calm if s.base not in ("USDT", "USDC")), _calm(_EUR_USD))


def with_model(spec: ProductSpec, chosen: MarketModel, trend: Trend | None = None) -> ProductSpec:
    """The product as ``chosen`` trades it: its spread in ticks when the model uses them,
    its price path moved by ``trend`` when one is given."""
    spread = spec.spread_bps
    if chosen.one_tick_spreads and spec.touch_ticks is not None:
        spread = spec.quote_increment * spec.touch_ticks / spec.price * 10000
    return replace(spec, model=chosen, spread_bps=spread, trend=trend)


def _market(name: str, specs: tuple[ProductSpec, ...]) -> Market:
    return Market(name, MappingProxyType({s.product_id: s for s in specs}))


MARKETS: Mapping[str, Market] = MappingProxyType(
    {
        "documents": _market("documents", _DOCUMENTS),
        "calm": _market(
            "calm",
            tuple(_calm(s) for s in _DOCUMENTS if s.status is ProductStatus.TRADEABLE),
        ),
        "usdt": _market("usdt", _usdt_market()),
        "eur": _market("eur", _eur_market()),
    }
)


def market(name: str) -> Market:
    """A built-in market by name; ValueError names the ones that exist."""
    try:
        return MARKETS[name]
    except KeyError:
        known = ", ".join(sorted(MARKETS))
        raise ValueError(f"unknown paper market {name!r}; built-in markets: {known}") from None
