"""Where an adapter may send a signed request: its allow-list of origins, checked per hop.

The operator checks an account's exchange origins against its policy before it reads the
Secret; the adapters check again, on every request they send, because a check made once
before the Secret is read says nothing about where an answer sends the next request:

* a redirect (``3xx``) is never followed. The request carried the venue's signed headers
  (Kraken's ``API-Key``/``API-Sign``, a Coinbase JWT), and following it would hand them to
  whatever the answer names. It is refused as ``EndpointRefused``, a permanent error that
  fails the read in status and never reads as an empty answer ("nothing held");
* a request to an origin outside the adapter's allow-list is refused before it is sent.

An origin here is ``scheme://host:port``, lowercased, with the scheme's default port written
out, so ``https://API.coinbase.com`` and ``https://api.coinbase.com:443`` are one origin.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from cleanslate.core.redaction import bounded
from cleanslate.exchange.errors import EndpointRefused

DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of an absolute http(s) URL, or None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or DEFAULT_PORTS[scheme]}"


def origins_of(urls: Iterable[str]) -> frozenset[str]:
    """The origins of ``urls`` (entries that are not http(s) URLs are left out)."""
    return frozenset(o for o in map(origin_of, urls) if o is not None)


def check_origin(url: str, allowed: frozenset[str]) -> None:
    """Nothing when ``url``'s origin is allowed, else EndpointRefused naming the origin."""
    origin = origin_of(url)
    if origin is None or origin not in allowed:
        shown = origin or bounded(url, 120)
        raise EndpointRefused(
            f"refused to send a request to {shown}: not an origin this adapter may call "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
        )


def refuse_redirect(status: int, url: str, location: str) -> None:
    """EndpointRefused for a redirect answer (any 3xx); credentials never follow one."""
    if 300 <= status < 400:
        target = origin_of(location) or bounded(location, 120) or "(no Location)"
        raise EndpointRefused(
            f"HTTP {status} from {origin_of(url) or bounded(url, 120)} redirects to {target}: "
            "redirects are never followed with credentials; the account's endpoint must "
            "answer itself"
        )
