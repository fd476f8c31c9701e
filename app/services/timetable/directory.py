"""Finding bases in a long list: by a word of the name, code or city, by region and province.

The admin's "all bases" page has a hundred bases (a thousand in the programme); an operator's
has a few. Both list only the bases the person operates (``ids``; ``None`` for every base).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Hub

#: The longest search text looked up.
MAX_QUERY = 60


@dataclass(frozen=True)
class BaseQuery:
    """What the list is narrowed to; empty fields narrow nothing."""

    text: str = ""
    region: str = ""
    province: str = ""

    @property
    def active(self) -> bool:
        return bool(self.text or self.region or self.province)


def _scoped(ids: Collection[int] | None):
    stmt = select(Hub)
    if ids is not None:
        stmt = stmt.where(Hub.id.in_(ids or [-1]))
    return stmt


def find_bases(
    ids: Collection[int] | None, query: BaseQuery, *, offset: int = 0, limit: int = 25
) -> list[Hub]:
    """The bases matching ``query`` (by code), ``limit`` from ``offset``."""
    stmt = _scoped(ids)
    text = query.text.strip()[:MAX_QUERY]
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                func.lower(Hub.name).like(pattern.lower(), escape="\\"),
                func.upper(Hub.code).like(pattern.upper(), escape="\\"),
                func.lower(Hub.city).like(pattern.lower(), escape="\\"),
            )
        )
    if query.region:
        stmt = stmt.where(Hub.region == query.region)
    if query.province:
        stmt = stmt.where(Hub.province == query.province)
    return list(db.session.scalars(stmt.order_by(Hub.code).offset(offset).limit(limit)))


def provinces(ids: Collection[int] | None) -> list[str]:
    """The provinces of the person's bases, sorted."""
    stmt = select(Hub.province).distinct().order_by(Hub.province)
    if ids is not None:
        stmt = stmt.where(Hub.id.in_(ids or [-1]))
    return list(db.session.scalars(stmt))
