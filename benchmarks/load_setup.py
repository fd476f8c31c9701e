"""The load run's database side: a scratch PostgreSQL database with the demo week, benchmark
participants with tokens, a booking plan that keeps the rules, and the integrity check after.

Used by ``benchmarks.load_booking``; see its docstring for the command.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import defaultdict

import psycopg


def create_database(server_url: str) -> tuple[str, str, str]:
    """A new empty database; returns (its name, the maintenance URL, its URL)."""
    base = server_url.replace("postgresql+psycopg://", "postgresql://").rpartition("/")[0]
    name = f"chunlei_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"{base}/postgres", f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    """Drop the scratch database (closing whatever still uses it)."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(db_url: str, secret: str, people: int, seed: int) -> dict:
    """Migrate, seed the demo week, add ``people`` fresh participants with tokens."""
    os.environ["DATABASE_URL"] = db_url
    os.environ["SECRET_KEY"] = secret
    from argon2 import PasswordHasher
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import create_app
    from app.api.auth import issue_token
    from app.demo.seed import seed_demo
    from app.extensions import db
    from app.localtime import local_zone
    from app.models import Participant, User
    from app.services.timetable.weeks import next_week_start

    app = create_app()
    with app.app_context():
        t0 = time.perf_counter()
        upgrade()
        week = next_week_start(tz=local_zone())
        result = seed_demo(db.session, seed=seed, week_start=week)
        print(f"  migrated and seeded the week of {week} in {time.perf_counter() - t0:.1f} s")
        print("  " + ", ".join(f"{k} {v:,}" for k, v in result.counts.items()))
        cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("bench")
        db.session.execute(
            insert(Participant),
            [
                {
                    "code": f"PB{i:05d}",
                    "name": f"压测合作社{i}",
                    "kind": "producer",
                    "province": "山东省",
                    "region": "east",
                    "lat": 36.0,
                    "lon": 118.0,
                    "priority": 1,
                }
                for i in range(people)
            ],
        )
        pid = dict(db.session.execute(select(Participant.code, Participant.id)).all())
        db.session.execute(
            insert(User),
            [
                {
                    "username": f"bench{i}",
                    "role": "participant",
                    "participant_id": pid[f"PB{i:05d}"],
                    "password_hash": cheap,
                }
                for i in range(people)
            ],
        )
        db.session.commit()
        users = db.session.scalars(select(User).where(User.username.like("bench%"))).all()
        tokens = [issue_token(u) for u in sorted(users, key=lambda u: u.id)]
        rows = db.session.execute(select_free_slots(), {"after": week_start_instant(week)}).all()
        db.session.remove()
        db.engine.dispose()  # no set-up connection stays open beside the server's
    return {"tokens": tokens, "free": rows, "week": week}


def select_free_slots():
    """Open, unheld, future slots of published weeks: code, base, local day."""
    from sqlalchemy import text

    return text(
        """
        SELECT s.code, h.code, (s.start AT TIME ZONE 'Asia/Shanghai')::date AS day
        FROM slots s JOIN studios st ON st.id = s.studio_id JOIN hubs h ON h.id = st.hub_id
        JOIN timetable_weeks tw ON tw.id = s.timetable_week_id
        LEFT JOIN slot_holds sh ON sh.slot_id = s.id
        WHERE tw.state = 'published' AND s.state = 'open' AND sh.slot_id IS NULL
          AND s.start > :after
        ORDER BY s.id
        """
    )


def week_start_instant(week):
    """Book only slots after now (and after the week's start)."""
    from datetime import datetime
    from datetime import time as dtime
    from zoneinfo import ZoneInfo

    return max(
        datetime.combine(week, dtime(0), ZoneInfo("Asia/Shanghai")),
        datetime.now(ZoneInfo("UTC")),
    )


def plan_bookings(free: list, people: int, count: int, contested: float, rng) -> list:
    """(person, slot) pairs that keep the rules: at most one slot per person and day.

    A ``contested`` share is added on top: a second person, free that day, aims at a slot
    already planned for someone else — exactly one of the two must win (201 and 409).
    """
    by_day = defaultdict(list)
    for code, _hub, day in free:
        by_day[day].append(code)
    slot_day = {code: day for code, _hub, day in free}
    plan: list[tuple[int, str]] = []
    busy: set[tuple[int, object]] = set()
    person_days = [(p, d) for d in sorted(by_day) for p in range(people)]
    rng.shuffle(person_days)
    for p, d in person_days:
        if len(plan) >= count or not by_day[d]:
            continue
        plan.append((p, by_day[d].pop()))
        busy.add((p, d))
    rivals = []
    for p, slot in plan[: int(len(plan) * contested)]:
        day = slot_day[slot]
        other = next(
            (q for q in rng.sample(range(people), people) if q != p and (q, day) not in busy),
            None,
        )
        if other is not None:
            busy.add((other, day))
            rivals.append((other, slot))
    plan = plan[: count - len(rivals)] + rivals
    rng.shuffle(plan)
    return plan


def verify(db_url: str, created: int) -> list[str]:
    """Zero double bookings, holds consistent with bookings, one booking per 201."""
    problems = []
    with psycopg.connect(db_url.replace("+psycopg", "")) as conn:
        doubles = conn.execute(
            """SELECT bs.slot_id, count(*) FROM booking_slots bs JOIN bookings b
               ON b.id = bs.booking_id WHERE bs.released_at IS NULL
               AND b.status IN ('tentative', 'confirmed', 'locked')
               GROUP BY bs.slot_id HAVING count(*) > 1"""
        ).fetchall()
        if doubles:
            problems.append(f"{len(doubles)} slot(s) booked twice: {doubles[:5]}")
        mismatched = conn.execute(
            """SELECT count(*) FROM booking_slots bs JOIN bookings b ON b.id = bs.booking_id
               LEFT JOIN slot_holds h ON h.slot_id = bs.slot_id AND h.booking_id = b.id
               WHERE bs.released_at IS NULL AND b.status <> 'cancelled' AND h.slot_id IS NULL"""
        ).fetchone()[0]
        if mismatched:
            problems.append(f"{mismatched} active booking slot(s) without a hold")
        made = conn.execute(
            """SELECT count(*) FROM bookings b JOIN participants p ON p.id = b.participant_id
               WHERE p.code LIKE 'PB%'"""
        ).fetchone()[0]
        if made != created:
            problems.append(f"{created} answers 201 but {made} bookings in the database")
        capped = conn.execute(
            """SELECT participant_id, day, count(*) FROM (
                 SELECT b.id, b.participant_id,
                        (min(s.start) AT TIME ZONE 'Asia/Shanghai')::date AS day
                 FROM bookings b JOIN slot_holds h ON h.booking_id = b.id
                 JOIN slots s ON s.id = h.slot_id GROUP BY b.id, b.participant_id) sessions
               GROUP BY 1, 2 HAVING count(*) > 2"""
        ).fetchall()
        if capped:
            problems.append(f"{len(capped)} participant-day(s) over the daily cap")
    return problems
