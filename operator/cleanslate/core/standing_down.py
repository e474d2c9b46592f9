"""When may a replica that stood down act on an account again?

A replica stands down when a fenced status write finds a newer record (another replica took
over while it was frozen) and when an account moves in from another shard. It must not act
while the other may still be sending an order, and every order is preceded by a status write
(the in-flight record), so it reads the record's ``writeSequence`` and acts:

* at once when the record says its last writer let go of it (``releasedSequence`` equals
  ``writeSequence``): that writer's cycle had ended before the write, and nobody has written,
  so nobody has placed an order, since. This is the hand-back: kopf's peering paused the
  replica that took over, and the paused one says so in the record;
* otherwise once the number has not moved for a whole stand-down period (the writer was
  cut off, killed, or moved away and cannot say it let go).

The replica that let go may be resumed by kopf moments later (peering can flap while the
frozen one's keep-alive settles). Its new daemon starts from the record like any other,
but if somebody wrote since its release, somebody took the account and may be selling this
very second: it stands down like a replica whose write was stale (``rejoin``).

Pure: the caller passes the time (``now``, seconds on any monotonic clock).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quiet:
    """What a replica standing down has seen: the ``writeSequence`` it last read (None
    before its first look) and when it first read that number."""

    sequence: int | None = None
    since: float = 0.0


@dataclass(frozen=True)
class Look:
    """One look at the stored record: act now, or wait ``wait`` seconds and look again."""

    act: bool
    wait: float
    quiet: Quiet
    released: bool
    """The record says its last writer let go (the hand-back), so no quiet period is owed."""


def released(sequence: int | None, released_sequence: int | None) -> bool:
    """Whether the stored record is a release: its last write was its writer letting go."""
    return sequence is not None and released_sequence == sequence


def rejoin(released_at: int, sequence: int | None) -> bool:
    """Whether a daemon that starts again soon after this replica released the account at
    ``released_at`` may act at once: only if nobody has written the record since."""
    return sequence == released_at


def look(
    quiet: Quiet,
    sequence: int | None,
    released_sequence: int | None,
    now: float,
    period: float,
) -> Look:
    """Judge the stored record (``writeSequence``, ``releasedSequence``) at ``now``."""
    if released(sequence, released_sequence):
        return Look(True, 0.0, Quiet(sequence, now), True)
    seen = sequence or 0
    if quiet.sequence is None or seen != quiet.sequence:
        quiet = Quiet(seen, now)
    left = max(0.0, quiet.since + period - now)
    return Look(left <= 0.0, left, quiet, False)
