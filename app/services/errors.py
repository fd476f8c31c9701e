"""The one family of refusals a use case raises: :class:`ServiceError`.

A refusal carries the HTTP status an entry point answers, a stable ``code`` a client (and the
translation table in ``app.main.messages``) keys on, one English sentence for logs and the API,
and ``detail`` for a client to act on. The entry points handle the family once: the API answers
a JSON 4xx body (``app.api.errors``), the pages roll back, flash the translated message and go
back (``app.main.errors``), the CLI prints one line and exits non-zero.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A use case refused; nothing it began is kept once the caller rolls back."""

    status = 422
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.detail = detail or {}
