"""Throwaway CDP-shaped credentials for the security tests."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_NAME = "organizations/0f6c5b5e-1111-2222-3333-444455556666/apiKeys/9a8b7c6d-aaaa-bbbb"


def new_private_key_pem() -> str:
    """A fresh EC P-256 key in the SEC1 PEM the CDP portal hands out."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
