"""Holdings are valued at the bid; USD and USDC at par; NAV counts what has a price."""

from __future__ import annotations

from datetime import timedelta

from cleanslate.core.holdings import open_orders_older_than, positions

from .builders import NOW, SEI_UNITS, D, cash, holding, order, sei, snapshot, wlfi


def test_a_holding_is_worth_its_quantity_at_the_bid() -> None:
    assert sei().value_usd == SEI_UNITS * D("0.1563")
    assert round(sei().value_usd or 0, 2) == D("5.69")
    assert round(wlfi().value_usd or 0, 2) == D("8.23")
    assert sei().value_of(D("0.2")) == D("0.03126")  # the guide's $0.03 residual


def test_usd_and_usdc_count_at_par_and_other_quote_currencies_by_their_quote() -> None:
    assert cash("USD", "120").value_usd == D("120")
    assert cash("USDC", "130", price="0.99").value_usd == D("130")
    assert cash("USDT", "10", price="0.999").value_usd == D("9.990")
    assert cash("BTC", "0.01", price="90000").value_usd == D("900.00")


def test_without_a_quote_there_is_no_value_and_nav_leaves_it_out() -> None:
    blind = holding("AUT", "100", None)
    assert blind.value_usd is None and blind.price_error == "price not available"
    account = snapshot(cash("USD", "100"), blind, cash("BTC", "1"), sei())
    assert account.nav_usd == D("100") + SEI_UNITS * D("0.1563")
    assert account.quote_values == {"USD": D(1), "SEI": D("0.1563")}


def test_quote_currencies_and_empty_balances_are_not_positions() -> None:
    held = [cash("USD", "1"), cash("ETH", "1", "3000"), sei(), holding("XRP", "0", "2")]
    assert [h.asset for h in positions(held, ["USD", "USDC", "USDT", "BTC", "ETH"])] == ["SEI"]


def test_only_open_orders_older_than_the_limit_are_stale() -> None:
    orders = [order("SOL-USD", timedelta(minutes=m), order_id=str(m)) for m in (29, 30, 31)]
    assert [o.order_id for o in open_orders_older_than(orders, NOW, D("30"))] == ["31"]
