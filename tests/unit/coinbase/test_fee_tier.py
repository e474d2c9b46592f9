"""The account's real fee tier from Coinbase's transaction summary (issue 28)."""

from __future__ import annotations

from decimal import Decimal

from cleanslate.exchange.coinbase import wire
from cleanslate.exchange.coinbase.adapter import CoinbaseExchange
from cleanslate.exchange.port import ReadsFees

from . import fixtures as fx
from .fake_venue import FakeCoinbase

D = Decimal


def test_the_fee_tier_is_read_in_bps_from_the_summary() -> None:
    assert wire.fee_rates(fx.transaction_summary()) == (D(60), D(120))
    assert wire.fee_rates(fx.transaction_summary("0.0025", "0.004")) == (D(25), D(40))


def test_a_summary_without_usable_rates_says_nothing_rather_than_guess() -> None:
    assert wire.fee_rates({}) is None
    broken = fx.transaction_summary()
    broken["fee_tier"]["maker_fee_rate"] = "n/a"
    assert wire.fee_rates(broken) is None
    del broken["fee_tier"]["maker_fee_rate"]
    assert wire.fee_rates(broken) is None
    negative = fx.transaction_summary("-0.001", "0.004")
    assert wire.fee_rates(negative) is None


async def test_the_adapter_reports_the_account_tier(
    exchange: CoinbaseExchange, venue: FakeCoinbase
) -> None:
    assert isinstance(exchange, ReadsFees)
    assert await exchange.fee_rates() == (D(60), D(120))
    venue.summary = fx.transaction_summary("0.0035", "0.0075")
    assert await exchange.fee_rates() == (D(35), D(75))
