"""Operator pages end to end: template → week → publish, block/unblock, bookings, exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Booking, Slot, Studio, TimetableWeek
from app.services.booking import service as booking_service
from app.services.timetable import reports


def test_template_generate_publish_makes_slots_bookable(app, world, login):
    op1 = login("op1")
    week = (world.week_start + timedelta(days=14)).isoformat()
    form = {
        "weekdays": ["0", "1"],
        "open_time": "08:00",
        "close_time": "12:00",
        "slot_minutes": "120",
        "prime_start": "10:00",
        "prime_end": "12:00",
    }
    assert op1.post("/operator/bases/B001/template", data=form).status_code == 302
    response = op1.post("/operator/bases/B001/week/generate", data={"week_start": week})
    assert response.status_code == 302
    tw = db.session.scalar(
        select(TimetableWeek).where(TimetableWeek.week_start == world.week_start + timedelta(14))
    )
    # 2 studios × 2 days × 2 slots, in draft.
    assert tw.state == "draft" and len(tw.slots) == 8
    assert sum(s.prime for s in tw.slots) == 4
    page = op1.get(f"/operator/bases/B001/week?week={week}").get_data(as_text=True)
    assert "草稿" in page and "发布本周" in page
    # A participant does not see the draft.
    p1 = login("p1")
    found = p1.get(f"/me/slots?day={week}").get_data(as_text=True)
    assert tw.slots[0].code not in found
    assert op1.post("/operator/bases/B001/week/publish", data={"week": week}).status_code == 302
    db.session.refresh(tw)
    assert tw.state == "published" and tw.published_at is not None
    assert tw.slots[0].code in p1.get(f"/me/slots?day={week}").get_data(as_text=True)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"template.save", "timetable.generate", "timetable.publish"} <= actions


def test_generating_twice_adds_nothing_and_published_weeks_refuse(app, world, login):
    op1 = login("op1")
    week = (world.week_start + timedelta(days=21)).isoformat()
    form = {"weekdays": ["2"], "open_time": "18:00", "close_time": "22:00", "slot_minutes": "120",
            "prime_start": "18:00", "prime_end": "22:00"}  # fmt: skip
    op1.post("/operator/bases/B001/template", data=form)
    op1.post("/operator/bases/B001/week/generate", data={"week_start": week})
    again = op1.post(
        "/operator/bases/B001/week/generate", data={"week_start": week}, follow_redirects=True
    )
    assert "本周已包含模板中的全部时段" in again.get_data(as_text=True)
    op1.post("/operator/bases/B001/week/publish", data={"week": week})
    late = op1.post(
        "/operator/bases/B001/week/generate", data={"week_start": week}, follow_redirects=True
    )
    assert late.status_code == 200
    assert "本周已发布" in late.get_data(as_text=True)


def test_block_needs_a_reason_and_refuses_booked_slots(app, world, login):
    op1 = login("op1")
    code = world.slot("B001-S2", 1, 12)
    page = op1.post(f"/operator/slots/{code}/block", data={"reason": ""}, follow_redirects=True)
    assert "请填写原因" in page.get_data(as_text=True)
    op1.post(f"/operator/slots/{code}/block", data={"reason": "灯光检修"})
    slot = db.session.scalar(select(Slot).where(Slot.code == code))
    assert slot.state == "blocked"
    grid = op1.get(f"/operator/bases/B001/week?week={world.week_start}").get_data(as_text=True)
    assert "灯光检修" in grid
    op1.post(f"/operator/slots/{code}/unblock")
    db.session.refresh(slot)
    assert slot.state == "open"
    booked = world.slot("B001-S2", 1, 14)
    booking_service.book_slots(world.users["p1"], [booked])
    refused = op1.post(
        f"/operator/slots/{booked}/block", data={"reason": "x"}, follow_redirects=True
    )
    assert "请先取消预订" in refused.get_data(as_text=True)


def test_week_grid_shows_who_booked_in_words(app, world, login):
    booking_service.book_slots(world.users["p2"], [world.slot("B001-S1", 0, 20)])
    page = (
        login("op1")
        .get(f"/operator/bases/B001/week?week={world.week_start}")
        .get_data(as_text=True)
    )
    assert "赣南脐橙合作社" in page and "已确认" in page and "已停用" in page


def test_bookings_confirm_lock_and_cancel_with_reason(app, world, login):
    booking = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    op1 = login("op1")
    listing = op1.get(f"/operator/bases/B001/bookings?week={world.week_start}")
    assert booking.code in listing.get_data(as_text=True)
    op1.post(f"/operator/bookings/{booking.code}/lock")
    db.session.refresh(booking)
    assert booking.status == "locked"
    no_reason = op1.post(f"/operator/bookings/{booking.code}/cancel", data={"reason": ""})
    assert no_reason.status_code == 302
    db.session.refresh(booking)
    assert booking.status == "locked"
    op1.post(f"/operator/bookings/{booking.code}/cancel", data={"reason": "直播间停电"})
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "booking.cancel")
    ).one()
    assert event.detail["reason"] == "直播间停电"
    p1 = login("p1")
    assert 'data-testid="notifications"' in p1.get("/me/sessions").get_data(as_text=True)
    inbox = p1.get("/notifications").get_data(as_text=True)
    assert booking.code in inbox and "直播间停电" in inbox and "已被基地取消" in inbox
    english = p1.get("/notifications?lang=en").get_data(as_text=True)
    assert "was cancelled by the base" in english


def test_dashboard_csv_and_ical(app, world, login):
    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 0, 20)])
    op1 = login("op1")
    dash = op1.get(f"/operator/bases/B001/dashboard?week={world.week_start}")
    assert dash.status_code == 200
    text = dash.get_data(as_text=True)
    assert "cl-hbar-fill" in text and "各直播间利用率" in text
    # B001-S1: 1 of 12 slots held; B001-S2: 11 bookable (one blocked), none held.
    assert "8% (1/12)" in text and "0% (0/11)" in text
    figures = reports.week_figures(world.hubs["B001"], world.week_start)
    assert (figures.slots, figures.blocked, figures.held, figures.sessions) == (24, 1, 1, 1)
    assert figures.prime_share == 1.0 and figures.by_kind == {"producer": 1}
    assert round(figures.utilization, 4) == round(1 / 23, 4)
    csv = op1.get(f"/operator/bases/B001/bookings.csv?week={world.week_start}")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("booking,status,origin,participant")
    assert len(lines) == 2 and "寿光蔬菜合作社" in lines[1] and "+08:00" in lines[1]
    link = op1.get("/operator/bases/B001/calendar").get_data(as_text=True)
    feed_url = link.split('readonly value="', 1)[1].split('"')[0].replace("&amp;", "&")
    anonymous = app.test_client().get(feed_url.replace("http://localhost", ""))
    assert anonymous.status_code == 200 and anonymous.mimetype == "text/calendar"
    ics = anonymous.get_data(as_text=True)
    assert ics.count("BEGIN:VEVENT") == 24 and "寿光蔬菜合作社" in ics
    assert app.test_client().get("/operator/bases/B001/timetable.ics?key=forged").status_code == 403


def test_studio_features_edit_and_add_a_studio(app, world, login):
    op1 = login("op1")
    page = op1.post(
        "/operator/bases/B001",
        data={"studio": "B001-S2", "B001-S2-name": "二号间", "B001-S2-features": ["green_screen"]},
    )
    assert page.status_code == 302
    studio = db.session.scalar(select(Studio).where(Studio.code == "B001-S2"))
    assert studio.name == "二号间" and studio.features == ["green_screen"]
    added = op1.post(
        "/operator/bases/B001",
        data={"studio": "new", "new-name": "户外间", "new-features": ["outdoor"]},
        follow_redirects=True,
    )
    assert "B001-S3" in added.get_data(as_text=True)
    new = db.session.scalar(select(Studio).where(Studio.code == "B001-S3"))
    assert new.features == ["outdoor"] and new.hub_id == world.hubs["B001"].id
    assert login("op2").post("/operator/bases/B001", data={"studio": "new"}).status_code == 404


def test_overview_of_every_visible_base(app, world, login):
    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 0, 20)])
    booking_service.book_slots(world.users["p2"], [world.slot("B002-S1", 1, 20)])
    rows, regions = reports.overview(None, world.week_start)
    by_code = {r.code: r for r in rows}
    assert (by_code["B001"].slots, by_code["B001"].blocked, by_code["B001"].held) == (24, 1, 1)
    assert (by_code["B002"].sessions, by_code["B002"].state) == (1, "published")
    assert regions == {"east": 2}
    admin = login("admin").get(f"/operator/overview?week={world.week_start}")
    page = admin.get_data(as_text=True)
    assert admin.status_code == 200 and "临沂直播基地" in page and "赣州直播基地" in page
    mine = login("op1").get(f"/operator/overview?week={world.week_start}").get_data(as_text=True)
    assert "临沂直播基地" in mine and "赣州直播基地" not in mine
    assert login("p1").get("/operator/overview").status_code == 403


def test_bookings_list_can_show_only_tentative_ones(app, world, login):
    first = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 0, 10)])
    second = booking_service.book_slots(world.users["p2"], [world.slot("B001-S1", 1, 10)])
    second.status = "tentative"
    db.session.commit()
    page = login("op1").get(f"/operator/bases/B001/bookings?week={world.week_start}&show=tentative")
    text = page.get_data(as_text=True)
    assert f'id="{second.code}"' in text and f'id="{first.code}"' not in text


def test_operator_books_for_a_participant_who_phoned(app, world, login):
    op1 = login("op1")
    code = world.slot("B001-S2", 2, 14)
    done = op1.post(
        f"/operator/slots/{code}/book-for", data={"participant": "p003"}, follow_redirects=True
    )
    assert "义乌小商品公司" in done.get_data(as_text=True)
    booking = db.session.scalars(select(Booking)).one()
    assert booking.origin == "operator" and booking.participant.code == "P003"
    assert booking.created_by_user_id == world.users["op1"].id
    unknown = op1.post(
        f"/operator/slots/{world.slot('B001-S2', 2, 10)}/book-for",
        data={"participant": "P999"},
        follow_redirects=True,
    )
    assert "P999" in unknown.get_data(as_text=True)
    taken = op1.post(
        f"/operator/slots/{code}/book-for", data={"participant": "P001"}, follow_redirects=True
    )
    assert "刚刚被别人订走了" in taken.get_data(as_text=True)
    other = world.slot("B002-S1", 2, 14)
    assert (
        op1.post(f"/operator/slots/{other}/book-for", data={"participant": "P001"}).status_code
        == 404
    )
    assert db.session.query(Booking).count() == 1


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_bookings_csv_neutralises_formulas_in_cells(app, world, login, name):
    """A cell a spreadsheet would read as a formula starts with a quote (OWASP's rule)."""
    world.participants["P001"].name = name
    db.session.commit()
    booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 0, 20)])
    body = login("op1").get(f"/operator/bases/B001/bookings.csv?week={world.week_start}")
    rows = list(csv.reader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][rows[0].index("participant_name")] == "'" + name
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in rows[1])
