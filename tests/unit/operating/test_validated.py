"""A no-op cycle does not validate the same spec and policy again, yet every edit counts,
in place or not, and a policy that stops validating is refused as before."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from cleanslate.operating.workers import ValidatedPolicies, ValidatedSpec

SPEC: dict[str, Any] = {
    "policyRef": {"name": "default"},
    "mode": "Live",
    "intervalSeconds": 60,
    "exchange": {"name": "paper", "paper": {"seed": 7, "holdings": {"USD": 100}}},
}


def test_an_unchanged_spec_gives_the_same_model_and_an_edit_in_place_a_new_one() -> None:
    cache, raw = ValidatedSpec(), copy.deepcopy(SPEC)
    first = cache.of(raw)
    assert cache.of(copy.deepcopy(SPEC)) is first
    raw["exchange"]["paper"]["holdings"]["SEI"] = 36.4  # the very dict validated before
    edited = cache.of(raw)
    assert edited is not first and "SEI" in edited.exchange.paper.holdings  # type: ignore[union-attr]


def test_an_invalid_spec_raises_on_every_cycle_it_stays_invalid() -> None:
    cache = ValidatedSpec()
    cache.of(SPEC)
    bad = {**SPEC, "intervalSeconds": 0}
    for _ in range(2):
        with pytest.raises(ValidationError):
            cache.of(bad)
    assert cache.of(SPEC).interval_seconds == 60


def test_policies_are_shared_by_reference_and_revalidated_when_edited() -> None:
    policies = ValidatedPolicies()
    first = policies.of("ns", "p", {})
    assert policies.of("ns", "p", {}) is first
    assert policies.of("other", "p", {}) is not first  # another namespace's policy
    edited = policies.of("ns", "p", {"maxPositions": 3})
    assert edited.max_positions == 3
    with pytest.raises(ValidationError):
        policies.of("ns", "p", {"maxPositions": -1})
    assert policies.of("ns", "p", {"maxPositions": 3}) is edited
