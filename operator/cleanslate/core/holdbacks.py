"""Why a planned sale is held back this cycle although a rule chose it.

A restraint applies after the rules have decided, because it depends on facts about the
holding rather than on why it should go: an unsellable remainder (the whole balance is under
the exchange's minimum, so the sale would fill nothing) is left alone, not retried every
cycle. An incomplete account value (a holding unpriced) is ``core.uncertainty``'s.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from cleanslate.core.classification import Classified
from cleanslate.core.decisions import Decision, ExitKind
from cleanslate.core.exits import below_exchange_minimum

HELD_BY_ORDERS = "held by open orders"


def unsellable(decision: Decision, c: Classified) -> Decision:
    """A sale of a holding whose whole balance is under the exchange's minimum would fill
    nothing: it is left as an unsellable remainder (Ignore), not retried every cycle and never
    reported as sold. The holding is judged by its total: when open orders hold the rest, what
    is available is no remainder but a position waiting for those orders (a Skip, which
    blocks CLEAN, with the reason), never Ignore while a real position sits in an order."""
    holding = c.holding
    if not decision.sells:
        return decision
    why = below_exchange_minimum(holding, holding.available)
    if why is None:
        return decision
    if below_exchange_minimum(holding, holding.quantity) is None:
        held = holding.quantity - holding.available
        reason = (
            f"{decision.reason}; {held} of {holding.quantity} {holding.asset} held by open orders"
        )
        return replace(
            decision, kind=ExitKind.SKIP, quantity=Decimal(0), progress=None, reason=reason
        )
    return replace(
        decision,
        kind=ExitKind.IGNORE,
        quantity=Decimal(0),
        progress=None,
        reason=f"{why}; {decision.reason}",
        unsellable=True,
    )
