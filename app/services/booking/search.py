"""Search only what this participant can book, best first.

The free-slot query (``slots.find_free_slots``) gives every open, published, unheld, future slot
(or run of consecutive slots) that matches the filters. This module then drops what the
participant's own week forbids — overlaps, the daily cap, one base a day, counting tentative
proposals not yet answered — with the very function the booking service refuses with
(``rules.participant_week_refusal``), so a result is never refused on booking. What is left is
grouped to one offer per time at a base ("3 studios free at 08:00") and ranked by fit.

Fit, in points (lower is better): 1 point per 100 km; 0.25 point per day from now (2 points a
day while a harvest lot waits to be sold, and 10 more after its best-before); minus 4 for the
participant's first preferred base (0.5 less for each next one); minus 3 for prime time when
wanted. Everything is read in a handful of set-based queries, never one per slot.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.localtime import local_day, local_zone
from app.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingRequest,
    BookingSlot,
    HarvestLot,
    Hub,
    PlanningWeek,
    PreferredHub,
    Slot,
    Studio,
    TimetableWeek,
    utcnow,
)
from app.models.vocabulary import RequestStatus, WeekState
from app.services.booking.rules import (
    Session,
    WeekPolicy,
    active_sessions,
    participant_week_refusal,
)
from app.services.booking.slots import FreeSlot, SlotFilter, alternatives, find_free_slots
from app.services.timetable.weeks import monday_of
from config import settings

#: How results may be ordered: by fit (default), by time, by distance.
SORTS = ("best", "soonest", "nearest")
_A_DAY = timedelta(days=1)
#: How far back the bases a participant used count as theirs (for ranking).
HISTORY = timedelta(weeks=8)


@dataclass(frozen=True)
class Fit:
    """What ranks a result for one participant."""

    #: Base codes the participant prefers, best first.
    preferred: tuple[str, ...] = ()
    prime: bool = False
    #: The best-before of a harvest lot waiting to be sold: sooner is better until then.
    fresh_until: datetime | None = None


@dataclass(frozen=True)
class Offer:
    """One time at one base: the studios free then that the participant can book."""

    start: datetime
    end: datetime
    base_code: str
    base_name: str
    city: str
    km: float | None
    prime: bool
    #: The bookable studios (each a slot or a run of slots), plainest studio first.
    studios: tuple[FreeSlot, ...]
    score: float
    preferred: bool = False

    @property
    def count(self) -> int:
        return len(self.studios)

    @property
    def first(self) -> FreeSlot:
        return self.studios[0]

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature one of the studios has."""
        return tuple(sorted({f for s in self.studios for f in s.features}))


@dataclass(frozen=True)
class Day:
    """One day of the week view: whether anything is published, and the best offers."""

    day: date
    published: bool
    offers: tuple[Offer, ...] = ()
    total: int = 0


@dataclass
class Search:
    """What one search found: every bookable offer, ranked, and which days are published."""

    offers: list[Offer]
    published_days: set[date] = field(default_factory=set)
    #: Free slots the participant's own week rules out, by rule (for an honest count).
    hidden: Counter[str] = field(default_factory=Counter)


def _policies(week_starts: Iterable[date]) -> dict[date, WeekPolicy]:
    """Each planning week's rule-6 policy; a week without one yet gets the configured policy."""
    wanted = sorted(set(week_starts))
    found = {
        ws: WeekPolicy(i, cap, same)
        for i, ws, cap, same in db.session.execute(
            select(
                PlanningWeek.id,
                PlanningWeek.week_start,
                PlanningWeek.max_sessions_per_day,
                PlanningWeek.same_day_same_base,
            ).where(PlanningWeek.week_start.in_(wanted or [date(2000, 1, 3)]))
        )
    }
    cfg = settings()
    default = WeekPolicy(0, cfg.MAX_SESSIONS_PER_DAY, cfg.SAME_DAY_SAME_BASE)
    return {ws: found.get(ws, default) for ws in wanted}


