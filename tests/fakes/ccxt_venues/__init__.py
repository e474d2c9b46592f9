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
from collections.abc import Callable

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

_FAKES: dict[str, Callable[..., FakeVenue]] = {
    "binance": FakeBinance,
    "coinbase": FakeCoinbaseCcxt,
    "kraken": FakeKraken,
    "okx": FakeOkx,
    "bybit": FakeBybit,
    "coinbaseexchange": FakeCoinbaseExchange,
    "upbit": FakeUpbit,
    "gate": FakeGate,
    "bitstamp": FakeBitstamp,
    "bitget": FakeBitget,
}
DIALECTS = tuple(_FAKES)
"""Every venue with a fake here. A new one is one entry in ``_FAKES`` and its key in
``_KEYS``; the venue suites parametrized over DIALECTS pick it up."""
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


_KEYS = {
    "binance": _BINANCE,
    "kraken": _KRAKEN,
    "okx": _OKX,
    "bybit": _BYBIT,
    "coinbaseexchange": _COINBASEEXCHANGE,
    "upbit": _UPBIT,
    "gate": _GATE,
    "bitstamp": _BITSTAMP,
    "bitget": _BITGET,
}
"""The test key of each fake but Coinbase's (an EC key made on first use)."""


@functools.cache
def _coinbase() -> dict[str, str]:
    from unit.coinbase import fixtures as fx

    return {"apiKey": fx.KEY_NAME, "secret": fx.new_private_key_pem()}


def credentials(exchange_id: str) -> dict[str, str]:
    """The key the fake of ``exchange_id`` accepts, as a ccxt credentials mapping."""
    if exchange_id == "coinbase":
        return dict(_coinbase())
    if exchange_id not in _KEYS:
        raise ValueError(f"no fake venue for {exchange_id!r}")
    return dict(_KEYS[exchange_id])


def open_venue(exchange_id: str, paper: PaperExchange, clock: Clock) -> FakeVenue:
    """A fake ``exchange_id`` venue over ``paper`` that accepts ``credentials(exchange_id)``."""
    key = credentials(exchange_id)
    if exchange_id == "coinbase":
        return FakeCoinbaseCcxt(paper, clock, key_name=key["apiKey"], private_key_pem=key["secret"])
    # OKX, Coinbase Exchange and Bitget keys have a passphrase (ccxt's "password")
    passphrase = {"passphrase": key["password"]} if "password" in key else {}
    return _FAKES[exchange_id](
        paper, clock, api_key=key["apiKey"], secret=key["secret"], **passphrase
    )
