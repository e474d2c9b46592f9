"""Generate the CustomResourceDefinitions from the pydantic models.

The models are the single source of truth: ``python -m cleanslate.api.crds`` writes ``crds/``,
and a test fails when the checked-in files drift. The JSON Schema pydantic produces is turned
into a Kubernetes *structural* schema: references inlined, ``anyOf [X, null]`` folded into
``nullable``, bounds spelled the OpenAPI v3.0 way, key patterns turned into CEL rules (the API
server has no ``propertyNames``). Scalar defaults are in the schema (and in the description):
``kubectl explain`` shows them and a ``spec: {}`` policy shows its values in ``kubectl get``.
They are the models' own defaults, so the API server and the operator read an object the
same way; Argo CD and Flux compare against the server's dry run, so defaulted fields are no
drift. Object and list defaults stay with the operator, which applies them when it reads.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter

from cleanslate.api import GROUP, VERSION
from cleanslate.api.account import TradingAccountSpec, TradingAccountStatus
from cleanslate.api.fields import DURATION_PATTERN, NUMBER_LIMIT, format_duration
from cleanslate.api.policy import PurgePolicySpec, PurgePolicyStatus

Schema = dict[str, Any]

_DROP = {"title", "examples", "default", "$defs"}
_BOUNDS = {"ge": ("minimum", False), "gt": ("minimum", True), "le": ("maximum", False)}
_BOUNDS |= {"lt": ("maximum", True)}


def _resolve(node: Schema, defs: Schema) -> Schema:
    ref = node.get("$ref")
    if ref is None:
        return node
    target = dict(defs[ref.split("/")[-1]])
    target.update({k: v for k, v in node.items() if k != "$ref"})
    return _resolve(target, defs)


def _fold_nullable(node: Schema) -> Schema:
    branches = node.get("anyOf")
    if not branches:
        return node
    concrete = [b for b in branches if b.get("type") != "null"]
    if len(concrete) != 1:
        raise ValueError(f"cannot express a union as a structural schema: {branches}")
    folded = {k: v for k, v in node.items() if k != "anyOf"}
    folded.update(concrete[0])
    if len(concrete) != len(branches):
        folded["nullable"] = True
    return folded


def unwrap(text: str) -> str:
    """A field docstring as ``kubectl explain`` should show it: the source's line breaks
    (wrapped at 100 columns) become spaces, and only blank lines stay paragraph breaks."""
    paragraphs = (" ".join(p.split()) for p in text.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def _describe_default(node: Schema, default: Any) -> None:
    if default is None or default == [] or default == {} or default == "":
        return
    if isinstance(default, list) and all(isinstance(v, str | int | float) for v in default):
        default = ", ".join(str(v) for v in default)
    elif isinstance(default, dict | list):
        return  # a nested object documents its own fields' defaults
    if isinstance(default, bool):
        default = str(default).lower()
    if node.get("pattern") == DURATION_PATTERN and isinstance(default, str):
        # pydantic writes a timedelta default in ISO 8601 (P1D), which the field itself
        # refuses; describe it the way it must be written (24h).
        default = format_duration(TypeAdapter(timedelta).validate_python(default))
    text = node.get("description", "").rstrip()
    node["description"] = f"{text} Default: {default}.".strip()


def _schema_default(node: Schema, default: Any) -> Any:
    """A scalar default as the API server should apply it, or None for none: objects and
    lists document their own fields' defaults, and ``null`` is no default."""
    if default is None or isinstance(default, dict | list):
        return None
    if node.get("pattern") == DURATION_PATTERN and isinstance(default, str):
        return format_duration(TypeAdapter(timedelta).validate_python(default))
    kind = node.get("type")
    if kind in ("number", "integer") and isinstance(default, str):
        number = float(default)
        return int(number) if number.is_integer() else number
    if kind == "number" and isinstance(default, float) and default.is_integer():
        return int(default)
    return default


def _key_rule(names: Schema) -> Schema | None:
    pattern = names.get("pattern")
    if pattern is None:
        return None
    return {
        "rule": f"self.all(k, k.matches('{pattern}'))",
        "message": f"every key must match {pattern}",
    }


