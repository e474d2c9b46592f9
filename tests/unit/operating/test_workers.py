"""The account worker against the API server's faults: a frozen replica's stale writes, an
outage, and manual-action annotations that must be acted on exactly once."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from cleanslate.events import Event
from cleanslate.exchange.paper import PaperExchange
from cleanslate.metrics import Metrics
from cleanslate.operating import actions
from cleanslate.operating.kube import Fence, Kube
from cleanslate.operating.workers import OVERRUN_BACKOFF_SECONDS, AccountWorker, WorkerConfig

from .fake_api import FakeApi

NAMESPACE, NAME = "tenant", "acct"
POLICY: dict[str, Any] = {}


class Events:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    def emit(self, event: Event) -> None:
        self.seen.append(event)

    def messages(self, reason: str) -> list[str]:
        return [e.message for e in self.seen if e.reason.value == reason]


def account(holdings: Mapping[str, float], **annotations: str) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": NAMESPACE,
            "name": NAME,
            "generation": 1,
            "annotations": dict(annotations),
        },
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "Live",
            "intervalSeconds": 60,
            "exchange": {"name": "paper", "paper": {"seed": 7, "holdings": dict(holdings)}},
        },
    }


def worker(api: FakeApi, state_dir: Path, stand_down: float = 30.0) -> AccountWorker:
    config = WorkerConfig(
        state_dir=state_dir,
        metrics=Metrics(),
        kube=cast(Kube, api),
        stand_down_seconds=stand_down,
    )
    return AccountWorker(NAMESPACE, NAME, config, Events())


def policy_of(namespace: str, name: str) -> Mapping[str, Any]:
    return POLICY


def own_orders(w: AccountWorker) -> list[str]:
    if w.exchange is None:
        return []
    exchange = cast(PaperExchange, w.exchange)
    return [
        o.client_order_id
        for o in exchange._state.orders.values()
        if o.client_order_id.startswith("cs-")
    ]


HOLDINGS = {"USD": 150.0, "SEI": 36.4, "WLFI": 57.54}


async def test_a_replica_frozen_while_another_took_over_places_nothing_and_stands_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeApi(account(HOLDINGS))
    stale_body = copy.deepcopy(api.body)  # what the frozen replica read before it froze
    successor = worker(api, tmp_path / "b")
    await successor.cycle(api.body, policy_of)
    assert own_orders(successor) and api.status()["writeSequence"] >= 2
    taken_over = api.status()

    frozen = worker(api, tmp_path / "a", stand_down=30.0)
    frozen.recovery.pending = False  # it had read the record before it froze: no fresh read
    now = [1000.0]
    frozen.recovery.monotonic = lambda: now[0]
    with caplog.at_level(logging.WARNING, logger="cleanslate.operator"):
        wait = await frozen.cycle(stale_body, policy_of)
    assert frozen.exchange is not None and own_orders(frozen) == []  # stopped before its order
    assert api.stale_writes == 1 and api.status() == taken_over  # nothing overwritten
    assert wait == 0.0 and "standing down" in caplog.text

    # the successor keeps writing: the frozen replica keeps standing down, and a wake-up
    # before the record has been quiet for a whole period does not end it
    assert await frozen.cycle(stale_body, policy_of) == 30.0
    now[0] += 20
    api.body["status"]["writeSequence"] += 1
    assert await frozen.cycle(stale_body, policy_of) == 30.0
    now[0] += 29
    assert await frozen.cycle(stale_body, policy_of) == pytest.approx(1.0)
    assert own_orders(frozen) == []
    # quiet for a whole stand-down period: it acts again, from the stored record
    now[0] += 1
    before = api.status()
    await frozen.cycle(stale_body, policy_of)
    after = api.status()
    assert after["writeSequence"] > before["writeSequence"]
    assert after["cycles"] >= before["cycles"] and after["nextAttempt"] >= before["nextAttempt"]
    assert api.stale_writes == 1


async def test_status_counters_never_go_backwards_when_a_stale_replica_writes(
    tmp_path: Path,
) -> None:
    api = FakeApi(account({"USD": 150.0}))
    first = worker(api, tmp_path / "a")
    second = worker(api, tmp_path / "b")
    await first.cycle(api.body, policy_of)
    await second.cycle(api.body, policy_of)
    for _ in range(3):
        await second.cycle(api.body, policy_of)
    newest = api.status()
    first.status = first.status.model_copy(update={"account_state": None})  # type: ignore[union-attr]
    await first.cycle(api.body, policy_of)  # it would write: its record differs
    assert api.status() == newest


async def test_an_api_outage_backs_off_briefly_logs_once_and_resumes_from_the_stored_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeApi(account(HOLDINGS))
    w = worker(api, tmp_path)
    api.down = True
    with caplog.at_level(logging.INFO, logger="cleanslate.operator"):
        waits = [await w.cycle(api.body, policy_of) for _ in range(5)]
        assert waits == sorted(waits) and waits[0] <= 1.0 and waits[-1] <= 10.0
        assert own_orders(w) == []  # nothing placed while its record cannot be stored
        api.down = False
        # back on the normal schedule (the interval, plus the over-budget wait if the
        # resumed purge ran long), not an outage retry
        assert await w.cycle(api.body, policy_of) in (60.0, 60.0 + OVERRUN_BACKOFF_SECONDS)
    lines = [r for r in caplog.records if "Kubernetes API" in r.getMessage()]
    assert [r.getMessage().split(" (")[0].split(" after")[0] for r in lines] == [
        "Kubernetes API unavailable",
        "Kubernetes API answering again",
    ]
    assert not any(r.exc_info for r in caplog.records)
    st = api.status()
    assert st["accountState"] in ("Clean", "Cleaning") and not st.get("inFlight")


async def test_an_outage_mid_purge_uses_no_slice_number_for_an_order_never_placed(
    tmp_path: Path,
) -> None:
    api = FakeApi(account({"USD": 150.0, "SEI": 400.0}))
    w = worker(api, tmp_path)
    writes = 0
    original = api.write_status

    async def failing_after_two(*args: Any) -> None:
        nonlocal writes
        writes += 1
        if writes > 2:
            api.down = True
        await original(*args)

    api.write_status = failing_after_two  # type: ignore[method-assign]
    await w.cycle(api.body, policy_of)
    placed = own_orders(w)
    for _ in range(3):
        await w.cycle(api.body, policy_of)  # the outage lasts: no cycle runs
    assert own_orders(w) == placed
    api.down, api.write_status = False, original  # type: ignore[method-assign]
    await w.cycle(api.body, policy_of)
    slices = sorted({int(cid.split("-s")[1].split("-")[0]) for cid in own_orders(w)})
    assert slices == list(range(1, len(slices) + 1)), own_orders(w)


async def test_the_same_manual_action_requested_again_after_removal_is_acted_on_again(
    tmp_path: Path,
) -> None:
    api = FakeApi(account({"USD": 150.0}, **{actions.RETRY: "BONK-USD"}))
    w = worker(api, tmp_path)
    body = api.body
    await w.cycle(body, policy_of)
    assert actions.RETRY not in api.body["metadata"]["annotations"]
    # the watched body still shows the annotation just removed: not acted on twice
    await w.cycle(body, policy_of)
    events = cast(Events, w.events)
    assert len(events.messages("ManualRetry")) == 1
    api.annotate(actions.RETRY, "BONK-USD")  # the same request, made again
    await w.cycle(api.body, policy_of)
    assert len(events.messages("ManualRetry")) == 2
    assert actions.RETRY not in api.body["metadata"]["annotations"]


async def test_an_annotation_overwritten_during_a_cycle_is_kept_and_acted_on_next(
    tmp_path: Path,
) -> None:
    api = FakeApi(account({"USD": 150.0}, **{actions.RETRY: "BONK-USD"}))
    w = worker(api, tmp_path)
    original = api.write_status

    async def overwritten_meanwhile(*args: Any) -> None:
        api.annotate(actions.RETRY, "SEI-USD")
        await original(*args)

    api.write_status = overwritten_meanwhile  # type: ignore[method-assign]
    await w.cycle(api.body, policy_of)
    assert api.body["metadata"]["annotations"][actions.RETRY] == "SEI-USD"
    api.write_status = original  # type: ignore[method-assign]
    await w.cycle(api.body, policy_of)
    events = cast(Events, w.events)
    assert [m.split(":")[0] for m in events.messages("ManualRetry")] == ["BONK-USD", "SEI-USD"]
    assert actions.RETRY not in api.body["metadata"]["annotations"]


def test_the_fence_tests_the_sequence_or_the_absence_of_a_status() -> None:
    assert Fence.of({"metadata": {}}).test() == {"op": "test", "path": "/status", "value": None}
    assert Fence.of({"status": {"cycles": 3}}).test() == {
        "op": "test",
        "path": "/status/writeSequence",
        "value": None,
    }
    assert Fence.of({"status": {"writeSequence": 7}}).test()["value"] == 7


SHARD = {"cleanslate.dev/shard": "a"}


def sharded(holdings: Mapping[str, float]) -> dict[str, Any]:
    body = account(holdings)
    body["metadata"]["labels"] = dict(SHARD)
    return body


async def test_a_shard_whose_account_was_relabelled_writes_nothing_places_nothing_and_lets_go(
    tmp_path: Path,
) -> None:
    """The label moved before the old shard's watch said so: its next write fails on the
    label test, it places no order, and the re-read that follows finds the label gone."""
    api = FakeApi(sharded(HOLDINGS), shard=SHARD)
    old = worker(api, tmp_path)
    body = copy.deepcopy(api.body)  # the account as the old shard last saw it
    api.body["metadata"]["labels"] = {"cleanslate.dev/shard": "b"}
    await old.cycle(body, policy_of)
    assert own_orders(old) == [] and api.status_writes == 0 and api.stale_writes == 0
    assert old.recovery.departed  # its first cycle re-reads: the label is gone

    api.body["metadata"]["labels"] = dict(SHARD)  # the same, caught by a write this time
    late = worker(api, tmp_path / "late")
    late.recovery.pending = False  # it had read the account before the move
    api.body["metadata"]["labels"] = {"cleanslate.dev/shard": "b"}
    assert await late.cycle(body, policy_of) == 0.0  # the write failed: stand down
    assert own_orders(late) == [] and api.status_writes == 0 and api.stale_writes == 1
    await late.cycle(body, policy_of)
    assert late.recovery.departed and own_orders(late) == []


async def test_an_account_that_moved_in_waits_for_a_quiet_record_before_acting(
    tmp_path: Path,
) -> None:
    """The new shard's first cycle waits a whole stand-down period from its first look, and
    longer while the old shard still writes; then it acts from the record as stored."""
    api = FakeApi(sharded(HOLDINGS), shard=SHARD)
    api.body["status"] = {"writeSequence": 7}
    new = worker(api, tmp_path, stand_down=30.0)
    now = [1000.0]
    new.recovery.monotonic = lambda: now[0]
    new.recovery.arrive()
    assert await new.cycle(api.body, policy_of) == 30.0
    now[0] += 20
    api.body["status"]["writeSequence"] = 8  # the old owner's last write, late
    assert await new.cycle(api.body, policy_of) == 30.0
    assert own_orders(new) == [] and api.status_writes == 0
    now[0] += 30
    await new.cycle(api.body, policy_of)
    assert own_orders(new) and api.status()["writeSequence"] > 8


async def test_a_replica_handed_the_account_back_acts_at_once_not_after_the_stand_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The hand-back after a freeze: the successor is paused by kopf's peering and marks its
    last write released; the replica standing down acts on its next look, well inside the
    stand-down period, from the record as stored."""
    api = FakeApi(account(HOLDINGS))
    stale_body = copy.deepcopy(api.body)
    successor = worker(api, tmp_path / "b")
    await successor.cycle(api.body, policy_of)
    assert own_orders(successor)

    frozen = worker(api, tmp_path / "a", stand_down=30.0)
    frozen.recovery.pending = False
    now = [1000.0]
    frozen.recovery.monotonic = lambda: now[0]
    assert await frozen.cycle(stale_body, policy_of) == 0.0  # stale: standing down
    assert await frozen.cycle(stale_body, policy_of) == 30.0
    assert own_orders(frozen) == []

    taken_over = api.status()
    assert await successor.release()  # kopf paused it: its daemon ended, the record says so
    released = api.status()
    assert released["writeSequence"] == taken_over["writeSequence"] + 1
    assert released["releasedSequence"] == released["writeSequence"]
    assert {
        k: v for k, v in released.items() if k not in ("writeSequence", "releasedSequence")
    } == {
        k: v for k, v in taken_over.items() if k != "writeSequence"
    }  # nothing else in the status changed

    now[0] += 1  # one second into a 30 s stand-down
    with caplog.at_level(logging.WARNING, logger="cleanslate.operator"):
        await frozen.cycle(stale_body, policy_of)
    assert "handed back" in caplog.text and not frozen.recovery.standing_down
    after = api.status()
    assert after["writeSequence"] > released["writeSequence"]
    assert "releasedSequence" not in after  # its own writes are no release
    assert after["nextAttempt"] >= released["nextAttempt"]
    ids = [*own_orders(successor), *own_orders(frozen)]
    assert len(ids) == len(set(ids))  # no client order id twice
    # the released worker wrote nothing more, and a second release by it would find the
    # record moved on: nothing lands
    writes = api.status_writes
    assert not await successor.release()
    assert api.status_writes == writes


