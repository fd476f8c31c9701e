"""The one guard on what arrives with a request, before any view runs.

Every page, the API and both logins share it: a NUL byte anywhere (path, query, form, JSON
strings) is a 400 (PostgreSQL refuses NUL in text, and no product value contains one); a date
or instant outside 2000..2100 is a 400 (the calendar arithmetic of a week would overflow); an
id in the path beyond a 32-bit integer is a 404; JSON nested too deeply is a 400. The answer is
JSON under /api/ and the 400 page elsewhere, both saying what was wrong.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import gettext as _

from app.services.timetable.weeks import EARLIEST_DAY, LATEST_DAY

#: Largest id a path may carry (ids are 32-bit integers in every table).
MAX_ID = 2**31 - 1
#: How deep a JSON body may nest (the API's deepest body has three levels).
MAX_JSON_DEPTH = 32
_ISO_DAY = re.compile(
    r"^(\d{4})-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def _refuse_nul() -> None:
    abort(400, _("Text may not contain a NUL character (%00)."))


def _check_text(value: str) -> None:
    if "\x00" in value:
        _refuse_nul()
    match = _ISO_DAY.match(value)
    if match and not EARLIEST_DAY.year <= int(match.group(1)) <= LATEST_DAY.year:
        abort(
            400,
            _(
                "Dates must lie between %(first)s and %(last)s.",
                first=EARLIEST_DAY.isoformat(),
                last=LATEST_DAY.isoformat(),
            ),
        )


def _walk_json(body) -> None:
    """Check every key and string of a JSON body, without recursion."""
    stack = [(body, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            abort(400, _("The JSON body is nested too deeply."))
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                _check_text(key)
                stack.append((value, depth + 1))
        elif isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)


def check_request() -> None:
    """Refuse a request whose input no view could handle (``before_request``)."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, int) and not 0 <= value <= MAX_ID:
            abort(404)
    for multi in (request.args, request.form):
        for key, value in multi.items(multi=True):
            _check_text(key)
            _check_text(value)
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            abort(400, _("The JSON body is nested too deeply."))
        _walk_json(body)


def init_inputs(app: Flask) -> None:
    """Install the guard on every request of ``app``."""
    app.before_request(check_request)
