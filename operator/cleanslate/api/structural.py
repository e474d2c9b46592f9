"""Reading a manifest the way the API server reads it: the CRD's schema, checked in Python.

The CLI reads the same files a person gives ``kubectl apply``; it must read them the same way
or refuse them, never read them differently (a merge key rehearsed as DryRun and stored as
Live, ``until: 2030`` taken for a Unix time). pydantic alone is lax where the API server is
strict: it turns ``"60"`` into 60 and an integer into a date. So a document is first checked
against the CRD's own ``openAPIV3Schema`` (generated from the same models, ``api/crds.py``),
with the API server's rules:

* types are JSON types: a string is never a number, an integer is a number with no fraction
  (``1.0`` is one, as kubectl's YAML-to-JSON conversion writes it), a boolean is never a
  string; ``format: date-time`` is RFC 3339 with a date, a time and an offset;
* a ``null`` in a field that is not ``nullable`` is dropped first, as the API server prunes it
  (so a required field set to null is missing);
* an unknown field is refused, as ``kubectl apply`` asks (``fieldValidation=Strict``);
* ``metadata`` is an ObjectMeta: strings, integers (``generation``), string maps (labels,
  annotations), and no unknown key.

The CEL rules (``x-kubernetes-validations``) are not evaluated here: each mirrors a pydantic
validator, which runs next. Errors name the field (``spec.intervalSeconds``) and say what
the API server would say.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

Schema = Mapping[str, Any]

_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_OBJECT_META_STRINGS = frozenset(
    {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion"}
)
_OBJECT_META_TIMES = frozenset({"creationTimestamp", "deletionTimestamp"})
_OBJECT_META_INTEGERS = frozenset({"generation", "deletionGracePeriodSeconds"})
_OBJECT_META_MAPS = frozenset({"labels", "annotations"})
_OBJECT_META_LISTS = frozenset({"finalizers", "ownerReferences", "managedFields"})
INT64 = 2**63


class SchemaError(ValueError):
    """A field the API server would refuse; ``field`` is its dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@cache
