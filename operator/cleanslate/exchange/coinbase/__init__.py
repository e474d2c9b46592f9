"""Coinbase Advanced Trade (REST v3) behind the exchange port.

``auth`` signs requests with CDP API keys, ``wire`` translates JSON, ``errors`` maps answers to
the port's errors, ``ratelimit`` paces requests, ``requesting`` sends them and decides retries,
``adapter`` implements the port, ``factory`` builds one per account, and ``preflight`` checks
an account read-only before it trades.
"""

from cleanslate.exchange.coinbase.adapter import DEFAULT_BASE_URL, CoinbaseExchange
from cleanslate.exchange.coinbase.auth import Credentials, CredentialsError, decode_secret_data
from cleanslate.exchange.coinbase.errors import ReadOnlyRefused
from cleanslate.exchange.coinbase.factory import exchange_from_secret, make_client

__all__ = [
    "DEFAULT_BASE_URL",
    "CoinbaseExchange",
    "Credentials",
    "CredentialsError",
    "ReadOnlyRefused",
    "decode_secret_data",
    "exchange_from_secret",
    "make_client",
]
