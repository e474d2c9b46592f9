"""Where the one-shot CLI keeps what the operator keeps in the resource's status.

One directory per account (``<state-dir>/<namespace>_<name>/``) holds ``status.json`` (the
status as the operator would write it) and ``paper/`` (the paper exchange's own account
state). Files are replaced atomically, so a run killed at any instant leaves the previous
or the next version, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cleanslate.api.account import TradingAccountStatus


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/cleanslate``, else ``~/.local/state/cleanslate``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cleanslate"


class StateStore:
    def __init__(self, root: Path, namespace: str, name: str) -> None:
        self.dir = root / f"{namespace}_{name}"
        self.status_file = self.dir / "status.json"
        self.paper_dir = self.dir / "paper"

    def load(self) -> TradingAccountStatus:
        try:
            return TradingAccountStatus.model_validate_json(self.status_file.read_text())
        except FileNotFoundError:
            return TradingAccountStatus()

    async def save(self, status: TradingAccountStatus) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        temporary = self.status_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(status.to_wire(), indent=2, sort_keys=True))
        os.replace(temporary, self.status_file)
