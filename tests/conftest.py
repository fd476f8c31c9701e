"""Shared fixtures: the app on SQLite, on a scratch PostgreSQL database, or on each in turn.

PostgreSQL: the server named by TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/
test) gets fresh, uniquely named databases (``chunlei_t_<random>``) that are dropped at the end,
so several test runs on one server never collide. When the server is unreachable those tests
are skipped with the reason, unless CHUNLEI_REQUIRE_POSTGRES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from config import TestingConfig, database_url

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _require_postgres() -> bool:
    return os.environ.get("CHUNLEI_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no")


class PostgresServer:
    """Creates and drops scratch databases on the test server."""

    def __init__(self, url: str) -> None:
        base, _, _ = url.replace("postgresql+psycopg://", "postgresql://").rpartition("/")
        self.base = base
        self.admin = f"{base}/postgres"
        self.created: list[str] = []

    def create(self, prefix: str = "chunlei_t") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return database_url(f"{self.base}/{name}")

    def drop_all(self) -> None:
        with psycopg.connect(self.admin, autocommit=True, connect_timeout=3) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The PostgreSQL test server, or a skip (a failure when PostgreSQL is required)."""
    raw = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if not raw.startswith(("postgresql", "postgres:")):
        if _require_postgres():
            pytest.fail(f"CHUNLEI_REQUIRE_POSTGRES is set but TEST_DATABASE_URL={raw!r}")
        pytest.skip("TEST_DATABASE_URL is not a PostgreSQL URL")
    server = PostgresServer(raw)
    try:
        with psycopg.connect(server.admin, autocommit=True, connect_timeout=3):
            pass
    except psycopg.OperationalError as e:
        message = f"PostgreSQL unreachable at {server.base}: {str(e).strip().splitlines()[0]}"
        if _require_postgres():
            pytest.fail(message + " (CHUNLEI_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_url(pg_server: PostgresServer) -> str:
    """One scratch PostgreSQL database for the whole session (tables made per test)."""
    return pg_server.create()


def make_app(url: str) -> Flask:
    """The real app (create_app) with the testing config on ``url``."""

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    return create_app(Config)


def _app_with_schema(url: str) -> Iterator[Flask]:
    app = make_app(url)
    with app.app_context():
        db.create_all()
        try:
            yield app
        finally:
            db.session.rollback()
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app() -> Iterator[Flask]:
    """The app on an in-memory SQLite database with every table, inside an app context."""
    yield from _app_with_schema("sqlite://")


@pytest.fixture
def pg_app(pg_url: str) -> Iterator[Flask]:
    """The app on the session's PostgreSQL database with every table, inside an app context."""
    yield from _app_with_schema(pg_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request) -> Iterator[Flask]:
    """The app on each database in turn (tests that must hold on both)."""
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    yield from _app_with_schema(url)


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def cli(app: Flask):
    """A CLI runner for ``flask`` commands on the SQLite app."""
    return app.test_cli_runner()
