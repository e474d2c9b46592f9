"""Shared building blocks of the custom-resource models.

Money and quantities are ``Decimal`` in Python and plain JSON numbers on the wire, because that
is what a person writes in YAML (``thresholdUsd: 7.5``). Durations are Go-style strings
(``90s``, ``1h30m``) like every ``metav1.Duration`` in Kubernetes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class ApiModel(BaseModel):
    """Base of every spec and status model: camelCase on the wire, unknown keys refused.

    ``extra='forbid'`` turns a typo in a manifest into an error that names the key instead of
    a setting that silently does nothing, which matters when the setting guards money.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_default=True,
        use_attribute_docstrings=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The object as Kubernetes stores it: camelCase keys, JSON types, no unset noise."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _decimal_to_number(value: Decimal) -> int | float:
    """Integral values stay integers; others become the shortest float that round-trips."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _decimal_from_number(value: Any) -> Any:
    # A float read from YAML (7.5, 0.1) is converted through its shortest repr, so 0.1 stays
    # Decimal("0.1") instead of 0.1000000000000000055511151231257827.
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


class _NumberSchema:
    """Publish a decimal as a plain JSON number in the schema, keeping its bounds.

    Pydantic describes a Decimal as ``number | string``; a CRD's structural schema wants one
    type, and the bounds (``ge``, ``lt``) pydantic put on the number branch must survive.
    """

    @staticmethod
    def __get_pydantic_json_schema__(
        schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        generated = handler(schema)
        for branch in generated.pop("anyOf", []):
            if branch.get("type") == "number":
                generated.update(branch)
        generated["type"] = "number"
        if isinstance(generated.get("default"), str):
            generated["default"] = _decimal_to_number(Decimal(generated["default"]))
        return generated


NUMBER_LIMIT = Decimal("1e18")
"""Beyond any quantity or price an exchange holds, well inside Decimal's exact 28-digit
context: larger numbers are refused, not rounded or left to overflow. Also the schema's
bound, and the API server compares an integer value with a bound as int64, so the bound
must fit one (1e28 read as int64 wrapped to -2**63 and refused every value)."""


def _within_limit(value: Decimal) -> Decimal:
    # A validator, not Field bounds: the CRD schema keeps each field's own bounds only.
    if not -NUMBER_LIMIT < value < NUMBER_LIMIT:
        raise ValueError("must be less than 1e18 in magnitude")
    return value


Number = Annotated[
    Decimal,
    AfterValidator(_within_limit),
    BeforeValidator(_decimal_from_number),
    PlainSerializer(_decimal_to_number, return_type=int | float, when_used="json"),
    _NumberSchema,
]
"""An exact decimal that is a JSON number on the wire."""

NonNegative = Annotated[Number, Field(ge=0)]
Positive = Annotated[Number, Field(gt=0)]
Percent = Annotated[Number, Field(ge=0, le=100)]
Fraction = Annotated[Number, Field(gt=0, le=1)]

DURATION_PATTERN = r"^([0-9]{1,4}(\.[0-9]{1,9})?(ms|s|m|h))+$"
"""A Go-style duration whose every part has at most four digits before the point."""
DURATION_MAX_LENGTH = 20
"""With four-digit parts, at most 9999h9999h9999h9999h (about 4.6 years): a bound every
date the code adds a duration to can honour, where ``70000000h`` overflowed each cycle."""
_DURATION = re.compile(DURATION_PATTERN.removesuffix("$") + r"\Z")
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration (``24h``, ``1h30m``, ``90s``) into a timedelta."""
    if not isinstance(text, str) or len(text) > DURATION_MAX_LENGTH or not _DURATION.match(text):
        raise ValueError(
            f"invalid duration {text[:40]!r}: use numbers of at most four digits with a unit, "
            f"e.g. 90s, 30m, 1h, 24h (at most {DURATION_MAX_LENGTH} characters)"
            if isinstance(text, str)
            else f"invalid duration {text!r}: use a number with a unit, e.g. 90s, 30m, 1h"
        )
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(text))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest Go-style spelling of a duration, as Kubernetes prints them."""
    total = value.total_seconds()
    if total == 0:
        return "0s"
    hours, rest = divmod(int(total), 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    fraction = total - int(total)
    if seconds or fraction:
        parts.append(f"{seconds + fraction:g}s")
    return "".join(parts)


def _coerce_duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    return parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "maxLength": DURATION_MAX_LENGTH}
    ),
]
"""A Go-style duration string on the wire, a timedelta in Python."""

PRODUCT_ID_PATTERN = r"^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}$"
ProductId = Annotated[str, Field(pattern=PRODUCT_ID_PATTERN, examples=["SEI-USD"])]
"""A product (trading pair) id as the exchange spells it: BASE-QUOTE."""

ASSET_PATTERN = r"^[A-Z0-9]{1,20}$"
Asset = Annotated[str, Field(pattern=ASSET_PATTERN, examples=["SEI"])]
"""An asset (currency) code."""

PRODUCT_OR_ASSET_PATTERN = r"^[A-Z0-9]{1,20}(-[A-Z0-9]{1,20})?$"
ProductOrAsset = Annotated[
    str, Field(pattern=PRODUCT_OR_ASSET_PATTERN, examples=["USDC", "BTC-USD"])
]
"""A product id or a bare asset code (for lists that accept either)."""

K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ObjectName = Annotated[str, Field(min_length=1, max_length=253, pattern=K8S_NAME_PATTERN)]
