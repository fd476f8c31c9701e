"""Database rows as the exchange format's data: one mapping per kind, shared by the week export
and the placement neighbourhood (which reads only part of a week, but describes it the same way).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from app.models import Hub, PlanningWeek
from scheduler import domain as d


class ParticipantFields(Protocol):
    """What a participant's mapping reads: a ``Participant`` row, or a row of its columns."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def province(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def priority(self) -> int: ...
    @property
    def category(self) -> str | None: ...


class RequestFields(Protocol):
    """What a request's mapping reads: a ``BookingRequest`` row, or a row of its columns."""

    @property
    def code(self) -> str: ...
    @property
    def sessions(self) -> int: ...
    @property
    def length(self) -> int: ...
    @property
    def window_start(self) -> datetime: ...
    @property
    def window_end(self) -> datetime: ...
    @property
    def any_base(self) -> bool: ...
    @property
    def max_km(self) -> float | None: ...
    @property
    def needs(self) -> list[str]: ...
    @property
    def prefer_prime(self) -> bool: ...


DIRECT_PREFIX = "R"


def direct_request_code(booking_code: str) -> str:
    """The request id a direct booking gets in exchange files."""
    return f"{DIRECT_PREFIX}{booking_code}"


def domain_participant(p: ParticipantFields, prime_recent: int | None = None) -> d.Participant:
    """A participant row as the exchange format's participant."""
    return d.Participant(
        p.code,
        p.name,
        p.kind,
        p.province,
        p.region,
        p.lat,
        p.lon,
        p.priority,
        category=p.category,
        prime_recent=prime_recent,
    )


def domain_base(h: Hub, studios: Iterable[d.Studio]) -> d.Base:
    """A base row with its studios as the exchange format's base."""
    return d.Base(h.code, h.name, h.city, h.province, h.region, h.lat, h.lon, tuple(studios))


def domain_request(
    r: RequestFields,
    participant_code: str,
    *,
    allowed: Sequence[str],
    preferred: Sequence[str],
    harvest: d.Harvest | None,
) -> d.Request:
    """A request row as the exchange format's request; ``allowed`` and ``preferred`` are base
    codes (allowed sorted, preferred best first)."""
    return d.Request(
        id=r.code,
        participant=participant_code,
        sessions=r.sessions,
        length=r.length,
        window_start=r.window_start,
        window_end=r.window_end,
        bases=None if r.any_base else tuple(allowed),
        max_km=r.max_km,
        needs=frozenset(r.needs or ()),
        prefer_bases=tuple(preferred),
        prefer_prime=r.prefer_prime,
        harvest=harvest,
    )


def direct_request(
    booking_code: str, participant_code: str, start: datetime, end: datetime, base: str, slots: int
) -> d.Request:
    """The request a booking made directly on slots stands for: one session of its length, its
    slots' time as the window, its base only."""
    return d.Request(
        id=direct_request_code(booking_code),
        participant=participant_code,
        sessions=1,
        length=slots,
        window_start=start,
        window_end=end,
        bases=(base,),
        max_km=None,
        needs=frozenset(),
    )


def domain_policy(week: PlanningWeek, freeze_until: datetime | None) -> d.Policy:
    """A planning week's policy as the exchange format's policy."""
    return d.Policy(
        max_sessions_per_day=week.max_sessions_per_day,
        same_day_same_base=week.same_day_same_base,
        freeze_until=freeze_until,
        target_utilization=week.target_utilization,
        category_separation=week.category_separation,
    )
