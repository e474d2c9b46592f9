"""Building ccxt-backed adapters for accounts, and deciding whether they may trade Live.

ccxt is optional: nothing here imports it until an account asks for ``spec.exchange.name:
ccxt``, and an operator without it says so in the account's condition
("ccxt is not installed (pip install cleanslate[ccxt])") instead of failing to start.

Before any Secret is read, every API origin the configured client could call (its
``urls['api']``, after sandbox mode) must be allowed by the operator's endpoint policy, as
for Coinbase: the platform decides where credentials go. Tenants choose only the exchange id
and the sandbox flag.

Accounts on the same (exchange id, sandbox, credentials) share one client (``ClientRegistry``),
so they share its rate limiter; the last adapter closed closes it.

**Live gate.** A ccxt venue trades Live only when it has what crash safety needs (client
order ids, open-order listing, cancelling) and what the maker-first TWAP needs (post-only;
PurgePolicy has no taker-only mode), when the gate proved that ccxt really sends our client
id, post-only and IOC under the venue's names and can look closed orders up
(``ccxt.proving``: orders built offline, stopped before the network; no opt-in overrides a
failed proof), and when its client-id semantics were tested (``capabilities.TESTED``) or the
platform team opted its id in (``--ccxt-live-exchange``).
Otherwise the account runs as DryRun with a read-only adapter, and ``ExchangeCapable=False``
says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cleanslate.api.account import Ccxt
from cleanslate.clock import Clock
from cleanslate.core.conditions import FALSE, TRUE, Desired
from cleanslate.exchange.endpoints import EndpointNotAllowed, EndpointPolicy
from cleanslate.exchange.port import Exchange

if TYPE_CHECKING:
    from cleanslate.exchange.ccxt import ClientRegistry

INSTALL_HINT = "ccxt is not installed (pip install cleanslate[ccxt])"
CONDITION = "ExchangeCapable"


class CcxtRefused(Exception):
    """The account cannot have a ccxt adapter; ``reason`` is the condition's reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Gate:
    """Whether a built adapter may trade Live, as the ExchangeCapable condition says."""

    capable: bool
    reason: str
    message: str

    def condition(self) -> Desired:
        return Desired(CONDITION, TRUE if self.capable else FALSE, self.reason, self.message)


@dataclass
class CcxtSettings:
    """The operator's ccxt configuration (flags, never tenant input) and its shared clients."""

    live_exchanges: frozenset[str] = frozenset()
    """Untested exchange ids the platform team lets trade Live (--ccxt-live-exchange)."""
    api_redirects: Mapping[str, str] = field(default_factory=dict)
    """Exchange id -> origin that receives every request of that venue instead
    (--ccxt-api-url): a forwarding proxy or a test venue. Platform configuration only; the
    origin must also be allowed (--allow-exchange-url), like any other."""
    _registry: ClientRegistry | None = field(default=None, repr=False)

    def registry(self) -> ClientRegistry:
        if self._registry is None:
            from cleanslate.exchange.ccxt import ClientRegistry

            self._registry = ClientRegistry()
        return self._registry


def _ccxt_module() -> Any:
    try:
        import cleanslate.exchange.ccxt as adapter
    except ImportError:
        raise CcxtRefused("CcxtNotInstalled", INSTALL_HINT) from None
    return adapter


