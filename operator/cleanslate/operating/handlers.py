"""kopf registration: one daemon per TradingAccount, an index of PurgePolicies, wake-ups.

Handlers are registered on an explicit registry so that the command line can shard by label
selector (``--selector``). The selector filters the TradingAccount watch on the API server, not
only kopf's handlers: with a client-side filter alone every shard sees every account, and kopf
removes from an account the finalizer no handler of *this* shard needs, which the owning shard
adds back at once, a write loop per account that never ends (measured: ~8 writes a second).

Moving an account between shards is a label change. The old shard's watch reports it DELETED
(it left the selection; nothing was deleted) with the labels it had *before*, so kopf's filter
still matches and kopf would leave its daemon running, forgotten. The ``account_changed``
handler therefore ends the daemon itself (``Stopping.left``): the cycle is cancelled (the TWAP
cancels its resting order, the in-flight record stays for the next owner), its series are
dropped, and no other order is cancelled and no record closed on its way out. Its status
writes test the shard label (``kube.Kube.shard``), so none lands after the label moved; should
the DELETED event be missed, the failed write makes the worker re-read the account, find the
label gone and end the same way.

The new shard's watch reports the account ADDED with a status already written: it waits until
that record has been quiet for ``--stand-down-seconds`` (the old owner has let go), then
resumes from ``status.inFlight`` as after a restart.

High availability is kopf's peering: one replica acts, the others are paused, their daemons
stopped. A replica that kopf pauses after it took over (the senior one came back) ends each
daemon by marking the record it wrote last as released (``AccountWorker.release``); the
senior one, standing down for that account after its own stale write, is woken by the watch
event and acts at once instead of waiting out ``--stand-down-seconds`` (``handed_back``).

kopf's own bookkeeping lives in annotations (``cleanslate.dev/...``), never in ``spec`` and not
in ``status`` (the structural schema would prune it); the status belongs to cleanslate alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import kopf
from prometheus_client import start_http_server

from cleanslate.api import GROUP, VERSION
from cleanslate.core import standing_down
from cleanslate.core.conditions import bounded
from cleanslate.core.redaction import redact
from cleanslate.events import Event, Severity
from cleanslate.operating import actions
from cleanslate.operating.collecting import CollectorSchedule
from cleanslate.operating.incluster import login_in_cluster
from cleanslate.operating.kube import RELEASED, SEQUENCE, Kube
from cleanslate.operating.metrics_auth import KubeReviewer, serve_metrics
from cleanslate.operating.policy_status import judged
from cleanslate.operating.workers import AccountWorker, WorkerConfig, wait_or_wake

logger = logging.getLogger("cleanslate.operator")
ACCOUNTS, POLICIES = "tradingaccounts", "purgepolicies"


class KopfEvents:
    """Posts a cycle's events on the account (``kubectl describe``) and logs them."""

    def __init__(self, body: kopf.Body, key: str) -> None:
        self.body, self.key = body, key

    def emit(self, event: Event) -> None:
        level = logging.WARNING if event.severity is Severity.WARNING else logging.INFO
        logger.log(level, "%s %s: %s", self.key, event.reason.value, event.message)
        kopf.event(
            self.body,
            type=event.severity.value,
            reason=event.reason.value,
            message=event_message(event.message),
        )


EVENT_MESSAGE_LIMIT = 280
"""An event's message stays short, like cert-manager's: the detail is in the status."""


def event_message(message: str) -> str:
    """The message as posted: redacted (the last door before the API server), one line,
    within ``EVENT_MESSAGE_LIMIT`` characters."""
    return bounded(redact(message), EVENT_MESSAGE_LIMIT)


def reporting_instance() -> str:
    """Who posts the events: the pod (``POD_NAME`` from the downward API, else the host
    name, which is the pod's name in Kubernetes), within the API's 128 characters."""
    return (os.environ.get("POD_NAME") or socket.gethostname() or "cleanslate")[:128]


