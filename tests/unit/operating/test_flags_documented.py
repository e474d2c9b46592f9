"""Every operator flag a platform team can set has a row in docs/install.md's flag table:
a flag only ``--help`` mentions is a knob nobody finds (four were missing when this test
was written: --peering-priority, --max-clock-offset-seconds, --ccxt-live-exchange and
--ccxt-api-url)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from cleanslate.operating.main import build_parser

INSTALL = Path(__file__).resolve().parents[3] / "docs" / "install.md"


def _public_flags() -> set[str]:
    """Long options of ``cleanslate operator``, except hidden (test-only) ones and --help."""
    flags: set[str] = set()
    for action in build_parser()._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        flags.update(o for o in action.option_strings if o.startswith("--"))
    return flags


def _table_flags() -> set[str]:
    text = INSTALL.read_text()
    table = text.split("`operator` flags:", 1)[1].split("\n\n", 2)[1]
    return set(re.findall(r"^\| `(--[a-z0-9-]+)", table, re.MULTILINE))


def test_the_install_guide_has_a_row_for_every_operator_flag() -> None:
    assert _public_flags() - _table_flags() == set()


def test_the_install_guide_lists_no_flag_the_operator_lacks() -> None:
    assert _table_flags() - _public_flags() == set()
