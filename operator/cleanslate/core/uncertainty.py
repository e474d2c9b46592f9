"""Deciding with an unknown: a sale is made only when it is made for every value it can have.

A holding whose price is unknown this cycle (one failed fetch, a rate limit, a freeze) is
held and never sold. Its value is also part of the account's value, and some decisions about
*other* holdings depend on that value: the percentage dust limit, which positions count
toward the cap, the exposure cap. Rather than making all of those wait (one frozen coin would
stop every other exit for a day) or guessing a value, the plan is decided at the two bounds
of what the unknown holding can plausibly be worth:

* the low bound: worth nothing (the holding left out of the account);
* the high bound: its last known value, or, when none is known, more than any account holds
  (``UNBOUNDED_USD``; the percentage dust limit is capped at ``minPositionUsd``, so this is
  the limit of an unbounded account).

At the high bound the holding is priced but held as in reality (no 24h volume is given, so
the universe cannot judge it and no rule sells it). With several unpriced holdings, each is
at either bound on its own: an unsellable one worth much raises the exposure while another
worth much raises only the account's value, so "all low" and "all high" can agree on a sale
that a mix of them would not make. The plan is decided at every mix of bounds (up to
``EXHAUSTIVE`` unpriced holdings; beyond, at all-low, all-high and each holding alone on the
other bound). A sale planned on the real snapshot is made when the same holding is sold at
every one of them, for the smallest quantity; otherwise that sale alone waits, and its reason
says which value it waits for.
Sales that do not depend on the account's value (a zombie's exit, a rejected coin's purge, a
legacy unwind step) are the same at both bounds and never wait for another symbol's price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import combinations

from cleanslate.core.decisions import Decision, ExitKind
from cleanslate.core.holdings import Holding, Snapshot
from cleanslate.core.market import ProductStatus, Quote

UNBOUNDED_USD = Decimal(10) ** 12
"""The high bound of a holding whose last value is unknown: more than any account holds."""

EXHAUSTIVE = 5
"""Up to this many unpriced holdings, every mix of their bounds is planned (2**5 = 32
plans, each pure and fast); beyond, the all-low and all-high mixes and each holding alone on
the other bound."""


@dataclass(frozen=True, slots=True)
class Bounds:
    """The account at the two bounds of its unpriced holdings' values."""

    unknown: tuple[str, ...]
    """Product ids of the unpriced holdings, sorted."""
    low: Snapshot
    high: Snapshot
    high_values: Mapping[str, Decimal | None]
    """The high bound of each unknown holding (None: unbounded)."""
    mixed: tuple[Snapshot, ...] = ()
    """The account with some unpriced holdings at the low bound and the others at the high
    one (see the module's docstring)."""

    @property
    def views(self) -> tuple[Snapshot, ...]:
        """Every mix of bounds the plan must agree with."""
        return (self.low, self.high, *self.mixed)


def unpriced(holding: Holding) -> bool:
    """Held, listed, and without a price this cycle: its value is unknown, not zero. Only a
    product the exchange says is gone is worth nothing for sure."""
    product = holding.product
    listed = product is not None and product.status is not ProductStatus.DELISTED
    return holding.quantity > 0 and listed and holding.price is None


def bounds(snapshot: Snapshot, last_values: Mapping[str, Decimal]) -> Bounds | None:
    """The account at both bounds, or None when every value is known."""
    unknown = [h for h in snapshot.holdings if unpriced(h)]
    if not unknown:
        return None
    order = tuple(sorted(h.product_id for h in unknown))
    highs = {h.product_id: _last_value(last_values, h) for h in unknown}
    low = _at(snapshot, highs, frozenset())
    high = _at(snapshot, highs, frozenset(order))
    mixed = tuple(_at(snapshot, highs, at_high) for at_high in _mixes(order))
    return Bounds(order, low, high, highs, mixed)


def _at(
    snapshot: Snapshot, highs: Mapping[str, Decimal | None], at_high: frozenset[str]
) -> Snapshot:
    """The account with the unpriced holdings in ``at_high`` at their high bound and the
    other unpriced ones at the low bound (left out: worth nothing)."""
    return replace(
        snapshot,
        holdings=tuple(
            _priced_at(h, highs[h.product_id], snapshot) if h.product_id in at_high else h
            for h in snapshot.holdings
            if h.product_id not in highs or h.product_id in at_high
        ),
    )


def _mixes(ids: Sequence[str]) -> list[frozenset[str]]:
    """The sets of unpriced holdings at the high bound, besides none and all of them."""
    if len(ids) < 2:
        return []
    if len(ids) <= EXHAUSTIVE:
        found = [frozenset(c) for n in range(1, len(ids)) for c in combinations(ids, n)]
    else:
        every = frozenset(ids)
        found = [frozenset({i}) for i in ids] + [every - {i} for i in ids]
    return found


def _last_value(last_values: Mapping[str, Decimal], holding: Holding) -> Decimal | None:
    value = last_values.get(holding.product_id)
    return value if value is not None and value > 0 else None


def _priced_at(holding: Holding, value: Decimal | None, snapshot: Snapshot) -> Holding:
    """The holding worth ``value`` (or the unbounded value), with no volume so it is held."""
    worth = UNBOUNDED_USD if value is None else value
    bid = worth / holding.quantity
    quote = Quote(holding.product_id, bid, bid, None, Decimal(0), snapshot.now)
    return replace(holding, quote=quote, price_error=None, price_lost=False)


def agree(
    decisions: Sequence[Decision], at_bounds: Iterable[Mapping[str, Decision]], b: Bounds
) -> list[Decision]:
    """Each sale of ``decisions`` that is also a sale at every bound, for the smallest
    quantity; the others wait, saying for which value."""
    views = list(at_bounds)
    return [_agreed(d, [v.get(d.symbol) for v in views], b) for d in decisions]


def _agreed(decision: Decision, others: list[Decision | None], b: Bounds) -> Decision:
    """An unpriced holding's own decision stands: it rests on its own facts (a zombie whose
    product is gone gets its exit; one merely unpriced is held), not on its value."""
    if not decision.sells or decision.symbol in b.unknown:
        return decision
    if not all(o is not None and o.sells for o in others):
        return wait(decision, b)
    quantity = min([decision.quantity, *(o.quantity for o in others if o is not None)])
    if quantity == decision.quantity:
        return decision
    value = decision.value_usd
    if value is not None and decision.quantity > 0:
        value = value * quantity / decision.quantity
    reason = f"{decision.reason}; {quantity} of {decision.quantity}: what every bound sells"
    return replace(decision, quantity=quantity, value_usd=value, reason=reason)


def wait(decision: Decision, b: Bounds) -> Decision:
    """The sale waits for the unknown values; nothing else does."""
    reason = f"{decision.reason}; waits: {describe(b)}"
    return replace(decision, kind=ExitKind.SKIP, quantity=Decimal(0), progress=None, reason=reason)


def describe(b: Bounds) -> str:
    """Which unknown values a waiting sale depends on, and the range considered."""
    ranges = ", ".join(
        f"{s} worth $0 to {'unbounded' if v is None else f'${v:.2f}'}"
        for s, v in sorted(b.high_values.items())
    )
    return f"not the same decision for every value of the unpriced ({ranges})"
