"""One ccxt client per (exchange id, sandbox, API key), shared by the accounts that use it.

ccxt's rate limiter lives in the client: accounts on the same key must share one client, or
each would spend the key's whole budget. The registry counts users; the adapter of each
account releases its share on ``aclose``, and the last release closes the client (its
aiohttp session). Keys are held as a SHA-256 of the whole credential set (API key, secret,
passphrase), never the credentials themselves: an API key alone travels in clear request
headers and proves nothing, so a Secret that shares only the key with another account's gets
its own client, signing with its own secret, never the other account's.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cleanslate.clock import Clock
from cleanslate.exchange.ccxt.adapter import CcxtExchange
from cleanslate.exchange.ccxt.client import make_client

ClientKey = tuple[str, bool, str]


@dataclass
class _Entry:
    client: Any
    users: int = 0


@dataclass
class ClientRegistry:
    """Shared ccxt clients, ref-counted."""

    factory: Callable[[str, Mapping[str, str], bool], Any] = field(
        default=lambda exchange_id, credentials, sandbox: make_client(
            exchange_id, credentials, sandbox=sandbox
        )
    )
    _entries: dict[ClientKey, _Entry] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @staticmethod
    def key_of(exchange_id: str, credentials: Mapping[str, str], sandbox: bool) -> ClientKey:
        parts = (credentials.get(name, "") for name in ("apiKey", "secret", "password"))
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
        return exchange_id, sandbox, digest

    def users(self, key: ClientKey) -> int:
        entry = self._entries.get(key)
        return entry.users if entry else 0

    def acquire(
        self, exchange_id: str, credentials: Mapping[str, str], *, sandbox: bool
    ) -> tuple[ClientKey, Any]:
        """The shared client for this key (built on first use), counted as one more user."""
        key = self.key_of(exchange_id, credentials, sandbox)
        entry = self._entries.get(key)
        if entry is None:
            entry = _Entry(self.factory(exchange_id, credentials, sandbox))
            self._entries[key] = entry
        entry.users += 1
        return key, entry.client

    async def release(self, key: ClientKey) -> None:
        """One user fewer; the last one closes the client."""
        async with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            entry.users -= 1
            if entry.users > 0:
                return
            del self._entries[key]
        await entry.client.close()

    def exchange(
        self,
        exchange_id: str,
        credentials: Mapping[str, str],
        clock: Clock,
        *,
        sandbox: bool,
        read_only: bool,
    ) -> CcxtExchange:
        """An adapter on the shared client; its ``aclose`` releases the client."""
        key, client = self.acquire(exchange_id, credentials, sandbox=sandbox)

        async def release() -> None:
            await self.release(key)

        return CcxtExchange(
            client, clock, exchange_id=exchange_id, read_only=read_only, on_close=release
        )
