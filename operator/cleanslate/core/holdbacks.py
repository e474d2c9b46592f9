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
