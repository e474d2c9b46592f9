"""Reading TradingAccount and PurgePolicy manifests from files, with errors a person can act on.

Every problem becomes one line that names the file and the field, e.g.
``account.yaml: spec.exchange.paper.holdings.SEI: Input should be greater than or equal to 0``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cleanslate.api.account import TradingAccount
from cleanslate.api.policy import PurgePolicy


class ManifestError(Exception):
    """A one-line, user-facing error about an input file."""


@dataclass
class Manifests:
    account: TradingAccount
    account_file: Path
    policy: PurgePolicy | None
    policy_file: Path | None
    secrets: dict[str, dict[str, bytes | str]] = field(default_factory=dict)
    """Secrets given as files (``cleanslate check``), by name: decoded values."""


def _documents(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such file") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ManifestError(f"{path}: invalid YAML{where}: {problem}") from None
    for document in documents:
        if not isinstance(document, dict):
            raise ManifestError(f"{path}: expected a mapping with apiVersion, kind and spec")
    return [(path, d) for d in documents]


def _validated(path: Path, model: type[Any], document: dict[str, Any]) -> Any:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(document)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ManifestError(f"{path}: {field}: {first['msg']}{more}") from None


def load(paths: list[Path]) -> Manifests:
    """The one TradingAccount and at most one PurgePolicy the files hold."""
    accounts, policies = [], []
    secrets: dict[str, dict[str, bytes | str]] = {}
    for path, document in (d for p in paths for d in _documents(p)):
        kind = document.get("kind")
        if kind == "Secret":
            name, values = _secret(path, document)
            secrets[name] = values
        elif kind == "TradingAccount":
            accounts.append((path, _validated(path, TradingAccount, document)))
        elif kind == "PurgePolicy":
            policies.append((path, _validated(path, PurgePolicy, document)))
        else:
            raise ManifestError(
                f"{path}: kind: expected TradingAccount, PurgePolicy or Secret, got {kind!r}"
            )
    if len(accounts) != 1:
        raise ManifestError(
            f"expected exactly one TradingAccount in {', '.join(map(str, paths))}, "
            f"found {len(accounts)}"
        )
    if len(policies) > 1:
        raise ManifestError(f"expected at most one PurgePolicy, found {len(policies)}")
    account_file, account = accounts[0]
    policy_file, policy = policies[0] if policies else (None, None)
    return Manifests(account, account_file, policy, policy_file, secrets)


def _secret(path: Path, document: dict[str, Any]) -> tuple[str, dict[str, bytes | str]]:
    """A Secret manifest's name and values (``data`` base64-decoded, ``stringData`` as is).
    Errors name the file and the key, never a value."""
    name = str((document.get("metadata") or {}).get("name") or "")
    if not name:
        raise ManifestError(f"{path}: metadata.name: a Secret needs a name")
    values: dict[str, bytes | str] = {}
    for key, value in (document.get("data") or {}).items():
        try:
            values[str(key)] = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            raise ManifestError(f"{path}: data.{key}: not valid base64") from None
    values.update({str(k): str(v) for k, v in (document.get("stringData") or {}).items()})
    return name, values
