"""Database fixtures for the booking tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL gets one scratch database per test session (created on the server named by
TEST_DATABASE_URL, dropped at the end); it is skipped when the server is unreachable, unless
CHUNLEI_REQUIRE_POSTGRES is set (as in CI), where that is a failure.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from app import create_app
from app.extensions import db
from config import TestingConfig, database_url
from tests.app.services.world import build_world

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _admin_conninfo(url: str) -> tuple[str, str]:
    """(libpq URL of the server's maintenance database, base URL without the database)."""
    base, _, _ = url.rpartition("/")
    return f"{base}/postgres", base


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test session, as a SQLAlchemy URL."""
    raw = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if not raw.startswith("postgres"):
        pytest.skip("TEST_DATABASE_URL is not PostgreSQL")
    admin, base = _admin_conninfo(raw.replace("+psycopg", ""))
    name = f"chunlei_api_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if os.environ.get("CHUNLEI_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    yield database_url(f"{base}/{name}")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_PG_SCHEMAS: set[str] = set()


def _empty_postgres() -> None:
    """Empty every table and restart the ids (codes like K000001 follow the ids)."""
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    """The app on an empty schema, inside an app context, on each database in turn.

    SQLite is a fresh in-memory database per test; PostgreSQL keeps its schema for the
    session and is emptied after each test.
    """
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("pg_url")

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    application = create_app(Config)
    with application.app_context():
        if url.startswith("sqlite") or url not in _PG_SCHEMAS:
            db.create_all()
            _PG_SCHEMAS.add(url)
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
