"""One rule for every manual action in every state: acted on now, or refused now.

A person asks for a manual action by annotation (liquidate, retry, unfreeze a symbol). An
annotation kept for later is an order nobody is watching: a liquidate set while the account
was suspended used to wait and sell on resume, hours after the person looked. So each
request is decided the moment the operator sees it, and the annotation is removed either
way; a refusal leaves a warning event saying why, and a person who still wants it asks again.

* **Suspended**, or **not running** (invalid spec, missing policy or credentials): every
  action is refused. Nothing trades, and an action acted on "later" is what must not happen.
* **DryRun**: liquidate is refused (DryRun sells nothing); retry and unfreeze change only
  records the DryRun plan shows, so they are acted on.
* A **quote currency** the policy keeps, a **protected** symbol, a symbol **left alone** by
  a person: liquidate is refused (never sell what a user meant to keep; the spec says so
  and the annotation cannot outvote it). A quote currency the policy **released**
  (``releasedQuoteCurrencies``) is sellable like any holding, so liquidating it is acted on.
  Retry and unfreeze only clear records, and are acted on (the retry's event says that a
  kept holding is still not sold).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cleanslate.api.account import TradingAccountSpec
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.core.classification import protects
from cleanslate.core.leave_alone import is_left_alone


class Action(StrEnum):
    LIQUIDATE = "liquidate"
    RETRY = "retry"
    UNFREEZE = "unfreeze"


class Standing(StrEnum):
    """What the account is doing when the request is seen."""

    LIVE = "Live"
    DRY_RUN = "DryRun"
    SUSPENDED = "Suspended"
    HALTED = "Halted"
    """Not running: an invalid spec, a missing policy, missing credentials."""


@dataclass(frozen=True)
class Verdict:
    action: Action
    symbol: str
    acted: bool
    why: str = ""
    """Why it was refused (empty when acted on)."""

    def message(self) -> str:
        """The refusal's event text."""
        return f"{self.action.value} {self.symbol} refused: {self.why}; the request is removed"


def decide(
    action: Action,
    symbol: str,
    standing: Standing,
    spec: TradingAccountSpec | None,
    policy: PurgePolicySpec | None,
    now: datetime,
) -> Verdict:
    """The verdict on one request (see the module docstring). ``spec`` and ``policy`` may be
    None only when the account is not running (they are then unknown or unusable)."""
    if standing is Standing.SUSPENDED:
        return Verdict(action, symbol, False, "the account is suspended (spec.suspend)")
    if standing is Standing.HALTED or spec is None or policy is None:
        return Verdict(action, symbol, False, "the account is not running (see its conditions)")
    if action is not Action.LIQUIDATE:
        return Verdict(action, symbol, True)
    if standing is Standing.DRY_RUN:
        return Verdict(action, symbol, False, "the account is in DryRun, which sells nothing")
    if symbol.split("-", 1)[0] in policy.quote_currencies:
        return Verdict(action, symbol, False, "a quote currency the policy keeps is never sold")
    if protects(spec, symbol):
        return Verdict(action, symbol, False, "the symbol is protected (spec.protectedSymbols)")
    if is_left_alone(spec, symbol, now):
        return Verdict(action, symbol, False, "a person left the symbol alone (spec.leaveAlone)")
    return Verdict(action, symbol, True)


def decide_all(
    requests: dict[Action, frozenset[str]],
    standing: Standing,
    spec: TradingAccountSpec | None,
    policy: PurgePolicySpec | None,
    now: datetime,
) -> list[Verdict]:
    """Every request's verdict, in a stable order (action, then symbol)."""
    return [
        decide(action, symbol, standing, spec, policy, now)
        for action in Action
        for symbol in sorted(requests.get(action, frozenset()))
    ]


def acted(verdicts: list[Verdict], action: Action) -> frozenset[str]:
    """The symbols of ``action`` to act on now."""
    return frozenset(v.symbol for v in verdicts if v.action is action and v.acted)
