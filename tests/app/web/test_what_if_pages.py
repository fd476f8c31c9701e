"""What-if pages: a changed copy of the week solved on the job queue, read side by side."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Job


def test_an_operator_runs_a_what_if_and_reads_the_comparison(app, world, login):
    app.config["SOLVER_TIME_LIMIT_S"] = 2
    before = sorted(db.session.execute(select(Booking.code, Booking.status)).all())
    op1 = login("op1")
    form = {"week": world.week_start.isoformat(), "add_studio": "B001:kitchen,outdoor"}
    response = op1.post("/runs/what-if", data=form)
    assert response.status_code == 302
    row = db.session.scalars(select(Job).where(Job.kind == "whatif.run")).one()
    assert row.status == "done", row.error
    page = op1.get(response.headers["Location"]).get_data(as_text=True)
    assert "add studio B001:kitchen,outdoor" in page and "sessions_served" in page
    assert "现状" in page
    english = op1.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "As it is" in english and "would gain sessions" in english
    assert sorted(db.session.execute(select(Booking.code, Booking.status)).all()) == before
    assert login("op2").get(response.headers["Location"]).status_code == 404


def test_an_operator_changes_only_their_bases_and_bad_changes_are_refused(app, world, login):
    op1 = login("op1")
    for form in (
        {"week": world.week_start.isoformat(), "close_base": "B002"},
        {"week": world.week_start.isoformat(), "add_studio": "B001:jacuzzi"},
        {"week": world.week_start.isoformat()},
    ):
        page = op1.post("/runs/what-if", data=form).get_data(as_text=True)
        assert "请检查" in page
    assert db.session.scalars(select(Job).where(Job.kind == "whatif.run")).first() is None
