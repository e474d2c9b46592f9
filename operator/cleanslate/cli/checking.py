"""``cleanslate check``: the read-only preflight of a live account, before it trades.

Give it the account, its policy and the Secret holding the key, as files::

    cleanslate check -f account.yaml -f policy.yaml -f secret.yaml

It prints one line per finding and exits 0 when nothing is an error (warnings included), 1
when something is. A paper account has nothing to check; a ccxt account gets its own checks
(``checking_ccxt``).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from cleanslate.api.account import ExchangeName
from cleanslate.api.policy import PurgePolicy
from cleanslate.cli.checking_ccxt import ClientHook, check_ccxt
from cleanslate.cli.manifests import ManifestError, Manifests
from cleanslate.clock import Clock
from cleanslate.exchange.coinbase import DEFAULT_BASE_URL
from cleanslate.exchange.coinbase.preflight import Expectations, Preflight, check_secret

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
    if spec.exchange.name is ExchangeName.PAPER:
        return CheckReport("ok      exchange    the paper exchange needs no preflight", 0)
    ref = spec.exchange.credentials_secret_ref
    secret = manifests.secrets.get(ref.name) if ref else None
    if ref is None or secret is None:
        wanted = ref.name if ref else "?"
        raise ManifestError(
            f"spec.exchange.credentialsSecretRef: Secret {wanted!r} is not among the files "
            "(add -f secret.yaml)"
        )
    policy = (manifests.policy or PurgePolicy()).spec
    if spec.exchange.name is ExchangeName.CCXT:
        found = await check_ccxt(spec, policy, secret, clock, hook=ccxt_hook)
        return CheckReport(_text(found), 0 if found.passed else EXIT_FAILED)
    base_url = spec.exchange.coinbase.base_url if spec.exchange.coinbase else DEFAULT_BASE_URL
    expect = Expectations.of(spec, policy)
    result = await check_secret(secret, clock, expect, base_url=base_url, transport=transport)
    return CheckReport(_text(result), 0 if result.passed else EXIT_FAILED)


def _text(result: Preflight) -> str:
    lines = [f.line() for f in result.findings]
    verdict = "passed" if result.passed else "FAILED"
    lines.append(
        f"preflight {verdict}: {len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    return "\n".join(lines)
