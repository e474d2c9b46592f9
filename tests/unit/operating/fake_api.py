"""An in-memory API server holding one TradingAccount, for the worker's unit tests.

It keeps the two promises the worker relies on, as kube-apiserver does: a status write lands
only when its JSON Patch ``test`` holds, and an annotation is removed only while it holds the
tested value. ``down`` makes every request fail as an outage would. The integration tests
check the same promises against the real API server.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from cleanslate.operating.kube import ApiUnavailable, Fence, StaleRecord


def _at(body: Mapping[str, Any], pointer: str) -> Any:
    node: Any = body
    for token in pointer.strip("/").split("/"):
        if not isinstance(node, Mapping) or token not in node:
            return None
        node = node[token]
    return node


class FakeApi:
    def __init__(self, body: Mapping[str, Any], shard: Mapping[str, str] | None = None) -> None:
        self.body: dict[str, Any] = copy.deepcopy(dict(body))
        self.shard = dict(shard or {})
        """The labels a status write tests, as ``Kube.shard``."""
        self.down = False
        self.status_writes = 0
        self.stale_writes = 0

    def _answer(self) -> None:
        if self.down:
            raise ApiUnavailable("ClientConnectorError: connection refused")

    async def write_status(
        self, namespace: str, name: str, status: Mapping[str, Any], fence: Fence
    ) -> None:
        self._answer()
        test = fence.test()
        labels = self.body["metadata"].get("labels") or {}
        moved = any(labels.get(k) != v for k, v in self.shard.items())
        if moved or _at(self.body, test["path"]) != test["value"]:
            self.stale_writes += 1
            raise StaleRecord(f"testing value {test['path']} failed")
        self.body["status"] = copy.deepcopy(dict(status))
        self.status_writes += 1

    async def release_status(self, namespace: str, name: str, fence: Fence) -> int:
        self._answer()
        test = fence.test()
        labels = self.body["metadata"].get("labels") or {}
        moved = any(labels.get(k) != v for k, v in self.shard.items())
        if moved or _at(self.body, test["path"]) != test["value"]:
            self.stale_writes += 1
            raise StaleRecord(f"testing value {test['path']} failed")
        after = int(fence.sequence or 0) + 1
        self.body["status"].update(writeSequence=after, releasedSequence=after)
        self.status_writes += 1
        return after

    async def read_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._answer()
        return copy.deepcopy(self.body)

    async def remove_annotation(self, namespace: str, name: str, key: str, value: str) -> bool:
        self._answer()
        annotations = self.body["metadata"].get("annotations") or {}
        if annotations.get(key) != value:
            return False
        del annotations[key]
        return True

    def annotate(self, key: str, value: str) -> None:
        self.body["metadata"].setdefault("annotations", {})[key] = value

    def status(self) -> dict[str, Any]:
        return dict(self.body.get("status") or {})
