"""Queries made cheaper for the programme week give the same answers as before."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import BookingRequest, PlanningWeek
from app.services.placement import waitlist
from tests.app.cli_helpers import seed

BEFORE_THE_WEEK = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_place_in_line_is_its_position_on_the_whole_waiting_list(any_app):
    seed(any_app, bases=6, requests=240)
    week = db.session.scalars(select(PlanningWeek)).one()
    line = {w.request.id: w for w in waitlist.waiting(week, after=BEFORE_THE_WEEK)}
    assert len(line) > 100
    requests = db.session.scalars(select(BookingRequest).order_by(BookingRequest.id)).all()
    assert len(line) < len(requests), "every request is waiting: nothing tells them apart"
    for req in requests:
        entry = waitlist.place_of(req, after=BEFORE_THE_WEEK)
        expected = line.get(req.id)
        if expected is None:
            assert entry is None, req.code
        else:
            assert entry is not None, req.code
            assert (entry.request.id, entry.participant.id, entry.served, entry.place) == (
                expected.request.id,
                expected.participant.id,
                expected.served,
                expected.place,
            ), req.code
