"""How an account worker gets back to acting after the API server stopped it.

Two things stop a cycle before its next order, and both end the same way, with the next cycle
starting from the resource as stored rather than from what this process held:

* an outage (``kube.ApiUnavailable``): wait a short, growing delay (``outages.ApiHealth``),
  then read the resource; the first read that answers ends the wait.
* a stale record (``kube.StaleRecord``): a fenced status write found that another replica
  wrote the record since this one read it, so this process was frozen or cut off while the
  other took over. It stands down: it reads the record's ``writeSequence`` and acts again
  only once a whole ``stand_down_seconds`` has passed without the number moving, by which
  time kopf's peering has settled which replica acts, or at once when the record says its
  last writer let go of it (``core.standing_down``): that is the hand-back, the replica that
  took over was paused by kopf's peering and wrote so (``release``) as its daemon ended.

An account that moves in from another shard (a label change) starts the same way, standing
down before its first cycle: the old shard may still be cancelling the order its purge left
resting, and the new one must start from what it leaves, not race it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cleanslate.core import standing_down
from cleanslate.core.standing_down import Quiet
from cleanslate.operating.kube import RELEASED, Fence, Kube
from cleanslate.operating.outages import ApiHealth

logger = logging.getLogger("cleanslate.operator")


@dataclass
class Recovery:
    """One worker's way back; ``pending`` while its next cycle must start from a read."""

    key: str
    api: ApiHealth
    stand_down_seconds: float
    pending: bool = False
    quiet: Quiet | None = None
    """While standing down: the ``writeSequence`` last seen and since when (``monotonic``
    seconds); None when not standing down."""
    monotonic: Callable[[], float] = field(default=time.monotonic)
    tries: int = 0
    """Requests that failed in a row (the outage backoff's step)."""
    rejoining: int | None = None
    """This replica released the account at this ``writeSequence`` moments before the
    daemon started again (``rejoin``); None otherwise."""
    departed: bool = False
    """A re-read found the account without this shard's labels: it moved to another shard."""

    def api_lost(self, error: str) -> float:
        self.pending = True
        self.tries += 1
        return self.api.lost(error, self.tries - 1)

    def api_answered(self) -> None:
        self.tries = 0
        self.api.answered()

    def stand_down(self, detail: str) -> float:
        logger.warning(
            "%s: the status was written by another replica (%s); standing down for %.0fs",
            self.key,
            detail,
            self.stand_down_seconds,
        )
        self.pending, self.quiet = True, Quiet()
        return 0.0

    def arrive(self) -> None:
        """The account moved in from another shard: wait for a quiet record before acting."""
        logger.info(
            "%s: moved in from another shard; acting once its status has been quiet for %.0fs",
            self.key,
            self.stand_down_seconds,
        )
        self.pending, self.quiet = True, Quiet()

    def rejoin(self, released_at: int) -> None:
        """kopf resumed this replica soon after it let go of the account at ``released_at``:
        act at once only if nobody wrote since (``core.standing_down.rejoin``)."""
        self.pending, self.rejoining = True, released_at

    @property
    def standing_down(self) -> bool:
        return self.quiet is not None

    def quiet_left(self) -> float:
        """Seconds until the record has been quiet for a whole stand-down period."""
        since = self.quiet.since if self.quiet is not None else 0.0
        return max(0.0, since + self.stand_down_seconds - self.monotonic())

    async def reread(
        self, kube: Kube | None, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """The resource as stored, to act on; None while standing down and the record was
        written less than ``stand_down_seconds`` ago, as far as this worker has seen (wait
        ``quiet_left()`` and look again; a wake-up meanwhile shortens it only when the
        record now says its last writer let go)."""
        stored = (await kube.read_account(namespace, name) if kube else None) or body
        labels = (stored.get("metadata") or {}).get("labels") or {}
        if kube is not None and any(labels.get(k) != v for k, v in kube.shard.items()):
            logger.info("%s: no longer carries this shard's labels; letting go", self.key)
            self.departed = True
            return None
        if self.rejoining is not None:
            sequence = Fence.of(stored).sequence
            if self.quiet is None and not standing_down.rejoin(self.rejoining, sequence):
                logger.warning(
                    "%s: written by another replica since this one let go (writeSequence %s, "
                    "released at %s); standing down for %.0fs",
                    self.key,
                    sequence,
                    self.rejoining,
                    self.stand_down_seconds,
                )
                self.quiet = Quiet()
            self.rejoining = None
        if self.quiet is not None:
            status = stored.get("status") or {}
            seen = standing_down.look(
                self.quiet,
                Fence.of(stored).sequence,
                status.get(RELEASED) if isinstance(status, Mapping) else None,
                self.monotonic(),
                self.stand_down_seconds,
            )
            self.quiet = seen.quiet
            if not seen.act:
                return None
            if seen.released:
                logger.warning(
                    "%s: handed back (the other replica let go at writeSequence %s); acting "
                    "again at once",
                    self.key,
                    seen.quiet.sequence,
                )
            else:
                logger.warning(
                    "%s: no other writer for %.0fs; acting again", self.key, self.stand_down_seconds
                )
        self.pending, self.quiet = False, None
        return stored
