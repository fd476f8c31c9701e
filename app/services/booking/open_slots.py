"""The open slots of published weeks, kept in each process until the timetable's version moves.

Slot search ranks every offer of the programme's week on each page (~33,000 offers from
~54,000 free slots); reading and decoding the slots again for every search was most of a
second. What changes with every booking — which slots are held — is still read on each search
(one narrow query on the holds' key, ``held_ids``). What changes only when an operator
publishes, blocks, unblocks, edits a timetable, retires a studio or edits a base is kept here,
grouped the way search shows it (one group per time at a base), keyed by ``timetable_version``:
the database's triggers bump that row in the writing transaction, whoever writes. The version
is read before the slots, so what is kept is never older than its key; a version read while a
change is still uncommitted only makes the next search read again.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import DateTime, Engine, select, type_coerce

from app.extensions import db
from app.localtime import local_day
from app.models import Hub, Slot, SlotHold, Studio, TimetableVersion, TimetableWeek
from app.models.vocabulary import SlotState, WeekState

#: How far before the asked instant a kept index reaches back, so requests a moment apart share it.
REACH_BACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Place:
    """A studio with its base, as results show them."""

    studio_id: int
    studio_code: str
    studio_name: str | None
    features: tuple[str, ...]
    hub_id: int
    base_code: str
    base_name: str
    city: str
    province: str
    region: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class OpenSlot:
    """One open slot of a published week (held or not: holds are read per search), or a run of
    consecutive ones (``codes``, from its first slot's start to its last slot's end)."""

    id: int
    code: str
    start: datetime
    end: datetime
    prime: bool
    place: Place
    week_start: date
    codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """The open slots of one base at one time, the plainest studio first (as an offer lists
    its studios: a special studio stays for who needs it)."""

    start: datetime
    end: datetime
    hub_id: int
    week_start: date
    day: date
    slots: tuple[OpenSlot, ...]
    ids: frozenset[int]
    prime: bool
    #: The smallest studio code among the slots (what orders two offers of one base and time).
    first_code: str
    #: Whether every slot is of one planning week (one rule-6 policy for the whole group).
    one_week: bool = True
    #: Where the group is in ``OpenSlots.groups``.
    pos: int = -1


@dataclass(frozen=True)
class OpenSlots:
    """Every open slot of a published week starting after ``since``, of a studio in service."""

    key: tuple[int, int] | None
    since: datetime
    places: dict[int, Place]
    #: Ordered by start (then base and end): a time window is a slice.
    groups: list[Group]
    starts: list[datetime]
    #: Each base's groups (their positions), in time order.
    by_hub: dict[int, list[int]]
    #: The group each slot is in (its position).
    group_of: dict[int, int]
    #: Each studio's open slots in time order (runs of consecutive slots are made from them).
    by_studio: dict[int, list[OpenSlot]]
    week_starts: frozenset[date]
    #: The smallest and largest slot id kept: the holds that matter lie between them.
    low: int
    high: int

    def bounds(
        self, after: datetime, start_from: datetime | None, start_until: datetime | None
    ) -> tuple[int, int]:
        """The positions ``i:j`` of the groups starting after ``after``, from ``start_from``
        and before ``start_until``."""
        i = bisect_right(self.starts, after)
        if start_from is not None:
            i = max(i, bisect_left(self.starts, start_from))
        j = len(self.starts) if start_until is None else bisect_left(self.starts, start_until)
        return i, max(i, j)


_kept: WeakKeyDictionary[Engine, OpenSlots] = WeakKeyDictionary()
_building = threading.Lock()


def version() -> tuple[int, int] | None:
    """The timetable's version (epoch, counter), or None when its row is missing."""
    row = db.session.execute(
        select(TimetableVersion.epoch, TimetableVersion.n).where(TimetableVersion.id == 1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def open_slots(now: datetime) -> OpenSlots:
    """The open slots for a search at ``now``: this process's copy while the timetable's
    version is the one it was read at, else read again (and kept, when there is a version)."""
    key = version()
    engine = db.engine
    kept = _kept.get(engine)
    if key is not None and kept is not None and kept.key == key and kept.since < now:
        return kept
    with _building:  # one read at a time: a thread arriving meanwhile takes the fresh copy
        kept = _kept.get(engine)
        if key is not None and kept is not None and kept.key == key and kept.since < now:
            return kept
        fresh = _read(key, now - REACH_BACK)
        if key is not None:
            _kept[engine] = fresh
        return fresh


def held_ids(index: OpenSlots) -> set[int]:
    """The ids of the kept slots that a booking holds now (read on every search)."""
    if index.low > index.high:
        return set()
    result = db.session.connection().execute(
        select(SlotHold.slot_id).where(SlotHold.slot_id.between(index.low, index.high))
    )
    # The driver's plain tuples: ~12,000 ids on the programme week, where building a Row for
    # each took two thirds of the query's time.
    rows = result.cursor.fetchall()
    result.close()
    return {slot_id for (slot_id,) in rows}


def _read(key: tuple[int, int] | None, since: datetime) -> OpenSlots:
    """Read the open slots starting after ``since`` (plain rows, as ``slots.find_free_slots``)."""
    places: dict[int, Place] = {}
    for row in db.session.execute(
        select(
            Studio.id, Studio.code, Studio.name, Studio.features, Hub.id, Hub.code, Hub.name,
            Hub.city, Hub.province, Hub.region, Hub.lat, Hub.lon,
        )
        .join(Hub, Hub.id == Studio.hub_id)
        .where(Studio.retired_at.is_(None))
    ):  # fmt: skip
        sid, s_code, s_name, feats, hub_id, b_code, b_name, city, prov, region, lat, lon = row
        places[sid] = Place(
            sid, s_code, s_name, tuple(feats or ()), hub_id, b_code, b_name, city, prov,
            region, lat, lon,
        )  # fmt: skip
    rows = db.session.connection().execute(
        select(
            Slot.id,
            Slot.code,
            type_coerce(Slot.start, DateTime(timezone=True)),
            type_coerce(Slot.end, DateTime(timezone=True)),
            Slot.prime,
            Slot.studio_id,
            TimetableWeek.week_start,
        )
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .join(Studio, Studio.id == Slot.studio_id)
        .where(
            TimetableWeek.state == WeekState.PUBLISHED,
            Slot.state == SlotState.OPEN,
            Slot.start > since,
            Studio.retired_at.is_(None),
        )
    )
    instants: dict[datetime, datetime] = {}

    def utc(value: datetime) -> datetime:
        if value not in instants:  # SQLite gives naive UTC, PostgreSQL the session's zone
            instants[value] = (
                value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            )
        return instants[value]

    slots = [
        OpenSlot(slot_id, code, utc(start), utc(end), bool(prime), places[studio_id], week_start)
        for slot_id, code, start, end, prime, studio_id, week_start in rows
        if studio_id in places
    ]
    by_time: dict[tuple[datetime, datetime, int], list[OpenSlot]] = {}
    by_studio: dict[int, list[OpenSlot]] = {}
    for s in sorted(slots, key=lambda s: (s.start, s.place.studio_code)):
        by_time.setdefault((s.start, s.end, s.place.hub_id), []).append(s)
        by_studio.setdefault(s.place.studio_id, []).append(s)
    days: dict[datetime, date] = {}
    ordered = sorted(by_time.items(), key=lambda kv: (kv[0][0], kv[1][0].place.base_code, kv[0][1]))
    groups = []
    by_hub: dict[int, list[int]] = {}
    group_of: dict[int, int] = {}
    for pos, ((start, end, hub_id), members) in enumerate(ordered):
        members.sort(key=lambda s: (len(s.place.features), s.place.studio_code))
        if start not in days:
            days[start] = local_day(start)
        weeks = {s.week_start for s in members}
        groups.append(
            Group(
                start, end, hub_id, members[0].week_start, days[start], tuple(members),
                frozenset(s.id for s in members), any(s.prime for s in members),
                min(s.place.studio_code for s in members), len(weeks) == 1, pos,
            )
        )  # fmt: skip
        by_hub.setdefault(hub_id, []).append(pos)
        for s in members:
            group_of[s.id] = pos
    ids = [s.id for s in slots]
    return OpenSlots(
        key=key,
        since=since,
        places=places,
        groups=groups,
        starts=[g.start for g in groups],
        by_hub=by_hub,
        group_of=group_of,
        by_studio=by_studio,
        week_starts=frozenset(s.week_start for s in slots),
        low=min(ids, default=1),
        high=max(ids, default=0),
    )
