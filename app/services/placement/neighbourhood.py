"""The neighbourhood of a placement: the small part of the live week a few requests touch.

A placement never exports the national week. It reads, in a handful of queries:

* the requests being placed (``targets``) and, for each, the bases it may use (allowed list,
  ``max_km``, a studio with its features), nearest that still have free slots in its window
  first (preferred bases before all), at most ``PLACEMENT_MAX_BASES`` of them;
* those bases' slots in the targets' windows after the frozen horizon (the *area*), free or held;
* every active booking on an area slot, and every active booking of the participants involved
  (the targets' and those bookings' participants): the participant rules (overlap, daily cap,
  one base a day) and the session counts are decided by them;
* the requests of those bookings, and the participants.

As a ``scheduler.domain.Instance`` that is enough to decide every hard rule a new or moved session
could break: a plan valid for the neighbourhood is valid for the week. ``digest`` is the
neighbourhood's fingerprint (the area slots' state and holds, the involved participants' active
bookings, ``fingerprint``), computed from the very rows the instance was built from; ``apply``
recomputes it under its locks and refuses a neighbourhood that changed meanwhile.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.extensions import AnySession
from app.models import (
    Booking,
    BookingRequest,
    Hub,
    Participant,
    PlanningWeek,
    PreferredHub,
    Slot,
    SlotHold,
    Studio,
    TimetableWeek,
    request_allowed_hubs,
)
from app.services.exchange.mapping import (
    direct_request,
    domain_base,
    domain_participant,
    domain_policy,
    domain_request,
)
from app.services.placement.fingerprint import digest_of, participant_rows
from scheduler import domain as d
from scheduler.domain import haversine_km
from scheduler.validate import KM_TOLERANCE


@dataclass
class Neighbourhood:
    """One placement's instance and what writing its answer back needs."""

    instance: d.Instance
    week_id: int
    targets: list[str]
    movable: set[tuple[str, tuple[str, ...]]]
    digest: str
    area_slot_ids: list[int]
    participant_ids: dict[str, int]
    request_ids: dict[str, int]
    slot_ids: dict[str, int]
    #: (request, slots) of each active booking in the instance -> [(booking id, code, status)]
    bookings: dict[tuple[str, tuple[str, ...]], list[tuple[int, str, str]]] = field(
        default_factory=dict
    )
    #: bases chosen per target request (for the waiting list's "why")
    bases_for: dict[str, list[str]] = field(default_factory=dict)


