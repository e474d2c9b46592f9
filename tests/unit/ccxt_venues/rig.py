"""The cycle rig (``cycle.harness.Rig``) over the ccxt adapter and a fake venue.

The venue (and the paper account behind it) is the exchange: it outlives the operator
process, so a "restart" is a new ``CcxtRig`` (new ccxt client, new adapter, persisted
status) over the SAME venue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cycle.harness import ACCOUNT, Rig

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.api.account import TradingAccountSpec
from cleanslate.clock import SimulatedClock
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.paper import open_paper_exchange
from fakes.ccxt_venues import FakeVenue, credentials, open_venue


def venue_for(exchange_id: str, spec: TradingAccountSpec, clock: SimulatedClock) -> FakeVenue:
    """A fake ``exchange_id`` venue over a paper account configured like ``spec``'s."""
    config = spec.exchange.paper or PaperConfig()
    return open_venue(exchange_id, open_paper_exchange(config, clock, account=ACCOUNT), clock)


@dataclass
class CcxtRig(Rig):
    venue: Any = None
    exchange_id: str = "binance"
    read_only: bool = False
    adapters: list[CcxtExchange] = field(default_factory=list)

    def open(self) -> Any:
        assert self.venue is not None, "CcxtRig needs the venue it talks to"
        client = self.venue.install(make_client(self.exchange_id, credentials(self.exchange_id)))
        client.enableRateLimit = False  # ccxt's throttle sleeps on the wall clock
        adapter = CcxtExchange(
            client, self.clock, exchange_id=self.exchange_id, read_only=self.read_only
        )
        self.adapters.append(adapter)
        return adapter

    async def held(self, asset: str) -> Decimal:
        balances = await self.venue.paper.balances()
        return sum((b.total for b in balances if b.asset == asset), Decimal(0))

    async def close(self) -> None:
        for adapter in self.adapters:
            await adapter.aclose()
