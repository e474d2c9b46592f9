"""``cleanupMetrics`` count positions, not sale steps; capital freed includes what the
cancelled stale orders held."""

from __future__ import annotations

from decimal import Decimal

from .harness import Rig, account_spec, policy

STALE_BUY = {"productId": "ADA-USD", "side": "BUY", "size": 20, "limitPrice": 0.30}


async def test_a_position_unwound_in_steps_counts_once_when_it_is_gone() -> None:
    rig = Rig(
        account_spec({"USD": "1000", "LINK": "2"}),
        policy(exposure={"maxTotalAtRiskPct": 100}),
    )
    for _ in range(6):
        await rig.cycle()
        rig.wait_interval()
    metrics = rig.status.cleanup_metrics
    assert await rig.held("LINK") == 0
    assert metrics.purges_succeeded >= 2  # several unwind steps were sold
    assert (metrics.total_positions_cleaned, metrics.legacy_positions_unwound) == (1, 1)


async def test_capital_freed_counts_what_a_cancelled_stale_order_held() -> None:
    order = {**STALE_BUY, "ageMinutes": 180}
    rig = Rig(account_spec({"USD": "100"}, open_orders=[order]), policy())
    await rig.cycle()
    metrics = rig.status.cleanup_metrics
    assert metrics.stale_orders_cancelled == 1
    assert metrics.capital_freed_usd == Decimal("6")  # 20 ADA x $0.30


async def test_a_cancelled_sell_frees_what_its_base_would_sell_for_not_its_limit() -> None:
    """A stale SELL of 5 LINK at $30 holds ~$69 of LINK, not $150."""
    order = {
        "productId": "LINK-USD",
        "side": "SELL",
        "size": 5,
        "limitPrice": 30,
        "ageMinutes": 180,
    }
    rig = Rig(account_spec({"USD": "100", "LINK": "5"}, open_orders=[order]), policy())
    await rig.cycle()
    freed = rig.status.cleanup_metrics.capital_freed_usd
    assert Decimal(50) < freed < Decimal(100)  # 5 LINK at a bid near $13.8
