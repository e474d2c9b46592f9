"""Nonces for one key never repeat or go back within the process.

Kraken refuses a private request whose nonce is not greater than the last one for the key,
and ccxt's Kraken nonce is the wall clock in milliseconds: two requests in one millisecond
repeat it. The clock is frozen here, so the outcome does not depend on how many requests
fit in a millisecond on the machine running the test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from cycle.harness import account_spec

from cleanslate.clock import SimulatedClock
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.exchange.ccxt import CcxtExchange, make_client
from cleanslate.exchange.ccxt.nonces import PROCESS_NONCES, NonceSequences
from cleanslate.exchange.errors import TemporaryError
from fakes.ccxt_venues import credentials

from .rig import venue_for

FROZEN_MS = 1_780_000_000_000


def _frozen(client: object) -> object:
    client.milliseconds = lambda: FROZEN_MS  # type: ignore[attr-defined]
    return client


def test_one_client_in_one_millisecond_sends_strictly_increasing_nonces() -> None:
    client = _frozen(make_client("kraken", credentials("kraken")))
    nonces = [client.nonce() for _ in range(100)]  # type: ignore[attr-defined]
    assert nonces == sorted(set(nonces))
    assert nonces[0] >= FROZEN_MS


def test_two_clients_for_one_key_share_one_sequence() -> None:
    """A client released and rebuilt for the same key (an account deleted and re-applied)
    continues the key's sequence instead of starting from the clock again."""
    first = _frozen(make_client("kraken", credentials("kraken")))
    second = _frozen(make_client("kraken", credentials("kraken")))
    interleaved = [c.nonce() for _ in range(10) for c in (first, second)]  # type: ignore[attr-defined]
    assert interleaved == sorted(set(interleaved))


def test_another_key_has_its_own_sequence() -> None:
    sequences = NonceSequences()
    mine, theirs = sequences.key_of("kraken", "k1"), sequences.key_of("kraken", "k2")
    assert [sequences.next(mine, FROZEN_MS) for _ in range(3)] == [
        FROZEN_MS,
        FROZEN_MS + 1,
        FROZEN_MS + 2,
    ]
    assert sequences.next(theirs, FROZEN_MS) == FROZEN_MS


def test_a_clock_that_moved_on_is_used_as_it_is() -> None:
    sequences = NonceSequences()
    key = sequences.key_of("kraken", "k")
    sequences.next(key, FROZEN_MS)
    assert sequences.next(key, FROZEN_MS + 500) == FROZEN_MS + 500


@pytest.mark.parametrize("native", [1_780_000_000, "f3a9c2", None])
def test_nonces_in_seconds_or_not_numbers_are_left_as_ccxt_makes_them(native: object) -> None:
    """Raising a seconds nonce by one per request would run it ahead of the venue's window."""
    sequences = NonceSequences()
    key = sequences.key_of("x", "k")
    assert sequences.next(key, native) == native
    assert sequences.next(key, native) == native


def test_the_key_table_holds_no_api_key() -> None:
    sequences = NonceSequences()
    sequences.next(sequences.key_of("kraken", "my-secret-api-key"), FROZEN_MS)
    assert "my-secret-api-key" not in repr(sequences)


async def test_a_nonce_another_process_already_used_is_temporary_and_places_once() -> None:
    """Another process on the same key (a restart inside a burst's lead, a second replica)
    can still send a nonce the venue has seen. Kraken refuses it and executes nothing; the
    adapter reads it as temporary, never as a rejection, and the retry places one order."""
    spec = account_spec({"USD": "150", "WLFI": "200"}, market="calm")
    clock = SimulatedClock()
    venue = venue_for("kraken", spec, clock)

    def adapter(sequences: NonceSequences) -> CcxtExchange:
        client = venue.install(_frozen(make_client("kraken", credentials("kraken"))))  # type: ignore[attr-defined]
        client.nonce = type(client).nonce.__get__(client)  # ccxt's own, then this "process"'s
        sequences.install(client, "kraken", credentials("kraken")["apiKey"])
        client.enableRateLimit = False
        return CcxtExchange(client, clock, exchange_id="kraken", read_only=False)

    ahead = adapter(NonceSequences())
    quote = await ahead.quote("WLFI-USD")
    for _ in range(3):  # private requests in one millisecond run this process's nonce ahead
        await ahead.balances()
    other = adapter(NonceSequences())  # another process: its clock reads the same millisecond
    product = await ahead.product("WLFI-USD")
    order = OrderRequest(
        client_order_id="cs-nonce-1",
        product_id="WLFI-USD",
        side=Side.SELL,
        base_size=Decimal(10),
        order_type=OrderType.LIMIT,
        limit_price=(quote.bid * Decimal("0.9")).quantize(product.price_tick),
        immediate_or_cancel=True,
    )
    with pytest.raises(TemporaryError):
        await other.place_order(order)
    assert "cs-nonce-1" not in venue.placed_client_ids()

    again = await ahead.place_order(order)
    assert again.filled_size == Decimal(10)
    assert venue.placed_client_ids().count("cs-nonce-1") == 1
    await ahead.aclose()
    await other.aclose()


def test_clients_made_by_make_client_use_the_process_table() -> None:
    client = _frozen(make_client("kraken", {"apiKey": "solo-key", "secret": "c2VjcmV0"}))
    first = client.nonce()  # type: ignore[attr-defined]
    key = PROCESS_NONCES.key_of("kraken", "solo-key")
    assert PROCESS_NONCES.next(key, FROZEN_MS) == first + 1
