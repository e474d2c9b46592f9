"""Binance's dust transfer through ccxt's real binance class (``sapi_post_asset_dust``, the
``asset`` list repeated in the signed form body) over the paper-backed fake, which answers
in the shape of Binance's documented example: a USDT-settled account whose crumbs no sale
can clear sweeps them into BNB and is CLEAN; a read-only adapter refuses before sending; a
venue without the endpoint has no terms."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from cycle.harness import account_spec, policy

from cleanslate.api.account import AccountState, TradingAccountSpec
from cleanslate.clock import SimulatedClock
from cleanslate.cycle import CycleOptions
from cleanslate.events import Reason
from cleanslate.exchange.ccxt.errors import ReadOnlyRefused
from cleanslate.exchange.port import DustTerms

from .rig import CcxtRig, venue_for

D = Decimal
CRUMBS = {"USDT": "150", "SEI": "0.2", "AMP": "100"}
"""SEI and AMP worth cents: under Binance's (and the paper's) minimum order."""


def _spec(**extra: Any) -> TradingAccountSpec:
    spec = account_spec(CRUMBS, market="usdt", settlementCurrencies=["USDT"], **extra)
    assert spec.exchange.paper is not None
    paper = spec.exchange.paper.model_copy(update={"dust_target": "BNB"})
    return spec.model_copy(update={"exchange": spec.exchange.model_copy(update={"paper": paper})})


def _rig(spec: TradingAccountSpec, **kw: Any) -> CcxtRig:
    clock = SimulatedClock()
    venue = venue_for("binance", spec, clock)
    rules = policy(dust={"sweep": "VenueConversion"})
    return CcxtRig(spec, rules, clock=clock, venue=venue, exchange_id="binance", **kw)


async def test_a_binance_account_sweeps_its_crumbs_into_bnb_and_is_clean() -> None:
    rig = _rig(_spec())
    assert rig.exchange.dust_terms() == DustTerms("BNB", timedelta(hours=6))

    await rig.cycle()

    assert await rig.held("SEI") == 0 and await rig.held("AMP") == 0
    bnb = await rig.held("BNB")
    sweep = rig.status.dust_sweep
    assert sweep is not None and sorted(sweep.assets) == ["AMP", "SEI"]
    assert sweep.target == "BNB" and sweep.received == bnb > 0 and sweep.fee > 0
    assert [e.reason for e in rig.events.events if e.reason is Reason.DUST_SWEPT]
    assert rig.status.account_state is AccountState.CLEAN, rig.status.blockers
    assert rig.exchange.requests == [], "no order placed: the venue converted them"
    await rig.close()


async def test_a_second_transfer_within_the_cooldown_is_binances_refusal() -> None:
    rig = _rig(_spec())
    adapter = rig.exchange.inner
    await adapter.convert_dust(["SEI"])
    with pytest.raises(Exception, match="Only transfer once"):
        await adapter.convert_dust(["AMP"])
    await rig.close()


async def test_a_dry_run_cycle_plans_the_transfer_and_never_sends_it() -> None:
    rig = _rig(_spec(mode="DryRun"), read_only=True)
    await rig.cycle(CycleOptions(dry_run=True))
    assert rig.venue.order_writes() == []
    assert await rig.held("SEI") == D("0.2")
    (sei,) = [p for p in rig.status.plan if p.symbol == "SEI-USDT"]
    assert "DryRun: the dust sweep would convert it into BNB" in sei.reason
    await rig.close()


async def test_read_only_refuses_the_transfer_before_sending() -> None:
    rig = _rig(_spec(mode="DryRun"), read_only=True)
    with pytest.raises(ReadOnlyRefused):
        await rig.exchange.inner.convert_dust(["SEI"])
    assert await rig.held("SEI") == D("0.2")
    await rig.close()


async def test_a_venue_without_a_dust_endpoint_has_no_terms() -> None:
    spec = account_spec({"USDT": "150"}, market="usdt", settlementCurrencies=["USDT"])
    clock = SimulatedClock()
    rig = CcxtRig(
        spec, policy(), clock=clock, venue=venue_for("okx", spec, clock), exchange_id="okx"
    )
    assert rig.exchange.dust_terms() is None
    await rig.close()
