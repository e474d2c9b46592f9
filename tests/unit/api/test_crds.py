"""The checked-in CRDs are exactly what the models generate, and they are structural."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from cleanslate.api.account import TradingAccountSpec
from cleanslate.api.crds import build_crds, render, structural_schema
from cleanslate.api.policy import PurgePolicySpec

CRDS = Path(__file__).parents[3] / "crds"
# Keys a value validation (anyOf, allOf, ...) may not carry in a structural schema, and keys
# the API server does not know at all.
UNSUPPORTED = {"$ref", "anyOf", "oneOf", "allOf", "patternProperties", "propertyNames", "const"}


@pytest.mark.parametrize("name", sorted(build_crds()))
def test_checked_in_crds_match_the_models(name: str) -> None:
    expected = render(build_crds()[name])
    actual = (CRDS / name).read_text()
    assert actual == expected, f"crds/{name} drifted: run `python -m cleanslate.api.crds`"


def walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.get("properties", {}).items():
            yield from walk(value, f"{path}.{key}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                yield from walk(node[key], f"{path}[{key}]")


def schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, crd in build_crds().items():
        for version in crd["spec"]["versions"]:
            yield from walk(version["schema"]["openAPIV3Schema"], name)


def test_every_schema_node_has_a_type_and_no_unsupported_keyword() -> None:
    for path, node in schemas():
        assert "type" in node, f"{path} has no type"
        assert not UNSUPPORTED & node.keys(), f"{path} uses {UNSUPPORTED & node.keys()}"
        default = node.get("default")
        assert not isinstance(default, dict | list), f"{path}: object defaults stay out"


def _apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """What the API server's defaulting does to ``value``: a missing property with a
    default gets it, inside every object that is present."""
    if isinstance(value, dict) and "properties" in schema:
        out = dict(value)
        for key, sub in schema["properties"].items():
            if key not in out and "default" in sub:
                out[key] = sub["default"]
            if key in out:
                out[key] = _apply_defaults(sub, out[key])
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_apply_defaults(schema["items"], v) for v in value]
    return value


def _skeleton(value: Any) -> Any:
    """The nested objects of ``value``, with every scalar and list removed (a missing list
    takes the model's default, as a missing object would)."""
    return {k: _skeleton(v) for k, v in value.items() if isinstance(v, dict)}


@pytest.mark.parametrize("model", [PurgePolicySpec, TradingAccountSpec])
def test_the_schema_defaults_are_the_models_defaults(model: type[BaseModel]) -> None:
    """An object the API server defaulted reads exactly as the operator reads the object
    without them: ``spec: {}`` and the same object with the server's defaults are one
    policy (and ``kubectl get`` shows its columns)."""
    schema = structural_schema(model)
    empty = model.model_validate({}) if model is PurgePolicySpec else None
    if empty is None:
        empty = model.model_validate({"policyRef": {"name": "p"}})
    skeleton = _skeleton(empty.model_dump(by_alias=True, mode="json", exclude_none=True))
    if model is TradingAccountSpec:
        skeleton["policyRef"] = {"name": "p"}
    defaulted = _apply_defaults(schema, skeleton)
    assert defaulted != skeleton, "the schema carries defaults"
    assert model.model_validate(defaulted) == empty
    if model is PurgePolicySpec:
        assert defaulted["maxPositions"] == 8  # the printer column is not blank


def test_every_spec_field_is_documented_for_kubectl_explain() -> None:
    undocumented = [
        path
        for path, node in schemas()
        if (".spec." in path or ".status." in path)
        and "[" not in path.rsplit(".", 1)[-1]
        and not node.get("description")
    ]
    assert undocumented == []


def test_descriptions_are_unwrapped_so_kubectl_explain_reflows_them() -> None:
    """A docstring's line breaks are the source's 100-column wrapping, not the author's; in a
    description they would cut ``kubectl explain``'s sentences in the middle."""
    wrapped = [
        path
        for path, node in schemas()
        for paragraph in node.get("description", "").split("\n\n")
        if "\n" in paragraph or "  " in paragraph
    ]
    assert wrapped == []


def test_printer_columns_match_the_issue() -> None:
    account = build_crds()["cleanslate.dev_tradingaccounts.yaml"]
    columns = account["spec"]["versions"][0]["additionalPrinterColumns"]
    normal = [c["name"] for c in columns if not c.get("priority")]
    wide = [c["name"] for c in columns if c.get("priority")]
    assert normal == ["Ready", "State", "Mode", "Positions", "Value (USD)", "Failures", "Age"]
    assert wide == ["Message", "Last Cycle"]
    assert account["spec"]["names"]["shortNames"] == ["ta"]


def test_crd_files_are_valid_yaml_with_a_status_subresource_for_accounts() -> None:
    account = yaml.safe_load((CRDS / "cleanslate.dev_tradingaccounts.yaml").read_text())
    assert account["spec"]["versions"][0]["subresources"] == {"status": {}}


def test_the_configuration_reference_matches_the_models() -> None:
    from cleanslate.api.reference import render

    reference = Path(__file__).parents[3] / "docs" / "configuration.md"
    assert reference.read_text() == render(), "run `python -m cleanslate.api.reference`"


def test_every_list_says_how_it_merges_and_spec_lists_are_bounded() -> None:
    """Server-side apply needs x-kubernetes-list-type on every list; conditions are a map
    keyed by type (the API conventions); a tenant's spec lists have maxItems."""
    arrays = [(path, node) for path, node in schemas() if node.get("type") == "array"]
    assert arrays
    for path, node in arrays:
        assert node.get("x-kubernetes-list-type") in ("atomic", "map"), path
        if ".spec." in path:
            assert "maxItems" in node, f"{path} has no maxItems"
    conditions = [node for path, node in arrays if path.endswith(".status.conditions")]
    assert conditions and all(
        c["x-kubernetes-list-type"] == "map" and c["x-kubernetes-list-map-keys"] == ["type"]
        for c in conditions
    )
