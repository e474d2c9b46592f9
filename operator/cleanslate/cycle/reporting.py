"""Turn a cycle's findings into status: the account state, conditions and counters.

Conditions follow kstatus so GitOps tools can read them:

* ``Ready``: True when the account is CLEAN, or, in DryRun, when a plan was made (the
  declared state of a dry-run account is a plan); otherwise False with the reason.
* ``Reconciling``: True while live cleaning is under way.
* ``Stalled``: True when nothing more can happen without a person or the passing of time
  (every remaining blocker waits on backoff, a freeze or an escalation); False otherwise.
* ``Clean``: the verification verdict, with the blockers as the message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cleanslate.api.account import AccountState, Mode, TradingAccountStatus
from cleanslate.core.conditions import FALSE, TRUE, Desired, bounded, merge
from cleanslate.core.planning import CyclePlan
from cleanslate.core.verification import Verification

CENT = Decimal("0.01")
VOLATILE = (
    "last_cycle",
    "balance",
    "cycles",
    "total_value_usd",
    "positions",
    "plan",
    "write_sequence",
)
"""Fields that move every cycle with prices and time; they alone never justify a write."""


def account_state(
    mode: Mode, verification: Verification, plan: CyclePlan | None, acted: bool
) -> AccountState:
    if verification.clean:
        return AccountState.CLEAN
    if mode is Mode.LIVE and (acted or _progress_possible(plan)):
        return AccountState.CLEANING
    return AccountState.DIRTY


def _progress_possible(plan: CyclePlan | None) -> bool:
    return plan is not None and (any(d.sells for d in plan.decisions) or bool(plan.stale_orders))


def conditions(
    status: TradingAccountStatus,
    state: AccountState,
    mode: Mode,
    verification: Verification,
    extra: Sequence[Desired],
    now: datetime,
    generation: int | None,
) -> TradingAccountStatus:
    blockers = summary(verification.blockers)
    clean = (
        Desired("Clean", TRUE, "Verified", "every rule holds")
        if verification.clean
        else (Desired("Clean", FALSE, "Blocked", blockers))
    )
    if state is AccountState.CLEAN:
        ready = Desired("Ready", TRUE, "Clean", "the account is CLEAN")
    elif mode is Mode.DRY_RUN:
        ready = Desired("Ready", TRUE, "DryRun", "plan ready in status.plan, nothing traded")
    elif state is AccountState.CLEANING:
        ready = Desired("Ready", FALSE, "Cleaning", blockers)
    else:
        ready = Desired("Ready", FALSE, "WaitingOnBlockers", blockers)
    stalled = mode is Mode.LIVE and state is AccountState.DIRTY
    desired = [
        ready,
        Desired(
            "Reconciling",
            TRUE if state is AccountState.CLEANING else FALSE,
            "Cleaning" if state is AccountState.CLEANING else "Idle",
        ),
        Desired(
            "Stalled",
            TRUE if stalled else FALSE,
            "WaitingOnBlockers" if stalled else "Progressing",
            blockers if stalled else "",
        ),
        clean,
        *extra,
    ]
    return status.model_copy(
        update={
            "conditions": merge(status.conditions, desired, now, generation),
            "observed_generation": generation,
        }
    )


def summary(blockers: Sequence[str]) -> str:
    """The blockers as one short line: how many, and the first; the full list is
    ``status.blockers`` (a condition message repeating it broke ``kubectl get -o wide``)."""
    if not blockers:
        return ""
    if len(blockers) == 1:
        return bounded(blockers[0])
    return bounded(f"{len(blockers)} blockers in status.blockers; first: {blockers[0]}")


def failing(
    status: TradingAccountStatus,
    error_reason: str,
    message: str,
    extra: Sequence[Desired],
    now: datetime,
    generation: int | None,
    state: AccountState = AccountState.ERROR,
) -> TradingAccountStatus:
    """Status of a cycle that could not run (policy, credentials or exchange trouble)."""
    desired = [
        Desired("Ready", FALSE, error_reason, message),
        Desired("Reconciling", FALSE, "Idle"),
        Desired("Stalled", TRUE, error_reason, message),
        *[c for c in _kept(status, "Clean")],
        *extra,
    ]
    return status.model_copy(
        update={
            "account_state": state,
            "conditions": merge(status.conditions, desired, now, generation),
            "observed_generation": generation,
        }
    )


def suspended(
    status: TradingAccountStatus, extra: Sequence[Desired], now: datetime, generation: int | None
) -> TradingAccountStatus:
    desired = [
        Desired("Ready", FALSE, "Suspended", "spec.suspend is true: no trading"),
        Desired("Reconciling", FALSE, "Suspended"),
        Desired("Stalled", FALSE, "Suspended"),
        *[c for c in _kept(status, "Clean")],
        *extra,
    ]
    return status.model_copy(
        update={
            "account_state": AccountState.SUSPENDED,
            "conditions": merge(status.conditions, desired, now, generation),
            "observed_generation": generation,
        }
    )


def _kept(status: TradingAccountStatus, type_: str) -> list[Desired]:
    return [
        Desired(c.type, c.status, c.reason, c.message) for c in status.conditions if c.type == type_
    ]


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def meaningful(status: TradingAccountStatus) -> dict[str, object]:
    """The status without the fields that drift every cycle, for change detection."""
    full = status.model_dump(mode="json")
    wire = {k: v for k, v in full.items() if k not in VOLATILE}
    wire["positions"] = [  # reasons quote live figures (24h volume) that drift every cycle
        {k: v for k, v in p.items() if k not in ("value_usd", "reasons")} for p in full["positions"]
    ]
    wire["plan"] = [
        {k: v for k, v in p.items() if k not in ("value_usd", "reason")} for p in full["plan"]
    ]
    wire["balance"] = {
        "stale": status.balance.stale,
        "consecutive_errors": status.balance.consecutive_errors,
    }
    return wire


@dataclass(frozen=True, slots=True)
class Written:
    """What change detection keeps of the last status written: a digest of its meaningful
    part and when its cycle started. A worker holding the whole written status besides its
    current one kept two status trees per account, a third of an idle account's memory."""

    digest: bytes
    cycle_started_at: datetime | None

    @classmethod
    def of(cls, status: TradingAccountStatus) -> Written:
        return cls(digest(status), status.last_cycle.started_at if status.last_cycle else None)


def digest(status: TradingAccountStatus) -> bytes:
    """``meaningful(status)`` as a 128-bit BLAKE2 digest of its canonical JSON: equal digests
    mean equal meaningful parts (a collision is beyond reach); unequal ones only cost a write."""
    text = json.dumps(meaningful(status), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def worth_writing(
    before: TradingAccountStatus | Written | None,
    after: TradingAccountStatus,
    now: datetime,
    refresh_seconds: float,
) -> bool:
    """Write when something a person or a restart needs changed, or the volatile figures
    (values, balance age) are older than ``refresh_seconds``: a no-op cycle costs no write."""
    if before is None:
        return True
    kept = before if isinstance(before, Written) else Written.of(before)
    if kept.digest != digest(after):
        return True
    last = kept.cycle_started_at
    return last is None or (now - last).total_seconds() >= refresh_seconds
