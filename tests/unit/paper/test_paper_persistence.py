"""A restarted process finds the paper account it left, and the market goes on the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderStatus, OrderType, Side
from cleanslate.exchange.paper import PaperExchange

OpenPaper = Callable[..., PaperExchange]
HOLDINGS = {"SEI": "1000", "USD": "120"}


async def _trade(ex: PaperExchange) -> tuple[str, str]:
    quote = await ex.quote("SEI-USD")
    rest = await ex.place_order(
        OrderRequest(
            "rest", "SEI-USD", Side.SELL, Decimal(900), OrderType.LIMIT, quote.ask, post_only=True
        )
    )
    taker = await ex.place_order(
        OrderRequest("take", "SEI-USD", Side.SELL, Decimal(100), OrderType.MARKET)
    )
    return rest.order_id, taker.order_id


async def test_a_new_instance_sees_balances_orders_and_fills(
    open_paper: OpenPaper, tmp_path: Path
) -> None:
    first = open_paper(holdings=HOLDINGS, state_dir=tmp_path)
    rest_id, taker_id = await _trade(first)
    balances = await first.balances()
    taker_fills = await first.fills(taker_id)
    await first.aclose()

    second = open_paper(holdings={"USD": 1}, state_dir=tmp_path)
    assert await second.balances() == balances
    assert [o.order_id for o in await second.open_orders()] == [rest_id]
    assert await second.fills(taker_id) == taker_fills
    found = await second.find_order("rest")
    assert found is not None and found.status is OrderStatus.OPEN


async def test_a_restart_does_not_change_what_happens_next(
    open_paper: OpenPaper, clock: SimulatedClock, tmp_path: Path
) -> None:
    kept = open_paper(holdings=HOLDINGS, state_dir=tmp_path / "kept", account="a")
    restarted = open_paper(holdings=HOLDINGS, state_dir=tmp_path / "restarted", account="a")
    rest_id, _ = await _trade(kept)
    await _trade(restarted)
    await clock.sleep(120)
    await restarted.balances()
    restarted = open_paper(holdings=HOLDINGS, state_dir=tmp_path / "restarted", account="a")
    await clock.sleep(600)
    assert await kept.get_order(rest_id) == await restarted.get_order(rest_id)
    assert await kept.balances() == await restarted.balances()


async def test_accounts_keep_separate_files_written_atomically(
    open_paper: OpenPaper, tmp_path: Path
) -> None:
    one = open_paper(holdings={"USD": 1}, state_dir=tmp_path, account="team-a/acct")
    two = open_paper(holdings={"USD": 2}, state_dir=tmp_path, account="team-b/acct")
    await one.aclose()
    await two.aclose()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["team-a%2Facct.json", "team-b%2Facct.json"], "no temporary files left"
    assert one.state_path is not None
    assert json.loads(one.state_path.read_text())["balances"] == {"USD": "1"}


async def test_without_a_state_dir_the_account_lives_in_memory(
    open_paper: OpenPaper, tmp_path: Path
) -> None:
    ex = open_paper(holdings={"USD": 1})
    await ex.aclose()
    assert ex.state_path is None
    assert list(tmp_path.iterdir()) == []


async def test_the_file_says_when_an_order_was_cancelled(
    open_paper: OpenPaper, tmp_path: Path
) -> None:
    """The venue's own record of when a cancel closed an order: the HA tests read from it
    that one replica's order was gone before the other's was placed."""
    ex = open_paper(holdings=HOLDINGS, state_dir=tmp_path)
    rest_id, taker_id = await _trade(ex)
    assert await ex.cancel_orders([rest_id]) == [rest_id]
    await ex.aclose()
    assert ex.state_path is not None
    orders = {o["orderId"]: o for o in json.loads(ex.state_path.read_text())["orders"]}
    assert orders[rest_id]["cancelledAt"] is not None
    assert orders[taker_id]["cancelledAt"] is None
    again = open_paper(holdings={"USD": 1}, state_dir=tmp_path)
    found = await again.find_order("rest")
    assert found is not None and found.status is OrderStatus.CANCELLED
    await again.aclose()
    assert json.loads(ex.state_path.read_text())["orders"][0]["cancelledAt"] is not None
