"""Structured JSON logs (structlog): one line per GraphQL request, and slow operations.

Each line is a JSON object: `timestamp`, `level`, `event`, and for requests
`request_id`, `trace_id`, `viewer_kind`, `operation`, `operation_type`, `outcome`,
`duration_ms`, `cost`, `round_trips`, `error_codes`. What is never logged: variables,
the query text (the slow-operation line has its SHA-256 `document_hash` instead),
headers (Authorization, X-API-Key, cookies), and viewer identities (ids, emails): the
request fields are built from an allow-list (`REQUEST_FIELDS`), and `redact` drops any
other key that names a secret and masks anything shaped like an email or a bearer token
that reaches a log line through another logger's message.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog

REQUEST_FIELDS = frozenset(
    {"request_id", "trace_id", "viewer_kind", "operation", "operation_type", "outcome",
     "duration_ms", "cost", "round_trips", "error_codes", "document_hash", "status"}
)  # fmt: skip
_SECRET_KEYS = re.compile(r"authorization|api[_-]?key|password|secret|token|cookie|variables",
                          re.IGNORECASE)  # fmt: skip
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_BEARER = re.compile(r"(?i)(bearer|apikey)\s+[\w.~+/=-]+")
_KEEP = frozenset({"timestamp", "level", "event", "logger"}) | REQUEST_FIELDS


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no secrets or personal data leave in a log line."""
    for key in list(event):
        if key not in _KEEP and _SECRET_KEYS.search(key):
            event[key] = "[redacted]"
    for key, value in event.items():
        # The request fields are built from safe values (GraphQL names, codes, numbers).
        if isinstance(value, str) and key not in REQUEST_FIELDS and ("@" in value or " " in value):
            event[key] = _BEARER.sub(r"\1 [redacted]", _EMAIL.sub("[email]", value))
    return event


def _render(_: Any, __: str, event: MutableMapping[str, Any]) -> str:
    return orjson.dumps(event, default=str).decode()


def configure(level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON lines on `stream` (stdout). Called by `create_app`; tests pass a buffer."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            _render,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=False,
    )


def logger() -> Any:
    return structlog.get_logger("hiregraph")
