"""``cleanslate check``: the read-only preflight of a live account, before it trades.

Give it the account, its policy and the Secret holding the key, as files::

    cleanslate check -f account.yaml -f policy.yaml -f secret.yaml

It prints one line per finding and exits 0 when nothing is an error (warnings included), 1
when something is. What is checked is the venue's (``exchange.venues``): nothing for a paper
account, the key, clock and products for Coinbase, ``exchange.ccxt_check`` for ccxt.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from cleanslate.api.policy import PurgePolicy
from cleanslate.cli.manifests import ManifestError, Manifests
from cleanslate.clock import Clock
from cleanslate.exchange.ccxt_check import ClientHook
from cleanslate.exchange.findings import Preflight
from cleanslate.exchange.venues import CheckRequest, venue_of

EXIT_FAILED = 1


@dataclass(frozen=True)
class CheckReport:
    text: str
    exit_code: int


async def run_check(
    manifests: Manifests,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    ccxt_hook: ClientHook | None = None,
) -> CheckReport:
    spec = manifests.account.spec
    venue = venue_of(spec.exchange.name)
    if not venue.needs_secret:
        found = await venue.check(CheckRequest(spec, PurgePolicy().spec, {}, clock))
        return CheckReport("\n".join(f.line() for f in found.findings), 0)
    ref = spec.exchange.credentials_secret_ref
    secret = manifests.secrets.get(ref.name) if ref else None
    if ref is None or secret is None:
        wanted = ref.name if ref else "?"
        raise ManifestError(
            f"spec.exchange.credentialsSecretRef: Secret {wanted!r} is not among the files "
            "(add -f secret.yaml)"
        )
    policy = (manifests.policy or PurgePolicy()).spec
    request = CheckRequest(spec, policy, secret, clock, transport, ccxt_hook)
    result = await venue.check(request)
    return CheckReport(_text(result), 0 if result.passed else EXIT_FAILED)


def _text(result: Preflight) -> str:
    lines = [f.line() for f in result.findings]
    verdict = "passed" if result.passed else "FAILED"
    lines.append(
        f"preflight {verdict}: {len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    return "\n".join(lines)
