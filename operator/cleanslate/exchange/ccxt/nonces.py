"""Strictly increasing nonces per API key, within this process.

Venues such as Kraken refuse a private request whose nonce is not greater than the last one
they saw for the key (``EAPI:Invalid nonce``). ccxt derives the nonce from the wall clock
(Kraken: milliseconds), so two private requests for one key in the same millisecond carry the
same nonce, and the second is refused. That happens inside one process whenever requests come
faster than the clock ticks: accounts sharing a key share one client, but a client released
and rebuilt for the same key (an account deleted and re-applied) starts from the clock again,
and a paced client can still send two requests in one tick.

So every ccxt client's ``nonce`` is wrapped: it returns ccxt's own value, raised to one more
than the last nonce this process sent for the same (exchange, API key) when the clock has not
moved past it. Only clock-derived numeric nonces of millisecond resolution or finer are
raised; a venue whose nonce is in seconds (ccxt's default) or not a number keeps ccxt's value
untouched, since raising a seconds nonce would run it ahead of the venue's time window.

What this cannot order is another process using the same key: a second replica (sharding, or
a handover), a restart within the few milliseconds a burst ran ahead of the clock, or the CLI
next to the operator. Those are harmless rather than impossible: a refused nonce executes
nothing at the venue, ccxt raises ``InvalidNonce``, and the adapter reads it as temporary
(never as a rejection, never as an empty answer), so a placement is looked up by its client id
and retried at the next cycle. docs/exchanges.md says to give each operator its own key, or
to set the venue's nonce window.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MILLISECOND_NONCE_FLOOR = 10**12
"""A numeric nonce at least this large is milliseconds (or finer) since the epoch: safe to
raise by one. Seconds since the epoch are about 1.7e9."""


@dataclass
class NonceSequences:
    """The last nonce sent per key; keys are digests, never the API key itself."""

    _last: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def key_of(exchange_id: str, api_key: str) -> str:
        return hashlib.sha256(f"{exchange_id}\0{api_key}".encode()).hexdigest()

    def next(self, key: str, native: Any) -> Any:
        """``native`` (ccxt's nonce), or one more than the last one for ``key`` if larger."""
        if isinstance(native, bool) or not isinstance(native, int):
            return native
        if native < MILLISECOND_NONCE_FLOOR:
            return native
        value = max(native, self._last.get(key, 0) + 1)
        self._last[key] = value
        return value

    def install(self, client: Any, exchange_id: str, api_key: str) -> None:
        """Wrap ``client.nonce`` (ccxt calls ``self.nonce()`` while signing)."""
        native: Callable[[], Any] = client.nonce
        key = self.key_of(exchange_id, api_key)

        def nonce() -> Any:
            return self.next(key, native())

        client.nonce = nonce


PROCESS_NONCES = NonceSequences()
"""The one sequence table of this process: a venue counts nonces per key, whatever client
sent them."""
