"""Full garbage collections on the operator's schedule: survivors are frozen, garbage is not,
and frozen objects that became garbage are collected at the next thaw."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from cleanslate.operating.collecting import NEVER, CollectorSchedule


class Node:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector_state() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_up_freezes_what_is_alive_and_stops_automatic_full_collections(
    collector_state: None,
) -> None:
    young, middle, _ = gc.get_threshold()
    schedule = CollectorSchedule(600)
    schedule.start_up()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (young, middle, NEVER)


def test_off_leaves_pythons_own_schedule(collector_state: None) -> None:
    before = gc.get_threshold()
    CollectorSchedule(0).start_up()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_collection_frees_cyclic_garbage_and_freezes_only_survivors(
    collector_state: None,
) -> None:
    schedule = CollectorSchedule(300, thaw_every=3)
    schedule.start_up()
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    survivor = Node()
    schedule.collect()
    assert gone() is None  # the garbage was collected, not frozen
    assert gc.is_tracked(survivor) and gc.get_freeze_count() > 0

    # a frozen object that becomes garbage waits for the thaw, then goes
    kept = weakref.ref(survivor)
    del survivor
    schedule.collect()  # second: frozen objects are not walked
    assert kept() is not None
    schedule.collect()  # third: the thaw
    assert kept() is None
    assert len(schedule.pauses) == 3 and all(p >= 0 for p in schedule.pauses)
