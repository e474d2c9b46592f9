"""The fee tier a purge weighs resting with: the venue's where it says, else the policy's,
shown in status.feeTier (issue 28)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cleanslate.api.account import PaperFees
from cleanslate.exchange.errors import Unavailable

from .harness import Rig, account_spec, policy

D = Decimal
STORY = {"USD": "120", "SEI": "36.4"}
TIER = {
    "universe": {
        "tiers": [
            {"name": "t", "symbols": ["SEI-USD"], "minQuoteVolumeUsd": 2000000},
        ],
    }
}


async def test_the_venue_tier_is_used_and_shown_in_status() -> None:
    spec = account_spec(STORY)
    assert spec.exchange.paper is not None
    paper = spec.exchange.paper.model_copy(update={"fees": PaperFees(thirty_day_volume_usd=20000)})
    spec = spec.model_copy(  # the 25 / 40 tier
        update={"exchange": spec.exchange.model_copy(update={"paper": paper})}
    )
    rig = Rig(spec, policy(**TIER))
    await rig.cycle()
    tier = rig.status.fee_tier
    assert tier is not None and (tier.maker_bps, tier.taker_bps, tier.source) == (
        D(25),
        D(40),
        "venue",
    )
    flights = [s.in_flight["SEI-USD"] for s in rig.persisted if "SEI-USD" in s.in_flight]
    assert flights and all(f.pace and f.pace.maker_fee_bps == D(25) for f in flights)


class Silent:
    """An exchange whose fee read fails: the policy's tier is used, the purge goes on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def fee_rates(self) -> tuple[Decimal, Decimal] | None:
        raise Unavailable("transaction summary unavailable")


async def test_without_a_venue_answer_the_policy_tier_is_used() -> None:
    rig = Rig(account_spec(STORY), policy(**TIER, execution={"makerFeeBps": 35, "takerFeeBps": 75}))
    rig.exchange = Silent(rig.exchange)  # type: ignore[assignment]
    await rig.cycle()
    tier = rig.status.fee_tier
    assert tier is not None and (tier.maker_bps, tier.taker_bps, tier.source) == (
        D(35),
        D(75),
        "policy",
    )
    assert rig.status.cleanup_metrics.purges_succeeded == 1
