"""What the plan decides for one holding: the action, how much, and why.

A decision is a value; the shell carries it out. Sell quantities are base units and never
exceed what the holding has available (orders hold the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from cleanslate.api.account import PlanAction, PlanItem, UnwindProgress


class ExitKind(StrEnum):
    """How the executor carries a decision out."""

    PURGE = "purge"
    """Maker-first TWAP liquidation (ineligible and excluded holdings)."""
    CLOSE = "close"
    """Market close of the whole available balance (dust, zombies, over cap, undersized)."""
    UNWIND = "unwind"
    """Market sale of one gradual-unwind step."""
    TRIM = "trim"
    """Market sale that brings exposure under the cap."""
    ESCALATE = "escalate"
    """Needs a person: the one exit attempt already failed."""
    KEEP = "keep"
    SKIP = "skip"
    IGNORE = "ignore"


SELLING_KINDS = frozenset({ExitKind.PURGE, ExitKind.CLOSE, ExitKind.UNWIND, ExitKind.TRIM})

_ACTIONS = {
    ExitKind.PURGE: PlanAction.PURGE,
    ExitKind.CLOSE: PlanAction.CLOSE,
    ExitKind.UNWIND: PlanAction.UNWIND,
    ExitKind.TRIM: PlanAction.TRIM,
    ExitKind.ESCALATE: PlanAction.ESCALATE,
    ExitKind.KEEP: PlanAction.KEEP,
    ExitKind.SKIP: PlanAction.SKIP,
    ExitKind.IGNORE: PlanAction.IGNORE,
}


class Rule(StrEnum):
    """The rule that decided, in the order rules are tried (first match wins)."""

    KEEP = "keep"
    LEFT_ALONE = "left-alone"
    HOLD_OFF = "hold-off"
    DUST = "dust"
    ZOMBIE = "zombie"
    INELIGIBLE = "ineligible"
    OVER_CAP = "over-cap"
    LEGACY = "legacy"
    EXPOSURE = "exposure"
    NORMALIZATION = "normalization"
    ALIGNED = "aligned"


RULE_ORDER = tuple(Rule)


@dataclass(frozen=True, slots=True)
class Decision:
    symbol: str
    """Product id, e.g. SEI-USD."""
    asset: str
    kind: ExitKind
    rule: Rule
    quantity: Decimal
    """Base units to sell (zero for keep, skip, ignore and escalate)."""
    value_usd: Decimal | None
    """Value at the bid of what is sold, or of the holding when nothing is."""
    reason: str
    progress: UnwindProgress | None = None
    """For an unwind: the progress to store once this step has been carried out."""
    unsellable: bool = False
    """A sale the plan wanted that no order can make: the whole balance is under the
    exchange's minimum (``holdbacks.unsellable``). Only these may be swept (``sweeping``)."""

    @property
    def action(self) -> PlanAction:
        return _ACTIONS[self.kind]

    @property
    def sells(self) -> bool:
        return self.kind in SELLING_KINDS and self.quantity > 0

    def plan_item(self) -> PlanItem:
        return PlanItem(
            symbol=self.symbol,
            action=self.action,
            quantity=self.quantity,
            value_usd=self.value_usd,
            reason=self.reason[:1024],
        )