@dataclass
class Runtime:
    """What the handlers share; kept in kopf's memo, never in module globals."""

    config: WorkerConfig
    metrics_port: int | None = None
    metrics_address: str = "0.0.0.0"
    """Where the metrics server listens (``--bind-address``)."""
    metrics_auth: bool = False
    """Serve /metrics only to tokens the API server authorises (``--metrics-auth``)."""
    metrics_runner: Any = None
    api_timeout_seconds: float = 30.0
    """How long one of cleanslate's own API requests may take before it counts as an outage."""
    peering_lifetime_seconds: int = 60
    """kopf's peering lifetime: how long a silent replica keeps the others standing by."""
    wakeups: dict[str, asyncio.Event] = field(default_factory=dict)
    releases: set[asyncio.Future[None]] = field(default_factory=set)
    """Releases under way (``_let_go``), kept referenced until they end."""
    released: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Accounts this replica let go of when paused: the released ``writeSequence`` and when
    (``time.monotonic``). A daemon started again within ``stand_down_seconds`` rejoins."""
    generations: dict[str, int | None] = field(default_factory=dict)
    """Last seen ``metadata.generation`` per account: a change means the spec was edited."""
    policy_users: dict[str, set[str]] = field(default_factory=dict)
    """``namespace/policy`` -> accounts referencing it, to wake them on a policy edit."""
    departures: dict[str, asyncio.Event] = field(default_factory=dict)
    """The running daemons' "left this shard" flags, set when the watch reports the account
    DELETED (moved away, or its deletion finished)."""
    arrivals: set[str] = field(default_factory=set)
    """Accounts that moved into this shard while it ran (``arrived``): their first cycle
    waits until the previous owner has let go."""
    collector: CollectorSchedule = field(default_factory=lambda: CollectorSchedule(0))
    """Full garbage collections on a schedule (``--gc-interval-seconds``); off by default
    here, so an embedded runtime (tests) keeps Python's own."""
    collecting: asyncio.Task[None] | None = None
    scan_cluster: bool = True
    """Let kopf list namespaces and CRDs (cluster-wide installs). A namespaced install has no
    right to, and kopf retried the forbidden listings for ~54 s before serving anything;
    with explicit namespace names there is nothing to scan for."""

    def wake(self, key: str) -> asyncio.Event:
        return self.wakeups.setdefault(key, asyncio.Event())


