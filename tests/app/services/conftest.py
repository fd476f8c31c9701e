"""Fixtures for the service tests (database on SQLite and PostgreSQL, the tiny world)."""

from tests.app.services.fixtures import app, own_database, world  # noqa: F401  (fixtures)
