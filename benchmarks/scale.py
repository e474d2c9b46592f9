"""Scale benchmark: N paper accounts, one operator process, a real API server.

Usage: ``python benchmarks/scale.py --accounts 10000 [--interval 60] [--steady-seconds 150]``
(``--existing-cluster`` uses $KUBECONFIG instead of starting a local control plane;
``--json FILE`` also writes the figures; ``tests/integration/test_scale_smoke.py`` runs it at
50 accounts so it cannot rot; ``--shards 3`` runs three operators with ``--selector
cleanslate.dev/shard=<i>`` over accounts labelled round-robin and reports per shard, see
``run_shards``).

What it does, and stops by itself (SIGTERM and Ctrl-C clean up too):

1. starts a ``LocalControlPlane`` (etcd + kube-apiserver), applies the CRDs and a policy;
2. starts one ``cleanslate operator`` process for the benchmark namespace (``start_operator``;
   extra flags such as a shard's ``--selector`` go through its ``extra``), waits until it is
   idle and records its resident memory (the baseline);
3. creates N small paper accounts (cash plus an ineligible dust holding, so the first cycle
   reaches CLEAN) with bounded concurrency, and watches them (from the listing's
   resourceVersion, relisting after a dropped watch) until every one is CLEAN;
4. lets no-op cycles run for ``--steady-seconds`` and diffs, over that window: the operator's
   own metrics (cycles, status writes, cycle lag and duration histograms), kube-apiserver's
   ``apiserver_request_total`` and the CPU time of the operator, kube-apiserver and etcd;
5. prints a table of figures against issue 17's targets (PASS, or MISS and by how much) with
   the machine's load average, then stops everything and removes its temporary directories.

The operator runs with ``--status-refresh-seconds 3600`` unless told otherwise: an unchanged
status is rewritten that often by design (the operator's default is 300 s, which at 10,000
accounts is 33 writes/s of its own); the window measures the no-op cycles, not that refresh.

Figures:

* cycle lag   : how late a cycle started after its schedule (previous end + interval), from
  ``cleanslate_cycle_lag_seconds`` (p50/p99 interpolated within histogram buckets)
* API req/cycle: every request the API server counted in the window (minus the idle rate
  measured before the accounts existed) divided by the cycles run; writes per cycle likewise
  from non-read verbs, and from ``cleanslate_status_writes_total``
* CPU         : seconds and share of one core, for the operator, kube-apiserver and etcd, in
  the window and in the ramp; the operator's per cycle and per account-hour
* memory      : (RSS after - RSS before the accounts) / N
* apply->CLEAN: from the create call returning to the watch seeing ``accountState: Clean``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes_asyncio import client, config, watch
from prometheus_client.parser import text_string_to_metric_families

from cleanslate.localcluster import Kubectl, KubectlError, LocalControlPlane, find_tool

ROOT = Path(__file__).resolve().parents[1]
GROUP, VERSION = "cleanslate.dev", "v1alpha1"
READ_VERBS = {"GET", "LIST", "WATCH", "CONNECT"}
OWN_RESOURCES = {"leases"}
"""Written by kube-apiserver itself (its identity lease); the operator runs without peering."""
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
CYCLE = "cleanslate_cycle_duration_seconds"
SHARD_LABEL = "cleanslate.dev/shard"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


# -- processes and metrics -------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def parse(text: str, prefixes: Sequence[str]) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith(tuple(prefixes)):
            continue
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(samples: Samples, name: str, **match: str) -> float:
    return sum(
        v
        for (n, labels), v in samples.items()
        if n == name and all(dict(labels).get(k) == want for k, want in match.items())
    )


def diff(after: Samples, before: Samples) -> Samples:
    return {k: v - before.get(k, 0.0) for k, v in after.items()}


def quantile(q: float, samples: Samples, name: str, **match: str) -> float | None:
    """``histogram_quantile`` over the ``_bucket`` series of ``name`` (already a window diff)."""
    buckets: dict[float, float] = defaultdict(float)
    for (n, labels), v in samples.items():
        d = dict(labels)
        if n == f"{name}_bucket" and all(d.get(k) == want for k, want in match.items()):
            buckets[float(d["le"])] += v
    if not buckets:
        return None
    bounds = sorted(buckets)
    count = buckets[bounds[-1]]
    if count <= 0:
        return None
    rank, lower, below = q * count, 0.0, 0.0
    for upper in bounds:
        if buckets[upper] >= rank:
            if upper == float("inf"):
                return lower  # beyond the last finite bucket: report its bound
            inside = buckets[upper] - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = upper, buckets[upper]
    return bounds[-1]


def percentile(values: Iterable[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Snapshot:
    at: float
    operator: Samples
    apiserver: Samples
    cpu: dict[str, float]
    rss: int


@dataclass
class Bench:
    kubectl: Kubectl
    kubeconfig: Path
    operator_pid: int
    metrics_port: int
    others: dict[str, int] = field(default_factory=dict)
    """Other processes whose CPU is reported (kube-apiserver, etcd), by name."""

    def operator_metrics(self) -> Samples:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as response:
            return parse(response.read().decode(), ["cleanslate_"])

    def apiserver_metrics(self) -> Samples:
        return parse(self.kubectl("get", "--raw", "/metrics"), ["apiserver_request"])

    def snapshot(self) -> Snapshot:
        cpu = {"operator": cpu_seconds(self.operator_pid)}
        for name, pid in self.others.items():
            cpu[name] = cpu_seconds(pid)
        return Snapshot(
            time.monotonic(),
            self.operator_metrics(),
            self.apiserver_metrics(),
            cpu,
            rss_bytes(self.operator_pid),
        )


# -- cluster objects -------------------------------------------------------------------------


def account_manifest(
    name: str, namespace: str, interval: int, shard: str | None = None
) -> dict[str, Any]:
    labels = {"bench": "scale", **({SHARD_LABEL: shard} if shard is not None else {})}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "TradingAccount",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "policyRef": {"name": "bench"},
            "mode": "Live",
            "intervalSeconds": interval,
            "exchange": {
                "name": "paper",
                # cash plus ANKR worth ~$0.44: ineligible, but dust (left alone): CLEAN at once
                "paper": {"seed": 1, "holdings": {"USD": 100, "ANKR": 40}},
            },
        },
    }


def setup_cluster(kubectl: Kubectl, namespace: str) -> None:
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
    for crd in (f"crd/tradingaccounts.{GROUP}", f"crd/purgepolicies.{GROUP}"):
        # kubectl wait fails at once on a CRD whose status has no conditions yet: retry
        wait_for(
            lambda crd=crd: bool(
                kubectl("wait", "--for=condition=Established", crd, "--timeout=10s")
            ),
            f"{crd} Established",
            60,
            errors=(OSError, KubectlError),
        )
    kubectl("create", "namespace", namespace)
    policy = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PurgePolicy",
        "metadata": {"name": "bench", "namespace": namespace},
        "spec": {},
    }
    kubectl("apply", "-f", "-", input=json.dumps(policy))


async def create_and_watch(
    kubeconfig: Path,
    namespace: str,
    names: list[str],
    interval: int,
    concurrency: int,
    timeout: float,
    shards: int = 0,
) -> tuple[dict[str, float], dict[str, float], float, list[float]]:
    """Create the accounts; return (created-at, clean-at) per name, the creation time and
    the latency of each create call."""
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    created: dict[str, float] = {}
    clean: dict[str, float] = {}
    latencies: list[float] = []
    async with client.ApiClient(configuration) as api:
        custom = client.CustomObjectsApi(api)
        listing = await custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, "tradingaccounts"
        )
        version = listing["metadata"]["resourceVersion"]
        all_clean = asyncio.Event()
        pending = set(names)

        def seen(obj: dict[str, Any]) -> None:
            name = obj.get("metadata", {}).get("name")
            state = (obj.get("status") or {}).get("accountState")
            if state == "Clean" and name in pending:
                clean[name] = time.monotonic()
                pending.discard(name)

        async def relist() -> str:
            """Catch up after a watch ended or failed (410 Gone, a dropped connection)."""
            listing = await custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, "tradingaccounts"
            )
            for obj in listing.get("items", []):
                seen(obj)
            return str(listing["metadata"]["resourceVersion"])

        async def watch_from(rv: str) -> str | None:
            """Follow the watch from ``rv``; the last version seen when the server ends it,
            None when it must be relisted (410 Gone after a burst of writes, say)."""
            w = watch.Watch()
            try:
                async for event in w.stream(
                    custom.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    namespace,
                    "tradingaccounts",
                    resource_version=rv,
                    timeout_seconds=60,
                ):
                    obj = event["object"]
                    if event.get("type") == "ERROR" or not isinstance(obj, dict):
                        return None
                    rv = obj["metadata"]["resourceVersion"]
                    seen(obj)
                    if not pending:
                        break
            finally:
                w.stop()
                with suppress(Exception):
                    await w.close()
            return rv

        async def watcher() -> None:
            """Until every account is CLEAN (or the deadline): a failed watch or listing
            is retried from a fresh listing, never ends the wait."""
            deadline = time.monotonic() + timeout
            rv: str | None = version
            try:
                while pending and time.monotonic() < deadline:
                    try:
                        rv = await relist() if rv is None else await watch_from(rv)
                    except Exception as exc:
                        print(
                            f"  watch failed ({type(exc).__name__}: {exc}); relisting", flush=True
                        )
                        rv = None
                        await asyncio.sleep(1.0)
            finally:
                all_clean.set()

        watching = asyncio.create_task(watcher())
        gate = asyncio.Semaphore(concurrency)

        async def create(name: str) -> None:
            async with gate:
                body = account_manifest(name, namespace, interval, shard_of(name, shards))
                sent = time.monotonic()
                await custom.create_namespaced_custom_object(
                    GROUP, VERSION, namespace, "tradingaccounts", body
                )
                created[name] = time.monotonic()
                latencies.append(created[name] - sent)

        began = time.monotonic()
        await asyncio.gather(*(create(n) for n in names))
        creation = time.monotonic() - began
        print(f"  created {len(names)} accounts in {creation:.1f}s", flush=True)
        while not all_clean.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(all_clean.wait(), 30)
            if pending:
                print(
                    f"  {len(names) - len(pending)}/{len(names)} CLEAN after "
                    f"{time.monotonic() - began:.0f}s",
                    flush=True,
                )
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    return created, clean, creation, latencies


# -- the run ---------------------------------------------------------------------------------


def cleanslate_cli() -> list[str]:
    script = Path(sys.executable).with_name("cleanslate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cleanslate.cli"]


def operator_argv(
    args: argparse.Namespace,
    namespace: str,
    metrics_port: int,
    state_dir: Path,
    extra: Sequence[str] = (),
) -> list[str]:
    """The command line of one operator process for the benchmark namespace; ``extra``
    adds flags (a shard's ``--selector``, say)."""
    return [
        *cleanslate_cli(),
        "operator",
        "--namespace",
        namespace,
        "--metrics-port",
        str(metrics_port),
        "--liveness-port",
        "0",
        "--state-dir",
        str(state_dir),
        "--paper-time",
        "simulated",
        "--status-refresh-seconds",
        str(args.status_refresh_seconds),
        *extra,
    ]


def start_operator(
    stack: ExitStack,
    args: argparse.Namespace,
    workdir: Path,
    kubeconfig: Path,
    kubectl: Kubectl,
    namespace: str,
    others: dict[str, int],
    label: str,
    extra: Sequence[str] = (),
) -> tuple[subprocess.Popen[bytes], Bench, Path]:
    """Start one operator process (stopped when ``stack`` closes); ``label`` names its log.
    Paper accounts keep one state file each in the shared state directory, so a restarted
    operator (or another shard) picks up where the last one left each account."""
    metrics_port = free_port()
    log_path = workdir / f"{label}.log"
    log = stack.enter_context(log_path.open("wb"))
    argv = operator_argv(args, namespace, metrics_port, workdir / "state", extra)
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    operator = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    stack.callback(stop_process, operator)
    if args.keep_log:
        stack.callback(shutil.copy, log_path, args.keep_log.with_suffix(f".{label}.log"))
    return operator, Bench(kubectl, kubeconfig, operator.pid, metrics_port, others), log_path


def wait_for(
    check: Any, what: str, timeout: float, errors: tuple[type[Exception], ...] = (OSError,)
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except errors:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"timed out waiting for {what}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def open_cluster(
    stack: ExitStack, args: argparse.Namespace, prefix: str
) -> tuple[Path, Path, Kubectl, str, dict[str, int]]:
    """A work directory, the cluster (a local control plane, or $KUBECONFIG's with
    ``--existing-cluster``) with the CRDs, a policy and a fresh ``<prefix>-<pid>`` namespace,
    and the control plane's processes by name (whose CPU the benchmark reports); everything is
    removed when ``stack`` closes."""
    workdir = Path(tempfile.mkdtemp(prefix=f"cleanslate-{prefix}-"))
    stack.callback(shutil.rmtree, workdir, ignore_errors=True)
    others: dict[str, int] = {}
    if args.existing_cluster:
        configured = os.environ.get("KUBECONFIG", "")
        kubeconfig = Path(configured.split(os.pathsep)[0] or Path.home() / ".kube/config")
        kubectl_bin = find_tool("kubectl", allow_path=True)
    else:
        began = time.monotonic()
        plane = stack.enter_context(LocalControlPlane())
        print(f"control plane ready in {time.monotonic() - began:.1f}s", flush=True)
        kubeconfig = plane.kubeconfig
        kubectl_bin = find_tool("kubectl", root=plane.tools_dir)
        for process in getattr(plane, "_processes", []):
            others[process.name] = process.pid
    kubectl = Kubectl(kubectl_bin, kubeconfig, workdir / "kcache")
    namespace = f"{prefix}-{os.getpid()}"
    setup_cluster(kubectl, namespace)
    if args.existing_cluster:
        stack.callback(
            kubectl, "delete", "namespace", namespace, "--wait=false", "--ignore-not-found"
        )
    return workdir, kubeconfig, kubectl, namespace, others


def run(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        workdir, kubeconfig, kubectl, namespace, others = open_cluster(stack, args, "scale")

        operator, bench, log_path = start_operator(
            stack, args, workdir, kubeconfig, kubectl, namespace, others, "operator"
        )
        wait_for(lambda: bool(bench.operator_metrics()), "the operator's metrics", 60)
        time.sleep(args.idle_seconds)
        idle0 = bench.snapshot()
        time.sleep(args.idle_seconds)
        idle1 = bench.snapshot()
        idle_rate = total(diff(idle1.apiserver, idle0.apiserver), "apiserver_request_total") / (
            idle1.at - idle0.at
        )
        baseline_rss = idle1.rss
        print(
            f"operator idle: RSS {baseline_rss / MIB:.1f} MiB, "
            f"API server idle rate {idle_rate:.2f} req/s",
            flush=True,
        )

        loads = {"start": load_text()}
        names = [f"acct-{i:05d}" for i in range(args.accounts)]
        ramp0 = bench.snapshot()
        created, clean, creation, latencies = asyncio.run(
            create_and_watch(
                kubeconfig,
                namespace,
                names,
                args.interval,
                args.concurrency,
                args.clean_timeout,
            )
        )
        ramp1 = bench.snapshot()
        to_clean = [clean[n] - created[n] for n in names if n in clean and n in created]
        print(
            f"  {len(clean)}/{len(names)} CLEAN, last one {ramp1.at - ramp0.at:.1f}s after the "
            "first create",
            flush=True,
        )
        if operator.poll() is not None:
            print(f"operator exited with {operator.returncode}; log tail:", file=sys.stderr)
            print(log_path.read_text()[-4000:], file=sys.stderr)
            return 1

        if args.settle_seconds > 0:
            print(f"  settling for {args.settle_seconds:.0f}s ...", flush=True)
            time.sleep(args.settle_seconds)
        print(f"  steady state: {args.steady_seconds:.0f}s of no-op cycles ...", flush=True)
        loads["steady"] = load_text()
        steady0 = bench.snapshot()
        deadline = steady0.at + args.steady_seconds
        peak_rss = steady0.rss
        while time.monotonic() < deadline:
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
            peak_rss = max(peak_rss, rss_bytes(operator.pid))
        steady1 = bench.snapshot()
        loads["end"] = load_text()
        if operator.poll() is not None:
            print(f"operator exited with {operator.returncode}", file=sys.stderr)
            return 1
        figures = report(
            args,
            bench,
            idle_rate,
            baseline_rss,
            peak_rss,
            ramp0,
            ramp1,
            steady0,
            steady1,
            to_clean,
            len(clean),
            creation,
            latencies,
            loads,
        )
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, default=str))
        if args.profile_seconds > 0:
            profile(operator.pid, args.profile_seconds, workdir)
        if args.restart:
            restart(
                stack, args, workdir, kubeconfig, kubectl, namespace, others, operator, baseline_rss
            )
    return 0


