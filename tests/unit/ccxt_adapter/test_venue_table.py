"""``docs/venues.md`` is the Live gate's output over ccxt's classes, never typed by hand: it
names the pinned ccxt, and with that ccxt installed it equals what the survey prints now."""

from __future__ import annotations

import re
from pathlib import Path

import ccxt
import pytest

from cleanslate.exchange.ccxt import survey

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "venues.md"


def _pinned() -> str:
    found = re.search(r"^ccxt==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE)
    assert found is not None, "requirements.lock pins ccxt"
    return found.group(1)


def test_the_page_is_made_with_the_pinned_ccxt() -> None:
    assert f"Made with ccxt {_pinned()} " in PAGE.read_text()


async def test_the_page_is_what_the_gate_says_for_the_pinned_ccxt() -> None:
    if ccxt.__version__ != _pinned():
        pytest.skip(f"the page is for ccxt {_pinned()}; this environment has {ccxt.__version__}")
    assert survey.page(await survey.survey()) == PAGE.read_text()


async def test_the_tested_venues_trade_live_and_the_ones_ccxt_breaks_do_not() -> None:
    rows = {r.venue: r for r in await survey.survey(("binance", "kraken", "cryptocom"))}
    assert rows["binance"].live == rows["kraken"].live == "Live"
    assert rows["cryptocom"].live == "DryRun" and "client order id" in rows["cryptocom"].why
