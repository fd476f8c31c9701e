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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import DateTime, Engine, func, select, type_coerce

from app.extensions import db
from app.localtime import local_day
from app.models import Hub, Slot, SlotHold, Studio, TimetableVersion, TimetableWeek
from app.models.vocabulary import SlotState, WeekState
from scheduler.heap import collector_paused

#: How far before the asked instant a kept index reaches back, so requests a moment apart share it.
REACH_BACK = timedelta(days=1)


class Place(NamedTuple):
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


class OpenSlot(NamedTuple):
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


class Group(NamedTuple):
    """The open slots of one base at one time, the plainest studio first (as an offer lists
    its studios: a special studio stays for who needs it)."""

    start: datetime
    end: datetime
    hub_id: int
    week_start: date
    day: date
    slots: tuple[OpenSlot, ...]
    prime: bool
    #: The smallest studio code among the slots (what orders two offers of one base and time).
    first_code: str
    #: Whether every slot is of one planning week (one rule-6 policy for the whole group).
    one_week: bool = True
    #: Where the group is in ``OpenSlots`` (-1: a group of runs, made for one search).
    pos: int = -1


@dataclass(frozen=True)
class OpenSlots:
    """Every open slot of a published week starting after ``since``, of a studio in service,
    and the groups they make (one per time at a base).

    Kept as columns of plain values (slot ``k``, group ``pos``), not as an object per slot: a
    programme week has ~67,000 slots in ~40,000 groups, and the garbage collector scans every
    object it tracks on each full collection (as objects they added ~80 ms to each, in every
    page of the process). The columns are tuples of values the collector does not track, so it
    stops tracking them too. ``slot`` and ``group`` make the objects of what a search looks at.
    """

    key: tuple[int, int] | None
    since: datetime
    places: dict[int, Place]
    # Slot k: its id, code, start, end, prime, studio and planning week.
    slot_id: tuple[int, ...]
    code: tuple[str, ...]
    slot_start: tuple[datetime, ...]
    slot_end: tuple[datetime, ...]
    slot_prime: tuple[bool, ...]
    studio: tuple[int, ...]
    slot_week: tuple[date, ...]
    # Group pos, ordered by start (then base code and end): a time window is a slice.
    starts: tuple[datetime, ...]
    ends: tuple[datetime, ...]
    hub: tuple[int, ...]
    week: tuple[date, ...]
    day: tuple[date, ...]
    #: The group's slots (their k), the plainest studio first.
    members: tuple[tuple[int, ...], ...]
    prime: tuple[bool, ...]
    first_code: tuple[str, ...]
    one_week: tuple[bool, ...]
    #: Each base's groups (their positions), in time order.
    by_hub: dict[int, tuple[int, ...]]
    #: The group each slot is in (its position), by slot id.
    group_of: dict[int, int]
    #: Each studio's slots (their k) in time order (runs of consecutive slots are made from them).
    by_studio: dict[int, tuple[int, ...]]
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

    def slot(self, k: int) -> OpenSlot:
        return OpenSlot(
            self.slot_id[k], self.code[k], self.slot_start[k], self.slot_end[k],
            self.slot_prime[k], self.places[self.studio[k]], self.slot_week[k],
        )  # fmt: skip

    def group(self, pos: int, members: tuple[int, ...] | None = None) -> Group:
        """Group ``pos`` (with only its slots ``members``, when given)."""
        if members is None or members == self.members[pos]:
            return Group(
                self.starts[pos], self.ends[pos], self.hub[pos], self.week[pos], self.day[pos],
                tuple(map(self.slot, self.members[pos])), self.prime[pos], self.first_code[pos],
                self.one_week[pos], pos,
            )  # fmt: skip
        slots = tuple(map(self.slot, members))
        return Group(
            self.starts[pos], self.ends[pos], self.hub[pos], slots[0].week_start, self.day[pos],
            slots, any(s.prime for s in slots), min(s.place.studio_code for s in slots),
            len({s.week_start for s in slots}) == 1, pos,
        )  # fmt: skip


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
        with collector_paused():  # ~67,000 slots' tuples that all live on: see scheduler.heap
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
            str(region), lat, lon,
        )  # fmt: skip
    conn = db.session.connection()
    postgres = conn.dialect.name == "postgresql"
    # Instants are read as naive UTC (SQLite stores them so; PostgreSQL converts), which hash and
    # compare several times faster than instants in a zone, and are made aware once each.
    start, end = (
        (func.timezone("UTC", Slot.start), func.timezone("UTC", Slot.end))
        if postgres
        else (type_coerce(Slot.start, DateTime()), type_coerce(Slot.end, DateTime()))
    )
    result = conn.execute(
        select(Slot.id, Slot.code, start, end, Slot.prime, Slot.studio_id, TimetableWeek.week_start)
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .join(Studio, Studio.id == Slot.studio_id)
        .where(
            TimetableWeek.state == WeekState.PUBLISHED,
            Slot.state == SlotState.OPEN,
            Slot.start > since,
            Studio.retired_at.is_(None),
        )
    )
    # PostgreSQL's driver gives instants, dates and booleans as they are: its plain tuples skip
    # building a Row per slot (a third of the read). SQLite gives text, which the types decode.
    rows: list[tuple]
    if postgres:
        rows = list(result.cursor.fetchall())
        result.close()
    else:
        rows = [tuple(row) for row in result]
    if any(row[5] not in places for row in rows):  # a studio retired between the two reads
        rows = [row for row in rows if row[5] in places]
    rows.sort(key=itemgetter(2))  # by start: each studio's slots in time order
    utc = {
        value: value.replace(tzinfo=UTC) for value in {r[2] for r in rows} | {r[3] for r in rows}
    }
    slot_id = [row[0] for row in rows]
    code = [row[1] for row in rows]
    naive_starts = [row[2] for row in rows]
    naive_ends = [row[3] for row in rows]
    slot_start = [utc[value] for value in naive_starts]
    slot_end = [utc[value] for value in naive_ends]
    slot_prime = [bool(row[4]) for row in rows]
    studio = [row[5] for row in rows]
    slot_week = [row[6] for row in rows]
    code_of = {sid: p.studio_code for sid, p in places.items()}
    hub_of = {sid: p.hub_id for sid, p in places.items()}
    #: How an offer lists its studios: the plainest first (a special one stays for who needs it).
    plain_first = {sid: (len(p.features), p.studio_code) for sid, p in places.items()}
    by_time: dict[tuple[datetime, datetime, int], list[int]] = {}
    by_studio: dict[int, list[int]] = {}
    for k, (naive_start, naive_end, studio_id) in enumerate(
        zip(naive_starts, naive_ends, studio, strict=True)
    ):
        by_time.setdefault((naive_start, naive_end, hub_of[studio_id]), []).append(k)
        by_studio.setdefault(studio_id, []).append(k)
    base_of = {sid: p.base_code for sid, p in places.items()}
    g_rows = sorted(by_time.items(), key=lambda kv: (kv[0][0], base_of[studio[kv[1][0]]], kv[0][1]))
    days = {value: local_day(utc[value]) for value in {start for (start, _e, _h), _ks in g_rows}}
    g = _GroupColumns()
    by_hub: dict[int, list[int]] = {}
    group_of: dict[int, int] = {}
    for pos, ((_start, _end, hub_id), ks) in enumerate(g_rows):
        if len(ks) == 1:
            k = ks[0]
            g.members.append((k,))
            g.prime.append(slot_prime[k])
            g.first_code.append(code_of[studio[k]])
            g.one_week.append(True)
            group_of[slot_id[k]] = pos
        else:
            ks.sort(key=lambda k: plain_first[studio[k]])
            g.members.append(tuple(ks))
            g.prime.append(any(slot_prime[k] for k in ks))
            g.first_code.append(min(code_of[studio[k]] for k in ks))
            g.one_week.append(len({slot_week[k] for k in ks}) == 1)
            for k in ks:
                group_of[slot_id[k]] = pos
        by_hub.setdefault(hub_id, []).append(pos)
    g.starts = [utc[start] for (start, _e, _h), _ks in g_rows]
    g.ends = [utc[end] for (_s, end, _h), _ks in g_rows]
    g.hub = [hub_id for (_s, _e, hub_id), _ks in g_rows]
    g.week = [slot_week[ks[0]] for ks in g.members]
    g.day = [days[start] for (start, _e, _h), _ks in g_rows]
    return OpenSlots(
        key=key,
        since=since,
        places=places,
        slot_id=tuple(slot_id),
        code=tuple(code),
        slot_start=tuple(slot_start),
        slot_end=tuple(slot_end),
        slot_prime=tuple(slot_prime),
        studio=tuple(studio),
        slot_week=tuple(slot_week),
        starts=tuple(g.starts),
        ends=tuple(g.ends),
        hub=tuple(g.hub),
        week=tuple(g.week),
        day=tuple(g.day),
        members=tuple(g.members),
        prime=tuple(g.prime),
        first_code=tuple(g.first_code),
        one_week=tuple(g.one_week),
        by_hub={hub: tuple(positions) for hub, positions in by_hub.items()},
        group_of=group_of,
        by_studio={sid: tuple(ks) for sid, ks in by_studio.items()},
        week_starts=frozenset(slot_week),
        low=min(slot_id, default=1),
        high=max(slot_id, default=0),
    )


@dataclass
class _GroupColumns:
    """The group columns of ``OpenSlots`` while they are filled."""

    starts: list[datetime] = field(default_factory=list)
    ends: list[datetime] = field(default_factory=list)
    hub: list[int] = field(default_factory=list)
    week: list[date] = field(default_factory=list)
    day: list[date] = field(default_factory=list)
    members: list[tuple[int, ...]] = field(default_factory=list)
    prime: list[bool] = field(default_factory=list)
    first_code: list[str] = field(default_factory=list)
    one_week: list[bool] = field(default_factory=list)
