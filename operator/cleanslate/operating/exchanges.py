"""Build the exchange adapter an account's spec asks for.

Paper accounts get the embedded simulator, with their state in the operator's state
directory (one file per account). Live venues get their adapter from the Secret in the
account's own namespace, and only for an exchange address the operator allows (checked
first, so a refused address costs no Secret read); a DryRun account's live adapter is
read-only, so no order endpoint can be reached whatever happens above it.
"""

from __future__ import annotations

from pathlib import Path

from cleanslate.api.account import ExchangeName, ExchangeSpec, Mode, PaperExchange
from cleanslate.clock import Clock
from cleanslate.exchange.coinbase import exchange_from_secret
from cleanslate.exchange.paper import open_paper_exchange
from cleanslate.exchange.port import Exchange
from cleanslate.operating.ccxt_accounts import CcxtRefused, CcxtSettings
from cleanslate.operating.ccxt_accounts import build as build_ccxt
from cleanslate.operating.ccxt_accounts import check_spec as check_ccxt_spec
from cleanslate.operating.endpoints import COINBASE_PRODUCTION, EndpointNotAllowed, EndpointPolicy
from cleanslate.operating.kube import Kube


class CredentialsMissing(Exception):
    """The account's credentials are absent or unusable; the message never holds a secret."""

    reason = "CredentialsMissing"


class EndpointRefused(CredentialsMissing):
    """The account names an exchange address the operator may not send credentials to."""

    reason = "EndpointNotAllowed"


def _refusal(reason: str, message: str) -> CredentialsMissing:
    """A CredentialsMissing with ``reason`` (ccxt's refusals: not installed, unknown id,
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
    if spec.name is ExchangeName.PAPER:
        return open_paper_exchange(
            spec.paper or PaperExchange(),
            clock,
            state_dir=state_dir / "paper",
            account=f"{namespace}/{name}",
        )
    if spec.credentials_secret_ref is None or kube is None:
        raise CredentialsMissing("spec.exchange.credentialsSecretRef is not set")
    from cleanslate.exchange.coinbase import CredentialsError
    from cleanslate.operating.kube import SecretUnavailable

    if spec.name is ExchangeName.CCXT and spec.ccxt is not None:
        settings = ccxt or CcxtSettings()
        try:
            redirect_to = settings.api_redirects.get(spec.ccxt.exchange_id)
            check_ccxt_spec(spec.ccxt, endpoints or EndpointPolicy(), redirect_to)
            data = await kube.read_secret(namespace, spec.credentials_secret_ref.name)
            return await build_ccxt(
                spec.ccxt, data, clock, dry_run=mode is Mode.DRY_RUN, settings=settings
            )
        except CcxtRefused as exc:
            raise _refusal(exc.reason, str(exc)) from None
        except SecretUnavailable as exc:
            raise CredentialsMissing(str(exc)) from None

    base_url = spec.coinbase.base_url if spec.coinbase else COINBASE_PRODUCTION
    policy = endpoints or EndpointPolicy()
    try:
        policy.check(base_url)
    except EndpointNotAllowed as exc:
        raise EndpointRefused(str(exc)) from None
    secret = spec.credentials_secret_ref.name
    try:
        data = await kube.read_secret(namespace, secret)
        return exchange_from_secret(
            data,
            clock,
            read_only=mode is Mode.DRY_RUN,
            base_url=base_url,
            allowed_origins=policy.origins(),
        )
    except (SecretUnavailable, CredentialsError) as exc:
        raise CredentialsMissing(str(exc)) from None
