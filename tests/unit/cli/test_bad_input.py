"""Bad input through the CLI, as a careless user or a hostile tenant writes it: every case is
exit code 2, one line on stderr, no traceback, no output, no state change and no order.

Each case starts from a valid account and policy (``test/small``) whose state a DryRun run has
already saved, changes one thing, and runs the command against a copy of that state.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import yaml

from cleanslate.cli import main

NOW = "2025-11-16T12:00:00Z"
ACCOUNT: dict[str, Any] = {
    "apiVersion": "cleanslate.dev/v1alpha1",
    "kind": "TradingAccount",
    "metadata": {"name": "small", "namespace": "test"},
    "spec": {
        "policyRef": {"name": "default"},
        "mode": "Live",
        "exchange": {
            "name": "paper",
            "paper": {
                "seed": 3,
                "market": "calm",
                "holdings": {"USD": 120, "SEI": 36.4, "WLFI": 57.5},
                "openOrders": [{"productId": "SEI-USD", "side": "SELL", "size": 1,
                                "limitPrice": 0.5, "ageMinutes": 10}],
            },
        },
    },
}  # fmt: skip
POLICY: dict[str, Any] = {
    "apiVersion": "cleanslate.dev/v1alpha1",
    "kind": "PurgePolicy",
    "metadata": {"name": "default", "namespace": "test"},
    "spec": {},
}
ACCOUNT_TEXT = yaml.safe_dump(ACCOUNT, sort_keys=False)
POLICY_TEXT = yaml.safe_dump(POLICY, sort_keys=False)
MISSING = object()
"""A file argument that names no file."""

Content = dict[str, Any] | str | bytes | object


@dataclass
class Case:
    id: str
    account: Content = field(default_factory=lambda: copy.deepcopy(ACCOUNT))
    policy: Content = field(default_factory=lambda: copy.deepcopy(POLICY))
    argv: tuple[str, ...] = ()
    command: str = "once"
    files: tuple[str, ...] | None = None
    """Override the -f arguments: names among "account", "policy", "dir", "missing",
    "fifo" (a named pipe nobody writes) and "zero" (/dev/zero)."""
    state_fifo: bool = False
    """Replace the saved ``status.json`` with a named pipe nobody writes."""
    paper_balances: dict[str, str] | None = None
    """Overwrite balances in the saved paper ledger (a hand-edited state file)."""


def _set(document: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with the key at ``dotted`` (a.b.0.c) set, or deleted when
    ``value`` is ``MISSING``."""
    result = copy.deepcopy(document)
    *parents, last = dotted.split(".")
    node: Any = result
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if value is MISSING:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


def account(dotted: str, value: Any, case_id: str | None = None) -> Case:
    return Case(case_id or f"account:{dotted}={value!r}"[:80], account=_set(ACCOUNT, dotted, value))


def policy(dotted: str, value: Any, case_id: str | None = None) -> Case:
    return Case(case_id or f"policy:{dotted}={value!r}"[:80], policy=_set(POLICY, dotted, value))


def flags(*argv: str, command: str = "once") -> Case:
    return Case(f"{command}:{' '.join(argv)}"[:80], argv=argv, command=command)


def _nested(depth: int) -> str:
    return "spec:\n  x: " + "[" * depth + "]" * depth + "\n"


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)