def build(
    session: AnySession,
    week: PlanningWeek,
    target_ids: list[int],
    *,
    freeze_until: datetime,
    timezone: str,
    max_bases: int,
    only_hubs: set[int] | None = None,
    allow_moves: bool = True,
) -> Neighbourhood:
    """The neighbourhood of ``target_ids`` (request ids) in ``week`` (see the module docstring).

    ``only_hubs`` restricts the bases (a refill offers the freed bases only).
    """
    hubs, studios = _hubs(session)
    targets = list(
        session.execute(
            select(BookingRequest, Participant)
            .join(Participant, Participant.id == BookingRequest.participant_id)
            .where(BookingRequest.id.in_(target_ids))
            .order_by(BookingRequest.id)
        )
    )
    allowed, preferred = _request_bases(session, [r.id for r, _ in targets])
    # Every free or held slot after the freeze, of every base some target may use.
    eligible: dict[int, list[int]] = {}
    for r, p in targets:
        eligible[r.id] = [
            h
            for h in (allowed[r.id] if not r.any_base else hubs)
            if (only_hubs is None or h in only_hubs)
            and (r.max_km is None or _km(p, hubs[h]) <= r.max_km + KM_TOLERANCE)
            and any(set(r.needs or ()) <= set(f) for _, _, f in studios[h])
        ]
    wanted_hubs = sorted({h for hs in eligible.values() for h in hs})
    # Free and open slots per studio in each target's window, counted by the database (one
    # grouped query per distinct window): the bases are chosen before any slot row is read.
    counts: dict[tuple[datetime, datetime], dict[int, tuple[int, int]]] = {}
    for r, _ in targets:
        ws, we = max(r.window_start, freeze_until), r.window_end
        if (ws, we) not in counts:
            counts[(ws, we)] = _counts(session, week, wanted_hubs, ws, we) if ws < we else {}

    # The nearest bases with free slots in the window (preferred ones first), per target.
    chosen: dict[int, list[int]] = {}
    for r, p in targets:
        ws, we = max(r.window_start, freeze_until), r.window_end
        per_studio = counts[(ws, we)]
        needs = set(r.needs or ())
        rank = {h: k for k, h in enumerate(preferred[r.id])}
        options = []
        for h in eligible[r.id]:
            free = held = 0
            for sid, _, features in studios[h]:
                if needs <= set(features):
                    n_free, n_all = per_studio.get(sid, (0, 0))
                    free += n_free
                    held += n_all if allow_moves else 0
            # Bases with free slots first; with moves allowed, then bases whose slots are held
            # (a tentative booking there might move for this request).
            if free >= r.length or held >= r.length:
                tier = 0 if free >= r.length else 1
                options.append((tier, rank.get(h, len(rank)), _km(p, hubs[h]), hubs[h].code, h))
        chosen[r.id] = [h for *_, h in sorted(options)[:max_bases]]
    span: dict[int, tuple[datetime, datetime]] = {}
    for r, _ in targets:
        for h in chosen[r.id]:
            a, b = span.get(h, (r.window_end, r.window_start))
            span[h] = (min(a, max(r.window_start, freeze_until)), max(b, r.window_end))
    slot_rows: list = []
    if span:
        lo = min(a for a, _ in span.values())
        hi = max(b for _, b in span.values())
        slot_rows = _slots(session, week, sorted(span), lo, hi)
    studio_hub = {sid: h for h, sts in studios.items() for sid, _, _ in sts}

    def inside(row) -> bool:
        h = studio_hub[row.studio_id]
        return h in span and span[h][0] <= row.start and row.end <= span[h][1]

    area = [row for row in slot_rows if inside(row)]
    if allow_moves:
        # A tentative booking in the area may move within its own window at that base, on the
        # days the targets' windows cover there (a move to another day would widen the area to
        # whole weeks of slots for little): widen the area by those windows.
        tentative = {row.held_by: studio_hub[row.studio_id] for row in area if row.held_by}
        days = {h: _whole_days(a, b, timezone) for h, (a, b) in span.items()}
        wider = False
        for booking_id, ws, we in session.execute(
            select(Booking.id, BookingRequest.window_start, BookingRequest.window_end)
            .join(BookingRequest, BookingRequest.id == Booking.request_id)
            .where(Booking.id.in_(tentative or [-1]), Booking.status == "tentative")
        ):
            h = tentative[booking_id]
            a, b = span[h]
            ws, we = max(ws, freeze_until, days[h][0]), min(we, days[h][1])
            if ws < a or we > b:
                span[h] = (min(a, ws), max(b, we))
                wider = True
        if wider:
            lo2 = min(a for a, _ in span.values())
            hi2 = max(b for _, b in span.values())
            slot_rows = _slots(session, week, sorted(span), lo2, hi2)
            area = [row for row in slot_rows if inside(row)]
    area_digest_rows = sorted((row.id, row.state, row.held_by) for row in area)

    # The participants involved and every active booking of theirs this week.
    holders = sorted({row.held_by for row in area if row.held_by is not None})
    involved = {p.id for _, p in targets}
    if holders:
        involved |= set(
            session.scalars(select(Booking.participant_id).where(Booking.id.in_(holders)))
        )
    people_rows = participant_rows(session, week.id, sorted(involved))
    booking_info = {
        b.id: b
        for b in session.execute(
            select(
                Booking.id,
                Booking.code,
                Booking.status,
                Booking.request_id,
                Booking.participant_id,
            ).where(Booking.id.in_({row[0] for row in people_rows} or {-1}))
        )
    }
    extra_slot_ids = {row[2] for row in people_rows} - {row.id for row in area}
    extra = list(
        session.execute(
            select(Slot.id, Slot.code, Slot.studio_id, Slot.start, Slot.end, Slot.prime)
            .where(Slot.id.in_(extra_slot_ids))
        )
    ) if extra_slot_ids else []  # fmt: skip
    slot_info = {row.id: row for row in area} | {row.id: row for row in extra}
    # The instance's bases: those of the area and of the participants' bookings (the others hold
    # no slot of it); requests name only these among their allowed and preferred bases.
    present = {studio_hub[row.studio_id] for row in slot_info.values()} | set(span)
    in_reach = {h: hubs[h] for h in present}
    studio_code = {sid: code for sts in studios.values() for sid, code, _ in sts}

    people = {
        p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(involved)))
    }
    request_rows = {r.id: r for r, _ in targets}
    other_ids = {b.request_id for b in booking_info.values() if b.request_id is not None}
    other_ids -= set(request_rows)
    if other_ids:
        request_rows |= {
            r.id: r
            for r in session.scalars(select(BookingRequest).where(BookingRequest.id.in_(other_ids)))
        }
        more_allowed, more_preferred = _request_bases(session, sorted(other_ids))
        allowed.update(more_allowed)
        preferred.update(more_preferred)

    # Bookings as the exchange format sees them (a direct booking gets its own request).
    slots_of: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for booking_id, _, slot_id, position in people_rows:
        slots_of[booking_id].append((position, slot_id))
    requests: dict[str, d.Request] = {}
    bookings: list[d.Booking] = []
    booking_keys: dict[tuple[str, tuple[str, ...]], list[tuple[int, str, str]]] = defaultdict(list)
    movable: set[tuple[str, tuple[str, ...]]] = set()
    area_ids = {row.id for row in area}
    for booking_id, ordered in sorted(slots_of.items()):
        info = booking_info.get(booking_id)
        if info is None:
            continue
        rows = [slot_info[s] for _, s in sorted(ordered)]
        codes = tuple(row.code for row in rows)
        if info.request_id is None:
            hub_code = hubs[studio_hub[rows[0].studio_id]].code
            direct = direct_request(
                info.code, people[info.participant_id].code, rows[0].start, rows[-1].end,
                hub_code, len(rows),
            )  # fmt: skip
            rid = direct.id
            requests[rid] = direct
        else:
            req = request_rows[info.request_id]
            rid = req.code
            requests[rid] = _request(req, people[req.participant_id], allowed, preferred, in_reach)
        bookings.append(d.Booking(rid, codes, info.status))
        booking_keys[(rid, codes)].append((info.id, info.code, info.status))
        if (
            allow_moves
            and info.status == "tentative"
            and rows[0].start >= freeze_until
            and all(row.id in area_ids for row in rows)
        ):
            movable.add((rid, codes))
    for r, p in targets:
        requests[r.code] = _request(r, p, allowed, preferred, in_reach)
    covered = {slot_id for _, _, slot_id, _ in people_rows}

    inst = d.Instance(
        name=week.name,
        timezone=timezone,
        horizon_start=week.week_start,
        horizon_days=week.days,
        bases=tuple(
            domain_base(h, (d.Studio(code, h.code, frozenset(f)) for _, code, f in studios[hid]))
            for hid, h in sorted(hubs.items(), key=lambda kv: kv[1].code)
            if hid in present
        ),
        slots=tuple(
            d.Slot(row.code, studio_code[row.studio_id], row.start, row.end, row.prime)
            for row in sorted(slot_info.values(), key=lambda row: row.code)
            # A held slot whose booking is not read here (it changed meanwhile) is left out:
            # the fingerprint check at apply time sends the placement back to read again.
            if row.id not in area_ids or row.held_by is None or row.id in covered
        ),
        participants=tuple(
            domain_participant(p) for p in sorted(people.values(), key=lambda p: p.code)
        ),
        requests=tuple(sorted(requests.values(), key=lambda r: r.id)),
        bookings=tuple(bookings),
        policy=domain_policy(week, freeze_until),
    )
    return Neighbourhood(
        instance=inst,
        week_id=week.id,
        targets=[r.code for r, _ in targets],
        movable=movable,
        digest=digest_of(area_digest_rows, people_rows),
        area_slot_ids=sorted(area_ids),
        participant_ids={p.code: p.id for p in people.values()},
        request_ids={r.code: r.id for r in request_rows.values()},
        slot_ids={row.code: row.id for row in slot_info.values()},
        bookings=dict(booking_keys),
        bases_for={r.code: [hubs[h].code for h in chosen[r.id]] for r, _ in targets},
    )


