"""A manual action waits for nothing (issue 27 item 2): the worker decides each annotation
when it sees it, in every state, and removes it either way."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from cleanslate.exchange.paper import PaperExchange
from cleanslate.operating import actions

from .fake_api import FakeApi
from .test_workers import Events, account, own_orders, policy_of, worker

HOLDINGS = {"USD": 1000.0, "SOL": 0.5}


def tracked_sol(**spec: Any) -> dict[str, Any]:
    body = account(HOLDINGS, **{actions.LIQUIDATE: "SOL-USD"})
    body["spec"]["trackedPositions"] = [{"symbol": "SOL-USD", "entryPrice": "140"}]
    body["spec"].update(spec)
    return body


def sol(w: Any) -> Decimal:
    exchange = cast(PaperExchange, w.exchange)
    return Decimal(str(exchange._state.balances.get("SOL", 0)))


async def test_a_liquidate_seen_while_suspended_is_refused_removed_and_never_sold_later(
    tmp_path: Path,
) -> None:
    api = FakeApi(tracked_sol(suspend=True))
    w = worker(api, tmp_path)
    await w.cycle(api.body, policy_of)
    events = cast(Events, w.events)
    assert actions.LIQUIDATE not in api.body["metadata"]["annotations"]
    (refused,) = events.messages("ManualLiquidate")
    assert "SOL-USD refused" in refused and "suspended" in refused

    api.body["spec"]["suspend"] = False  # resumed: the tracked position is kept
    for _ in range(2):
        await w.cycle(api.body, policy_of)
    assert own_orders(w) == [] and sol(w) == Decimal("0.5")
    assert "liquidating by hand" not in " ".join(events.messages("ManualLiquidate"))


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"mode": "DryRun"}, "DryRun"),
        ({"protectedSymbols": ["SOL"]}, "protected"),
        ({"leaveAlone": [{"symbol": "SOL", "reason": "mine"}]}, "left the symbol alone"),
        ({"policyRef": {"name": "missing"}}, "not running"),
    ],
)
async def test_a_liquidate_the_account_may_not_act_on_is_refused_now_and_removed(
    tmp_path: Path, spec: dict[str, Any], why: str
) -> None:
    api = FakeApi(tracked_sol(**spec))
    w = worker(api, tmp_path)

    def lookup(namespace: str, name: str) -> Any:
        return None if name == "missing" else policy_of(namespace, name)

    await w.cycle(api.body, lookup)
    events = cast(Events, w.events)
    assert actions.LIQUIDATE not in api.body["metadata"]["annotations"]
    assert any(why in m and "refused" in m for m in events.messages("ManualLiquidate"))
    assert own_orders(w) == []


@pytest.mark.parametrize("key", [actions.RETRY, actions.UNFREEZE])
async def test_retry_and_unfreeze_seen_while_suspended_are_refused_and_removed(
    tmp_path: Path, key: str
) -> None:
    body = account(HOLDINGS, **{key: "SOL-USD"})
    body["spec"]["suspend"] = True
    api = FakeApi(body)
    w = worker(api, tmp_path)
    await w.cycle(api.body, policy_of)
    assert key not in api.body["metadata"]["annotations"]
    reason = "ManualRetry" if key == actions.RETRY else "ManualUnfreeze"
    (refused,) = cast(Events, w.events).messages(reason)
    assert "suspended" in refused


async def test_a_live_liquidate_is_acted_on_and_removed(tmp_path: Path) -> None:
    api = FakeApi(tracked_sol())
    w = worker(api, tmp_path)
    await w.cycle(api.body, policy_of)
    assert actions.LIQUIDATE not in api.body["metadata"]["annotations"]
    assert "SOL-USD: liquidating by hand" in cast(Events, w.events).messages("ManualLiquidate")
    assert own_orders(w)
