"""The one port every exchange adapter implements; nothing above it knows which one it has.

Methods raise only ``cleanslate.exchange.errors`` exceptions. ``place_order`` is idempotent by
``client_order_id``: placing an id that exists returns that order and places nothing, which is
what lets a restarted executor re-issue its last call safely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

from cleanslate.core.market import Balance, Book, Fill, Order, OrderRequest, Product, Quote


@runtime_checkable
class Exchange(Protocol):
    """An exchange account, as cleanslate uses it."""

    @property
    def name(self) -> str:
        """Short adapter name for logs and metrics labels (``paper``, ``coinbase``)."""
        ...

    @property
    def read_only(self) -> bool:
        """True when the adapter refuses every order endpoint (DryRun on a live venue)."""
        ...

    async def balances(self) -> Sequence[Balance]:
        """Every asset with a non-zero balance."""
        ...

    async def products(self) -> Sequence[Product]:
        """Metadata of every product (including suspended and delisted ones it knows)."""
        ...

    async def product(self, product_id: str) -> Product:
        """One product's metadata; InvalidProductId when unknown."""
        ...

    async def quote(self, product_id: str) -> Quote:
        """Best bid/ask, 24h quote-currency volume and bid depth."""
        ...

    async def book(self, product_id: str, depth: int = 10) -> Book:
        """The top ``depth`` levels of each side."""
        ...

    async def place_order(self, request: OrderRequest) -> Order:
        """Place an order, or return the existing one with the same client order id."""
        ...

    async def get_order(self, order_id: str) -> Order:
        """An order by exchange id; NotFound when there is none."""
        ...

    async def find_order(self, client_order_id: str, product_id: str | None = None) -> Order | None:
        """An order by client order id, or None: how a restarted executor finds its work.
        ``product_id``, when the caller knows it, narrows the search: some venues (Binance,
        through ccxt) list closed orders only one market at a time."""
        ...

    async def cancel_orders(self, order_ids: Sequence[str]) -> Sequence[str]:
        """Cancel orders; returns the ids that are now cancelled (already-final ones are not)."""
        ...

    async def open_orders(self, product_id: str | None = None) -> Sequence[Order]:
        """Open orders with their creation time, optionally for one product."""
        ...

    async def fills(self, order_id: str) -> Sequence[Fill]:
        """Fills of one order, with fees."""
        ...

    async def aclose(self) -> None:
        """Release connections and persist whatever the adapter keeps."""
        ...


PREVIEW_OK = "ok"


@runtime_checkable
class OrderPreviewer(Protocol):
    """A venue that can judge an order without placing it (Coinbase's Preview Order). A
    DryRun plan asks it about the first slice of each sale; a read-only adapter allows this
    one write-shaped request and no other."""

    async def preview_order(self, request: OrderRequest) -> str:
        """``ok``, or the reason the venue would refuse ``request``; places nothing."""
        ...


@runtime_checkable
class ReadsFees(Protocol):
    """A venue that says what this account pays (issue 28: the account's real fee tier)."""

    async def fee_rates(self) -> tuple[Decimal, Decimal] | None:
        """(maker bps, taker bps) the venue charges this account now; None when it does not
        say (then the policy's ``makerFeeBps``/``takerFeeBps`` are used)."""
        ...


@runtime_checkable
class TellsTime(Protocol):
    """A venue that says what time its own clock reads (issue 27, item 8): Coinbase's Get
    Server Time, ccxt's ``fetch_time`` where ``has['fetchTime']``, the paper exchange's clock.
    The shell measures the venue's offset from it (``exchange.clocks``); a venue without the
    capability, or one that answers None, leaves the offset unknown."""

    async def server_time(self) -> datetime | None:
        """The venue's clock now, timezone-aware UTC; None when this venue cannot tell."""
        ...


@runtime_checkable
class SharesMarket(Protocol):
    """An adapter whose public market data (products, quotes) is the same for every account
    on its venue, so accounts can share one fetch of it (``exchange.marketdata``)."""

    @property
    def market_identity(self) -> str | None:
        """The market, as ``venue@origin`` (``coinbase@https://api.coinbase.com``,
        ``ccxt:binance@sandbox``): equal for exactly the accounts that see the same public
        data. None when this account's market is its own (a paper account)."""
        ...


@dataclass(frozen=True, slots=True)
class DustTerms:
    """What a venue's dust conversion pays in, and how often it allows one."""

    target: str
    """The asset the conversion pays (Binance: BNB)."""
    cooldown: timedelta
    """The least time between two conversions of one account (Binance: 6 hours)."""


@dataclass(frozen=True, slots=True)
class DustConversion:
    """What one conversion did, as the venue reported it."""

    target: str
    assets: tuple[str, ...]
    """The assets the venue converted (those it refused are absent)."""
    received: Decimal
    """What it paid, in ``target``, after its fee."""
    fee: Decimal
    """Its fee, in ``target``."""


@runtime_checkable
class DustConverter(Protocol):
    """A venue with its own conversion of crumbs too small for any order (Binance's Dust
    Transfer, ``POST /sapi/v1/asset/dust``). An adapter that speaks for many venues (ccxt)
    answers ``dust_terms()`` None on those without one; the caller then reports the sweep as
    unavailable and changes nothing else."""

    def dust_terms(self) -> DustTerms | None:
        """The conversion's target and cooldown; None when this venue has none."""
        ...

    async def convert_dust(self, assets: Sequence[str]) -> DustConversion:
        """Convert the whole available balance of each of ``assets`` into the target. Raises
        ``exchange.errors`` exceptions: a read-only adapter refuses before sending."""
        ...
