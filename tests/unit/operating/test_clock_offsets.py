"""The venue's clock offset in the shell (issue 27, item 8): measured at most once per period
per market, reported as a gauge and the ``ClockInSync`` condition, and beyond the platform's
bound no order is placed, with one event per distinct state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from cleanslate.clock import OffsetClock, SimulatedClock
from cleanslate.exchange.clocks import ClockOffsets, offset_key
from cleanslate.exchange.errors import Unavailable
from cleanslate.metrics import Metrics
from cleanslate.operating.kube import Kube
from cleanslate.operating.main import build_parser
from cleanslate.operating.workers import AccountWorker, WorkerConfig

from .fake_api import FakeApi
from .test_workers import Events, account, own_orders, policy_of


class TellingVenue:
    """A venue whose clock is ``skew`` seconds off the test's clock; counts its time reads."""

    def __init__(self, clock: SimulatedClock, skew: float, identity: str | None = None) -> None:
        self.clock, self.skew, self.calls = clock, skew, 0
        self.fail = False
        self.market_identity = identity

    async def server_time(self) -> datetime | None:
        self.calls += 1
        if self.fail:
            raise Unavailable()
        return self.clock.now() + timedelta(seconds=self.skew)


async def test_a_venue_is_asked_at_most_once_per_period_per_market() -> None:
    clock = SimulatedClock()
    offsets = ClockOffsets(every=timedelta(minutes=5))
    venue = TellingVenue(clock, 12.0, identity="coinbase@https://api.coinbase.com")
    key = offset_key(venue, "tenant/a")
    assert key == offset_key(venue, "tenant/b")  # accounts on one market share one clock

    assert await offsets.offset(key, venue, clock) == 12.0
    clock.advance(299)
    assert await offsets.offset(key, venue, clock) == 12.0
    assert venue.calls == 1
    clock.advance(1)
    venue.skew = -3.0
    assert await offsets.offset(key, venue, clock) == -3.0
    assert venue.calls == 2


async def test_a_failed_read_keeps_the_last_offset_and_is_tried_again() -> None:
    clock = SimulatedClock()
    offsets = ClockOffsets(every=timedelta(minutes=5))
    venue = TellingVenue(clock, 40.0)
    assert offset_key(venue, "tenant/a") != offset_key(venue, "tenant/b")  # a market of its own

    venue.fail = True
    assert await offsets.offset("k", venue, clock) is None  # never measured: unknown
    venue.fail = False
    assert await offsets.offset("k", venue, clock) == 40.0
    clock.advance(300)
    venue.fail = True
    assert await offsets.offset("k", venue, clock) == 40.0
    assert venue.calls == 3


def skewed_worker(api: FakeApi, state_dir: Path, skew: float, bound: float = 30.0) -> AccountWorker:
    """A worker whose clock runs ``skew`` seconds off the paper venue's (the hidden test flag),
    on real paper time so the venue keeps the unskewed wall clock."""
    config = WorkerConfig(
        state_dir=state_dir,
        metrics=Metrics(),
        kube=cast(Kube, api),
        paper_time="real",
        max_clock_offset_seconds=bound,
        clock_offset_seconds=skew,
    )
    return AccountWorker("tenant", "acct", config, Events())


def condition(api: FakeApi, type_: str) -> Mapping[str, Any]:
    return next(c for c in api.status()["conditions"] if c["type"] == type_)


async def test_a_replica_300_s_behind_the_venue_places_no_order_and_says_why(
    tmp_path: Path,
) -> None:
    api = FakeApi(account({"USD": 150.0, "SEI": 36.4}))
    worker = skewed_worker(api, tmp_path, -300.0)

    await worker.cycle(api.body, policy_of)

    assert worker.exchange is not None and own_orders(worker) == []
    clock_sync = condition(api, "ClockInSync")
    assert (clock_sync["status"], clock_sync["reason"]) == ("False", "OffsetBeyondBound")
    assert "300." in clock_sync["message"] and "ahead of" in clock_sync["message"]
    gauge = worker.config.metrics.registry.get_sample_value(
        "cleanslate_venue_clock_offset_seconds", {"exchange": "paper"}
    )
    assert gauge == pytest.approx(300.0, abs=5.0)
    assert api.status()["inFlight"] == {} and api.status().get("purgeFailures", {}) == {}


async def test_one_event_per_distinct_clock_state(tmp_path: Path) -> None:
    api = FakeApi(account({"USD": 150.0}))
    worker = skewed_worker(api, tmp_path, -300.0)
    events = cast(Events, worker.events)

    await worker.cycle(api.body, policy_of)
    await worker.cycle(api.body, policy_of)
    assert [e.severity.value for e in events.seen if e.reason.value == "ClockOffset"] == ["Warning"]

    assert isinstance(worker.clock, OffsetClock)
    worker.clock.offset = timedelta(0)  # NTP fixed the node
    worker.config.clock_offsets.forget(offset_key(worker.exchange, worker.key))
    await worker.cycle(api.body, policy_of)
    await worker.cycle(api.body, policy_of)

    offsets = [e for e in events.seen if e.reason.value == "ClockOffset"]
    assert [e.severity.value for e in offsets] == ["Warning", "Normal"]
    assert "within 30 s" in offsets[-1].message
    assert condition(api, "ClockInSync")["status"] == "True"


async def test_a_bound_wider_than_the_skew_lets_the_skewed_replica_trade(tmp_path: Path) -> None:
    api = FakeApi(account({"USD": 150.0}))
    worker = skewed_worker(api, tmp_path, -300.0, bound=600.0)

    await worker.cycle(api.body, policy_of)

    clock_sync = condition(api, "ClockInSync")
    assert (clock_sync["status"], clock_sync["reason"]) == ("True", "WithinBound")
    assert cast(Events, worker.events).messages("ClockOffset") == []


def test_the_bound_is_a_platform_flag_with_a_default_and_limits() -> None:
    parser = build_parser()
    assert parser.parse_args([]).max_clock_offset_seconds == 30.0
    assert parser.parse_args(["--max-clock-offset-seconds", "5"]).max_clock_offset_seconds == 5
    for bad in ("0", "-1", "3601", "nan", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--max-clock-offset-seconds", bad])
    help_text = parser.format_help()
    assert "--max-clock-offset-seconds" in help_text
    assert "--test-clock-offset-seconds" not in help_text  # a test's knob, not the platform's
    assert parser.parse_args(["--test-clock-offset-seconds=-300"]).test_clock_offset_seconds == -300
