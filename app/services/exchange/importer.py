"""Load a ``livehub-instance/1`` week into an empty database (the inverse of week_export).

Exporting the imported week gives back the same file, up to ordering. The instance's own
bookings are checked first (scheduler.validate.check_instance): a file whose bookings break a
hard rule, or share a slot, is refused before anything is written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from app.extensions import AnySession
from app.models import (
    AuditEvent,
    Booking,
    BookingRequest,
    BookingSlot,
    HarvestLot,
    Hub,
    Participant,
    PlanningWeek,
    PreferredHub,
    PrimeRecent,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
    booking_code,
    request_allowed_hubs,
    utcnow,
)
from app.models.vocabulary import ActorKind, Origin, RequestStatus, SlotState, WeekState
from app.services.bulk import copy_rows, insert_coded
from app.services.timetable.weeks import is_database_empty
from scheduler.domain import Instance
from scheduler.validate import check_instance


class WeekImportError(ValueError):
    """An instance that cannot be imported; one line for the user."""


#: Upper bounds of the file's counts: a week of the product, far inside the database's integers.
MAX_HORIZON_DAYS = 31
MAX_COUNT = 10_000


def _check_sizes(inst: Instance) -> None:
    """Refuse counts no week can have before the database sees them (it would overflow)."""
    if not 1 <= inst.horizon_days <= MAX_HORIZON_DAYS:
        raise WeekImportError(f"horizon.days must be from 1 to {MAX_HORIZON_DAYS}")
    cap = inst.policy.max_sessions_per_day
    if cap is not None and not 1 <= cap <= MAX_COUNT:
        raise WeekImportError(f"policy.max_sessions_per_day must be from 1 to {MAX_COUNT}")
    for r in inst.requests:
        for field, value in (("sessions", r.sessions), ("length", r.length)):
            if not 1 <= value <= MAX_COUNT:
                raise WeekImportError(f"request {r.id}: {field} must be from 1 to {MAX_COUNT}")


def import_week(session: AnySession, inst: Instance, *, timezone: str) -> PlanningWeek:
    """Write the instance's week (not committed). Refuses a non-empty database."""
    if not is_database_empty(session):
        raise WeekImportError("the database is not empty; import-week loads into an empty database")
    if inst.timezone != timezone:
        raise WeekImportError(
            f"the file's time zone is {inst.timezone}, this site runs on {timezone}"
        )
    _check_sizes(inst)
    broken = check_instance(inst)
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise WeekImportError(
            f"the file's bookings break rule {broken[0].rule}: {broken[0].message}{more}"
        )
    now = utcnow()
    week = PlanningWeek(
        week_start=inst.horizon_start,
        days=inst.horizon_days,
        name=inst.name,
        max_sessions_per_day=inst.policy.max_sessions_per_day,
        same_day_same_base=inst.policy.same_day_same_base,
        target_utilization=inst.policy.target_utilization,
        category_separation=inst.policy.category_separation,
    )
    session.add(week)
    session.flush()
    session.execute(
        insert(Hub),
        [
            {
                "code": b.id,
                "name": b.name,
                "city": b.city,
                "province": b.province,
                "region": b.region,
                "lat": b.lat,
                "lon": b.lon,
            }
            for b in inst.bases
        ],
    )
    hub_id = dict(session.execute(select(Hub.code, Hub.id)).tuples().all())
    studios = [
        {"code": s.id, "hub_id": hub_id[b.id], "features": sorted(s.features), "position": k}
        for b in inst.bases
        for k, s in enumerate(b.studios)
    ]
    if studios:
        session.execute(insert(Studio), studios)
    session.execute(
        insert(TimetableWeek),
        [
            {
                "hub_id": hid,
                "week_start": inst.horizon_start,
                "state": WeekState.PUBLISHED,
                "published_at": now,
            }
            for hid in sorted(hub_id.values())
        ],
    )
    tw_id = dict(session.execute(select(TimetableWeek.hub_id, TimetableWeek.id)).tuples().all())
    studio_id = dict(session.execute(select(Studio.code, Studio.id)).tuples().all())
    slots = [
        {
            "code": s.id,
            "studio_id": studio_id[s.studio],
            "timetable_week_id": tw_id[hub_id[inst.studio_by_id[s.studio].base]],
            "start": s.start,
            "end": s.end,
            "prime": s.prime,
            "state": SlotState.OPEN,
        }
        for s in inst.slots
    ]
    copy_rows(session, Slot, slots)
    if inst.participants:
        copy_rows(
            session,
            Participant,
            [
                {
                    "code": p.id,
                    "name": p.name,
                    "kind": p.kind,
                    "province": p.province,
                    "region": p.region,
                    "lat": p.lat,
                    "lon": p.lon,
                    "priority": p.priority,
                    "category": p.category,
                }
                for p in inst.participants
            ],
        )
    _prime_recent(session, inst, week.id)
    _requests(session, inst, week.id, now)
    _bookings(session, inst, week.id, now)
    return week


