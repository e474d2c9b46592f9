"""DryRun plans checked by the exchange: the first slice of each sale, previewed.

The slice is the order the executor would place first (``core.twap``'s own first step, so
the preview judges the real price, size and flags), sent to a venue that can judge an order
without placing it (``OrderPreviewer``: Coinbase's Preview Order, the paper exchange's
rules). The verdict lands in ``status.plan[].preview``. A venue that cannot preview, or that
does not answer, leaves a verdict saying so; previewing never stops the plan.
"""

from __future__ import annotations

from collections.abc import Mapping

from cleanslate.api.account import PlanAction, PlanItem
from cleanslate.core import twap
from cleanslate.core.decisions import Decision, ExitKind
from cleanslate.core.market import OrderRequest, Product, Quote
from cleanslate.cycle.context import CycleInputs
from cleanslate.exchange.errors import ExchangeError
from cleanslate.exchange.port import OrderPreviewer

SALES = frozenset({PlanAction.PURGE, PlanAction.CLOSE, PlanAction.UNWIND, PlanAction.TRIM})


async def preview_sales(inputs: CycleInputs, sales: list[Decision]) -> dict[str, str]:
    """Symbol -> verdict for each sale; empty when the exchange cannot preview."""
    exchange = inputs.exchange
    if not isinstance(exchange, OrderPreviewer):
        return {}
    verdicts: dict[str, str] = {}
    for decision in sales:
        try:
            product = await inputs.exchange.product(decision.symbol)
            quote = await inputs.exchange.quote(decision.symbol)
            request = first_slice(inputs, decision, product, quote)
            verdicts[decision.symbol] = (
                await exchange.preview_order(request)
                if request is not None
                else "not previewed: no order (below the product's minimums)"
            )
        except ExchangeError as exc:
            verdicts[decision.symbol] = f"not previewed: {exc.reason_code}"
    return verdicts


def first_slice(
    inputs: CycleInputs, decision: Decision, product: Product, quote: Quote
) -> OrderRequest | None:
    """The first order the executor would place for ``decision``, or None when it would
    place none."""
    plan = twap.plan_twap(
        account=inputs.account,
        attempt=inputs.status.next_attempt,
        product=product,
        policy=inputs.policy.execution,
        target_quantity=decision.quantity,
        arrival=quote,
        started_at=inputs.clock.now(),
        urgent=decision.kind is not ExitKind.PURGE,
    )
    state, _ = twap.next_actions(plan, twap.start(plan), None, plan.started_at)
    seen = twap.MarketSeen(quote, plan.target_quantity)
    _, actions = twap.next_actions(plan, state, seen, plan.started_at)
    return next((a.request for a in actions if isinstance(a, twap.Place)), None)


def with_verdicts(items: list[PlanItem], verdicts: Mapping[str, str]) -> list[PlanItem]:
    """``status.plan`` with each previewed sale's verdict."""
    return [
        item.model_copy(update={"preview": verdicts[item.symbol][:1024]})
        if item.symbol in verdicts and item.action in SALES
        else item
        for item in items
    ]