def _schemas() -> dict[str, Schema]:
    from cleanslate.api.crds import build_crds

    found = {}
    for crd in build_crds().values():
        version = crd["spec"]["versions"][0]
        found[crd["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    return found


def check_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as the API server would store it (nulls pruned), or SchemaError.
    ``kind`` must be TradingAccount or PurgePolicy (the caller checked it)."""
    schema = _schemas()[str(document.get("kind"))]
    properties = {k: v for k, v in schema["properties"].items() if k not in ("metadata", "status")}
    # ``metadata`` is an ObjectMeta (checked on its own); ``status`` is the status
    # subresource's, which a create ignores.
    rest = {k: v for k, v in document.items() if k not in ("metadata", "status")}
    checked = _object(rest, {**schema, "properties": properties}, "")
    metadata = _metadata(document.get("metadata"))
    named = metadata is not None and (metadata.get("name") or metadata.get("generateName"))
    _expect(bool(named), "metadata.name", "required (name or generateName)")
    checked["metadata"] = metadata
    return checked


def _metadata(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise SchemaError("metadata", "must be an object")
    for key, item in value.items():
        where = f"metadata.{key}"
        if item is None:
            continue
        if key in _OBJECT_META_STRINGS:
            _expect(isinstance(item, str), where, "must be a string")
        elif key in _OBJECT_META_TIMES:
            _expect(isinstance(item, str) and _is_date_time(item), where, "must be a date-time")
        elif key in _OBJECT_META_INTEGERS:
            _expect(_is_integer(item), where, "must be an integer")
        elif key in _OBJECT_META_MAPS:
            _expect(isinstance(item, Mapping), where, "must be a map of strings")
            for k, v in item.items():
                _expect(isinstance(v, str), f"{where}.{k}", "must be a string")
        elif key in _OBJECT_META_LISTS:
            _expect(isinstance(item, list), where, "must be a list")
        else:
            raise SchemaError(where, "unknown field")
    return value


def _expect(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise SchemaError(field, message)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _value(value: Any, schema: Schema, path: str) -> Any:
    kind = schema.get("type")
    if kind == "object" or (kind is None and "properties" in schema):
        return _object(value, schema, path)
    if kind == "array":
        _expect(isinstance(value, list), path, "must be a list")
        _bounds_of_size(len(value), schema, path, "items")
        items = schema.get("items", {})
        return [_item(v, items, f"{path}.{i}") for i, v in enumerate(value)]
    if kind == "string":
        _expect(isinstance(value, str), path, "must be a string")
        _string(value, schema, path)
    elif kind == "integer":
        _expect(_is_integer(value), path, "must be an integer")
        _number(value, schema, path)
    elif kind == "number":
        _expect(_is_number(value), path, "must be a number")
        _number(value, schema, path)
    elif kind == "boolean":
        _expect(isinstance(value, bool), path, "must be a boolean")
    if "enum" in schema:
        _expect(value in schema["enum"], path, f"must be one of {schema['enum']}")
    return value


def _item(value: Any, schema: Schema, path: str) -> Any:
    if value is None:
        _expect(bool(schema.get("nullable")), path, "must not be null")
        return None
    return _value(value, schema, path)


def _object(value: Any, schema: Schema, path: str) -> dict[str, Any]:
    _expect(isinstance(value, Mapping), path or "(document)", "must be an object")
    properties: Mapping[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    out: dict[str, Any] = {}
    for key, item in value.items():
        where = _join(path, key)
        _expect(isinstance(key, str), where, "keys must be strings")
        sub = properties.get(key)
        if sub is None and isinstance(extra, Mapping):
            sub = extra
        if sub is None:
            if schema.get("x-kubernetes-preserve-unknown-fields"):
                out[key] = item
                continue
            raise SchemaError(where, "unknown field")
        if item is None and not sub.get("nullable"):
            continue  # pruned, as the API server drops a null it cannot store
        out[key] = item if item is None else _value(item, sub, where)
    for key in schema.get("required", ()):
        _expect(key in out, _join(path, key), "required")
    _bounds_of_size(len(out), schema, path, "properties")
    return out


def _bounds_of_size(size: int, schema: Schema, path: str, what: str) -> None:
    low, high = schema.get(f"min{what.title()}"), schema.get(f"max{what.title()}")
    _expect(low is None or size >= low, path, f"must have at least {low} {what}")
    _expect(high is None or size <= high, path, f"must have at most {high} {what}")


def _string(value: str, schema: Schema, path: str) -> None:
    low, high = schema.get("minLength"), schema.get("maxLength")
    _expect(low is None or len(value) >= low, path, f"must be at least {low} characters")
    _expect(high is None or len(value) <= high, path, f"must be at most {high} characters")
    pattern = schema.get("pattern")
    if pattern is not None:
        _expect(_regex(pattern).search(value) is not None, path, f"must match {pattern}")
    if schema.get("format") == "date-time":
        _expect(_is_date_time(value), path, "must be an RFC 3339 date-time with an offset")


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    """The schema's pattern as the API server (RE2) reads it: ``$`` is the end of the text,
    not the end before a final newline as in Python."""
    return re.compile(pattern.removesuffix("$") + r"\Z" if pattern.endswith("$") else pattern)


def _number(value: float, schema: Schema, path: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        below = value <= low if schema.get("exclusiveMinimum") else value < low
        sign = ">" if schema.get("exclusiveMinimum") else ">="
        _expect(not below, path, f"must be {sign} {low}")
    if high is not None:
        above = value >= high if schema.get("exclusiveMaximum") else value > high
        sign = "<" if schema.get("exclusiveMaximum") else "<="
        _expect(not above, path, f"must be {sign} {high}")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    """A JSON integer as the API server sees one: an int64, or a float with no fraction
    that a float64 holds exactly (kubectl writes a YAML ``1.0`` as JSON ``1``; a number
    beyond int64 arrives as a float and is an integer only up to 2**53)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -INT64 <= value < INT64
    return isinstance(value, float) and value.is_integer() and abs(value) <= 2**53


def _is_date_time(text: str) -> bool:
    match = _DATE_TIME.match(text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    return True
