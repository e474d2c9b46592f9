"""The core is pure: no framework, network, event loop, clock or randomness in any module."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

import cleanslate.core

FORBIDDEN = frozenset(
    {
        "kopf",
        "httpx",
        "asyncio",
        "time",
        "random",
        "prometheus_client",
        "kubernetes_asyncio",
        "kubernetes",
        "socket",
        "subprocess",
        "threading",
        "requests",
        "urllib",
        "http",
        "secrets",
        "os",
        "shutil",
        "pathlib",
        "logging",
    }
)
"""Top-level modules the core may not import (I/O, clocks, randomness, frameworks)."""

CLOCK_READS = frozenset({"now", "utcnow", "today"})

CORE_DIR = Path(cleanslate.core.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(CORE_DIR)]))


def imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def clock_reads_and_io(tree: ast.AST) -> list[str]:
    """Calls like ``datetime.now()`` or ``open(...)``: time must be passed in, never read."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in CLOCK_READS:
            found.append(f"{ast.unparse(func)}()")
        if isinstance(func, ast.Name) and func.id in {"open", "input", "print", "__import__"}:
            found.append(f"{func.id}()")
    return found


def source_tree(module: str) -> ast.AST:
    return ast.parse((CORE_DIR / f"{module}.py").read_text(encoding="utf-8"))


def test_the_core_package_has_the_modules_this_suite_checks() -> None:
    expected = {"holdings", "eligibility", "classification", "backoff", "freezing", "balances"}
    assert expected | {"planning", "exits", "verification"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_core_module_imports_nothing_impure(module: str) -> None:
    forbidden = imported_roots(source_tree(module)) & FORBIDDEN
    assert not forbidden, f"cleanslate.core.{module} imports {sorted(forbidden)}"


@pytest.mark.parametrize("module", MODULES)
def test_core_module_never_reads_the_clock_or_does_io(module: str) -> None:
    assert clock_reads_and_io(source_tree(module)) == []


@pytest.mark.parametrize("name", ["kopf", "httpx", "asyncio", "time", "random"])
def test_the_checker_catches_each_named_import(name: str) -> None:
    for source in (f"import {name}", f"from {name} import x", f"import {name}.sub as y"):
        assert name in imported_roots(ast.parse(source)) & FORBIDDEN


def test_the_checker_catches_a_clock_read() -> None:
    tree = ast.parse("from datetime import datetime\nx = datetime.now()\n")
    assert clock_reads_and_io(tree) == ["datetime.now()"]


def test_the_checker_ignores_relative_imports_and_datetime() -> None:
    tree = ast.parse("from datetime import datetime, timedelta\nfrom . import market\n")
    assert imported_roots(tree) & FORBIDDEN == set()
