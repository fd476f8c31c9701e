"""Logs: one JSON object per line in production (``LOG_FORMAT=json``), readable text in development.

Every line carries the time (UTC, ISO 8601), level, logger, message and the context bound with
:func:`log_context`: a web request's ``request_id`` (``X-Request-ID`` if the caller sent a sane
one, else made here, and returned in the response), and in a worker the job's ``job_id``,
``job_kind`` and the ``request_id`` of the web request that enqueued it. Fields passed with
``extra={...}`` become fields of the line too.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

#: The fields bound to what runs now (a web request, a job), added to every line logged.
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "chunlei_log_context", default=_EMPTY
)
#: A request id we accept from a caller: 1..64 characters of letters, digits and ``._:-``.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: The attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_HANDLER_MARK = "_chunlei_handler"


def context() -> Mapping[str, Any]:
    """The fields bound now (empty outside a request or a job)."""
    return _CONTEXT.get()


def current_request_id() -> str | None:
    """The request id bound now: the web request's, or in a worker the enqueuing request's."""
    return _CONTEXT.get().get("request_id")


def bind(**fields: Any) -> contextvars.Token:
    """Add ``fields`` to the context (None values are left out); reset with :func:`unbind`."""
    merged = {**_CONTEXT.get(), **{k: v for k, v in fields.items() if v is not None}}
    return _CONTEXT.set(merged)


def unbind(token: contextvars.Token) -> None:
    """Restore the context as it was before the :func:`bind` that returned ``token``."""
    _CONTEXT.reset(token)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Bind ``fields`` to every line logged inside the block."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is sane, else a new random id."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out = dict(_CONTEXT.get())
    for key, value in vars(record).items():
        if key not in _RECORD_FIELDS and not key.startswith("_"):
            out[key] = value
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, the context."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None,
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger [request_id job] message key=value ...``: for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = _fields(record)
        if not fields:
            return text
        tail = " ".join(f"{k}={v}" for k, v in fields.items())
        head, _, rest = text.partition("\n")
        return f"{head} [{tail}]" + (f"\n{rest}" if rest else "")


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Send every log line to stderr in ``fmt`` (``json`` or ``text``) from ``level`` up.

    Replaces the handler a previous call installed (never anyone else's), so calling it twice
    (the app, then a command) leaves one handler.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
