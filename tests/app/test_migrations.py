"""The migrations build the schema from empty, agree with the models, and downgrade cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

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


def _applied_run(conn) -> None:
    """Run 1, applied, of planning week 1 (2026-12-07), as the schema of any revision has it."""
    conn.execute(
        text(
            "INSERT INTO planning_weeks (id, week_start, days, name, max_sessions_per_day, "
            "same_day_same_base, target_utilization) "
            "VALUES (1, '2026-12-07', 7, 'week-2026-12-07', 2, true, 0.85)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO optimization_runs (id, planning_week_id, kind, state, started_at, kpis, "
            "added, moved, dropped, kept, progress, kpis_before) VALUES (1, 1, 'manual', "
            "'applied', '2026-12-01 02:00:00+00', '{}', 0, 0, 0, 0, '{}', '{}')"
        )
    )


def _change_reason_check(url: str) -> None:
    """0012 keeps the run changes already stored and refuses a reason outside the vocabulary."""
    app = make_app(url)
    with app.app_context():
        try:
            upgrade(revision="0011")
            with db.engine.begin() as conn:
                _applied_run(conn)
                conn.execute(
                    text(
                        "INSERT INTO run_changes (run_id, change, request_code, before_slots, "
                        "after_slots, reason) VALUES (1, 'moved', 'R000001', '[]', '[]', 'closer')"
                    )
                )
            upgrade()
            with db.engine.begin() as conn:
                kept = conn.execute(text("SELECT change, reason FROM run_changes")).all()
            assert [tuple(row) for row in kept] == [("moved", "closer")]
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO run_changes (run_id, change, request_code, before_slots, "
                        "after_slots, reason) VALUES (1, 'added', 'R000002', '[]', '[]', 'luck')"
                    )
                )
            downgrade(revision="base")
        finally:
            db.session.remove()
            db.engine.dispose()


def test_change_reasons_are_checked_and_kept_on_sqlite(tmp_path):
    _change_reason_check(f"sqlite:///{tmp_path / 'reasons.sqlite'}")


@pytest.mark.postgres
def test_change_reasons_are_checked_and_kept_on_postgresql(pg_server):
    _change_reason_check(pg_server.create("chunlei_r"))


def _version_is_bumped(url: str) -> None:
    """0022's triggers bump the timetable's version on a write to a base, and only then."""
    app = make_app(url)
    with app.app_context():
        try:
            upgrade()
            with db.engine.begin() as conn:
                epoch, n = conn.execute(text("SELECT epoch, n FROM timetable_version")).one()
                conn.execute(text("UPDATE participants SET name = name"))
                assert conn.execute(text("SELECT n FROM timetable_version")).scalar() == n
                conn.execute(
                    text(
                        "INSERT INTO hubs (code, name, city, province, region, lat, lon) "
                        "VALUES ('B001', 'x', 'x', 'x', 'east', 35.1, 118.3)"
                    )
                )
                conn.execute(text("UPDATE hubs SET name = 'y'"))
                assert conn.execute(text("SELECT epoch, n FROM timetable_version")).one() == (
                    epoch,
                    n + 2,
                )
            downgrade(revision="0021")
            assert "timetable_version" not in inspect(db.engine).get_table_names()
            with db.engine.begin() as conn:  # the triggers went with it
                conn.execute(text("UPDATE hubs SET name = 'z'"))
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_timetable_version_is_bumped_on_sqlite(tmp_path):
    _version_is_bumped(f"sqlite:///{tmp_path / 'version.sqlite'}")


@pytest.mark.postgres
def test_the_timetable_version_is_bumped_on_postgresql(pg_server):
    _version_is_bumped(pg_server.create("chunlei_m"))


def _change_bases_are_filled(url: str) -> None:
    """0023 fills the bases of the run changes already stored, from their first slots."""
    app = make_app(url)
    with app.app_context():
        try:
            upgrade(revision="0022")
            with db.engine.begin() as conn:
                for hub, (code, region) in enumerate((("B001", "east"), ("B002", "central")), 1):
                    conn.execute(
                        text(
                            "INSERT INTO hubs (id, code, name, city, province, region, lat, lon) "
                            f"VALUES ({hub}, '{code}', 'x', 'x', 'x', '{region}', 30, 115)"
                        )
                    )
                    conn.execute(
                        text(
                            "INSERT INTO studios (id, code, hub_id, features, position) "
                            f"VALUES ({hub}, '{code}-S1', {hub}, '[]', 0)"
                        )
                    )
                    conn.execute(
                        text(
                            "INSERT INTO timetable_weeks (id, hub_id, week_start, state) "
                            f"VALUES ({hub}, {hub}, '2026-12-07', 'published')"
                        )
                    )
                    conn.execute(
                        text(
                            "INSERT INTO slots (code, studio_id, timetable_week_id, start, "
                            '"end", prime, state) VALUES '
                            f"('SL{hub}a', {hub}, {hub}, '2026-12-07 02:00:00+00', "
                            "'2026-12-07 04:00:00+00', false, 'open'), "
                            f"('SL{hub}b', {hub}, {hub}, '2026-12-07 04:00:00+00', "
                            "'2026-12-07 06:00:00+00', false, 'open')"
                        )
                    )
                _applied_run(conn)
                for request, change, before, after in (
                    ("R1", "moved", '["SL1a", "SL1b"]', '["SL2a"]'),
                    ("R2", "added", "[]", '["SL1b"]'),
                    ("R3", "dropped", '["SL2b"]', "[]"),
                    ("R4", "dropped", '["SL-gone"]', "[]"),
                ):
                    conn.execute(
                        text(
                            "INSERT INTO run_changes (run_id, change, request_code, "
                            f"before_slots, after_slots) VALUES (1, '{change}', '{request}', "
                            f"'{before}', '{after}')"
                        )
                    )
            upgrade()
            with db.engine.begin() as conn:
                rows = conn.execute(
                    text(
                        "SELECT request_code, before_base, after_base FROM run_changes "
                        "ORDER BY request_code"
                    )
                ).all()
            assert [tuple(r) for r in rows] == [
                ("R1", "B001", "B002"),
                ("R2", None, "B001"),
                ("R3", "B002", None),
                ("R4", None, None),  # its slot is no longer stored
            ]
            downgrade(revision="base")
        finally:
            db.session.remove()
            db.engine.dispose()


def test_change_bases_are_filled_on_sqlite(tmp_path):
    _change_bases_are_filled(f"sqlite:///{tmp_path / 'bases.sqlite'}")


@pytest.mark.postgres
def test_change_bases_are_filled_on_postgresql(pg_server):
    _change_bases_are_filled(pg_server.create("chunlei_b"))
