"""Logging that cannot leak a credential, at any level.

``--verbose`` sets the root logger to DEBUG (kopf does), and libraries below us then log what
they handle: kubernetes-asyncio logs every response body, so the Secret read for an account
would put its base64 ``apiPrivateKey`` in the operator's log. Two defences, both installed by
``secure_logging``:

1. the libraries that log request or response content never log below INFO, whatever the
   root level (their DEBUG output is wire content, not operator diagnostics);
2. every record that reaches a root handler is rewritten through ``core.redaction.redact``:
   message, arguments, traceback and stack. A filter on a *handler* sees records propagated
   from every logger, which a filter on a logger would not.
"""

from __future__ import annotations

import logging
import traceback

from cleanslate.core.redaction import redact

WIRE_LOGGERS = (
    "kubernetes_asyncio",
    "urllib3",
    "httpx",
    "httpcore",
    "hpack",
    "aiohttp.client",
    "ccxt",
)
"""Libraries whose DEBUG records carry request/response content (headers, bodies)."""


class RedactingFilter(logging.Filter):
    """Rewrites a record so that what any formatter prints is already redacted.

    The traceback is folded into the message (and ``exc_info`` cleared) because some
    formatters (the JSON one) format ``exc_info`` themselves, past any cached ``exc_text``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template, never the args
            message = str(record.msg)
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            message += "\n" + record.exc_text
        if record.stack_info:
            message += "\n" + record.stack_info
        record.msg, record.args = redact(message), None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def secure_logging(root: logging.Logger | None = None) -> None:
    """Quieten the wire loggers and put the redacting filter on every handler of ``root``
    (call it after the handlers are configured; calling it twice adds nothing)."""
    for name in WIRE_LOGGERS:
        wire = logging.getLogger(name)
        if wire.level < logging.INFO:  # NOTSET would inherit the root's DEBUG
            wire.setLevel(logging.INFO)
    root = root or logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
