"""Fixtures for the service tests (database on SQLite and PostgreSQL, the tiny world)."""

from tests.app.services.fixtures import app, world  # noqa: F401  (fixtures)
