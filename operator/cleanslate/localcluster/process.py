"""Child processes of the control plane: start with logs captured, stop for sure.

Children run in their own session so that a Ctrl-C aimed at the parent does not
hit them mid-request; the parent stops them itself, API server before etcd. On
Linux they also get a parent-death signal, so even a SIGKILLed parent (an OOM
kill, a CI timeout) does not leave an orphaned kube-apiserver holding ports.

Fault-injection tests pause a process (SIGSTOP, as a long GC pause or a stuck node would),
resume it, kill it (SIGKILL) and relaunch it with the same arguments, hence the same ports
and data directory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import signal
import subprocess
import sys
import time
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
        self.argv = list(argv)
        self._popen = self._spawn("wb")

    def _spawn(self, mode: str) -> subprocess.Popen[bytes]:
        with self.log_path.open(mode) as sink:
            popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_parent_death_signal(),
            )
        log.debug("started %s (pid %d)", self.name, popen.pid)
        return popen

    @property
    def pid(self) -> int:
        return self._popen.pid

    def exit_code(self) -> int | None:
        """None while running; a process that exits during startup is a failure."""
        return self._popen.poll()

    def pause(self) -> None:
        """SIGSTOP: the process holds its sockets and answers nothing until ``resume``."""
        self._popen.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._popen.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, as when a node dies: no shutdown at all. Reaped at once."""
        if self._popen.poll() is None:
            self._popen.kill()
            self._popen.wait(timeout=_KILL_GRACE_SECONDS)

    def relaunch(self) -> None:
        """Start again with the same arguments after ``kill`` (the log is appended to)."""
        if self._popen.poll() is None:
            raise RuntimeError(f"{self.name} is still running (pid {self._popen.pid})")
        self._popen = self._spawn("ab")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; always reaps, so no zombie remains."""
        if self._popen.poll() is not None:
            return
        self.resume()  # a paused process would not act on SIGTERM
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


def wait_started(
    process: ManagedProcess,
    ready: Callable[[], bool],
    *,
    deadline: float,
    timeout: float,
    interval: float,
    failure: Callable[[str], Exception],
) -> None:
    """Poll ``ready`` until it answers, failing at once when ``process`` exits meanwhile (its
    log says why, not a timeout) or when ``deadline`` (``time.monotonic``) passes."""
    while not ready():
        code = process.exit_code()
        if code is not None:
            raise failure(f"{process.name} exited with code {code} during startup")
        if time.monotonic() > deadline:
            raise failure(f"{process.name} not ready after {timeout:.0f}s")
        time.sleep(interval)


def log_tails(processes: Sequence[ManagedProcess]) -> str:
    """The last lines of every process's log, for a start-up failure's message."""
    return "\n".join(f"--- last lines of {p.log_path.name} ---\n{p.tail()}" for p in processes)