YAML_CASES = [
    Case("duplicate-mode-dryrun-then-live",
         account=ACCOUNT_TEXT.replace("  mode: Live\n", "  mode: DryRun\n  mode: Live\n")),
    Case("duplicate-kind",
         account=ACCOUNT_TEXT.replace("kind: TradingAccount\n",
                                      "kind: TradingAccount\nkind: PurgePolicy\n")),
    Case("duplicate-holding", account=ACCOUNT_TEXT.replace("        SEI: 36.4\n",
                                                            "        SEI: 36.4\n        SEI: 1\n")),
    Case("duplicate-policy-spec-key", policy=POLICY_TEXT.replace(
        "spec: {}\n", "spec:\n  maxPositions: 3\n  maxPositions: 900\n")),
    Case("duplicate-metadata-name", account=ACCOUNT_TEXT.replace("  name: small\n",
                                                                  "  name: small\n  name: big\n")),
    Case("alias-bomb-in-account", account=ACCOUNT_TEXT + BOMB.replace("\n", "\n", 1)),
    Case("alias-bomb-alone", account=BOMB),
    Case("alias-bomb-in-policy", policy=POLICY_TEXT + BOMB),
    Case("alias-reference", account=ACCOUNT_TEXT.replace("  mode: Live\n", "  mode: &m Live\n")
         + "extra: *m\n"),
    Case("merge-key-alias", policy="base: &b {maxPositions: 3}\n" + POLICY_TEXT.replace(
        "spec: {}", "spec: {<<: *b}")),
    Case("deep-list-nesting", account=ACCOUNT_TEXT + _nested(5000)),
    Case("deep-list-nesting-policy", policy=POLICY_TEXT.replace("spec: {}\n", _nested(200))),
    Case("deep-mapping-nesting", account=ACCOUNT_TEXT + "x:" + "".join(
        f"\n{'  ' * (i + 1)}k{i}:" for i in range(300)) + " 1\n"),
    Case("unclosed-bracket", account="apiVersion: [cleanslate.dev/v1alpha1\nkind: x\n"),
    Case("tab-indentation", account=ACCOUNT_TEXT.replace("  mode: Live", "\tmode: Live")),
    Case("bad-indentation", account="spec:\n  a: 1\n b: 2\n"),
    Case("binary-file", account=bytes(range(256)) * 4),
    Case("latin-1-file", account=ACCOUNT_TEXT.replace("small", "sm\u00e5ll").encode("latin-1")),
    Case("utf-16-file", account=ACCOUNT_TEXT.encode("utf-16")),
    Case("nul-byte", account=ACCOUNT_TEXT.replace("Live", "Li\x00ve")),
    Case("control-character", account=ACCOUNT_TEXT.replace("Live", "Li\x07ve")),
    Case("two-megabyte-file", account=ACCOUNT_TEXT + "# " + "x" * (2 * 1024 * 1024) + "\n"),
    Case("empty-account-file", account=""),
    Case("comments-only", account="# nothing here\n"),
    Case("separator-only", account="---\n---\n"),
    Case("scalar-document", account="hello\n"),
    Case("list-document", account="- kind: TradingAccount\n"),
    Case("number-document", account="42\n"),
    Case("empty-policy-file", policy=""),
    Case("policy-comments-only", policy="# the policy\n"),
    Case("policy-scalar", policy="default\n"),
    Case("unknown-tag",
         account=ACCOUNT_TEXT.replace("mode: Live", "mode: !!python/name:os.system")),
    Case("python-object-tag", account="!!python/object/apply:os.system ['true']\n"),
    Case("binary-tag", account=ACCOUNT_TEXT.replace("mode: Live", "mode: !!binary aGVsbG8=")),
    Case("set-tag-spec", account=ACCOUNT_TEXT.replace("  mode: Live\n", "  mode: !!set {Live}\n")),
]  # fmt: skip

API_CASES = [
    account("apiVersion", MISSING, "account-apiVersion-missing"),
    account("apiVersion", "v1"),
    account("apiVersion", "cleanslate.dev/v2"),
    account("apiVersion", "cleanslate.dev/v1beta1"),
    account("apiVersion", "evil.dev/v1alpha1"),
    account("apiVersion", ""),
    account("apiVersion", 1),
    account("apiVersion", ["cleanslate.dev/v1alpha1"]),
    policy("apiVersion", MISSING, "policy-apiVersion-missing"),
    policy("apiVersion", "v1"),
    policy("apiVersion", "cleanslate.dev/v2"),
    policy("apiVersion", None),
    account("kind", MISSING, "account-kind-missing"),
    account("kind", "Tradingaccount"),
    account("kind", "Pod"),
    account("kind", ["TradingAccount"]),
    policy("kind", "Policy"),
    Case("two-accounts", policy=ACCOUNT_TEXT),
    Case("two-policies", account=ACCOUNT_TEXT + "---\n" + POLICY_TEXT),
    Case("policy-only", account=POLICY_TEXT),
]

