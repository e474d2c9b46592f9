"""The krew manifest installs the console script the package ships, at the package's version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "krew" / "cleanslate.yaml"


def test_krew_manifest_names_the_console_script_at_the_package_version() -> None:
    plugin = yaml.safe_load(MANIFEST.read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert plugin["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert plugin["kind"] == "Plugin" and plugin["metadata"]["name"] == "cleanslate"
    assert plugin["spec"]["version"] == f"v{project['version']}"
    assert "kubectl-cleanslate" in project["scripts"]
    assert len(plugin["spec"]["shortDescription"]) <= 50  # krew's index limit
    for platform in plugin["spec"]["platforms"]:
        assert platform["bin"] == "kubectl-cleanslate"
        assert set(platform["selector"]["matchLabels"]) == {"os", "arch"}
        labels = platform["selector"]["matchLabels"]
        assert platform["uri"].endswith(
            f"/v{project['version']}/kubectl-cleanslate-v{project['version']}-"
            f"{labels['os']}-{labels['arch']}.tar.gz"
        )
        assert re.fullmatch(r"[0-9a-f]{64}", platform["sha256"])
