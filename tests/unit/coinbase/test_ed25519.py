"""Both CDP key types sign the token the official SDK would build for the same key.

The expected token is read from coinbase-advanced-py v1.8.4, ``coinbase/jwt_generator.py``
(``build_jwt``, ``_load_private_key``, ``_algorithm_for``), reproduced here as data:

* header: PyJWT's ``alg`` and ``typ: JWT``, plus ``kid`` = key name and ``nonce`` =
  ``secrets.token_hex()`` (64 hex digits);
* claims: ``sub`` = key name, ``iss: cdp``, ``nbf`` = now, ``exp`` = now + 120, ``uri`` =
  ``"{METHOD} api.coinbase.com{path}"``;
* ``alg``: ``EdDSA`` for an Ed25519 key, ``ES256`` for an EC key; an Ed25519 key comes as PEM
  or as base64 of 32 or 64 bytes (the first 32 are the seed).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from cleanslate.clock import SimulatedClock
from cleanslate.exchange.coinbase import Credentials, CredentialsError, exchange_from_secret

from . import fixtures as fx
from .fake_venue import FakeCoinbase

NOW = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
PATH = "/api/v3/brokerage/accounts"


def sdk_token_shape(
    key_name: str, algorithm: str, uri: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The decoded header (without its random nonce) and claims ``build_jwt`` produces."""
    nbf = int(NOW.timestamp())
    header = {"alg": algorithm, "typ": "JWT", "kid": key_name}
    claims = {"sub": key_name, "iss": "cdp", "nbf": nbf, "exp": nbf + 120, "uri": uri}
    return header, claims


def ed25519_portal_base64(key: ed25519.Ed25519PrivateKey, length: int = 64) -> str:
    """The CDP portal's Ed25519 secret: base64 of the seed followed by the public key."""
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode((seed + public)[:length]).decode()


def ed25519_pem(key: ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip


def secret_forms() -> list[Any]:
    """Each form a Secret may hold, with the algorithm the SDK signs it with (ids name the
    form, never the throwaway key)."""
    ed = ed25519.Ed25519PrivateKey.generate()
    return [
        pytest.param(fx.new_private_key_pem(), "ES256", id="ec-pem"),
        pytest.param(ed25519_portal_base64(ed), "EdDSA", id="ed25519-base64-64"),
        pytest.param(ed25519_portal_base64(ed, 32), "EdDSA", id="ed25519-base64-32"),
        pytest.param(ed25519_pem(ed), "EdDSA", id="ed25519-pem"),
    ]


@pytest.mark.parametrize(("secret", "algorithm"), secret_forms())
def test_the_token_matches_the_sdks_header_and_claims(secret: str, algorithm: str) -> None:
    credentials = Credentials.from_secret_data({"apiKeyName": fx.KEY_NAME, "apiPrivateKey": secret})

    token = credentials.sign("GET", "api.coinbase.com", PATH, NOW)

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token, credentials.public_key_pem(), algorithms=[algorithm],
        options={"verify_exp": False, "verify_nbf": False},
    )  # fmt: skip
    want_header, want_claims = sdk_token_shape(
        fx.KEY_NAME, algorithm, f"GET api.coinbase.com{PATH}"
    )
    nonce = header.pop("nonce")
    assert header == want_header and claims == want_claims
    assert len(nonce) == 64 and int(nonce, 16) >= 0


def test_the_portal_base64_key_signs_with_the_same_key_as_its_pem() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    from_base64 = Credentials(fx.KEY_NAME, ed25519_portal_base64(ed))
    from_pem = Credentials(fx.KEY_NAME, ed25519_pem(ed))

    token = from_base64.sign("GET", "api.coinbase.com", PATH, NOW)

    assert from_base64.public_key_pem() == from_pem.public_key_pem()
    assert jwt.decode(token, from_pem.public_key_pem(), algorithms=["EdDSA"],
                      options={"verify_exp": False, "verify_nbf": False})  # fmt: skip


async def test_an_ed25519_account_reads_through_a_venue_that_verifies_every_token(
    clock: SimulatedClock,
) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    secret = {"apiKeyName": fx.KEY_NAME, "apiPrivateKey": ed25519_portal_base64(ed)}
    venue = FakeCoinbase(Credentials(fx.KEY_NAME, ed25519_pem(ed)).public_key_pem(), clock)
    venue.add_account("SEI", "36.4")

    exchange = exchange_from_secret(secret, clock, read_only=True, transport=venue.transport())

    assert [b.asset for b in await exchange.balances()] == ["SEI"]
    await exchange.aclose()


@pytest.mark.parametrize(
    "secret",
    [
        base64.b64encode(b"\x01" * 48).decode(),  # neither 32 nor 64 bytes
        "not base64 at all!",
        rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    ],
    ids=["48-bytes", "not-base64", "rsa-pem"],
)  # fmt: skip
def test_other_keys_are_refused_naming_the_field_only(secret: str) -> None:
    with pytest.raises(CredentialsError, match="apiPrivateKey") as caught:
        Credentials.from_secret_data({"apiKeyName": fx.KEY_NAME, "apiPrivateKey": secret})

    assert secret.strip()[:20] not in str(caught.value)
