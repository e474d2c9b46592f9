"""``cleanslate --version`` names the version in pyproject.toml: the image check runs it in the
built image, whose tag is that same version (hack/build-image.sh)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import cleanslate
from cleanslate.cli import main

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def _project_version() -> str:
    return str(tomllib.loads(PYPROJECT.read_text())["project"]["version"])


def test_version_prints_the_project_version_and_exits_0(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"cleanslate {_project_version()}\n"


def test_package_version_matches_pyproject():
    assert cleanslate.__version__ == _project_version()
