"""A replica standing down acts once the record is quiet for a whole period, or at once when
the record says its last writer let go (the hand-back after kopf's peering paused it)."""

from __future__ import annotations

from cleanslate.core.standing_down import Quiet, look, rejoin, released

PERIOD = 60.0


def test_a_record_still_being_written_keeps_the_replica_standing_down() -> None:
    seen = look(Quiet(), 7, None, now=100.0, period=PERIOD)
    assert not seen.act and seen.wait == PERIOD and seen.quiet == Quiet(7, 100.0)
    seen = look(seen.quiet, 8, None, now=150.0, period=PERIOD)  # written again: start over
    assert not seen.act and seen.wait == PERIOD and seen.quiet == Quiet(8, 150.0)
    seen = look(seen.quiet, 8, None, now=200.0, period=PERIOD)
    assert not seen.act and seen.wait == 10.0 and not seen.released


def test_a_record_quiet_for_the_whole_period_is_acted_on() -> None:
    seen = look(Quiet(8, 150.0), 8, None, now=210.0, period=PERIOD)
    assert seen.act and seen.wait == 0.0 and not seen.released


def test_a_released_record_is_acted_on_at_once() -> None:
    seen = look(Quiet(), 9, 9, now=100.0, period=PERIOD)
    assert seen.act and seen.wait == 0.0 and seen.released
    # mid-wait too: the other replica let go with its last write
    seen = look(Quiet(8, 150.0), 9, 9, now=151.0, period=PERIOD)
    assert seen.act and seen.released


def test_a_release_someone_wrote_over_is_no_release() -> None:
    """Any write after the release moves ``writeSequence`` past it: a replica acts again and
    may be sending an order, so the quiet period is owed once more."""
    assert not released(10, 9) and not released(None, None) and not released(None, 1)
    seen = look(Quiet(9, 100.0), 10, 9, now=101.0, period=PERIOD)
    assert not seen.act and seen.wait == PERIOD and seen.quiet == Quiet(10, 101.0)


def test_an_account_without_a_sequence_waits_like_any_quiet_record() -> None:
    seen = look(Quiet(), None, None, now=0.0, period=PERIOD)
    assert not seen.act and seen.quiet == Quiet(0, 0.0)
    assert look(seen.quiet, None, None, now=60.0, period=PERIOD).act


def test_no_stand_down_period_acts_at_once() -> None:
    assert look(Quiet(), 3, None, now=5.0, period=0.0).act


def test_a_replica_resumed_soon_after_it_let_go_acts_only_if_nobody_took_the_account() -> None:
    """kopf's peering can resume the replica that just let go (it flaps while the other's
    keep-alive settles): if the record moved since the release, another replica acts."""
    assert rejoin(9, 9)
    assert not rejoin(9, 10)
    assert not rejoin(9, None)
