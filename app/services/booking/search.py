"""Search only what this participant can book, best first.

Search looks at every open, published, unheld, future slot (or run of consecutive slots) that
matches the filters: the open slots are kept per process until the timetable changes
(``open_slots``), the holds are read on each search. It drops what the participant's own week
forbids — overlaps, the daily cap, one base a day, counting tentative proposals not yet
answered — with the very function the booking service refuses with
(``rules.participant_week_refusal``), so a result is never refused on booking. What is left is
one offer per time at a base ("3 studios free at 08:00"), ranked by fit (``ranking``); offers
are built for the page shown.

Fit, in points (lower is better): 1 point per 100 km; 0.25 point per day from now (2 points a
day while a harvest lot waits to be sold, and 10 more after its best-before); minus 4 for the
participant's first preferred base (0.5 less for each next one); minus 3 for prime time when
wanted. Everything is read in a handful of set-based queries, never one per slot.

``group`` over ``slots.find_free_slots`` and ``bookable`` are the same search on the free-slot
list (nearby slots use them; tests check that both rank alike).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

from sqlalchemy import exists, func, select

from app.extensions import db
from app.localtime import local_zone
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
from app.services.booking.offers import Fit, Offer, score
from app.services.booking.open_slots import held_ids, open_slots
from app.services.booking.ranking import Asked, Ranking, rank
from app.services.booking.rules import (
    Session,
    WeekPolicy,
    active_sessions,
    participant_week_refusal,
)
from app.services.booking.slots import FreeSlot, SlotFilter, alternatives
from app.services.timetable.weeks import monday_of
from config import settings

_A_DAY = timedelta(days=1)
#: How far back the bases a participant used count as theirs (for ranking).
HISTORY = timedelta(weeks=8)


@dataclass(frozen=True)
class Day:
    """One day of the week view: whether anything is published, and the best offers."""

    day: date
    published: bool
    offers: tuple[Offer, ...] = ()
    total: int = 0


@dataclass
class Search:
    """What one search found: every bookable offer, ranked (built when shown), and which days
    are published."""

    ranking: Ranking
    published_days: set[date] = field(default_factory=set)
    #: Free slots the participant's own week rules out, by rule (for an honest count).
    hidden: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """How many offers (times at a base) the participant can book."""
        return self.ranking.total

    def page(self, first: int, count: int) -> list[Offer]:
        """The offers ranked ``first`` .. ``first + count - 1``."""
        return self.ranking.page(first, count)

    @cached_property
    def offers(self) -> list[Offer]:
        """Every offer, ranked (a few for a booking's choices; a page uses ``page``)."""
        return self.ranking.all()


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
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    if not days:
        return set()

    def any_slot(day: date):  # one probe of the start index per day: it stops at the first slot
        lo = datetime.combine(day, time(0), tz)
        return exists().where(
            TimetableWeek.id == Slot.timetable_week_id,
            TimetableWeek.state == WeekState.PUBLISHED,
            Slot.start >= lo,
            Slot.start < lo + _A_DAY,
        )

    found = db.session.execute(select(*(any_slot(d) for d in days))).one()
    return {day for day, published in zip(days, found, strict=True) if published}


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
    index = open_slots(now)
    held = held_ids(index)
    sessions = active_sessions(participant.id)
    asked = Asked(
        flt=flt,
        origin=(participant.lat, participant.lon),
        now=now,
        start_from=start_from,
        start_until=start_until,
        end_by=end_by,
        sessions=sessions,
        policies=_policies(index.week_starts) if sessions else {},
        fit=fit or fit_for(participant.id, now=now, prime=prime),
        sort=sort,
    )
    hidden: Counter[str] = Counter()
    return Search(ranking=rank(index, held, asked, hidden), hidden=hidden)


def week_view(found: Search, week_start: date, *, per_day: int = 4) -> list[Day]:
    """Seven days from ``week_start``: each day's best offers, or that nothing is published."""
    days = [week_start + timedelta(days=k) for k in range(7)]
    published = published_days(days[0], days[-1])
    best = found.ranking.best_by_day(per_day)
    return [
        Day(
            day=d,
            published=d in published,
            offers=tuple(sorted(best.get(d, ([], 0))[0], key=lambda o: o.start)),
            total=best.get(d, ([], 0))[1],
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
