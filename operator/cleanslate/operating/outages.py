"""The Kubernetes API server as the account workers see it: answering, or in an outage.

An outage (the API server killed or paused, etcd down) stops every account's status write at
once. Each worker then waits a short, growing delay (``RETRY_DELAYS``) and tries again with a
single read, so no cycle runs, and no order is placed, while the record of it cannot be
written; the first read that succeeds ends the wait. The outage is logged once when it starts
and once when it ends, for all accounts together, instead of a traceback per cycle.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

logger = logging.getLogger("cleanslate.operator")

RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
"""Waits between tries while the API server is away: short at first, at most 10 s, so a
returning server is noticed within seconds."""


@dataclass
class ApiHealth:
    """Shared by every worker of a process, so one outage is one pair of log lines."""

    delays: tuple[float, ...] = RETRY_DELAYS
    down_since: float | None = None
    """``time.monotonic()`` when the outage was first seen; None while the server answers."""
    failures: int = 0
    """Failed tries during this outage, over all accounts."""

    def lost(self, error: str, tries: int) -> float:
        """Note a failed request (the worker's ``tries``-th in a row); how long to wait."""
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            logger.warning(
                "Kubernetes API unavailable (%s): cycles wait for it, retrying every %s-%ss",
                error,
                _figure(self.delays[0]),
                _figure(self.delays[-1]),
            )
        return self.delays[min(tries, len(self.delays) - 1)]

    def answered(self) -> None:
        """A request succeeded: end the outage, if there was one."""
        if self.down_since is None:
            return
        logger.warning(
            "Kubernetes API answering again after %.1fs (%d failed tries)",
            time.monotonic() - self.down_since,
            self.failures,
        )
        self.down_since, self.failures = None, 0


def _figure(seconds: float) -> str:
    return f"{seconds:g}"
