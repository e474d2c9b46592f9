"""The dust sweep's shell (``policy.dust.sweep: VenueConversion``): after the exit phase,
ask ``core.sweeping`` which crumbs go, convert them through the venue's own endpoint
(``exchange.port.DustConverter``) and record it in ``status.dustSweep``.

One conversion per cycle at most; DryRun (and a read-only adapter) converts nothing and
lists the crumbs in the plan. A venue without a conversion is reported as unavailable, once
per change of word, and nothing else changes. A failed conversion is reported and not
retried before the next cycle; it does not stop the cycle (the crumbs only stay).
"""

from __future__ import annotations

from collections.abc import Sequence

from cleanslate.api.account import DustSweepStatus, PlanAction, PlanItem
from cleanslate.api.policy import DustSweep
from cleanslate.core.planning import CyclePlan
from cleanslate.core.settlement import cash_currencies
from cleanslate.core.sweeping import SweepPlan, plan_sweep
from cleanslate.cycle import exiting
from cleanslate.cycle.context import CycleInputs
from cleanslate.events import Event, Reason
from cleanslate.exchange.errors import ExchangeError
from cleanslate.exchange.port import DustConverter

REASON_LIMIT = 1024


def opted_in(inputs: CycleInputs) -> bool:
    return inputs.policy.dust.sweep is DustSweep.VENUE_CONVERSION


async def sweep(
    inputs: CycleInputs, books: exiting.Books, plan: CyclePlan, converting: bool
) -> dict[str, str]:
    """Plan the sweep and, when ``converting`` (Live, placing orders), carry it out. Returns
    a note for the plan's reason of each crumb it converted (or, in DryRun, would)."""
    exchange = inputs.exchange
    converter = exchange if isinstance(exchange, DustConverter) else None
    terms = converter.dust_terms() if converter is not None else None
    if converter is None or terms is None:
        _record(inputs, books, f"unavailable: {exchange.name} has no dust conversion", warn=True)
        return {}
    previous = books.status.dust_sweep or DustSweepStatus()
    chosen = plan_sweep(
        plan.classified,
        plan.decisions,
        target=terms.target,
        cooldown=terms.cooldown,
        cash=cash_currencies(inputs.spec, inputs.policy),
        last_swept_at=previous.last_swept_at,
        now=inputs.clock.now(),
    )
    if not chosen.crumbs:
        _record(inputs, books, chosen.reason)
        return {}
    if not converting:
        _record(inputs, books, f"DryRun, nothing converted: Live {chosen.reason}")
        note = f"DryRun: the dust sweep would convert it into {terms.target}"
        return {c.symbol: note for c in chosen.crumbs}
    converted = await _convert(inputs, books, converter, chosen)
    note = f"converted into {terms.target} by the dust sweep"
    return {c.symbol: note for c in chosen.crumbs if c.asset in converted}


async def _convert(
    inputs: CycleInputs, books: exiting.Books, exchange: DustConverter, chosen: SweepPlan
) -> tuple[str, ...]:
    try:
        done = await exchange.convert_dust(chosen.assets)
    except ExchangeError as exc:
        message = f"failed: {type(exc).__name__}: {exc}"[:REASON_LIMIT]
        _record(inputs, books, message, warn=True, reason=Reason.DUST_SWEEP_FAILED)
        return ()
    books.acted = True  # the balances changed: verify on a fresh snapshot
    message = (
        f"converted {', '.join(done.assets) or 'nothing'} (~{exiting.usd(chosen.value_usd)}) "
        f"into {done.received} {done.target}, fee {done.fee} {done.target}"
    )
    books.status = books.status.model_copy(
        update={
            "dust_sweep": DustSweepStatus(
                last_swept_at=inputs.clock.now(),
                target=done.target,
                assets=list(done.assets),
                received=done.received,
                fee=done.fee,
                message=message,
            )
        }
    )
    inputs.events.emit(Event(Reason.DUST_SWEPT, message))
    return done.assets


def _record(
    inputs: CycleInputs,
    books: exiting.Books,
    message: str,
    *,
    warn: bool = False,
    reason: Reason = Reason.DUST_SWEEP_UNAVAILABLE,
) -> None:
    """Keep the last sweep, change the word; a warning only when the word changes."""
    previous = books.status.dust_sweep or DustSweepStatus()
    if warn and previous.message != message:
        inputs.events.emit(Event.warning(reason, message))
    books.status = books.status.model_copy(
        update={"dust_sweep": previous.model_copy(update={"message": message})}
    )


def annotate(items: Sequence[PlanItem], notes: dict[str, str]) -> list[PlanItem]:
    """The plan says which of its Ignores the sweep took (or, in DryRun, would take)."""
    return [
        i.model_copy(update={"reason": f"{i.reason}; {notes[i.symbol]}"[:REASON_LIMIT]})
        if i.symbol in notes and i.action is PlanAction.IGNORE
        else i
        for i in items
    ]
