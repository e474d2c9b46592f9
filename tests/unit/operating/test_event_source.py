"""Events name cleanslate as their source (``kubectl get events`` shows who posted them),
the pod as the instance, and stay one short line."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kopf
import pytest

from cleanslate.metrics import Metrics
from cleanslate.operating import handlers
from cleanslate.operating.main import scans_cluster
from cleanslate.operating.workers import WorkerConfig


async def test_the_operator_posts_events_as_cleanslate_from_its_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POD_NAME", "cleanslate-6f7d9-abcde")
    registry = kopf.OperatorRegistry()
    handlers.register(registry, None)
    (startup,) = [h for h in registry._activities.get_all_handlers() if h.id == "configure"]
    config = WorkerConfig(state_dir=tmp_path, metrics=Metrics(), kube=object())  # type: ignore[arg-type]
    memo: Any = SimpleNamespace(runtime=handlers.Runtime(config=config))
    settings = kopf.OperatorSettings()
    await startup.fn(settings=settings, memo=memo)
    assert settings.posting.reporting_component == "cleanslate"
    assert settings.posting.reporting_instance == "cleanslate-6f7d9-abcde"
    assert settings.posting.event_name_prefix == "cleanslate-"


def test_an_event_message_is_one_short_line() -> None:
    message = handlers.event_message("SEI-USD: purge failed\n" + "detail " * 200)
    assert "\n" not in message and len(message) <= handlers.EVENT_MESSAGE_LIMIT
    assert message.startswith("SEI-USD: purge failed detail")


async def test_a_namespaced_operator_does_not_scan_the_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kopf's namespace and CRD scanning needs cluster rights a namespaced install lacks; it
    retried the forbidden listings for ~54 s before serving accounts. Plain namespace names
    turn it off; a cluster-wide install or a glob keeps it."""
    assert not scans_cluster(["tenant-a", "tenant-b"])
    assert scans_cluster(None) and scans_cluster([]) and scans_cluster(["tenant-*"])
    registry = kopf.OperatorRegistry()
    handlers.register(registry, None)
    (startup,) = [h for h in registry._activities.get_all_handlers() if h.id == "configure"]
    for scan in (False, True):
        config = WorkerConfig(state_dir=tmp_path, metrics=Metrics(), kube=object())  # type: ignore[arg-type]
        memo: Any = SimpleNamespace(runtime=handlers.Runtime(config=config, scan_cluster=scan))
        settings = kopf.OperatorSettings()
        await startup.fn(settings=settings, memo=memo)
        assert settings.scanning.disabled is not scan
