"""Operator bulk pages: tick bookings → confirm / lock / cancel (cancel asks first), block a day
or range (a confirmation page says what it blocks), the whole base's week in one grid."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Booking, Slot
from app.services.booking import service as booking_service


def _tentative(world, user, slot):
    b = booking_service.book_slots(world.users[user], [slot])
    b.status = "tentative"
    db.session.commit()
    return b


def _blocked():
    return db.session.scalar(select(func.count()).select_from(Slot).where(Slot.state == "blocked"))


def _statuses():
    return {b.code: b.status for b in db.session.scalars(select(Booking))}


def test_bulk_confirm_from_the_bookings_page(app, world, login):
    a = _tentative(world, "p1", world.slot("B001-S1", 0, 10))
    b = _tentative(world, "p2", world.slot("B001-S2", 1, 12))
    op1 = login("op1")
    page = op1.get(f"/operator/bases/B001/bookings?week={world.week_start}").get_data(as_text=True)
    assert f'data-testid="pick-{a.code}"' in page and 'id="bulkForm"' in page
    done = op1.post(
        "/operator/bases/B001/bookings/bulk",
        data={"action": "confirm", "booking": [a.code, b.code], "week": str(world.week_start)},
        follow_redirects=True,
    )
    assert "已确认 2 个预订" in done.get_data(as_text=True)
    db.session.expire_all()
    assert _statuses() == {a.code: "confirmed", b.code: "confirmed"}


def test_bulk_cancel_asks_first_and_refusals_name_the_bookings(app, world, login):
    a = _tentative(world, "p1", world.slot("B001-S1", 0, 10))
    b = _tentative(world, "p2", world.slot("B001-S2", 1, 12))
    op1 = login("op1")
    form = {"action": "cancel", "booking": [a.code, b.code], "reason": "停电",
            "week": str(world.week_start)}  # fmt: skip
    ask = op1.post("/operator/bases/B001/bookings/bulk", data=form)
    text = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "取消这 2 个预订" in text and "停电" in text
    assert set(_statuses().values()) == {"tentative"}  # nothing yet
    no_reason = op1.post("/operator/bases/B001/bookings/bulk", data=dict(form, reason=" "),
                         follow_redirects=True)  # fmt: skip
    assert "请填写原因" in no_reason.get_data(as_text=True)
    db.session.expire_all()
    assert set(_statuses().values()) == {"tentative"}
    done = op1.post("/operator/bases/B001/bookings/bulk", data=dict(form, confirm="yes"),
                    follow_redirects=True)  # fmt: skip
    assert "已取消 2 个预订" in done.get_data(as_text=True)
    db.session.expire_all()
    assert set(_statuses().values()) == {"cancelled"}
    again = op1.post(
        "/operator/bases/B001/bookings/bulk",
        data={"action": "confirm", "booking": [a.code, "K999999"], "week": str(world.week_start)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "未做任何更改" in again and "K999999" in again and a.code in again


def test_block_a_day_previews_then_blocks(app, world, login):
    booked = booking_service.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 12)])
    op1 = login("op1")
    day = (world.week_start + timedelta(days=1)).isoformat()
    form = op1.get(f"/operator/bases/B001/block?first={day}").get_data(as_text=True)
    assert f'value="{day}"' in form
    data = {"first": day, "reason": "设备检修", "studio": ""}
    preview = op1.post("/operator/bases/B001/block", data=data).get_data(as_text=True)
    assert "将封锁 7 个空闲时段" in preview and booked.code in preview
    assert _blocked() == 1
    done = op1.post("/operator/bases/B001/block", data=dict(data, confirm="yes"),
                    follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "已封锁 7 个时段" in done and "1 个已预订时段保持预订" in done
    assert _blocked() == 8
    far = op1.post("/operator/bases/B001/block", data=dict(data, first="2099-12-28", confirm="yes"))
    assert far.status_code == 200 and "一年之内" in far.get_data(as_text=True)
    nonsense = op1.post("/operator/bases/B001/block", data=dict(data, first="9999-12-31"))
    assert nonsense.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "slots.block_range")) == 1  # fmt: skip
    # Another base's operator cannot reach the page.
    assert login("op2").get("/operator/bases/B001/block").status_code == 404


def test_week_grid_shows_every_studio_at_once(app, world, login):
    page = login("op1").get(f"/operator/bases/B001/week?week={world.week_start}")
    text = page.get_data(as_text=True)
    assert 'data-testid="base-grid"' in text
    assert 'data-testid="grid-B001-S1"' in text and 'data-testid="grid-B001-S2"' in text
    grid = text.split('data-testid="base-grid"', 1)[1].split("d-md-none", 1)[0]
    assert world.slot("B001-S1", 0, 10) in grid and world.slot("B001-S2", 1, 10) in grid
