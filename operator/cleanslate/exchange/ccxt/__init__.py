"""Any exchange ccxt reaches (Binance, Kraken, Coinbase, ...) behind the exchange port.

Optional: importing this package imports ccxt (``pip install cleanslate[ccxt]``); nothing in
the base install imports it. ``client`` builds ccxt clients and lists the origins they call,
``markets`` converts markets and symbols, ``errors`` maps ccxt's exception tree onto the
port's, ``capabilities`` says what a venue can do and which venues were tested, ``adapter``
implements the port, and ``registry`` shares one client between the accounts of one key.
"""

from cleanslate.exchange.ccxt.adapter import CcxtExchange
from cleanslate.exchange.ccxt.capabilities import (
    TESTED,
    Capabilities,
    capabilities,
    missing_for_live,
    missing_for_maker,
)
from cleanslate.exchange.ccxt.client import NoSandbox, UnknownExchange, api_origins, make_client
from cleanslate.exchange.ccxt.errors import ReadOnlyRefused, translate
from cleanslate.exchange.ccxt.registry import ClientRegistry

__all__ = [
    "TESTED",
    "Capabilities",
    "CcxtExchange",
    "ClientRegistry",
    "NoSandbox",
    "ReadOnlyRefused",
    "UnknownExchange",
    "api_origins",
    "capabilities",
    "make_client",
    "missing_for_live",
    "missing_for_maker",
    "translate",
]
