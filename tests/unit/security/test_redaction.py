"""No credential survives the text that reaches logs, status and events, whatever its shape,
and the operator's most verbose logging prints none of what the libraries below it handle."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cleanslate.core.redaction import REDACTED, bounded, redact
from cleanslate.events import Event, Reason
from cleanslate.exchange.coinbase.auth import Credentials
from cleanslate.exchange.coinbase.errors import error_for_status
from cleanslate.operating import handlers
from cleanslate.operating.main import configure_logging

from .keys import KEY_NAME, new_private_key_pem

PEM = new_private_key_pem()
PEM_BASE64 = base64.b64encode(PEM.encode()).decode()
KEY_LINE = PEM.splitlines()[1]
JWT = Credentials(KEY_NAME, PEM).sign(
    "GET", "api.coinbase.com", "/api/v3/brokerage/accounts", datetime(2026, 1, 1, tzinfo=UTC)
)
SECRET_BODY = json.dumps(
    {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": "coinbase", "namespace": "tenant-a"},
        "data": {
            "apiKeyName": base64.b64encode(KEY_NAME.encode()).decode(),
            "apiPrivateKey": PEM_BASE64,
        },
        "type": "Opaque",
    },
    separators=(",", ":"),
).encode()


def leaks(text: str) -> list[str]:
    """Which pieces of the key, its JWT or its Secret data appear in ``text``."""
    pieces = {"pem line": KEY_LINE, "pem base64": PEM_BASE64[20:60], "jwt": JWT.split(".")[2]}
    pieces["key name base64"] = base64.b64encode(KEY_NAME.encode()).decode()
    return [name for name, piece in pieces.items() if piece in text]


@pytest.mark.parametrize(
    "text",
    [
        PEM,
        PEM.replace("\n", "\\n"),
        PEM[:120],
        PEM_BASE64,
        f"response body: {SECRET_BODY!r}",
        f"{{'api_version': 'v1', 'data': {{'apiPrivateKey': '{PEM_BASE64}'}}, 'kind': 'Secret'}}",
        f"headers: {{'Authorization': 'Bearer {JWT}'}}",
        f"Authorization: Bearer {JWT}",
        f"token {JWT} echoed",
        f'{{"apiPrivateKey": "{PEM.replace(chr(10), "")}"}}',
    ],
    ids=[
        "pem",
        "pem-escaped",
        "pem-cut",
        "pem-base64",
        "k8s-debug-body",
        "secret-repr",
        "auth-header-dict",
        "auth-header",
        "jwt",
        "private-key-field",
    ],
)
def test_every_credential_shape_is_redacted(text: str) -> None:
    out = redact(text)

    assert leaks(out) == [], out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "HTTP 401 error=UNAUTHENTICATED | message=invalid signature for SEI-USD",
        "basic information about the Bearer tokens accepted",
        "no client key file",
    ],
)
def test_redaction_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_bounded_text_is_one_printable_short_line() -> None:
    hostile = "x\r\nFAKE LOG LINE\x1b[31m" + "y" * 500 + JWT

    out = bounded(hostile, 200)

    assert len(out) <= 200 and "\n" not in out and "\r" not in out and "\x1b" not in out
    assert JWT not in out


def test_an_exchange_error_page_reaches_status_bounded_and_redacted() -> None:
    body = f"<html>\n<pre>Authorization: Bearer {JWT}\n{'filler ' * 400}</pre></html>"
    response = httpx.Response(401, text=body)

    error = error_for_status(response)

    assert leaks(str(error)) == [] and leaks(error.detail.summary()) == []
    assert "\n" not in str(error) and len(str(error)) <= 600


@pytest.fixture
def root_logging() -> Iterator[io.StringIO]:
    """The operator's logging as configured by ``configure_logging``, captured, then the root
    logger and the loggers it touched restored."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    touched = ["cleanslate", "kubernetes_asyncio", "httpx", "httpcore", "hpack", "asyncio"]
    levels = {name: logging.getLogger(name).level for name in touched}
    root.handlers[:] = []  # pytest's capture handlers stay untouched (and unfiltered)
    stream = io.StringIO()
    try:
        yield stream
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logging.getLogger("asyncio").propagate = True
        logging.getLogger("asyncio").handlers[:] = []


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_verbose_operator_logging_never_prints_a_secret(
    root_logging: io.StringIO, log_format: str
) -> None:
    configure_logging(verbose=True, log_format=log_format)
    for handler in logging.getLogger().handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(root_logging)
    rest = logging.getLogger("kubernetes_asyncio.client.rest")

    rest.debug("response body: %s", SECRET_BODY)
    logging.getLogger("cleanslate.operator").debug("signed %s with %s", JWT, PEM)
    try:
        raise RuntimeError(f"request failed: Authorization: Bearer {JWT}")
    except RuntimeError:
        logging.getLogger("cleanslate.operator").exception("cycle failed for %s", PEM_BASE64)

    out = root_logging.getvalue()
    assert "cycle failed" in out and "RuntimeError" in out  # still says what happened
    assert leaks(out) == [], out


