"""Reading TradingAccount and PurgePolicy manifests from files, with errors a person can act on.

Every problem becomes one line that names the file and the field, e.g.
``account.yaml: spec.exchange.paper.holdings.SEI: Input should be greater than or equal to 0``.
The files are tenant input: the YAML is read with bounds (size, nesting, no aliases, no
duplicate keys, so ``mode: DryRun`` then ``mode: Live`` cannot trade Live), ``apiVersion`` is
checked, names cannot point outside the state directory, and the policy must be the one the
account's ``policyRef`` names: never a silent fall-back to the default policy.

One reading of every file: the CLI reads a manifest as ``kubectl apply`` and the API server
would, or refuses it. Only regular files are read, and at most ``MAX_FILE_BYTES`` of them (a
named pipe or ``/dev/zero`` is refused, never waited on or read forever). YAML merge keys
(``<<``) are refused: PyYAML lets the last merged mapping win and kubectl's YAML library the
first, so one file would be two accounts. Timestamps stay strings, as kubectl passes them
on, and the document is checked against the CRD's schema with the API server's rules
(``api/structural.py``: a string is not a number, an integer is not a date-time) before
pydantic reads it.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from cleanslate.api import API_VERSION
from cleanslate.api.account import TradingAccount
from cleanslate.api.policy import PurgePolicy
from cleanslate.api.structural import SchemaError, check_document
from cleanslate.exchange.paper.markets import MARKETS
from cleanslate.exchange.venues import venue_of
from cleanslate.files import FileRefused, read_regular

MAX_FILE_BYTES = 1024 * 1024
"""A manifest is a few kilobytes; a larger file is refused before it is parsed."""
MAX_DEPTH = 32
"""Deeper than any field of the two kinds; bounds the parser's recursion."""
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


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


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (no alias bombs), nesting deeper than ``MAX_DEPTH`` and
    duplicate keys (the last one would silently win)."""

    depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            raise ConstructorError(None, None, "YAML aliases are not accepted", mark)
        if self.depth >= MAX_DEPTH:
            raise ConstructorError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
_GO_YAML_INT = re.compile(
    r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"
)
"""PyYAML's YAML 1.1 integers without the base-60 form (``1:30``), which kubectl's YAML
library reads as a string."""
_GO_YAML_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*\.(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
"""Floats as kubectl's YAML library reads them: ``1e3`` and JSON's ``1e+20`` are numbers
(PyYAML's YAML 1.1 rule wants a dot and a signed exponent, and reads them as strings), and
no base-60 form."""


def _resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    """SafeLoader's implicit resolvers, read as kubectl reads plain scalars: timestamps stay
    strings (the schema's date-time format then decides, as the API server does:
    ``2030-01-01`` is not a date-time), and numbers as in ``_GO_YAML_INT``/``_FLOAT``."""
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(t, rx) for t, rx in resolvers if t not in (TIMESTAMP_TAG, INT_TAG, FLOAT_TAG)]
        if first is not None and (first in "-+0123456789."):
            kept += [(INT_TAG, _GO_YAML_INT), (FLOAT_TAG, _GO_YAML_FLOAT)]
        table[first] = kept
    return table


_BoundedLoader.yaml_implicit_resolvers = _resolvers()


def _unique_mapping(loader: _BoundedLoader, node: MappingNode) -> dict[Any, Any]:
    seen: set[str] = set()
    for key, _ in node.value:
        if key.tag == MERGE_TAG:
            raise ConstructorError(
                None,
                None,
                "YAML merge keys (<<) are not accepted: kubectl and this CLI would merge "
                "them differently; write the fields out",
                key.start_mark,
            )
        if isinstance(key, ScalarNode):
            if key.value in seen:
                raise ConstructorError(None, None, f"duplicate key {key.value!r}", key.start_mark)
            seen.add(key.value)
    return loader.construct_mapping(node, deep=True)


_BoundedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _read(path: Path) -> str:
    try:
        return read_regular(path, MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such file") from None
    except FileRefused as exc:
        raise ManifestError(f"{path}: {exc}: not a manifest") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror}") from None


def _documents(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    text = _read(path)
    try:
        documents = [d for d in yaml.load_all(text, Loader=_BoundedLoader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ManifestError(f"{path}: invalid YAML{where}: {problem}") from None
    if not documents:
        raise ManifestError(f"{path}: no documents: the file is empty")
    for document in documents:
        if not isinstance(document, dict):
            raise ManifestError(f"{path}: expected a mapping with apiVersion, kind and spec")
        expected = "v1" if document.get("kind") == "Secret" else API_VERSION
        if document.get("apiVersion") != expected:
            got = document.get("apiVersion")
            raise ManifestError(f"{path}: apiVersion: expected {expected}, got {got!r}")
    return [(path, d) for d in documents]


def _validated(path: Path, model: type[Any], document: dict[str, Any]) -> Any:
    try:
        document = check_document(document)
    except SchemaError as exc:
        raise ManifestError(f"{path}: {exc}") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(document)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ManifestError(f"{path}: {field}: {first['msg']}{more}") from None


def read_object(path: Path) -> TradingAccount | PurgePolicy:
    """The one TradingAccount or PurgePolicy in ``path``, read as ``load`` reads it (for the
    differential test against the API server), or ManifestError naming the field."""
    ((_, document),) = _documents(path)
    model = TradingAccount if document.get("kind") == "TradingAccount" else PurgePolicy
    if document.get("kind") not in ("TradingAccount", "PurgePolicy"):
        raise ManifestError(f"{path}: kind: expected TradingAccount or PurgePolicy")
    found: TradingAccount | PurgePolicy = _validated(path, model, document)
    _check_metadata(path, found.metadata)
    return found


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
    _check_metadata(account_file, account.metadata)
    _check_paper(account_file, account)
    if not policies:
        raise ManifestError(
            f"{account_file}: spec.policyRef: PurgePolicy {account.spec.policy_ref.name!r} is "
            "not in the files given (add -f policy.yaml)"
        )
    policy_file, policy = policies[0]
    _check_metadata(policy_file, policy.metadata)
    _check_reference(account, policy_file, policy)
    return Manifests(account, account_file, policy, policy_file, secrets)


def _check_metadata(path: Path, metadata: dict[str, object]) -> None:
    """Names become the state directory's name: Kubernetes names only, so ``../..`` or an
    absolute path can never point outside ``--state-dir``."""
    for key, pattern in (("name", DNS_SUBDOMAIN), ("namespace", DNS_LABEL)):
        value = metadata.get(key)
        if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
            raise ManifestError(
                f"{path}: metadata.{key}: {value!r} is not a Kubernetes name "
                "(lowercase letters, digits and '-')"
            )


def _check_reference(account: TradingAccount, path: Path, policy: PurgePolicy) -> None:
    wanted = account.spec.policy_ref.name
    if policy.metadata.get("name") != wanted:
        raise ManifestError(
            f"{path}: metadata.name: {policy.metadata.get('name')!r} is not the account's "
            f"policyRef {wanted!r}"
        )
    namespaces = (account.metadata.get("namespace"), policy.metadata.get("namespace"))
    account_ns, policy_ns = (n or "default" for n in namespaces)
    if account_ns != policy_ns:
        raise ManifestError(
            f"{path}: metadata.namespace: {policy_ns!r} is not the account's namespace "
            f"{account_ns!r}"
        )


def _check_paper(path: Path, account: TradingAccount) -> None:
    """The paper market and the seeded open orders must exist in the built-in data."""
    paper = account.spec.exchange.paper
    if not venue_of(account.spec.exchange.name).simulated or paper is None:
        return
    market = MARKETS.get(paper.market)
    if market is None:
        known = ", ".join(sorted(MARKETS))
        raise ManifestError(
            f"{path}: spec.exchange.paper.market: unknown market {paper.market!r} "
            f"(built-in: {known})"
        )
    for index, order in enumerate(paper.open_orders):
        if order.product_id not in market.products:
            raise ManifestError(
                f"{path}: spec.exchange.paper.openOrders.{index}.productId: "
                f"{order.product_id} is not a product of the {paper.market!r} market"
            )


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
