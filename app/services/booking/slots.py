"""Finding free slots: published, open, not held, not started, filtered the way people ask.

Filters are region, province, base, day, time of day, studio features and distance from the
participant. Rows are read as plain columns (no ORM objects) so a national week of ~20k slots
filters quickly; distance and features are applied in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import DateTime, select, type_coerce

from app.extensions import db
from app.localtime import local_zone
from app.models import Hub, Participant, Slot, SlotHold, Studio, TimetableWeek, utcnow
from app.models.vocabulary import SlotState, WeekState
from scheduler.domain import haversine_km

#: Time of day by local start hour: morning before 12:00, afternoon before 18:00, evening after.
DAYPARTS = {"morning": (0, 12), "afternoon": (12, 18), "evening": (18, 24)}


@dataclass(frozen=True)
class SlotFilter:
    """What the person asked for; empty fields do not filter."""

    region: str | None = None
    province: str | None = None
    base: str | None = None
    day: date | None = None
    daypart: str | None = None
    features: frozenset[str] = field(default_factory=frozenset)
    max_km: float | None = None
    nearest_first: bool = False
    #: Consecutive slots of one studio wanted (a 4-hour session is two 2-hour slots).
    length: int = 1
    #: Only these bases (a request's allowed bases); empty: any.
    bases: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class FreeSlot:
    """One bookable slot as the result list shows it, with the distance from the participant."""

    code: str
    start: datetime
    end: datetime
    prime: bool
    studio_code: str
    studio_name: str | None
    features: tuple[str, ...]
    base_code: str
    base_name: str
    city: str
    province: str
    region: str
    km: float | None
    #: Every slot of a multi-slot session, in order (empty for a single slot).
    codes: tuple[str, ...] = ()
    hub_id: int = 0
    week_start: date | None = None

    @property
    def slot_codes(self) -> tuple[str, ...]:
        """The slots to book: one, or a run of consecutive ones."""
        return self.codes or (self.code,)


def runs_of(slots: list[FreeSlot], length: int) -> list[FreeSlot]:
    """Runs of ``length`` consecutive free slots of one studio, as one result each."""
    by_studio: dict[str, list[FreeSlot]] = {}
    for slot in sorted(slots, key=lambda r: (r.studio_code, r.start)):
        by_studio.setdefault(slot.studio_code, []).append(slot)
    runs = []
    for studio_slots in by_studio.values():
        for i in range(len(studio_slots) - length + 1):
            run = studio_slots[i : i + length]
            if all(a.end == b.start for a, b in zip(run, run[1:], strict=False)):
                first = run[0]
                runs.append(
                    replace(first, end=run[-1].end, codes=tuple(r.code for r in run),
                            prime=any(r.prime for r in run))
                )  # fmt: skip
    return runs


def select_slots(*columns):
    """``select(*columns)`` over slots joined to their studio, base and timetable week, and
    outer-joined to their live hold (``SlotHold.booking_id`` is NULL for a free slot)."""
    return (
        select(*columns)
        .join(Studio, Studio.id == Slot.studio_id)
        .join(Hub, Hub.id == Studio.hub_id)
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
    )


def _rows(flt: SlotFilter, now: datetime, studio_ids, *, start_from=None, start_until=None):
    # Only the slot's own narrow columns per row: its studio and base are read once per studio
    # (``find_free_slots``), not decoded again for each of a programme week's ~60k slots. The
    # instants are read as plain timestamps and made UTC once per distinct value (a week has a
    # few dozen start times), and the order is made in Python (``find_free_slots``): sorting
    # every row by base and studio code in the database was half of the query's time.
    stmt = select_slots(
        Slot.code,
        type_coerce(Slot.start, DateTime(timezone=True)),
        type_coerce(Slot.end, DateTime(timezone=True)),
        Slot.prime,
        Slot.studio_id,
        TimetableWeek.week_start,
    ).where(
        TimetableWeek.state == WeekState.PUBLISHED,
        Slot.state == SlotState.OPEN,
        SlotHold.slot_id.is_(None),
        Slot.start > now,
        Studio.retired_at.is_(None),
    )
    if studio_ids is not None:
        stmt = stmt.where(Slot.studio_id.in_(studio_ids or [-1]))
    if flt.region:
        stmt = stmt.where(Hub.region == flt.region)
    if flt.province:
        stmt = stmt.where(Hub.province == flt.province)
    if flt.base:
        stmt = stmt.where(Hub.code == flt.base)
    if flt.bases:
        stmt = stmt.where(Hub.code.in_(sorted(flt.bases)))
    if flt.day:  # the day, inside any range given too
        day_from = datetime.combine(flt.day, time(0), local_zone())
        day_until = day_from + timedelta(days=1)
        start_from = day_from if start_from is None else max(start_from, day_from)
        start_until = day_until if start_until is None else min(start_until, day_until)
    if start_from is not None:
        stmt = stmt.where(Slot.start >= start_from)
    if start_until is not None:
        stmt = stmt.where(Slot.start < start_until)
    return db.session.connection().execute(stmt).all()  # plain rows, fetched at once


def find_free_slots(
    flt: SlotFilter,
    participant: Participant | None,
    *,
    now: datetime | None = None,
    limit: int | None = 60,
    start_from: datetime | None = None,
    start_until: datetime | None = None,
) -> tuple[list[FreeSlot], int]:
    """Free slots matching ``flt``, earliest first; returns (first ``limit`` rows, total)."""
    now = now or utcnow()
    tz = local_zone()
    hours = DAYPARTS.get(flt.daypart or "")
    # Features and distance are decided per studio (a few hundred rows), so the slot query only
    # reads slots that can match; distances are computed once per base.
    km_by_hub: dict[int, float | None] = {}
    studio_ids: list[int] = []
    studios: dict[int, tuple] = {}
    for row in db.session.execute(
        select(
            Studio.id, Studio.code, Studio.name, Studio.features, Hub.id, Hub.code, Hub.name,
            Hub.city, Hub.province, Hub.region, Hub.lat, Hub.lon,
        ).join(Hub, Hub.id == Studio.hub_id)
    ):  # fmt: skip
        studio_id, s_code, s_name, feats, hub_id, b_code, b_name, city, prov, region, lat, lon = row
        if hub_id not in km_by_hub:
            km_by_hub[hub_id] = (
                haversine_km(participant.lat, participant.lon, lat, lon) if participant else None
            )
        km = km_by_hub[hub_id]
        studios[studio_id] = (
            s_code, s_name, tuple(feats or ()), b_code, b_name, city, prov, region, km, hub_id,
        )  # fmt: skip
        if flt.features and not flt.features <= set(feats or ()):
            continue
        if flt.max_km is not None and km is not None and km > flt.max_km:
            continue
        studio_ids.append(studio_id)
    narrowed = bool(flt.features) or flt.max_km is not None
    found: list[FreeSlot] = []
    rows = _rows(
        flt,
        now,
        studio_ids if narrowed else None,
        start_from=start_from,
        start_until=start_until,
    )
    instants: dict[datetime, datetime] = {}

    def utc(value: datetime) -> datetime:
        if value not in instants:  # SQLite gives naive UTC, PostgreSQL the session's zone
            instants[value] = (
                value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            )
        return instants[value]

    in_hours: dict[datetime, bool] = {}
    for code, start, end, prime, studio_id, week_start in rows:
        start, end = utc(start), utc(end)
        if hours is not None:
            if start not in in_hours:
                in_hours[start] = hours[0] <= start.astimezone(tz).hour < hours[1]
            if not in_hours[start]:
                continue
        s_code, s_name, feats, b_code, b_name, city, prov, region, km, hub_id = studios[studio_id]
        found.append(
            FreeSlot(
                code, start, end, prime, s_code, s_name, feats,
                b_code, b_name, city, prov, region, km,
                hub_id=hub_id, week_start=week_start,
            )
        )  # fmt: skip
    if flt.length > 1:
        found = runs_of(found, flt.length)  # in studio order; a sort by time and km keeps it
        if flt.nearest_first:
            found.sort(key=lambda r: (r.km or 0.0, r.start))
        else:
            found.sort(key=lambda r: (r.start, r.km or 0.0))
    elif flt.nearest_first:  # ties by base and studio code
        found.sort(key=lambda r: (r.km or 0.0, r.start, r.base_code, r.studio_code))
    else:
        found.sort(key=lambda r: (r.start, r.km or 0.0, r.base_code, r.studio_code))
    return (found if limit is None else found[:limit]), len(found)


def alternatives(
    slot: Slot, participant: Participant | None, *, limit: int = 6, now: datetime | None = None
) -> list[FreeSlot]:
    """Free slots close to a slot someone else just took: same day, nearest in time, then km.

    Slots of a studio with the same features come first, so a kitchen request gets kitchens.
    """
    needs = frozenset(slot.studio.features or ())
    window = timedelta(hours=6)
    flt = SlotFilter(features=needs)
    rows, _ = find_free_slots(
        flt,
        participant,
        now=now,
        limit=500,
        start_from=slot.start - window,
        start_until=slot.start + window,
    )
    if not rows and needs:
        rows, _ = find_free_slots(
            SlotFilter(), participant, now=now, limit=500,
            start_from=slot.start - window, start_until=slot.start + window,
        )  # fmt: skip
    here = slot.studio.hub.code

    def rank(r: FreeSlot):
        return (
            r.base_code != here,
            abs((r.start - slot.start).total_seconds()),
            r.km if r.km is not None else 0.0,
        )

    return sorted(rows, key=rank)[:limit]


def bases_for_filters() -> list[tuple[str, str, str, str]]:
    """(code, name, province, region) of every base, for the filter's pickers."""
    stmt = select(Hub.code, Hub.name, Hub.province, Hub.region).order_by(Hub.code)
    return list(db.session.execute(stmt).tuples())
