"""The venues an account can name, as data: one ``Venue`` per ``spec.exchange.name``.

Everything the operator and the CLI need to know about a venue is its entry here, so no
module above ``exchange/`` asks "is this Coinbase?":

* ``check_spec``: what is decidable before the Secret is read (the exchange origins the
  operator allows, ccxt present and the id known); a refusal is ``VenueRefused`` with the
  condition reason, and no Secret is read;
* ``build``: the adapter, read-only for DryRun accounts (and, for ccxt, whenever the Live gate
  refuses);
* ``preflight``: the read-only check of a built adapter behind ``CredentialsReady`` (Coinbase
  checks its key's permissions, clock and products; None: nothing to check);
* ``gate``: the Live gate behind ``ExchangeCapable`` (None: no condition, the venue may trade);
* ``check``: what ``cleanslate check`` prints for the account, read-only;
* ``simulated``: the venue is the embedded paper market (simulated time, the one-shot run).

Adding a venue reached through ccxt is an entry of ``ccxt.capabilities.TESTED`` (its
client-id facts) plus its fake under ``tests/fakes/ccxt_venues/``; adding a venue with an
adapter of its own is an ``ExchangeName``, its adapter package and one entry here
(``docs/design.md``, "Where things go").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from cleanslate.api.account import (
    ExchangeName,
    ExchangeSpec,
    Mode,
    PaperExchange,
    TradingAccountSpec,
)
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.exchange.ccxt_accounts import CcxtRefused, CcxtSettings, Gate
from cleanslate.exchange.ccxt_accounts import build as build_ccxt
from cleanslate.exchange.ccxt_accounts import check_spec as check_ccxt_spec
from cleanslate.exchange.ccxt_accounts import gate as ccxt_gate
from cleanslate.exchange.coinbase import CoinbaseExchange, CredentialsError, exchange_from_secret
from cleanslate.exchange.coinbase.adapter import DEFAULT_BASE_URL
from cleanslate.exchange.coinbase.preflight import Expectations, check_exchange, check_secret
from cleanslate.exchange.endpoints import COINBASE_PRODUCTION, EndpointNotAllowed, EndpointPolicy
from cleanslate.exchange.findings import Finding, Level, Preflight
from cleanslate.exchange.paper import open_paper_exchange
from cleanslate.exchange.port import Exchange


class VenueRefused(Exception):
    """The account cannot have this venue's adapter; ``reason`` is the condition's reason
    (EndpointNotAllowed, CredentialsMissing, CcxtNotInstalled, UnknownExchange, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Platform:
    """What the operator's flags say about venues: never tenant input."""

    endpoints: EndpointPolicy = field(default_factory=EndpointPolicy)
    ccxt: CcxtSettings = field(default_factory=CcxtSettings)


@dataclass(frozen=True)
class BuildRequest:
    """One account's adapter to build: its exchange spec, mode and decoded Secret."""

    spec: ExchangeSpec
    mode: Mode
    secret: Mapping[str, str] | None
    clock: Clock
    account: str
    """``namespace/name``: the paper market keeps one state file per account."""
    state_dir: Path
    platform: Platform


@dataclass(frozen=True)
class CheckRequest:
    """``cleanslate check`` of one account, with the test seams of the venues' clients."""

    spec: TradingAccountSpec
    policy: PurgePolicySpec
    secret: Mapping[str, bytes | str]
    clock: Clock
    transport: httpx.AsyncBaseTransport | None = None
    """Coinbase: the HTTP transport (tests serve a fake)."""
    ccxt_hook: Callable[[Any], None] | None = None
    """ccxt: called with the client before any request (tests install a venue)."""


@dataclass(frozen=True)
class Venue:
    """What cleanslate needs of one ``spec.exchange.name`` (see the module docstring)."""

    name: ExchangeName
    needs_secret: bool
    simulated: bool
    check_spec: Callable[[ExchangeSpec, Platform], None]
    build: Callable[[BuildRequest], Awaitable[Exchange]]
    preflight: Callable[
        [Exchange, Clock, TradingAccountSpec, PurgePolicySpec], Awaitable[Preflight | None]
    ]
    gate: Callable[[Exchange, Platform], Gate | None]
    check: Callable[[CheckRequest], Awaitable[Preflight]]


# --- paper --------------------------------------------------------------------------------


def _nothing_to_check(_spec: ExchangeSpec, _platform: Platform) -> None:
    return None


async def _build_paper(request: BuildRequest) -> Exchange:
    return open_paper_exchange(
        request.spec.paper or PaperExchange(),
        request.clock,
        state_dir=request.state_dir / "paper",
        account=request.account,
    )


async def _no_preflight(
    _exchange: Exchange, _clock: Clock, _spec: TradingAccountSpec, _policy: PurgePolicySpec
) -> Preflight | None:
    return None


def _no_gate(_exchange: Exchange, _platform: Platform) -> Gate | None:
    return None


async def _check_paper(_request: CheckRequest) -> Preflight:
    return Preflight((Finding(Level.OK, "exchange", "the paper exchange needs no preflight"),))


# --- coinbase -----------------------------------------------------------------------------


def _coinbase_url(spec: ExchangeSpec) -> str:
    return spec.coinbase.base_url if spec.coinbase else COINBASE_PRODUCTION


def _check_coinbase_spec(spec: ExchangeSpec, platform: Platform) -> None:
    try:
        platform.endpoints.check(_coinbase_url(spec))
    except EndpointNotAllowed as exc:
        raise VenueRefused("EndpointNotAllowed", str(exc)) from None


async def _build_coinbase(request: BuildRequest) -> Exchange:
    try:
        return exchange_from_secret(
            request.secret or {},
            request.clock,
            read_only=request.mode is Mode.DRY_RUN,
            base_url=_coinbase_url(request.spec),
            allowed_origins=request.platform.endpoints.origins(),
        )
    except CredentialsError as exc:
        raise VenueRefused("CredentialsMissing", str(exc)) from None


async def _coinbase_preflight(
    exchange: Exchange, clock: Clock, spec: TradingAccountSpec, policy: PurgePolicySpec
) -> Preflight | None:
    if not isinstance(exchange, CoinbaseExchange):
        return None
    return await check_exchange(exchange, clock, Expectations.of(spec, policy))


async def _check_coinbase(request: CheckRequest) -> Preflight:
    exchange = request.spec.exchange
    base_url = exchange.coinbase.base_url if exchange.coinbase else DEFAULT_BASE_URL
    expect = Expectations.of(request.spec, request.policy)
    return await check_secret(
        request.secret, request.clock, expect, base_url=base_url, transport=request.transport
    )


# --- ccxt ---------------------------------------------------------------------------------


def _check_ccxt_spec(spec: ExchangeSpec, platform: Platform) -> None:
    assert spec.ccxt is not None  # the model requires the block for name ccxt
    try:
        redirect_to = platform.ccxt.api_redirects.get(spec.ccxt.exchange_id)
        check_ccxt_spec(spec.ccxt, platform.endpoints, redirect_to)
    except CcxtRefused as exc:
        raise VenueRefused(exc.reason, str(exc)) from None


async def _build_ccxt(request: BuildRequest) -> Exchange:
    assert request.spec.ccxt is not None
    try:
        return await build_ccxt(
            request.spec.ccxt,
            request.secret or {},
            request.clock,
            dry_run=request.mode is Mode.DRY_RUN,
            settings=request.platform.ccxt,
        )
    except CcxtRefused as exc:
        raise VenueRefused(exc.reason, str(exc)) from None


def _ccxt_gate(exchange: Exchange, platform: Platform) -> Gate | None:
    return ccxt_gate(exchange, platform.ccxt)


async def _check_ccxt(request: CheckRequest) -> Preflight:
    from cleanslate.exchange.ccxt_check import check_ccxt

    return await check_ccxt(
        request.spec, request.policy, request.secret, request.clock, hook=request.ccxt_hook
    )


VENUES: Mapping[ExchangeName, Venue] = MappingProxyType(
    {
        ExchangeName.PAPER: Venue(
            ExchangeName.PAPER,
            needs_secret=False,
            simulated=True,
            check_spec=_nothing_to_check,
            build=_build_paper,
            preflight=_no_preflight,
            gate=_no_gate,
            check=_check_paper,
        ),
        ExchangeName.COINBASE: Venue(
            ExchangeName.COINBASE,
            needs_secret=True,
            simulated=False,
            check_spec=_check_coinbase_spec,
            build=_build_coinbase,
            preflight=_coinbase_preflight,
            gate=_no_gate,
            check=_check_coinbase,
        ),
        ExchangeName.CCXT: Venue(
            ExchangeName.CCXT,
            needs_secret=True,
            simulated=False,
            check_spec=_check_ccxt_spec,
            build=_build_ccxt,
            preflight=_no_preflight,
            gate=_ccxt_gate,
            check=_check_ccxt,
        ),
    }
)


def venue_of(name: ExchangeName) -> Venue:
    """The registry entry of ``spec.exchange.name`` (every name has one: a test says so)."""
    return VENUES[name]


__all__ = [
    "VENUES",
    "BuildRequest",
    "CheckRequest",
    "Platform",
    "Venue",
    "VenueRefused",
    "venue_of",
]