def restart(
    stack: ExitStack,
    args: argparse.Namespace,
    workdir: Path,
    kubeconfig: Path,
    kubectl: Kubectl,
    namespace: str,
    others: dict[str, int],
    operator: subprocess.Popen[bytes],
    baseline_rss: int,
) -> None:
    """Stop the operator, start a fresh one over the same accounts: how long until every
    account has cycled, what that costs, and the lag once all daemons start together."""
    n = args.accounts
    print("\nrestart: stopping the operator ...", flush=True)
    began = time.monotonic()
    stop_process(operator)
    stopping = time.monotonic() - began
    before_api = parse(kubectl("get", "--raw", "/metrics"), ["apiserver_request"])
    fresh, bench, _ = start_operator(
        stack, args, workdir, kubeconfig, kubectl, namespace, others, "restarted"
    )
    started = time.monotonic()
    wait_for(lambda: bool(bench.operator_metrics()), "the restarted operator's metrics", 60)
    deadline = started + args.clean_timeout
    while time.monotonic() < deadline:
        cycled = total(bench.operator_metrics(), "cleanslate_cycles_total")
        if cycled >= n:
            break
        time.sleep(1.0)
    all_cycled = time.monotonic() - started
    burst = bench.snapshot()
    time.sleep(args.steady_seconds)
    after = bench.snapshot()
    window = after.at - burst.at
    first_round = burst.operator  # a fresh process: everything it counted so far
    steady = diff(after.operator, burst.operator)
    cycles = total(steady, "cleanslate_cycles_total")
    burst_api = diff(burst.apiserver, before_api)
    rows = [
        ("SIGTERM -> exited", f"{stopping:.1f} s"),
        ("start -> every account cycled", f"{all_cycled:.1f} s"),
        (
            "  status writes in that round",
            f"{total(burst.operator, 'cleanslate_status_writes_total'):.0f}",
        ),
        ("  API requests in that round", f"{total(burst_api, 'apiserver_request_total'):.0f}"),
        ("  operator CPU in that round", f"{burst.cpu['operator']:.1f} s"),
        (
            "  first-cycle duration p50 / p99",
            f"{quantile(0.5, first_round, CYCLE, phase='total') or 0:.3f} / "
            f"{quantile(0.99, first_round, CYCLE, phase='total') or 0:.3f} s",
        ),
        ("then: cycles in window", f"{cycles:.0f} in {window:.0f} s"),
        (
            "then: cycle lag p50 / p99",
            f"{quantile(0.5, steady, 'cleanslate_cycle_lag_seconds') or 0:.3f} / "
            f"{quantile(0.99, steady, 'cleanslate_cycle_lag_seconds') or 0:.3f} s",
        ),
        (
            "then: status writes per cycle",
            f"{total(steady, 'cleanslate_status_writes_total') / cycles:.4f}" if cycles else "n/a",
        ),
        (
            "RSS fresh process / per account",
            f"{after.rss / MIB:.0f} MiB / {(after.rss - baseline_rss) / n / 1024:.0f} KiB",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if fresh.poll() is not None:
        print(f"the restarted operator exited with {fresh.returncode}")


def profile(pid: int, seconds: float, workdir: Path) -> None:
    """Sample the operator with py-spy (if installed) during steady state."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy not installed; skipping the profile")
        return
    out = workdir / "profile.txt"
    subprocess.run(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        check=False,
        capture_output=True,
    )
    if not out.exists():
        print("py-spy produced no profile (ptrace permission?)")
        return
    own: dict[str, int] = defaultdict(int)
    inclusive: dict[str, int] = defaultdict(int)
    samples = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"\npy-spy, {samples} samples over {seconds:.0f}s; top self time:")
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("top inclusive (cleanslate/kopf frames):")
    ours = {f: c for f, c in inclusive.items() if "cleanslate" in f or "kopf" in f}
    for frame, count in sorted(ours.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {100 * count / samples:5.1f}%  {frame}")


@dataclass(frozen=True)
class Target:
    """A figure's target: below ``limit`` (or equal to it when ``exact``), in ``unit``."""

    limit: float
    unit: str = ""
    exact: bool = False

    def __str__(self) -> str:
        return f"{'=' if self.exact else '<'} {self.limit:g}{self.unit}"

    def verdict(self, value: float | None) -> str:
        """PASS or MISS, and by how much."""
        if value is None or value != value:  # no figure (nan) is a miss
            return "MISS (no figure)"
        if self.exact:
            if value == self.limit:
                return "PASS"
            return f"MISS by {abs(value - self.limit):g}{self.unit}"
        if value < self.limit:
            return f"PASS ({100 * (1 - value / self.limit):.0f}% under)"
        over = value - self.limit
        return f"MISS by {over:.3g}{self.unit} ({100 * over / self.limit:.0f}% over)"


TARGETS = {
    "cycle lag p99": Target(5.0, " s"),
    "status writes per no-op cycle": Target(0.0, exact=True),
    "API writes per no-op cycle": Target(0.0, exact=True),
    "RSS per account": Target(150.0, " KiB"),
    "apply -> CLEAN p99": Target(60.0, " s"),
}
"""Issue 17's targets for one replica at intervalSeconds 60."""


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def report(
    args: argparse.Namespace,
    bench: Bench,
    idle_rate: float,
    baseline_rss: int,
    peak_rss: int,
    ramp0: Snapshot,
    ramp1: Snapshot,
    steady0: Snapshot,
    steady1: Snapshot,
    to_clean: list[float],
    clean_count: int,
    creation: float,
    latencies: list[float],
    loads: dict[str, str],
) -> dict[str, Any]:
    """Print the figures against the targets; return them (``--json`` writes them)."""
    n = args.accounts
    window = steady1.at - steady0.at
    ramp_window = ramp1.at - ramp0.at
    op = diff(steady1.operator, steady0.operator)
    api = diff(steady1.apiserver, steady0.apiserver)
    cycles = total(op, "cleanslate_cycles_total")
    writes = total(op, "cleanslate_status_writes_total")
    requests = total(api, "apiserver_request_total")
    api_writes = sum(
        v
        for (name, labels), v in api.items()
        if name == "apiserver_request_total"
        and dict(labels).get("verb") not in READ_VERBS
        and dict(labels).get("resource") not in OWN_RESOURCES
    )
    net_requests = max(0.0, requests - idle_rate * window)
    lag50 = quantile(0.50, op, "cleanslate_cycle_lag_seconds")
    lag99 = quantile(0.99, op, "cleanslate_cycle_lag_seconds")
    dur50 = quantile(0.50, op, "cleanslate_cycle_duration_seconds", phase="total")
    dur99 = quantile(0.99, op, "cleanslate_cycle_duration_seconds", phase="total")
    cpu = {k: steady1.cpu[k] - steady0.cpu[k] for k in steady1.cpu}
    ramp_cpu = {k: ramp1.cpu[k] - ramp0.cpu[k] for k in ramp1.cpu}
    ramp = diff(ramp1.operator, ramp0.operator)
    ramp_requests = total(diff(ramp1.apiserver, ramp0.apiserver), "apiserver_request_total")
    per_cycle_cpu = cpu["operator"] / cycles if cycles else float("nan")
    rss_per_account = (steady1.rss - baseline_rss) / n / 1024
    expected = n * window / args.interval
    clean_p99 = percentile(to_clean, 0.99)
    figures: dict[str, float | None] = {
        "cycle lag p99": lag99,
        "status writes per no-op cycle": writes / cycles if cycles else None,
        "API writes per no-op cycle": api_writes / cycles if cycles else None,
        "RSS per account": rss_per_account,
        "apply -> CLEAN p99": clean_p99 if to_clean else None,
    }

    def fmt(value: float | None, unit: str = "", digits: int = 2) -> str:
        return "n/a" if value is None or value != value else f"{value:.{digits}f}{unit}"

    def share(seconds: float, over: float) -> str:
        return f"{seconds:.1f} s ({100 * seconds / over:.0f}% of a core)" if over > 0 else "n/a"

    def targeted(name: str, text: str) -> tuple[str, str, str]:
        target = TARGETS[name]
        return name, text, f"{target}  {target.verdict(figures[name])}"

    refresh_rate = n / 300.0
    rows = [
        ("accounts / interval", f"{n} / {args.interval}s", ""),
        ("load average 1/5/15 min", f"{loads['start']} at start, {loads['end']} at end", ""),
        ("  (CPUs on this machine)", f"{os.cpu_count()}", ""),
        ("steady window", f"{window:.0f}s", ""),
        ("cycles in window", f"{cycles:.0f} (expected ~{expected:.0f})", ""),
        ("cycle lag p50", fmt(lag50, " s", 3), ""),
        targeted("cycle lag p99", fmt(lag99, " s", 3)),
        ("cycle duration p50 / p99", f"{fmt(dur50, ' s', 3)} / {fmt(dur99, ' s', 3)}", ""),
        (
            "status refresh period",
            f"{args.status_refresh_seconds:.0f} s (at the operator's default, 300 s, the "
            f"periodic rewrite adds {refresh_rate:.1f} writes/s)",
            "",
        ),
        targeted(
            "status writes per no-op cycle", fmt(figures["status writes per no-op cycle"], "", 4)
        ),
        targeted("API writes per no-op cycle", fmt(figures["API writes per no-op cycle"], "", 4)),
        ("API requests per cycle", fmt(net_requests / cycles if cycles else None, "", 4), ""),
        ("  (raw in window, idle rate)", f"{requests:.0f} req, {idle_rate:.2f} req/s", ""),
        ("operator CPU in window", share(cpu["operator"], window), ""),
        ("CPU per cycle", fmt(1000 * per_cycle_cpu, " ms", 2), ""),
        ("CPU per account-hour", fmt(cpu["operator"] / n * 3600 / window, " s", 2), ""),
        *[(f"{name} CPU in window", share(cpu[name], window), "") for name in bench.others],
        (
            "RSS baseline / after / peak",
            f"{baseline_rss / MIB:.0f} / {steady1.rss / MIB:.0f} / {peak_rss / MIB:.0f} MiB",
            "",
        ),
        targeted("RSS per account", f"{rss_per_account:.0f} KiB"),
        ("create N accounts", f"{creation:.1f} s (concurrency {args.concurrency})", ""),
        (
            "  create call p50 / p99",
            f"{percentile(latencies, 0.5):.3f} / {percentile(latencies, 0.99):.3f} s",
            "",
        ),
        ("CLEAN", f"{clean_count}/{n}", f"= {n}  {'PASS' if clean_count == n else 'MISS'}"),
        ("apply -> CLEAN p50", f"{percentile(to_clean, 0.5):.2f} s", ""),
        targeted("apply -> CLEAN p99", f"{fmt(figures['apply -> CLEAN p99'], ' s')}"),
        ("apply -> CLEAN max", f"{max(to_clean, default=float('nan')):.2f} s", ""),
        (
            "ramp: first-cycle duration p50 / p99",
            f"{fmt(quantile(0.5, ramp, CYCLE, phase='total'), ' s', 3)} / "
            f"{fmt(quantile(0.99, ramp, CYCLE, phase='total'), ' s', 3)}",
            "",
        ),
        ("ramp: duration", f"{ramp_window:.0f} s", ""),
        *[(f"ramp: {name} CPU", share(ramp_cpu[name], ramp_window), "") for name in ramp_cpu],
        ("ramp: API requests", f"{ramp_requests:.0f} ({ramp_requests / n:.1f} per account)", ""),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print()
    print(f"{'figure':<{width}}  {'value':<{value_width}}  target")
    print("-" * (width + value_width + 30))
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<{value_width}}  {target}".rstrip())
    breakdown: dict[str, float] = defaultdict(float)
    for (name, labels), v in api.items():
        if name == "apiserver_request_total" and v > 0:
            d = dict(labels)
            sub = f"/{d['subresource']}" if d.get("subresource") else ""
            breakdown[f"{d.get('verb')} {d.get('resource')}{sub}"] += v
    print("\nAPI server requests in the window by verb and resource:")
    for key, v in sorted(breakdown.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {v:8.0f}  {key}")
    capacity = args.interval / per_cycle_cpu if cycles and per_cycle_cpu > 0 else float("nan")
    print(
        f"\nOne core at 100% would run ~{capacity:.0f} accounts at {args.interval}s "
        "(CPU per cycle only; lag and memory not included)."
    )
    return {
        "accounts": n,
        "interval_seconds": args.interval,
        "window_seconds": window,
        "cycles": cycles,
        "clean": clean_count,
        "figures": figures,
        "verdicts": {k: TARGETS[k].verdict(v) for k, v in figures.items()},
        "cpu_seconds_in_window": cpu,
        "cpu_seconds_in_ramp": ramp_cpu,
        "load_average": loads,
        "rows": {name: value for name, value, _ in rows},
    }


# -- shards (--shards N) ---------------------------------------------------------------------


def shard_of(name: str, shards: int) -> str | None:
    """Round-robin by the account's number: with 3 shards acct-00007 is shard "1"."""
    if shards <= 0:
        return None
    return str(int(name.rsplit("-", 1)[1]) % shards)


@dataclass
class Shard:
    """One operator process serving ``cleanslate.dev/shard=<index>``."""

    index: int
    process: subprocess.Popen[bytes]
    bench: Bench
    log: Path
    baseline_rss: int = 0
    peak_rss: int = 0


def run_shards(args: argparse.Namespace) -> int:
    """``--shards N``: N operator processes, each with ``--selector cleanslate.dev/shard=<i>``
    and its own metrics port, over N accounts labelled round-robin; the same figures as the
    single-process run, per shard, plus the machine's load average (the benchmark shares it)."""
    n, k = args.accounts, args.shards
    load = [os.getloadavg()]
    with ExitStack() as stack:
        workdir, kubeconfig, kubectl, namespace, others = open_cluster(stack, args, "shards")
        shards = []
        for i in range(k):
            selector = ("--selector", f"{SHARD_LABEL}={i}")
            process, bench, log = start_operator(
                stack, args, workdir, kubeconfig, kubectl, namespace, others, f"shard-{i}", selector
            )
            shards.append(Shard(i, process, bench, log))
        for shard in shards:
            wait_for(lambda b=shard.bench: bool(b.operator_metrics()), "a shard's metrics", 60)
        time.sleep(args.idle_seconds)
        for shard in shards:
            shard.baseline_rss = shard.peak_rss = rss_bytes(shard.process.pid)
        print(
            "shards idle: RSS "
            + ", ".join(f"{s.index}: {s.baseline_rss / MIB:.0f} MiB" for s in shards),
            flush=True,
        )
        names = [f"acct-{i:05d}" for i in range(n)]
        created, clean, creation, _ = asyncio.run(
            create_and_watch(
                kubeconfig, namespace, names, args.interval, args.concurrency, args.clean_timeout, k
            )
        )
        print(f"  {len(clean)}/{n} CLEAN", flush=True)
        load.append(os.getloadavg())
        for shard in shards:
            if shard.process.poll() is not None:
                print(f"shard {shard.index} exited; log tail:", file=sys.stderr)
                print(shard.log.read_text()[-4000:], file=sys.stderr)
                return 1
        print(f"  steady state: {args.steady_seconds:.0f}s of no-op cycles ...", flush=True)
        before = [s.bench.snapshot() for s in shards]
        deadline = time.monotonic() + args.steady_seconds
        while time.monotonic() < deadline:
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
            for shard in shards:
                shard.peak_rss = max(shard.peak_rss, rss_bytes(shard.process.pid))
        after = [s.bench.snapshot() for s in shards]
        load.append(os.getloadavg())
        report_shards(args, shards, before, after, created, clean, creation, load)
    return 0


def report_shards(
    args: argparse.Namespace,
    shards: Sequence[Shard],
    before: Sequence[Snapshot],
    after: Sequence[Snapshot],
    created: dict[str, float],
    clean: dict[str, float],
    creation: float,
    load: Sequence[tuple[float, float, float]],
) -> None:
    """One column per shard, against the single-replica targets of issue 17."""
    n, k = args.accounts, len(shards)
    window = after[0].at - before[0].at
    columns: list[list[str]] = []
    for shard, s0, s1 in zip(shards, before, after, strict=True):
        mine = [name for name in created if shard_of(name, k) == str(shard.index)]
        op = diff(s1.operator, s0.operator)
        cycles = total(op, "cleanslate_cycles_total")
        writes = total(op, "cleanslate_status_writes_total")
        to_clean = [clean[m] - created[m] for m in mine if m in clean]
        cpu = s1.cpu["operator"] - s0.cpu["operator"]
        lag50 = quantile(0.50, op, "cleanslate_cycle_lag_seconds")
        lag99 = quantile(0.99, op, "cleanslate_cycle_lag_seconds")
        columns.append(
            [
                f"{len(mine)}",
                f"{sum(1 for m in mine if m in clean)}",
                f"{cycles:.0f} / ~{len(mine) * window / args.interval:.0f}",
                f"{lag50 or 0:.3f} / {lag99 or 0:.3f} s",
                f"{writes / cycles:.4f}" if cycles else "n/a",
                f"{shard.baseline_rss / MIB:.0f}/{s1.rss / MIB:.0f}/{shard.peak_rss / MIB:.0f}",
                f"{(s1.rss - shard.baseline_rss) / max(1, len(mine)) / 1024:.0f} KiB",
                f"{100 * cpu / window:.0f}%",
                f"{percentile(to_clean, 0.5):.1f} / {percentile(to_clean, 0.99):.1f} s",
            ]
        )
    rows = [
        ("accounts", ""),
        ("CLEAN", "all"),
        ("cycles / expected", ""),
        ("cycle lag p50 / p99", "p99 < 5 s"),
        ("status writes per cycle", "0"),
        ("RSS MiB idle/after/peak", ""),
        ("RSS per account", "< 150 KiB"),
        ("CPU (of a core)", ""),
        ("apply -> CLEAN p50 / p99", "p99 < 60 s"),
    ]
    api = diff(after[0].apiserver, before[0].apiserver)
    cycles_all = sum(
        total(diff(s1.operator, s0.operator), "cleanslate_cycles_total")
        for s0, s1 in zip(before, after, strict=True)
    )
    api_writes = sum(
        v
        for (name, labels), v in api.items()
        if name == "apiserver_request_total"
        and dict(labels).get("verb") not in READ_VERBS
        and dict(labels).get("resource") not in OWN_RESOURCES
    )
    heads = [f"shard {s.index}" for s in shards]
    width = max(len(r[0]) for r in rows)
    cells = [
        max(len(h), *(len(c[i]) for i in range(len(rows))))
        for h, c in zip(heads, columns, strict=True)
    ]
    print(f"\n{n} accounts, {k} shards, interval {args.interval}s, window {window:.0f}s")
    print(
        f"{'figure':<{width}}  "
        + "  ".join(f"{h:<{w}}" for h, w in zip(heads, cells, strict=True))
        + "  target"
    )
    for i, (name, target) in enumerate(rows):
        values = "  ".join(f"{c[i]:<{w}}" for c, w in zip(columns, cells, strict=True))
        print(f"{name:<{width}}  {values}  {target}")
    print(f"API writes per cycle (apiserver, all shards): {api_writes / max(1.0, cycles_all):.4f}")
    print(f"create {n} accounts: {creation:.1f} s (concurrency {args.concurrency})")
    for name in shards[0].bench.others:
        cpu = after[0].cpu[name] - before[0].cpu[name]
        print(f"{name} CPU in window: {cpu:.1f} s ({100 * cpu / window:.0f}% of a core)")
    print(
        "load average (1/5/15 min) at start, after CLEAN, after the window: "
        + "; ".join("/".join(f"{x:.2f}" for x in sample) for sample in load)
        + f" on {os.cpu_count()} CPUs"
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--interval", type=int, default=60, help="spec.intervalSeconds")
    p.add_argument(
        "--steady-seconds",
        type=float,
        default=None,
        help="no-op window to measure (default: 2.5 intervals)",
    )
    p.add_argument("--concurrency", type=int, default=16, help="parallel creates")
    p.add_argument("--clean-timeout", type=float, default=900.0)
    p.add_argument("--idle-seconds", type=float, default=10.0)
    p.add_argument(
        "--profile-seconds",
        type=float,
        default=0.0,
        help="py-spy the operator this long after the window (needs py-spy)",
    )
    p.add_argument(
        "--status-refresh-seconds",
        type=float,
        default=3600.0,
        help="the operator's periodic rewrite of an unchanged status (the operator's default "
        "is 300; 3600 here, the setting for many accounts, keeps those by-design writes out "
        "of the no-op window)",
    )
    p.add_argument(
        "--settle-seconds",
        type=float,
        default=0.0,
        help="wait this long after the last account is CLEAN before the no-op window",
    )
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument(
        "--restart",
        action="store_true",
        help="then restart the operator and measure the first round and lag after it",
    )
    p.add_argument("--keep-log", type=Path, help="copy the operator's log here at the end")
    p.add_argument(
        "--existing-cluster",
        action="store_true",
        help="use $KUBECONFIG instead of starting a local control plane",
    )
    p.add_argument(
        "--shards",
        type=int,
        default=0,
        help="label accounts round-robin cleanslate.dev/shard=<i> and run one operator per "
        "shard (--selector); report the figures per shard",
    )
    args = p.parse_args(argv)
    if args.steady_seconds is None:
        args.steady_seconds = 2.5 * args.interval
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C: the control plane, the operator and
    # the temporary directories are cleaned up on the way out
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    return run_shards(args) if args.shards > 0 else run(args)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    raise SystemExit(main())
