"""Generate ``docs/configuration.md``, the reference of every knob, from the models.

Like the CRDs, the reference is derived, never written by hand: ``python -m
cleanslate.api.reference docs/configuration.md`` rewrites it, and a test fails when it drifts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cleanslate.api.account import TradingAccountSpec
from cleanslate.api.crds import structural_schema
from cleanslate.api.policy import PurgePolicySpec

HEADER = """# Configuration reference

Generated from the models by `python -m cleanslate.api.reference docs/configuration.md`; do
not edit by hand. The same text is what `kubectl explain` prints. Defaults are applied by the
operator when it reads an object (they are not written into your manifests).
"""


def _type(node: dict[str, Any]) -> str:
    kind = node.get("type", "")
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map of {_type(node['additionalProperties'])}"
    if "enum" in node:
        return " \\| ".join(str(v) for v in node["enum"])
    if "pattern" in node and kind == "string":
        return f"string `{node['pattern']}`"
    return str(kind)


def _bounds(node: dict[str, Any]) -> str:
    parts = []
    if "minimum" in node:
        parts.append(f"{'>' if node.get('exclusiveMinimum') else '>='} {node['minimum']}")
    if "maximum" in node:
        parts.append(f"{'<' if node.get('exclusiveMaximum') else '<='} {node['maximum']}")
    return ", ".join(parts)


def _rows(node: dict[str, Any], path: str, required: set[str]) -> list[str]:
    rows = []
    for name, child in node.get("properties", {}).items():
        here = f"{path}.{name}"
        description = " ".join(child.get("description", "").split()).replace("|", "\\|")
        must = " (required)" if name in required else ""
        rows.append(f"| `{here}` | {_type(child)}{must} | {_bounds(child)} | {description} |")
        target = child.get("items", child) if child.get("type") == "array" else child
        if isinstance(target.get("additionalProperties"), dict):
            target = target["additionalProperties"]
        rows.extend(_rows(target, here, set(target.get("required", []))))
    return rows


def _section(title: str, model: type[BaseModel], root: str) -> list[str]:
    schema = structural_schema(model)
    return [
        f"\n## {title}\n",
        "| field | type | bounds | meaning |",
        "| --- | --- | --- | --- |",
        *_rows(schema, root, set(schema.get("required", []))),
    ]


def render() -> str:
    lines = [HEADER]
    lines += _section("PurgePolicy", PurgePolicySpec, "spec")
    lines += _section("TradingAccount", TradingAccountSpec, "spec")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("docs/configuration.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
