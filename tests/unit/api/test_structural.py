"""The API server's reading of a manifest, in Python (``api/structural.py``): what the CRD
schema allows must be what the models allow, or the CLI and the API server would agree with
each other and both refuse what the operator itself writes (issue 27)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cleanslate.api.account import TradingAccountStatus
from cleanslate.api.structural import SchemaError, _schemas, _value, check_document

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["account.yaml", "policy.yaml"])
def test_the_examples_pass_the_schema(name: str) -> None:
    document = yaml.safe_load((ROOT / "examples" / name).read_text())
    assert check_document(document)["spec"] == document["spec"]


def test_the_status_the_operator_writes_passes_the_schema() -> None:
    """Zeros everywhere: a bound wrongly made exclusive refused every status write."""
    schema = _schemas()["TradingAccount"]["properties"]["status"]
    status = TradingAccountStatus().to_wire()
    assert _value(status, schema, "status") == status


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("spec.exchange.paper.holdings.SEI", 0, True),
        ("spec.exchange.paper.holdings.SEI", 999e15, True),
        ("spec.exchange.paper.holdings.SEI", 1e18, False),
        ("spec.exchange.paper.holdings.SEI", "1", False),
        ("spec.intervalSeconds", 60.0, True),
        ("spec.intervalSeconds", 60.5, False),
        ("spec.exchange.paper.seed", 2**53 + 0.0, False),
        ("spec.exchange.paper.seed", 2**80, False),
        ("spec.leaveAlone.0.until", "2030-01-01T00:00:00Z", True),
        ("spec.leaveAlone.0.until", "2030-01-01", False),
        ("spec.leaveAlone.0.until", "2030-01-01T00:00:00", False),
        ("spec.leaveAlone.0.until", 2030, False),
        ("spec.mode", None, True),
        ("spec.bogus", 1, False),
    ],
)
def test_the_api_server_s_rules(field: str, value: Any, ok: bool) -> None:
    document = yaml.safe_load((ROOT / "examples" / "account.yaml").read_text())
    document["spec"].setdefault("leaveAlone", [{"symbol": "BONK", "reason": "r"}])
    node = document
    *parents, last = field.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[last] = value
    if ok:
        check_document(document)
    else:
        with pytest.raises(SchemaError) as refused:
            check_document(document)
        assert refused.value.field.startswith(field.rsplit(".", 1)[0])
