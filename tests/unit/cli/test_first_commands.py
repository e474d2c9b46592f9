"""The first commands a newcomer runs succeed or say why they do not: the README's first
one-shot run (and ``make once``) reaches CLEAN, the documents' account is shown second with
its expected exit 1, and ``make cluster`` prints a PATH that finds ``kubectl cleanslate``
and the next commands to run."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from cleanslate.cli import main
from cleanslate.cli.main import EXIT_NOT_CLEAN
from cleanslate.localcluster.__main__ import next_steps

ROOT = Path(__file__).resolve().parents[3]
POLICY = str(ROOT / "examples/policy.yaml")


def once_commands(text: str) -> list[str]:
    return re.findall(r"cleanslate once (-f \S+ -f \S+ --until-clean)", text)


def test_the_first_example_the_readme_and_make_once_show_reaches_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = once_commands((ROOT / "README.md").read_text())
    make = once_commands((ROOT / "Makefile").read_text())
    first = "-f examples/first-account.yaml -f examples/policy.yaml --until-clean"
    assert readme[0] == make[0] == first
    account = str(ROOT / "examples/first-account.yaml")
    code = main(
        ["once", "-f", account, "-f", POLICY, "--until-clean", "--state-dir", str(tmp_path)]
    )
    out = capsys.readouterr().out
    assert code == 0 and "the account is CLEAN" in out


def test_the_documents_account_exits_1_naming_what_it_keeps_as_the_readme_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    assert "exit code\n1" in readme or "exit code 1" in readme.replace("\n", " ")
    account = str(ROOT / "examples/account.yaml")
    code = main(
        ["once", "-f", account, "-f", POLICY, "--until-clean", "--state-dir", str(tmp_path)]
    )
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == EXIT_NOT_CLEAN and "AUT-USD" in last and "BONK-USD" in last


def test_make_cluster_prints_a_path_with_the_venv_and_the_next_commands(tmp_path: Path) -> None:
    lines = next_steps(tmp_path / "tools" / "bin", tmp_path / "kubeconfig", Path(sys.prefix))
    (path,) = [line for line in lines if line.startswith("export PATH=")]
    first = Path(path.removeprefix("export PATH=").split(":")[0])
    assert (first / "kubectl-cleanslate").exists() and (first / "cleanslate").exists()
    assert f"export KUBECONFIG={tmp_path / 'kubeconfig'}" in lines
    assert any(line.startswith("cleanslate operator") for line in lines)
    assert any("examples/first-account.yaml" in line for line in lines)