async def test_a_replica_paused_on_a_record_it_did_not_write_last_releases_nothing(
    tmp_path: Path,
) -> None:
    api = FakeApi(account(HOLDINGS))
    first = worker(api, tmp_path / "a")
    await first.cycle(api.body, policy_of)
    other = worker(api, tmp_path / "b")
    other.recovery.pending = False
    other.fence = Fence.of(api.body)  # read it, never wrote it
    writes = api.status_writes
    assert not await other.release()
    assert api.status_writes == writes and "releasedSequence" not in api.status()
    assert not await worker(api, tmp_path / "c").release()  # never read or wrote it
    stale = worker(api, tmp_path / "d")
    stale.fence, stale.wrote_last = Fence(1, True), True  # its write, overwritten since
    assert not await stale.release()
    assert api.status_writes == writes and "releasedSequence" not in api.status()


async def test_a_replica_resumed_right_after_letting_go_stands_down_if_the_account_was_taken(
    tmp_path: Path,
) -> None:
    """kopf's peering may resume the replica that just released the account (it flaps while
    the other's keep-alive settles). Its new worker acts at once only if nobody wrote since
    the release; if the senior replica took the account, it stands down and places nothing."""
    api = FakeApi(account(HOLDINGS))
    standby = worker(api, tmp_path / "b")
    await standby.cycle(api.body, policy_of)
    released_at = await standby.release()
    assert released_at == api.status()["writeSequence"]

    untouched = worker(api, tmp_path / "c")
    untouched.recovery.rejoin(released_at)
    await untouched.cycle(api.body, policy_of)  # nobody wrote since: it acts
    assert not untouched.recovery.standing_down and api.status()["writeSequence"] > released_at

    taken = api.status()["writeSequence"]
    again = worker(api, tmp_path / "d", stand_down=30.0)
    now = [1000.0]
    again.recovery.monotonic = lambda: now[0]
    again.recovery.rejoin(released_at)
    assert await again.cycle(api.body, policy_of) == 30.0
    assert again.recovery.standing_down and own_orders(again) == []
    assert api.status()["writeSequence"] == taken
