"""Kubernetes conditions, computed the kstatus way, as pure functions.

``Ready`` is the summary GitOps tools read; ``Reconciling`` says work is under way;
``Stalled`` is abnormal-true: it is present and True only when cleanslate cannot make
progress without a person. ``lastTransitionTime`` moves only when a condition's status
changes, so a cycle that changes nothing produces an identical list (and no write).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cleanslate.api.account import Condition

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"
MESSAGE_LIMIT = 200
"""A condition message is one line of at most this many characters (cert-manager and
CloudNativePG keep theirs to one line, so ``kubectl get -o wide`` stays readable); the
detail lives in status fields (``blockers``, ``purgeFailures``, ``plan``)."""


def bounded(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """``message`` on one line and within ``limit`` characters, cut with an ellipsis."""
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


@dataclass(frozen=True, slots=True)
class Desired:
    """What a condition should say now; the transition time is decided by ``merge``."""

    type: str
    status: str
    reason: str
    message: str = ""


def merge(
    current: Sequence[Condition], desired: Iterable[Desired], now: datetime, generation: int | None
) -> list[Condition]:
    """The new condition list: desired ones in order, each keeping its transition time when
    its status did not change. Conditions not desired any more are dropped."""
    previous = {c.type: c for c in current}
    merged = []
    for want in desired:
        before = previous.get(want.type)
        since = before.last_transition_time if before and before.status == want.status else now
        merged.append(
            Condition(
                type=want.type,
                status=want.status,
                reason=want.reason,
                message=bounded(want.message),
                last_transition_time=since,
                observed_generation=generation,
            )
        )
    return merged


def find(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def upsert(
    current: Sequence[Condition], want: Desired, now: datetime, generation: int | None
) -> list[Condition]:
    """Set one condition, keeping the others as they are."""
    kept = [Desired(c.type, c.status, c.reason, c.message) for c in current if c.type != want.type]
    merged = merge(current, [*kept, want], now, generation)
    order = [c.type for c in current] + ([] if find(current, want.type) else [want.type])
    return sorted(merged, key=lambda c: order.index(c.type))
