"""The request page explains a short request from the part of the week around it, read from
the database on its own: the same part ``scheduler.explain.neighbourhood`` cuts from the whole
exported week, hence the same reasons, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import BookingRequest, Hub, Studio
from app.models.vocabulary import RequestStatus
from app.services.booking import shortfall
from app.services.exchange.apply import apply_plan
from app.services.exchange.export import build_instance, build_neighbourhood, build_plan
from app.services.timetable.weeks import get_week
from scheduler.domain import Plan
from scheduler.explain import STATIC, explain, neighbourhood, reachable
from scheduler.greedy import greedy
from tests.app.cli_helpers import FREEZE, WEEK, seed

ZONE = "Asia/Shanghai"


def _booked_week(app):
    """The seeded week with greedy's plan booked but every fifth new session: bookings on
    most slots, free runs left, short requests of every kind."""
    seed(app)
    week = get_week(db.session, WEEK)
    inst = build_instance(db.session, week, freeze_until=None, timezone=ZONE)
    kept = {(b.request, b.slots) for b in inst.bookings}
    plan = greedy(inst)
    some = tuple(a for k, a in enumerate(plan.assignments) if (a.request, a.slots) in kept or k % 5)
    freeze = datetime.fromisoformat(FREEZE)
    apply_plan(db.session, week, Plan(plan.instance, some), actor=None, freeze_until=freeze,
               timezone=ZONE)  # fmt: skip
    db.session.commit()
    return week


def _without_prime_history(inst):
    return replace(
        inst, participants=tuple(replace(p, prime_recent=None) for p in inst.participants)
    )


def test_the_neighbourhood_read_from_the_database_is_the_one_cut_from_the_whole_week(any_app):
    week = _booked_week(any_app)
    whole = build_instance(db.session, week, freeze_until=None, timezone=ZONE)
    plan = build_plan(db.session, week, whole)
    short = [e for e in explain(whole, plan) if not any(d.code in STATIC for d in e.denials)]
    assert len(short) >= 10
    cut = 0
    for e in short:
        read = build_neighbourhood(db.session, week, e.request, freeze_until=None, timezone=ZONE)
        r = whole.request_by_id[e.request]
        if len(reachable(whole, r)) <= len(whole.bases) // 2:
            cut += 1
            assert read == _without_prime_history(neighbourhood(whole, e.request))
            assert len(read.slots) < len(whole.slots)
        else:
            assert read == whole  # most bases within reach: the whole week
        (alone,) = explain(read, build_plan(db.session, week, read), [e.request])
        assert alone == e
    assert cut >= 5  # the part was really read on its own for many of them


def test_a_request_with_no_run_open_to_it_is_explained_on_the_whole_week(any_app):
    week = _booked_week(any_app)
    # Static reasons look at every base, not only those within reach. Three short requests now
    # ask for a base within a kilometre: none is (too far). Three more allow only a new base
    # with no timetable yet: only bases they do not allow have a run (within reach there is
    # none: the part of the week around them alone would say "no studio in the window").
    whole = build_instance(db.session, week, freeze_until=None, timezone=ZONE)
    short = [e.request for e in explain(whole, build_plan(db.session, week, whole))]
    some = db.session.scalars(select(Hub).order_by(Hub.code)).first()
    empty = Hub(code="B999", name="新基地", city=some.city, province=some.province,
                region=some.region, lat=some.lat, lon=some.lon)  # fmt: skip
    empty.studios.append(Studio(code="B999-S1", features=[]))
    for k, code in enumerate(short[:6]):
        req = db.session.scalars(select(BookingRequest).where(BookingRequest.code == code)).one()
        if k < 3:
            req.max_km = 1
        else:
            req.any_base, req.max_km, req.needs, req.allowed_hubs = False, None, [], [empty]
    db.session.commit()
    whole = build_instance(db.session, week, freeze_until=None, timezone=ZONE)
    plan = build_plan(db.session, week, whole)
    reasons = {e.request: e.denials for e in explain(whole, plan) if e.denials}
    static = [r for r, denials in reasons.items() if denials[0].code in STATIC]
    dynamic = [r for r, denials in reasons.items() if denials[0].code not in STATIC]
    assert {r for r in static if reasons[r][0].code == "too_far"} == set(short[:3])
    assert {r for r in static if reasons[r][0].code == "not_allowed_base"} >= set(short[3:6])
    assert dynamic
    for code in short[:6] + dynamic[:5]:
        req = db.session.scalars(select(BookingRequest).where(BookingRequest.code == code)).one()
        assert req.status == RequestStatus.OPEN
        shortfall._answers.clear()
        assert shortfall.why_not_placed(req) == reasons[code]
