"""Last-resort cleanup so a crashed or killed test run leaves no plane behind.

Context managers and fixture teardown cover the normal paths, and Ctrl-C
arrives as KeyboardInterrupt, which unwinds through them too. What they miss is
an interpreter that exits without unwinding (an unhandled exception in a
thread, ``sys.exit`` from odd places) and SIGTERM, whose default action kills
Python outright. ``atexit`` covers the first; a SIGTERM handler that stops every
live plane and then re-delivers the signal covers the second while keeping the
exit status a caller (CI, ``timeout``) expects.

Only SIGKILL gets past all of that. The children then die with their parent
(see process.py), and the temp dir is swept by the next start: each workdir
records its owner's pid, and dirs whose owner is gone are removed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Protocol


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_live: dict[int, _Stoppable] = {}
_lock = threading.Lock()
_installed = False

OWNER_FILE = "owner.pid"
WORKDIR_PREFIX = "cleanslate-cp-"
# A workdir without an owner file yet may belong to a plane starting right now.
_UNCLAIMED_GRACE_SECONDS = 60.0


def remember(plane: _Stoppable) -> None:
    """Track a plane until it is stopped; installs the hooks on first use."""
    with _lock:
        _live[id(plane)] = plane
    _install_hooks()


def forget(plane: _Stoppable) -> None:
    with _lock:
        _live.pop(id(plane), None)


def stop_all() -> None:
    """Stop every plane still running; errors are swallowed so each gets its turn."""
    with _lock:
        planes = list(_live.values())
    for plane in planes:
        with contextlib.suppress(Exception):
            plane.stop()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    stop_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install_hooks() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    atexit.register(stop_all)
    # Signal handlers can only be set from the main thread, and one someone else
    # installed (an asyncio loop, kopf) is theirs to honour, so only replace the default.
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def claim(workdir: Path) -> None:
    """Mark ``workdir`` as belonging to this process, for sweep_stale()."""
    (workdir / OWNER_FILE).write_text(str(os.getpid()))


def _owner_alive(workdir: Path) -> bool:
    try:
        pid = int((workdir / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return time.time() - workdir.stat().st_mtime < _UNCLAIMED_GRACE_SECONDS
    try:
        os.kill(pid, 0)  # PermissionError also means "exists", just not ours to signal
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def sweep_stale(parent: Path) -> None:
    """Remove workdirs left by SIGKILLed owners; other users' dirs are left alone."""
    for workdir in parent.glob(f"{WORKDIR_PREFIX}*"):
        try:
            if (
                workdir.is_dir()
                and workdir.stat().st_uid == os.getuid()
                and not _owner_alive(workdir)
            ):
                shutil.rmtree(workdir, ignore_errors=True)
        except OSError:
            continue