POLICY_REF_CASES = [
    policy("metadata.name", "other"),
    policy("metadata.name", MISSING, "policy-name-missing"),
    policy("metadata.namespace", "prod"),
    policy("metadata", MISSING, "policy-metadata-missing"),
    account("spec.policyRef.name", "strict"),
    account("metadata.namespace", "default"),
    Case("no-policy-file", files=("account",)),
    Case("policy-file-missing", files=("account", "missing")),
    Case("policy-file-is-a-directory", files=("account", "dir")),
    Case("account-file-missing", files=("missing", "policy")),
    Case("account-file-is-a-directory", files=("dir", "policy")),
]

METADATA_CASES = [
    account("metadata.name", value, f"name={value!r}"[:60])
    for value in ["../../..", "..", "/etc/cron.d/x", "a/b", "a\\b", "UPPER", "", " small",
                  "small name", "x" * 300, "-small", "small-", "sm_all", "~root", 5, ["a"],
                  {"a": 1}, "small\n"]
] + [
    account("metadata.namespace", value, f"namespace={value!r}"[:60])
    for value in ["../..", "/tmp", "a/b", "Test", "", "x" * 64, "a.b", 7, "..\\.."]
] + [
    account("metadata", ["name", "small"], "metadata-a-list"),
    account("metadata", "small", "metadata-a-string"),
]  # fmt: skip

