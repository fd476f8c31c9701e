"""Search from the open slots each process keeps: the same offers in the same order as the
free-slot list gave, and never a slot another process has since booked, blocked or retired."""

from __future__ import annotations

import gc
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import delete, func, select, table, update

from app.extensions import db
from app.localtime import local_day
from app.models import Booking, HarvestLot, Participant, Slot, Studio, TimetableWeek, User
from app.services.booking import lifecycle
from app.services.booking import search as finder
from app.services.booking import service as booking_service
from app.services.booking.open_slots import open_slots, version
from app.services.booking.rules import active_sessions
from app.services.booking.slots import SlotFilter, find_free_slots
from app.services.timetable import service as timetable
from app.services.timetable.studios import retire_studio
from tests.app.cli_helpers import WEEK, seed
from tests.app.services.world import build_world
from tests.conftest import make_app

BEFORE_THE_WEEK = datetime(2026, 12, 1, tzinfo=UTC)


def _former(participant, flt, *, now, sort="best", fit, start_from=None, start_until=None,
            end_by=None):  # fmt: skip
    """Search as it was before the open slots were kept: the free-slot list, the participant's
    own week, one offer per time at a base, every offer ranked."""
    runs, _ = find_free_slots(
        flt, participant, now=now, limit=None, start_from=start_from, start_until=start_until
    )
    if end_by is not None:
        runs = [r for r in runs if r.end <= end_by]
    hidden: Counter[str] = Counter()
    allowed = finder.bookable(runs, active_sessions(participant.id), hidden)
    return finder.group(allowed, fit, now, sort), hidden


def test_offers_pages_and_days_are_those_of_the_free_slot_list(any_app):
    seed(any_app, bases=8, requests=200)
    now = BEFORE_THE_WEEK
    booked = set(db.session.scalars(select(Booking.participant_id).distinct()))
    people = db.session.scalars(select(Participant).order_by(Participant.code)).all()
    busy = [p for p in people if p.id in booked][:3]
    idle = [p for p in people if p.id not in booked][:1]
    assert len(busy) == 3 and idle
    lot_until = datetime.combine(WEEK + timedelta(days=2), datetime.min.time(), UTC)
    fits = [
        finder.Fit(),
        finder.Fit(preferred=("B004", "B002", "B007"), prime=True),
        finder.Fit(preferred=("B001",), fresh_until=lot_until),
    ]
    day = WEEK + timedelta(days=2)
    asked = [
        (SlotFilter(), {}),
        (SlotFilter(day=day), {}),
        (SlotFilter(length=2), {}),
        (SlotFilter(length=2, daypart="afternoon"), {}),
        (SlotFilter(daypart="evening", features=frozenset({"kitchen"})), {}),
        (SlotFilter(max_km=900.0, region="east"), {}),
        (SlotFilter(base="B003"), {"start_from": now + timedelta(days=7)}),
        (SlotFilter(bases=frozenset({"B002", "B005"})), {"end_by": now + timedelta(days=9)}),
        (SlotFilter(province="山东省", length=2), {"start_until": now + timedelta(days=8)}),
    ]
    hidden_seen = 0
    for person in busy + idle:
        for n, (flt, window) in enumerate(asked):
            fit = fits[n % len(fits)]
            for sort in ("best", "soonest", "nearest"):
                want, want_hidden = _former(person, flt, now=now, sort=sort, fit=fit, **window)
                got = finder.search(person, flt, now=now, sort=sort, fit=fit, **window)
                assert got.offers == want, (person.code, flt, sort)
                assert got.total == len(want) and got.hidden == want_hidden
                assert got.page(20, 20) == want[20:40]
                hidden_seen += sum(want_hidden.values())
            if flt == SlotFilter():  # the week view: each day's best four, by time, and its count
                for d in finder.week_view(got, WEEK):
                    mine = [o for o in want if local_day(o.start) == d.day]
                    assert d.total == len(mine), (person.code, d.day)
                    assert d.offers == tuple(sorted(mine[:4], key=lambda o: o.start))
    assert hidden_seen > 0, "no search met the participant's own week: the test tests too little"