def bookable(
    runs: Sequence[FreeSlot], sessions: Sequence[Session], hidden: Counter[str] | None = None
) -> list[FreeSlot]:
    """The free slots (or runs) of ``runs`` the participant's week allows (rule 6)."""
    policies = _policies(r.week_start for r in runs if r.week_start is not None)
    # A session can only refuse a run starting less than a day from its own start (a session is
    # at most a few hours long, a local day 24 hours): runs farther from every session are
    # asked nothing, which keeps a national week's ~20k runs cheap.
    starts = sorted(s.start for s in sessions)
    out = []
    for r in runs:
        policy = policies.get(r.week_start) if r.week_start is not None else None
        if policy is None:
            continue
        k = bisect_left(starts, r.start - _A_DAY)
        if k == len(starts) or starts[k] > r.start + _A_DAY:
            out.append(r)
            continue
        refusal = participant_week_refusal(sessions, r.start, r.end, r.hub_id, policy)
        if refusal is None:
            out.append(r)
        elif hidden is not None:
            hidden[refusal[0]] += 1
    return out


def fit_for(participant_id: int, *, now: datetime | None = None, prime: bool = False) -> Fit:
    """The participant's preferred bases (those its open requests prefer, then those it used
    lately, most used first) and its soonest fresh harvest lot."""
    now = now or utcnow()
    preferred: list[str] = []
    for (code,) in db.session.execute(
        select(Hub.code)
        .join(PreferredHub, PreferredHub.hub_id == Hub.id)
        .join(BookingRequest, BookingRequest.id == PreferredHub.request_id)
        .where(
            BookingRequest.participant_id == participant_id,
            BookingRequest.status == RequestStatus.OPEN,
            BookingRequest.window_end > now,
        )
        .order_by(PreferredHub.rank, BookingRequest.id.desc())
    ):
        if code not in preferred:
            preferred.append(code)
    used = db.session.execute(
        select(Hub.code, func.count(func.distinct(Booking.id)))
        .join(Studio, Studio.hub_id == Hub.id)
        .join(Slot, Slot.studio_id == Studio.id)
        .join(BookingSlot, BookingSlot.slot_id == Slot.id)
        .join(Booking, Booking.id == BookingSlot.booking_id)
        .where(
            Booking.participant_id == participant_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Slot.start > now - HISTORY,
        )
        .group_by(Hub.code)
        .order_by(func.count(func.distinct(Booking.id)).desc(), Hub.code)
    )
    for code, _n in used:
        if code not in preferred:
            preferred.append(code)
    fresh = db.session.scalar(
        select(func.min(HarvestLot.best_before)).where(
            HarvestLot.participant_id == participant_id, HarvestLot.best_before > now
        )
    )
    if fresh is not None and fresh.tzinfo is None:  # an aggregate on SQLite: naive UTC
        from datetime import UTC

        fresh = fresh.replace(tzinfo=UTC)
    return Fit(preferred=tuple(preferred), prime=prime, fresh_until=fresh)


def score(r: FreeSlot, fit: Fit, now: datetime) -> float:
    """The fit of one result in points (lower is better; see the module's docstring)."""
    days = max(0.0, (r.start - now).total_seconds() / 86400)
    points = (r.km or 0.0) / 100
    if fit.fresh_until is not None:
        points += 2.0 * days + (10.0 if r.start >= fit.fresh_until else 0.0)
    else:
        points += 0.25 * days
    if r.base_code in fit.preferred:
        points -= 4.0 - 0.5 * min(fit.preferred.index(r.base_code), 6)
    if fit.prime and r.prime:
        points -= 3.0
    return points


def group(runs: Iterable[FreeSlot], fit: Fit, now: datetime, sort: str = "best") -> list[Offer]:
    """One offer per time at a base, ordered by ``sort`` (``best``: by fit)."""
    by_time: dict[tuple[datetime, datetime, str], list[FreeSlot]] = {}
    for r in runs:
        by_time.setdefault((r.start, r.end, r.base_code), []).append(r)
    offers = []
    for (start, end, _base), studios in by_time.items():
        # The plainest studio first: a special one (kitchen, cold chain) stays for who needs it.
        if len(studios) > 1:
            studios.sort(key=lambda s: (len(s.features), s.studio_code))
        first = studios[0]
        prime = any(s.prime for s in studios)
        # The studios of one offer share its time, base and distance, so the best of their
        # scores is the score of a prime one when there is one (one score per offer, not per
        # studio: a programme week has ~50,000 free slots).
        best = next(s for s in studios if s.prime) if prime else first
        offers.append(
            Offer(
                start=start,
                end=end,
                base_code=first.base_code,
                base_name=first.base_name,
                city=first.city,
                km=first.km,
                prime=prime,
                studios=tuple(studios),
                score=score(best, fit, now),
                preferred=first.base_code in fit.preferred,
            )
        )
    keys = {
        "best": lambda o: (o.score, o.start, o.base_code),
        "soonest": lambda o: (o.start, o.km or 0.0, o.base_code),
        "nearest": lambda o: (o.km or 0.0, o.start, o.base_code),
    }
    offers.sort(key=keys.get(sort, keys["best"]))
    return offers


