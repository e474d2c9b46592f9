"""Damaged, truncated or wrongly typed state, a state dir that is a file or cannot be created,
and a second run on the same state: one line naming the file, exit 2, before any order, and
the files left as they were."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cleanslate.api.account import TradingAccountStatus
from cleanslate.cli import state as cli_state
from cleanslate.cli.state import StateStore

from .test_once import NOW, account_manifest, run, write

HOLDINGS = {"USD": 120, "SEI": 36.4, "WLFI": 57.5}
Damage = Callable[[Path], Path | None]
"""Damages the state under the given --state-dir; returns another --state-dir to use, or None."""


def account_dir(state: Path) -> Path:
    return state / "test_small"


def status_file(state: Path) -> Path:
    return account_dir(state) / "status.json"


def paper_file(state: Path) -> Path:
    return account_dir(state) / "paper" / "test%2Fsmall.json"


def _write(target: Callable[[Path], Path], content: bytes | str) -> Damage:
    def damage(state: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        target(state).write_bytes(data)

    return damage


def _truncate(target: Callable[[Path], Path]) -> Damage:
    def damage(state: Path) -> None:
        text = target(state).read_bytes()
        target(state).write_bytes(text[: len(text) // 2])

    return damage


def _edit_paper(change: Callable[[dict[str, object]], None]) -> Damage:
    def damage(state: Path) -> None:
        data = json.loads(paper_file(state).read_text())
        change(data)
        paper_file(state).write_text(json.dumps(data))

    return damage


def _replace_with_directory(target: Callable[[Path], Path]) -> Damage:
    def damage(state: Path) -> None:
        target(state).unlink()
        target(state).mkdir()

    return damage


def _account_dir_is_a_file(state: Path) -> None:
    for path in sorted(account_dir(state).rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    account_dir(state).rmdir()
    account_dir(state).write_text("not a directory")


def _state_dir_is_a_file(state: Path) -> Path:
    other = state.parent / "a-file"
    other.write_text("not a directory")
    return other


DEEP = "[" * 100_000 + "]" * 100_000
CASES: dict[str, Damage] = {
    "status-not-json": _write(status_file, "{not json"),
    "status-truncated": _truncate(status_file),
    "status-empty": _write(status_file, ""),
    "status-wrong-type": _write(status_file, '{"nextAttempt": "four"}'),
    "status-a-list": _write(status_file, "[]"),
    "status-unknown-field": _write(status_file, '{"nextAttempt": 2, "surprise": true}'),
    "status-binary": _write(status_file, b"\xff\xfe\x00\x81garbage"),
    "status-deeply-nested": _write(status_file, DEEP),
    "status-negative-attempt": _write(
        status_file,
        '{"inFlight": {"SEI-USD": {"attempt": -1, "startedAt": "2025-11-16T12:00:00Z",'
        ' "targetQuantity": 1}}}',
    ),
    "status-a-directory": _replace_with_directory(status_file),
    "paper-not-json": _write(paper_file, "{not json"),
    "paper-truncated": _truncate(paper_file),
    "paper-empty": _write(paper_file, ""),
    "paper-binary": _write(paper_file, b"\xff\xfe\x00\x81garbage"),
    "paper-a-list": _write(paper_file, "[1, 2]"),
    "paper-wrong-version": _edit_paper(lambda d: d.update(version=999)),
    "paper-missing-balances": _edit_paper(lambda d: d.pop("balances")),
    "paper-balance-not-a-number": _edit_paper(lambda d: d.update(balances={"USD": "lots"})),
    "paper-balances-a-list": _edit_paper(lambda d: d.update(balances=[1])),
    "paper-deeply-nested": _write(paper_file, DEEP),
    "paper-a-directory": _replace_with_directory(paper_file),
    "account-dir-a-file": _account_dir_is_a_file,
    "state-dir-a-file": _state_dir_is_a_file,
    "state-dir-cannot-be-created": lambda state: Path("/proc/cleanslate-state"),
}


def files_of(root: Path) -> dict[str, bytes | None]:
    if root.is_file():
        return {".": root.read_bytes()}
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
        if p.name != ".lock"
    }


def once(capsys: pytest.CaptureFixture[str], account: Path, state: Path) -> tuple[int, str, str]:
    return run(capsys, "once", "-f", str(account), "--state-dir", str(state), "--now", NOW)


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_state_is_one_line_naming_the_file_exit_2_and_nothing_changes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    account = write(tmp_path / "a.yaml", account_manifest(HOLDINGS))
    state = tmp_path / "state"
    code, _, err = once(
        capsys, write(tmp_path / "dry.yaml", account_manifest(HOLDINGS, mode="DryRun")), state
    )
    assert code == 0, err
    state = CASES[case](state) or state
    before = files_of(state)
    code, out, err = once(capsys, account, state)
    assert code == 2, err
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("cleanslate: error: ") and str(state) in err
    assert files_of(state) == before


def test_a_second_run_on_the_same_state_exits_2_while_the_first_holds_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    account = write(tmp_path / "a.yaml", account_manifest(HOLDINGS))
    first = StateStore(tmp_path / "state", "test", "small")
    first.lock()
    try:
        code, out, err = once(capsys, account, tmp_path / "state")
    finally:
        first.unlock()
    assert code == 2 and out == "" and "another cleanslate run" in err
    assert not status_file(tmp_path / "state").exists(), "the second run changed nothing"
    code, _, err = once(capsys, account, tmp_path / "state")
    assert code == 0, err


async def test_a_state_dir_deleted_during_the_run_is_an_error_not_a_fresh_start(
    tmp_path: Path,
) -> None:
    store = StateStore(tmp_path / "state", "test", "small")
    store.lock()
    store.dir.rename(tmp_path / "moved")
    with pytest.raises(cli_state.StateError, match=r"status\.json: cannot write"):
        await store.save(TradingAccountStatus())
    store.unlock()
    assert not store.dir.exists()


async def test_saves_leave_no_temporary_files_behind(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "test", "small")
    store.lock()
    for attempt in range(1, 4):
        await store.save(TradingAccountStatus(next_attempt=attempt))
    store.unlock()
    assert sorted(p.name for p in store.dir.iterdir()) == [".lock", "status.json"]
    assert store.load().next_attempt == 3
