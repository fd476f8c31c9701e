"""Database fixtures for the booking and API tests: every test runs on SQLite and PostgreSQL.

Built on the shared fixtures of tests/conftest.py (``pg_url``: the session's scratch
PostgreSQL database, skipped or failed as CHUNLEI_REQUIRE_POSTGRES says; ``make_app``). The
PostgreSQL schema is kept between tests and emptied after each one, which keeps the many
small API tests fast (``create_all`` only adds what another module's fixture dropped); SQLite is
a fresh in-memory database per test.
"""

from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from config import TestingConfig
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


@pytest.fixture
def own_database(pg_server):
    """Apps on PostgreSQL databases of their own, with every table; dropped after the test.

    These tests open many connections or hold locks across threads, so they do not share the
    session's database.
    """
    made = []

    def make(**engine_options):
        class Config(TestingConfig):
            SQLALCHEMY_DATABASE_URI = pg_server.create()
            SQLALCHEMY_ENGINE_OPTIONS = engine_options or TestingConfig.SQLALCHEMY_ENGINE_OPTIONS

        app = create_app(Config)
        with app.app_context():
            db.create_all()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
