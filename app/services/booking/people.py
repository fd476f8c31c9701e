"""Finding the participant an operator books for: by code, or by a part of the name.

A walk-in says "永仁县果业合作社" or "P00042"; both find them. An exact code wins, then names
starting with the words, then names containing them, a handful at most, so the operator picks
one from a short list instead of having to know the code.
"""

from __future__ import annotations

import re

from sqlalchemy import case, func, or_, select

from app.extensions import db
from app.models import Participant

#: How many matches a search offers.
MAX_MATCHES = 10
#: The longest query looked up (a name is at most 120 characters).
MAX_QUERY = 120
#: "P00042" or "P00042 · name" (the suggestion list's values) start with the code.
_CODE = re.compile(r"^\s*(P\d{3,})\b", re.IGNORECASE)


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_participants(query: str, *, limit: int = MAX_MATCHES) -> list[Participant]:
    """Participants whose code or name matches ``query``, best first (exact code, then code
    prefix, then names starting with it, then names containing it)."""
    text = (query or "").strip()[:MAX_QUERY]
    if not text:
        return []
    code = _CODE.match(text)
    if code:
        exact = db.session.scalar(
            select(Participant).where(Participant.code == code.group(1).upper())
        )
        if exact is not None:
            return [exact]
    upper = text.upper()
    name = func.lower(Participant.name)
    low = text.lower()
    rank = case(
        (Participant.code == upper, 0),
        (Participant.code.like(_like(upper)[1:], escape="\\"), 1),
        (name.like(_like(low)[1:], escape="\\"), 2),
        else_=3,
    )
    stmt = (
        select(Participant)
        .where(
            or_(
                Participant.code.like(_like(upper)[1:], escape="\\"),
                name.like(_like(low), escape="\\"),
            )
        )
        .order_by(rank, Participant.code)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
