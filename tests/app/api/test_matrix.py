"""Role × base × endpoint: nobody writes (or reads) across bases or participants.

Two bookings, one per base and participant: K1 of P001 at B001 and K2 of P002 at B002, both
tentative so every action applies. Each actor tries each action on each; the expected answer
comes from the access rules written out as a table, and a refused write must change nothing
(status, slot holds, audit trail).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Booking, SlotHold
from app.services.booking import service as booking
from app.services.timetable.weeks import planning_week_for
from tests.app.api.conftest import assert_error

ACTORS = ("admin", "op1", "op2", "p1", "p2", "p3")
#: who owns / runs each target booking
TARGETS = {"K1": {"owner": "p1", "operator": "op1"}, "K2": {"owner": "p2", "operator": "op2"}}
STAFF_ACTIONS = ("confirm", "lock")
OWNER_ACTIONS = ("accept", "decline")


def sees(actor: str, target: str) -> bool:
    t = TARGETS[target]
    return actor == "admin" or actor in (t["owner"], t["operator"])


def expected(actor: str, target: str, action: str) -> int:
    """The status the API must answer; the whole access policy in one function."""
    if not sees(actor, target):
        return 404
    owner = actor == TARGETS[target]["owner"]
    if action == "read":
        return 200
    if action == "cancel":
        return 200
    if action in STAFF_ACTIONS:
        return 403 if owner else 200
    return 200 if owner else 403  # accept / decline


ACTIONS = ("read", "cancel", *STAFF_ACTIONS, *OWNER_ACTIONS)


def _setup(world, k: int = 0) -> dict[str, str]:
    """Fresh tentative K1 (P001 at B001) and K2 (P002 at B002) on the k-th slot pair."""
    day, hour = divmod(k, 4)
    hour = (10, 12, 14, 20)[hour]
    k1 = booking.book_slots(world.users["p1"], [world.slot("B001-S1", day, hour)])
    k2 = booking.book_slots(world.users["p2"], [world.slot("B002-S1", day, hour)])
    for b in (k1, k2):
        b.status = "tentative"
    db.session.commit()
    return {"K1": k1.code, "K2": k2.code}


def _state(code: str):
    b = db.session.scalars(select(Booking).where(Booking.code == code)).one()
    db.session.refresh(b)
    held = db.session.scalar(select(func.count()).where(SlotHold.booking_id == b.id))
    events = db.session.scalar(select(func.count()).where(AuditEvent.booking_id == b.id))
    return b.status, held, events


def _call(api, actor: str, action: str, code: str):
    if action == "read":
        return api.get(f"/api/v1/bookings/{code}", as_=actor)
    if action == "cancel":
        return api.delete(f"/api/v1/bookings/{code}", as_=actor, json={"reason": "matrix"})
    return api.post(f"/api/v1/bookings/{code}/{action}", as_=actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_access_matrix(api, world, actor):
    """Every action on both bases' bookings: allowed ones change them, refused ones nothing."""
    svc_week = planning_week_for(world.week_start)
    svc_week.max_sessions_per_day = None  # room for one fresh pair per action
    db.session.commit()
    for k, action in enumerate(ACTIONS):
        codes = _setup(world, k)
        for target, code in codes.items():
            case = f"{actor} {action} {target}"
            before = _state(code)
            r = _call(api, actor, action, code)
            want = expected(actor, target, action)
            if want == 200:
                assert r.status_code == 200, (case, r.get_json())
                assert r.get_json()["id"] == code, case
                if action != "read":
                    assert _state(code) != before, case
            else:
                assert r.status_code == want, (case, r.get_json())
                assert_error(r, want)
                assert _state(code) == before, case


@pytest.mark.parametrize("actor", ACTORS)
def test_lists_show_only_what_the_actor_may_see(api, world, actor):
    codes = _setup(world)
    listed = {b["id"] for b in api.get("/api/v1/bookings", as_=actor).get_json()}
    assert listed == {codes[t] for t in TARGETS if sees(actor, t)}


def test_nobody_books_for_someone_else(api, world):
    """The booking body has no participant field: a participant books only for itself."""
    body = {"slots": [world.slot("B001-S1", 1, 10)], "participant": "P002"}
    assert_error(api.post("/api/v1/bookings", as_="p1", json=body), 422, "validation")
    r = api.post("/api/v1/bookings", as_="p1", json={"slots": body["slots"]})
    assert r.get_json()["participant"] == "P001"
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_nobody_books_on_someone_elses_request(api, world):
    from app.services.booking import requests

    req = requests.file_request(
        world.users["p2"],
        sessions=1,
        length=1,
        window_start=world.local(0, 0),
        window_end=world.local(3, 0),
    )
    body = {"slots": [world.slot("B001-S1", 1, 10)], "request": req.code}
    for actor in ("p1", "p3"):
        assert_error(api.post("/api/v1/bookings", as_=actor, json=body), 404)
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
