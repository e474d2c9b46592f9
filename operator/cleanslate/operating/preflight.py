"""The live preflight behind the operator's CredentialsReady condition.

A live account's key is checked read-only by its venue's preflight (``exchange.venues``:
Coinbase checks permissions, clock and products) once per adapter the worker builds, before
the account's first cycle with it: errors hold the account with CredentialsReady=False until
the key is fixed (the check runs again every interval), warnings (a key that can transfer
funds, a small clock skew) become Warning events.
"""

from __future__ import annotations

from cleanslate.api.account import TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock
from cleanslate.events import Event, EventSink, Reason
from cleanslate.exchange.port import Exchange
from cleanslate.exchange.venues import venue_of
from cleanslate.operating.exchanges import CredentialsMissing


async def verify_credentials(
    exchange: Exchange,
    clock: Clock,
    spec: TradingAccountSpec,
    policy: PurgePolicySpec,
    events: EventSink,
) -> None:
    """Raise CredentialsMissing (the preflight's errors) when the key must not be used."""
    result = await venue_of(spec.exchange.name).preflight(exchange, clock, spec, policy)
    if result is None:
        return
    for warning in result.warnings:
        events.emit(Event.warning(Reason.CREDENTIALS_WARNING, warning.message))
    if not result.passed:
        raise CredentialsMissing("preflight: " + "; ".join(e.message for e in result.errors))
