"""A venue that refuses good-till-date end times: the cycle still sells, and says why."""

from __future__ import annotations

from dataclasses import replace

from cleanslate.core.market import Order, OrderRequest
from cleanslate.events import Reason, Severity
from cleanslate.exchange.errors import ErrorDetail, ExpiryRefused

from .harness import Recording, Rig, account_spec, policy


class RefusesEndTimes(Recording):
    """The paper exchange behind a venue that refuses every good-till-date end time."""

    async def place_order(self, request: OrderRequest) -> Order:
        if request.expires_at is not None:
            self.requests.append(request)
            self.answered.append(False)
            detail = ErrorDetail("INVALID_END_TIME", "too soon", "PREVIEW_INVALID_END_TIME")
            raise ExpiryRefused(detail=detail)
        return await super().place_order(request)


async def test_a_refused_end_time_is_an_event_and_the_purge_still_sells() -> None:
    rig = Rig(account_spec({"USD": "100", "SEI": "36.4"}), policy())
    rig.exchange = RefusesEndTimes(rig.open())

    await rig.cycle()

    refused = [e for e in rig.events.events if e.reason is Reason.GOOD_TILL_DATE_REFUSED]
    assert len(refused) == 1 and refused[0].severity is Severity.WARNING
    assert "SEI-USD" in refused[0].message and "good-till-cancelled" in refused[0].message
    assert rig.status.cleanup_metrics.purges_succeeded == 1
    sent = rig.sold("SEI-USD")
    assert sent[1] == replace(sent[0], expires_at=None)  # same order, same id, no end time
