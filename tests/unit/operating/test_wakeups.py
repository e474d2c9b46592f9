"""Which watch events wake an account's daemon before its next scheduled cycle."""

from __future__ import annotations

from cleanslate.operating import actions
from cleanslate.operating.handlers import arrived, wakes


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
