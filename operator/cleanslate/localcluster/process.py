"""Child processes of the control plane: start with logs captured, stop for sure.

Children run in their own session so that a Ctrl-C aimed at the parent does not
hit them mid-request; the parent stops them itself, API server before etcd. On
Linux they also get a parent-death signal, so even a SIGKILLed parent (an OOM
kill, a CI timeout) does not leave an orphaned kube-apiserver holding ports.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_TERM_GRACE_SECONDS = 10.0
_KILL_GRACE_SECONDS = 5.0


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec hook asking the kernel to SIGTERM the child when its parent dies.

    The libc symbol is resolved here, in the parent, so the hook itself only makes
    one system call between fork and exec. Note the kernel ties this to the parent
    *thread*: start the plane from a thread that outlives it (normally the main one).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


class ManagedProcess:
    """One binary of the plane, with its output in a log file for post-mortems."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("wb") as sink:
            self._popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_parent_death_signal(),
            )
        log.debug("started %s (pid %d)", name, self._popen.pid)

    @property
    def pid(self) -> int:
        return self._popen.pid

    def exit_code(self) -> int | None:
        """None while running; a process that exits during startup is a failure."""
        return self._popen.poll()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; always reaps, so no zombie remains."""
        if self._popen.poll() is not None:
            return
        self._popen.terminate()
        try:
            self._popen.wait(timeout=_TERM_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("%s ignored SIGTERM for %.0fs; killing it", self.name, _TERM_GRACE_SECONDS)
            self._popen.kill()
            self._popen.wait(timeout=_KILL_GRACE_SECONDS)

    def tail(self, lines: int = 40) -> str:
        """The end of the log, for error messages that explain a failed start."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"<no log: {exc}>"
        return "\n".join(text.splitlines()[-lines:])
