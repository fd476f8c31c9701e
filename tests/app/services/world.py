"""A tiny hand-built world for booking tests: two bases, three studios, a published week.

Base B001 (Linyi, studios B001-S1 with a kitchen and B001-S2) and base B002 (Ganzhou, studio
B002-S1); each studio has four 2-hour slots a day on the first three days of the week
(10:00, 12:00, 14:00, 20:00 local; 20:00 is prime). One blocked slot, one draft week at B002
the week after. Users: admin, op1 (B001), op2 (B002), p1/p2/p3 (participants P001–P003).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher

from app.extensions import db
from app.models import (
    Hub,
    Participant,
    PlanningWeek,
    Slot,
    Studio,
    TimetableWeek,
    User,
)

TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse 42"
HOURS = (10, 12, 14, 20)
# A cheap Argon2 hash of PASSWORD: tests log in often, production parameters are slow on purpose.
_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass
class World:
    """Handles on the rows tests refer to by name."""

    week_start: date
    users: dict[str, User] = field(default_factory=dict)
    hubs: dict[str, Hub] = field(default_factory=dict)
    participants: dict[str, Participant] = field(default_factory=dict)

    def slot(self, studio: str, day: int, hour: int) -> str:
        """The code of the slot of ``studio`` on day ``day`` (0 = Monday) at ``hour`` local."""
        return f"{studio}-D{day}-{hour:02d}"

    def local(self, day: int, hour: int) -> datetime:
        return datetime.combine(self.week_start + timedelta(days=day), time(hour), TZ)


def next_monday(today: date | None = None) -> date:
    today = today or datetime.now(TZ).date()
    return today + timedelta(days=7 - today.weekday())


def build_world(week_start: date | None = None, *, max_per_day: int | None = 2) -> World:
    """Write the world into ``db.session`` and commit; returns the handles."""
    world = World(week_start=week_start or next_monday())
    db.session.add(
        PlanningWeek(
            week_start=world.week_start,
            days=7,
            name=f"week-{world.week_start.isoformat()}",
            max_sessions_per_day=max_per_day,
            same_day_same_base=True,
            target_utilization=0.85,
        )
    )
    linyi = Hub(
        code="B001",
        name="临沂直播基地",
        city="临沂市",
        province="山东省",
        region="east",
        lat=35.1,
        lon=118.35,
    )
    ganzhou = Hub(
        code="B002",
        name="赣州直播基地",
        city="赣州市",
        province="江西省",
        region="central",
        lat=25.83,
        lon=114.93,
    )
    world.hubs = {"B001": linyi, "B002": ganzhou}
    studios = [
        Studio(code="B001-S1", hub=linyi, features=["cold_chain", "kitchen"]),
        Studio(code="B001-S2", hub=linyi, features=[]),
        Studio(code="B002-S1", hub=ganzhou, features=["kitchen"]),
    ]
    db.session.add_all([linyi, ganzhou, *studios])
    for hub in (linyi, ganzhou):
        tw = TimetableWeek(
            hub=hub, week_start=world.week_start, state="published", published_at=world.local(-7, 9)
        )
        db.session.add(tw)
        for studio in (s for s in studios if s.hub is hub):
            for day in range(3):
                for hour in HOURS:
                    db.session.add(
                        Slot(
                            code=world.slot(studio.code, day, hour),
                            studio=studio,
                            timetable_week=tw,
                            start=world.local(day, hour),
                            end=world.local(day, hour + 2),
                            prime=hour == 20,
                            state="blocked"
                            if (studio.code, day, hour) == ("B001-S2", 0, 10)
                            else "open",
                        )
                    )
    draft = TimetableWeek(
        hub=ganzhou, week_start=world.week_start + timedelta(days=7), state="draft"
    )
    db.session.add(draft)
    db.session.add(
        Slot(
            code=world.slot("B002-S1", 7, 10),
            studio=studios[2],
            timetable_week=draft,
            start=world.local(7, 10),
            end=world.local(7, 12),
        )
    )
    for i, (name, lat, lon) in enumerate(
        [
            ("寿光蔬菜合作社", 36.85, 118.79),
            ("赣南脐橙合作社", 25.85, 114.9),
            ("义乌小商品公司", 29.3, 120.07),
        ],
        start=1,
    ):
        p = Participant(
            code=f"P{i:03d}",
            name=name,
            kind="producer" if i < 3 else "merchant",
            province="山东省",
            region="east",
            lat=lat,
            lon=lon,
            priority=1,
        )
        world.participants[p.code] = p
        db.session.add(p)
    admin = User(username="admin", role="admin")
    op1 = User(username="op1", role="operator", hubs=[linyi])
    op2 = User(username="op2", role="operator", hubs=[ganzhou])
    world.users = {"admin": admin, "op1": op1, "op2": op2}
    for i, p in enumerate(world.participants.values(), start=1):
        world.users[f"p{i}"] = User(
            username=f"p{i}", role="participant", participant=p, email=f"p{i}@example.test"
        )
    for user in world.users.values():
        user.password_hash = _HASH
        db.session.add(user)
    db.session.commit()
    return world
