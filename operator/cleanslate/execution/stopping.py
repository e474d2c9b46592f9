"""Stopping a purge a previous process left in flight, when it may no longer sell.

Every order the purge may have placed (slices up to the recorded one, each leg) is looked up
by its client order id; one still open is cancelled and read again until final. What those
orders filled is counted, so the event can say what the purge sold before it was stopped.
Nothing is placed. An order that cannot be cancelled (a read-only DryRun adapter) is reported,
not retried: it rests on the exchange until a person cancels it, and holds its balance, so
nothing sells it twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cleanslate.api.account import InFlightPurge
from cleanslate.core import twap
from cleanslate.exchange.errors import PermanentError
from cleanslate.exchange.port import Exchange


@dataclass
class Stopped:
    """What stopping found: fills of the purge's orders, and the orders it cancelled or
    could not cancel."""

    filled: Decimal = Decimal(0)
    cancelled: list[str] = field(default_factory=list)
    left_open: list[str] = field(default_factory=list)


async def stop_in_flight(
    exchange: Exchange, account: str, symbol: str, flight: InFlightPurge
) -> Stopped:
    """Cancel what the in-flight purge left resting and count its fills; temporary exchange
    errors propagate (the record stays, and the next cycle stops it again)."""
    stopped = Stopped()
    for slice_no in range(1, flight.slice + 1):
        for leg in twap.ORDER_LEGS:
            cid = twap.client_order_id(account, symbol, flight.attempt, slice_no, leg, flight.epoch)
            order = await exchange.find_order(cid, product_id=symbol)
            if order is None or order.product_id != symbol:
                continue
            if not order.status.is_final:
                try:
                    await exchange.cancel_orders([order.order_id])
                except PermanentError:
                    stopped.left_open.append(order.order_id)
                    continue
                order = await exchange.get_order(order.order_id)
                (stopped.cancelled if order.status.is_final else stopped.left_open).append(
                    order.order_id
                )
            if twap.placed_by_this_purge(flight.epoch, flight.started_at, order.created_at):
                stopped.filled += order.filled_size
    return stopped


__all__ = ["Stopped", "stop_in_flight"]
