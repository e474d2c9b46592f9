"""A USDT-settled account on ccxt's real binance class (over the paper-backed fake) reaches
CLEAN: every holding sells through its -USDT market, USDT is never sold, and values are in
USD through USDC/USDT (USDC at par, the default ``usdParCurrencies``).

The ``usdt`` paper market is Binance's shape: every product against USDT, no USD market.
Before settlement currencies, every holding there was an "unknown product" (a -USD market
that does not exist) and nothing could ever be sold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from cycle.harness import account_spec, policy

from cleanslate.api.account import AccountState, PlanAction, TradingAccountSpec
from cleanslate.clock import SimulatedClock
from cleanslate.cycle import CycleOptions
from fakes.ccxt_venues import FakeVenue

from .rig import CcxtRig, venue_for

D = Decimal
HOLDINGS = {"USDT": "150", "USDC": "20", "SEI": "36.4", "WLFI": "57.5", "AMP": "3000"}


def _spec(**extra: Any) -> TradingAccountSpec:
    return account_spec(HOLDINGS, market="usdt", settlementCurrencies=["USDT"], **extra)


async def _until_clean(exchange_id: str, spec: TradingAccountSpec) -> tuple[CcxtRig, FakeVenue]:
    """Cycles of ``spec`` on the fake ``exchange_id`` until CLEAN or 12 cycles."""
    clock = SimulatedClock()
    venue = venue_for(exchange_id, spec, clock)
    rig = CcxtRig(spec, policy(), clock=clock, venue=venue, exchange_id=exchange_id)
    for _ in range(12):
        await rig.cycle()
        if rig.status.account_state is AccountState.CLEAN:
            break
        rig.wait_interval()
    return rig, venue


async def test_a_usdt_settled_binance_account_reaches_clean_selling_through_usdt() -> None:
    rig, venue = await _until_clean("binance", _spec())

    assert rig.status.account_state is AccountState.CLEAN, rig.status.blockers
    sold = {r.product_id for r in rig.exchange.requests}
    assert sold == {"SEI-USDT", "WLFI-USDT", "AMP-USDT"}, sold
    held = {b.asset: b.total for b in await venue.paper.balances()}
    assert held.get("SEI", D(0)) == held.get("WLFI", D(0)) == held.get("AMP", D(0)) == 0
    assert held["USDT"] > D(150), "the sales were paid in USDT"
    assert held["USDC"] == D(20), "USDC is a quote currency: never sold"
    await rig.close()


async def test_usdt_is_valued_through_usdc_and_the_holdings_in_usd() -> None:
    spec = _spec(mode="DryRun")
    clock = SimulatedClock()
    venue = venue_for("binance", spec, clock)
    rig = CcxtRig(spec, policy(), clock=clock, venue=venue, exchange_id="binance", read_only=True)

    await rig.cycle(CycleOptions(dry_run=True))

    plan = {p.symbol: p for p in rig.status.plan}
    assert {"SEI-USDT", "WLFI-USDT", "AMP-USDT"} <= set(plan), plan
    assert plan["WLFI-USDT"].action is PlanAction.PURGE
    assert not [s for s in plan if s.startswith(("USDT", "USDC"))], "cash is never planned"
    assert venue.order_writes() == [], "DryRun over a USDT venue reaches no order endpoint"
    usdc_usdt = await venue.paper.quote("USDC-USDT")
    usdt_in_usd = 1 / usdc_usdt.ask
    assert usdt_in_usd < 1, "USDT is priced by the venue, not assumed at par"
    nav = rig.status.total_value_usd
    assert nav is not None
    cash = D(150) * usdt_in_usd + D(20)
    assert cash < nav < cash + D(200), nav
    await rig.close()


async def test_a_usd_settled_account_on_a_usdt_venue_sells_nothing_and_says_why() -> None:
    """Without settlementCurrencies (default [USD]) the same account behaves as before: no
    -USD market, every holding unknown, nothing sold."""
    spec = account_spec(HOLDINGS, market="usdt", mode="DryRun")
    clock = SimulatedClock()
    venue = venue_for("binance", spec, clock)
    rig = CcxtRig(spec, policy(), clock=clock, venue=venue, exchange_id="binance", read_only=True)

    await rig.cycle(CycleOptions(dry_run=True))

    symbols = {p.symbol for p in rig.status.plan}
    assert {"SEI-USD", "WLFI-USD", "AMP-USD"} <= symbols, symbols
    assert venue.order_writes() == []
    await rig.close()


EUR_HOLDINGS = {"EUR": "150", "SEI": "36.4", "WLFI": "57.5"}


def _eur_spec(**extra: Any) -> TradingAccountSpec:
    """A EUR-settled account on Kraken's shape (paper market ``eur``: every product against
    EUR, and EUR-USD, the one USD market)."""
    return account_spec(EUR_HOLDINGS, market="eur", settlementCurrencies=["EUR"], **extra)


@pytest.mark.parametrize("exchange_id", ["kraken", "bitstamp"])
async def test_a_eur_settled_account_reaches_clean_selling_through_eur(exchange_id: str) -> None:
    """Kraken's and Bitstamp's EUR markets (Bitstamp: a EUR/USD venue)."""
    rig, venue = await _until_clean(exchange_id, _eur_spec())

    assert rig.status.account_state is AccountState.CLEAN, rig.status.blockers
    sold = {r.product_id for r in rig.exchange.requests}
    assert sold == {"SEI-EUR", "WLFI-EUR"}, sold
    held = {b.asset: b.total for b in await venue.paper.balances()}
    assert held.get("SEI", D(0)) == held.get("WLFI", D(0)) == 0
    assert held["EUR"] > D(150), "the sales were paid in EUR"
    await rig.close()


async def test_eur_is_valued_in_usd_from_the_venues_own_eur_usd_market() -> None:
    spec = _eur_spec(mode="DryRun")
    clock = SimulatedClock()
    venue = venue_for("kraken", spec, clock)
    rig = CcxtRig(spec, policy(), clock=clock, venue=venue, exchange_id="kraken", read_only=True)

    await rig.cycle(CycleOptions(dry_run=True))

    plan = {p.symbol: p for p in rig.status.plan}
    assert {"SEI-EUR", "WLFI-EUR"} <= set(plan), plan
    assert plan["WLFI-EUR"].action is PlanAction.PURGE
    assert not [s for s in plan if s.startswith("EUR")], "EUR is cash: never planned"
    assert venue.order_writes() == []
    eur_usd = await venue.paper.quote("EUR-USD")
    nav = rig.status.total_value_usd
    assert nav is not None
    cash = D(150) * eur_usd.bid
    assert eur_usd.bid > 1 and cash < nav < cash + D(30), nav
    await rig.close()
