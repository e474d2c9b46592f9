"""Coinbase Developer Platform API keys and the per-request ES256 JWT they sign.

A CDP key is a key *name* (``organizations/{org}/apiKeys/{key}``) and an EC P-256 private key
in PEM. Every REST request carries a fresh JWT (Advanced Trade API authentication guide:
"You must generate a different JWT for each unique API request"; it "expires after 2 minutes")
whose ``uri`` claim binds it to one method, host and path.

The private key is secret: it never reaches a repr, an exception message, a log line, a status
or an event. Errors name the Secret key that is wrong, never its value, and are raised
``from None`` so a library's message (which may quote the input) is not chained either.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cleanslate.exchange.errors import AuthenticationFailed

KEY_NAME_FIELD = "apiKeyName"
PRIVATE_KEY_FIELD = "apiPrivateKey"
JWT_ISSUER = "cdp"
JWT_LIFETIME_SECONDS = 120
"""The documented lifetime of a request JWT (two minutes)."""

NonceSource = Callable[[], str]


class CredentialsError(AuthenticationFailed):
    """The Secret does not hold a usable CDP key. The message names the field, never a value."""


def _default_nonce() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Credentials:
    """A CDP API key. Build it with ``from_secret_data``; the repr shows only the key name."""

    key_name: str
    private_key_pem: str = field(repr=False)
    _key: ec.EllipticCurvePrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.key_name.strip():
            raise CredentialsError(f"{KEY_NAME_FIELD} is empty")
        object.__setattr__(self, "_key", _load_ec_key(self.private_key_pem))

    def __repr__(self) -> str:
        return f"Credentials(key_name={self.key_name!r}, private_key=<redacted>)"

    __str__ = __repr__

    @classmethod
    def from_secret_data(cls, data: Mapping[str, bytes | str]) -> Credentials:
        """From a Secret's decoded values (``stringData``, or ``data`` via ``decode_secret_data``).

        Accepts the PEM with real newlines or with the literal ``\\n`` escapes the CDP portal's
        JSON download contains, since both end up in Secrets in practice.
        """
        name = _text(data, KEY_NAME_FIELD).strip()
        pem = _text(data, PRIVATE_KEY_FIELD).strip()
        if "\\n" in pem and "\n" not in pem:
            pem = pem.replace("\\n", "\n")
        return cls(key_name=name, private_key_pem=pem + "\n")

    def sign(
        self,
        method: str,
        host: str,
        path: str,
        now: datetime,
        nonce: NonceSource = _default_nonce,
    ) -> str:
        """The JWT for one request: ``uri`` is ``"GET api.coinbase.com/api/v3/brokerage/accounts"``
        (method, host and path without the query string), valid from ``now`` for 120 s."""
        issued = int(now.timestamp())
        claims = {
            "sub": self.key_name,
            "iss": JWT_ISSUER,
            "nbf": issued,
            "exp": issued + JWT_LIFETIME_SECONDS,
            "uri": f"{method.upper()} {host}{path}",
        }
        headers = {"kid": self.key_name, "nonce": nonce()}
        return jwt.encode(claims, self._key, algorithm="ES256", headers=headers)

    def public_key_pem(self) -> str:
        """The matching public key, for tests and for checking a key pair without exposing it."""
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )


def decode_secret_data(data: Mapping[str, str]) -> dict[str, bytes]:
    """A Secret's ``data`` (base64 values, as the API returns them) decoded to bytes."""
    decoded: dict[str, bytes] = {}
    for name, value in data.items():
        try:
            decoded[name] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise CredentialsError(f"Secret key {name!r} is not valid base64") from None
    return decoded


def _text(data: Mapping[str, bytes | str], name: str) -> str:
    if name not in data:
        raise CredentialsError(
            f"Secret has no {name!r} (expected {KEY_NAME_FIELD!r} and {PRIVATE_KEY_FIELD!r})"
        )
    value = data[name]
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise CredentialsError(f"Secret key {name!r} is not UTF-8 text") from None
    return value


def _load_ec_key(pem: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise CredentialsError(
            f"{PRIVATE_KEY_FIELD} is not an unencrypted PEM private key "
            "(CDP keys are EC; choose ECDSA, not Ed25519, when creating the key)"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CredentialsError(f"{PRIVATE_KEY_FIELD} must be an EC P-256 key for ES256")
    return key
