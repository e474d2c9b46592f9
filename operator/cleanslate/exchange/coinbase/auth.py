"""Coinbase Developer Platform API keys and the per-request JWT they sign.

A CDP key is a key *name* (``organizations/{org}/apiKeys/{key}``) and a private key of one of
the two kinds the official SDK accepts (coinbase-advanced-py 1.8.3+, ``coinbase/jwt_generator.py``
``_load_private_key`` / ``_algorithm_for``): an EC P-256 key in PEM, signing ES256, or an
Ed25519 key (the portal's recommended type), signing EdDSA, given either in PEM or as the
portal's base64 string of 32 (seed) or 64 (seed and public key) bytes.
Every REST request carries a fresh JWT (Advanced Trade API authentication guide:
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
from dataclasses import InitVar, dataclass
from datetime import datetime
from typing import ClassVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from cleanslate.exchange.errors import AuthenticationFailed

KEY_NAME_FIELD = "apiKeyName"
PRIVATE_KEY_FIELD = "apiPrivateKey"
JWT_ISSUER = "cdp"
JWT_LIFETIME_SECONDS = 120
"""The documented lifetime of a request JWT (two minutes)."""

NonceSource = Callable[[], str]
SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class CredentialsError(AuthenticationFailed):
    """The Secret does not hold a usable CDP key. The message names the field, never a value."""


def _default_nonce() -> str:
    """64 hex digits, as the SDK's ``secrets.token_hex()`` draws them."""
    return secrets.token_hex(32)


@dataclass(frozen=True)
class Credentials:
    """A CDP API key. Build it with ``from_secret_data``; the repr shows only the key name."""

    key_name: str
    private_key_pem: InitVar[str]
    """The private key as the Secret holds it: PEM, or an Ed25519 key in base64. An init-only
    value: parsed into the signing key and not kept, so neither ``repr`` nor
    ``dataclasses.asdict`` (a debug dump, a log of the object) can show it."""
    _key: ClassVar[SigningKey]
    """Set per instance in ``__post_init__``; a ClassVar annotation keeps the key object out
    of the dataclass fields (``asdict`` would deep-copy it)."""

    def __post_init__(self, private_key_pem: str) -> None:
        if not self.key_name.strip():
            raise CredentialsError(f"{KEY_NAME_FIELD} is empty")
        object.__setattr__(self, "_key", _load_key(private_key_pem))

    @property
    def algorithm(self) -> str:
        """``EdDSA`` for an Ed25519 key, ``ES256`` for an EC P-256 key."""
        return "EdDSA" if isinstance(self._key, ed25519.Ed25519PrivateKey) else "ES256"

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
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)

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


def _load_key(text: str) -> SigningKey:
    """PEM when it looks like PEM, else the portal's base64 Ed25519 key; any other kind of key
    is refused, naming the field only."""
    if text.lstrip().startswith("-----BEGIN"):
        return _load_pem(text)
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CredentialsError(
            f"{PRIVATE_KEY_FIELD} is neither a PEM private key nor a base64 Ed25519 key"
        ) from None
    if len(raw) not in (32, 64):
        raise CredentialsError(f"{PRIVATE_KEY_FIELD}: a base64 Ed25519 key is 32 or 64 bytes")
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])


def _load_pem(pem: str) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise CredentialsError(
            f"{PRIVATE_KEY_FIELD} is not an unencrypted PEM private key"
        ) from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CredentialsError(
            f"{PRIVATE_KEY_FIELD} must be an EC P-256 (ES256) or an Ed25519 (EdDSA) key"
        )
    return key
