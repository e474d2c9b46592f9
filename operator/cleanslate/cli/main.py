"""``cleanslate``: the one-shot run, manual liquidation, the live preflight, and the operator.

``once`` runs cycles of the four phases for one account on its paper exchange, on simulated
time (a four-minute TWAP takes milliseconds), and prints the TradingAccount with its status.
Its options mirror the legacy protocol's CLI. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib import metadata
from pathlib import Path
from typing import NoReturn

import yaml

from cleanslate.api.fields import PRODUCT_ID_PATTERN
from cleanslate.cli.checking import run_check
from cleanslate.cli.manifests import ManifestError, Manifests, load
from cleanslate.cli.report import not_clean, nothing_sold, partly_sold
from cleanslate.cli.running import OnceRequest, Report, run_liquidate, run_once
from cleanslate.cli.state import StateError, default_state_dir
from cleanslate.clock import SystemClock
from cleanslate.core.settlement import cash_currencies

EXIT_NOT_CLEAN = 1
EXIT_NOT_SOLD = 1
"""``once --until-clean`` gave up before CLEAN, as ``kubectl wait`` exits 1 on a timeout."""
EXIT_USAGE = 2
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""``--now`` must fall between these: time arithmetic (backoffs, TWAP deadlines) near year 1 or
9999 overflows, and no replay needs it."""
MOST_POSITIONS = 1000
MOST_CYCLES = 1000


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 timestamp: {text!r}") from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not EARLIEST <= value < LATEST:
        raise argparse.ArgumentTypeError(f"outside {EARLIEST.year}-{LATEST.year - 1}: {text!r}")
    return value


