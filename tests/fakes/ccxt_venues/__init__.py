"""Fake venues behind ccxt's own exchange classes, each backed by one paper engine.

``base`` explains the seam (ccxt's ``fetch``); one module per dialect: ``binance``,
``kraken``, ``coinbase``, ``gate``. ``open_venue`` builds one with this module's test
credentials, and ``credentials`` gives the matching Secret data (ccxt's ``apiKey``/``secret`` keys).
"""

from __future__ import annotations

import base64
import functools

from cleanslate.clock import Clock
from cleanslate.exchange.paper import PaperExchange

from .base import FakeVenue, Request
from .binance import FakeBinance
from .coinbase import FakeCoinbaseCcxt
from .gate import FakeGate
from .kraken import FakeKraken

__all__ = ["DIALECTS", "FakeVenue", "Request", "credentials", "open_venue"]

DIALECTS = ("binance", "coinbase", "kraken", "gate")

_BINANCE = {"apiKey": "binance-test-key", "secret": "binance-test-secret"}
_GATE = {"apiKey": "gate-test-key", "secret": "gate-test-secret"}
_KRAKEN = {
    "apiKey": "kraken-test-key",
    "secret": base64.b64encode(b"kraken-test-secret: HMAC-SHA512 takes any length").decode(),
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
    if exchange_id == "gate":
        return dict(_GATE)
    raise ValueError(f"no fake venue for {exchange_id!r}")


def open_venue(exchange_id: str, paper: PaperExchange, clock: Clock) -> FakeVenue:
    """A fake ``exchange_id`` venue over ``paper`` that accepts ``credentials(exchange_id)``."""
    key = credentials(exchange_id)
    if exchange_id == "binance":
        return FakeBinance(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "kraken":
        return FakeKraken(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    if exchange_id == "gate":
        return FakeGate(paper, clock, api_key=key["apiKey"], secret=key["secret"])
    return FakeCoinbaseCcxt(paper, clock, key_name=key["apiKey"], private_key_pem=key["secret"])