def test_the_first_pages_stop_early_and_still_rank_as_the_whole_list(any_app):
    """Many bases a few dozen km apart: the pages and days made from the nearest bases only
    are those of ranking every offer (a bound that stopped too soon would drop some)."""
    seed(any_app, bases=40, requests=80)
    now = BEFORE_THE_WEEK
    people = db.session.scalars(select(Participant).order_by(Participant.code)).all()[:3]
    fits = [
        finder.Fit(),
        finder.Fit(preferred=("B031", "B017"), prime=True),
        finder.Fit(prime=True, fresh_until=now + timedelta(days=8)),
    ]
    for person in people:
        for fit in fits:
            for sort in ("best", "nearest", "soonest"):
                want, hidden = _former(person, SlotFilter(), now=now, sort=sort, fit=fit)
                got = finder.search(person, SlotFilter(), now=now, sort=sort, fit=fit)
                assert (got.total, got.hidden) == (len(want), hidden)
                for first in (0, 20, 100):
                    assert got.page(first, 20) == want[first : first + 20], (person.code, sort)
                for d in finder.week_view(got, WEEK):
                    mine = [o for o in want if local_day(o.start) == d.day]
                    assert d.offers == tuple(sorted(mine[:4], key=lambda o: o.start))


def test_the_fit_ranks_a_lot_s_freshness_as_before(app, world):
    """A harvest lot read from the database (``fit_for``) ranks as the former search did."""
    p1 = world.participants["P001"]
    db.session.add(
        HarvestLot(
            code="L0001",
            participant_id=p1.id,
            product="黄瓜",
            unit="kg",
            ready_at=world.local(-1, 0),
            best_before=world.local(1, 0),
        )
    )
    db.session.commit()
    now = world.local(0, 0) - timedelta(days=1)
    fit = finder.fit_for(p1.id, now=now, prime=True)
    want, _ = _former(p1, SlotFilter(), now=now, fit=fit)
    assert finder.search(p1, SlotFilter(), now=now, prime=True).offers == want


# --- two processes on one database -----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def two_processes(request, tmp_path):
    """Two apps on one database, each with its own engine and so its own kept open slots (as
    two web processes have), and a plain connection that writes behind both."""
    if request.param == "sqlite":
        path = tmp_path / "shared.sqlite"
        url = f"sqlite:///{path}"

        def plain():
            return sqlite3.connect(path)
    else:
        url = request.getfixturevalue("pg_server").create("chunlei_cache")
        raw = url.replace("postgresql+psycopg://", "postgresql://")

        def plain():
            return psycopg.connect(raw)

    first, second = make_app(url), make_app(url)
    with first.app_context():
        db.create_all()
    yield first, second, plain
    for app in (first, second):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _offered(app, participant: str, now: datetime) -> set[str]:
    """The slot codes ``participant``'s search offers in ``app`` (its transaction then ends)."""
    with app.app_context():
        person = db.session.scalar(select(Participant).where(Participant.code == participant))
        found = finder.search(person, SlotFilter(), now=now)
        codes = {c for o in found.offers for s in o.studios for c in s.slot_codes}
        db.session.rollback()
        return codes


def _in(app, work):
    with app.app_context():
        done = work()
        db.session.commit()
        return done


def _user(name: str) -> User:
    return db.session.scalars(select(User).where(User.username == name)).one()


def _slot(code: str) -> Slot:
    return db.session.scalars(select(Slot).where(Slot.code == code)).one()


