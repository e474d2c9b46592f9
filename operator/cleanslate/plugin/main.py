"""``kubectl cleanslate``: read an account and act on it the way its operator expects.

    kubectl cleanslate status [-A | -n NS] [ACCOUNT]    state, value, blockers, what is next
    kubectl cleanslate plan ACCOUNT                     the last plan as a table
    kubectl cleanslate history ACCOUNT                  events oldest first, purge counters
    kubectl cleanslate retry ACCOUNT SYMBOL...          clear a backoff, retry next cycle
    kubectl cleanslate unfreeze ACCOUNT SYMBOL...       lift a price-failure freeze
    kubectl cleanslate liquidate ACCOUNT SYMBOL [--force]   sell it at the next cycle
    kubectl cleanslate suspend|resume ACCOUNT           stop or restart trading

The actions are the annotations and spec edits of README "Using it". Those that can lead
to an order on a Live account (retry, unfreeze, liquidate, resume) ask first; ``--yes``
answers for scripts. Errors are one line (``error: ...``) and exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from cleanslate import __version__
from cleanslate.api.fields import PRODUCT_ID_PATTERN
from cleanslate.operating import actions
from cleanslate.plugin import views
from cleanslate.plugin.kube import Cluster, Obj, PluginError, Target, default_namespace

EXIT_ERROR = 1
Command = Callable[[Cluster, argparse.Namespace, str], Awaitable[str]]


def _symbol(text: str) -> str:
    """Matched as written or refused: never upper-cased into a product that is then sold."""
    if not re.match(PRODUCT_ID_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"not a product id like BONK-USD (upper case, as written by the exchange): {text!r}"
        )
    return text


def _connection_flags(parser: argparse.ArgumentParser, default: str | None) -> None:
    """kubectl's flags, accepted before or after the command (``status -n NS``)."""
    parser.add_argument("--kubeconfig", default=default, help="kubeconfig (default as kubectl)")
    parser.add_argument("--context", default=default, help="kubeconfig context")
    parser.add_argument("-n", "--namespace", default=default, help="default: the context's")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl cleanslate", description=str(__doc__).split("\n\n")[0]
    )
    parser.add_argument("--version", action="version", version=f"kubectl-cleanslate {__version__}")
    _connection_flags(parser, None)
    flags = argparse.ArgumentParser(add_help=False)
    _connection_flags(flags, argparse.SUPPRESS)  # SUPPRESS: a flag given before stays
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=text, parents=[flags])

    status = command("status", "accounts, blockers and what happens next")
    status.add_argument("-A", "--all-namespaces", action="store_true")
    status.add_argument("account", nargs="?")
    for name, text in (("plan", "the last plan as a table"), ("history", "events and purges")):
        command(name, text).add_argument("account")
    for name, text in (
        ("retry", "clear SYMBOL's purge backoff; the next cycle retries it"),
        ("unfreeze", "lift SYMBOL's freeze; the next cycle prices it again"),
    ):
        sub = command(name, text)
        sub.add_argument("account")
        sub.add_argument("symbols", nargs="+", type=_symbol, metavar="SYMBOL")
        sub.add_argument("-y", "--yes", action="store_true", help="do not ask")
    liquidate = command("liquidate", "sell SYMBOL at the next cycle")
    liquidate.add_argument("account")
    liquidate.add_argument("symbols", nargs=1, type=_symbol, metavar="SYMBOL")
    liquidate.add_argument(
        "--force", action="store_true", help="even while it is in backoff or frozen"
    )
    liquidate.add_argument("-y", "--yes", action="store_true", help="do not ask")
    for name, text in (("suspend", "stop trading"), ("resume", "trade again")):
        sub = command(name, text)
        sub.add_argument("account")
        sub.add_argument("-y", "--yes", action="store_true", help="do not ask")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    target = Target(args.kubeconfig, args.context, args.namespace)
    try:
        output = asyncio.run(_run(target, args))
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(output)
    return 0


async def _run(target: Target, args: argparse.Namespace) -> str:
    namespace = default_namespace(target)
    cluster = await Cluster.connect(target)
    try:
        return await COMMANDS[args.command](cluster, args, namespace)
    finally:
        await cluster.close()


