"""A PurgePolicy's own status: whether the operator accepts it.

The API server's schema refuses most bad policies, but not every rule the operator checks
(cross-field rules, values the CEL budget cannot express). Such a policy used to say
nothing; only its accounts turned PolicyInvalid. Its status now says Ready=False with the
first field refused, or Ready=True, for the generation judged. Every shard computes the same
answer from the same spec, so several writers agree; an unchanged answer is not written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from cleanslate.api.policy import PurgePolicySpec, PurgePolicyStatus
from cleanslate.core.conditions import FALSE, TRUE, Desired, merge


def judged(spec: Mapping[str, Any], generation: int | None, stored: Mapping[str, Any] | None,
           now: datetime) -> dict[str, Any] | None:  # fmt: skip
    """The status to write for this spec, or None when the stored one says the same."""
    try:
        PurgePolicySpec.model_validate(dict(spec))
        want = Desired("Ready", TRUE, "Valid", "the operator accepts this policy")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(spec)"
        want = Desired("Ready", FALSE, "Invalid", f"spec.{where}: {first['msg']}")
    try:
        before = PurgePolicyStatus.model_validate(dict(stored or {}))
    except ValidationError:
        before = PurgePolicyStatus()
    ready = next((c for c in before.conditions if c.type == "Ready"), None)
    if (
        ready is not None
        and (ready.status, ready.reason) == (want.status, want.reason)
        and ready.message == merge([], [want], now, generation)[0].message
        and before.observed_generation == generation
    ):
        return None
    status = PurgePolicyStatus(
        conditions=merge(before.conditions, [want], now, generation),
        observed_generation=generation,
    )
    return status.model_dump(mode="json", by_alias=True, exclude_none=True)
