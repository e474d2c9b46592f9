"""Progress of the purges of a ``once`` run, one line per slice, for a person at a terminal.

A real-time TWAP takes minutes; without this the terminal is silent until the summary. The
lines come from the in-flight record the cycle persists before every order placement (the
same record a restarted operator resumes from), so they show what was actually placed:
the slice number, what has been sold and roughly for how much (at the last bid the purge
itself fetched: the progress makes no request of its own, so a run on a terminal trades
exactly as one in a pipe), and the time left of the purge's ``maxDurationSeconds``; when
the purge ends, its result. The caller turns it off when the output is not a terminal or
is ``-o json|yaml``, so pipes and files get only the resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any, TextIO, cast

from cleanslate.api.account import InFlightPurge, TradingAccountStatus
from cleanslate.cli.formatting import duration, money, quantity
from cleanslate.clock import Clock
from cleanslate.core.market import Quote
from cleanslate.core.twap import TwapOutcome
from cleanslate.exchange.port import Exchange


class Progress:
    def __init__(self, stream: TextIO, clock: Clock, max_duration_seconds: Decimal) -> None:
        self.stream = stream
        self.clock = clock
        self.max_duration = timedelta(seconds=float(max_duration_seconds))
        self.shown: dict[str, tuple[int, int, Decimal]] = {}
        self.bids: dict[str, Decimal] = {}

    def tap(self, exchange: Exchange) -> Exchange:
        """The exchange, with the bids its quotes return remembered for the value column."""
        return cast(Exchange, _BidTap(exchange, self.bids))

    def update(self, status: TradingAccountStatus) -> None:
        """Write a line for each purge whose slice or fill moved since the last line."""
        for symbol, flight in sorted(status.in_flight.items()):
            seen = (flight.attempt, flight.slice, flight.filled_quantity)
            if self.shown.get(symbol) == seen:
                continue
            self.shown[symbol] = seen
            print(self.line(symbol, flight, status), file=self.stream, flush=True)

    def line(self, symbol: str, flight: InFlightPurge, status: TradingAccountStatus) -> str:
        left = flight.started_at + self.max_duration - self.clock.now()
        value = money(self.value(symbol, flight, status))
        return (
            f"  {symbol}: slice {flight.slice}, sold {quantity(flight.filled_quantity)} "
            f"of {quantity(flight.target_quantity)} (~{value}), "
            f"{duration(left.total_seconds())} left"
        )

    def finish(self, outcomes: Mapping[str, TwapOutcome]) -> None:
        """One closing line per purge shown: how many slices, what was sold, for how much."""
        for symbol, outcome in sorted(outcomes.items()):
            if self.shown.pop(symbol, None) is None:
                continue
            verdict = "done" if outcome.success else f"stopped ({outcome.reason.value})"
            print(
                f"  {symbol}: {verdict} after {outcome.slices} slice(s), sold "
                f"{quantity(outcome.filled_quantity)} of {quantity(outcome.target_quantity)} "
                f"for {money(outcome.proceeds)}",
                file=self.stream,
                flush=True,
            )

    def value(
        self, symbol: str, flight: InFlightPurge, status: TradingAccountStatus
    ) -> Decimal | None:
        """What was sold, at the last bid seen, else at the last cycle's valuation."""
        if symbol in self.bids:
            return flight.filled_quantity * self.bids[symbol]
        position = next((p for p in status.positions if p.symbol == symbol), None)
        if position is None or position.value_usd is None or not position.quantity:
            return None
        return flight.filled_quantity * position.value_usd / position.quantity


class _BidTap:
    """Forwards every call to the exchange unchanged; notes the bid of each quote."""

    def __init__(self, inner: Exchange, bids: dict[str, Decimal]) -> None:
        self.inner = inner
        self.bids = bids

    async def quote(self, product_id: str) -> Quote:
        found = await self.inner.quote(product_id)
        self.bids[product_id] = found.bid
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