def _hubs(session: AnySession) -> tuple[dict[int, Hub], dict[int, list[tuple[int, str, list]]]]:
    hubs = {h.id: h for h in session.scalars(select(Hub))}
    studios: dict[int, list[tuple[int, str, list]]] = {h: [] for h in hubs}
    for sid, hub_id, code, features in session.execute(
        select(Studio.id, Studio.hub_id, Studio.code, Studio.features).order_by(
            Studio.hub_id, Studio.position, Studio.code
        )
    ):
        studios[hub_id].append((sid, code, list(features or ())))
    return hubs, studios


def _request_bases(
    session: AnySession, request_ids: list[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Allowed and preferred base ids (preferred best first) of each request."""
    allowed: dict[int, list[int]] = defaultdict(list)
    preferred: dict[int, list[int]] = defaultdict(list)
    if not request_ids:
        return allowed, preferred
    for rid, hub in session.execute(
        select(request_allowed_hubs.c.request_id, request_allowed_hubs.c.hub_id).where(
            request_allowed_hubs.c.request_id.in_(request_ids)
        )
    ):
        allowed[rid].append(hub)
    for rid, hub in session.execute(
        select(PreferredHub.request_id, PreferredHub.hub_id)
        .where(PreferredHub.request_id.in_(request_ids))
        .order_by(PreferredHub.request_id, PreferredHub.rank)
    ):
        preferred[rid].append(hub)
    return allowed, preferred


def _slots(session: AnySession, week: PlanningWeek, hub_ids: list[int], lo, hi) -> list:
    """Open slots of published timetables at ``hub_ids`` starting in [lo, hi), held or not."""
    return list(
        session.execute(
            select(
                Slot.id,
                Slot.code,
                Slot.studio_id,
                Slot.start,
                Slot.end,
                Slot.prime,
                Slot.state,
                SlotHold.booking_id.label("held_by"),
            )  # fmt: skip
            .join(Studio, Studio.id == Slot.studio_id)
            .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
            .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
            .where(TimetableWeek.week_start == week.week_start, TimetableWeek.state == "published")
            .where(Slot.state == "open", Studio.hub_id.in_(hub_ids))
            .where(Slot.start >= lo, Slot.start < hi)
            .order_by(Slot.studio_id, Slot.start)
        )
    )


def _counts(
    session: AnySession, week: PlanningWeek, hub_ids: list[int], lo: datetime, hi: datetime
) -> dict[int, tuple[int, int]]:
    """Per studio at ``hub_ids``: (free, all) open slots of published timetables starting in
    [lo, hi)."""
    if not hub_ids:
        return {}
    rows = session.execute(
        select(Slot.studio_id, func.count(SlotHold.slot_id), func.count())
        .join(Studio, Studio.id == Slot.studio_id)
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .outerjoin(SlotHold, SlotHold.slot_id == Slot.id)
        .where(TimetableWeek.week_start == week.week_start, TimetableWeek.state == "published")
        .where(Slot.state == "open", Studio.hub_id.in_(hub_ids))
        .where(Slot.start >= lo, Slot.start < hi)
        .group_by(Slot.studio_id)
    )
    return {sid: (total - held, total) for sid, held, total in rows}


def _whole_days(a: datetime, b: datetime, timezone: str) -> tuple[datetime, datetime]:
    """[a, b) stretched to whole local days: midnight before ``a`` to midnight after ``b``."""
    tz = ZoneInfo(timezone)
    first = datetime.combine(a.astimezone(tz).date(), time(0), tz)
    last = datetime.combine((b - timedelta(microseconds=1)).astimezone(tz).date(), time(0), tz)
    return first, last + timedelta(days=1)


def _km(p: Participant, h: Hub) -> float:
    return haversine_km(p.lat, p.lon, h.lat, h.lon)


def _request(r: BookingRequest, p: Participant, allowed, preferred, hubs) -> d.Request:
    """The request as the instance sees it: its allowed and preferred bases among ``hubs``."""
    lot = r.harvest_lot if r.harvest_lot_id is not None else None
    return domain_request(
        r,
        p.code,
        allowed=sorted(hubs[h].code for h in allowed[r.id] if h in hubs),
        preferred=[hubs[h].code for h in preferred[r.id] if h in hubs],
        harvest=None if lot is None else d.Harvest(lot.ready_at, lot.best_before),
    )
