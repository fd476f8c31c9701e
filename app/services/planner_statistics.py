"""The database's planner statistics, refreshed after a bulk load.

PostgreSQL plans each query from per-table statistics that ``ANALYZE`` gathers (autovacuum does it
in the background, when it is on). Straight after a bulk load — ``seed-demo``, ``import-week`` —
a table of 25,000 slots is still believed empty, and the planner picks nested loops that turn
a 20 ms read of a placement's neighbourhood into seconds. So the loading commands refresh the
statistics of the tables they filled before anyone reads them.
"""

from __future__ import annotations

from sqlalchemy import text

from app.extensions import AnySession


def refresh(session: AnySession) -> None:
    """``ANALYZE`` the whole database (PostgreSQL and SQLite; commits the session first)."""
    session.commit()
    if session.get_bind().dialect.name in ("postgresql", "sqlite"):
        session.execute(text("ANALYZE"))
        session.commit()
