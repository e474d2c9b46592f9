"""Which exchange addresses the operator may send an account's credentials to.

``spec.exchange.coinbase.baseUrl`` is tenant input: whoever can create a TradingAccount could
point it at any address (an in-cluster service, a path chosen with a trailing ``#``) and the
operator would send it a signed JWT, even in DryRun, and quote the answer in status. So the
operator only talks to the exchange's real endpoints, plus the origins its own configuration
adds (``--allow-exchange-url``, Helm value ``exchange.allowedBaseUrls``: set by the platform
team, never by a tenant). The check runs before the Secret is read.

An allowed address is an origin (scheme, host, port) and nothing else: a user, a path, a query
or a fragment in the tenant's URL is refused, since each is a way to steer the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cleanslate.core.redaction import bounded

COINBASE_PRODUCTION = "https://api.coinbase.com"
DEFAULT_PORTS = {"https": 443, "http": 80}
Origin = tuple[str, str, int]
_HINT = (
    "only the platform team can allow another origin (operator flag --allow-exchange-url, "
    "Helm value exchange.allowedBaseUrls)"
)


class EndpointNotAllowed(ValueError):
    """A base URL the operator's configuration does not allow; the message says how to allow."""


def origin_of(url: str) -> Origin:
    """``(scheme, host, port)`` of a bare origin URL, or EndpointNotAllowed saying what else
    the URL holds."""
    if any(c in url for c in "#?@\\") or any(c.isspace() for c in url):
        raise EndpointNotAllowed(
            f"{bounded(url, 120)!r} must be a bare origin: no user, query or fragment"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EndpointNotAllowed(f"{bounded(url, 120)!r} is not a valid URL") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise EndpointNotAllowed(f"{bounded(url, 120)!r} is not an http(s) URL with a host")
    if parts.path not in ("", "/"):
        raise EndpointNotAllowed(f"{bounded(url, 120)!r} must be a bare origin: no path")
    return scheme, host, port or DEFAULT_PORTS[scheme]


@dataclass(frozen=True)
class EndpointPolicy:
    """The origins an account's exchange base URL may name."""

    allowed: frozenset[Origin] = frozenset({origin_of(COINBASE_PRODUCTION)})

    @classmethod
    def with_extra(cls, urls: Iterable[str]) -> EndpointPolicy:
        """Coinbase production plus ``urls`` (the operator's flags); raises on a bad URL."""
        return cls(cls().allowed | {origin_of(url) for url in urls})

    def origins(self) -> list[str]:
        """The allowed origins as URLs, for the adapters' own allow-lists."""
        return sorted(
            f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"
            for scheme, host, port in self.allowed
        )

    def check(self, url: str) -> str:
        """``url`` if it is a bare origin the operator allows, else EndpointNotAllowed."""
        try:
            origin = origin_of(url)
        except EndpointNotAllowed as exc:
            # the hint first: a condition message is cut at one line, and the flag to set
            # matters more than the rest of the URL
            raise EndpointNotAllowed(f"{_HINT}; exchange base URL {exc}") from None
        if origin not in self.allowed:
            raise EndpointNotAllowed(
                f"{_HINT}; exchange base URL {bounded(url, 120)!r} is not allowed by the operator"
            )
        return url
