"""Whether the venue's clock and this process's agree well enough to trade (issue 27, item 8).

Pure: the offset is measured by the shell (``exchange.clocks``) and passed in with the
platform's bound (``--max-clock-offset-seconds``). Within the bound the account trades;
beyond it no order is placed (cancels still are) until the clocks agree again. An offset
nobody could measure is not "beyond": the venue did not say, so the account trades as it
did before offsets were measured, and the condition says the offset is unknown
(docs/design.md, "Clocks this process does not own").
"""

from __future__ import annotations

from dataclasses import dataclass

from cleanslate.core.conditions import FALSE, TRUE, UNKNOWN, Desired

CONDITION = "ClockInSync"
DEFAULT_MAX_OFFSET_SECONDS = 30.0
"""Half the 60 s a Coinbase request JWT may be off by, and well inside the 120 s it lives."""
MAX_BOUND_SECONDS = 3600.0
"""The largest bound the platform may set: an hour off is a broken clock, not a tolerance."""


@dataclass(frozen=True, slots=True)
class ClockVerdict:
    """What the account does about the venue's clock, and the condition that says so."""

    trade: bool
    condition: Desired

    @property
    def state(self) -> tuple[str, str]:
        """The distinct state an event is posted for: status and reason, never the figure
        (an offset that moves by a millisecond is not news)."""
        return self.condition.status, self.condition.reason


def judge(offset_seconds: float | None, bound_seconds: float, venue: str) -> ClockVerdict:
    """``offset_seconds`` is the venue's clock minus this process's (positive: the venue is
    ahead); None when the venue could not tell."""
    if offset_seconds is None:
        return ClockVerdict(
            trade=True,
            condition=Desired(
                CONDITION,
                UNKNOWN,
                "OffsetUnknown",
                f"{venue}'s clock offset is unknown (it tells no time, or reading it failed); "
                "trading as before",
            ),
        )
    if abs(offset_seconds) > bound_seconds:
        text = _describe(offset_seconds, venue)
        return ClockVerdict(
            trade=False,
            condition=Desired(
                CONDITION,
                FALSE,
                "OffsetBeyondBound",
                f"{text}, beyond the {bound_seconds:g} s allowed: no order is placed until "
                "the clocks agree (cancels still run); fix NTP on the node",
            ),
        )
    # no figure here: a message that moved with every measurement would rewrite the status
    # of every account on the venue; cleanslate_venue_clock_offset_seconds has the figure
    within = f"{venue}'s clock is within {bound_seconds:g} s of this operator's"
    return ClockVerdict(trade=True, condition=Desired(CONDITION, TRUE, "WithinBound", within))


def _describe(offset_seconds: float, venue: str) -> str:
    way = "ahead of" if offset_seconds > 0 else "behind"
    return f"{venue}'s clock is {abs(offset_seconds):.1f} s {way} this operator's"
