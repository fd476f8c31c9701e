"""Requests (file, list, withdraw), the access rules, and notifications with the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.notification import OutboxEmail
from app.services.accounts import access
from app.services.booking import lifecycle
from app.services.booking import requests as svc
from app.services.booking import service as booking
from app.services.notify import mailer
from app.services.notify import messages as notify


def _file(world, user="p1", **kw):
    args = {
        "sessions": 1,
        "length": 1,
        "window_start": world.local(0, 0),
        "window_end": world.local(2, 0),
        "now": world.local(-3, 12),
    }
    args.update(kw)
    return svc.file_request(world.users[user], **args)


def test_file_request_stores_bases_preferences_and_week(world):
    req = _file(world, bases=["B002", "B001"], prefer_bases=["B002"], needs=["kitchen", "kitchen"])
    assert req.code == "R000001" and req.status == "open" and not req.any_base
    assert [h.code for h in req.allowed_hubs] == ["B001", "B002"]
    assert [h.code for h in req.preferred_hubs] == ["B002"] and req.needs == ["kitchen"]
    assert req.planning_week.week_start == world.week_start


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"sessions": True}, "sessions"),
        ({"length": 0}, "length"),
        ({"bases": "B001"}, "bases"),
        ({"bases": ["B001", "B001"]}, "bases"),
        ({"needs": [""]}, "needs"),
        ({"max_km": "far"}, "max_km"),
    ],
)
def test_file_request_refuses_bad_fields(world, kw, code):
    with pytest.raises(svc.RequestInvalid) as err:
        _file(world, **kw)
    assert err.value.code == code


def test_window_must_be_aware_future_and_in_one_week(world):
    naive = world.local(0, 0).replace(tzinfo=None)
    for kw in (
        {"window_start": naive},
        {"window_end": world.local(0, 0)},
        {"now": world.local(3, 0)},
        {"window_end": world.local(7, 1)},
    ):
        with pytest.raises(svc.RequestInvalid) as err:
            _file(world, **kw)
        assert err.value.code == "window"


def test_list_and_withdraw(world):
    mine = _file(world, "p1")
    _file(world, "p2", bases=["B002"])
    assert [r.code for r in svc.list_requests(world.users["p1"])] == [mine.code]
    assert len(svc.list_requests(world.users["admin"])) == 2
    assert [r.code for r in svc.list_requests(world.users["op1"])] == [mine.code]  # any base
    with pytest.raises(access.Forbidden):
        svc.withdraw_request(world.users["p2"], mine)
    with pytest.raises(access.Forbidden):
        svc.withdraw_request(world.users["op1"], mine)
    assert svc.withdraw_request(world.users["p1"], mine).status == "withdrawn"
    with pytest.raises(svc.RequestInvalid):
        svc.withdraw_request(world.users["p1"], mine)
    assert svc.list_requests(world.users["p1"], status="open") == []


def test_access_rules_for_bases_and_bookings(world):
    u = world.users
    assert access.operated_hub_ids(u["admin"]) is None
    assert access.operated_hub_ids(u["op1"]) == {world.hubs["B001"].id}
    assert access.operated_hub_ids(u["p1"]) == set()
    assert access.can_operate_hub(u["op1"], world.hubs["B001"])
    assert not access.can_operate_hub(u["op1"], world.hubs["B002"])
    assert access.participant_of(u["p1"]).code == "P001" and access.participant_of(u["op1"]) is None
    b = booking.book_slots(u["p1"], [world.slot("B001-S1", 1, 10)])
    assert access.get_booking(u["op1"], b.code).id == b.id
    assert access.get_booking(u["p1"], b.id).id == b.id
    for who in ("op2", "p2"):
        with pytest.raises(access.NotFound):
            access.get_booking(u[who], b.code)
    with pytest.raises(access.NotFound):
        access.get_booking(u["admin"], "K999999")


def test_render_both_languages_and_missing_params():
    params = {"booking": "K000007", "when": "2026-12-08 20:00", "base": "义乌", "reason": None}
    assert "K000007" in notify.render("booking_cancelled", params, "en")
    assert notify.render("booking_cancelled", params, "zh_CN").startswith("您的直播场次 K000007")
    assert notify.render("booking_cancelled", params, "en").endswith("Reason: —")
    assert notify.render("no_such_kind", {}) == "no_such_kind"
    run = {"run": 7, "base": "义乌基地", "added": 2, "moved": 1, "dropped": 0}
    assert notify.render("run_base_changes", run, "en").startswith("Re-planning (run #7)")
    assert "新增 2" in notify.render("run_base_changes", run, "zh_CN")


def test_unread_and_mark_read(world):
    b = booking.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    notify.booking_event("booking_proposed", b)
    db.session.commit()
    notes = notify.unread(world.users["p1"])
    assert [n.kind for n in notes] == ["booking_proposed"]
    assert notify.mark_read(world.users["p1"]) == 1 and notify.unread(world.users["p1"]) == []
    assert notify.unread(world.users["p2"]) == []


def test_outbox_stays_in_the_database_without_a_mail_server(world, app):
    b = booking.book_slots(world.users["p1"], [world.slot("B001-S1", 1, 10)])
    lifecycle.cancel(world.users["op1"], b, reason="maintenance")
    app.config["MAIL_SERVER"] = None
    assert mailer.queue_due() == 0
    mail = db.session.scalars(select(OutboxEmail)).one()
    assert (mail.status, mail.sent_at, mail.attempts) == ("pending", None, 0)
    body = mail.body
    assert "maintenance" in body and "已被基地取消" in body and "cancelled by the base" in body
    assert body.index("已被基地取消") < body.index("cancelled by the base")  # zh first