ACCOUNT_SPEC_CASES = [
    account("spec", MISSING, "account-spec-missing"),
    account("spec", [], "account-spec-a-list"),
    account("spec", "Live", "account-spec-a-string"),
    account("spec.mode", "live"),
    account("spec.mode", "Yes"),
    account("spec.mode", 1),
    account("spec.suspend", "maybe"),
    account("spec.suspend", 2),
    account("spec.policyRef", MISSING, "policyRef-missing"),
    account("spec.policyRef.name", ""),
    account("spec.policyRef.name", "../default"),
    account("spec.policyRef.name", 3),
    account("spec.exchange.name", "binance"),
    account("spec.exchange.name", "coinbase"),
    account("spec.exchange", "paper"),
    account("spec.exchange.paper.holdings.SEI", -1),
    account("spec.exchange.paper.holdings.SEI", 1e28),
    account("spec.exchange.paper.holdings.SEI", 1e30),
    account("spec.exchange.paper.holdings.SEI", 10**40),
    account("spec.exchange.paper.holdings.SEI", "1e999999"),
    account("spec.exchange.paper.holdings.SEI", "abc"),
    account("spec.exchange.paper.holdings.SEI", float("nan")),
    account("spec.exchange.paper.holdings.SEI", float("inf")),
    account("spec.exchange.paper.holdings.SEI", float("-inf")),
    account("spec.exchange.paper.holdings.SEI", [1]),
    account("spec.exchange.paper.holdings.sei", 1),
    account("spec.exchange.paper.holdings.SEI-USD", 1),
    account("spec.exchange.paper.holdings", {"../x": 1}, "holding-asset-a-path"),
    account("spec.exchange.paper.holdings", [1, 2]),
    account("spec.exchange.paper.seed", -1),
    account("spec.exchange.paper.seed", "x"),
    account("spec.exchange.paper.seed", 1.5),
    account("spec.exchange.paper.market", "moon"),
    account("spec.exchange.paper.market", ""),
    account("spec.exchange.paper.market", "x" * 100),
    account("spec.exchange.paper.openOrders.0.productId", "FOO-USD"),
    account("spec.exchange.paper.openOrders.0.productId", "AUT-USD"),
    account("spec.exchange.paper.openOrders.0.productId", "sei-usd"),
    account("spec.exchange.paper.openOrders.0.productId", "SEI"),
    account("spec.exchange.paper.openOrders.0.size", -1),
    account("spec.exchange.paper.openOrders.0.size", 1e28),
    account("spec.exchange.paper.openOrders.0.side", "HOLD"),
    account("spec.exchange.paper.openOrders.0.ageMinutes", -5),
    account("spec.exchange.paper.openOrders.0.limitPrice", 1e30),
    account("spec.exchange.paper.openOrders.0.limitPrice", -0.5),
    account("spec.exchange.paper.openOrders.0.bogus", 1),
    account("spec.exchange.paper.faults", [{"kind": "meteor"}]),
    account("spec.exchange.paper.faults", [{"kind": "reject", "rate": 2}]),
    account("spec.exchange.paper.bogus", True),
    account("spec.bogus", True),
    account("bogus", True, "account-top-level-unknown-key"),
    account("spec.intervalSeconds", 0),
    account("spec.intervalSeconds", -1),
    account("spec.intervalSeconds", "soon"),
    account("spec.intervalSeconds", 10**9),
    account("spec.trackedPositions", [{"symbol": "sol-usd", "entryPrice": 150}]),
    account("spec.trackedPositions", [{"symbol": "SOL-USD", "entryPrice": 1e28}]),
    account("spec.trackedPositions", [{"symbol": "SOL-USD", "entryPrice": -1}]),
    account("spec.trackedPositions", [{"symbol": "SOL-USD", "openedAt": "yesterday"}]),
    account("spec.trackedPositions", {"SOL-USD": 1}),
    account("spec.protectedSymbols", "SOL-USD"),
    account("spec.protectedSymbols", ["sol-usd"]),
    account("spec.protectedSymbols", ["SOL/USD"]),
    account("spec.bans", [{"symbol": "SOL-USD", "until": "never"}]),
]

POLICY_SPEC_CASES = [
    policy("spec", [], "policy-spec-a-list"),
    policy("spec", "strict", "policy-spec-a-string"),
    policy("spec.maxPositions", 5000),
    policy("spec.maxPositions", -1),
    policy("spec.maxPositions", "eight"),
    policy("spec.maxPositions", 8.5),
    policy("spec.minLiquidationValueUsd", -1),
    policy("spec.minLiquidationValueUsd", 1e28),
    policy("spec.minLiquidationValueUsd", float("nan")),
    policy("spec.maxLiquidationsPerCycle", 101),
    policy("spec.staleOrderMinutes", 0),
    policy("spec.cycleBudgetSeconds", 0),
    policy("spec.dust.thresholdPctOfAccount", 101),
    policy("spec.dust.thresholdUsd", -1),
    policy("spec.dust.action", "Burn"),
    policy("spec.quoteCurrencies", ["usd"]),
    policy("spec.quoteCurrencies", "USD"),
    policy("spec.releasedQuoteCurrencies", ["SOL"]),
    policy("spec.releasedQuoteCurrencies", ["USDC", "USDC", "USDT", "BTC", "ETH", "USD"]),
    policy("spec.symbolFreeze.cooldown", "1 day"),
    policy("spec.symbolFreeze.cooldown", "-1h"),
    policy("spec.symbolFreeze.cooldown", 86400),
    policy("spec.symbolFreeze.failureThreshold", -1),
    policy("spec.backoff.schedule",
           [{"failures": 3, "delay": "2h"}, {"failures": 4, "delay": "1h"}]),
    policy("spec.backoff.schedule",
           [{"failures": 4, "delay": "1h"}, {"failures": 3, "delay": "2h"}]),
    policy("spec.backoff.schedule", [{"failures": 3, "delay": "forever"}]),
    policy("spec.execution.sliceUsd", 0),
    policy("spec.execution.sliceUsd", 1e28),
    policy("spec.execution.takerMaxSlippageBps", -5),
    policy("spec.execution.maxSlices", 0),
    policy("spec.execution.bogus", 1),
    policy("spec.universe.tiers", [{"name": "t", "symbols": ["sei"]}]),
    policy("spec.universe.excludedSymbols", [1, 2]),
    policy("spec.unwind.fractionPerCycle", 0),
    policy("spec.unwind.fractionPerCycle", 1.5),
    policy("spec.exposure.maxTotalAtRiskPct", 150),
    policy("spec.balanceFetch.attempts", 0),
    policy("spec.bogus", 1),
]  # fmt: skip