def test_another_process_s_changes_are_seen_by_the_next_search(two_processes):
    web, other, plain = two_processes
    world = _in(web, build_world)
    now = world.local(0, 0) - timedelta(days=1)
    taken, blocked = world.slot("B001-S1", 1, 10), world.slot("B001-S2", 1, 12)
    by_hand, draft = world.slot("B002-S1", 2, 14), world.slot("B002-S1", 7, 10)
    before = _offered(web, "P001", now)
    assert {taken, blocked, by_hand} <= before and draft not in before
    assert _in(web, lambda: open_slots(now)) is _in(web, lambda: open_slots(now))  # kept

    # Booking and cancelling change holds only: read on every search, the version stays.
    kept = _in(web, version)
    made = _in(other, lambda: booking_service.book(_user("p2"), [taken]).id)
    assert taken not in _offered(web, "P001", now)
    assert _in(web, version) == kept, "a booking bumped the timetable's version"

    _in(other, lambda: timetable.block_slot(_slot(blocked), "检修", _user("op1")))
    assert blocked not in _offered(web, "P001", now)
    assert _in(web, version) != kept
    _in(other, lambda: timetable.unblock_slot(_slot(blocked), _user("op1")))
    assert blocked in _offered(web, "P001", now)

    def publish():
        week = db.session.scalars(select(TimetableWeek).where(TimetableWeek.state == "draft")).one()
        timetable.publish_week(week, _user("op2"))

    _in(other, publish)
    assert draft in _offered(web, "P001", now)

    with plain() as conn:  # a hand-made UPDATE, outside the app: the database bumps the version
        conn.execute(f"UPDATE slots SET state = 'blocked' WHERE code = '{by_hand}'")
        conn.commit()
    assert by_hand not in _offered(web, "P001", now)

    _in(other, lambda: retire_studio(
        db.session.scalars(select(Studio).where(Studio.code == "B001-S2")).one(), _user("admin"),
        now=now,
    ))  # fmt: skip
    assert not any(c.startswith("B001-S2") for c in _offered(web, "P001", now))

    _in(other, lambda: lifecycle.cancel(_user("p2"), db.session.get(Booking, made), now=now))
    assert taken in _offered(web, "P001", now)


def test_without_a_version_row_nothing_is_kept(app, world):
    now = world.local(0, 0) - timedelta(days=1)
    db.session.execute(delete(table("timetable_version")))
    db.session.commit()
    assert version() is None
    assert open_slots(now) is not open_slots(now)
    person = world.participants["P001"]
    want, _ = _former(person, SlotFilter(), now=now, fit=finder.fit_for(person.id, now=now))
    assert finder.search(person, SlotFilter(), now=now).offers == want
    db.session.execute(
        update(Slot).where(Slot.code == world.slot("B001-S1", 1, 10)).values(state="blocked")
    )
    db.session.commit()
    assert version() is not None  # the next change makes the row again, with a new epoch
    assert db.session.scalar(select(func.count()).select_from(table("timetable_version"))) == 1


def test_published_days_are_the_days_of_published_weeks_slots(app, world):
    """One probe per day gives the days the former DISTINCT over every slot gave."""
    first, last = world.week_start - timedelta(days=2), world.week_start + timedelta(days=13)
    days = {world.week_start + timedelta(days=k) for k in range(3)}  # the draft week's is not
    assert finder.published_days(first, last) == days
    slots = db.session.scalars(
        select(Slot).join(TimetableWeek).where(TimetableWeek.state == "published")
    ).all()
    assert {local_day(s.start) for s in slots} == days  # blocked and held slots count too
    assert finder.published_days(last, first) == set()


def test_the_base_picker_is_the_markup_wtforms_writes():
    from markupsafe import Markup
    from wtforms import Form, SelectField, widgets

    from app.main.labels import opts
    from app.participant.forms import LongSelect

    choices = opts([("", "Any base"), ("B001", 'Linyi "east" <&>'), ("B0'2", "赣州")])

    class Plain(Form):
        base = SelectField(choices=choices, widget=widgets.Select())

    class Long(Form):
        base = SelectField(choices=choices, widget=LongSelect())

    for picked in ("", "B001", "B0'2"):
        data = {"base": picked}
        want = Plain(data=data).base(class_="form-select")
        got = Long(data=data).base(class_="form-select")
        assert isinstance(got, Markup) and got == want, picked


def test_the_slots_are_read_with_the_collector_paused(app, world, monkeypatch):
    """Reading ~67,000 slots makes tuples that all live on: a cyclic collection meanwhile walks
    them over and over (a fifth to a third of the programme week's read) and finds nothing."""
    from app.services.booking import open_slots as kept

    seen: list[bool] = []
    read = kept._read

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return read(*args, **kwargs)

    monkeypatch.setattr(kept, "_read", watched)
    was = gc.isenabled()
    gc.enable()
    try:
        open_slots(world.local(0, 0) - timedelta(days=1))
        assert seen == [False]
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()