def test_an_event_posted_on_the_account_carries_no_credential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    posted: list[dict[str, Any]] = []
    monkeypatch.setattr(handlers.kopf, "event", lambda body, **kw: posted.append(kw))
    sink = handlers.KopfEvents({"metadata": {"name": "a"}}, "ns/a")  # type: ignore[arg-type]

    sink.emit(Event.warning(Reason.EXCHANGE_UNAVAILABLE, f"echoed Authorization: Bearer {JWT}"))

    [event] = posted
    assert leaks(event["message"]) == [] and "Authorization" in event["message"]


# ccxt: the Secret's apiKey/secret/password, and what ccxt puts on the wire with them.
CCXT_KEY, CCXT_SECRET = (
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
)
SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


@pytest.mark.parametrize(
    "text",
    [
        f"POST https://api.binance.com/api/v3/order, Request: {{'X-MBX-APIKEY': '{CCXT_KEY}'}} "
        f"symbol=BTCUSDT&timestamp=1&signature={SIGNATURE}",
        f"https://api.binance.com/api/v3/account?timestamp=1&signature={SIGNATURE}",
        f"{{'API-Key': '{CCXT_KEY}', 'API-Sign': '{SIGNATURE}'}}",
        f"{{'apiKey': '{CCXT_KEY}', 'secret': '{CCXT_SECRET}', 'password': 'hunter2hunter2'}}",
        f"OK-ACCESS-KEY: {CCXT_KEY} OK-ACCESS-PASSPHRASE: hunter2hunter2 "
        f"OK-ACCESS-SIGN: {SIGNATURE}",
    ],
    ids=["binance-debug-line", "binance-query", "kraken-headers", "ccxt-config", "okx-headers"],
)
def test_ccxt_credentials_and_signatures_are_redacted(text: str) -> None:
    out = redact(text)
    assert CCXT_KEY not in out and CCXT_SECRET not in out and SIGNATURE not in out, out
    assert "hunter2" not in out and REDACTED in out


def test_ccxt_request_lines_never_reach_the_verbose_log(root_logging: io.StringIO) -> None:
    """ccxt logs each request's headers at DEBUG (async_support/base/exchange.py ``fetch``);
    the operator's --verbose does not bring that logger below INFO, and whatever it does
    log at INFO or above is redacted."""
    configure_logging(verbose=True, log_format="plain")
    for handler in logging.getLogger().handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(root_logging)
    ccxt_logger = logging.getLogger("ccxt.base.exchange")
    headers = {"X-MBX-APIKEY": CCXT_KEY}
    ccxt_logger.debug("%s %s, Request: %s %s", "POST", "https://api.binance.com", headers, "")
    ccxt_logger.warning("retrying %s with %s", f"signature={SIGNATURE}", headers)
    out = root_logging.getvalue()
    assert "Request:" not in out and "retrying" in out
    assert CCXT_KEY not in out and SIGNATURE not in out, out