FLAG_CASES = [
    flags("--now", "0001-01-01T00:00:00Z"),
    flags("--now", "9999-12-31T23:59:59Z"),
    flags("--now", "1970-01-01T00:00:00Z"),
    flags("--now", "2200-01-01T00:00:00Z"),
    flags("--now", "yesterday"),
    flags("--now", "2025-13-01T00:00:00Z"),
    flags("--now", ""),
    flags("--max-positions", "5000"),
    flags("--max-positions", "-1"),
    flags("--max-positions", "x"),
    flags("--max-positions", "1e3"),
    flags("--max-positions", "9" * 5000),
    flags("--dust-pct", "nan"),
    flags("--dust-pct", "NaN"),
    flags("--dust-pct", "inf"),
    flags("--dust-pct", "-0.1"),
    flags("--dust-pct", "150"),
    flags("--dust-pct", "0.02"),
    flags("--dust-pct", "x%"),
    flags("--dust-pct", "x"),
    flags("--dust-pct", "sNaN"),
    flags("--max-cycles", "-1", "--until-clean"),
    flags("--max-cycles", "100000", "--until-clean"),
    flags("--phase", "5"),
    flags("--phase", "x"),
    flags("--retry", "sei"),
    flags("--retry", "SEI_USD"),
    flags("--unfreeze", "../x"),
    flags("-o", "xml"),
    flags("--bogus"),
    flags("--symbol", "SEI", "--all", command="liquidate"),
    flags("--symbol", "SEI-USD-X", "--all", command="liquidate"),
    flags("--symbol", "sei/usd", "--all", command="liquidate"),
    flags("--symbol", "A" * 30 + "-USD", "--all", command="liquidate"),
    flags("--symbol", "", "--all", command="liquidate"),
    flags("--symbol", "../../etc", "--all", command="liquidate"),
    flags("--symbol", "SEI-USD", command="liquidate"),
    flags("--all", command="liquidate"),
    flags("--symbol", "SEI-USD", "--all", "--now", "0001-01-01T00:00:00Z", command="liquidate"),
]

