"""``spec.leaveAlone``: holdings a person has taken over, which cleanslate keeps.

The auto-purge guide's troubleshooting wants a way to make the bot stop retrying a symbol
that fails persistently. Excluding or banning it does the opposite (both make a held symbol
purgeable), so this is a separate, explicit statement: "leave this holding alone, I will deal
with it", with a reason and an optional expiry. It is tenant input and only ever keeps
something, so it can never make cleanslate sell more.

Planning honours it right after protected symbols (before backoff and freezes, which no
longer matter): the decision is Ignore, saying who asked and until when. Such a holding does
not count toward the position cap (counting it would close positions the strategy wants, to
make room for one a person kept) and does not block CLEAN while active. Once ``until`` has
passed, the holding is decided as if the entry were not there. Open orders on the product
are not cancelled as stale either: they may be the person's own sale.
"""

from __future__ import annotations

from datetime import datetime

from cleanslate.api.account import LeaveAlone, TradingAccountSpec
from cleanslate.core.market import names_asset


def left_alone(spec: TradingAccountSpec, symbol: str, now: datetime) -> LeaveAlone | None:
    """The active entry covering ``symbol`` (a product id such as BONK-USD), if any.

    An entry may name the product or its asset (BONK). It is active until ``until``
    (exclusive); without ``until``, forever. When several entries match, the one that lasts
    longest wins, so adding a shorter entry never shortens a longer one.
    """
    active = [
        e
        for e in spec.leave_alone
        if names_asset((e.symbol,), symbol) and (e.until is None or now < e.until)
    ]
    if not active:
        return None
    return max(active, key=lambda e: (e.until is None, e.until or now))


def is_left_alone(spec: TradingAccountSpec, symbol: str, now: datetime) -> bool:
    """Whether a person has taken ``symbol`` over at ``now``: then nothing sells it."""
    return left_alone(spec, symbol, now) is not None


def describe(entry: LeaveAlone) -> str:
    """How the plan, status and events word an entry."""
    until = "no expiry" if entry.until is None else f"until {entry.until.isoformat()}"
    return f"left alone by a person ({entry.reason}), {until}"
