"""``flask book`` / ``flask cancel-booking``: the booking service from the command line."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Booking, SlotHold
from tests.app.cli_helpers import one_line, run


def _holds() -> int:
    return db.session.scalar(select(func.count()).select_from(SlotHold))


def test_a_participant_books_and_cancels_from_the_command_line(app, world):
    first, second = world.slot("B001-S1", 2, 10), world.slot("B001-S1", 2, 12)
    done = run(app, "book", first, second, "--as", "p1")
    assert done.exit_code == 0, done.output
    booking = db.session.scalars(select(Booking)).one()
    assert done.output.startswith(f"booked {booking.code} (confirmed) for P001: B001 B001-S1 ")
    assert f"slots {first} {second}" in done.output and "10:00–14:00" in done.output
    assert booking.origin == "participant" and _holds() == 2
    undone = run(app, "cancel-booking", booking.code.lower(), "--as", "p1")
    assert undone.exit_code == 0 and undone.output.strip() == f"cancelled {booking.code}"
    assert _holds() == 0
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["booking.create", "booking.cancel"]


def test_staff_book_for_a_participant_at_their_own_base_only(app, world):
    done = run(app, "book", world.slot("B001-S1", 1, 10), "--as", "op1", "--participant", "P002")
    assert done.exit_code == 0, done.output
    assert db.session.scalars(select(Booking)).one().origin == "operator"
    other = run(app, "book", world.slot("B002-S1", 1, 10), "--as", "op1", "--participant", "P002")
    assert other.exit_code == 1 and "(other_base)" in other.stderr and one_line(other.stderr)


def test_refusals_are_one_line_and_write_nothing(app, world):
    taken = world.slot("B001-S1", 1, 10)
    first = run(app, "book", taken, "--as", "p2")
    assert first.exit_code == 0, first.stderr
    before = (_holds(), db.session.scalar(select(func.count()).select_from(AuditEvent)))
    for args, says in (
        (("book", taken, "--as", "p1"), "(slot_taken)"),
        (("book", "SL-NOPE", "--as", "p1"), "(unknown_slot)"),
        (("book", world.slot("B001-S1", 1, 14), "--as", "nobody"), "no active account"),
        (("book", world.slot("B001-S1", 1, 14), "--as", "op1"), "(role_cannot_book)"),
        (
            ("book", world.slot("B001-S1", 1, 14), "--as", "op1", "--participant", "P9"),
            "no participant",
        ),
        (("book", "--as", "p1"), "Missing argument"),
        (("cancel-booking", "K999999", "--as", "p1"), "(not_found)"),
        (("cancel-booking", "K000001", "--as", "p1"), "(not_found)"),  # p2's booking
        (("cancel-booking", "K000001", "--as", "op1"), "(reason)"),
    ):
        done = run(app, *args)
        assert done.exit_code != 0, args
        assert says in done.stderr and one_line(done.stderr), (args, done.stderr)
    db.session.expire_all()
    after = (_holds(), db.session.scalar(select(func.count()).select_from(AuditEvent)))
    assert after == before
