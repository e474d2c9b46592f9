"""Generate the chart's values.schema.json and README.md from its values.yaml.

values.yaml stays the one place a value is added: its default gives the JSON type, the
``# --`` comment above it the description, and an optional ``# @schema {JSON}`` line what
the default cannot say (an enum, a pattern, a minimum, the items of an empty list). A hint
holding "type", "$ref" or "enum" replaces the inferred schema and makes the value opaque
(resources, securityContext); other hints are merged into it. Objects reject unknown keys,
so a misspelt value fails `helm install`/`lint`/`template` with a message naming it.

Usage: python hack/chart_values.py [--check] [CHART_DIR]   (default: helm/cleanslate)
--check writes nothing and exits 1 when a generated file differs from what is committed.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHART = ROOT / "helm" / "cleanslate"
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?: |$)")
REPLACING = ("type", "$ref", "enum")
DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DEFINITIONS: dict[str, Any] = {
    "namespace": {"type": "string", "pattern": DNS_LABEL, "maxLength": 63},
    "selector": {"type": "string", "pattern": "^([A-Za-z0-9./_-]+=[A-Za-z0-9._-]*)?$"},
    "stringMap": {"type": "object", "additionalProperties": {"type": "string"}},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "quantity": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?([EPTGMk]i?|[mun])?$"},
    "duration": {"type": "string", "pattern": "^([0-9]+(ms|s|m|h))+$"},
    "resourceList": {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"$ref": "#/definitions/quantity"}, {"type": "number", "minimum": 0}]
        },
    },
    "resources": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "requests": {"$ref": "#/definitions/resourceList"},
            "limits": {"$ref": "#/definitions/resourceList"},
            "claims": {"type": "array"},
        },
    },
    "shard": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "pattern": DNS_LABEL, "maxLength": 40},
            "namespaces": {
                "type": "array",
                "items": {"$ref": "#/definitions/namespace"},
                "uniqueItems": True,
            },
            "selector": {"$ref": "#/definitions/selector"},
        },
    },
}
"""Shapes several values share, referenced from hints as ``#/definitions/NAME``."""


@dataclass
class Doc:
    """What the comments above one key say."""

    description: str = ""
    hint: dict[str, Any] = field(default_factory=dict)


def read_docs(text: str) -> dict[tuple[str, ...], Doc]:
    """The comment block above each key, by key path. Only a ``# --`` line starts a
    description, so the file's header and example lines are never mistaken for one."""
    docs: dict[tuple[str, ...], Doc] = {}
    path: list[tuple[int, str]] = []
    pending = Doc()
    describing = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            body = stripped[1:]
            if body.startswith(" @schema "):
                pending.hint = json.loads(body[len(" @schema ") :])
                describing = False
            elif body.startswith(" -- "):
                pending.description, describing = body[4:].strip(), True
            elif describing and body.startswith(" ") and not body.startswith("   "):
                pending.description += " " + body.strip()
            else:
                describing = False
            continue
        if not stripped:
            pending, describing = Doc(), False
            continue
        match = KEY.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        path = [(i, k) for i, k in path if i < indent] + [(indent, match["key"])]
        docs[tuple(k for _, k in path)] = pending
        pending, describing = Doc(), False
    return docs


def infer(default: Any) -> dict[str, Any]:
    """The JSON Schema type of a default value (YAML null means "anything")."""
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int):
        return {"type": "integer"}
    if isinstance(default, float):
        return {"type": "number"}
    if isinstance(default, str):
        return {"type": "string"}
    if isinstance(default, list):
        return {"type": "array"}
    if isinstance(default, dict):
        return {"type": "object"}
    return {}


def schema_of(
    default: Any, path: tuple[str, ...], docs: dict[tuple[str, ...], Doc]
) -> dict[str, Any]:
    doc = docs.get(path, Doc())
    if any(k in doc.hint for k in REPLACING):
        schema = dict(doc.hint)
    elif isinstance(default, dict) and default:
        schema = object_schema(default, path, docs) | doc.hint
    else:
        schema = infer(default) | doc.hint
    if doc.description:
        schema = {"description": doc.description, **schema}
    return schema


def object_schema(
    values: dict[str, Any], path: tuple[str, ...], docs: dict[tuple[str, ...], Doc]
) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {k: schema_of(v, (*path, k), docs) for k, v in values.items()},
    }


def build_schema(values: dict[str, Any], docs: dict[tuple[str, ...], Doc]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft-07/schema#",
        "title": "cleanslate chart values",
        "definitions": DEFINITIONS,
        **object_schema(values, (), docs),
    }


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    description: str


def rows(values: dict[str, Any], schema: dict[str, Any], path: tuple[str, ...] = ()) -> list[Row]:
    """One row per value a person sets: leaves, and objects whose schema is opaque."""
    found: list[Row] = []
    for key, default in values.items():
        sub = schema["properties"][key]
        if isinstance(default, dict) and default and "properties" in sub:
            found += rows(default, sub, (*path, key))
            continue
        found.append(
            Row(".".join((*path, key)), type_name(sub), render(default), sub.get("description", ""))
        )
    return found


def type_name(schema: dict[str, Any]) -> str:
    if schema.get("type") == "array" and "items" in schema:
        return f"array of {type_name(schema['items'])}"
    if "enum" in schema:
        return " \\| ".join(json.dumps(v) for v in schema["enum"])
    if "$ref" in schema:
        ref = str(schema["$ref"]).rsplit("/", 1)[1]
        return str(DEFINITIONS[ref].get("type", ref)) + f" ({ref})"
    return str(schema.get("type", "any"))


def render(default: Any) -> str:
    text = json.dumps(default, separators=(", ", ": "))
    return f"`{text}`"


README_HEAD = """# cleanslate Helm chart

A Kubernetes operator that keeps crypto trading accounts clean (`TradingAccount`,
`PurgePolicy`). The repository's README explains what it does; docs/install.md shows the
common installs (cluster-wide, namespaced, HA, shards), the RBAC and GitOps with Argo CD.

```bash
helm install cleanslate helm/cleanslate -n cleanslate-system --create-namespace
```

The CRDs are in `crds/` (Helm installs them on first install, never upgrades them: apply
the repository's `crds/` on an upgrade). Wrong values are refused at install time by
`values.schema.json`, with a message naming the value.

## Values

<!-- Generated from values.yaml by `make chart` (hack/chart_values.py); do not edit. -->

| Key | Type | Default | Description |
| --- | --- | --- | --- |
"""


def escape(cell: str) -> str:
    """A pipe would end the Markdown table cell."""
    return cell.replace("|", "\\|").replace("<", "&lt;")


def build_readme(values: dict[str, Any], schema: dict[str, Any]) -> str:
    lines = [
        f"| `{r.key}` | {r.type} | {r.default} | {escape(r.description)} |"
        for r in rows(values, schema)
    ]
    return README_HEAD + "\n".join(lines) + "\n"


def generate(chart: Path) -> dict[Path, str]:
    """The generated files and their contents, from the chart's values.yaml."""
    text = (chart / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = build_schema(values, read_docs(text))
    return {
        chart / "values.schema.json": json.dumps(schema, indent=2) + "\n",
        chart / "README.md": build_readme(values, schema),
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    chart = Path(args[0]) if args else DEFAULT_CHART
    stale = []
    for path, content in generate(chart).items():
        current = path.read_text() if path.exists() else None
        if current == content:
            continue
        if check:
            stale.append(path)
        else:
            path.write_text(content)
            print(f"wrote {path}")
    for path in stale:
        print(f"{path} is out of date with values.yaml: run `make chart`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