LEAVE_ALONE = "spec.leaveAlone"
ISSUE_27_CASES = [
    # One reading of every file: what the API server refuses, the CLI refuses.
    Case("merge-key-sequence-live-then-dryrun", account=ACCOUNT_TEXT.replace(
        "  mode: Live\n", "  <<: [{mode: Live}, {mode: DryRun}]\n")),
    Case("merge-key-mapping", account=ACCOUNT_TEXT.replace(
        "  mode: Live\n", "  <<: {mode: DryRun}\n")),
    account(LEAVE_ALONE, [{"symbol": "SEI", "reason": "mine", "until": 2030}],
            "leaveAlone-until-an-int"),
    Case("leaveAlone-until-date-only", account=ACCOUNT_TEXT.replace(
        "  mode: Live\n", "  mode: Live\n  leaveAlone:\n  - {symbol: SEI, until: 2030-01-01}\n")),
    Case("leaveAlone-until-naive", account=ACCOUNT_TEXT.replace(
        "  mode: Live\n",
        "  mode: Live\n  leaveAlone:\n  - {symbol: SEI, until: '2030-01-01T00:00:00'}\n")),
    account("spec.bans", [{"symbol": "SOL-USD", "expiresAt": 1}], "ban-expiresAt-an-int"),
    account("spec.trackedPositions", [{"symbol": "SOL-USD", "openedAt": 1700000000}],
            "openedAt-an-int"),
    # Strings are not numbers.
    account("spec.intervalSeconds", "60", "intervalSeconds-a-string"),
    account("spec.exchange.paper.holdings.SEI", "36.4", "holding-a-string"),
    account("spec.exchange.paper.seed", "7", "seed-a-string"),
    account("spec.trackedPositions", [{"symbol": "SOL-USD", "entryPrice": "150"}],
            "entryPrice-a-string"),
    policy("spec.maxPositions", "8", "maxPositions-a-string"),
    policy("spec.execution.sliceUsd", "25", "sliceUsd-a-string"),
    account("spec.suspend", "true", "suspend-a-string"),
    # Bounds the API server keeps.
    account("spec.exchange.paper.seed", 2**80, "seed-2**80"),
    account("spec.exchange.paper.seed", 2**64, "seed-2**64"),
    account("spec.exchange.paper.holdings.USD", -5, "negative-paper-cash"),
    account("metadata.generation", "abc"),
    account("metadata.generation", 1.5),
    account("metadata.labels", {"a": 1}, "label-value-an-int"),
    account("metadata.annotations", "x", "annotations-a-string"),
    policy("spec.backoff.schedule", [{"failures": 3, "delay": "1000000000000h"}],
           "backoff-1000000000000h"),
    policy("spec.symbolFreeze.cooldown", "70000000h", "cooldown-70000000h"),
    policy("spec.execution.maxDurationSeconds", 9e27, "maxDurationSeconds-9e27"),
    # Files that are not files.
    Case("account-file-a-fifo", files=("fifo", "policy")),
    Case("policy-file-a-fifo", files=("account", "fifo")),
    Case("account-file-dev-zero", files=("zero", "policy")),
    Case("status-json-a-fifo", state_fifo=True),
    Case("paper-ledger-negative-balance", paper_balances={"SEI": "-5"}),
    Case("paper-ledger-balance-not-a-number", paper_balances={"SEI": "lots"}),
    # Flags.
    flags("--until-clean", "--max-cycles", "0"),
    flags("--symbol", "sei-usd", "--all", "--force", command="liquidate"),
    flags("--retry", "sei-usd"),
    flags("--unfreeze", "sei-usd"),
]  # fmt: skip

CASES = [
    *ISSUE_27_CASES,
    *YAML_CASES,
    *API_CASES,
    *POLICY_REF_CASES,
    *METADATA_CASES,
    *ACCOUNT_SPEC_CASES,
    *POLICY_SPEC_CASES,
    *FLAG_CASES,
]


def _content(path: Path, content: Content) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def saved_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """State a DryRun run of the valid account left behind: status and paper ledger."""
    root = tmp_path_factory.mktemp("saved")
    dry = _set(ACCOUNT, "spec.mode", "DryRun")
    _content(root / "account.yaml", dry)
    _content(root / "policy.yaml", POLICY)
    argv = ["once", "-f", str(root / "account.yaml"), "-f", str(root / "policy.yaml")]
    assert main([*argv, "--state-dir", str(root / "state"), "--now", NOW]) == 0
    return root / "state"


def files_of(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
        if p.name != ".lock"
    }


class Hang(Exception):
    """Raised by the deadline; not an OSError (TimeoutError is one, and a reader's
    ``except OSError`` would turn a hang into a refusal)."""