def redirect(client: Any, origin: str) -> None:
    """Send every request of ``client`` to ``origin`` (``--ccxt-api-url``): each API URL
    ``https://HOST/PATH`` becomes ``ORIGIN/HOST/PATH``, so one proxy or test venue serves all
    of a venue's hosts and still tells them apart. Applying it twice changes nothing."""
    base = origin.rstrip("/")
    hostname = getattr(client, "hostname", None)

    def rewrite(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {key: rewrite(value) for key, value in node.items()}
        if not isinstance(node, str) or node.startswith(base + "/"):
            return node
        url = node.replace("{hostname}", str(hostname)) if hostname else node
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return node
        return f"{base}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    client.urls["api"] = rewrite(client.urls.get("api"))


def check_spec(config: Ccxt, endpoints: EndpointPolicy, redirect_to: str | None = None) -> None:
    """Everything decidable before the Secret is read: ccxt present, the id known to it, no
    unsupported option, and every origin of the client allowed (after the platform's
    ``--ccxt-api-url`` redirect, when it sets one for this id)."""
    adapter = _ccxt_module()
    if config.sub_account is not None:
        raise CcxtRefused(
            "SubAccountUnsupported",
            "spec.exchange.ccxt.subAccount is not supported: use the sub-account's own API key "
            "in the Secret (docs/exchanges.md)",
        )
    try:
        probe = adapter.make_client(config.exchange_id, {}, sandbox=config.sandbox)
    except adapter.UnknownExchange as exc:
        raise CcxtRefused("UnknownExchange", str(exc)) from None
    except adapter.NoSandbox as exc:
        raise CcxtRefused("SandboxUnsupported", str(exc)) from None
    if redirect_to:
        redirect(probe, redirect_to)
    refused = []
    for origin in adapter.api_origins(probe):
        try:
            endpoints.check(origin)
        except EndpointNotAllowed:
            refused.append(origin)
    if refused:
        raise CcxtRefused(
            "EndpointNotAllowed",
            f"ccxt {config.exchange_id} would call origins the operator does not allow: "
            f"{', '.join(refused)}; only the platform team can allow them (operator flag "
            "--allow-exchange-url, Helm value exchange.allowedBaseUrls)",
        )


def credentials_of(data: Mapping[str, str]) -> dict[str, str]:
    """ccxt's credentials from a decoded Secret; names a missing key, never a value."""
    missing = [key for key in ("apiKey", "secret") if not data.get(key)]
    if missing:
        raise CcxtRefused(
            "CredentialsMissing",
            f"the Secret has no {' or '.join(repr(k) for k in missing)} "
            "(ccxt expects apiKey, secret and, where the venue has one, password)",
        )
    return {k: data[k] for k in ("apiKey", "secret", "password") if data.get(k)}


def gate(exchange: Exchange, settings: CcxtSettings) -> Gate | None:
    """The Live gate of a ccxt adapter; None for every other adapter (no condition)."""
    try:
        from cleanslate.exchange.ccxt import CcxtExchange
    except ImportError:
        return None
    if not isinstance(exchange, CcxtExchange):
        return None
    from cleanslate.exchange.ccxt.proving import Proof, cached_proof

    proof = cached_proof(exchange.exchange_id) or Proof(("the gate's proof was not made",))
    return gate_for(exchange.exchange_id, exchange.capabilities, settings, proof)


def gate_for(exchange_id: str, caps: Any, settings: CcxtSettings, proof: Any = None) -> Gate:
    """Live is allowed with every capability present, what ``proof`` checks proven (when
    given), and the id tested or opted in."""
    from cleanslate.exchange.ccxt import TESTED, missing_for_live, missing_for_maker
    from cleanslate.exchange.ccxt.capabilities import described

    missing = [*missing_for_live(caps), *missing_for_maker(caps)]
    if missing:
        return Gate(
            False,
            "MissingCapability",
            f"ccxt {exchange_id} lacks {described(missing)}: the account runs as DryRun "
            "(crash safety needs client order ids, open orders and cancel; the maker-first "
            "TWAP needs post-only)",
        )
    if proof is not None and not proof.proven:
        return Gate(
            False,
            "Unproven",
            f"ccxt {exchange_id}: {'; '.join(proof.unproven)}: the account runs as DryRun "
            "(the gate builds orders through ccxt offline and checks what would reach the "
            "venue; no flag overrides it)",
        )
    if exchange_id not in TESTED and exchange_id not in settings.live_exchanges:
        return Gate(
            False,
            "UntestedExchange",
            f"ccxt {exchange_id}: client order id semantics not tested; the account runs as "
            f"DryRun until the platform team opts it in (--ccxt-live-exchange {exchange_id}, "
            "Helm value exchange.ccxt.liveExchanges)",
        )
    tested = "tested" if exchange_id in TESTED else "opted in by the platform team"
    return Gate(True, "Capable", f"ccxt {exchange_id} ({tested}): Live allowed")


async def build(
    config: Ccxt,
    secret_data: Mapping[str, str],
    clock: Clock,
    *,
    dry_run: bool,
    settings: CcxtSettings,
) -> Exchange:
    """The adapter on the shared client; read-only in DryRun and whenever the gate refuses
    Live, so no order endpoint can be reached whatever happens above it."""
    from cleanslate.exchange.ccxt import CcxtExchange, capabilities
    from cleanslate.exchange.ccxt.proving import proof_of

    credentials = credentials_of(secret_data)
    registry = settings.registry()
    key, client = registry.acquire(config.exchange_id, credentials, sandbox=config.sandbox)
    redirect_to = settings.api_redirects.get(config.exchange_id)
    if redirect_to:
        redirect(client, redirect_to)
    proof = await proof_of(config.exchange_id, client.has)
    verdict = gate_for(config.exchange_id, capabilities(client), settings, proof)
    return CcxtExchange(
        client,
        clock,
        exchange_id=config.exchange_id,
        read_only=dry_run or not verdict.capable,
        on_close=partial(registry.release, key),
    )
