"""CDP credentials and the per-request JWT: well-formed, verifiable, and never leaked."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

import jwt
import pytest

from cleanslate.exchange.coinbase import Credentials, CredentialsError, decode_secret_data
from cleanslate.exchange.errors import AuthenticationFailed

from . import fixtures as fx

NOW = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
URI_PATH = "/api/v3/brokerage/accounts"


def decode(token: str, credentials: Credentials) -> dict[str, object]:
    return jwt.decode(
        token,
        credentials.public_key_pem(),
        algorithms=["ES256"],
        options={"verify_exp": False, "verify_nbf": False},
    )


def test_jwt_verifies_with_the_public_key_and_carries_the_documented_claims(
    credentials: Credentials,
) -> None:
    token = credentials.sign("GET", "api.coinbase.com", URI_PATH, NOW)

    claims = decode(token, credentials)

    nbf = int(NOW.timestamp())
    assert claims == {
        "sub": fx.KEY_NAME,
        "iss": "cdp",
        "nbf": nbf,
        "exp": nbf + 120,
        "uri": "GET api.coinbase.com/api/v3/brokerage/accounts",
    }


def test_jwt_header_names_the_key_and_a_fresh_random_nonce(credentials: Credentials) -> None:
    first = jwt.get_unverified_header(credentials.sign("GET", "h", URI_PATH, NOW))
    second = jwt.get_unverified_header(credentials.sign("GET", "h", URI_PATH, NOW))

    assert first["alg"] == "ES256" and first["kid"] == fx.KEY_NAME
    assert len(first["nonce"]) == 64 and int(first["nonce"], 16) >= 0  # SDK: token_hex()
    assert first["nonce"] != second["nonce"]


def test_jwt_uses_an_injected_nonce_source(credentials: Credentials) -> None:
    token = credentials.sign("post", "h", "/p", NOW, nonce=lambda: "abc123")

    assert jwt.get_unverified_header(token)["nonce"] == "abc123"
    assert decode(token, credentials)["uri"] == "POST h/p"


def test_jwt_is_rejected_after_its_two_minutes(credentials: Credentials) -> None:
    token = credentials.sign("GET", "h", URI_PATH, datetime(2020, 1, 1, tzinfo=UTC))

    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, credentials.public_key_pem(), algorithms=["ES256"])


def test_jwt_signed_by_another_key_does_not_verify(credentials: Credentials) -> None:
    other = Credentials(fx.KEY_NAME, fx.new_private_key_pem())
    token = other.sign("GET", "h", URI_PATH, NOW)

    with pytest.raises(jwt.InvalidSignatureError):
        decode(token, credentials)


def test_secret_data_as_bytes_and_with_escaped_newlines_is_accepted(
    private_key_pem: str,
) -> None:
    escaped = private_key_pem.strip().replace("\n", "\\n")

    from_bytes = Credentials.from_secret_data(
        {"apiKeyName": fx.KEY_NAME.encode(), "apiPrivateKey": private_key_pem.encode()}
    )
    from_escaped = Credentials.from_secret_data(
        {"apiKeyName": fx.KEY_NAME, "apiPrivateKey": escaped}
    )

    assert from_bytes.public_key_pem() == from_escaped.public_key_pem()


def test_a_secrets_base64_data_decodes_to_credentials(private_key_pem: str) -> None:
    data = {
        "apiKeyName": base64.b64encode(fx.KEY_NAME.encode()).decode(),
        "apiPrivateKey": base64.b64encode(private_key_pem.encode()).decode(),
    }

    credentials = Credentials.from_secret_data(decode_secret_data(data))

    assert credentials.key_name == fx.KEY_NAME


def test_bad_base64_names_the_key_not_the_value() -> None:
    with pytest.raises(CredentialsError) as caught:
        decode_secret_data({"apiPrivateKey": "not*base64*SECRETVALUE"})

    assert "apiPrivateKey" in str(caught.value)
    assert "SECRETVALUE" not in str(caught.value)


def test_missing_field_is_a_credentials_error_and_an_authentication_failure() -> None:
    with pytest.raises(CredentialsError, match="apiPrivateKey") as caught:
        Credentials.from_secret_data({"apiKeyName": fx.KEY_NAME})

    assert isinstance(caught.value, AuthenticationFailed)


def test_a_garbled_key_error_holds_no_key_material(private_key_pem: str) -> None:
    garbled = private_key_pem.replace("A", "!", 3)

    with pytest.raises(CredentialsError) as caught:
        Credentials.from_secret_data({"apiKeyName": fx.KEY_NAME, "apiPrivateKey": garbled})

    assert_no_key_material(str(caught.value), private_key_pem)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_repr_str_and_logs_redact_the_private_key(
    credentials: Credentials, private_key_pem: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("credentials %s %r", credentials, credentials)

    for text in (repr(credentials), str(credentials), caplog.text):
        assert fx.KEY_NAME in text
        assert_no_key_material(text, private_key_pem)


def assert_no_key_material(text: str, pem: str) -> None:
    body = "".join(pem.strip().splitlines()[1:-1])
    assert "PRIVATE KEY" not in text
    for start in range(0, len(body) - 16, 16):
        assert body[start : start + 16] not in text


def test_neither_repr_nor_asdict_holds_key_material(private_key_pem: str) -> None:
    """A debug dump of the credentials (``dataclasses.asdict``, ``repr``, ``vars`` of its
    fields) shows the key name only (issue 27)."""
    import dataclasses

    credentials = Credentials(fx.KEY_NAME, private_key_pem)
    assert dataclasses.asdict(credentials) == {"key_name": fx.KEY_NAME}
    for text in (repr(credentials), str(credentials), str(dataclasses.asdict(credentials))):
        assert_no_key_material(text, private_key_pem)
    assert credentials.sign("GET", "api.coinbase.com", "/x", NOW)  # still signs
