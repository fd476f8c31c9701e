"""Harvest lots: a producer records one, files a request for it, sees its freshness deadline;
its prime-time history; the lot near its deadline with no session flagged for operators."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import BookingRequest, HarvestLot, PlanningWeek, utcnow
from app.services.programme.lots import lots_near_deadline


def _lot_form(world, *, days=(1, 3), product="赣南脐橙"):
    ready = datetime.combine(world.week_start + timedelta(days=days[0]), time(6))
    best = datetime.combine(world.week_start + timedelta(days=days[1]), time(0))
    return {
        "product": product,
        "quantity": "500",
        "unit": "kg",
        "ready_at": ready.strftime("%Y-%m-%dT%H:%M"),
        "best_before": best.strftime("%Y-%m-%dT%H:%M"),
    }


def test_a_producer_records_a_lot_and_files_a_request_for_it(app, world, login):
    p1 = login("p1")  # P001 is a producer
    assert p1.post("/me/lots", data=_lot_form(world)).status_code == 302
    lot = db.session.scalars(select(HarvestLot)).one()
    assert lot.code == "L000001" and lot.quantity == 500 and lot.participant.code == "P001"
    page = p1.get("/me/lots").get_data(as_text=True)
    assert "赣南脐橙" in page and "新鲜期至" in page
    start = world.week_start
    form = {
        "sessions": "1",
        "length": "1",
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(days=6)).isoformat(),
        "harvest_lot": lot.code,
    }
    assert p1.post("/me/requests/new", data=form).status_code == 302
    req = db.session.scalars(select(BookingRequest)).one()
    assert req.harvest_lot_id == lot.id
    assert lot.code in p1.get(f"/me/requests/{req.code}").get_data(as_text=True)
    english = p1.get(f"/me/requests/{req.code}?lang=en").get_data(as_text=True)
    assert "fresh until" in english


def test_a_lot_refused_writes_nothing(app, world, login):
    p1 = login("p1")
    bad = _lot_form(world, days=(3, 1))  # best-before before ready
    page = p1.post("/me/lots", data=bad).get_data(as_text=True)
    assert "最佳" in page and db.session.scalars(select(HarvestLot)).first() is None
    merchant = login("p3")  # P003 is a merchant
    merchant.post("/me/lots", data=_lot_form(world))
    assert db.session.scalars(select(HarvestLot)).first() is None


def test_a_request_cannot_sell_someone_elses_lot_or_miss_its_dates(app, world, login):
    p1, p2 = login("p1"), login("p2")
    p1.post("/me/lots", data=_lot_form(world))
    lot = db.session.scalars(select(HarvestLot)).one()
    start = world.week_start
    form = {"sessions": "1", "length": "1", "window_start": start.isoformat(),
            "window_end": (start + timedelta(days=6)).isoformat(), "harvest_lot": lot.code}  # fmt: skip
    p2.post("/me/requests/new", data=form)
    late = dict(form, window_start=(start + timedelta(days=4)).isoformat())
    p1.post("/me/requests/new", data=late)
    assert db.session.scalars(select(BookingRequest)).first() is None


def test_a_lot_near_its_best_before_without_a_session_is_flagged_to_eligible_bases(
    app, world, login
):
    p1 = login("p1")
    now = utcnow()
    lot = HarvestLot(
        code="L000009",
        participant_id=world.participants["P001"].id,
        product="sweet corn",
        unit="kg",
        ready_at=now - timedelta(hours=2),
        best_before=now + timedelta(hours=30),
    )
    db.session.add(lot)
    db.session.flush()
    req = BookingRequest(
        code="R000099",
        participant_id=lot.participant_id,
        planning_week_id=db.session.scalar(select(PlanningWeek.id)),
        sessions=1,
        length=1,
        window_start=now,
        window_end=now + timedelta(days=1),
        any_base=False,
        needs=[],
        harvest_lot_id=lot.id,
    )
    req.allowed_hubs = [world.hubs["B001"]]
    db.session.add(req)
    db.session.commit()
    alerts = lots_near_deadline(None, now)
    assert [(a.lot.code, a.bases) for a in alerts] == [("L000009", ("B001",))]
    assert lots_near_deadline(["B002"], now) == []
    assert lots_near_deadline(None, now + timedelta(days=3)) == []
    op1 = login("op1").get("/operator/", follow_redirects=True).get_data(as_text=True)
    op2 = login("op2").get("/operator/", follow_redirects=True).get_data(as_text=True)
    assert "L000009" in op1 and "临近最佳销售期" in op1
    assert "L000009" not in op2
    assert p1.get("/me/lots").status_code == 200


def test_prime_time_history_is_shown(app, world, login):
    page = login("p1").get("/me/lots?lang=en").get_data(as_text=True)
    assert "My prime time" in page and 'data-testid="prime-history"' in page


def test_the_week_grid_marks_same_category_sessions_at_the_same_time(app, world, login):
    from app.services.booking import service as booking_service

    for code in ("P001", "P002"):
        world.participants[code].category = "tea"
    db.session.commit()
    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 2, 20)])
    booking_service.book_slots(world.users["p2"], [world.slot("B001-S2", 2, 20)])
    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 20)])
    week = world.week_start.isoformat()
    page = login("op1").get(f"/operator/bases/B001/week?week={week}").get_data(as_text=True)
    assert f'data-testid="clash-{world.slot("B001-S1", 2, 20)}"' in page
    assert f'data-testid="clash-{world.slot("B001-S2", 2, 20)}"' in page
    assert f'data-testid="clash-{world.slot("B001-S1", 1, 20)}"' not in page  # alone that day
    assert "品类冲突" in page and 'data-testid="clash-count"' in page


def test_the_profile_sets_the_main_category(app, world, login):
    p1 = login("p1")
    form = {"name": "寿光蔬菜合作社", "kind": "producer", "province": "山东省",
            "city": "潍坊市", "county": "寿光市", "categories": ["vegetables"],
            "category": "vegetables"}  # fmt: skip
    assert p1.post("/me/profile", data=form).status_code == 302
    participant = world.participants["P001"]
    db.session.refresh(participant)
    assert participant.category == "vegetables"
    assert p1.post("/me/profile", data=dict(form, category="")).status_code == 302
    db.session.refresh(participant)
    assert participant.category is None


def test_new_weeks_take_the_configured_category_separation(app, world):
    from app.services.timetable.weeks import planning_week_for

    app.config["CATEGORY_SEPARATION"] = "base"
    week = planning_week_for(world.week_start + timedelta(weeks=3))
    assert week.category_separation == "base"
    app.config["CATEGORY_SEPARATION"] = None
    assert planning_week_for(world.week_start + timedelta(weeks=4)).category_separation is None
