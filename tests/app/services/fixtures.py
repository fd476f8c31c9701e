"""Database fixtures for the booking and API tests: every test runs on SQLite and PostgreSQL.

Built on the shared fixtures of tests/conftest.py (``pg_url``: the session's scratch
PostgreSQL database, skipped or failed as CHUNLEI_REQUIRE_POSTGRES says; ``make_app``). The
PostgreSQL schema is kept between tests and emptied after each one, which keeps the many
small API tests fast (``create_all`` only adds what another module's fixture dropped); SQLite is
a fresh in-memory database per test.
"""

from __future__ import annotations

import pytest

from app.extensions import db
from tests.app.services.world import build_world
from tests.conftest import make_app


def _empty_postgres() -> None:
    """Empty every table and restart the ids (codes like K000001 follow the ids).

    DELETE on a handful of rows is far quicker than TRUNCATE, which rewrites every table.
    """
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
            if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"
                )


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    """The app on an empty schema, inside an app context, on each database in turn."""
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    application = make_app(url)
    with application.app_context():
        db.create_all()
        try:
            yield application
        finally:
            db.session.rollback()
            db.session.remove()
            if url.startswith("sqlite"):
                db.drop_all()
            else:
                _empty_postgres()
            db.engine.dispose()


@pytest.fixture
def world(app):
    """The tiny two-base world (see tests.app.services.world)."""
    return build_world()
