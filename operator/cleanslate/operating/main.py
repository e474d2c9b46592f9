"""``cleanslate operator``: run the operator (kopf) with cleanslate's handlers.

Watch every namespace (``--all-namespaces``, the default) or only listed tenant namespaces
(``--namespace``, repeatable); shard further by account label (``--selector key=value``;
``handlers`` says how a relabelled account is handed over).
``--peering NAME`` turns on kopf peering for high availability: of several replicas with the
same peering name, one acts and the others stand by.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import re
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import kopf

from cleanslate.cli.state import default_state_dir
from cleanslate.core import clock_sync
from cleanslate.exchange.ccxt_accounts import CcxtSettings
from cleanslate.exchange.endpoints import EndpointNotAllowed, EndpointPolicy, origin_of
from cleanslate.exchange.marketdata import (
    DEFAULT_QUOTE_MAX_AGE,
    MAX_QUOTE_AGE_SECONDS,
    SharedMarkets,
)
from cleanslate.metrics import Metrics
from cleanslate.operating.collecting import CollectorSchedule
from cleanslate.operating.handlers import Runtime, register
from cleanslate.operating.redacting import secure_logging
from cleanslate.operating.workers import WorkerConfig


def _selector(text: str) -> dict[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError("expected KEY=VALUE, e.g. cleanslate.dev/shard=a")
    key, value = text.split("=", 1)
    return {key.strip(): value.strip()}


def _max_age(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected seconds, e.g. 30") from None
    if not 0 <= seconds <= MAX_QUOTE_AGE_SECONDS:
        raise argparse.ArgumentTypeError(f"expected 0 to {MAX_QUOTE_AGE_SECONDS:g} seconds")
    return seconds


def _clock_bound(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected seconds, e.g. 30") from None
    if not 0 < seconds <= clock_sync.MAX_BOUND_SECONDS:
        raise argparse.ArgumentTypeError(
            f"expected more than 0 and at most {clock_sync.MAX_BOUND_SECONDS:g} seconds"
        )
    return seconds


def _test_offset(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected seconds, e.g. -300") from None
    if not abs(seconds) <= 86400:
        raise argparse.ArgumentTypeError("expected -86400 to 86400 seconds")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cleanslate operator", description=__doc__.split("\n")[0])
    scope = p.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        help="watch this namespace (repeatable); default: all namespaces",
    )
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace")
    p.add_argument(
        "--selector",
        type=_selector,
        help="only accounts with this label (KEY=VALUE), filtered by the API server: a shard. "
        "Relabelling an account hands it over to the shard it matches now",
    )
    p.add_argument("--metrics-port", type=int, default=9090, help="Prometheus port (0: off)")
    p.add_argument(
        "--metrics-auth",
        action="store_true",
        help="serve /metrics only to bearer tokens the API server authorises for get on "
        "/metrics (TokenReview + SubjectAccessReview); the Helm chart turns it on",
    )
    p.add_argument("--liveness-port", type=int, default=8080, help="kopf liveness port (0: off)")
    p.add_argument(
        "--bind-address",
        type=_bind_address,
        default="0.0.0.0",
        metavar="IP",
        help="the address the metrics and liveness servers listen on (default: every "
        "address). On the host network the chart gives the pod's IP (the node's), so "
        "replicas on nodes sharing one host do not bind each other's ports",
    )
    p.add_argument("--peering", metavar="NAME", help="kopf peering name, for HA replicas")
    p.add_argument(
        "--peering-priority",
        type=int,
        default=None,
        help="higher acts; default: earlier start wins (a new pod in a rollout "
        "never takes over from the running one)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=default_state_dir() / "operator",
        help="where paper-exchange accounts keep their state (the manifests mount "
        "/var/lib/cleanslate)",
    )
    p.add_argument(
        "--paper-time",
        choices=("simulated", "real"),
        default="simulated",
        help="paper accounts skip waits (simulated) or wait for real",
    )
    p.add_argument(
        "--status-refresh-seconds",
        type=float,
        default=300.0,
        help="rewrite an unchanged status this often (values, balance age)",
    )
    p.add_argument(
        "--allow-exchange-url",
        action="append",
        default=[],
        metavar="URL",
        help="also let accounts use this exchange origin (a sandbox, a proxy); repeatable. "
        "Default: only https://api.coinbase.com. Platform configuration: tenants cannot set it",
    )
    p.add_argument(
        "--market-data-max-age-seconds",
        type=_max_age,
        default=DEFAULT_QUOTE_MAX_AGE.total_seconds(),
        metavar="SECONDS",
        help="accounts on the same exchange origin share products and quotes; a cycle "
        "classifies with a shared quote at most this old (0: no sharing, each account "
        "fetches its own; the TWAP always fetches its own)",
    )
    p.add_argument(
        "--ccxt-live-exchange",
        action="append",
        default=[],
        metavar="ID",
        help="let accounts on this ccxt exchange id trade Live although its client order id "
        "semantics were not tested here (docs/venues.md names the tested ones); repeatable. "
        "Platform configuration: tenants cannot set it",
    )
    p.add_argument(
        "--ccxt-api-url",
        action="append",
        default=[],
        metavar="ID=ORIGIN",
        help="send every request of ccxt exchange ID to ORIGIN instead (a forwarding proxy, a "
        "test venue): https://HOST/PATH becomes ORIGIN/HOST/PATH. ORIGIN must also be allowed "
        "with --allow-exchange-url; repeatable. Platform configuration: tenants cannot set it",
    )
    p.add_argument(
        "--peering-lifetime-seconds",
        type=int,
        default=60,
        help="how long a replica that stopped renewing its peering keeps the others standing by",
    )
    p.add_argument(
        "--stand-down-seconds",
        type=float,
        default=60.0,
        help="after finding that another replica wrote an account's status, wait until nobody "
        "has written it for this long before acting on the account again (at once when the "
        "other replica released it: the hand-back after kopf's peering paused it)",
    )
    p.add_argument(
        "--api-timeout-seconds",
        type=float,
        default=30.0,
        help="how long one of cleanslate's own Kubernetes API requests may take before it "
        "counts as an outage (the cycle stops before its next order and waits for the API)",
    )
    p.add_argument(
        "--gc-interval-seconds",
        type=float,
        default=600.0,
        help="run Python's full garbage collection this often, freezing what survives it, "
        "instead of whenever allocations add up (pauses that delay every account's cycle); "
        "0: Python's own schedule",
    )
    p.add_argument(
        "--max-clock-offset-seconds",
        type=_clock_bound,
        default=clock_sync.DEFAULT_MAX_OFFSET_SECONDS,
        metavar="SECONDS",
        help="place no order on a venue whose clock is further than this from the "
        "operator's (ClockInSync=False; cancels still run). Platform configuration: tenants "
        "cannot set it",
    )
    p.add_argument(  # test-only: a skewed replica on a host whose clock is right
        "--test-clock-offset-seconds", type=_test_offset, default=0.0, help=argparse.SUPPRESS
    )
    p.add_argument("--log-format", choices=("plain", "json"), default="plain")
    p.add_argument("--verbose", "-v", action="store_true")
    return p


def _bind_address(text: str) -> str:
    """An IP address (v4 or v6) to listen on, as written; a host name is refused, since it
    could resolve to an address the probes do not reach."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:64]!r} is not an IP address") from None