def _percent(text: str) -> Decimal:
    """A percent of the account, the unit of the policy's ``dust.thresholdPctOfAccount``.

    The legacy protocol's flag of the same name took a fraction (``0.02`` = 2 %), so a bare
    number between 0 and 1 is refused rather than guessed: read as a percent, the legacy
    user's ``0.02`` would make a hundredth of the intended holdings dust. ``0.5%`` says it.
    """
    explicit = text.endswith("%")
    try:
        value = Decimal(text.removesuffix("%").strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("a percent of the account from 0 to 100, e.g. 2")
    if 0 < value < 1 and not explicit:
        legacy = f"{(value * 100).normalize():f}"
        raise argparse.ArgumentTypeError(
            f"{text} is a percent here (as in dust.thresholdPctOfAccount), not the legacy "
            f"protocol's fraction: write {legacy} for {legacy} %, or {text}% for {text} %"
        )
    return value


def _count(most: int) -> Callable[[str], int]:
    """A whole number from 0 to ``most``; checked here so a bad flag is a usage error, not a
    traceback from the policy model."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not 0 <= value <= most:
            raise argparse.ArgumentTypeError(f"must be between 0 and {most}: {value}")
        return value

    return parse


def _product(text: str) -> str:
    """A product id exactly as the exchange writes it: never upper-cased for the user, so a
    symbol is matched as written or refused, and never normalised into one that is sold."""
    if not re.match(PRODUCT_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"not a product id like SEI-USD (upper case, as written by the exchange): {text!r}"
        )
    return text


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line and exit 2, like every other bad input (``--help`` still
    prints the usage)."""

    def error(self, message: str) -> NoReturn:
        print(f"cleanslate: error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        type=Path,
        required=True,
        help="manifest file (TradingAccount, PurgePolicy); repeatable",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help=f"where state carries over between runs (default {default_state_dir()})",
    )
    parser.add_argument(
        "--now",
        type=_timestamp,
        default=None,
        help="evaluate as of this time (ISO-8601), for replays and backoff expiry",
    )
    parser.add_argument("-o", "--output", choices=("summary", "yaml", "json"), default="summary")


def _version() -> str:
    """The installed distribution's version (pyproject.toml's, which also tags the image), so
    ``cleanslate --version`` in a container names the build it runs."""
    try:
        return metadata.version("cleanslate")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        from cleanslate import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cleanslate", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"cleanslate {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    once = commands.add_parser("once", help="run cycles of the four phases on the paper exchange")
    _common(once)
    once.add_argument("--verify-only", action="store_true", help="phase 4 only, no trades")
    once.add_argument("--phase", type=int, choices=(1, 2, 3, 4), help="run only this phase")
    once.add_argument("--dry-run", action="store_true", help="plan only, whatever spec.mode says")
    once.add_argument(
        "--retry",
        action="append",
        metavar="SYMBOL",
        type=_product,
        help="clear SYMBOL's purge backoff and retry now (repeatable)",
    )
    once.add_argument(
        "--unfreeze",
        action="append",
        metavar="SYMBOL",
        type=_product,
        help="lift SYMBOL's freeze (repeatable)",
    )
    once.add_argument(
        "--until-clean",
        action="store_true",
        help=f"repeat cycles until CLEAN; exit {EXIT_NOT_CLEAN} if it is not CLEAN by then",
    )
    once.add_argument(
        "--max-cycles", type=_count(MOST_CYCLES), default=20, help="limit for --until-clean"
    )
    once.add_argument(
        "--max-positions", type=_count(MOST_POSITIONS), help="override the policy's maxPositions"
    )
    once.add_argument(
        "--dust-pct",
        type=_percent,
        help="dust threshold in percent of the account, the unit of the policy's "
        "dust.thresholdPctOfAccount (2 = 2 %%; a value below 1 needs its %% sign, 0.5%%, since "
        "the legacy protocol's flag took a fraction); the share is capped at minPositionUsd "
        "($7.50 by default), so above $7.50 / share of account value (2 %%: $375) it changes "
        "nothing: a position is never dust",
    )
    liquidate = commands.add_parser("liquidate", help="sell one symbol with the TWAP executor")
    _common(liquidate)
    liquidate.add_argument(
        "--symbol", required=True, type=_product, help="product id, e.g. SEI-USD"
    )
    liquidate.add_argument(
        "--all", action="store_true", required=True, help="sell the whole available balance"
    )
    liquidate.add_argument(
        "--force", action="store_true", help="ignore backoff and the minimum liquidation value"
    )
    check = commands.add_parser(
        "check", help="read-only preflight of a live account (key, permissions, clock, products)"
    )
    check.add_argument(
        "-f",
        "--filename",
        action="append",
        type=Path,
        required=True,
        help="TradingAccount, PurgePolicy and the Secret with the key; repeatable",
    )
    commands.add_parser("operator", help="run the Kubernetes operator (see: operator --help)")
    return parser


def _check(manifests: Manifests) -> int:
    try:
        report = asyncio.run(run_check(manifests, SystemClock()))
    except ManifestError as exc:
        print(f"cleanslate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.text)
    return report.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["operator"]:
        # Imported here: kopf and the Kubernetes client load only for the operator.
        from cleanslate.operating.main import main as operator_main

        return operator_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "until_clean", False) and args.max_cycles < 1:
        parser.error("argument --max-cycles: must be at least 1 with --until-clean")
    try:
        manifests = load(args.filename)
        request = None if args.command == "check" else OnceRequest.from_args(args, manifests)
    except ManifestError as exc:
        print(f"cleanslate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if request is None:
        return _check(manifests)
    if args.output == "summary" and sys.stderr.isatty():
        request.progress = sys.stderr
    try:
        report = asyncio.run(
            run_liquidate(request) if args.command == "liquidate" else run_once(request)
        )
    except (ManifestError, StateError) as exc:
        print(f"cleanslate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.output == "yaml":
        print(yaml.safe_dump(report.resource, sort_keys=False), end="")
    elif args.output == "json":
        print(json.dumps(report.resource, indent=2))
    else:
        print(report.summary)
    if args.command == "liquidate":
        cash = cash_currencies(request.account.spec, request.policy)
        return _liquidate_exit(args.symbol, report, sorted(cash))
    return _until_clean_exit(args, report)


def _liquidate_exit(symbol: str, report: Report, quote_currencies: Sequence[str]) -> int:
    """Non-zero when ``liquidate`` sold none of the symbol, naming why on stderr: a script
    that asked for a sale must not read exit 0 as "sold" when backoff, a protection or the
    exchange's minimum kept the holding."""
    first = report.results[0] if report.results else None
    why = nothing_sold(first, symbol, quote_currencies) if first else "no cycle ran"
    if why is None:
        rest = partly_sold(first, symbol) if first else None
        if rest is not None:  # sold, but not all: say how much is left and why
            print(f"cleanslate: liquidate {symbol}: {rest}", file=sys.stderr)
        return 0
    print(f"cleanslate: liquidate sold no {symbol}: {why}", file=sys.stderr)
    return EXIT_NOT_SOLD


def _until_clean_exit(args: argparse.Namespace, report: Report) -> int:
    """Non-zero when ``--until-clean`` ran out of cycles; the last line says why (on stderr,
    so ``-o json|yaml`` output stays parseable)."""
    if args.command != "once" or not args.until_clean or not report.results:
        return 0
    why = not_clean(report.results[-1].status, len(report.results))
    if why is None:
        return 0
    print(f"cleanslate: {why}", file=sys.stderr)
    return EXIT_NOT_CLEAN
