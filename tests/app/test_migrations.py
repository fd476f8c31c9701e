"""The migrations build the schema from empty, agree with the models, and downgrade cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.extensions import db
from tests.conftest import make_app


def _roundtrip(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        try:
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(
                    conn, opts={"compare_type": True, "render_as_batch": True}
                )
                pending = compare_metadata(context, db.metadata)
            assert pending == [], f"models and migrations disagree: {pending}"
            tables = set(inspect(db.engine).get_table_names())
            assert {"hubs", "slots", "bookings", "slot_holds", "audit_events"} <= tables
            downgrade(revision="base")
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_migrations_on_sqlite(tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'migrate.sqlite'}")


@pytest.mark.postgres
def test_migrations_on_postgresql(pg_server):
    _roundtrip(pg_server.create("chunlei_m"))