def published_days(first: date, last: date) -> set[date]:
    """The local days from ``first`` to ``last`` on which some base published slots."""
    tz = local_zone()
    lo = datetime.combine(first, time(0), tz)
    hi = datetime.combine(last + timedelta(days=1), time(0), tz)
    starts = db.session.scalars(
        select(Slot.start)
        .distinct()
        .join(TimetableWeek, TimetableWeek.id == Slot.timetable_week_id)
        .where(TimetableWeek.state == WeekState.PUBLISHED, Slot.start >= lo, Slot.start < hi)
    )
    return {local_day(s) for s in starts}


def search(
    participant,
    flt: SlotFilter,
    *,
    sort: str = "best",
    prime: bool = False,
    now: datetime | None = None,
    start_from: datetime | None = None,
    start_until: datetime | None = None,
    end_by: datetime | None = None,
    fit: Fit | None = None,
) -> Search:
    """Every offer ``participant`` can book under ``flt``, ranked by ``sort`` (starting in
    ``start_from`` .. ``start_until`` and ending by ``end_by`` when given)."""
    now = now or utcnow()
    runs, _ = find_free_slots(
        flt, participant, now=now, limit=None, start_from=start_from, start_until=start_until
    )
    if end_by is not None:
        runs = [r for r in runs if r.end <= end_by]
    hidden: Counter[str] = Counter()
    allowed = bookable(runs, active_sessions(participant.id), hidden)
    fit = fit or fit_for(participant.id, now=now, prime=prime)
    return Search(offers=group(allowed, fit, now, sort), hidden=hidden)


def week_view(found: Search, week_start: date, *, per_day: int = 4) -> list[Day]:
    """Seven days from ``week_start``: each day's best offers, or that nothing is published."""
    days = [week_start + timedelta(days=k) for k in range(7)]
    published = published_days(days[0], days[-1])
    by_day: dict[date, list[Offer]] = {}
    for offer in found.offers:
        by_day.setdefault(local_day(offer.start), []).append(offer)
    return [
        Day(
            day=d,
            published=d in published,
            offers=tuple(sorted(by_day.get(d, [])[:per_day], key=lambda o: o.start)),
            total=len(by_day.get(d, [])),
        )
        for d in days
    ]


@dataclass(frozen=True)
class RequestSearch:
    """A search narrowed to what one request may use (its window, bases, distance, needs)."""

    filter: SlotFilter
    start_from: datetime
    start_until: datetime
    fit: Fit


def for_request(
    req: BookingRequest, asked: SlotFilter, *, now: datetime | None = None
) -> RequestSearch:
    """``asked`` narrowed by request ``req``: its window (and harvest lot's dates), its allowed
    bases, its distance limit and studio needs, its length; ranked by its preferences."""
    now = now or utcnow()
    lo, hi = req.window_start, req.window_end
    lot = req.harvest_lot
    if lot is not None:
        lo, hi = max(lo, lot.ready_at), min(hi, lot.best_before)
    limits = [km for km in (asked.max_km, req.max_km) if km is not None]
    flt = SlotFilter(
        region=asked.region,
        province=asked.province,
        base=asked.base,
        day=asked.day,
        daypart=asked.daypart,
        features=asked.features | frozenset(req.needs or ()),
        max_km=min(limits) if limits else None,
        length=req.length,
        bases=frozenset() if req.any_base else frozenset(h.code for h in req.allowed_hubs),
    )
    fit = Fit(
        preferred=tuple(h.code for h in req.preferred_hubs),
        prime=req.prefer_prime,
        fresh_until=lot.best_before if lot is not None else None,
    )
    return RequestSearch(flt, lo, hi, fit)


def policy_for(day: date) -> WeekPolicy:
    """The rule-6 policy of the planning week holding ``day``."""
    week = monday_of(day)
    return _policies([week])[week]


def nearby(
    slot: Slot, participant, *, limit: int = 6, now: datetime | None = None
) -> list[FreeSlot]:
    """Free slots close to ``slot`` (``slots.alternatives``' order) that the participant can
    book: never the slot itself, never one their own week rules out."""
    near = alternatives(slot, participant, limit=500, now=now)
    near = [r for r in near if slot.code not in r.slot_codes]
    return bookable(near, active_sessions(participant.id))[:limit]
