"""Bulk inserts reach PostgreSQL as data, not as statements to parse.

Importing the programme week (~465,000 rows) took 77–87 s when each row went as an INSERT of its
own, and each run of requests with another set of NULLs as a statement of its own; 32–35 s as
pages of rows (psycopg parsing each page's long text for its placeholders); its big tables now go
by ``COPY`` (``app.services.bulk``). These tests count the INSERT statements an import sends.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Booking, BookingRequest, Slot
from app.services.exchange.importer import import_week
from scheduler.generate import generate


@pytest.fixture
def statements(pg_app):
    sent: list[tuple[str, bool]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, executemany))

    event.listen(db.engine, "before_cursor_execute", seen)
    yield sent
    event.remove(db.engine, "before_cursor_execute", seen)


def _inserts(sent: list[tuple[str, bool]], table: str) -> list[tuple[str, bool]]:
    return [s for s in sent if s[0].lstrip().startswith(f"INSERT INTO {table} ")]


@pytest.mark.postgres
def test_an_import_copies_its_big_tables(pg_app, statements):
    inst = generate("S", seed=3, programme=True)
    # Requests with and without a distance limit and a harvest lot, interleaved: the NULLs vary.
    assert {r.max_km is None for r in inst.requests} == {True, False}
    assert {r.harvest is None for r in inst.requests} == {True, False}
    import_week(db.session, inst, timezone=inst.timezone)
    db.session.commit()

    # The big tables go by COPY: no INSERT of theirs reaches the server, and each booking is
    # written once, with its code (no UPDATE afterwards).
    for table in ("booking_requests", "slots", "participants", "bookings", "booking_slots"):
        assert _inserts(statements, table) == [], table
    assert not [s for s, _ in statements if s.lstrip().startswith("UPDATE bookings ")]
    assert db.session.scalar(select(func.count()).select_from(Slot)) == len(inst.slots)
    kept = db.session.execute(
        select(BookingRequest.code, BookingRequest.max_km, BookingRequest.harvest_lot_id)
    ).all()
    assert {code: km for code, km, _ in kept} == {r.id: r.max_km for r in inst.requests}
    assert {code for code, _, lot in kept if lot is not None} == {
        r.id for r in inst.requests if r.harvest is not None
    }
    codes = db.session.scalars(select(Booking.code).order_by(Booking.id)).all()
    ids = db.session.scalars(select(Booking.id).order_by(Booking.id)).all()
    assert len(codes) == len(inst.bookings) and codes == [f"K{i:06d}" for i in ids]
