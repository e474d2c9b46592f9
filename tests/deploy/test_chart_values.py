"""The chart's values.schema.json and README.md are generated from values.yaml and current,
every value is documented, and a wrong value fails `helm lint` and `helm template` with a
message naming it (helm validates values against the schema before rendering)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from cleanslate.localcluster import ToolNotFoundError, find_tool

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "cleanslate"
GENERATOR = ROOT / "hack" / "chart_values.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chart_values", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


chart_values = load_generator()


@pytest.fixture(scope="module")
def helm() -> Path:
    try:
        return find_tool("helm")
    except ToolNotFoundError as exc:
        pytest.skip(str(exc))


def test_schema_and_readme_are_current_with_values_yaml() -> None:
    for path, content in chart_values.generate(CHART).items():
        assert path.read_text() == content, f"{path.name} is stale: run `make chart`"


def test_check_mode_reports_a_stale_readme(tmp_path: Path) -> None:
    for name in ("values.yaml", "values.schema.json", "README.md"):
        (tmp_path / name).write_text((CHART / name).read_text())
    values = tmp_path / "values.yaml"
    values.write_text(
        values.read_text() + "# -- A value added without `make chart`.\nnewValue: 1\n"
    )
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "README.md is out of date" in result.stderr
    assert "values.schema.json is out of date" in result.stderr


def test_readme_lists_every_value_with_a_description() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    readme = (CHART / "README.md").read_text()
    found = chart_values.rows(values, schema)
    assert len(found) > 40
    for row in found:
        assert row.description, f"{row.key} has no `# --` description in values.yaml"
        assert f"| `{row.key}` |" in readme


def test_schema_accepts_the_default_values_and_types_every_leaf() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for row in chart_values.rows(values, schema):
        assert row.type != "any", row.key


def test_comments_give_descriptions_and_hints_by_key_path() -> None:
    text = """# header, not a description

outer:
  # -- First line
  # second line.
  #   example: not part of it
  # @schema {"minimum": 1}
  inner: 2
  # a remark, not a description
  other: ""
"""
    docs = chart_values.read_docs(text)
    assert docs[("outer",)].description == ""
    assert docs[("outer", "inner")].description == "First line second line."
    assert docs[("outer", "inner")].hint == {"minimum": 1}
    assert docs[("outer", "other")].description == ""
    schema = chart_values.build_schema(yaml.safe_load(text), docs)
    inner = schema["properties"]["outer"]["properties"]["inner"]
    assert inner == {"description": "First line second line.", "type": "integer", "minimum": 1}
    assert schema["properties"]["outer"]["additionalProperties"] is False


WRONG_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"replicaCount": "two"}, "replicaCount"),
    ({"replicaCount": -1}, "replicaCount"),
    ({"logFormat": "xml"}, "logFormat"),
    ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
    ({"metrics": {"port": 70000}}, "port"),
    ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "interval"),
    ({"metrics": {"servicemonitor": {"enabled": True}}}, "servicemonitor"),
    ({"watchNamespaces": ["Tenant_A"]}, "watchNamespaces"),
    ({"shards": [{"name": "a", "selecter": "x=y"}]}, "selecter"),
    ({"volumes": {"stateSizeLimit": "lots"}}, "stateSizeLimit"),
    ({"podLabels": {"team": 7}}, "podLabels"),
    ({"rbac": {"readSecrets": "no"}}, "readSecrets"),
    ({"resources": {"limits": {"memory": "3GB"}}}, "memory"),
    ({"resources": {"limit": {"memory": "3Gi"}}}, "limit"),
]


@pytest.mark.parametrize(
    ("values", "named"), WRONG_VALUES, ids=[named for _, named in WRONG_VALUES]
)
@pytest.mark.parametrize("command", ["lint", "template"])
def test_a_wrong_value_fails_with_a_message_naming_it(
    helm: Path, tmp_path: Path, command: str, values: dict[str, Any], named: str
) -> None:
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    args = ["lint", "--strict"] if command == "lint" else ["template", "cleanslate"]
    result = subprocess.run(
        [str(helm), *args, str(CHART), "-f", str(values_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "schema" in output, output
    assert named in output, output


def chart_annotation(key: str) -> Any:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return yaml.safe_load(chart["annotations"][f"artifacthub.io/{key}"])


def test_artifact_hub_lists_the_crds_the_chart_installs() -> None:
    installed = {}
    for path in (CHART / "crds").glob("cleanslate.dev_*.yaml"):
        crd = yaml.safe_load(path.read_text())
        versions = [v["name"] for v in crd["spec"]["versions"]]
        installed[crd["metadata"]["name"]] = (crd["spec"]["names"]["kind"], versions)
    listed = {c["name"]: c for c in chart_annotation("crds")}
    assert set(listed) == set(installed)
    for name, (kind, versions) in installed.items():
        assert listed[name]["kind"] == kind
        assert listed[name]["version"] in versions
        assert listed[name]["displayName"] and listed[name]["description"]


def test_artifact_hub_examples_are_valid_resources() -> None:
    from cleanslate.api.account import TradingAccount
    from cleanslate.api.policy import PurgePolicy

    models = {"TradingAccount": TradingAccount, "PurgePolicy": PurgePolicy}
    examples = chart_annotation("crdsExamples")
    assert sorted(e["kind"] for e in examples) == sorted(models)
    for example in examples:
        models[example["kind"]].model_validate(example)


def test_artifact_hub_declares_an_operator_with_a_known_capability_level() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    annotations = chart["annotations"]
    assert annotations["artifacthub.io/operator"] == "true"
    assert annotations["artifacthub.io/operatorCapabilities"] in {
        "Basic Install",
        "Seamless Upgrades",
        "Full Lifecycle",
        "Deep Insights",
        "Auto Pilot",
    }
