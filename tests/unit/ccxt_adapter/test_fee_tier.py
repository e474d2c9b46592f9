"""The account's fee tier through ccxt's fetchTradingFees (issue 28). The payload is ccxt's
unified fee structure (docs.ccxt.com, "Fee Structure": symbol, maker, taker as fractions)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cleanslate.exchange.ccxt import CcxtExchange

D = Decimal
NOW = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)


class _Client:
    def __init__(self, has: bool, fees: Any = None) -> None:
        self.has: dict[str, Any] = {"fetchTradingFees": has}
        self.id = "kraken"
        self.fees, self.calls = fees, 0

    async def fetch_trading_fees(self) -> Any:
        self.calls += 1
        return self.fees

    async def close(self) -> None:
        return None


def adapter(client: _Client) -> CcxtExchange:
    clock: Any = type("C", (), {"now": lambda self: NOW})()
    return CcxtExchange(client, clock, exchange_id="kraken", read_only=True)


def fee(symbol: str, maker: float, taker: float) -> dict[str, Any]:
    return {"info": {}, "symbol": symbol, "maker": maker, "taker": taker, "percentage": True}


async def test_the_rates_most_symbols_show_are_the_account_tier() -> None:
    client = _Client(
        True,
        {
            "BTC/USD": fee("BTC/USD", 0.0025, 0.004),
            "ETH/USD": fee("ETH/USD", 0.0025, 0.004),
            "USDT/USD": fee("USDT/USD", 0.0, 0.002),  # a promotional pair
        },
    )
    assert await adapter(client).fee_rates() == (D(25), D(40))


async def test_a_venue_without_the_call_or_the_fields_says_nothing() -> None:
    without = _Client(False)
    assert await adapter(without).fee_rates() is None and without.calls == 0
    empty = _Client(True, {"BTC/USD": {"symbol": "BTC/USD"}})
    assert await adapter(empty).fee_rates() is None
