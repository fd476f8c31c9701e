"""``seed-demo``: write a deterministic demo week into an empty database with bulk inserts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import insert, select

from app.demo.bookings import place_bookings
from app.demo.programme import PROGRAMME_KM, build_origin_bases
from app.demo.world import (
    DEMO_KM,
    World,
    build_hubs,
    build_participants,
    build_requests,
    max_bases,
)
from app.extensions import AnySession
from app.localtime import local_zone
from app.models import (
    AuditEvent,
    Booking,
    BookingRequest,
    BookingSlot,
    Hub,
    Participant,
    ParticipantProfile,
    PlanningWeek,
    PreferredHub,
    Slot,
    SlotHold,
    Studio,
    TemplateBlock,
    TimetableTemplate,
    TimetableWeek,
    User,
    booking_code,
    operator_hubs,
    request_allowed_hubs,
)
from app.services.bulk import copy_rows, insert_coded
from app.services.timetable.weeks import is_database_empty, week_name

DEMO_PASSWORDS = {
    "admin": "chunlei-admin",
    "operator": "chunlei-operator",
    "participant": "chunlei-p",
}
PARTICIPANT_ACCOUNTS = 20


class SeedError(ValueError):
    """Bad seed-demo arguments or a database that is not empty."""


@dataclass(frozen=True)
class SeedResult:
    counts: dict[str, int]
    logins: list[tuple[str, str, str]]  # username, password, what it is


def seed_demo(
    session: AnySession,
    *,
    seed: int,
    week_start: date,
    bases: int = 100,
    requests: int = 6000,
    participants: int | None = None,
    origin_bases: int = 0,
    max_sessions_per_day: int = 2,
    same_day_same_base: bool = True,
    target_utilization: float = 0.85,
    timezone: str = "Asia/Shanghai",
) -> SeedResult:
    """Fill an empty database with the demo week; same arguments, same data. Commits.

    ``origin_bases`` adds that many digital-agriculture origin bases at real county seats
    (the whole programme's week); their codes, like all others then, have four digits.
    """
    if not 1 <= bases <= max_bases():
        raise SeedError(f"--bases must be between 1 and {max_bases()}")
    if requests < 1:
        raise SeedError("--requests must be at least 1")
    if participants is not None and participants < 1:
        raise SeedError("--participants must be at least 1")
    if not 0 <= origin_bases <= 5000:
        raise SeedError("the number of origin bases must be between 0 and 5000")
    if not is_database_empty(session):
        raise SeedError("the database is not empty; seed-demo only fills an empty database")
    n_people = participants or max(1, round(requests * 0.6))
    rng = random.Random(seed)
    world = World(seed=seed, week_start=week_start, tz=local_zone(timezone))
    kinds = build_hubs(world, rng, bases, code_width=4 if origin_bases else 3)
    origins = None
    if origin_bases:
        try:
            origins = build_origin_bases(world, rng, origin_bases, first_number=bases + 1)
        except ValueError as e:
            raise SeedError(str(e)) from None
        kinds.update(dict.fromkeys((h["code"] for h in world.hubs[bases:]), "farm"))
    build_participants(world, rng, n_people, kinds, origins)
    build_requests(world, rng, requests, PROGRAMME_KM if origin_bases else DEMO_KM)
    place_bookings(
        world, rng, max_per_day=max_sessions_per_day, same_day_same_base=same_day_same_base
    )

    week = PlanningWeek(
        week_start=week_start,
        days=7,
        name=week_name(week_start),
        max_sessions_per_day=max_sessions_per_day,
        same_day_same_base=same_day_same_base,
        target_utilization=target_utilization,
    )
    session.add(week)
    session.flush()
    published = world.local(-7, 12)
    _write_places(session, world, published)
    _write_requests(session, world, week.id)
    logins = _write_users(session, world)
    _write_bookings(session, world, week.id, published)
    session.commit()
    counts = {
        "bases": len(world.hubs),
        "provinces": len({h["province"] for h in world.hubs}),
        "regions": len({h["region"] for h in world.hubs}),
        "studios": len(world.studios),
        "slots": sum(1 for s in world.slots if s["state"] == "open"),
        "blocked slots": sum(1 for s in world.slots if s["state"] != "open"),
        "participants": len(world.participants),
        "requests": len(world.requests),
    }
    if origin_bases:
        counts = {"bases": len(world.hubs), "origin bases": origin_bases} | counts
    for status in ("tentative", "confirmed", "locked", "cancelled"):
        counts[f"{status} bookings"] = sum(1 for b in world.bookings if b["status"] == status)
    counts["direct bookings"] = sum(1 for b in world.bookings if b["request_code"] is None)
    return SeedResult(counts, logins)


def _ids(session: AnySession, model) -> dict[str, int]:
    return dict(session.execute(select(model.code, model.id)).tuples().all())


def _write_places(session: AnySession, world: World, published: datetime) -> None:
    session.execute(insert(Hub), world.hubs)
    hub_id = _ids(session, Hub)
    session.execute(
        insert(Studio),
        [
            {
                "code": s["code"],
                "hub_id": hub_id[s["hub_code"]],
                "features": s["features"],
                "position": s["position"],
            }
            for s in world.studios
        ],
    )
    session.execute(
        insert(TimetableTemplate),
        [
            {"hub_id": hub_id[t["hub_code"]], "name": "标准周", "is_default": True}
            for t in world.templates
        ],
    )
    template_id = dict(
        session.execute(select(TimetableTemplate.hub_id, TimetableTemplate.id)).tuples().all()
    )
    session.execute(
        insert(TemplateBlock),
        [
            {
                "template_id": template_id[hub_id[t["hub_code"]]],
                "weekday": d,
                "start_minute": h * 60,
                "end_minute": (h + 2) * 60,
                "prime": h in (18, 20),
            }
            for t in world.templates
            for d in range(7)
            for h in range(t["open_hour"], t["close_hour"], 2)
        ],
    )
    session.execute(
        insert(TimetableWeek),
        [
            {
                "hub_id": hid,
                "week_start": world.week_start,
                "state": "published",
                "published_at": published,
            }
            for hid in sorted(hub_id.values())
        ],
    )
    tw_id = dict(session.execute(select(TimetableWeek.hub_id, TimetableWeek.id)).tuples().all())
    studio_id = _ids(session, Studio)
    copy_rows(
        session,
        Slot,
        [
            {
                "code": s["code"],
                "studio_id": studio_id[s["studio_code"]],
                "timetable_week_id": tw_id[hub_id[s["hub_code"]]],
                "start": s["start"],
                "end": s["end"],
                "prime": s["prime"],
                "state": s["state"],
            }
            for s in world.slots
        ],
    )
    copy_rows(session, Participant, world.participants)
    person = _ids(session, Participant)
    copy_rows(
        session,
        ParticipantProfile,
        [
            {
                "participant_id": person[p["participant_code"]],
                "city": p["city"],
                "categories": p["categories"],
            }
            for p in world.profiles
        ],
    )


def _write_requests(session: AnySession, world: World, week_id: int) -> None:
    person = _ids(session, Participant)
    copy_rows(
        session,
        BookingRequest,
        [
            {
                "code": r["code"],
                "participant_id": person[r["participant_code"]],
                "planning_week_id": week_id,
                "sessions": r["sessions"],
                "length": r["length"],
                "window_start": r["window_start"],
                "window_end": r["window_end"],
                "any_base": r["bases"] is None,
                "max_km": r["max_km"],
                "needs": r["needs"],
                "prefer_prime": r["prefer_prime"],
                "status": "open",
                "created_at": r["window_start"] - timedelta(days=10),
            }
            for r in world.requests
        ],
    )
    rid, hid = _ids(session, BookingRequest), _ids(session, Hub)
    allowed = [
        {"request_id": rid[r["code"]], "hub_id": hid[h]}
        for r in world.requests
        for h in r["bases"] or []
    ]
    copy_rows(session, request_allowed_hubs, allowed)
    preferred = [
        {"request_id": rid[r["code"]], "hub_id": hid[h], "rank": k}
        for r in world.requests
        for k, h in enumerate(r["prefer"])
    ]
    copy_rows(session, PreferredHub, preferred)


def _write_users(session: AnySession, world: World) -> list[tuple[str, str, str]]:
    hasher = PasswordHasher()
    hashes = {role: hasher.hash(pw) for role, pw in DEMO_PASSWORDS.items()}
    hub_id, person = _ids(session, Hub), _ids(session, Participant)
    rows: list[dict[str, object]] = [
        {
            "username": "admin",
            "display_name": "平台管理员",
            "role": "admin",
            "password_hash": hashes["admin"],
        }
    ]
    for h in world.hubs:
        rows.append(
            {
                "username": f"op-{h['code'].lower()}",
                "display_name": f"{h['name']}运营",
                "role": "operator",
                "password_hash": hashes["operator"],
            }
        )
    for p in world.participants[:PARTICIPANT_ACCOUNTS]:
        rows.append(
            {
                "username": p["code"].lower(),
                "display_name": p["name"],
                "role": "participant",
                "participant_id": person[p["code"]],
                "password_hash": hashes["participant"],
            }
        )
    session.execute(insert(User), rows)
    uid = dict(session.execute(select(User.username, User.id)).tuples().all())
    session.execute(
        insert(operator_hubs),
        [
            {"user_id": uid[f"op-{h['code'].lower()}"], "hub_id": hub_id[h["code"]]}
            for h in world.hubs
        ],
    )
    logins = [("admin", DEMO_PASSWORDS["admin"], "admin")]
    for h in world.hubs[:3]:
        logins.append(
            (
                f"op-{h['code'].lower()}",
                DEMO_PASSWORDS["operator"],
                f"operator of {h['code']} {h['name']}",
            )
        )
    for p in world.participants[:3]:
        logins.append(
            (
                p["code"].lower(),
                DEMO_PASSWORDS["participant"],
                f"participant {p['code']} {p['name']}",
            )
        )
    return logins


def _write_bookings(session: AnySession, world: World, week_id: int, published: datetime) -> None:
    rid, person, sid = (
        _ids(session, BookingRequest),
        _ids(session, Participant),
        _ids(session, Slot),
    )
    made = published + timedelta(days=1)
    rows = [
        {
            "request_id": rid[b["request_code"]] if b["request_code"] else None,
            "participant_id": person[b["participant_code"]],
            "planning_week_id": week_id,
            "status": b["status"],
            "origin": b["origin"],
            "created_at": made,
            "updated_at": made,
            "cancelled_at": made + timedelta(hours=2) if b["status"] == "cancelled" else None,
        }
        for b in world.bookings
    ]
    # Booking codes follow ids (K000123), as bookings made in the app do.
    ids = insert_coded(session, Booking, rows, booking_code)
    bid = {b["code"]: i for b, i in zip(world.bookings, ids, strict=True)}
    history, holds, audit = [], [], []
    for b in world.bookings:
        cancelled = b["status"] == "cancelled"
        for k, code in enumerate(b["slot_codes"]):
            history.append(
                {
                    "booking_id": bid[b["code"]],
                    "slot_id": sid[code],
                    "position": k,
                    "assigned_at": made,
                    "released_at": made + timedelta(hours=2) if cancelled else None,
                }
            )
            if not cancelled:
                holds.append({"slot_id": sid[code], "booking_id": bid[b["code"]], "held_at": made})
        kind = "optimizer" if b["origin"] == "optimizer" else "system"
        audit.append(
            {
                "at": made,
                "actor_kind": kind,
                "action": "booking.created",
                "booking_id": bid[b["code"]],
                "detail": {
                    "status": "tentative" if cancelled else b["status"],
                    "slots": b["slot_codes"],
                    "source": "seed-demo",
                },
            }
        )
        if cancelled:
            audit.append(
                {
                    "at": made + timedelta(hours=2),
                    "actor_kind": "system",
                    "action": "booking.cancelled",
                    "booking_id": bid[b["code"]],
                    "detail": {"source": "seed-demo"},
                }
            )
    copy_rows(session, BookingSlot, history)
    copy_rows(session, SlotHold, holds)
    copy_rows(session, AuditEvent, audit)