async def status(cluster: Cluster, args: argparse.Namespace, namespace: str) -> str:
    every = args.all_namespaces and not args.account
    if args.account:
        accounts = [await cluster.account(namespace, args.account)]
    else:
        accounts = await cluster.accounts(None if every else namespace)
    unwind = {}
    for account in accounts:
        meta = account["metadata"]
        ref = ((account.get("spec") or {}).get("policyRef") or {}).get("name")
        policy = await cluster.policy(meta["namespace"], ref) if ref else None
        cycles = ((policy or {}).get("spec") or {}).get("unwind", {}).get("cycles", 4)
        unwind[f"{meta['namespace']}/{meta['name']}"] = int(cycles)
    return views.status_screen(accounts, every, unwind, datetime.now(UTC))


async def plan(cluster: Cluster, args: argparse.Namespace, namespace: str) -> str:
    return views.plan_table(await cluster.account(namespace, args.account))


async def history(cluster: Cluster, args: argparse.Namespace, namespace: str) -> str:
    account = await cluster.account(namespace, args.account)
    return views.history(account, await cluster.events(namespace, args.account))


ANNOTATIONS = {"retry": actions.RETRY, "unfreeze": actions.UNFREEZE, "liquidate": actions.LIQUIDATE}
EFFECTS = {
    "retry": "the next cycle retries it",
    "unfreeze": "the next cycle prices it again",
    "liquidate": "the next cycle sells it, whatever its backoff or value",
}


async def annotate(cluster: Cluster, args: argparse.Namespace, namespace: str) -> str:
    """Add the symbols to the action's annotation (keeping any not yet consumed)."""
    account = await cluster.account(namespace, args.account)
    key = ANNOTATIONS[args.command]
    if args.command == "liquidate":
        _check_liquidate(account, args.symbols[0], args.force)
    pending = (account["metadata"].get("annotations") or {}).get(key, "")
    symbols = sorted({*(s for s in pending.split(",") if s), *args.symbols})
    if _live(account):
        _confirm(
            args,
            f"{args.command} {', '.join(args.symbols)} on Live account {namespace}/{args.account}",
        )
    value = ",".join(symbols)
    await cluster.patch_account(
        namespace, args.account, {"metadata": {"annotations": {key: value}}}
    )
    return (
        f"tradingaccount.cleanslate.dev/{args.account} annotated ({key}={value}): "
        f"{EFFECTS[args.command]}"
    )


async def suspend(cluster: Cluster, args: argparse.Namespace, namespace: str) -> str:
    """``spec.suspend``: the operator stops trading and cancels the orders it placed."""
    account = await cluster.account(namespace, args.account)
    on = args.command == "suspend"
    if not on and _live(account):
        _confirm(args, f"resume trading on Live account {namespace}/{args.account}")
    await cluster.patch_account(namespace, args.account, {"spec": {"suspend": on}})
    what = "suspended: trading stops, its open orders are cancelled" if on else "resumed"
    return f"tradingaccount.cleanslate.dev/{args.account} {what}"


def _live(account: Obj) -> bool:
    return (account.get("spec") or {}).get("mode") == "Live"


def _check_liquidate(account: Obj, symbol: str, force: bool) -> None:
    """Without --force, the sale must be due: as the CLI's ``liquidate`` without --force."""
    if not _live(account):
        raise PluginError("the account is in DryRun: it never trades; set spec.mode: Live first")
    status = views.status_of(account)
    now = datetime.now(UTC)
    failure = status.purge_failures.get(symbol)
    frozen = status.frozen_symbols.get(symbol)
    if force:
        return
    if failure and failure.next_retry_at and failure.next_retry_at > now:
        raise PluginError(
            f"{symbol} is in backoff until {failure.next_retry_at:%Y-%m-%dT%H:%M:%SZ} after "
            f"{failure.failure_count} failed purges; --force sells it anyway"
        )
    if frozen and frozen.frozen_at and (frozen.until is None or frozen.until > now):
        raise PluginError(f"{symbol} is frozen (no reliable price); --force sells it anyway")


def _confirm(args: argparse.Namespace, what: str) -> None:
    if args.yes:
        return
    print(f"{what}? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    if answer not in {"y", "yes"}:
        raise PluginError("aborted: nothing changed")


COMMANDS: dict[str, Command] = {
    "status": status,
    "plan": plan,
    "history": history,
    "retry": annotate,
    "unfreeze": annotate,
    "liquidate": annotate,
    "suspend": suspend,
    "resume": suspend,
}
