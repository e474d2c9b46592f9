"""The tests run what the image ships: pyproject.toml, the image's requirements.lock and the
developers' requirements-dev.lock agree, and this environment is the dev lock.

`make lock` refreshes both locks; `make venv` installs requirements-dev.lock with its hashes.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)")


def pins(lock: str) -> dict[str, str]:
    """``name -> version`` for every pin in a pip-compile lock, each checked to carry hashes."""
    found: dict[str, str] = {}
    text = (ROOT / lock).read_text()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = PIN.match(block)
        if match:
            assert "--hash=sha256:" in block, f"{lock}: {match[1]} has no hash"
            found[canonicalize_name(match[1])] = match[2]
    return found


def requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += project["optional-dependencies"][extra]
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ("ccxt",)), ("requirements-dev.lock", ("ccxt", "test"))],
)
def test_every_requirement_is_pinned_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pinned = pins(lock)
    for requirement in requirements(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock} (run `make lock`)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside pyproject's {requirement} "
            "(run `make lock`)"
        )


def test_the_dev_lock_tests_exactly_what_the_image_ships() -> None:
    image, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    differ = {name: (v, dev.get(name)) for name, v in image.items() if dev.get(name) != v}
    assert not differ, f"image pin -> dev pin: {differ} (run `make lock`)"


def test_this_environment_is_the_dev_lock() -> None:
    """`pip install -e '.[test]'` would resolve today's newest versions instead."""
    dev = pins("requirements-dev.lock")
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differ = {name: (v, installed.get(name)) for name, v in dev.items() if name != "pip"}
    differ = {name: pair for name, pair in differ.items() if pair[0] != pair[1]}
    assert not differ, f"lock -> installed: {differ} (run `make venv`)"
