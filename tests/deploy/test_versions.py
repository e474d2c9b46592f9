"""Every place that names cleanslate's version names the same one: the package, the CLI and
plugin (``--version``), the chart (version and appVersion), the plain manifests' image tag,
the krew manifest, and the newest released section of CHANGELOG.md."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import cleanslate

ROOT = Path(__file__).resolve().parents[2]


def test_every_version_agrees() -> None:
    version = cleanslate.__version__
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == version
    chart = yaml.safe_load((ROOT / "helm/cleanslate/Chart.yaml").read_text())
    assert chart["version"] == chart["appVersion"] == version
    krew = yaml.safe_load((ROOT / "deploy/krew/cleanslate.yaml").read_text())
    assert krew["spec"]["version"] == f"v{version}"
    for path in (ROOT / "manifests").rglob("deployment.yaml"):
        images = re.findall(r"image: \S+:(\S+)", path.read_text())
        assert images and set(images) == {version}, path
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## (\d+\.\d+\.\d+)", changelog, re.M)
    assert released and released[0] == version
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert project["license"] == "Apache-2.0"


def test_the_commands_print_the_version() -> None:
    for module, name in (
        ("cleanslate.cli", "cleanslate"),
        ("cleanslate.plugin", "kubectl-cleanslate"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", module, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        assert out.strip() == f"{name} {cleanslate.__version__}"