def register(registry: kopf.OperatorRegistry, labels: Mapping[str, str] | None) -> None:
    """Register every handler on ``registry``; ``labels`` filters the accounts of this shard."""
    account_filter: dict[str, Any] = dict(labels or {})

    @kopf.on.login(id="login", registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        """In a pod the service account at the address client-go would use
        (``incluster``); elsewhere the kubeconfig (KUBECONFIG), like kubectl."""
        return login_in_cluster(os.environ, **kwargs) or kopf.login_with_kubeconfig(**kwargs)

    @kopf.on.startup(id="configure", registry=registry)
    async def configure(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
        settings.persistence.finalizer = f"{GROUP}/finalizer"
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=GROUP, key="last-handled-configuration"
        )
        settings.posting.level = logging.CRITICAL  # cleanslate posts its own events
        settings.posting.reporting_component = "cleanslate"  # the events' source
        settings.posting.reporting_instance = reporting_instance()
        settings.posting.event_name_prefix = "cleanslate-"
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        runtime: Runtime = memo.runtime
        settings.peering.lifetime = runtime.peering_lifetime_seconds
        settings.scanning.disabled = not runtime.scan_cluster
        if account_filter:  # the API server filters: see the module docstring
            selector = ",".join(f"{k}={v}" for k, v in sorted(account_filter.items()))
            settings.watching.label_selectors[GROUP, ACCOUNTS] = selector
        if runtime.config.kube is None:
            runtime.config.kube = await Kube.connect(
                timeout=runtime.api_timeout_seconds, shard=account_filter
            )
        if runtime.metrics_port and runtime.metrics_auth:
            reviewer = KubeReviewer(runtime.config.kube.api)
            runtime.metrics_runner = await serve_metrics(
                runtime.config.metrics.registry,
                reviewer,
                runtime.metrics_port,
                runtime.metrics_address,
            )
        elif runtime.metrics_port:
            start_http_server(
                runtime.metrics_port,
                addr=runtime.metrics_address,
                registry=runtime.config.metrics.registry,
            )
        if runtime.collector.enabled:
            runtime.collecting = asyncio.create_task(runtime.collector.run())

    @kopf.on.cleanup(id="cleanup", registry=registry)
    async def cleanup(memo: Any, **_: Any) -> None:
        if memo.runtime.collecting is not None:
            memo.runtime.collecting.cancel()
        if memo.runtime.metrics_runner is not None:
            await memo.runtime.metrics_runner.cleanup()
        kube = memo.runtime.config.kube
        if kube is not None:
            await kube.close()

    @kopf.index(GROUP, VERSION, POLICIES, id="policy_index", registry=registry)
    def policy_index(**kwargs: Any) -> Any:
        body = kwargs["body"]
        return {(kwargs["namespace"], kwargs["name"]): dict(body.get("spec") or {})}

    @kopf.on.event(GROUP, VERSION, POLICIES, id="policy_changed", registry=registry)
    async def policy_changed(**kwargs: Any) -> None:
        runtime: Runtime = kwargs["memo"].runtime
        for key in runtime.policy_users.get(f"{kwargs['namespace']}/{kwargs['name']}", set()):
            runtime.wake(key).set()
        if kwargs.get("type") != "DELETED":
            await report_policy(runtime.config.kube, kwargs["body"], kwargs["namespace"])

    @kopf.on.event(
        GROUP, VERSION, ACCOUNTS, id="account_changed", labels=account_filter, registry=registry
    )
    async def account_changed(**kwargs: Any) -> None:
        """Wake the account's daemon on a spec edit or a manual action, not on the status
        writes cleanslate itself makes (they would make every cycle start the next)."""
        runtime: Runtime = kwargs["memo"].runtime
        key, meta = f"{kwargs['namespace']}/{kwargs['name']}", kwargs["body"].get("metadata", {})
        if kwargs.get("type") == "DELETED":  # deleted, or moved to another shard
            runtime.generations.pop(key, None)
            runtime.arrivals.discard(key)
            runtime.released.pop(key, None)
            left = runtime.departures.get(key)
            if left is not None:
                left.set()
            return
        if arrived(kwargs.get("type"), kwargs["body"]):
            runtime.arrivals.add(key)
        seen = runtime.generations.get(key)
        runtime.generations[key] = meta.get("generation")
        if wakes(kwargs.get("type"), seen, meta) or handed_back(kwargs.get("type"), kwargs["body"]):
            runtime.wake(key).set()

    @kopf.daemon(
        GROUP,
        VERSION,
        ACCOUNTS,
        id="account",
        labels=account_filter,
        registry=registry,
        cancellation_timeout=60.0,
    )
    async def account(**kwargs: Any) -> None:
        await run_account(
            kwargs["stopped"],
            kwargs["namespace"],
            kwargs["name"],
            kwargs["body"],
            kwargs["memo"].runtime,
            kwargs["policy_index"],
        )


async def report_policy(kube: Kube | None, body: Mapping[str, Any], namespace: str) -> None:
    """Write the policy's Ready condition when it changed (``policy_status``). A failed
    write is logged and tried again on the policy's next event; it never stops the accounts."""
    if kube is None:
        return
    meta = body.get("metadata") or {}
    status = judged(
        body.get("spec") or {}, meta.get("generation"), body.get("status"), datetime.now(UTC)
    )
    if status is None:
        return
    try:
        await kube.write_policy_status(namespace, meta.get("name", ""), status)
    except Exception as exc:  # the policy's own status is a report, never a precondition
        logger.warning("%s/%s: could not write the policy's status: %s", namespace,
                       meta.get("name"), str(exc)[:200])  # fmt: skip


def wakes(event_type: str | None, seen: int | None, meta: Mapping[str, Any]) -> bool:
    """Whether a watch event on an account asks for a cycle now: a new generation (a spec
    edit) or a manual-action annotation. A re-list (type None, after a watch restart or 410
    Gone) counts like MODIFIED: an edit made while the watch was down arrives only that way."""
    if event_type not in ("MODIFIED", None):
        return False
    generation = meta.get("generation")
    asked = any(k in (meta.get("annotations") or {}) for k in actions.KEYS)
    return asked or (seen is not None and seen != generation)


def handed_back(event_type: str | None, body: Mapping[str, Any]) -> bool:
    """Whether a watch event shows the record released by its last writer (a replica kopf
    paused let go of it): a worker standing down for the account may act at once, so it is
    woken rather than left to wait out the stand-down period."""
    if event_type not in ("MODIFIED", None):
        return False
    status = body.get("status")
    if not isinstance(status, Mapping):
        return False
    return standing_down.released(status.get(SEQUENCE), status.get(RELEASED))


def arrived(event_type: str | None, body: Mapping[str, Any]) -> bool:
    """Whether the account moved into this shard from another: the filtered watch reports it
    ADDED while it already has a status, which only an operator writes. A new account has
    none yet; the listing at start-up (type None) is a restart, not a handover."""
    return event_type == "ADDED" and bool(body.get("status"))


class Stopping:
    """kopf's stop flag, or the account leaving this shard, whichever comes first; used
    where the daemon would use kopf's ``stopped`` alone."""

    def __init__(self, stopped: Any) -> None:
        self.stopped = stopped
        self.left = asyncio.Event()

    def __bool__(self) -> bool:
        return bool(self.stopped) or self.left.is_set()

    @property
    def reason(self) -> Any:
        return getattr(self.stopped, "reason", None)

    async def wait(self) -> None:
        waiters = {
            asyncio.ensure_future(self.stopped.wait()),
            asyncio.ensure_future(self.left.wait()),
        }
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


async def run_account(
    kopf_stopped: Any, namespace: str, name: str, body: Any, runtime: Runtime, policies: Any
) -> None:
    key = f"{namespace}/{name}"
    worker = AccountWorker(namespace, name, runtime.config, KopfEvents(body, key))
    stopped = Stopping(kopf_stopped)
    runtime.departures[key] = stopped.left
    if key in runtime.arrivals:
        runtime.arrivals.discard(key)
        worker.recovery.arrive()
    let_go = runtime.released.pop(key, None)
    if let_go is not None and time.monotonic() - let_go[1] < runtime.config.stand_down_seconds:
        worker.recovery.rejoin(let_go[0])

    def policy_of(ns: str, policy: str) -> Mapping[str, Any] | None:
        runtime.policy_users.setdefault(f"{ns}/{policy}", set()).add(key)
        found = policies.get((ns, policy))
        return next(iter(found), None) if found else None

    scheduled: float | None = None
    """When the next cycle is due (monotonic seconds): how late it starts is the cycle lag."""
    try:
        while not stopped:
            if scheduled is not None:
                runtime.config.metrics.cycle_lag.observe(max(0.0, time.monotonic() - scheduled))
            if await _cycle_until_interrupted(worker, body, policy_of, stopped, runtime.wake(key)):
                scheduled = None
                continue
            if worker.recovery.departed:  # a re-read found the shard label gone
                stopped.left.set()
            if stopped:
                break
            scheduled = time.monotonic() + worker.next_wait
            await wait_or_wake(worker.next_wait, runtime.wake(key), stopped)
    finally:
        if runtime.departures.get(key) is stopped.left:
            del runtime.departures[key]
        await _let_go(worker, stopped, runtime)


async def _cycle_until_interrupted(
    worker: AccountWorker, body: Any, policy_of: Any, stopped: Any, wake: asyncio.Event
) -> bool:
    """Run one cycle, abandoning it for a stop request or a spec edit (a new generation):
    a several-minute TWAP must not delay a deletion, a shutdown or ``suspend: true``. The
    executor cancels its resting order on the way out and the in-flight record lets the next
    cycle resume. True when the cycle was abandoned for an edit (start again at once)."""
    generation = body.get("metadata", {}).get("generation")
    cycle = asyncio.ensure_future(worker.cycle(body, policy_of))
    worker.running = cycle
    woken = False
    try:
        while True:
            stop = asyncio.ensure_future(stopped.wait())
            edit = asyncio.ensure_future(wake.wait())
            done, _ = await asyncio.wait({cycle, stop, edit}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            edit.cancel()
            if cycle in done:
                worker.next_wait = _cycle_wait(cycle, worker.key)
                if woken:  # a policy edit or manual action came mid-cycle: run again at once
                    wake.set()
                return False
            if stopped:
                break
            wake.clear()
            if body.get("metadata", {}).get("generation") != generation:
                break
            woken = True
    finally:
        if not cycle.done():
            cycle.cancel()
            await asyncio.gather(cycle, return_exceptions=True)
    return not stopped


RELEASE_WAIT_SECONDS = 30.0
"""How long a paused daemon's release waits for its cancelled cycle to end (the TWAP
cancels its resting order on the way out); a cycle still running then releases nothing."""


async def _release(worker: AccountWorker, runtime: Runtime) -> None:
    """Mark the account released once the worker's last cycle has ended: from then on no
    order of this worker can follow, which is what the mark promises."""
    running = worker.running
    if running is not None and not running.done():
        await asyncio.wait({running}, timeout=RELEASE_WAIT_SECONDS)
        if not running.done():
            logger.warning("%s: paused, but its cycle has not ended; not released", worker.key)
            return
    released = await worker.release()
    if released is not None:
        runtime.released[worker.key] = (released, time.monotonic())


def _cycle_wait(cycle: asyncio.Future[float], key: str) -> float:
    try:
        return cycle.result()
    except Exception:  # a bug must not end the account's daemon: log, wait, try again
        logger.exception("%s: cycle failed", key)
        return 30.0


async def _let_go(worker: AccountWorker, stopped: Stopping, runtime: Runtime) -> None:
    """Deleted: cancel cleanslate's open orders, then forget the account. Moved to another
    shard (a filter mismatch): only forget it here; its purge belongs to the new owner, who
    resumes it from the in-flight record this shard leaves in place. Paused by kopf's
    peering (another replica acts now): mark the record this worker wrote last as released,
    so a replica standing down for the account acts at once (the cycle has ended: no order of
    this one can follow)."""
    reason = stopped.reason
    deleted = reason is not None and bool(reason & kopf.DaemonStoppingReason.RESOURCE_DELETED)
    mismatch = reason is not None and bool(reason & kopf.DaemonStoppingReason.FILTERS_MISMATCH)
    pausing = reason is not None and bool(reason & kopf.DaemonStoppingReason.OPERATOR_PAUSING)
    moved = stopped.left.is_set() or mismatch
    if deleted:
        await worker.cancel_own_orders()
    elif pausing and not moved:  # peering handed the account to another replica
        # kopf cancels a pausing daemon, and again every second while it runs: the release
        # is its own task, so a cancellation ends the daemon but never cuts the write short
        releasing = asyncio.ensure_future(_release(worker, runtime))
        runtime.releases.add(releasing)
        releasing.add_done_callback(runtime.releases.discard)
        await asyncio.shield(releasing)
    if moved and not deleted:
        logger.info("%s: moved to another shard; letting go", worker.key)
    if deleted or moved:
        runtime.config.metrics.forget_account(worker.namespace, worker.name)
        runtime.wakeups.pop(worker.key, None)
        for users in runtime.policy_users.values():  # a policy edit must not wake it here
            users.discard(worker.key)
    await worker.close()
