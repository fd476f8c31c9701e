"""Paged lists on the pages: ``?page=N`` (1-based), a fixed page size, previous/next links.

A page fetches one row more than it shows: that row only tells that there is a next page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request
from flask_babel import gettext as _

PAGE_SIZE = 50
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number, whether another page follows."""

    items: list
    number: int
    has_next: bool

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_SIZE


def page_number() -> int:
    """The requested page (``?page=``, default 1); anything else is a 400 saying why."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, _("The page number must be a whole number from 1 to %(n)d.", n=MAX_PAGE))
    return int(raw)


def page_of(rows: list, number: int) -> Page:
    """Rows fetched with ``PAGE_SIZE + 1`` at ``(number - 1) * PAGE_SIZE`` as a page."""
    return Page(rows[:PAGE_SIZE], number, len(rows) > PAGE_SIZE)