@pytest.fixture
def deadline() -> Iterator[None]:
    """A hang is a failure, not a stuck suite (bad input must be refused quickly)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise Hang("bad input was not refused within 20 seconds")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _arguments(case: Case, tmp_path: Path) -> list[str]:
    paths = {"account": tmp_path / "account.yaml", "policy": tmp_path / "policy.yaml"}
    paths["dir"] = tmp_path / "a-directory"
    paths["dir"].mkdir()
    paths["missing"] = tmp_path / "no-such.yaml"
    paths["fifo"] = tmp_path / "pipe.yaml"
    os.mkfifo(paths["fifo"])
    paths["zero"] = Path("/dev/zero")
    _content(paths["account"], case.account)
    _content(paths["policy"], case.policy)
    argv = [case.command]
    for name in case.files or ("account", "policy"):
        argv += ["-f", str(paths[name])]
    if case.command == "liquidate" and not case.argv:
        argv += ["--symbol", "SEI-USD", "--all"]
    return [*argv, "--state-dir", str(tmp_path / "state"), *_with_now(case.argv)]


def _with_now(argv: tuple[str, ...]) -> list[str]:
    return list(argv) if "--now" in argv else [*argv, "--now", NOW]


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 1


@pytest.mark.usefixtures("deadline")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    case: Case, saved_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    shutil.copytree(saved_state, state)
    if case.state_fifo:
        (status_file,) = state.rglob("status.json")
        status_file.unlink()
        os.mkfifo(status_file)
    if case.paper_balances is not None:
        (ledger,) = state.rglob("paper/*.json")
        saved = json.loads(ledger.read_text())
        saved["balances"].update(case.paper_balances)
        ledger.write_text(json.dumps(saved))
    before = files_of(state)
    argv = _arguments(case, tmp_path)
    capsys.readouterr()
    try:
        code = _run(argv)
    except Exception as exc:  # a traceback: report the case, not the internals
        pytest.fail(f"raised {type(exc).__name__}: {str(exc)[:200]}")
    out, err = capsys.readouterr()
    assert code == 2, f"exit {code}; stderr: {err[:300]!r}"
    assert out == "", "nothing on stdout"
    assert err.count("\n") == 1 and err.endswith("\n"), f"not one line: {err[:300]!r}"
    assert "Traceback" not in err
    assert err.startswith("cleanslate: error: ")
    assert files_of(state) == before, "the state changed"


def test_there_are_at_least_150_cases() -> None:
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES), "case ids are unique"


def test_every_documented_duration_default_is_accepted() -> None:
    """``symbolFreeze.cooldown`` was documented as P1D, which the field refuses."""
    from cleanslate.api.fields import parse_duration

    reference = (Path(__file__).resolve().parents[3] / "docs/configuration.md").read_text()
    rows = [r for r in reference.splitlines() if "(ms|s|m|h)" in r and "Default: " in r]
    assert rows, "the reference documents duration defaults"
    for row in rows:
        default = row.split("Default: ")[1].split(".")[0].strip()
        parse_duration(default)


@pytest.mark.parametrize(
    ("dotted", "value"),
    [
        ("spec.mode", None),
        ("spec.exchange.paper.holdings.SEI", None),
        ("metadata.generation", -1),
        ("spec.intervalSeconds", 60.0),
    ],
)
def test_what_the_api_server_accepts_the_cli_reads_the_same_way(
    dotted: str, value: Any, tmp_path: Path
) -> None:
    """Once bad-input cases, but the API server stores them (a null in a field that is not
    nullable is dropped; generation is the server's to set; ``60.0`` is the integer 60):
    the CLI reads them as the operator will read the stored object, never refuses them
    differently (issue 27; tests/integration/test_one_reading.py checks the server)."""
    from cleanslate.cli.manifests import read_object

    path = tmp_path / "account.yaml"
    _content(path, _set(ACCOUNT, dotted, value))
    account = read_object(path)
    assert account.spec.interval_seconds == 60
    assert "SEI" not in account.spec.exchange.paper.holdings if "SEI" in dotted else True