def _prime_recent(session: AnySession, inst: Instance, week_id: int) -> None:
    """The file's ``prime_recent`` values, kept for this week (absent ones stay absent)."""
    known = [p for p in inst.participants if p.prime_recent is not None]
    if not known:
        return
    person = dict(session.execute(select(Participant.code, Participant.id)).tuples().all())
    session.execute(
        insert(PrimeRecent),
        [
            {
                "planning_week_id": week_id,
                "participant_id": person[p.id],
                "sessions": p.prime_recent,
            }
            for p in known
        ],
    )


def _harvest_lots(session: AnySession, inst: Instance, now: datetime) -> dict[str, int]:
    """One lot per participant and ``ready`` .. ``best_before`` the file's requests name; the
    lot id of each request with a harvest. The file says nothing of product and quantity: the
    product is the participant's category, the quantity unknown."""
    person = dict(session.execute(select(Participant.code, Participant.id)).tuples().all())
    keys: dict[tuple[str, datetime, datetime], str] = {}
    for r in inst.requests:
        if r.harvest is not None:
            key = (r.participant, r.harvest.ready, r.harvest.best_before)
            keys.setdefault(key, f"L{len(keys) + 1:06d}")
    if not keys:
        return {}
    session.execute(
        insert(HarvestLot),
        [
            {
                "code": code,
                "participant_id": person[pid],
                "product": inst.participant_by_id[pid].category or "produce",
                "quantity": None,
                "unit": "kg",
                "ready_at": ready,
                "best_before": best_before,
                "created_at": now,
            }
            for (pid, ready, best_before), code in keys.items()
        ],
    )
    lot_id = dict(session.execute(select(HarvestLot.code, HarvestLot.id)).tuples().all())
    return {
        r.id: lot_id[keys[(r.participant, r.harvest.ready, r.harvest.best_before)]]
        for r in inst.requests
        if r.harvest is not None
    }


def _requests(session: AnySession, inst: Instance, week_id: int, now: datetime) -> None:
    if not inst.requests:
        return
    lots = _harvest_lots(session, inst, now)
    person = dict(session.execute(select(Participant.code, Participant.id)).tuples().all())
    # NULLs written, not left out: every row has the same columns (on SQLite the rows then go in
    # pages of one statement; left out, each run of rows with another set of NULLs was a
    # statement of its own).
    copy_rows(
        session,
        BookingRequest,
        [
            {
                "code": r.id,
                "participant_id": person[r.participant],
                "planning_week_id": week_id,
                "sessions": r.sessions,
                "length": r.length,
                "window_start": r.window_start,
                "window_end": r.window_end,
                "any_base": r.bases is None,
                "max_km": r.max_km,
                "needs": sorted(r.needs),
                "prefer_prime": r.prefer_prime,
                "status": RequestStatus.OPEN,
                "created_at": now,
                "harvest_lot_id": lots.get(r.id),
            }
            for r in inst.requests
        ],
    )
    rid = dict(session.execute(select(BookingRequest.code, BookingRequest.id)).tuples().all())
    hid = dict(session.execute(select(Hub.code, Hub.id)).tuples().all())
    allowed = [
        {"request_id": rid[r.id], "hub_id": hid[b]}
        for r in inst.requests
        for b in sorted(set(r.bases or ()))
    ]
    copy_rows(session, request_allowed_hubs, allowed)
    preferred = []
    for r in inst.requests:
        seen: set[str] = set()
        for b in r.prefer_bases:
            if b not in seen:
                seen.add(b)
                preferred.append({"request_id": rid[r.id], "hub_id": hid[b], "rank": len(seen) - 1})
    copy_rows(session, PreferredHub, preferred)


def _bookings(session: AnySession, inst: Instance, week_id: int, now: datetime) -> None:
    if not inst.bookings:
        return
    rid = dict(session.execute(select(BookingRequest.code, BookingRequest.id)).tuples().all())
    person = dict(session.execute(select(Participant.code, Participant.id)).tuples().all())
    sid = dict(session.execute(select(Slot.code, Slot.id)).tuples().all())
    rows = []
    for b in inst.bookings:
        req = inst.request_by_id[b.request]
        rows.append(
            {
                "request_id": rid[b.request],
                "participant_id": person[req.participant],
                "planning_week_id": week_id,
                "status": b.status,
                "origin": Origin.IMPORT,
                "created_at": now,
                "updated_at": now,
            }
        )
    # Booking codes follow ids (K000123), as bookings made in the app do.
    ids = insert_coded(session, Booking, rows, booking_code)
    history, holds, audit = [], [], []
    for booking_id, b in zip(ids, inst.bookings, strict=True):
        for pos, code in enumerate(b.slots):
            history.append(
                {
                    "booking_id": booking_id,
                    "slot_id": sid[code],
                    "position": pos,
                    "assigned_at": now,
                }
            )
            holds.append({"slot_id": sid[code], "booking_id": booking_id, "held_at": now})
        audit.append(
            {
                "at": now,
                "actor_kind": ActorKind.SYSTEM,
                "action": "booking.imported",
                "booking_id": booking_id,
                "detail": {"status": b.status, "slots": list(b.slots), "request": b.request},
            }
        )
    copy_rows(session, BookingSlot, history)
    copy_rows(session, SlotHold, holds)
    copy_rows(session, AuditEvent, audit)
