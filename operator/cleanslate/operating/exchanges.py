"""Build the exchange adapter an account's spec asks for.

Paper accounts get the embedded simulator, with their state in the operator's state
directory (one file per account). Live venues get their adapter from the Secret in the
account's own namespace, and only for an exchange address the operator allows (checked
first, so a refused address costs no Secret read); a DryRun account's live adapter is
read-only, so no order endpoint can be reached whatever happens above it.
"""

from __future__ import annotations

from pathlib import Path

from cleanslate.api.account import ExchangeSpec, Mode
from cleanslate.clock import Clock
from cleanslate.exchange.ccxt_accounts import CcxtSettings
from cleanslate.exchange.endpoints import EndpointPolicy
from cleanslate.exchange.port import Exchange
from cleanslate.exchange.venues import BuildRequest, Platform, VenueRefused, venue_of
from cleanslate.operating.kube import Kube


class CredentialsMissing(Exception):
    """The account's credentials are absent or unusable; the message never holds a secret."""

    reason = "CredentialsMissing"


class EndpointRefused(CredentialsMissing):
    """The account names an exchange address the operator may not send credentials to."""

    reason = "EndpointNotAllowed"


def _refusal(reason: str, message: str) -> CredentialsMissing:
    """A CredentialsMissing with ``reason`` (a venue's refusals: not installed, unknown id,
    an origin not allowed, a missing Secret key): the account is held, its Secret unused."""
    refused = EndpointRefused(message) if reason == EndpointRefused.reason else None
    if refused is not None:
        return refused
    error = CredentialsMissing(message)
    error.reason = reason
    return error


async def build_exchange(
    spec: ExchangeSpec,
    mode: Mode,
    *,
    namespace: str,
    name: str,
    clock: Clock,
    kube: Kube | None,
    state_dir: Path,
    endpoints: EndpointPolicy | None = None,
    ccxt: CcxtSettings | None = None,
) -> Exchange:
    """The account's adapter, through its venue's registry entry (``exchange.venues``):
    the Secret reference first, then what the venue checks before any Secret is read,
    then the Secret, then the adapter."""
    from cleanslate.operating.kube import SecretUnavailable

    venue = venue_of(spec.name)
    platform = Platform(endpoints or EndpointPolicy(), ccxt or CcxtSettings())
    secret = None
    try:
        if venue.needs_secret:
            if spec.credentials_secret_ref is None or kube is None:
                raise CredentialsMissing("spec.exchange.credentialsSecretRef is not set")
            venue.check_spec(spec, platform)
            secret = await kube.read_secret(namespace, spec.credentials_secret_ref.name)
        request = BuildRequest(
            spec, mode, secret, clock, f"{namespace}/{name}", state_dir, platform
        )
        return await venue.build(request)
    except VenueRefused as exc:
        raise _refusal(exc.reason, str(exc)) from None
    except SecretUnavailable as exc:
        raise CredentialsMissing(str(exc)) from None
