"""Fake venues behind ccxt's own exchange classes, each backed by one paper engine.

``base`` explains the seam (ccxt's ``fetch``); one module per dialect: ``binance``,
``kraken``, ``coinbase``, ``coinbaseexchange``, ``okx``, ``bybit``, ``gate``, ``bitget``,
``bitstamp`` and ``upbit`` (read-only: upbit is DryRun). ``open_venue`` builds one with this
module's test credentials, and ``credentials`` gives the matching Secret data (ccxt's
``apiKey``/``secret`` keys, and ``password`` for the passphrase of Coinbase Exchange, OKX
and Bitget).
"""

from __future__ import annotations

import base64
import functools

from cleanslate.clock import Clock
from cleanslate.exchange.ccxt import TESTED
from cleanslate.exchange.paper import PaperExchange

from .base import FakeVenue, Request
from .binance import FakeBinance
from .bitget import FakeBitget
from .bitstamp import FakeBitstamp
from .bybit import FakeBybit
from .coinbase import FakeCoinbaseCcxt
from .coinbaseexchange import FakeCoinbaseExchange
from .gate import FakeGate
from .kraken import FakeKraken
from .okx import FakeOkx
from .upbit import FakeUpbit

__all__ = ["DIALECTS", "LIVE_DIALECTS", "FakeVenue", "Request", "credentials", "open_venue"]

DIALECTS = (
    "binance",
    "coinbase",
    "kraken",
    "okx",
    "bybit",
    "coinbaseexchange",
    "upbit",
    "gate",
    "bitstamp",
    "bitget",
)
"""Every venue with a fake here; a new one is added to this list (and to ``credentials`` and
``open_venue``), and the venue suites parametrized over it pick it up."""
LIVE_DIALECTS = tuple(d for d in DIALECTS if d in TESTED)
"""The dialects whose venues may trade Live (the Live gate's ``capabilities.TESTED``); the
others (upbit) are DryRun only, so suites that place orders leave them out."""

_BINANCE = {"apiKey": "binance-test-key", "secret": "binance-test-secret"}
_GATE = {"apiKey": "gate-test-key", "secret": "gate-test-secret"}
_BITSTAMP = {"apiKey": "bitstamp-test-key", "secret": "bitstamp-test-secret"}
_BITGET = {
    "apiKey": "bitget-test-key",
    "secret": "bitget-test-secret",
    "password": "bitget-test-passphrase",
}
_KRAKEN = {
    "apiKey": "kraken-test-key",
    "secret": base64.b64encode(b"kraken-test-secret: HMAC-SHA512 takes any length").decode(),
}
_BYBIT = {"apiKey": "bybit-test-key", "secret": "bybit-test-secret"}
_OKX = {"apiKey": "okx-test-key", "secret": "okx-test-secret", "password": "okx-test-passphrase"}

_COINBASEEXCHANGE = {
    "apiKey": "coinbaseexchange-test-key",
    "secret": base64.b64encode(b"coinbaseexchange-test-secret, HMAC-SHA256").decode(),
    "password": "coinbaseexchange-test-passphrase",
}

_UPBIT = {
    "apiKey": "upbit-test-access-key",
    "secret": "upbit-test-secret-key: HS256 wants 32 bytes or more",
}


@functools.cache
def _coinbase() -> dict[str, str]:
    from unit.coinbase import fixtures as fx

    return {"apiKey": fx.KEY_NAME, "secret": fx.new_private_key_pem()}


def credentials(exchange_id: str) -> dict[str, str]:
    """The key the fake of ``exchange_id`` accepts, as a ccxt credentials mapping."""
    if exchange_id == "binance":
        return dict(_BINANCE)
    if exchange_id == "kraken":
        return dict(_KRAKEN)
    if exchange_id == "coinbase":
        return dict(_coinbase())
    if exchange_id == "okx":
        return dict(_OKX)
    if exchange_id == "bybit":
        return dict(_BYBIT)
    if exchange_id == "coinbaseexchange":
        return dict(_COINBASEEXCHANGE)
    if exchange_id == "upbit":
        return dict(_UPBIT)
    if exchange_id == "gate":
        return dict(_GATE)
    if exchange_id == "bitstamp":
        return dict(_BITSTAMP)
    if exchange_id == "bitget":
        return dict(_BITGET)
    raise ValueError(f"no fake venue for {exchange_id!r}")


def open_venue(exchange_id: str, paper: PaperExchange, clock: Clock) -> FakeVenue:
    """A fake ``exchange_id`` venue over ``paper`` that accepts ``credentials(exchange_id)``."""
    key = credentials(exchange_id)
    if exchange_id == "binance":
        return FakeBinance(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "kraken":
        return FakeKraken(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "bybit":
        return FakeBybit(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "okx":
        return FakeOkx(paper, clock, api_key=key["apiKey"], secret=key["secret"],
                       passphrase=key["password"])  # fmt: skip
    if exchange_id == "upbit":
        return FakeUpbit(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "coinbaseexchange":
        return FakeCoinbaseExchange(
            paper, clock, api_key=key["apiKey"], secret=key["secret"], passphrase=key["password"]
        )
    if exchange_id == "gate":
        return FakeGate(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "bitstamp":
        return FakeBitstamp(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "bitget":
        return FakeBitget(paper, clock, api_key=key["apiKey"], secret=key["secret"],
                          passphrase=key["password"])  # fmt: skip
    return FakeCoinbaseCcxt(paper, clock, key_name=key["apiKey"], private_key_pem=key["secret"])
