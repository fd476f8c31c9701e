"""Paged lists: every list endpoint takes ``limit`` and ``offset`` and says where the next
page is in a ``Link: <url>; rel="next"`` header (RFC 8288), absent on the last page.

A view fetches ``limit + 1`` rows: the extra row only tells that there is a next page, so no
list ever needs a second (count) query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from flask import request, url_for

#: No list pages past this offset (keeps every offset a plain 32-bit integer in SQL).
MAX_OFFSET = 1_000_000

LINK_HEADER = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }
}


T = TypeVar("T")


def page_of(rows: Sequence[T], q: dict) -> tuple[Sequence[T], dict]:
    """The page (``rows`` fetched with ``limit + 1``) and its headers."""
    limit, offset = q["limit"], q["offset"]
    if len(rows) <= limit:
        return rows, {}
    args = request.args.to_dict(flat=False)
    args["offset"] = [str(offset + limit)]
    args["limit"] = [str(limit)]
    values: dict[str, Any] = {**(request.view_args or {}), **args}
    url = url_for(request.endpoint or "", _external=True, **values)
    return rows[:limit], {"Link": f'<{url}>; rel="next"'}
