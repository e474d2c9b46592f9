"""Which watch events wake an account's daemon before its next scheduled cycle, which mean
it moved in from another shard, and what a daemon does when it lets an account go."""

from __future__ import annotations

import asyncio
from pathlib import Path

import kopf
from prometheus_client import generate_latest

from cleanslate.metrics import Metrics
from cleanslate.operating import actions
from cleanslate.operating.handlers import (
    Runtime,
    Stopping,
    _let_go,
    arrived,
    handed_back,
    wakes,
)
from cleanslate.operating.workers import WorkerConfig


def test_a_spec_edit_seen_in_a_relist_after_a_watch_restart_wakes_the_account() -> None:
    """After a watch restart or 410 Gone kopf re-lists: the edit arrives with type None."""
    assert wakes(None, 3, {"generation": 4})
    assert wakes("MODIFIED", 3, {"generation": 4})


def test_a_manual_action_seen_in_a_relist_wakes_the_account() -> None:
    assert wakes(None, 4, {"generation": 4, "annotations": {actions.RETRY: "BONK-USD"}})


def test_status_writes_and_the_first_listing_do_not_wake_it() -> None:
    assert not wakes("MODIFIED", 4, {"generation": 4})
    assert not wakes(None, 4, {"generation": 4})
    assert not wakes(None, None, {"generation": 1})  # the operator's start: the daemon runs
    assert not wakes("DELETED", 3, {"generation": 4})


def test_an_account_that_arrives_with_a_status_moved_in_from_another_shard() -> None:
    """A label-filtered watch reports an account relabelled into the shard as ADDED; only an
    operator writes a status, so one that has it was handed over, not created."""
    assert arrived("ADDED", {"status": {"writeSequence": 4}})
    assert not arrived("ADDED", {"metadata": {"name": "new"}})  # created just now
    assert not arrived(None, {"status": {"writeSequence": 4}})  # this process's first listing
    assert not arrived("MODIFIED", {"status": {"writeSequence": 4}})


def test_a_record_released_by_its_last_writer_wakes_the_account() -> None:
    """The hand-back: a replica kopf paused marked its last write released; the replica that
    stands down for the account is woken to act at once, not at the end of its wait."""
    assert handed_back("MODIFIED", {"status": {"writeSequence": 9, "releasedSequence": 9}})
    assert handed_back(None, {"status": {"writeSequence": 9, "releasedSequence": 9}})
    assert not handed_back("MODIFIED", {"status": {"writeSequence": 10, "releasedSequence": 9}})
    assert not handed_back("MODIFIED", {"status": {"writeSequence": 9}})
    assert not handed_back("MODIFIED", {"metadata": {"name": "new"}})
    assert not handed_back("DELETED", {"status": {"writeSequence": 9, "releasedSequence": 9}})


class _Worker:
    """What ``_let_go`` touches of an account worker, recording what it was asked to do."""

    namespace, name, key = "ns", "moved", "ns/moved"
    running: asyncio.Future[float] | None = None

    def __init__(self) -> None:
        self.cancelled = self.closed = self.released = False

    async def cancel_own_orders(self) -> int:
        self.cancelled = True
        return 1

    async def close(self) -> None:
        self.closed = True

    async def release(self) -> int | None:
        self.released = True
        return 9


class _KopfStopped:
    def __init__(self, reason: kopf.DaemonStoppingReason | None = None) -> None:
        self.reason = reason

    def __bool__(self) -> bool:
        return self.reason is not None


async def _left_with(stopped: Stopping) -> tuple[_Worker, Metrics]:
    metrics = Metrics()
    metrics.cycles.labels("ns", "moved").inc()
    metrics.account_clean.labels("ns", "moved").set(1)
    config = WorkerConfig(state_dir=Path("/nonexistent"), metrics=metrics, kube=None)
    runtime = Runtime(config=config, policy_users={"ns/default": {"ns/moved", "ns/other"}})
    worker = _Worker()
    await _let_go(worker, stopped, runtime)  # type: ignore[arg-type]
    gone = "ns/moved" not in runtime.policy_users["ns/default"]
    assert gone == (not _series(metrics))  # forgotten everywhere, or nowhere
    return worker, metrics


def _series(metrics: Metrics) -> list[str]:
    text = generate_latest(metrics.registry).decode()
    return [line for line in text.splitlines() if 'account="moved"' in line]


async def test_a_moved_account_is_forgotten_and_none_of_its_orders_cancelled() -> None:
    """Leaving a shard is not a deletion: the purge's orders belong to the new owner."""
    stopped = Stopping(_KopfStopped())
    stopped.left.set()
    assert stopped
    worker, metrics = await _left_with(stopped)
    assert not worker.cancelled and worker.closed
    assert _series(metrics) == []

    mismatch = Stopping(_KopfStopped(kopf.DaemonStoppingReason.FILTERS_MISMATCH))
    worker, metrics = await _left_with(mismatch)
    assert not worker.cancelled and _series(metrics) == []


async def test_a_deleted_account_has_its_orders_cancelled_and_a_shutdown_keeps_its_series() -> None:
    deleted = Stopping(_KopfStopped(kopf.DaemonStoppingReason.RESOURCE_DELETED))
    worker, metrics = await _left_with(deleted)
    assert worker.cancelled and _series(metrics) == []
    exiting = Stopping(_KopfStopped(kopf.DaemonStoppingReason.OPERATOR_EXITING))
    worker, metrics = await _left_with(exiting)
    assert not worker.cancelled and _series(metrics) != []


async def test_a_daemon_stopped_by_peering_releases_the_account_and_nothing_else() -> None:
    pausing = Stopping(_KopfStopped(kopf.DaemonStoppingReason.OPERATOR_PAUSING))
    worker, metrics = await _left_with(pausing)
    assert worker.released and not worker.cancelled and worker.closed
    assert _series(metrics) != []  # paused, not gone: a resumed daemon exports it again
    for reason in (
        kopf.DaemonStoppingReason.OPERATOR_EXITING,
        kopf.DaemonStoppingReason.RESOURCE_DELETED,
        kopf.DaemonStoppingReason.FILTERS_MISMATCH,
    ):
        worker, _ = await _left_with(Stopping(_KopfStopped(reason)))
        assert not worker.released, reason
    moved = Stopping(_KopfStopped(kopf.DaemonStoppingReason.OPERATOR_PAUSING))
    moved.left.set()  # moved to another shard as the pause came: its writes cannot land
    worker, _ = await _left_with(moved)
    assert not worker.released


async def test_a_release_waits_for_the_cycle_and_survives_the_daemon_being_cancelled() -> None:
    """kopf cancels a pausing daemon (and again every second): the release is written only
    once the cancelled cycle has ended, and a cancellation of the daemon does not stop it."""
    cycle: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    worker = _Worker()
    worker.running = cycle
    config = WorkerConfig(state_dir=Path("/nonexistent"), metrics=Metrics(), kube=None)
    runtime = Runtime(config=config)
    stopped = Stopping(_KopfStopped(kopf.DaemonStoppingReason.OPERATOR_PAUSING))
    daemon = asyncio.ensure_future(_let_go(worker, stopped, runtime))  # type: ignore[arg-type]
    for _ in range(5):
        await asyncio.sleep(0)
    assert not worker.released and runtime.releases  # the cycle is still ending
    daemon.cancel()
    await asyncio.gather(daemon, return_exceptions=True)
    assert not worker.released
    cycle.set_result(0.0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert worker.released and not runtime.releases
    assert runtime.released["ns/moved"][0] == 9  # a daemon started again soon rejoins