def _structural(node: Schema, defs: Schema) -> Schema:
    node = _resolve(_fold_nullable(_resolve(node, defs)), defs)
    out: Schema = {}
    for key, value in node.items():
        if key in _DROP:
            continue
        if key in _BOUNDS:
            bound, exclusive = _BOUNDS[key]
            out[bound] = value
            if exclusive:
                out[f"exclusive{bound.capitalize()}"] = True
        elif key == "exclusiveMinimum" or key == "exclusiveMaximum":
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "properties":
            out[key] = {name: _structural(sub, defs) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _structural(value, defs)
        elif key == "patternProperties":
            ((pattern, sub),) = value.items()
            out["additionalProperties"] = _structural(sub, defs)
            out.setdefault("x-kubernetes-validations", []).append(_key_rule({"pattern": pattern}))
        elif key == "propertyNames":
            rule = _key_rule(value)
            if rule:
                out.setdefault("x-kubernetes-validations", []).append(rule)
        elif key == "additionalProperties" and value is False:
            continue  # structural schemas prune unknown fields already
        else:
            out[key] = value
    if "description" in out:
        out["description"] = unwrap(out["description"])
    _describe_default(out, node.get("default"))
    default = _schema_default(out, node.get("default"))
    if default is not None:
        out["default"] = default  # kubectl explain and printer columns show it
    if "enum" in node and "type" not in out:
        out["type"] = "string"
    if out.get("type") == "number":
        # The limit every number keeps (``fields.NUMBER_LIMIT``), in the schema too, so the
        # API server refuses what the code would; a field's own bound on a side wins.
        if "maximum" not in out:
            out.update(maximum=float(NUMBER_LIMIT), exclusiveMaximum=True)
        if "minimum" not in out:
            out.update(minimum=-float(NUMBER_LIMIT), exclusiveMinimum=True)
    if out.get("type") == "array":
        out.update(_list_type(out.get("items") or {}))
    return out


CONDITION_KEYS = {"type", "status", "lastTransitionTime"}


def _list_type(items: Schema) -> Schema:
    """How server-side apply merges a list: conditions are a map keyed by ``type`` (the
    Kubernetes API conventions); every other list is replaced whole (``atomic``), since
    cleanslate reads each as one value and no two writers own parts of it."""
    if set(items.get("properties", {})) >= CONDITION_KEYS and "type" in items.get("required", []):
        return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}
    return {"x-kubernetes-list-type": "atomic"}


def structural_schema(model: type[BaseModel]) -> Schema:
    """A model's schema as a Kubernetes structural schema."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _structural(raw, raw.get("$defs", {}))


def _ready(column: str) -> str:
    return f'.status.conditions[?(@.type=="Ready")].{column}'


ACCOUNT_COLUMNS: list[Schema] = [
    {"name": "Ready", "type": "string", "jsonPath": _ready("status")},
    {"name": "State", "type": "string", "jsonPath": ".status.accountState"},
    {"name": "Mode", "type": "string", "jsonPath": ".status.mode"},
    {"name": "Positions", "type": "integer", "jsonPath": ".status.positionCount"},
    {"name": "Value (USD)", "type": "number", "jsonPath": ".status.totalValueUsd"},
    {"name": "Failures", "type": "integer", "jsonPath": ".status.failureCount"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Message", "type": "string", "jsonPath": _ready("message"), "priority": 1},
    {
        "name": "Last Cycle",
        "type": "date",
        "jsonPath": ".status.lastCycle.startedAt",
        "priority": 1,
    },
]

POLICY_COLUMNS: list[Schema] = [
    {"name": "Ready", "type": "string", "jsonPath": _ready("status")},
    {"name": "Max Positions", "type": "integer", "jsonPath": ".spec.maxPositions"},
    {"name": "Min Liquidation", "type": "number", "jsonPath": ".spec.minLiquidationValueUsd"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Message", "type": "string", "jsonPath": _ready("message"), "priority": 1},
]


def _crd(
    kind: str,
    plural: str,
    short: str,
    spec: Schema,
    status: Schema | None,
    columns: list[Schema],
    description: str,
) -> Schema:
    properties: Schema = {"spec": spec}
    version: Schema = {"name": VERSION, "served": True, "storage": True}
    if status is not None:
        properties["status"] = status
        version["subresources"] = {"status": {}}
    version["additionalPrinterColumns"] = columns
    version["schema"] = {
        "openAPIV3Schema": {
            "type": "object",
            "description": description,
            "required": ["spec"],
            "properties": {
                "apiVersion": {
                    "type": "string",
                    "description": "The versioned schema of this object: cleanslate.dev/v1alpha1.",
                },
                "kind": {"type": "string", "description": f"{kind}."},
                "metadata": {"type": "object"},  # the API server allows nothing more here
                **properties,
            },
        }
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
                "categories": ["cleanslate"],
            },
            "versions": [version],
        },
    }


def build_crds() -> dict[str, Schema]:
    """File name -> CRD, for every custom resource cleanslate defines."""
    account = _crd(
        "TradingAccount",
        "tradingaccounts",
        "ta",
        structural_schema(TradingAccountSpec),
        structural_schema(TradingAccountStatus),
        ACCOUNT_COLUMNS,
        "An exchange account that cleanslate keeps clean according to a PurgePolicy.",
    )
    policy = _crd(
        "PurgePolicy",
        "purgepolicies",
        "pp",
        structural_schema(PurgePolicySpec),
        structural_schema(PurgePolicyStatus),
        POLICY_COLUMNS,
        "How the accounts that reference it are cleaned: universe, purge execution, backoff.",
    )
    return {
        f"{GROUP}_tradingaccounts.yaml": account,
        f"{GROUP}_purgepolicies.yaml": policy,
    }


def render(crd: Schema) -> str:
    return yaml.safe_dump(crd, sort_keys=False, width=100)


def write_crds(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, crd in build_crds().items():
        path = directory / name
        path.write_text(render(crd))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("crds")
    for path in write_crds(target):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["build_crds", "structural_schema", "write_crds"]
