"""Finding the participant an operator books for: by code, a part of the name, or the phone.

A walk-in says "永仁县果业合作社", "P00042" or "138 0013 8000"; each finds them. An exact code
wins, then names starting with the words, then names containing them, then phone numbers
containing the digits typed (spaces, dashes and a leading +86 ignored), a handful at most, so the
operator picks one from a short list instead of having to know the code.
"""

from __future__ import annotations

import re

from sqlalchemy import case, func, or_, select

from app.extensions import db
from app.models import Participant, ParticipantProfile

#: How many matches a search offers.
MAX_MATCHES = 10
#: The longest query looked up (a name is at most 120 characters).
MAX_QUERY = 120
#: "P00042" or "P00042 · name" (the suggestion list's values) start with the code.
_CODE = re.compile(r"^\s*(P\d{3,})\b", re.IGNORECASE)
#: Typed phone numbers: digits with spaces, dashes, brackets, a leading + (at least 4 digits).
_PHONE = re.compile(r"^\+?[\d\s\-()]{4,}$")


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
    matches = [
        Participant.code.like(_like(upper)[1:], escape="\\"),
        name.like(_like(low), escape="\\"),
    ]
    if _PHONE.match(text):
        digits = re.sub(r"\D", "", text)
        if digits.startswith("86") and len(digits) > 11:
            digits = digits[2:]
        phone = func.replace(func.replace(ParticipantProfile.phone, " ", ""), "-", "")
        matches.append(
            Participant.id.in_(
                select(ParticipantProfile.participant_id).where(phone.like(f"%{digits}%"))
            )
        )
    stmt = select(Participant).where(or_(*matches)).order_by(rank, Participant.code).limit(limit)
    return list(db.session.scalars(stmt))
