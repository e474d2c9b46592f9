"""Credential shapes scrubbed from any text before it is logged, put in status or an event.

Secrets must not leave the operator whatever the log level or whatever an exchange (or an
address posing as one) answers. Code that handles a secret never prints it; this module is the
second line, for text that passes through libraries (a Kubernetes client that logs response
bodies at DEBUG, an HTTP error page that quotes the request). It recognises shapes, not values,
so it needs no registry of the secrets read:

* PEM private keys, with real newlines or the ``\\n`` escapes of a JSON download, terminated
  or cut off;
* the base64 of a PEM (how a Secret's ``data`` carries ``apiPrivateKey``: ``LS0tLS1CRUdJTi``);
* JWTs (``eyJ...``.``eyJ...``.sig), ``Bearer`` tokens and ``Authorization`` header values;
* the ``data``/``stringData`` map of anything that names itself a Secret, and any value of a
  key called like a credential (``apiPrivateKey``, ``privateKey``, ``token``, ``password``,
  and ccxt's ``apiKey``, ``secret``);
* the venue headers and query parameters ccxt signs requests with (Binance ``X-MBX-APIKEY``
  and ``signature=``, Kraken ``API-Key``/``API-Sign``, ``*-ACCESS-KEY``/``-SIGN``/
  ``-PASSPHRASE`` of Coinbase's and OKX's older schemes, Bybit ``X-BAPI-*``), quoted or not.

``bounded`` makes exchange-supplied text safe to show: redacted, printable, one line, short.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"
ERROR_TEXT_LIMIT = 200
"""Most characters of an exchange's error text that reach a status message or an event."""

_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY-----|.*)",
    re.DOTALL,
)
_PEM_BASE64 = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=_\\-]*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BEARER = re.compile(
    r"(?i)\b(bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{12,}"
)
"""A token after its scheme: long and not a plain word ("basic information" stays)."""
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+")
_SECRET_KEYS = re.compile(
    r"(?i)((?:api_?private_?key|private_?key|api_?secret|secret_?key|passphrase|password|"
    r"token|api_?key|secret)['\"]?\s*[:=]\s*)(b?['\"])(?:\\.|(?!\2).)*\2"
)
_VENUE_AUTH = re.compile(
    r"(?i)\b(x-mbx-apikey|api-key|api-sign|[a-z]+-access-(?:key|sign|passphrase)|"
    r"x-bapi-api-key|x-bapi-sign|signature)(['\"]?\s*[:=]\s*['\"]?)[^'\"\s&,}]+"
)
"""ccxt's signing headers and Binance's ``signature`` query parameter, quoted or bare."""
_SECRET_DATA = re.compile(r"(['\"](?:data|stringData|string_data)['\"]\s*:\s*)\{[^{}]*\}")
_NAMES_A_SECRET = re.compile(r"""['"]kind['"]\s*:\s*['"]Secret['"]|V1Secret\(|kind=Secret""")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def redact(text: str) -> str:
    """``text`` with every credential shape replaced by ``<redacted>``."""
    if _NAMES_A_SECRET.search(text):
        text = _SECRET_DATA.sub(rf"\1{{{REDACTED}}}", text)
    text = _PEM.sub(REDACTED, text)
    text = _PEM_BASE64.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    text = _AUTH_HEADER.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _VENUE_AUTH.sub(rf"\1\2{REDACTED}", text)
    return _SECRET_KEYS.sub(rf"\1\2{REDACTED}\2", text)


def bounded(text: str, limit: int = ERROR_TEXT_LIMIT) -> str:
    """Untrusted text fit for a status message: redacted, control characters collapsed to one
    space (no forged log lines or terminal escapes), at most ``limit`` characters."""
    flat = " ".join(_UNPRINTABLE.sub(" ", redact(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
