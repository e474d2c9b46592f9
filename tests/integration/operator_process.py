"""A real ``cleanslate operator`` process for integration tests.

``OperatorProcess`` starts the operator as a subprocess with ``KUBECONFIG`` set, its log in a
file, its Prometheus metrics on a free port and its paper accounts in a state directory;
``stop()`` sends SIGTERM and waits (bounded), ``kill()`` sends SIGKILL, ``pause()`` and
``resume()`` send SIGSTOP and SIGCONT (a long GC pause, a stuck node). ``wait_for`` polls a
predicate until a deadline: tests never sleep for a fixed time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")
POLL_SECONDS = 0.25
STOP_SECONDS = 30.0
SLOW_PURGE: dict[str, Any] = {
    "execution": {
        "sliceUsd": 5,
        "makerFirstTtlSec": 2,
        "makerRetryTtlSec": 2,
        "makerTtlSec": 2,
        "replaceSeconds": 4,
        "pollIntervalSeconds": 0.5,
        "maxDurationSeconds": 600,
        "pace": "fixed",
    },
}
"""A policy of real-time slices of $5, each a few seconds: a purge of ~$60 lasts long enough
to be caught mid-flight (a pause, a hand-back), and a maker order lives only 2 s, so one
built before a slow write arrives dead. The pace is fixed: the adaptive one sells a 45
bps-wide SEI at once (core.pace)."""


class WaitTimeout(AssertionError):
    """A condition did not hold before its deadline."""


def wait_for(
    predicate: Callable[[], T | None],
    timeout: float,
    what: str,
    *,
    interval: float = POLL_SECONDS,
    diagnose: Callable[[], str] | None = None,
) -> T:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after
    ``timeout`` seconds naming ``what`` (and the last exception the predicate raised)."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # the object may not exist yet, the port not be open yet
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            extra = f"\n{diagnose()}" if diagnose else ""
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}{detail}{extra}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cleanslate_cli() -> list[str]:
    """The console script next to this interpreter, unless $CLEANSLATE_CLI names another."""
    configured = os.environ.get("CLEANSLATE_CLI")
    if configured:
        return [configured]
    script = Path(sys.executable).with_name("cleanslate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cleanslate.cli"]


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class OperatorProcess:
    """One ``cleanslate operator`` subprocess; use as a context manager or start()/stop()."""

    def __init__(
        self,
        kubeconfig: Path,
        state_dir: Path,
        log_path: Path,
        *,
        namespaces: Sequence[str] = (),
        selector: str | None = None,
        paper_time: str = "simulated",
        status_refresh_seconds: float | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.state_dir = state_dir
        self.log_path = log_path
        self.namespaces = tuple(namespaces)
        self.selector = selector
        self.paper_time = paper_time
        self.status_refresh_seconds = status_refresh_seconds
        self.extra_args = tuple(extra_args)
        self.env = dict(env or {})
        self.metrics_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def argv(self) -> list[str]:
        argv = [*cleanslate_cli(), "operator"]
        for ns in self.namespaces:
            argv += ["--namespace", ns]
        if self.selector:
            argv += ["--selector", self.selector]
        argv += [
            "--metrics-port",
            str(self.metrics_port),
            "--liveness-port",
            "0",
            "--state-dir",
            str(self.state_dir),
            "--paper-time",
            self.paper_time,
        ]
        if self.status_refresh_seconds is not None:
            argv += ["--status-refresh-seconds", str(self.status_refresh_seconds)]
        return [*argv, *self.extra_args]

    def start(self, timeout: float = 60.0) -> OperatorProcess:
        """Start the process and wait until its metrics endpoint answers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        self.process = subprocess.Popen(
            self.argv(), stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        wait_for(self._serving, timeout, "the operator's metrics endpoint", diagnose=self.log_tail)
        return self

    def _serving(self) -> bool:
        if not self.running:
            raise AssertionError(f"the operator exited with {self.returncode}\n{self.log_tail()}")
        try:
            self.metrics_text()
        except urllib.error.HTTPError as exc:  # --metrics-auth: answering is serving
            if exc.code not in (401, 403):
                raise
        return True

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        """SIGTERM, then wait up to ``timeout`` seconds; SIGKILL if it is still running."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused process would not act on it
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()
        return self.process.returncode

    def pause(self) -> None:
        """SIGSTOP: the process keeps its connections and does nothing until ``resume``."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> int | None:
        """SIGKILL: no cleanup at all, as when a node dies."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=STOP_SECONDS)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> OperatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        tail = "\n".join(self.log_text().splitlines()[-lines:])
        return f"--- operator log tail ({self.log_path}) ---\n{tail}"

    def metrics_text(self, token: str | None = None) -> str:
        """The /metrics page; ``token`` is sent as a bearer token (``--metrics-auth``)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            body: bytes = response.read()
        return body.decode()

    def metrics(self) -> Samples:
        """Every sample as ``{(name, sorted label pairs): value}``."""
        samples: Samples = {}
        for family in text_string_to_metric_families(self.metrics_text()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def sample(self, name: str, **labels: str) -> float | None:
        """The value of one sample, or None when it is not exported (yet)."""
        try:
            return self.metrics().get((name, tuple(sorted(labels.items()))))
        except (OSError, urllib.error.URLError):
            return None

    def account_sample(self, name: str, namespace: str, account: str) -> float | None:
        return self.sample(name, namespace=namespace, account=account)
