"""Fault injection at the cycle's edge: an error no branch expected (a bug) reaches the
account's status and its events, never only the log. The status says CycleFailed with a
bounded one-line message, observedGeneration is the spec that was judged, and each distinct
error is posted once, however often the cycle is retried."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError

from cleanslate.api.account import PaperExchange as PaperConfig
from cleanslate.clock import SimulatedClock
from cleanslate.core.conditions import MESSAGE_LIMIT
from cleanslate.events import EventList, Reason
from cleanslate.exchange.paper.markets import MARKETS
from cleanslate.metrics import Metrics
from cleanslate.operating import workers
from cleanslate.operating.kube import Kube
from cleanslate.operating.workers import FAILED_RETRY_SECONDS, AccountWorker, WorkerConfig

from .fake_api import FakeApi

NAMESPACE, NAME = "team-x", "acct"


def account(policy: str, generation: int = 1, **paper: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": NAMESPACE, "name": NAME, "generation": generation},
        "spec": {
            "policyRef": {"name": policy},
            "mode": "Live",
            "intervalSeconds": 60,
            "exchange": {
                "name": "paper",
                "paper": {"seed": 7, "holdings": {"USD": 150.0, "SEI": 36.4}, **paper},
            },
        },
    }


def worker(api: FakeApi, tmp_path: Path, clock: Any = None) -> AccountWorker:
    config = WorkerConfig(state_dir=tmp_path, metrics=Metrics(), kube=cast(Kube, api))
    w = AccountWorker(NAMESPACE, NAME, config, EventList())
    if clock is not None:
        w.clock = clock
    return w


def policies(namespace: str, name: str) -> Mapping[str, Any] | None:
    return {} if name == "default" else None


def condition(api: FakeApi, kind: str) -> dict[str, Any]:
    return next(c for c in api.status()["conditions"] if c["type"] == kind)


def failed_events(w: AccountWorker) -> list[str]:
    return [e.message for e in cast(EventList, w.events).events if e.reason is Reason.CYCLE_FAILED]


def edit(api: FakeApi, body: dict[str, Any]) -> None:
    """A spec edit as the API server stores it: the new spec, the next generation, and the
    status the operator wrote so far."""
    api.body = {**copy.deepcopy(body), "status": api.body.get("status")}


async def test_a_bug_in_a_cycle_reaches_status_once_per_error_and_clears_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeApi(account("nosuch"))
    w = worker(api, tmp_path)
    await w.cycle(api.body, policies)
    assert condition(api, "Ready")["reason"] == "PolicyMissing"

    calls = 0

    async def broken(*_: Any, **__: Any) -> Any:  # a bug deep in the cycle
        nonlocal calls
        calls += 1
        raise ValueError("unknown thing 'x'\n  a second line that must not reach a condition")

    monkeypatch.setattr(workers, "run_cycle", broken)
    edit(api, account("default", generation=2))
    waits = [await w.cycle(api.body, policies) for _ in range(4)]
    assert calls == 4 and waits == [FAILED_RETRY_SECONDS] * 4
    status = api.status()
    ready, stalled = condition(api, "Ready"), condition(api, "Stalled")
    assert ready["status"] == "False" and ready["reason"] == "CycleFailed"
    assert stalled["status"] == "True" and stalled["reason"] == "CycleFailed"
    assert ready["message"] == "cycle failed: ValueError: unknown thing 'x'"
    assert "PolicyMissing" not in str(status["conditions"]), "the fixed error is gone"
    assert status["observedGeneration"] == 2 and ready["observedGeneration"] == 2
    assert status["accountState"] == "Error"
    assert failed_events(w) == ["cycle failed: ValueError: unknown thing 'x'"]  # once, not 4x

    async def other(*_: Any, **__: Any) -> Any:
        raise KeyError("SEI")

    monkeypatch.setattr(workers, "run_cycle", other)
    await w.cycle(api.body, policies)
    await w.cycle(api.body, policies)
    assert failed_events(w)[1:] == ["cycle failed: KeyError: 'SEI'"]  # a new error: one more

    monkeypatch.undo()  # the bug fixed: the next cycle reports the account again
    await w.cycle(api.body, policies)
    assert condition(api, "Ready")["reason"] != "CycleFailed"
    assert w.failed_with is None


async def test_an_exchange_adapter_bug_is_a_condition_and_sells_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not an ``ExchangeError`` (which the cycle reports as ExchangeUnavailable): an
    adapter raising something else stops the cycle before any order, and says so."""
    api = FakeApi(account("default"))
    w = worker(api, tmp_path)
    real = workers.build_exchange

    async def buggy(*args: Any, **kwargs: Any) -> Any:
        exchange = await real(*args, **kwargs)

        async def balances() -> Any:
            raise AttributeError("'NoneType' object has no attribute 'available'")

        exchange.balances = balances
        return exchange

    monkeypatch.setattr(workers, "build_exchange", buggy)
    await w.cycle(api.body, policies)
    ready = condition(api, "Ready")
    assert ready["reason"] == "CycleFailed" and "AttributeError" in ready["message"]
    assert len(failed_events(w)) == 1
    assert w.exchange is not None and not await w.exchange.open_orders()


async def test_a_long_error_is_one_bounded_line_in_status_and_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeApi(account("default"))
    w = worker(api, tmp_path)

    async def verbose(*_: Any, **__: Any) -> Any:
        raise RuntimeError("x" * 5000)

    monkeypatch.setattr(workers, "run_cycle", verbose)
    await w.cycle(api.body, policies)
    for kind in ("Ready", "Stalled"):
        message = condition(api, kind)["message"]
        assert "\n" not in message and len(message) <= MESSAGE_LIMIT
    (event,) = failed_events(w)
    assert len(event) <= MESSAGE_LIMIT


def test_paper_markets_are_a_closed_set_named_by_the_schema() -> None:
    with pytest.raises(ValidationError, match="market"):
        PaperConfig.model_validate({"market": "mainnet"})
    schema = PaperConfig.model_json_schema()
    enum = schema["$defs"]["PaperMarketName"]["enum"]
    assert sorted(enum) == sorted(MARKETS), "every built-in market, and only those"


async def test_simulated_venue_time_never_reaches_status_durations_or_times(
    tmp_path: Path,
) -> None:
    """A paper account on simulated time: its TWAP waits minutes of venue time in no real
    time. With the real clock frozen, every duration the status and metrics carry is zero
    and every timestamp is the real one: none of the venue's skipped minutes leak in."""
    real = SimulatedClock()  # stands for the wall clock; it never moves during the cycle
    api = FakeApi(account("default", holdings={"USD": 150.0, "WLFI": 57.54}))
    w = worker(api, tmp_path, clock=real)
    await w.cycle(api.body, policies)
    status = api.status()
    assert status["lastPurges"], "the cycle sold on the venue (minutes of simulated waits)"
    (purge,) = status["lastPurges"].values()
    assert float(purge["durationSeconds"]) > 0, "the venue's own duration, as it was"
    assert status["lastCycle"]["durationSeconds"] == 0
    assert all(v == 0 for v in status["lastCycle"]["phaseSeconds"].values())
    assert datetime.fromisoformat(purge["finishedAt"]) == real.now()
    assert condition(api, "WithinBudget")["status"] == "True"
    events = cast(EventList, w.events)
    assert Reason.CYCLE_OVER_BUDGET not in {e.reason for e in events.events}
    for c in status["conditions"]:
        assert datetime.fromisoformat(c["lastTransitionTime"]) == real.now()