def liveness_endpoint(address: str, port: int) -> str | None:
    """kopf's liveness URL on ``address`` (an IPv6 one in brackets); None when off."""
    if not port:
        return None
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/healthz"


def _seniority() -> int:
    """kopf pauses every peer when priorities tie; an older process gets a higher one."""
    return -int(time.time() * 1000)


def configure_logging(*, verbose: bool, log_format: str) -> None:
    """kopf's handlers and levels (``--verbose``: DEBUG), then ``secure_logging``: no level
    lets a credential reach the log."""
    kopf.configure(
        verbose=verbose,
        log_format=kopf.LogFormat.JSON if log_format == "json" else kopf.LogFormat.PLAIN,
    )
    logging.getLogger("cleanslate").setLevel(logging.DEBUG if verbose else logging.INFO)
    secure_logging()


def scans_cluster(namespaces: list[str] | None) -> bool:
    """Whether kopf should watch the cluster's namespaces and CRDs: a cluster-wide install,
    or namespace patterns (globs) that only a namespace listing can resolve. Plain names
    need no listing, and a namespaced install has no right to one."""
    if not namespaces:
        return True
    return any(set(n) & set("*?[]!") for n in namespaces)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        endpoints = EndpointPolicy.with_extra(args.allow_exchange_url)
    except EndpointNotAllowed as exc:
        parser.error(f"--allow-exchange-url: {exc}")
    if bad := [i for i in args.ccxt_live_exchange if not re.fullmatch(r"[a-z0-9]{1,64}", i)]:
        parser.error(f"--ccxt-live-exchange: {bad[0][:64]!r} is not a ccxt exchange id")
    redirects: dict[str, str] = {}
    for item in args.ccxt_api_url:
        exchange_id, _, origin = item.partition("=")
        try:
            origin_of(origin)
        except EndpointNotAllowed as exc:
            parser.error(f"--ccxt-api-url {item[:80]!r}: {exc}")
        if not exchange_id:
            parser.error(f"--ccxt-api-url {item[:80]!r}: expected ID=ORIGIN")
        redirects[exchange_id] = origin
    configure_logging(verbose=args.verbose, log_format=args.log_format)
    registry = kopf.OperatorRegistry()
    register(registry, args.selector)
    config = WorkerConfig(
        state_dir=args.state_dir,
        metrics=Metrics(),
        kube=None,
        paper_time=args.paper_time,
        status_refresh_seconds=args.status_refresh_seconds,
        endpoints=endpoints,
        stand_down_seconds=args.stand_down_seconds,
        markets=SharedMarkets(timedelta(seconds=args.market_data_max_age_seconds)),
        ccxt=CcxtSettings(
            live_exchanges=frozenset(args.ccxt_live_exchange), api_redirects=redirects
        ),
        max_clock_offset_seconds=args.max_clock_offset_seconds,
        clock_offset_seconds=args.test_clock_offset_seconds,
    )
    runtime = Runtime(
        config=config,
        metrics_port=args.metrics_port or None,
        metrics_address=args.bind_address,
        metrics_auth=args.metrics_auth,
        api_timeout_seconds=args.api_timeout_seconds,
        peering_lifetime_seconds=args.peering_lifetime_seconds,
        collector=CollectorSchedule(args.gc_interval_seconds),
        scan_cluster=scans_cluster(args.namespace),
    )
    liveness = liveness_endpoint(args.bind_address, args.liveness_port)
    runtime.collector.start_up()
    kopf.run(
        registry=registry,
        clusterwide=not args.namespace,
        namespaces=args.namespace,
        standalone=args.peering is None,
        peering_name=args.peering,
        priority=args.peering_priority if args.peering_priority is not None else _seniority(),
        liveness_endpoint=liveness,
        memo=kopf.Memo(runtime=runtime),
    )
    return 0
