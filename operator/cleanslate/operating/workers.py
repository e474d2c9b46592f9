"""One worker per TradingAccount: it runs the account's cycles inside a kopf daemon.

The worker keeps no state that matters across a restart: it starts from the resource's status
and the exchange, writes status only when something a person or a restart needs has changed
(a no-op cycle costs no API write), and persists the in-flight record before every order.
Long work never blocks anything else: each account is its own task, and a stop request
(deletion, SIGTERM) cancels the cycle, which cancels any resting order it placed.

The API server's trouble never reaches the exchange. Every status write is fenced
(``kube.Fence``): when it finds a newer record, another replica took over while this one was
frozen, so the cycle stops before placing anything and the worker stands down for the account
until that record has been quiet for ``stand_down_seconds``, or until the record says the
other let go (``release``: kopf's peering paused it and handed the account back). When the
API server does not answer, the cycle stops likewise and the worker waits for it
(``outages``). Either way the next cycle starts from the record as stored, never from what
this process assumed.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cleanslate.api.account import (
    AccountState,
    Mode,
    TradingAccountSpec,
    TradingAccountStatus,
)
from cleanslate.api.policy import PurgePolicySpec
from cleanslate.clock import Clock, OffsetClock, SystemClock, WarpClock
from cleanslate.core import clock_sync, conditions, manual
from cleanslate.core.conditions import FALSE, TRUE, Desired
from cleanslate.cycle import (
    CycleInputs,
    CycleOptions,
    CycleResult,
    reporting,
    run_cycle,
)
from cleanslate.events import Event, EventSink, Reason
from cleanslate.exchange.ccxt_accounts import CcxtSettings
from cleanslate.exchange.clocks import ClockOffsets, offset_key
from cleanslate.exchange.endpoints import EndpointPolicy
from cleanslate.exchange.errors import ExchangeError
from cleanslate.exchange.marketdata import MarketData, SharedMarkets
from cleanslate.exchange.port import Exchange
from cleanslate.exchange.venues import Platform, venue_of
from cleanslate.execution.stopping import stop_in_flight
from cleanslate.metrics import Metrics
from cleanslate.operating import actions
from cleanslate.operating.exchanges import CredentialsMissing, build_exchange
from cleanslate.operating.kube import ApiUnavailable, Fence, Kube, StaleRecord
from cleanslate.operating.outages import ApiHealth
from cleanslate.operating.preflight import verify_credentials
from cleanslate.operating.recovering import Recovery

logger = logging.getLogger("cleanslate.operator")
OVERRUN_BACKOFF_SECONDS = 15.0
"""Extra wait after a cycle over its budget (the documents' 'adds 15s backoff')."""
FAILED_RETRY_SECONDS = 30.0
"""Wait after a cycle that failed unexpectedly before trying again."""


@dataclass
class ValidatedSpec:
    """The account's spec as last validated, kept with a private copy of the dict it came
    from. A no-op cycle reads the same dict every interval; validating it again is work
    with a known answer (validation is a pure function of the dict), and the copy makes an
    edit made in place count as a change."""

    raw: dict[str, Any] | None = None
    model: TradingAccountSpec | None = None

    def of(self, raw: Mapping[str, Any]) -> TradingAccountSpec:
        if self.model is None or raw != self.raw:
            model = TradingAccountSpec.model_validate(raw)  # raises: the cache stays as it was
            self.raw, self.model = copy.deepcopy(dict(raw)), model
        return self.model


@dataclass
class ValidatedPolicies:
    """Each PurgePolicy as last validated, shared by every worker: thousands of accounts
    name the same few policies, and each account held its own model (~10 KiB, measured with
    tracemalloc) validated again on every cycle. Keyed by ``(namespace, name)``, compared by
    the raw dict; models are never mutated (changes go through ``model_copy``)."""

    by_ref: dict[tuple[str, str], tuple[dict[str, Any], PurgePolicySpec]] = field(
        default_factory=dict
    )

    def of(self, namespace: str, name: str, raw: Mapping[str, Any]) -> PurgePolicySpec:
        cached = self.by_ref.get((namespace, name))
        if cached is not None and raw == cached[0]:
            return cached[1]
        model = PurgePolicySpec.model_validate(raw)
        self.by_ref[(namespace, name)] = (copy.deepcopy(dict(raw)), model)
        return model


@dataclass
class WorkerConfig:
    state_dir: Path
    metrics: Metrics
    kube: Kube | None
    paper_time: str = "simulated"
    status_refresh_seconds: float = 300.0
    """Rewrite unchanged status this often, so values and balance age stay fresh."""
    endpoints: EndpointPolicy = field(default_factory=EndpointPolicy)
    """Exchange origins accounts may name (the operator's flags, never the tenant's spec)."""
    stand_down_seconds: float = 60.0
    """After a stale write, how long the stored record must stay unwritten by anyone else
    before this replica acts on the account again (kopf's peering lifetime by default)."""
    api: ApiHealth = field(default_factory=ApiHealth)
    markets: SharedMarkets = field(default_factory=SharedMarkets)
    """Public market data per market identity, shared by the accounts on it (the operator's
    ``--market-data-max-age-seconds``; zero: every account fetches its own)."""
    ccxt: CcxtSettings = field(default_factory=CcxtSettings)
    """ccxt venues opted in for Live (--ccxt-live-exchange) and the shared ccxt clients."""
    policies: ValidatedPolicies = field(default_factory=ValidatedPolicies)
    """Validated PurgePolicies, shared by the workers."""
    max_clock_offset_seconds: float = clock_sync.DEFAULT_MAX_OFFSET_SECONDS
    """The venue's clock may be this far from this process's before no order is placed
    (``--max-clock-offset-seconds``)."""
    clock_offsets: ClockOffsets = field(default_factory=ClockOffsets)
    """The venues' measured clock offsets, shared by the accounts on one market."""
    clock_offset_seconds: float = 0.0
    """Test-only (``--test-clock-offset-seconds``): this process's clock runs this far off,
    while a paper venue keeps the right time (docs/design.md, "Clocks this process does not
    own")."""


PolicyLookup = Callable[[str, str], Mapping[str, Any] | None]


@dataclass
class Snapshot:
    """The parts of the resource a cycle reads, copied when the cycle starts."""

    namespace: str
    name: str
    generation: int | None
    spec: Mapping[str, Any]
    annotations: Mapping[str, str]
    status: Mapping[str, Any] | None

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Snapshot:
        meta = body.get("metadata", {})
        return cls(
            meta.get("namespace", ""),
            meta.get("name", ""),
            meta.get("generation"),
            dict(body.get("spec") or {}),
            dict(meta.get("annotations") or {}),
            dict(body["status"]) if body.get("status") else None,
        )


@dataclass
class AccountWorker:
    namespace: str
    name: str
    config: WorkerConfig
    events: EventSink
    status: TradingAccountStatus | None = None
    written: reporting.Written | None = None
    """The stored status as far as change detection needs it (None: nothing stored yet)."""
    exchange: Exchange | None = None
    exchange_key: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    """The real clock: every duration, budget and timestamp in status, events and metrics."""
    venue_clock: Clock | None = None
    """The venue's clock: a paper account's simulated time (``--paper-time=simulated``),
    which the TWAP's waits and the simulator's order times run on; the real one otherwise."""
    market: MarketData = field(default_factory=MarketData)
    """Public market data: the instance every account on the same market shares."""
    verified_key: str | None = None
    """The adapter (``exchange_key``) whose key passed the preflight."""
    extra_wait: float = 0.0
    next_wait: float = 60.0
    """Seconds until the next cycle, as the last cycle decided."""
    refused_status: str | None = None
    """Why the stored status failed validation, while it does (reported once)."""
    failed_with: str | None = None
    """The unexpected error the last cycle failed with (its event is posted once)."""
    fence: Fence | None = None
    """The stored status as this worker last read or wrote it; every write tests it."""
    wrote_last: bool = False
    """``fence`` is this worker's own write (not only a read): ``release`` may mark it."""
    running: asyncio.Future[float] | None = field(default=None, repr=False)
    """The cycle under way or last run (the daemon's task): a release waits for it to end."""
    recovery: Recovery = field(init=False)
    _spec: ValidatedSpec = field(default_factory=ValidatedSpec, repr=False)

    def __post_init__(self) -> None:
        if self.config.clock_offset_seconds:
            self.clock = OffsetClock(self.clock, self.config.clock_offset_seconds)
        # the first cycle starts from a fresh read, not from the watched body, which may not
        # show the last write yet: a fence built from it would look stale at once
        self.recovery = Recovery(
            self.key, self.config.api, self.config.stand_down_seconds, pending=True
        )

    @property
    def venue(self) -> Clock:
        return self.venue_clock or self.clock

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def state_dir(self) -> Path:
        return self.config.state_dir / f"{self.namespace}_{self.name}"

    async def cycle(self, body: Mapping[str, Any], policy_of: PolicyLookup) -> float:
        """Run one cycle; returns how long to wait before the next. An API outage or a stale
        record ends the cycle before its next order and sets the wait instead."""
        recovery = self.recovery
        try:
            if recovery.pending:
                fresh = await recovery.reread(self.config.kube, self.namespace, self.name, body)
                if fresh is None:
                    return recovery.quiet_left()
                body, self.status = fresh, None
            wait = await self._cycle(body, policy_of)
        except ApiUnavailable as exc:
            return recovery.api_lost(str(exc))
        except StaleRecord as exc:
            return recovery.stand_down(str(exc))
        except Exception as exc:  # a bug: status and an event say so, never only a log
            return await self._failed(body, exc)
        recovery.api_answered()
        self.failed_with = None
        return wait

    async def _failed(self, body: Mapping[str, Any], exc: Exception) -> float:
        """A cycle failed in a way no branch expected. The account says so where its owner
        looks: Ready=False and Stalled=True with reason ``CycleFailed``, observedGeneration
        of the spec it judged, and one ``CycleFailed`` event per distinct error (the cycle
        is retried every ``FAILED_RETRY_SECONDS``; the same error is not posted again)."""
        message = cycle_failure(exc)
        if message != self.failed_with:
            logger.exception("%s: cycle failed", self.key)
        else:
            logger.warning("%s: cycle failed again: %s", self.key, message)
        snap = Snapshot.of(body)
        try:
            await self._halt(snap, "CycleFailed", message, Reason.CYCLE_FAILED, [])
        except (ApiUnavailable, StaleRecord):
            raise
        except Exception:  # the report itself failed: the log is all that is left
            logger.exception("%s: could not report the failed cycle", self.key)
        self.failed_with = message
        return FAILED_RETRY_SECONDS

    async def _cycle(self, body: Mapping[str, Any], policy_of: PolicyLookup) -> float:
        snap = Snapshot.of(body)
        if self.status is None:
            try:
                self.status = _status_from(snap.status)
            except ValidationError as exc:
                await self._refuse_status(snap, _first_error(exc))
                return 60.0
            self.refused_status = None
            self.written = reporting.Written.of(self.status) if snap.status else None
            self.fence, self.wrote_last = Fence.of(body), False
        try:
            spec = self._spec.of(snap.spec)
        except ValidationError as exc:
            await self._halt(snap, "SpecInvalid", _first_error(exc), Reason.SPEC_INVALID, [])
            return 60.0
        policy, policy_conditions = self._policy(snap, spec, policy_of)
        if policy is None:
            await self._halt(
                snap,
                policy_conditions[0].reason,
                policy_conditions[0].message,
                Reason.POLICY_MISSING
                if policy_conditions[0].reason == "PolicyMissing"
                else Reason.POLICY_INVALID,
                policy_conditions,
                spec,
            )
            return float(spec.interval_seconds)
        if spec.suspend:
            await self._suspend(snap, policy_conditions, spec)
            return float(spec.interval_seconds)
        try:
            await self._ensure_exchange(spec)
            await self._preflight(spec, policy)
        except CredentialsMissing as exc:
            creds = [Desired("CredentialsReady", FALSE, exc.reason, str(exc))]
            await self._halt(
                snap,
                exc.reason,
                str(exc),
                Reason.CREDENTIALS_MISSING,
                [*policy_conditions, *creds],
                spec,
            )
            return float(spec.interval_seconds)
        await self._run(snap, spec, policy, policy_conditions)
        wait, self.extra_wait = float(spec.interval_seconds) + self.extra_wait, 0.0
        return wait

    def _policy(
        self, snap: Snapshot, spec: TradingAccountSpec, policy_of: PolicyLookup
    ) -> tuple[PurgePolicySpec | None, list[Desired]]:
        ref = spec.policy_ref.name
        raw = policy_of(snap.namespace, ref)
        if raw is None:
            message = f"PurgePolicy {snap.namespace}/{ref} not found"
            return None, [Desired("PolicyResolved", FALSE, "PolicyMissing", message)]
        try:
            policy = self.config.policies.of(snap.namespace, ref, raw)
        except ValidationError as exc:
            message = f"PurgePolicy {ref}: {_first_error(exc)}"
            return None, [Desired("PolicyResolved", FALSE, "PolicyInvalid", message)]
        return policy, [Desired("PolicyResolved", TRUE, "Found", f"PurgePolicy {ref}")]

    async def _preflight(self, spec: TradingAccountSpec, policy: PurgePolicySpec) -> None:
        """Once per adapter: a live key passes the read-only preflight before it trades."""
        if self.exchange is None or self.verified_key == self.exchange_key:
            return
        await verify_credentials(self.exchange, self.venue, spec, policy, self.events)
        self.verified_key = self.exchange_key

    async def _ensure_exchange(self, spec: TradingAccountSpec) -> None:
        key = spec.exchange.model_dump_json() + spec.mode.value
        if self.exchange is not None and key == self.exchange_key:
            return
        await self.close()
        simulated = venue_of(spec.exchange.name).simulated
        # simulated time is the venue's alone: status, events and metrics keep self.clock
        self.venue_clock = (
            WarpClock() if simulated and self.config.paper_time == "simulated" else self.clock
        )
        own = self.venue_clock
        if simulated and isinstance(own, OffsetClock):  # a skewed replica (test flag): the
            own = own.base  # paper venue stands for an exchange, whose clock is right
        self.exchange = await build_exchange(
            spec.exchange,
            spec.mode,
            namespace=self.namespace,
            name=self.name,
            clock=own,
            kube=self.config.kube,
            state_dir=self.state_dir,
            endpoints=self.config.endpoints,
            ccxt=self.config.ccxt,
        )
        self.exchange_key = key
        self.market = self.config.markets.for_exchange(self.exchange, self.venue_clock)

    async def _run(
        self,
        snap: Snapshot,
        spec: TradingAccountSpec,
        policy: PurgePolicySpec,
        conditions: list[Desired],
    ) -> None:
        assert self.exchange is not None and self.status is not None
        venue = venue_of(spec.exchange.name)
        gate = venue.gate(self.exchange, Platform(self.config.endpoints, self.config.ccxt))
        # A venue that may not trade Live runs as DryRun (its adapter is read-only too).
        dry = spec.mode is Mode.DRY_RUN or (gate is not None and not gate.capable)
        if gate is not None:
            conditions = [*conditions, gate.condition()]
        in_sync = await self._clock_verdict()
        conditions = [*conditions, in_sync.condition]
        standing = manual.Standing.DRY_RUN if dry else manual.Standing.LIVE
        wanted, annotations, verdicts = await self._answer(snap, standing, spec, policy)
        creds = Desired(
            "CredentialsReady",
            TRUE,
            "Ready" if spec.exchange.credentials_secret_ref else "NotRequired",
            "",
        )
        result = await run_cycle(
            CycleInputs(
                account=self.key,
                spec=spec,
                policy=policy,
                status=self.status,
                exchange=self.exchange,
                clock=self.clock,
                venue_clock=self.venue_clock,
                events=self.events,
                options=CycleOptions(
                    dry_run=dry,
                    retry_now=manual.acted(verdicts, manual.Action.RETRY),
                    unfreeze=manual.acted(verdicts, manual.Action.UNFREEZE),
                    liquidate=manual.acted(verdicts, manual.Action.LIQUIDATE),
                    hold_orders=not in_sync.trade,
                ),
                generation=snap.generation,
                market=self.market,
                persist=self._persist,
                metrics=self.config.metrics,
                extra_conditions=(*conditions, creds),
            )
        )
        await self._publish(result.status)
        await self._consume(wanted, annotations)
        if result.over_budget:
            self.extra_wait = OVERRUN_BACKOFF_SECONDS
            self.config.metrics.cycle_over_budget.labels(self.namespace, self.name).inc()
        self._observe(result)
        self._observe_limits(result, policy)

    async def _clock_verdict(self) -> clock_sync.ClockVerdict:
        """The venue's clock offset (measured at most every few minutes per market) judged
        against the platform's bound; one event each time the verdict's state changes, the
        stored condition being the last state (so a restart or another replica does not
        post it again). A first verdict within the bound is no news."""
        assert self.exchange is not None and self.status is not None
        exchange = self.exchange
        offset = await self.config.clock_offsets.offset(
            offset_key(exchange, self.key), exchange, self.venue
        )
        if offset is not None:
            self.config.metrics.venue_clock_offset.labels(exchange.name).set(offset)
        verdict = clock_sync.judge(offset, self.config.max_clock_offset_seconds, exchange.name)
        before = conditions.find(self.status.conditions, clock_sync.CONDITION)
        last = (before.status, before.reason) if before else (TRUE, "WithinBound")
        if verdict.state != last:
            message = verdict.condition.message
            self.events.emit(
                Event(Reason.CLOCK_OFFSET, message)
                if verdict.trade
                else Event.warning(Reason.CLOCK_OFFSET, message)
            )
        return verdict

    async def _answer(
        self,
        snap: Snapshot,
        standing: manual.Standing,
        spec: TradingAccountSpec | None,
        policy: PurgePolicySpec | None,
    ) -> tuple[actions.Requested, Mapping[str, str], list[manual.Verdict]]:
        """Decide every manual action requested now (``core.manual``): the refusals leave a
        warning event each; the caller acts on the rest and removes every annotation."""
        annotations = await self._requests(snap)
        wanted = actions.requested(annotations)
        for bad in wanted.invalid:
            self.events.emit(Event.warning(Reason.SPEC_INVALID, f"ignored annotation {bad}"))
        requests = {
            manual.Action.LIQUIDATE: wanted.liquidate,
            manual.Action.RETRY: wanted.retry,
            manual.Action.UNFREEZE: wanted.unfreeze,
        }
        verdicts = manual.decide_all(requests, standing, spec, policy, self.clock.now())
        for verdict in verdicts:
            if not verdict.acted:
                self.events.emit(Event.warning(_MANUAL_REASONS[verdict.action], verdict.message()))
        return wanted, annotations, verdicts

    async def _refuse_requests(
        self, snap: Snapshot, standing: manual.Standing, spec: TradingAccountSpec | None
    ) -> None:
        """No cycle runs (suspended or halted): every request is refused now and removed,
        never kept to act on when the account runs again."""
        if not any(k in snap.annotations for k in actions.KEYS):
            return
        wanted, annotations, _ = await self._answer(snap, standing, spec, None)
        await self._consume(wanted, annotations)

    async def _requests(self, snap: Snapshot) -> Mapping[str, str]:
        """The manual-action annotations as stored now. The watched body may still show one
        this worker removed a moment ago; a fresh read tells that apart from the same value
        requested again, which is a new request."""
        kube = self.config.kube
        if kube is None or not any(k in snap.annotations for k in actions.KEYS):
            return snap.annotations
        stored = await kube.read_account(self.namespace, self.name)
        meta = (stored or {}).get("metadata") or {}
        return dict(meta.get("annotations") or {})

    async def _consume(self, wanted: actions.Requested, annotations: Mapping[str, str]) -> None:
        """Remove each handled annotation only if it still holds the value acted on: one
        overwritten meanwhile is a new request, acted on by the next cycle."""
        if self.config.kube is None:
            return
        for key in wanted.present:
            await self.config.kube.remove_annotation(
                self.namespace, self.name, key, annotations[key]
            )

    async def _persist(self, status: TradingAccountStatus) -> None:
        """Before an order is placed: the in-flight record must reach the API server first.
        If it cannot, the exception stops the purge before the order exists."""
        await self._write(status)

    async def _publish(self, status: TradingAccountStatus) -> None:
        if status.account_state is not None:
            self.config.metrics.set_account_state(self.namespace, self.name, status.account_state)
        if reporting.worth_writing(
            self.written,
            status,
            self.clock.now(),
            self.config.status_refresh_seconds,
        ):
            await self._write(status)
        else:
            self.status = status

    async def _write(self, status: TradingAccountStatus) -> None:
        """A fenced write: it lands only if the stored record is still the one this worker
        last read or wrote (``StaleRecord`` otherwise); only then is it this worker's."""
        fence = self.fence or Fence(None, self.written is not None)
        stored = status.model_copy(
            update={"write_sequence": (fence.sequence or 0) + 1, "released_sequence": None}
        )
        if self.config.kube is not None:
            await self.config.kube.write_status(self.namespace, self.name, stored.to_wire(), fence)
        self.config.metrics.status_writes.labels(self.namespace, self.name).inc()
        self.status, self.written = stored, reporting.Written.of(stored)
        self.fence, self.wrote_last = Fence(stored.write_sequence, True), True

    async def release(self) -> int | None:
        """kopf's peering paused this replica: its cycle has ended and another replica acts
        on the account now. If the stored record is still this worker's own last write, say
        so in it (``Kube.release_status``), so a replica standing down for the account acts
        at once instead of waiting out ``stand_down_seconds`` (``core.standing_down``).
        A record someone else wrote since, or an API server away, is left as it is: the
        other replica then waits for a quiet record as before. The released
        ``writeSequence`` when the mark landed, else None."""
        kube, fence = self.config.kube, self.fence
        if kube is None or fence is None or not self.wrote_last or fence.sequence is None:
            logger.debug("%s: paused; no record of its own to release", self.key)
            return None
        try:
            after = await kube.release_status(self.namespace, self.name, fence)
        except Exception as exc:  # StaleRecord, ApiUnavailable, anything: the quiet wait holds
            logger.info("%s: paused; the record was not marked released (%s)", self.key,
                        str(exc)[:200])  # fmt: skip
            return None
        self.config.metrics.status_writes.labels(self.namespace, self.name).inc()
        self.fence, self.wrote_last = Fence(after, True), False
        logger.info("%s: paused by peering; released the account at writeSequence %d",
                    self.key, after)  # fmt: skip
        return after

    async def _halt(
        self,
        snap: Snapshot,
        reason: str,
        message: str,
        event: Reason,
        extra: list[Desired],
        spec: TradingAccountSpec | None = None,
    ) -> None:
        """Report a cycle that could not run: the condition every time, the event once per
        distinct error (an unchanged Ready condition means it was posted already). A manual
        action asked meanwhile is refused now, never kept for later."""
        if self.status is None:  # the stored status was never read: touch only conditions
            await self._write_conditions(snap, reason, message)
            if self.failed_with != message:
                self.events.emit(Event.warning(event, message))
            return
        await self._refuse_requests(snap, manual.Standing.HALTED, spec)
        ready = conditions.find(self.status.conditions, "Ready")
        shown = conditions.bounded(message)
        if (
            self.status.account_state is not AccountState.ERROR
            or ready is None
            or (ready.reason, ready.message) != (reason, shown)
        ):
            self.events.emit(Event.warning(event, message))
        status = reporting.failing(
            self.status, reason, message, extra, self.clock.now(), snap.generation
        )
        await self._publish(status)

    async def _write_conditions(self, snap: Snapshot, reason: str, message: str) -> None:
        """Rewrite only the summary conditions of the stored status, for a failure met before
        the stored status could be read: every other stored field stays as it is."""
        now = self.clock.now().isoformat()
        shown = conditions.bounded(message)
        rows = [
            {"type": kind, "status": value, "reason": reason, "message": shown,
             "lastTransitionTime": now, "observedGeneration": snap.generation}
            for kind, value in (("Ready", FALSE), ("Reconciling", FALSE), ("Stalled", TRUE))
        ]  # fmt: skip
        if self.config.kube is not None:
            raw = dict(snap.status or {})
            wire = {**raw, "conditions": rows}
            if snap.generation is not None:
                wire["observedGeneration"] = snap.generation
            await self.config.kube.write_status(
                self.namespace, self.name, wire, Fence.of({"status": snap.status})
            )
        self.config.metrics.status_writes.labels(self.namespace, self.name).inc()

    async def _refuse_status(self, snap: Snapshot, error: str) -> None:
        """The stored status does not validate: starting from an empty one would drop
        backoffs, freezes, unwind progress and in-flight purges, so nothing trades until a
        person fixes it. Only the conditions are rewritten; every other stored field stays
        as it is, for the person to read and repair."""
        message = f"status.{error}; refusing to trade until the status is fixed"
        if self.refused_status == message:
            return
        self.refused_status = message
        self.events.emit(Event.warning(Reason.STATUS_INVALID, message))
        now = self.clock.now().isoformat()
        conditions = [
            {"type": kind, "status": value, "reason": "StatusInvalid", "message": message,
             "lastTransitionTime": now}
            for kind, value in (("Ready", FALSE), ("Reconciling", FALSE), ("Stalled", TRUE))
        ]  # fmt: skip
        if self.config.kube is not None:
            raw = dict(snap.status or {})
            await self.config.kube.write_status(
                self.namespace,
                self.name,
                {**raw, "conditions": conditions},
                Fence.of({"status": snap.status}),
            )
        self.config.metrics.status_writes.labels(self.namespace, self.name).inc()

    async def _suspend(
        self, snap: Snapshot, extra: list[Desired], spec: TradingAccountSpec | None = None
    ) -> None:
        assert self.status is not None
        await self._refuse_requests(snap, manual.Standing.SUSPENDED, spec)
        if self.status.account_state is not AccountState.SUSPENDED:
            cancelled = await self.cancel_own_orders()
            self.status = await self._close_in_flight(self.status)
            self.events.emit(
                Event(
                    Reason.SUSPENDED,
                    (
                        f"suspended: trading stopped, {cancelled} open orders placed by "
                        "cleanslate cancelled"
                    ),
                )
            )
        await self._publish(
            reporting.suspended(self.status, extra, self.clock.now(), snap.generation)
        )

    async def _close_in_flight(self, status: TradingAccountStatus) -> TradingAccountStatus:
        """Suspending stops purges left in flight too: their orders are cancelled and the
        records closed, so lifting ``suspend`` plans afresh instead of resuming a sale."""
        if self.exchange is None or not status.in_flight:
            return status
        kept = dict(status.in_flight)
        for symbol, flight in sorted(status.in_flight.items()):
            try:
                await stop_in_flight(self.exchange, self.key, symbol, flight)
            except ExchangeError as exc:
                logger.warning("%s: could not stop the purge of %s: %s", self.key, symbol, exc)
                continue
            del kept[symbol]
        return status.model_copy(update={"in_flight": kept})

    async def cancel_own_orders(self) -> int:
        """Cancel the open orders cleanslate placed (client ids ``cs-...``), nothing else."""
        if self.exchange is None or getattr(self.exchange, "read_only", False):
            return 0
        try:
            orders = await self.exchange.open_orders()
            ours = [o.order_id for o in orders if o.client_order_id.startswith("cs-")]
            cancelled = await self.exchange.cancel_orders(ours) if ours else []
        except ExchangeError as exc:
            logger.warning("%s: could not cancel own orders: %s", self.key, exc)
            return 0
        if cancelled:
            self.events.emit(
                Event(
                    Reason.ORDERS_CANCELLED,
                    f"cancelled {len(cancelled)} open orders placed by cleanslate",
                )
            )
        return len(cancelled)

    def _observe(self, result: CycleResult) -> None:
        m, labels, status = self.config.metrics, (self.namespace, self.name), result.status
        m.cycles.labels(*labels).inc()
        timing = status.last_cycle
        if timing is not None:
            for phase, seconds in timing.phase_seconds.items():
                m.cycle_duration.labels(phase).observe(float(seconds))
            m.cycle_duration.labels("total").observe(float(timing.duration_seconds))
        m.observe_status(*labels, status, self.clock.now())

    def _observe_limits(self, result: CycleResult, policy: PurgePolicySpec) -> None:
        """The policy's caps next to the values they cap, so alerts can compare the two."""
        m, labels, plan = self.config.metrics, (self.namespace, self.name), result.plan
        m.max_positions.labels(*labels).set(policy.max_positions)
        m.exposure_cap.labels(*labels).set(float(policy.exposure.max_total_at_risk_pct / 100))
        if plan is not None:
            ratio = plan.at_risk_usd / plan.nav_usd if plan.nav_usd > 0 else 0
            m.exposure.labels(*labels).set(float(ratio))

    async def close(self) -> None:
        if self.exchange is not None:
            await self.exchange.aclose()
        self.exchange, self.exchange_key = None, None


_MANUAL_REASONS = {
    manual.Action.LIQUIDATE: Reason.MANUAL_LIQUIDATE,
    manual.Action.RETRY: Reason.MANUAL_RETRY,
    manual.Action.UNFREEZE: Reason.MANUAL_UNFREEZE,
}


def _status_from(raw: Mapping[str, Any] | None) -> TradingAccountStatus:
    """The stored status; raises ``ValidationError`` rather than forget what it holds."""
    if not raw:
        return TradingAccountStatus()
    return TradingAccountStatus.model_validate(raw)


def cycle_failure(exc: BaseException) -> str:
    """One line naming an unexpected error: its type and first line, bounded. The traceback
    goes to the log; a person reads this in ``kubectl get`` and in the event."""
    first = (str(exc).strip().splitlines() or [""])[0]
    text = f"cycle failed: {type(exc).__name__}" + (f": {first}" if first else "")
    return text[:200]


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field_path = ".".join(str(p) for p in first["loc"]) or "(spec)"
    return f"{field_path}: {first['msg']}"


async def wait_or_wake(seconds: float, wake: asyncio.Event, stopped: Any) -> None:
    """Sleep until the next cycle, a wake-up (policy or spec edit), or a stop request."""
    waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopped.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        wake.clear()
