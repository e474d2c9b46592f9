"""A stored status that fails validation is never silently replaced by an empty one: the
operator refuses to trade, with a Stalled condition and an event naming the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from cleanslate.api.account import InFlightPurge, TradingAccountSpec, TradingAccountStatus
from cleanslate.core.market import OrderRequest, OrderType, Side
from cleanslate.core.twap import Leg, client_order_id
from cleanslate.events import EventList, Reason
from cleanslate.metrics import Metrics
from cleanslate.operating.workers import AccountWorker, WorkerConfig

D = Decimal
STARTED = "2025-11-16T12:00:00+00:00"
FLIGHT = {"attempt": 3, "startedAt": STARTED, "targetQuantity": 57.5, "slice": 1}


class RecordingKube:
    def __init__(self) -> None:
        self.statuses: list[dict[str, Any]] = []
        self.shard: dict[str, str] = {}

    async def write_status(
        self, namespace: str, name: str, status: dict[str, Any], fence: Any
    ) -> None:
        self.statuses.append(status)

    async def remove_annotation(self, namespace: str, name: str, key: str, value: str) -> bool:
        return True

    async def read_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return None  # the worker then goes on with the body it was given


def body(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": "acct", "generation": 1},
        "spec": {
            "policyRef": {"name": "default"},
            "mode": "Live",
            "exchange": {"name": "paper", "paper": {"market": "calm", "holdings": {"USD": 100}}},
        },
        "status": status,
    }


def worker(tmp_path: Path, kube: RecordingKube) -> AccountWorker:
    config = WorkerConfig(state_dir=tmp_path, metrics=Metrics(), kube=kube)  # type: ignore[arg-type]
    return AccountWorker("ns", "acct", config, EventList())


async def test_an_unknown_status_field_stalls_the_account_and_keeps_the_record(
    tmp_path: Path,
) -> None:
    kube = RecordingKube()
    acct = worker(tmp_path, kube)
    stored = {"inFlight": {"WLFI-USD": {**FLIGHT, "bogus": 1}}, "nextAttempt": 4}
    await acct.cycle(body(stored), lambda ns, name: {})
    assert acct.exchange is None, "no exchange was opened: nothing can trade"
    assert isinstance(acct.events, EventList)
    (event,) = [e for e in acct.events.events if e.reason is Reason.STATUS_INVALID]
    assert "inFlight.WLFI-USD.bogus" in event.message
    (written,) = kube.statuses
    assert written["inFlight"] == stored["inFlight"] and written["nextAttempt"] == 4
    stalled = [c for c in written["conditions"] if c["type"] == "Stalled"]
    assert stalled[0]["status"] == "True" and stalled[0]["reason"] == "StatusInvalid"
    await acct.cycle(body({**stored, "conditions": written["conditions"]}), lambda ns, n: {})
    assert len(kube.statuses) == 1, "reported once, not rewritten every cycle"


async def test_a_fixed_status_is_taken_up_with_its_records(tmp_path: Path) -> None:
    kube = RecordingKube()
    acct = worker(tmp_path, kube)
    await acct.cycle(body({"nextAttempt": "four"}), lambda ns, name: {})
    assert acct.status is None
    await acct.cycle(body({"nextAttempt": 4, "inFlight": {}}), lambda ns, name: {})
    assert acct.status is not None and acct.status.next_attempt >= 4
    await acct.close()


async def test_suspending_cancels_an_in_flight_purge_and_closes_its_record(
    tmp_path: Path,
) -> None:
    kube = RecordingKube()
    acct = worker(tmp_path, kube)
    live = body({})
    live["spec"]["exchange"]["paper"]["holdings"] = {"USD": 100, "WLFI": 200}
    await acct._ensure_exchange(TradingAccountSpec.model_validate(live["spec"]))
    assert acct.exchange is not None
    cid = client_order_id("ns/acct", "WLFI-USD", 1, 1, Leg.MAKER_FIRST, "ab12")
    request = OrderRequest(cid, "WLFI-USD", Side.SELL, D(50), OrderType.LIMIT, D(5), post_only=True)
    resting = await acct.exchange.place_order(request)
    flight = InFlightPurge(
        attempt=1, started_at=resting.created_at, target_quantity=D(200), slice=1, epoch="ab12"
    )
    acct.status = TradingAccountStatus(in_flight={"WLFI-USD": flight}, next_attempt=2)
    suspended = {**live, "spec": {**live["spec"], "suspend": True}}
    await acct.cycle(suspended, lambda ns, name: {})
    assert acct.status.in_flight == {}
    assert (await acct.exchange.get_order(resting.order_id)).status.is_final
    await acct.close()
