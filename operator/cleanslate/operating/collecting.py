"""The garbage collector on the operator's schedule instead of the allocator's.

A full collection walks every object the collector tracks and stops every account's cycle
while it does. With thousands of accounts that is millions of objects (kopf's record of each
account, its worker, its metric series, its status), and CPython starts a full collection
whenever a quarter as many objects as survived the last one have been promoted since: every
status replaced by a cycle counts. At 1,000 accounts it ran ten times in five minutes and
paused up to 3.3 s (on this project's busy 2-core machine); the pause grows with accounts.

So, with ``--gc-interval-seconds`` above 0:

* at start-up, after one collection, everything alive (modules, classes, kopf's and pydantic's
  machinery: ~100,000 objects) is frozen (``gc.freeze``): never garbage, never walked again;
* young collections stay automatic and at CPython's thresholds (they walk only new
  objects; larger thresholds made fewer but longer pauses, up to 3.7 s at 10,000 accounts
  on the busy test machine); full ones never start by themselves;
* every interval one full collection runs, then freezes what survived it. Freezing right
  after a full collection freezes no garbage, and the next collection walks only what was
  created since and is still alive, which is about one status per account;
* every ``thaw_every`` intervals the frozen objects are unfrozen first, so garbage among them
  (the state of an account deleted since) is collected too: one longer pause an hour.

Objects without reference cycles (most of a cycle's garbage) are freed at once whatever the
collector does; only cyclic garbage waits for the next collection.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass, field

logger = logging.getLogger("cleanslate.operator")
NEVER = 1_000_000_000
"""A gen2 threshold no process reaches: full collections run only on the schedule."""


@dataclass
class CollectorSchedule:
    interval_seconds: float = 600.0
    """Between scheduled full collections; 0 leaves CPython's own schedule."""
    thaw_every: int = 6
    """Every this many collections, frozen objects are collected too."""
    collections: int = 0
    pauses: list[float] = field(default_factory=list)
    """Seconds of the last few scheduled collections (for logs and tests)."""

    @property
    def enabled(self) -> bool:
        return self.interval_seconds > 0

    def start_up(self) -> None:
        """Freeze what start-up left alive and hand full collections to the schedule."""
        if not self.enabled:
            return
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)

    def collect(self) -> float:
        """One scheduled full collection; returns how long it paused the process."""
        began = time.perf_counter()
        self.collections += 1
        thaw = self.collections % self.thaw_every == 0
        if thaw:
            gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        pause = time.perf_counter() - began
        self.pauses = [*self.pauses[-9:], pause]
        logger.debug(
            "garbage collection%s: %d unreachable, %.3fs, %d frozen",
            " (frozen objects included)" if thaw else "",
            found,
            pause,
            gc.get_freeze_count(),
        )
        return pause

    async def run(self) -> None:
        """Collect every interval until cancelled (the operator's clean-up cancels it)."""
        if not self.enabled:
            return
        while True:
            await asyncio.sleep(self.interval_seconds)
            self.collect()
