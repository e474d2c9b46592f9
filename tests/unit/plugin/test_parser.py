"""kubectl's habits hold: connection flags before or after the command, symbols upper-cased,
anything that is not a product id refused as a usage error."""

from __future__ import annotations

import pytest

from cleanslate.plugin.main import build_parser


@pytest.mark.parametrize(
    "argv",
    [
        ["-n", "tenant-a", "--context", "prod", "status"],
        ["status", "-n", "tenant-a", "--context", "prod"],
        ["--context", "prod", "status", "--namespace", "tenant-a"],
    ],
)
def test_connection_flags_go_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.namespace, args.context, args.kubeconfig) == ("tenant-a", "prod", None)


def test_without_flags_the_kubeconfig_decides() -> None:
    args = build_parser().parse_args(["plan", "documents"])
    assert (args.namespace, args.context, args.kubeconfig, args.account) == (
        None,
        None,
        None,
        "documents",
    )


def test_symbols_are_matched_as_written_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    """Never upper-cased: ``sei-usd`` is refused, not turned into a product that is sold
    (issue 27)."""
    args = build_parser().parse_args(["retry", "documents", "BONK-USD", "SEI-USD"])
    assert args.symbols == ["BONK-USD", "SEI-USD"]
    for wrong in ("BONK", "sei-usd"):
        with pytest.raises(SystemExit) as usage:
            build_parser().parse_args(["liquidate", "documents", wrong])
        assert usage.value.code == 2
        assert "not a product id like BONK-USD" in capsys.readouterr().err
