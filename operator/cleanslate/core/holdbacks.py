"""Why a planned sale is held back this cycle although a rule chose it.

Two restraints apply after the rules have decided, because they depend on facts about the
holding or the whole account rather than on why it should go:

* an unsellable remainder: the whole available balance is under the exchange's minimum, so
  the sale would fill nothing (it is left alone, not retried every cycle);
* an incomplete account value: while any holding is unpriced, NAV is understated and the
  sales that depend on it wait, so a price glitch on one holding never sells another.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from cleanslate.core.classification import Classified
from cleanslate.core.decisions import Decision, ExitKind, Rule
from cleanslate.core.exits import below_exchange_minimum
from cleanslate.core.holdings import Holding, Snapshot
from cleanslate.core.market import ProductStatus

NAV_DEPENDENT = frozenset({Rule.OVER_CAP, Rule.LEGACY, Rule.EXPOSURE, Rule.NORMALIZATION})
"""Rules whose sales depend on the account's value: through the percentage dust rule (which
positions count toward the cap, which legacy or undersized ones are dust) or the exposure
percentage. Dust closes, zombie exits and purges of rejected holdings do not: a smaller NAV
only makes fewer holdings dust."""


def unpriced_symbols(snapshot: Snapshot) -> list[str]:
    """Holdings (positions or quote currencies) without a price this cycle whose product is
    still listed: one glitch, a rate limit, or a freeze after repeated failures. While there
    are any, the account's value is understated (a frozen BTC would drop out of it whole).
    Only a product the exchange says is gone adds nothing to NAV without holding anything."""
    symbols = [h.product_id for h in snapshot.holdings if h.quantity > 0 and _listed_unpriced(h)]
    return sorted(symbols)


def _listed_unpriced(holding: Holding) -> bool:
    product = holding.product
    listed = product is not None and product.status is not ProductStatus.DELISTED
    return listed and holding.price is None


def await_complete_value(decision: Decision, unpriced: list[str]) -> Decision:
    """A price glitch on one holding must not sell another: with the account's value
    understated, sales that depend on it wait for a cycle with every price known."""
    if not unpriced or not decision.sells or decision.rule not in NAV_DEPENDENT:
        return decision
    reason = f"{decision.reason}; held: account value incomplete ({', '.join(unpriced)} unpriced)"
    return replace(decision, kind=ExitKind.SKIP, quantity=Decimal(0), progress=None, reason=reason)


def unsellable(decision: Decision, c: Classified) -> Decision:
    """A sale of a holding whose whole available balance is under the exchange's minimum
    would fill nothing: it is left as an unsellable remainder (Ignore), not retried every
    cycle and never reported as sold."""
    if not decision.sells:
        return decision
    why = below_exchange_minimum(c.holding, c.holding.available)
    if why is None:
        return decision
    return replace(
        decision,
        kind=ExitKind.IGNORE,
        quantity=Decimal(0),
        progress=None,
        reason=f"{why}; {decision.reason}",
    )
