"""Where the one-shot CLI keeps what the operator keeps in the resource's status.

One directory per account (``<state-dir>/<namespace>_<name>/``) holds ``status.json`` (the
status as the operator would write it) and ``paper/`` (the paper exchange's own account
state). Files are replaced atomically through a temporary file with a unique name, so a run
killed at any instant leaves the previous or the next version, never half of one. One run at a
time: ``lock`` takes an exclusive lock on the account's directory, so two runs never resume
each other's purge. Damaged state is a ``StateError`` (one line naming the file), never a
fresh start: an empty status would forget backoffs and in-flight purges.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from cleanslate.api.account import TradingAccountStatus
from cleanslate.files import FileRefused, read_regular

MAX_STATE_BYTES = 8 * 1024 * 1024
"""A status file larger than this is not the CLI's (its status is a few kilobytes)."""


class StateError(Exception):
    """A one-line, user-facing error about the state directory or a file in it."""


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/cleanslate``, else ``~/.local/state/cleanslate``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cleanslate"


class StateStore:
    def __init__(self, root: Path, namespace: str, name: str) -> None:
        self.root = root
        self.dir = root / f"{namespace}_{name}"
        self.status_file = self.dir / "status.json"
        self.paper_dir = self.dir / "paper"
        self._lock_fd: int | None = None

    def lock(self) -> None:
        """Create the account's directory and hold its lock until ``unlock``; a second run
        on the same state exits at once instead of resuming this run's purge."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"{self.dir}: cannot use the state directory: {_why(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StateError(
                f"{self.dir}: another cleanslate run is using this state; wait for it to end"
            ) from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    def load(self) -> TradingAccountStatus:
        """The saved status; none saved yet is an empty one, anything unreadable an error."""
        path = self.status_file
        try:
            data = read_regular(path, MAX_STATE_BYTES).decode("utf-8")
        except FileNotFoundError:
            return TradingAccountStatus()
        except FileRefused as exc:
            raise StateError(f"{path}: {exc}: not a status file") from None
        except UnicodeDecodeError:
            raise StateError(f"{path}: not UTF-8 text: damaged status file") from None
        except OSError as exc:
            raise StateError(f"{path}: cannot read: {_why(exc)}") from None
        try:
            return TradingAccountStatus.model_validate(json.loads(data))
        except json.JSONDecodeError as exc:
            raise StateError(
                f"{path}: damaged status file: {exc.msg} (line {exc.lineno})"
            ) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "(document)"
            raise StateError(f"{path}: status.{field}: {first['msg']}") from None
        except RecursionError:
            raise StateError(f"{path}: damaged status file: nested too deeply") from None

    async def save(self, status: TradingAccountStatus) -> None:
        """Replace ``status.json`` atomically. The directory is not recreated: one deleted
        during the run is an error before the next order, not a silent fresh start."""
        text = json.dumps(status.to_wire(), indent=2, sort_keys=True)
        try:
            fd, temporary = tempfile.mkstemp(dir=self.dir, prefix=".status.", suffix=".tmp")
        except OSError as exc:
            raise StateError(f"{self.status_file}: cannot write: {_why(exc)}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.status_file)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise StateError(f"{self.status_file}: cannot write: {_why(exc)}") from None


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
