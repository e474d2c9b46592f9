"""The checks of a scenario's ``expect``: each unmet one is listed, followed by the account
as a person would look at it (state, plan with reasons, blockers, failures, events)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from cleanslate.api.account import PlanAction
from cleanslate.events import Event
from cleanslate.exchange.paper.markets import market

from .schema import NAME, NAMESPACE, EventCheck, Expect

if TYPE_CHECKING:
    from .running import Run


class Unmet(AssertionError):
    pass


async def check(run: Run, expect: Expect) -> None:
    problems = [*_status_problems(run, expect), *_event_problems(run, expect)]
    problems += await _holding_problems(run, expect)
    problems += _metric_problems(run, expect)
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        raise Unmet(f"{run.scenario.title}:\n{listed}\n{run.describe()}")


def _status_problems(run: Run, expect: Expect) -> list[str]:
    status, problems = run.status, []
    if expect.state is not None and status.account_state is not expect.state:
        problems.append(f"state is {status.account_state}, expected {expect.state}")
    plan = {p.symbol: p for p in status.plan if p.action is not PlanAction.CANCEL_ORDER}
    for symbol, action in expect.plan.items():
        got = plan[symbol].action if symbol in plan else None
        if got is not action:
            problems.append(f"plan for {symbol} is {got}, expected {action}")
    for symbol, text in expect.plan_reasons.items():
        if symbol not in plan or text not in plan[symbol].reason:
            problems.append(f"plan reason for {symbol} does not mention {text!r}")
    for symbol, count in expect.failures.items():
        record = status.purge_failures.get(symbol)
        got_count = record.failure_count if record else None
        if got_count != count:
            problems.append(f"failure count of {symbol} is {got_count}, expected {count}")
    for text in expect.blockers:
        if not any(text in b for b in status.blockers):
            problems.append(f"no blocker mentions {text!r}")
    for text in expect.no_blockers:
        if any(text in b for b in status.blockers):
            problems.append(f"a blocker mentions {text!r}")
    counters = status.cleanup_metrics.model_dump(by_alias=True)
    for key, value in expect.cleanup.items():
        if Decimal(str(counters[key])) != value:
            problems.append(f"cleanupMetrics.{key} is {counters[key]}, expected {value}")
    for key, value in expect.cleanup_at_least.items():
        if Decimal(str(counters[key])) < value:
            problems.append(f"cleanupMetrics.{key} is {counters[key]}, expected >= {value}")
    return problems


def _matches(event: Event, wanted: EventCheck | str) -> bool:
    if isinstance(wanted, str):
        return event.reason.value == wanted
    return (
        wanted.reason in (None, event.reason.value)
        and wanted.severity in (None, event.severity)
        and wanted.contains in event.message
    )


def _event_problems(run: Run, expect: Expect) -> list[str]:
    problems = []
    for wanted in expect.events:
        if not any(_matches(e, wanted) for e in run.events):
            problems.append(f"no event {wanted} since the last check")
    for unwanted in expect.no_events:
        if any(_matches(e, unwanted) for e in run.events):
            problems.append(f"unexpected event {unwanted} since the last check")
    for counted in expect.event_counts:
        seen = sum(1 for e in run.events if _matches(e, counted))
        if counted.at_most is None or seen > counted.at_most:
            problems.append(f"{seen} events {counted} since the last check")
    return problems


async def _holding_problems(run: Run, expect: Expect) -> list[str]:
    problems = []
    for product in expect.sold:
        asset = product.split("-")[0]
        if await run.held(asset) >= run.start_holdings.get(asset, Decimal(0)):
            problems.append(f"{product} was not sold (still {await run.held(asset)})")
    for product in expect.not_sold:
        asset = product.split("-")[0]
        placed = run.placed_sells(product)
        if placed or await run.held(asset) < run.start_holdings.get(asset, Decimal(0)):
            problems.append(f"{product} was sold ({placed} sell orders placed)")
    for product, most in expect.sell_orders_at_most.items():
        if run.placed_sells(product) > most:
            problems.append(f"{run.placed_sells(product)} sell orders on {product}, max {most}")
    prices = market(run.scenario.market.name).products
    for asset, bounds in expect.held.items():
        quantity = await run.held(asset)
        value = quantity * prices[f"{asset}-USD"].price
        checks = [
            (bounds.min, quantity >= (bounds.min or 0)),
            (bounds.max, quantity <= (bounds.max or 0)),
            (bounds.min_usd, value >= (bounds.min_usd or 0)),
            (bounds.max_usd, value <= (bounds.max_usd or 0)),
        ]
        if any(bound is not None and not ok for bound, ok in checks):
            problems.append(f"{asset}: {quantity} held (~${value:.2f}), expected {bounds}")
    return problems


def _metric_problems(run: Run, expect: Expect) -> list[str]:
    problems = []
    for wanted in expect.metrics:
        labels = {"namespace": NAMESPACE, "account": NAME, **wanted.labels}
        got = run.metrics.registry.get_sample_value(wanted.name, labels)
        if got != wanted.value:
            problems.append(f"{wanted.name}{wanted.labels} is {got}, expected {wanted.value}")
    return problems
